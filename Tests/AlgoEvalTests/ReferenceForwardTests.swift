import Foundation
import Testing
import AlgoBench
import AlgoTensor
@testable import AlgoEval

/// The NumPy reference fixtures of `Tests/Reference/fixtures/` (written by
/// `Tests/Reference/forward_reference.py`; outside every target, so no `exclude` is needed).
enum ReferenceFixtures {
    /// `<repository>/Tests/Reference/fixtures`, found from this file's path.
    static let directory: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Reference").appendingPathComponent("fixtures").path

    /// The case names (file names without `.safetensors`), sorted.
    static func names() -> [String] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return files.filter { $0.hasSuffix(".safetensors") }.map { String($0.dropLast(".safetensors".count)) }.sorted()
    }

    static func load(_ name: String) throws -> Fixture {
        Fixture(try Checkpoint.read(directory + "/" + name + ".safetensors").get())
    }
}

/// One reference case: inputs, parameters, expected output, metadata.
struct Fixture {
    let checkpoint: Checkpoint

    init(_ checkpoint: Checkpoint) { self.checkpoint = checkpoint }

    var algorithm: Int { Int(checkpoint.metadata["reference.algorithm"] ?? "") ?? 0 }
    var name: String { checkpoint.metadata["reference.case"] ?? "?" }

    /// The integer hyperparameters (`algo.hyperparameter.*`); the Mask text is not an integer and is skipped.
    var hyperparameters: [String: Int] {
        CheckpointMetadata.hyperparameters(checkpoint.metadata).compactMapValues { Int($0) }
    }

    /// A tensor of the file (F64 as stored), converted to `dtype`.
    func tensor(_ name: String, _ dtype: DType = .f64) -> Tensor {
        guard let t = checkpoint[name] else { preconditionFailure("\(self.name): no tensor `\(name)`") }
        return t.converted(to: dtype)
    }

    /// Token ids (or a position) stored as F64: exact integers, 1-based.
    func ids(_ name: String) -> [Int] {
        tensor(name).doubles.map { v in
            precondition(v == v.rounded() && v >= 1, "\(self.name): `\(name)` holds \(v), not a 1-based id")
            return Int(v)
        }
    }

    /// The names of θ: every tensor that is not an input, output or hyperparameter.
    var parameterNames: Set<String> {
        Set(checkpoint.tensors.map(\.name).filter { !$0.hasPrefix("input.") && !$0.hasPrefix("output.") && !$0.hasPrefix("hyperparameter.") })
    }

    /// θ as constants of `dtype`.
    func parameters(_ dtype: DType) -> Direct.Parameters {
        var d: [String: Variable] = [:]
        for n in parameterNames { d[n] = Variable(tensor(n, dtype)) }
        return Direct.Parameters(d)
    }

    /// The single `output.*` tensor's name.
    var outputName: String {
        let outputs = checkpoint.tensors.map(\.name).filter { $0.hasPrefix("output.") }
        precondition(outputs.count == 1, "\(name): outputs \(outputs)")
        return outputs[0]
    }

    /// Runs the direct Swift version of the fixture's algorithm in `dtype` with parameters `θ`.
    func run(_ dtype: DType, _ θ: Direct.Parameters) -> Tensor { forward(dtype, θ).value }

    /// The same, as a `Variable` (recorded when θ holds tape parameters).
    func forward(_ dtype: DType, _ θ: Direct.Parameters) -> Variable {
        let hp = hyperparameters
        func input(_ n: String) -> Variable { Variable(tensor("input." + n, dtype)) }
        switch algorithm {
        case 1: return Direct.tokenEmbedding(ids("input.v")[0], W_e: θ["W_e"])
        case 2: return Direct.positionalEmbedding(ids("input.ℓ")[0], W_p: θ["W_p"])
        case 3:
            let E = input("e_{1:T}")
            return Direct.basicAttention(input("e"), (0..<E.shape[1]).map { E.column($0) }, θ)
        case 4:
            return Direct.attention(input("X"), input("Z"), Direct.AttentionParameters(θ), mask: tensor("hyperparameter.Mask", dtype))
        case 5:
            return Direct.mhAttention(input("X"), Z: input("Z"), θ, H: hp["H"]!, mask: tensor("hyperparameter.Mask", dtype))
        case 6: return Direct.layerNorm(input("e"), γ: θ["γ"], β: θ["β"])
        case 7: return Direct.unembedding(input("e"), W_u: θ["W_u"])
        case 8: return Direct.edTransformer(z: ids("input.z"), x: ids("input.x"), θ, hp)
        case 9: return Direct.eTransformer(x: ids("input.x"), θ, hp)
        case 10: return Direct.dTransformer(x: ids("input.x"), θ, hp)
        default: preconditionFailure("\(name): unknown algorithm \(algorithm)")
        }
    }
}

