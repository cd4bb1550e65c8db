// AlgoEval: tokenizers and checkpoints; the interpreter joins later.
