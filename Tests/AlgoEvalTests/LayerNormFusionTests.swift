import Foundation
import Testing
import AlgoTensor
@testable import AlgoEval

/// Layer norm run as one fused node when the callee is the paper's Algorithm 6
/// (`Evaluator+LayerNorm`): recognised by its body only, the same values as the lines it replaces
/// up to rounding (the bound is derived at `forwardBound`), and gradients that agree.
@Suite("layer_norm: Algorithm 6 fused, recognised by its body")
struct LayerNormFusionTests {
    static let algorithms = InterpreterFixtures.repository + "/Algorithms/"
    static let u = 0x1p-24  // Float32 unit roundoff

    /// A directory holding `LayerNorm.algo` (edited by `edit`) and `ColumnNorm.algo`, which applies it
    /// to every column of X at once (`for t ∈ [ℓ] : X[:, t] ← layer_norm(X[:, t] | γ, β)`).
    func columnNorm(_ edit: (String) -> String = { $0 }) throws -> (LoadedProgram, String) {
        let dir = NSTemporaryDirectory() + "algo-ln-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let text = try String(contentsOfFile: Self.algorithms + "LayerNorm.algo", encoding: .utf8)
        try edit(text).write(toFile: dir + "/LayerNorm.algo", atomically: true, encoding: .utf8)
        try """
            Algorithm 1: Y ← ColumnNorm(X | γ, β)
            Input:      X ∈ ℝ^{d_e×ℓ}, columns to normalise.
            Output:     Y ∈ ℝ^{d_e×ℓ}, the normalised columns.
            Parameters: γ, β ∈ ℝ^{d_e}
            1 for t ∈ [ℓ] : X[:, t] ← layer_norm(X[:, t] | γ, β)
            2 return Y = X

            """.write(toFile: dir + "/ColumnNorm.algo", atomically: true, encoding: .utf8)
        switch Pipeline.load(path: dir + "/ColumnNorm.algo") {
        case .success(let p): return (p, dir)
        case .failure(let f): throw f
        }
    }

    /// Y of ColumnNorm, Float32, fused or as written; and the evaluator (its profile).
    func run(_ p: LoadedProgram, _ X: Tensor, _ γ: Tensor, _ β: Tensor, fuse: Bool) throws -> (Tensor, Evaluator) {
        var o = RunOptions()
        if !fuse { o.disabledRules = [.layerNorm] }
        o.profile = true
        let r = try Pipeline.run(p, RunSetup(dims: ["d_e": X.shape[0], "ℓ": X.shape[1]], reals: [:], inputs: ["X": .tensor(Variable(X))],
                                   parameters: ["γ": γ, "β": β], mask: nil, options: o))
        guard case .tensor(let y) = r.value else { throw RuntimeError(.invalidInput, "no tensor", at: p.target.syntax.span) }
        return (y.value, r.evaluator)
    }

    /// Columns of d entries: most 𝒩(0.5, 2²), one with a large offset (mean 100, σ 1: cancellation in x − m).
    func data(_ d: Int, _ n: Int, seed: UInt64) -> (Tensor, Tensor, Tensor) {
        var rng = RandomGenerator(seed: seed)
        var X = Tensor.normal([d, n], mean: 0.5, std: 2, using: &rng)
        for i in 0..<d { X[i, n - 1] = 100 + X[i, n - 1] / 2 }
        return (X, Tensor.normal([d], mean: 1, std: 0.5, using: &rng), Tensor.normal([d], using: &rng))
    }

    func ranLayerNormLines(_ e: Evaluator) -> Bool { e.profile.keys.contains { $0.file.hasSuffix("LayerNorm.algo") } }

    @Test("LayerNorm.algo is recognised as Algorithm 6, with its names")
    func recognised() throws {
        let (p, dir) = try columnNorm()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let ln = try #require(p.program.find("layer_norm"))
        guard case .layerNorm(let form)? = ln.plan.algorithm else { Issue.record("not recognised"); return }
        #expect(form == LayerNormForm(input: "e", dimension: "d_e", gamma: "γ", beta: "β"))
        // The whole algorithm first; its two sums are row sums, the fallback's fast path.
        #expect(ln.plan.fired.map(\.rule) == [.layerNorm, .rowSum, .rowSum])
    }

