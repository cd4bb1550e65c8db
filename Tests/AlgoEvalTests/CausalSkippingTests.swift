import Foundation
import Testing
import AlgoTensor
@testable import AlgoEval

/// The interpreter's causal attention (`Evaluator+CausalAttention`: Alg. 4 lines 4–6 on the kept
/// half when the mask is causal) against the same lines run as written (the rule `causal-attention` disabled),
/// from the `.algo` texts: DTransformer's P and DTraining's ∇loss(θ), Float32 and Float64, ℓ not a
/// multiple of the kernels' blocks, ℓ = 1, one head (an interpreted head loop, rank-2 values) and
/// several (head-batched, rank 3). Tolerances as in `CausalAttentionTests`, through the layers: the
/// f32 relative bound `4·(d + ℓ)·ε₃₂` per attention, times 8 for the layers, layer norms and
/// softmax that follow (which keep relative errors of that order: no cancellation at these sizes);
/// Float64 `1e-10`. A path that is not taken, or a wrong triangle, is caught by the profile check
/// and by O(1) differences respectively.
@Suite("interpreter: causal attention skips the masked half and gives the dense values")
struct CausalSkippingTests {
    struct Config: CustomTestStringConvertible, Sendable {
        let dtype: DType, length: Int, heads: Int
        var testDescription: String { "\(dtype) ℓ=\(length) H=\(heads)" }
        var dims: [String: Int] { ["N_V": 11, "ℓ_max": max(length, 2), "L": 2, "H": heads, "d_e": 8 * heads, "d_mlp": 16, "d_attn": 8, "d_mid": 8] }
        var tolerance: Double { dtype == .f32 ? 8 * 4 * Double(8 + length) * Double(Float.ulpOfOne) : 1e-10 }
    }

    static let configs: [Config] = [DType.f32, .f64].flatMap { t in
        [Config(dtype: t, length: 1, heads: 2), Config(dtype: t, length: 23, heads: 1), Config(dtype: t, length: 101, heads: 3)]
    }

    /// Whether line 5 of Attention.algo (the −∞ masking) ran: it does not on the skipping path.
    func maskLineRan(_ e: Evaluator) -> Bool {
        e.profile.contains { $0.key.file.hasSuffix("/Attention.algo") && $0.key.line == 15 && $0.value.calls > 0 }
    }

    func options(_ dtype: DType, skip: Bool) -> RunOptions {
        var o = RunOptions()
        o.dtype = dtype
        o.seed = 3
        o.profile = true
        if !skip { o.disabledRules = [.causalAttention] }
        return o
    }

    func maxRelative(_ a: [Double], _ b: [Double]) -> Double {
        let scale = max(1e-30, b.map(abs).max() ?? 0)
        return zip(a, b).map { abs($0 - $1) }.max().map { $0 / scale } ?? 0
    }

    @Test("DTransformer's P equals the dense path's", arguments: configs)
    func forward(_ c: Config) throws {
        let p = try InterpreterFixtures.program("DTransformer")
        let x = (0..<c.length).map { ($0 * 7) % 11 + 1 }
        func run(_ skip: Bool) throws -> (Tensor, Evaluator) {
            let r = try Pipeline.run(p, RunSetup(dims: c.dims, reals: [:], inputs: ["x": .tokens(x)], parameters: nil, mask: nil, options: options(c.dtype, skip: skip)))
            guard case .tensor(let t) = r.value else { throw RuntimeError(.notExecutable, "P is \(r.value.kindName)", at: p.target.syntax.span) }
            return (t.value, r.evaluator)
        }
        let (skipped, es) = try run(true), (dense, ed) = try run(false)
        #expect(!maskLineRan(es), "the causal path was not taken")
        #expect(maskLineRan(ed), "the dense path did not mask")
        #expect(skipped.shape == dense.shape)
        let err = maxRelative(skipped.doubles, dense.doubles)
        #expect(err <= c.tolerance, "max |ΔP| / max|P| = \(err)")
    }

