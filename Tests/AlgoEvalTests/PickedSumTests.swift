import Foundation
import Testing
import AlgoTensor
import AlgoDiagnostics
@testable import AlgoEval

/// `Σ_{t=a}^{b} A[i(t), j(t)]` and the training loss `−Σ_t log P(θ)[x_n[t+1], t]` run as one pick of
/// the indexed entries and one sum (`Evaluator.pickedSum`), not a slice per term. Checked against
/// the entries summed here in Float64 (the interpreter adds the same numbers in another order, so
/// they agree to rounding, ≤ 1e-12 relative), and by the number of tensor operations not growing
/// with the number of terms.
@Suite("Σ over indexed entries: one pick, the same value as the terms")
struct PickedSumTests {
    /// Consecutive columns (`A[x[t+1], t]`: a slice of A then a pick), gathered columns
    /// (`B[x[t], x[t+1]]`: a gather then a pick; repeated columns allowed) and a Σ over a set
    /// (`t ∈ T̃`, as ETraining's loss).
    static let text = """
    Algorithm 90: s ← PickSum(x, A, B)
    Input: x ∈ V*, a sequence of token ids.
    Input: A ∈ ℝ^{N_V×ℓ_max}, a matrix.
    Input: B ∈ ℝ^{N_V×N_V}, a matrix.
    Output: s ∈ ℝ, a sum of entries.
    1 ℓ ← length(x)
    2 u ← Σ_{t=1}^{ℓ−1} A[x[t+1], t]
    3 T̃ ← {t ∈ [ℓ] : x[t] ≥ 3}
    4 s ← u + Σ_{t=1}^{ℓ−1} B[x[t], x[t+1]] + Σ_{t∈T̃} A[x[t], t]
    5 return s

    """

    func program() throws -> LoadedProgram {
        let source = SourceFile(path: InterpreterFixtures.repository + "/Algorithms/PickSum.algo", text: Self.text)
        switch Pipeline.load(source) {
        case .success(let p): return p
        case .failure(let f): throw f
        }
    }

    func run(_ p: LoadedProgram, _ x: [Int], _ A: Tensor, _ B: Tensor) throws -> (Double, Evaluator) {
        var o = RunOptions()
        o.dtype = .f64
        let r = try Pipeline.run(p, RunSetup(dims: ["N_V": 5, "ℓ_max": 6], reals: [:],
                                   inputs: ["x": .tokens(x), "A": .tensor(Variable(A)), "B": .tensor(Variable(B))],
                                   parameters: [:], mask: nil, options: o))
        guard case .tensor(let s) = r.value, s.value.count == 1 else { throw RuntimeError(.invalidInput, "not a number", at: p.target.syntax.span) }
        return (s.value.doubles[0], r.evaluator)
    }

    @Test("Σ_t A[x[t+1], t] + Σ_t B[x[t], x[t+1]] + Σ_{t∈T̃} A[x[t], t] equals the entries summed here; operations do not grow with ℓ")
    func equalsTerms() throws {
        let p = try program()
        var rng = RandomGenerator(seed: 5)
        let A = Tensor.normal([5, 6], dtype: .f64, using: &rng), B = Tensor.normal([5, 5], dtype: .f64, using: &rng)
        var ops: [Int] = []
        for x in [[3, 1], [3, 1, 4, 1, 5], [2, 2, 2, 5, 1, 3]] {
            let (s, ev) = try run(p, x, A, B)
            var want = 0.0
            for t in 1..<x.count { want += A[x[t] - 1, t - 1] + B[x[t - 1] - 1, x[t] - 1] }
            for t in 1...x.count where x[t - 1] >= 3 { want += A[x[t - 1] - 1, t - 1] }
            #expect(abs(s - want) <= 1e-12 * max(1, abs(want)), "x = \(x): \(s) vs \(want)")
            ops.append(ev.ops)
        }
        // x = [3, 1] gives one term per Σ (evaluated as the term itself); from two terms on, one pick per Σ
        // (the other two have 4 and 5 terms in the first two Σ, 3 and 2 in Σ_{t∈T̃}).
        #expect(ops[1] == ops[2], "\(ops)")
    }

    @Test("an index beyond A's columns is reported as by the term-by-term loop (E0502 naming A)")
    func outOfRange() throws {
        let p = try program()
        let A = Tensor.zeros([5, 6], dtype: .f64), B = Tensor.zeros([5, 5], dtype: .f64)
        do {
            _ = try run(p, [1, 2, 3, 4, 5, 1, 2, 3], A, B)
            Issue.record("expected E0502")
        } catch let e as RuntimeError {
            #expect(e.diagnostic.code == .runtimeIndexOutOfRange)
            #expect(e.diagnostic.message.contains("index 7 is beyond the 6 columns of `A`"), "\(e.diagnostic.message)")
        }
    }

    @Test("DTraining's loss −Σ_t log P(θ)[x[t+1], t] equals −Σ_t log of DTransformer.algo's P entries (f64); its operations do not grow with ℓ")
    func trainingLoss() throws {
        let path = InterpreterFixtures.repository + "/Algorithms/"
        let model: LoadedProgram
        switch Pipeline.load(path: path + "DTransformer.algo") {
        case .success(let m): model = m
        case .failure(let f): throw f
        }
        var ops: [Int] = []
        for ℓ in [4, 7] {
            let problem = try GradientCheckProblem.prepare(path: path + "DTraining.algo", dims: ["ℓ": ℓ, "ℓ_max": 8], seed: 3)
            let r = try Pipeline.run(problem.program, RunSetup(dims: problem.dims, reals: problem.reals, inputs: problem.inputs,
                                       parameters: problem.θ, mask: nil, options: problem.options(gradient: false)))
            let loss = try problem.one(r.evaluator.losses)
            ops.append(r.evaluator.ops)
            let x = problem.sequences[0].tokens
            var o = RunOptions()
            o.dtype = .f64
            let forward = try Pipeline.run(model, RunSetup(dims: problem.dims, reals: [:], inputs: ["x": .tokens(x)],
                                             parameters: problem.θ, mask: nil, options: o))
            guard case .tensor(let P) = forward.value else { Issue.record("DTransformer gave \(forward.value.kindName)"); return }
            var want = 0.0
            for t in 1..<x.count { want -= Foundation.log(P.value[x[t] - 1, t - 1]) }
            // log-softmax against log of the softmax: the same value up to Float64 rounding.
            #expect(abs(loss - want) <= 1e-10 * max(1, abs(want)), "ℓ = \(ℓ): \(loss) vs \(want)")
        }
        #expect(ops[0] == ops[1], "\(ops)")
    }
}