    /// The worst-case first-order bound on |y_fused − y_lines| for one entry (Float32, u = 2⁻²⁴):
    /// both compute m within (d + 1)·u·A (A = mean|x| of the column; the lines divide each term,
    /// the kernel the sum), so x − m within (d + 1)·u·A + u·|x − m|; v within (d + 3)·u relatively
    /// (a shift δ of m changes v by δ² only); √v, the division (or 1/√v and a product) add 3u; so
    /// each n̂ is within (d + 1)·u·A/σ + (d + 9)/2·u·|n̂| of the exact one, and the two within twice
    /// that. ⊙ γ + β multiplies by |γ| and adds 2u·(|n̂ γ| + |β|) per side. Evaluated with exact
    /// (Float64) n̂, A, σ; times 2 for the second-order terms.
    func forwardBound(_ X: Tensor, _ γ: Tensor, _ β: Tensor, _ i: Int, _ t: Int) -> Double {
        let d = X.shape[0]
        let column = (0..<d).map { X[$0, t] }
        let m = column.reduce(0, +) / Double(d)
        let σ = (column.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(d)).squareRoot()
        let A = column.map(abs).reduce(0, +) / Double(d)
        let n̂ = (X[i, t] - m) / σ, D = Double(d)
        let perEntry = 2 * ((D + 1) * Self.u * A / σ + (D + 9) / 2 * Self.u * abs(n̂))
        return 2 * (abs(γ[i]) * perEntry + 4 * Self.u * (abs(n̂ * γ[i]) + abs(β[i])))
    }

    @Test("fused and as written agree within the rounding bound, d = 5, 64, 384; the fused run skips LayerNorm.algo's lines")
    func fusedEqualsLines() throws {
        let (p, dir) = try columnNorm()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for (d, n) in [(5, 3), (64, 17), (384, 9)] {
            let (X, γ, β) = data(d, n, seed: UInt64(d))
            let (fused, fe) = try run(p, X, γ, β, fuse: true)
            let (lines, le) = try run(p, X, γ, β, fuse: false)
            #expect(!ranLayerNormLines(fe) && ranLayerNormLines(le), "d = \(d): the fused run executed LayerNorm.algo's lines, or the other did not")
            var worst = 0.0
            for t in 0..<n {
                for i in 0..<d {
                    let diff = abs(fused[i, t] - lines[i, t]), bound = forwardBound(X, γ, β, i, t)
                    worst = max(worst, diff / bound)
                    #expect(diff <= bound, "d = \(d), entry [\(i + 1), \(t + 1)]: \(fused[i, t]) vs \(lines[i, t])")
                }
            }
            #expect(worst < 1)
        }
    }

