import Foundation
import Testing
import AlgoTensor
import AlgoDiagnostics
@testable import AlgoEval

/// Training (Algorithms 11–13) run from their `.algo` text: `∇loss(θ)` against central finite
/// differences in Float64, and the loss falling on a tiny dataset.
@Suite("training: ∇loss(θ) against finite differences, SGD lowers the loss")
struct TrainingGradientTests {
    static let tiny: [String: Int] = ["N_V": 7, "ℓ_max": 6, "L": 1, "L_enc": 1, "L_dec": 1, "H": 2, "d_e": 4, "d_mlp": 6,
                                      "d_attn": 2, "d_mid": 2, "d_f": 4, "N_epochs": 1]

    func program(_ file: String) throws -> LoadedProgram {
        switch RunSession.load(path: InterpreterFixtures.repository + "/Algorithms/" + file + ".algo") {
        case .success(let p): return p
        case .failure(let f): throw f
        }
    }

    func dataset(_ p: LoadedProgram, _ seqs: [String: [[Int]]]) throws -> (inputs: [String: Value], count: Int) {
        var elements: [String: [Int: [Int]]] = [:]
        for (name, _) in RunSession.datasetInputs(p.target) {
            let base = String(name.prefix { $0 != "_" })
            for (k, x) in (seqs[base] ?? []).enumerated() { elements[name, default: [:]][k + 1] = x }
        }
        return try RunSession.dataset(elements, p.target)
    }

    /// Σ_n loss(θ) of one evaluation pass (gradients not applied).
    func loss(_ p: LoadedProgram, _ dims: [String: Int], _ reals: [String: Double], _ inputs: [String: Value], _ θ: [String: Tensor], seed: UInt64) throws -> (Double, [String: Variable]) {
        var o = RunOptions()
        o.dtype = .f64; o.applyGradients = false; o.seed = seed
        let r = try RunSession.run(p, dims: dims, reals: reals, inputs: inputs, parameters: θ.isEmpty ? nil : θ, mask: nil, options: o)
        return (r.evaluator.losses.reduce(0, +), r.parameters)
    }

    /// ∇loss(θ) as the algorithm applies it: one SGD step with η = 1 gives θ − θ̂.
    func gradient(_ p: LoadedProgram, _ dims: [String: Int], _ reals: [String: Double], _ inputs: [String: Value], _ θ: [String: Tensor], seed: UInt64) throws -> [String: Tensor] {
        var o = RunOptions()
        o.dtype = .f64; o.seed = seed
        var r = reals
        r["η"] = 1
        let run = try RunSession.run(p, dims: dims, reals: r, inputs: inputs, parameters: θ, mask: nil, options: o)
        var g: [String: Tensor] = [:]
        for (name, t) in RunSession.flatten(run.value) { g[name] = θ[name]! - t }
        return g
    }

    /// Central differences (h = 1e-5) on three seeded coordinates of every parameter tensor.
    /// Returns the largest relative error |fd − ∇| / max(|fd|, |∇|, 1e-3) and how many were compared.
    func check(_ file: String, _ seqs: [String: [[Int]]], reals given: [String: Double] = [:], seed: UInt64 = 0) throws -> (error: Double, compared: Int, loss: Double) {
        let p = try program(file)
        var reals = RunSession.trainingReals
        for (k, v) in given { reals[k] = v }
        let (inputs, n) = try dataset(p, seqs)
        var dims = Self.tiny
        dims["N_data"] = n
        let (_, initial) = try loss(p, dims, reals, inputs, [:], seed: seed)
        // Random θ (𝒩(0, 0.5²); γ around 1) so that every gradient is far from zero.
        var rng = RandomGenerator(seed: 42)
        var θ: [String: Tensor] = [:]
        for name in initial.keys.sorted() {
            let s = initial[name]!.shape
            let isGamma = name.contains("γ")
            θ[name] = Tensor(shape: s, values: (0..<Shape.count(s)).map { _ in (isGamma ? 1 : 0) + 0.5 * rng.normal() }, dtype: .f64)
        }
        let (l0, _) = try loss(p, dims, reals, inputs, θ, seed: seed)
        let g = try gradient(p, dims, reals, inputs, θ, seed: seed)
        #expect(Set(g.keys) == Set(θ.keys))
        var worst = 0.0, compared = 0
        let h = 1e-5
        for name in θ.keys.sorted() {
            let t = θ[name]!
            for _ in 0..<3 {
                let i = Int(rng.next() % UInt64(t.count))
                var plus = t.contiguous(), minus = t.contiguous()
                var vp = plus.doubles, vm = minus.doubles
                vp[i] += h; vm[i] -= h
                plus = Tensor(shape: t.shape, values: vp, dtype: .f64); minus = Tensor(shape: t.shape, values: vm, dtype: .f64)
                var θp = θ, θm = θ
                θp[name] = plus; θm[name] = minus
                let fd = (try loss(p, dims, reals, inputs, θp, seed: seed).0 - loss(p, dims, reals, inputs, θm, seed: seed).0) / (2 * h)
                let an = g[name]!.doubles[i]
                let err = abs(fd - an) / max(abs(fd), abs(an), 1e-3)
                if ProcessInfo.processInfo.environment["ALGO_GRADCHECK_PRINT"] != nil { print("\(file) \(name)[\(i)] fd \(fd) ∇ \(an) err \(err)") }
                worst = max(worst, err)
                compared += 1
            }
        }
        return (worst, compared, l0)
    }

