import Testing
import AlgoBench
import AlgoTensor
@testable import AlgoEval

/// Gradients through the direct Algorithms 8–10 on the reference fixtures' parameters: the tape's
/// vector-Jacobian products of whole architectures (every primitive and composite composed as the
/// interpreter will compose them), against central differences in Float64 and between Float32 (fused
/// kernels, GEMM) and Float64 (composites, reference loops).
@Suite("Gradients through the direct Algorithms 8–10")
struct ReferenceGradientTests {
    /// A subset of θ per fixture (finite differences cost two forward passes per element, so the
    /// large matrices W_e, W_u and the MLP weights are left to the Float32/Float64 comparison): one
    /// parameter of most kinds (embeddings, a head's q/k/v, W_o, b_o, layer-norm, MLP bias, final
    /// projection), ~100 elements each. A key bias `b^h_k` is included to show its gradient is 0:
    /// it adds q_{t_x}ᵀb_k to every score of column t_x, which the column softmax ignores.
    static let checked: [String: [String]] = [
        "DTransformer-small": ["W_p", "γ^1_1", "β^1_1", "𝓦_1.W^1_q", "𝓦_1.b^2_k", "𝓦_2.W^2_v", "𝓦_2.b_o",
                               "b^1_mlp1", "b^2_mlp2", "γ^2_2", "γ", "β"],
        "ETransformer-small": ["𝓦_1.W^2_k", "𝓦_2.b^1_q", "𝓦_2.b^1_k", "β^1_2", "b^1_mlp1", "b^2_mlp2", "W_f",
                               "b_f", "γ"],
        "EDTransformer-shortcontext": ["W_p", "𝓦^enc_1.W^1_q", "𝓦^dec_1.b^2_k", "𝓦^e/d_1.W^1_k",
                                       "𝓦^e/d_1.b^2_v", "𝓦^e/d_1.b_o", "γ^2_1", "γ^4_1", "β^5_1", "b^1_mlp3",
                                       "b^1_mlp2", "β^1_1"],
    ]

    @Test("Float64 tape gradients equal central differences (tolerance 1e-6·max(1, |numeric|), as GradCheck)",
          arguments: ["DTransformer-small", "ETransformer-small", "EDTransformer-shortcontext"])
    func finiteDifferences(_ caseName: String) throws {
        let fixture = try ReferenceFixtures.load(caseName)
        let names = try #require(Self.checked[caseName])
        var constants: [String: Variable] = [:]
        for n in fixture.parameterNames { constants[n] = Variable(fixture.tensor(n)) }
        let results = GradientCheck.compare(names.map { fixture.tensor($0) }) { leaves in
            var θ = constants
            for (n, v) in zip(names, leaves) { θ[n] = v }
            return fixture.forward(.f64, Direct.Parameters(θ))
        }
        var worst = 0.0
        for (i, (analytic, numeric)) in results.enumerated() {
            for j in analytic.indices {
                let error = abs(analytic[j] - numeric[j]) / max(1, abs(numeric[j]))
                worst = max(worst, error)
                #expect(error <= 1e-6, "\(caseName) \(names[i])[\(j)]: analytic \(analytic[j]) vs numeric \(numeric[j])")
            }
            if names[i].hasSuffix("_k") && names[i].contains("b^") {
                // Softmax per column is invariant to adding the same value to a column of S.
                #expect(analytic.allSatisfy { abs($0) <= 1e-12 }, "\(caseName) \(names[i]): key-bias gradient not 0")
            } else {
                // The parameter matters: its gradient is not identically zero.
                #expect(analytic.contains { abs($0) > 1e-8 }, "\(caseName) \(names[i]): zero gradient")
            }
        }
        print("gradient \(caseName): max FD error \(worst)")
    }

    @Test("Float32 tape gradients of all parameters equal the Float64 ones (1e-3 of the gradient's scale)",
          arguments: ["DTransformer-small", "ETransformer-small", "EDTransformer-small"])
    func float32MatchesFloat64(_ caseName: String) throws {
        let fixture = try ReferenceFixtures.load(caseName)
        let names = fixture.parameterNames.sorted()
        var rng = RandomGenerator(seed: 7)
        let direction = Tensor.normal(fixture.tensor(fixture.outputName).shape, dtype: .f64, using: &rng)
        func gradients(_ dtype: DType) -> [Tensor] {
            let tape = Tape()
            var θ: [String: Variable] = [:]
            let leaves = names.map { tape.parameter(fixture.tensor($0, dtype)) }
            for (n, v) in zip(names, leaves) { θ[n] = v }
            let P = fixture.forward(dtype, Direct.Parameters(θ))
            return tape.gradients(of: P, wrt: leaves, seed: direction.converted(to: dtype))
        }
        let g64 = gradients(.f64), g32 = gradients(.f32)
        var worst = 0.0
        for (i, n) in names.enumerated() {
            let error = scaledError(g32[i], g64[i])
            worst = max(worst, error)
            #expect(error <= 1e-3, "\(caseName) \(n): f32 vs f64 gradient error \(error)")
        }
        print("gradient \(caseName): max f32/f64 error \(worst)")
    }
}