    @Test("an edited LayerNorm.algo runs as written: unbiased variance, no √, swapped γ and β")
    func editedRunsAsWritten() throws {
        let (X, γ, β) = data(12, 4, seed: 3)
        let d = 12
        // (edit, whether it is still Algorithm 6, the expected y[i] from the column in Float64)
        let variants: [(String, (String) -> String, Bool, ([Double], Double, Double, Int) -> Double)] = [
            ("unbiased", { $0.replacingOccurrences(of: "(e[i] − m)²/d_e", with: "(e[i] − m)²/(d_e − 1)") }, false,
             { c, g, b, i in let m = c.reduce(0, +) / Double(d); let v = c.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(d - 1); return (c[i] - m) / v.squareRoot() * g + b }),
            ("no root", { $0.replacingOccurrences(of: "(e − m)/√v", with: "(e − m)/v") }, false,
             { c, g, b, i in let m = c.reduce(0, +) / Double(d); let v = c.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(d); return (c[i] - m) / v * g + b }),
            ("swapped", { $0.replacingOccurrences(of: "⊙ γ + β", with: "⊙ β + γ") }, true,
             { c, g, b, i in let m = c.reduce(0, +) / Double(d); let v = c.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(d); return (c[i] - m) / v.squareRoot() * b + g }),
        ]
        for (what, edit, isAlgorithm6, expected) in variants {
            let (p, dir) = try columnNorm(edit)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let ln = try #require(p.program.find("layer_norm"))
            #expect((ln.plan.algorithm != nil) == isAlgorithm6, "\(what)")
            let (y, e) = try run(p, X, γ, β, fuse: true)
            #expect(ranLayerNormLines(e) == !isAlgorithm6, "\(what)")
            for t in 0..<4 {
                let c = (0..<d).map { X[$0, t] }
                for i in 0..<d {
                    let want = expected(c, γ[i], β[i], i)
                    // Float32 through ≤ 12-term sums and the large-offset column: 1e-3 relative to max(1, |y|).
                    #expect(abs(y[i, t] - want) <= 1e-3 * max(1, abs(want)), "\(what) [\(i + 1), \(t + 1)]: \(y[i, t]) vs \(want)")
                }
            }
        }
    }

    /// One DTraining step (Algorithm 13) in Float32 with layer norm fused and as written: the
    /// gradients agree to 10⁻⁵ of max|∇| per parameter tensor (observed ≤ 5·10⁻⁷): the forward
    /// differs by the bound above (≈ 10⁻⁶ relative for these columns) and the backward rounds in
    /// other orders (sums of d = 32 terms per column, ℓ = 12 per entry of γ, β), through 2 layers and
    /// softmax; a wrong VJP (a missed term, γ not applied) errs by ≥ 10⁻² of the gradient. The
    /// scale is at least 10⁻³ of the largest gradient of θ: the key biases' gradients are 0 in exact
    /// arithmetic (softmax ignores the q·b_k added to every score of a column), so both runs give
    /// rounding noise of ≈ 10⁻¹⁰ there.
    @Test("a DTraining step's ∇loss(θ) is the same with layer norm fused and as written (Float32)")
    func trainingGradientsAgree() throws {
        let p: LoadedProgram
        switch Pipeline.load(path: Self.algorithms + "DTraining.algo") {
        case .success(let l): p = l
        case .failure(let f): throw f
        }
        let name = try #require(RunSession.datasetInputs(p.target).first?.name)
        let (inputs, n) = try RunSession.dataset([name: [1: [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8]]], p.target)
        let dims = try RunSession.datasetDimensions(p.target, count: n, given: [
            "N_V": 11, "ℓ_max": 12, "L": 2, "H": 2, "d_e": 32, "d_mlp": 48, "d_attn": 16, "d_mid": 16, "N_epochs": 1])
        func gradients(fuse: Bool) throws -> [String: Tensor] {
            var o = RunOptions()
            if !fuse { o.disabledRules = [.layerNorm] }
            o.recordGradients = true
            o.profile = true
            let r = try Pipeline.run(p, RunSetup(dims: dims, reals: ["η": 0.01], inputs: inputs, parameters: nil, mask: nil, options: o))
            #expect(ranLayerNormLines(r.evaluator) == !fuse)
            let g = try #require(r.evaluator.gradients.first)
            return Dictionary(RunSession.flatten(g), uniquingKeysWith: { a, _ in a })
        }
        let fused = try gradients(fuse: true), lines = try gradients(fuse: false)
        #expect(fused.count == lines.count && fused.count > 20)
        let largest = lines.values.flatMap { $0.doubles.map(abs) }.max() ?? 0
        for (name, a) in fused {
            let b = try #require(lines[name])
            let scale = max(b.doubles.map(abs).max() ?? 0, 1e-3 * largest)
            let diff = zip(a.doubles, b.doubles).map { abs($0 - $1) }.max() ?? 0
            #expect(diff <= 1e-5 * scale, "\(name): max |Δ| \(diff), max |∇| \(scale)")
        }
    }
}
