// AlgoTensor: Tensor, primitives, tape, RNG.