    // Tolerance 1e-6 (relative; entries below 1e-3 compared against 1e-3). In Float64 the central
    // difference with h = 1e-5 is off by its truncation error h²·|f‴|/6 (θ ~ 𝒩(0, 0.5²) makes the
    // network far from linear: observed ≤ 6e-8) plus rounding ε·|loss|/h ≈ 1e-10; a wrong rule (a
    // missed term, a transposed or un-broadcast gradient) gives errors of order 1, so 1e-6 separates
    // the two with a margin of 15 on each side.

    @Test("DTraining (Algorithm 13): ∇loss(θ) matches central differences in Float64 (relative error ≤ 1e-6)")
    func dTrainingGradient() throws {
        let r = try check("DTraining", ["x": [[1, 4, 2, 5, 3]]])
        #expect(r.loss > 0)
        #expect(r.compared > 60)
        #expect(r.error <= 1e-6, "max relative error \(r.error) over \(r.compared) coordinates")
    }

    @Test("ETraining (Algorithm 12): ∇loss(θ) over the masked positions matches central differences (≤ 1e-6)")
    func eTrainingGradient() throws {
        let r = try check("ETraining", ["x": [[1, 4, 2, 5, 3, 2]]], reals: ["p_mask": 0.5], seed: 1)
        #expect(r.loss > 0, "no position was masked")
        #expect(r.error <= 1e-6, "max relative error \(r.error) over \(r.compared) coordinates")
    }

    @Test("EDTraining (Algorithm 11): ∇loss(θ) matches central differences (≤ 1e-6)")
    func edTrainingGradient() throws {
        let r = try check("EDTraining", ["z": [[3, 1, 2]], "x": [[1, 4, 2, 5]]])
        #expect(r.loss > 0)
        #expect(r.error <= 1e-6, "max relative error \(r.error) over \(r.compared) coordinates")
    }

    func trainTiny(_ file: String, _ seqs: [String: [[Int]]], epochs: Int, seed: UInt64 = 0) throws -> RunSession.TrainingResult {
        let p = try program(file)
        let (inputs, n) = try dataset(p, seqs)
        var dims = Self.tiny
        dims["N_data"] = n; dims["N_epochs"] = epochs; dims["d_e"] = 8; dims["d_mlp"] = 16; dims["d_attn"] = 4; dims["d_mid"] = 4
        var o = RunOptions()
        o.seed = seed
        return try RunSession.train(p, dims: dims, reals: ["η": 0.1, "p_mask": 0.3], inputs: inputs, parameters: nil, options: o)
    }

    static let data: [String: [[Int]]] = ["x": [[1, 2, 3, 4, 5], [2, 3, 4, 5, 1], [3, 4, 5, 1, 2]], "z": [[5, 4, 3], [1, 5, 4], [2, 1, 5]]]

    @Test("SGD as written lowers the loss on a tiny dataset: DTraining and EDTraining to below half, ETraining below its start")
    func lossFalls() throws {
        let d = try trainTiny("DTraining", Self.data, epochs: 30)
        #expect(d.stepLosses.count == 90)
        #expect(d.lossAfter < 0.5 * d.lossBefore, "DTraining \(d.lossBefore) → \(d.lossAfter)")
        #expect(abs(d.lossBefore - 4 * log(7.0)) < 0.1, "an untrained model predicts ≈ uniformly: 4 positions × log N_V")
        let ed = try trainTiny("EDTraining", Self.data, epochs: 30)
        #expect(ed.lossAfter < 0.5 * ed.lossBefore, "EDTraining \(ed.lossBefore) → \(ed.lossAfter)")
        let e = try trainTiny("ETraining", Self.data, epochs: 30)
        #expect(e.lossAfter < e.lossBefore, "ETraining \(e.lossBefore) → \(e.lossAfter)")
        // θ̂ keeps the names and shapes of θ.
        #expect(d.parameters.map(\.name).sorted() == d.initial.map(\.name).sorted())
        for (a, b) in zip(d.parameters.sorted { $0.name < $1.name }, d.initial.sorted { $0.name < $1.name }) { #expect(a.tensor.shape == b.tensor.shape) }
    }

    @Test("the random choice is seeded: the same --seed gives the same masks and losses, another seed other masks")
    func seededMasks() throws {
        let a = try trainTiny("ETraining", Self.data, epochs: 2, seed: 5)
        let b = try trainTiny("ETraining", Self.data, epochs: 2, seed: 5)
        let c = try trainTiny("ETraining", Self.data, epochs: 2, seed: 6)
        #expect(a.stepLosses == b.stepLosses)
        #expect(a.stepLosses != c.stepLosses)
        // DTraining draws nothing: the seed only initialises θ.
        let d1 = try trainTiny("DTraining", Self.data, epochs: 1, seed: 5), d2 = try trainTiny("DTraining", Self.data, epochs: 1, seed: 5)
        #expect(d1.stepLosses == d2.stepLosses)
    }
}
