import Foundation
import Testing
import AlgoTensor
import AlgoDiagnostics
@testable import AlgoEval

/// The identities of the issue, through the evaluator running the `.algo` texts.
@Suite("algo run's evaluator: identities and runtime diagnostics")
struct InterpreterIdentityTests {
    func run(_ p: LoadedProgram, _ dtype: DType, dims: [String: Int] = [:], reals: [String: Double] = [:], inputs: [String: Value],
             parameters: [String: Tensor]?, mask: MaskValue? = nil, maxSteps: Int = 256) throws -> (Value, Evaluator) {
        var o = RunOptions()
        o.dtype = dtype
        o.maxSteps = maxSteps
        let r = try Pipeline.run(p, RunSetup(dims: dims, reals: reals, inputs: inputs, parameters: parameters, mask: mask, options: o))
        return (r.value, r.evaluator)
    }

    @Test("Algorithm 3 (BasicAttention.algo) equals Algorithm 4 (Attention.algo) for one query, Mask ≡ 1")
    func basicIsOneQueryAttention() throws {
        let basic = try InterpreterFixtures.program("BasicAttention"), attention = try InterpreterFixtures.program("Attention")
        for caseName in ReferenceFixtures.names() where caseName.hasPrefix("BasicAttention") {
            let fx = try ReferenceFixtures.load(caseName)
            for dtype in [DType.f64, .f32] {
                let θ = RunSession.parameters(from: fx.checkpoint)
                let e = fx.tensor("input.e", dtype), E = fx.tensor("input.e_{1:T}", dtype)
                let (a, _) = try run(basic, dtype, inputs: ["e": .tensor(Variable(e)), "e_{1:T}": .tensor(Variable(E))], parameters: θ)
                let (b, _) = try run(attention, dtype, inputs: ["X": .tensor(Variable(e.reshaped([e.shape[0], 1]))), "Z": .tensor(Variable(E))],
                                     parameters: θ, mask: .constant(1))
                let x = try #require(tensorOf(a)), y = try #require(tensorOf(b))
                #expect(scaledError(y.contiguous().reshaped([x.shape[0]]), x) <= (dtype == .f64 ? 1e-14 : 1e-6), "\(caseName) \(dtype)")
            }
        }
    }

    @Test("MHAttention.algo with H = 1 equals W_o · Attention.algo + b_o 𝟏ᵀ")
    func oneHead() throws {
        let mh = try InterpreterFixtures.program("MHAttention"), attention = try InterpreterFixtures.program("Attention")
        for caseName in ReferenceFixtures.names() where caseName.hasPrefix("MHAttention") {
            let fx = try ReferenceFixtures.load(caseName)
            for dtype in [DType.f64, .f32] {
                var one: [String: Tensor] = [:], single: [String: Tensor] = [:]
                for m in ["q", "k", "v"] {
                    one["W^1_\(m)"] = fx.tensor("W^1_\(m)"); one["b^1_\(m)"] = fx.tensor("b^1_\(m)")
                    single["W_\(m)"] = fx.tensor("W^1_\(m)"); single["b_\(m)"] = fx.tensor("b^1_\(m)")
                }
                let d_mid = fx.tensor("W^1_v").shape[0]
                let W_o = fx.tensor("W_o")
                one["W_o"] = W_o.slice(lower: [0, 0], upper: [W_o.shape[0], d_mid]).copy()
                one["b_o"] = fx.tensor("b_o")
                let X = Variable(fx.tensor("input.X", dtype)), Z = Variable(fx.tensor("input.Z", dtype))
                let mask = MaskValue.matrix(fx.tensor("hyperparameter.Mask"))
                let (a, _) = try run(mh, dtype, dims: ["H": 1], inputs: ["X": .tensor(X), "Z": .tensor(Z)], parameters: one, mask: mask)
                let (b, _) = try run(attention, dtype, inputs: ["X": .tensor(X), "Z": .tensor(Z)], parameters: single, mask: mask)
                let y = try #require(tensorOf(b))
                let expected = Variable(one["W_o"]!.converted(to: dtype)).matmul(Variable(y)) + Variable(one["b_o"]!.converted(to: dtype))
                #expect(scaledError(try #require(tensorOf(a)), expected.value) <= (dtype == .f64 ? 1e-15 : 1e-6), "\(caseName) \(dtype)")
            }
        }
    }