/// max_i |a_i − b_i| / max(1, max_i |b_i|): the error relative to the tensor's scale (outputs here are
/// O(1): probabilities, layer-normed or attention values), so entries near 0 do not blow it up.
func scaledError(_ a: Tensor, _ b: Tensor) -> Double {
    precondition(a.shape == b.shape, "scaledError: \(a.shape) vs \(b.shape)")
    let x = a.doubles, y = b.doubles
    let scale = max(1, y.map(abs).max() ?? 0)
    return zip(x, y).map { abs($0 - $1) }.max().map { $0 / scale } ?? 0
}

/// Tolerances against the float64 NumPy outputs.
///
/// * **Float64: 1e-10.** Same formulas in the same precision; only the order of summation differs
///   (NumPy's BLAS/pairwise sums vs AlgoTensor's sequential dot products and reductions, the column
///   max subtracted in softmax by both but at different points) and libm's exp/erf may differ by an
///   ulp. Each step adds O(n·2^-53) ≈ 1e-15 for sums of length n ≤ 15, amplified at most by the
///   1/√v of layer_norm and by 3 layers: ~1e-14 expected, 1e-10 leaves four orders of margin while
///   still catching any formula error (those give ≥ 1e-3 here).
/// * **Float32: 1e-4.** Parameters and inputs are rounded to f32 (2^-24 ≈ 6e-8 relative) and every
///   operation rounds again; through up to 3 layers (with residual sums, layer_norm dividing by √v,
///   softmax of logits of size ~3, sums of length ≤ 15) the error grows to ~1e-6; 1e-4 covers that
///   with margin and stays far below a formula error. The f32 path also runs the fused SIMD kernels
///   (softmax, column normalisation, GELU) and GEMM, so they are checked against NumPy too.
enum ReferenceTolerance {
    static let f64 = 1e-10
    static let f32 = 1e-4
    static func of(_ dtype: DType) -> Double { dtype == .f64 ? f64 : f32 }
}