    @Test("DTraining's ∇loss(θ) equals the dense path's", arguments: configs.filter { $0.length >= 2 })
    func gradients(_ c: Config) throws {
        let problem = try GradientCheckProblem.prepare(path: InterpreterFixtures.repository + "/Algorithms/DTraining.algo",
                                                       dims: c.dims.merging(["ℓ": c.length]) { $1 }, seed: 9)
        func run(_ skip: Bool) throws -> (Double, [String: Tensor], Evaluator) {
            var o = options(c.dtype, skip: skip)
            o.recordGradients = true
            let r = try Pipeline.run(problem.program, RunSetup(dims: problem.dims, reals: problem.reals, inputs: problem.inputs,
                                       parameters: problem.θ, mask: nil, options: o))
            let g = Dictionary(RunSession.flatten(r.evaluator.gradients[0]).map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a })
            return (r.evaluator.losses[0], g, r.evaluator)
        }
        let (ls, gs, es) = try run(true), (ld, gd, ed) = try run(false)
        #expect(!maskLineRan(es) && maskLineRan(ed))
        #expect(abs(ls - ld) <= c.tolerance * abs(ld), "loss \(ls) vs \(ld)")
        #expect(Set(gs.keys) == Set(gd.keys) && gs.count > 10)
        // Relative to the largest gradient entry of all: some gradients are 0 in exact arithmetic
        // (b_k: adding b_kᵀq to every score of a column leaves its softmax unchanged), and both
        // paths give rounding noise there.
        let scale = gd.values.flatMap { $0.doubles.map(abs) }.max() ?? 1
        for (name, g) in gd {
            let err = zip(gs[name]!.doubles, g.doubles).map { abs($0 - $1) }.max() ?? 0
            #expect(err <= c.tolerance * 4 * scale, "∇\(name): max difference \(err), largest gradient entry \(scale)")
        }
    }

    @Test("MHAttention: only a causal Mask skips (a rule, `Mask=causal`, a causal matrix); any other keeps the dense path")
    func masks() throws {
        let mha = try InterpreterFixtures.program("MHAttention")
        let (H, d, dAttn, n) = (2, 6, 3, 9)
        var rng = RandomGenerator(seed: 4)
        func normal(_ s: [Int]) -> Tensor { Tensor.normal(s, dtype: .f64, using: &rng) }
        var θ: [String: Tensor] = ["W_o": normal([d, H * dAttn]), "b_o": normal([d])]
        for h in 1...H {
            for w in ["q", "k", "v"] { θ["W^\(h)_\(w)"] = normal([dAttn, d]); θ["b^\(h)_\(w)"] = normal([dAttn]) }
        }
        let X = normal([d, n])
        let dims = ["H": H, "d_x": d, "d_z": d, "d_attn": dAttn, "d_mid": dAttn, "d_out": d, "ℓ_x": n, "ℓ_z": n]
        let keep = Tensor(shape: [n, n], values: (0..<(n * n)).map { i in i % n <= i / n ? 1 : 0 })
        var oneOff = keep; oneOff[0, 5] = 0
        func run(_ mask: MaskValue, skip: Bool = true) throws -> (Tensor, Bool) {
            let r = try Pipeline.run(mha, RunSetup(dims: dims, reals: [:], inputs: ["X": .tensor(Variable(X)), "Z": .tensor(Variable(X))],
                                       parameters: θ, mask: mask, options: options(.f64, skip: skip)))
            guard case .tensor(let t) = r.value else { throw RuntimeError(.notExecutable, "Ṽ is \(r.value.kindName)", at: mha.target.syntax.span) }
            return (t.value, maskLineRan(r.evaluator))
        }
        let (dense, denseMasked) = try run(.causal, skip: false)
        #expect(denseMasked)
        for mask in [MaskValue.causal, .matrix(keep)] {
            let (y, masked) = try run(mask)
            #expect(!masked)
            #expect(maxRelative(y.doubles, dense.doubles) <= 1e-12)
        }
        for mask in [MaskValue.constant(1), .matrix(keep.permuted([1, 0]).contiguous()), .matrix(oneOff)] {
            #expect(try run(mask).1, "\(mask) must run line 5")
        }
        // Encoders (Mask ≡ 1 in the text) run line 5 as written.
        let e = try InterpreterFixtures.program("ETransformer")
        let edims = ["N_V": 11, "ℓ_max": 9, "L": 1, "H": 2, "d_e": 8, "d_mlp": 8, "d_attn": 4, "d_mid": 4, "d_f": 8]
        let r = try Pipeline.run(e, RunSetup(dims: edims, reals: [:], inputs: ["x": .tokens([1, 2, 3, 4, 5, 6, 7, 8, 9])], parameters: nil, mask: nil,
                                   options: options(.f32, skip: true)))
        #expect(maskLineRan(r.evaluator))
    }

    /// The run-time guard's answer (`Evaluator.isCausal`) is remembered by the mask rule's text and ℓ
    /// when nothing else can change it: one entry for DTransformer's L layers, the same P as without
    /// the memo (a fresh evaluator per run has an empty memo: the second run of one evaluator answers
    /// from it). A rule that reads a frame variable (`ℓ`) is evaluated every time, and a mask that
    /// is not causal is remembered as such (the lines run as written in every layer).
    @Test("the causal check is remembered per mask rule and length, only when nothing else is read")
    func causalCheckMemo() throws {
        let c = Config(dtype: .f32, length: 23, heads: 2)
        let x = (0..<c.length).map { ($0 * 7) % 11 + 1 }
        func run(_ p: LoadedProgram, _ e: Evaluator? = nil) throws -> (Tensor, Evaluator) {
            let ev = e ?? Evaluator(program: p.program, options: options(c.dtype, skip: true))
            let θ = ParameterLayout.initialise(try ParameterLayout.parameters(of: p.target, program: p.program, dims: c.dims), seed: 3, dtype: c.dtype)
            guard case .tensor(let t) = try ev.run(p.target, dims: c.dims, inputs: ["x": .tokens(x)], parameters: θ) else {
                throw RuntimeError(.notExecutable, "P is no tensor", at: p.target.syntax.span)
            }
            return (t.value, ev)
        }
        let p = try InterpreterFixtures.program("DTransformer")
        let (first, e) = try run(p)
        #expect(e.causalMasks.count == 1 && e.causalMasks.values.allSatisfy { $0 }, "\(e.causalMasks)")
        #expect(!maskLineRan(e))
        let (again, _) = try run(p, e)                         // answered from the memo: the same bits
        #expect(again.doubles == first.doubles)
        #expect(e.causalMasks.count == 1)
        let names = ["Attention", "MHAttention", "LayerNorm", "DTransformer"]
        let (reads, dir) = try InterpreterFixtures.editedCopy(names, editing: "DTransformer", replacing: "[[t ≤ t′]]", with: "[[t ≤ t′ + ℓ − ℓ]]", load: "DTransformer")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (viaFrame, ef) = try run(reads)
        #expect(ef.causalMasks.isEmpty)                       // reads ℓ: no key, checked every time
        #expect(!maskLineRan(ef))
        #expect(viaFrame.doubles == first.doubles)
        let (wider, dir2) = try InterpreterFixtures.editedCopy(names, editing: "DTransformer", replacing: "[[t ≤ t′]]", with: "[[t ≤ t′ + 1]]", load: "DTransformer")
        defer { try? FileManager.default.removeItem(atPath: dir2) }
        let (_, ew) = try run(wider)
        #expect(ew.causalMasks.count == 1 && ew.causalMasks.values.allSatisfy { !$0 }, "\(ew.causalMasks)")
        #expect(maskLineRan(ew))
    }
}