    @Test("DTransformer.algo is causal: column t depends only on x[1:t]; a later token changes only later columns; columns of P sum to 1")
    func causality() throws {
        let p = try InterpreterFixtures.program("DTransformer")
        for caseName in ReferenceFixtures.names() where caseName.hasPrefix("DTransformer") {
            let fx = try ReferenceFixtures.load(caseName)
            let θ = RunSession.parameters(from: fx.checkpoint)
            let (dims, _) = RunSession.hyperparameters(from: fx.checkpoint)
            let x = fx.ids("input.x")
            for dtype in [DType.f64, .f32] {
                func P(_ tokens: [Int]) throws -> Tensor { try #require(tensorOf(try run(p, dtype, dims: dims, inputs: ["x": .tokens(tokens)], parameters: θ).0)) }
                let full = try P(x)
                for t in 0..<full.shape[1] {
                    #expect(abs(full.column(t).doubles.reduce(0, +) - 1) <= (dtype == .f64 ? 1e-14 : 1e-6))
                    #expect(full.column(t).doubles.allSatisfy { $0 > 0 })
                }
                for t in 1..<max(x.count, 1) {
                    let prefix = try P(Array(x[0..<t]))
                    #expect(scaledError(prefix, full.slice(lower: [0, 0], upper: [full.shape[0], t])) <= (dtype == .f64 ? 1e-14 : 1e-6))
                    var changed = x
                    changed[t] = x[t] % fx.tensor("W_e").shape[1] + 1
                    let other = try P(changed)
                    #expect(scaledError(other.slice(lower: [0, 0], upper: [full.shape[0], t]), full.slice(lower: [0, 0], upper: [full.shape[0], t])) <= (dtype == .f64 ? 1e-14 : 1e-6))
                    #expect(scaledError(other.column(t), full.column(t)) > 1e-6)
                }
            }
        }
    }

    @Test("batched loops: DTransformer's tensor operations do not grow with ℓ (column loops and the mask are one computation)")
    func batched() throws {
        let p = try InterpreterFixtures.program("DTransformer")
        let dims = ["N_V": 11, "ℓ_max": 16, "L": 2, "H": 2, "d_e": 8, "d_mlp": 12, "d_attn": 4, "d_mid": 4]
        let (_, short) = try run(p, .f32, dims: dims, inputs: ["x": .tokens([1, 2])], parameters: nil)
        let (_, long) = try run(p, .f32, dims: dims, inputs: ["x": .tokens(Array(1...11) + [1, 2, 3])], parameters: nil)
        #expect(short.ops == long.ops, "\(short.ops) vs \(long.ops)")
        let e = try InterpreterFixtures.program("ETransformer")
        let edims = dims.merging(["d_f": 6]) { a, _ in a }
        let (_, eShort) = try run(e, .f32, dims: edims, inputs: ["x": .tokens([1, 2])], parameters: nil)
        let (_, eLong) = try run(e, .f32, dims: edims, inputs: ["x": .tokens(Array(1...9))], parameters: nil)
        #expect(eShort.ops == eLong.ops, "ETransformer \(eShort.ops) vs \(eLong.ops)")
        let ed = try InterpreterFixtures.program("EDTransformer")
        let eddims = dims.merging(["L_enc": 1, "L_dec": 2]) { a, _ in a }
        let (_, edShort) = try run(ed, .f32, dims: eddims, inputs: ["x": .tokens([1, 2]), "z": .tokens([3])], parameters: nil)
        let (_, edLong) = try run(ed, .f32, dims: eddims, inputs: ["x": .tokens(Array(1...9)), "z": .tokens([3, 4, 5, 6])], parameters: nil)
        #expect(edShort.ops == edLong.ops, "EDTransformer \(edShort.ops) vs \(edLong.ops)")
    }

    @Test("runtime diagnostics: NaN of layer_norm (A3) E0503, a position beyond ℓ_max (A10) E0502, the while step limit E0504, training E0501")
    func diagnostics() throws {
        let ln = try InterpreterFixtures.program("LayerNorm")
        do {
            _ = try run(ln, .f64, inputs: ["e": .tensor(Variable(Tensor(shape: [3], values: [2, 2, 2], dtype: .f64)))], parameters: nil)
            Issue.record("no error")
        } catch let e as RuntimeError {
            #expect(e.diagnostic.code == .nonFinite)
            #expect(e.diagnostic.span.file.hasSuffix("LayerNorm.algo"))
        }
        let d = try InterpreterFixtures.program("DTransformer")
        let dims = ["N_V": 11, "ℓ_max": 3, "L": 1, "H": 1, "d_e": 4, "d_mlp": 4, "d_attn": 2, "d_mid": 2]
        do {
            _ = try run(d, .f32, dims: dims, inputs: ["x": .tokens([1, 2, 3, 4])], parameters: nil)
            Issue.record("no error")
        } catch let e as RuntimeError {
            #expect(e.diagnostic.code == .runtimeIndexOutOfRange)
        }
        let ed = try InterpreterFixtures.program("EDInference")
        let edims = ["N_V": 11, "ℓ_max": 64, "L_enc": 1, "L_dec": 1, "H": 1, "d_e": 4, "d_mlp": 4, "d_attn": 2, "d_mid": 2]
        let (v, e) = try run(ed, .f32, dims: edims, reals: ["τ": 1], inputs: ["z": .tokens([1, 2])], parameters: nil, maxSteps: 2)
        if case .tokens(let t) = v, t.last != 11 { #expect(t.count == 3); #expect(e.warnings.first?.code == .stepLimit) }
        let tr = try InterpreterFixtures.program("DTraining")
        #expect(throws: RuntimeError.self) { _ = try run(tr, .f32, inputs: [:], parameters: nil) }
    }
}