@Suite("Direct Swift Algorithms 1–10 against the NumPy reference")
struct ReferenceForwardTests {
    @Test("the fixtures cover Algorithms 1–10, each with at least two dimension sets, ℓ = 1 wherever there is a sequence")
    func coverage() throws {
        let fixtures = try ReferenceFixtures.names().map(ReferenceFixtures.load)
        for a in 1...10 {
            let cases = fixtures.filter { $0.algorithm == a }
            #expect(cases.count >= 2, "Algorithm \(a): \(cases.count) cases")
        }
        // ℓ = 1 for the sequence algorithms: Alg. 3 (T = 1), 4, 5 (ℓ_x = 1), 8 (ℓ_x = ℓ_z = 1), 9, 10 (ℓ = 1).
        func hasSingle(_ a: Int, _ key: String) -> Bool {
            fixtures.contains { $0.algorithm == a && ($0.checkpoint.metadata["reference.dimension." + key] == "1") }
        }
        #expect(hasSingle(3, "T") && hasSingle(4, "ℓ_x") && hasSingle(5, "ℓ_x") && hasSingle(8, "ℓ_x")
                && hasSingle(8, "ℓ_z") && hasSingle(9, "ℓ") && hasSingle(10, "ℓ"))
    }

    @Test("the direct Swift version equals the NumPy output in Float64 (1e-10) and Float32 (1e-4); every parameter is used",
          arguments: ReferenceFixtures.names())
    func matchesNumPy(_ caseName: String) throws {
        let fixture = try ReferenceFixtures.load(caseName)
        let expected = fixture.tensor(fixture.outputName)
        var errors: [String] = []
        for dtype in [DType.f64, .f32] {
            let θ = fixture.parameters(dtype)
            let got = fixture.run(dtype, θ)
            #expect(got.dtype == dtype)
            #expect(got.shape == expected.shape, "\(caseName): shape \(got.shape), expected \(expected.shape)")
            guard got.shape == expected.shape else { continue }
            #expect(got.doubles.allSatisfy { $0.isFinite }, "\(caseName) \(dtype): not finite")
            let error = scaledError(got, expected)
            #expect(error <= ReferenceTolerance.of(dtype), "\(caseName) \(dtype): error \(error)")
            #expect(θ.store.used == fixture.parameterNames,
                    "\(caseName): unused \(fixture.parameterNames.subtracting(θ.store.used)), missing \(θ.store.used.subtracting(fixture.parameterNames))")
            errors.append("\(dtype) \(String(format: "%.2e", error))")
        }
        print("reference \(caseName): \(errors.joined(separator: ", "))")
    }

    // MARK: - Identities (the same as the reference script asserts)

    @Test("Algorithm 3 equals Algorithm 4 for one query (X = e, Z = [e_1 … e_T], Mask ≡ 1)")
    func basicAttentionIsOneQueryAttention() throws {
        for caseName in ReferenceFixtures.names() {
            let fixture = try ReferenceFixtures.load(caseName)
            guard fixture.algorithm == 3 else { continue }
            for dtype in [DType.f64, .f32] {
                let θ = fixture.parameters(dtype)
                let e = fixture.tensor("input.e", dtype), E = fixture.tensor("input.e_{1:T}", dtype)
                let basic = Direct.basicAttention(Variable(e), (0..<E.shape[1]).map { Variable(E.column($0)) }, θ).value
                let attention = Direct.attention(Variable(e.reshaped([e.shape[0], 1])), Variable(E), Direct.AttentionParameters(θ),
                                                 mask: Direct.fullMask(E.shape[1], 1, dtype: dtype)).value
                let error = scaledError(attention.reshaped([basic.shape[0]]), basic)
                #expect(error <= (dtype == .f64 ? 1e-14 : 1e-6), "\(caseName) \(dtype): \(error)")
            }
        }
    }

    @Test("MHAttention with H = 1 equals W_o · Attention + b_o 𝟏ᵀ")
    func oneHeadIsAttentionThenOutputProjection() throws {
        for caseName in ReferenceFixtures.names() {
            let fixture = try ReferenceFixtures.load(caseName)
            guard fixture.algorithm == 5 else { continue }
            for dtype in [DType.f64, .f32] {
                // Head 1 of the fixture, and the first d_mid columns of its W_o.
                var one: [String: Variable] = [:]
                for m in ["W^1_q", "b^1_q", "W^1_k", "b^1_k", "W^1_v", "b^1_v", "b_o"] { one[m] = Variable(fixture.tensor(m, dtype)) }
                let d_mid = fixture.tensor("W^1_v").shape[0]
                let W_o = fixture.tensor("W_o", dtype)
                one["W_o"] = Variable(W_o.slice(lower: [0, 0], upper: [W_o.shape[0], d_mid]).copy())
                let θ = Direct.Parameters(one)
                let X = Variable(fixture.tensor("input.X", dtype)), Z = Variable(fixture.tensor("input.Z", dtype))
                let mask = fixture.tensor("hyperparameter.Mask", dtype)
                let multi = Direct.mhAttention(X, Z: Z, θ, H: 1, mask: mask).value
                let single = (θ["W_o"].matmul(Direct.attention(X, Z, Direct.AttentionParameters(θ, head: 1), mask: mask)) + θ["b_o"]).value
                #expect(scaledError(multi, single) <= (dtype == .f64 ? 1e-15 : 1e-7), "\(caseName) \(dtype)")
            }
        }
    }

    @Test("DTransformer and the EDTransformer decoder are causal: column t depends only on x[1:t]")
    func causality() throws {
        for caseName in ReferenceFixtures.names() {
            let fixture = try ReferenceFixtures.load(caseName)
            guard fixture.algorithm == 8 || fixture.algorithm == 10 else { continue }
            for dtype in [DType.f64, .f32] {
                let θ = fixture.parameters(dtype), hp = fixture.hyperparameters
                let x = fixture.ids("input.x")
                func P(_ prefix: [Int]) -> Tensor {
                    fixture.algorithm == 10 ? Direct.dTransformer(x: prefix, θ, hp).value
                                            : Direct.edTransformer(z: fixture.ids("input.z"), x: prefix, θ, hp).value
                }
                let full = P(x)
                for t in 1..<x.count {  // ℓ = 1 fixtures have nothing to compare
                    let prefix = P(Array(x[0..<t]))
                    let columns = full.slice(lower: [0, 0], upper: [full.shape[0], t])
                    #expect(scaledError(prefix, columns) <= (dtype == .f64 ? 1e-14 : 1e-6), "\(caseName) \(dtype) t = \(t)")
                }
                // And not trivially so: changing the last token changes the last column.
                if x.count > 1 {
                    var changed = x
                    changed[x.count - 1] = x[x.count - 1] % fixture.tensor("W_e").shape[1] + 1
                    let other = P(changed)
                    #expect(scaledError(other.column(x.count - 1), full.column(x.count - 1)) > 1e-6)
                }
            }
        }
    }

    @Test("every column of P (Algorithms 7–10) sums to 1 and is positive")
    func columnsAreDistributions() throws {
        for caseName in ReferenceFixtures.names() {
            let fixture = try ReferenceFixtures.load(caseName)
            guard (7...10).contains(fixture.algorithm) else { continue }
            for dtype in [DType.f64, .f32] {
                var P = fixture.run(dtype, fixture.parameters(dtype))
                if P.rank == 1 { P = P.reshaped([P.shape[0], 1]) }
                for t in 0..<P.shape[1] {
                    let column = P.column(t).doubles
                    #expect(column.allSatisfy { $0 > 0 })
                    #expect(abs(column.reduce(0, +) - 1) <= (dtype == .f64 ? 1e-14 : 1e-6), "\(caseName) \(dtype) column \(t + 1)")
                }
            }
        }
    }

    @Test("layer_norm over all columns at once (normalizeColumns, ε = 0) equals Algorithm 6 column by column")
    func layerNormColumnsIsAlgorithm6PerColumn() throws {
        let fixture = try ReferenceFixtures.load("MHAttention-causal")
        let d = fixture.tensor("input.X").shape[0]
        let γ = Tensor(shape: [d], values: (0..<d).map { 1 + 0.1 * Double($0) }, dtype: .f64)
        let β = Tensor(shape: [d], values: (0..<d).map { 0.05 * Double($0) - 0.1 }, dtype: .f64)
        for dtype in [DType.f64, .f32] {
            let X = Variable(fixture.tensor("input.X", dtype))
            let g = Variable(γ.converted(to: dtype)), b = Variable(β.converted(to: dtype))
            let whole = Direct.layerNormColumns(X, γ: g, β: b).value
            let perColumn = Direct.layerNormColumnByColumn(X, γ: g, β: b).value
            #expect(scaledError(whole, perColumn) <= (dtype == .f64 ? 1e-14 : 1e-6), "\(dtype)")
        }
    }

    @Test("parameter names: index values of two or more digits are braced")
    func naming() {
        #expect(Direct.name("γ", sup: "1", sub: Direct.index(2)) == "γ^1_2")
        #expect(Direct.name("γ", sup: "1", sub: Direct.index(12)) == "γ^1_{12}")
        #expect(Direct.name("W", sup: Direct.index(2), sub: "mlp1") == "W^2_mlp1")
        #expect(Direct.name("𝓦", sup: "e/d", sub: Direct.index(1)) + "." + Direct.name("W", sup: "1", sub: "k") == "𝓦^e/d_1.W^1_k")
        #expect(Direct.name("W", sub: "o") == "W_o")
    }
}
