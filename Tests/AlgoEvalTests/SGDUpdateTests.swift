import Foundation
import Testing
import AlgoTensor
@testable import AlgoEval

/// The SGD update `θ ← θ − η · ∇loss(θ)` as one pass per member (`Rules/SGDUpdate.swift`,
/// `Tensor.sgdStep`) against the two element-wise operations as written. Each entry is rounded as
/// the written operations round it (η·g first, then θ − …), so the results must be equal bit for
/// bit, not merely close: the tests compare with `==`.
@Suite("SGD update: one pass per member, bit-identical to θ − η · ∇ as written")
struct SGDUpdateTests {
    /// θ − (η·g) by the primitives the lines as written use.
    func written(_ theta: Tensor, _ eta: Double, _ g: Tensor) -> Tensor {
        theta - (Tensor(scalar: eta, dtype: g.dtype) * g)
    }

    @Test("Tensor.sgdStep equals θ − (η·g) entry for entry, f32 and f64, awkward sizes", arguments: [DType.f32, .f64])
    func stepEqualsWritten(_ dtype: DType) {
        var rng = RandomGenerator(seed: 3)
        for shape in [[1], [15], [17], [63, 5], [65, 16, 3], [300_001]] {
            let theta = Tensor.normal(shape, dtype: dtype, using: &rng), g = Tensor.normal(shape, dtype: dtype, using: &rng)
            for eta in [0.01, 0.3, 1e-7] {
                let want = written(theta, eta, g).contiguous().doubles
                let got = Tensor.sgdStep(theta, rate: eta, gradient: g.copy()).contiguous().doubles
                #expect(got == want, "shape \(shape), η = \(eta), \(dtype)")
            }
        }
    }

    @Test("the gradient's buffer receives the result when nothing else holds it, and is left alone when something does")
    func reusesOnlyAFreeBuffer() {
        var rng = RandomGenerator(seed: 4)
        let theta = Tensor.normal([64, 64], using: &rng)
        let free = Tensor.normal([64, 64], using: &rng).copy()
        let address = free.storage.floats
        let out = Tensor.sgdStep(theta, rate: 0.1, gradient: consume free)
        #expect(out.storage.floats == address)
        let held = Tensor.normal([64, 64], using: &rng)
        let before = held.contiguous().doubles
        let out2 = Tensor.sgdStep(theta, rate: 0.1, gradient: held)
        #expect(out2.storage !== held.storage)
        #expect(held.contiguous().doubles == before, "a gradient something else holds was overwritten")
        #expect(theta.contiguous().doubles == theta.copy().contiguous().doubles)
    }

    /// θ̂ and the operation count of a training run with the rule on or off.
    func train(_ file: String, dims: [String: Int], disabled: Set<RuleID>) throws -> (theta: [Double], members: Int, ops: Int, steps: Int, buffers: Int) {
        let p = try InterpreterFixtures.program(file)
        let a = p.target
        var o = RunOptions()
        o.seed = 7
        o.disabledRules = disabled
        let (inputs, n) = try RunSession.dataset(RunSession.defaultDatasetElements(a), a)
        let d = try RunSession.datasetDimensions(a, count: n, given: dims)
        let pool = BufferPool()
        let r = try BufferPool.$current.withValue(pool) {
            try Pipeline.run(p, RunSetup(dims: d, reals: RunSession.trainingReals(for: a), inputs: inputs, parameters: nil, mask: nil, options: o))
        }
        let members = RunSession.flatten(r.value)
        return (members.flatMap { $0.tensor.contiguous().doubles }, members.count, r.evaluator.ops, r.evaluator.losses.count,
                pool.freshAllocations + pool.reuses)
    }

    @Test("training with the rule gives θ̂ bit-identical to the lines as written, one operation and no buffer per member",
          arguments: ["DTraining", "DTrainingMinibatch", "EDTraining"])
    func trainingBitIdentical(_ file: String) throws {
        let dims = ["N_V": 11, "ℓ_max": 12, "L": 2, "L_enc": 1, "L_dec": 1, "H": 2, "d_e": 16, "d_mlp": 24, "d_attn": 8, "d_mid": 8, "N_epochs": 2]
        _ = try train(file, dims: dims, disabled: [])   // process-wide constants (the tape's zero placeholders) made before counting
        let on = try train(file, dims: dims, disabled: [])
        let off = try train(file, dims: dims, disabled: [.sgdUpdate])
        #expect(!on.theta.isEmpty && on.theta == off.theta, "\(file): θ̂ differs")
        // θ̂'s tensors are θ's members; each step saves one operation per member.
        let members = on.members
        #expect(members > 0 && off.ops - on.ops == members * on.steps, "\(file): \(off.ops) − \(on.ops) operations for \(members) members × \(on.steps) steps")
        // As written, `η · g` makes a scalar tensor per member and writes into the gradient's buffer;
        // the fused step makes neither the scalars nor a buffer of its own (it writes into the gradient's).
        #expect(off.buffers - on.buffers >= members * on.steps, "\(file): \(off.buffers) − \(on.buffers) buffers taken for \(members) members × \(on.steps) steps")
    }
}
