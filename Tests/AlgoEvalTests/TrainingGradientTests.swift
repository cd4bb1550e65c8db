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

    func dataset(_ p: LoadedProgram, _ seqs: [String: [[Int]]]) throws -> (inputs: [String: Value], count: Int) {
        var elements: [String: [Int: [Int]]] = [:]
        for (name, _) in RunSession.datasetInputs(p.target) {
            let base = String(name.prefix { $0 != "_" })
            for (k, x) in (seqs[base] ?? []).enumerated() { elements[name, default: [:]][k + 1] = x }
        }
        return try RunSession.dataset(elements, p.target)
    }

    func path(_ file: String) -> String { InterpreterFixtures.repository + "/Algorithms/" + file + ".algo" }

    /// `algo gradcheck`'s check (`GradientCheckProblem`: the algorithm's own loss(θ) at one dataset
    /// element, ∇ from the tape against central differences, Float64, θ ~ 𝒩(0, 0.5²)) on 3 seeded
    /// coordinates of every parameter tensor. Returns the largest relative error
    /// |fd − ∇| / max(|fd|, |∇|, 10⁻³), how many were compared and loss(θ).
    func check(_ file: String, _ seqs: [String: [Int]], reals: [String: Double] = [:], seed: UInt64 = 0) throws -> (error: Double, compared: Int, loss: Double) {
        let p = try GradientCheckProblem.prepare(path: path(file), dims: Self.tiny, reals: reals, seed: seed, sequences: seqs)
        let (l, results) = try p.check(elements: 3)
        #expect(Set(results.map(\.name)) == Set(p.parameters.map(\.name)))
        if ProcessInfo.processInfo.environment["ALGO_GRADCHECK_PRINT"] != nil {
            for r in results { print("\(file) \(r.name)\(r.index) fd \(r.finiteDifference) ∇ \(r.gradient) err \(r.maxError)") }
        }
        return (results.map(\.maxError).max() ?? .nan, results.reduce(0) { $0 + $1.compared }, l)
    }

    // Tolerance `GradientCheckProblem.tolerance` (10⁻⁵ relative; entries below 10⁻³ compared against
    // 10⁻³): in Float64 the central difference with h = 10⁻⁵ is off by its truncation error h²·|f‴|/6
    // plus rounding ≈ ε·|loss|/h, together ≈ 10⁻⁹ (observed relative errors ≤ 2·10⁻⁷); a wrong rule (a
    // missed term, a transposed or un-broadcast gradient) gives errors of 10⁻³ to 1 (the error model
    // is written out at `GradientCheckProblem.tolerance`).
    static let tolerance = GradientCheckProblem.tolerance

    @Test("DTraining (Algorithm 13): ∇loss(θ) matches central differences in Float64 (relative error ≤ 1e-5)")
    func dTrainingGradient() throws {
        let r = try check("DTraining", ["x": [1, 4, 2, 5, 3]])
        #expect(r.loss > 0)
        #expect(r.compared > 60)
        #expect(r.error <= Self.tolerance, "max relative error \(r.error) over \(r.compared) coordinates")
    }

    @Test("ETraining (Algorithm 12): ∇loss(θ) over the masked positions matches central differences (≤ 1e-5)")
    func eTrainingGradient() throws {
        let r = try check("ETraining", ["x": [1, 4, 2, 5, 3, 2]], reals: ["p_mask": 0.5], seed: 1)
        #expect(r.loss > 0, "no position was masked")
        #expect(r.error <= Self.tolerance, "max relative error \(r.error) over \(r.compared) coordinates")
    }

    @Test("EDTraining (Algorithm 11): ∇loss(θ) matches central differences (≤ 1e-5)")
    func edTrainingGradient() throws {
        let r = try check("EDTraining", ["z": [3, 1, 2], "x": [1, 4, 2, 5]])
        #expect(r.loss > 0)
        #expect(r.error <= Self.tolerance, "max relative error \(r.error) over \(r.compared) coordinates")
    }

    func trainTiny(_ file: String, _ seqs: [String: [[Int]]], epochs: Int, seed: UInt64 = 0) throws -> RunSession.TrainingResult {
        let p = try InterpreterFixtures.program(file)
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

    // MARK: Section 8 variants: Adam (Algorithm 18) and minibatches (Algorithm 19)

    /// DTraining's gradient check on one sequence (`GradientCheckProblem`): its θ (𝒩(0, 0.5²), γ
    /// around 1, from `seed`) and ∇loss(θ) of that sequence at any θ.
    func dTraining(_ x: [Int], seed: UInt64 = 7) throws -> GradientCheckProblem {
        try GradientCheckProblem.prepare(path: path("DTraining"), dims: Self.tiny, seed: seed, sequences: ["x": x])
    }

    /// θ̂ of one run (N_epochs = 1) from θ, Float64.
    func step(_ p: LoadedProgram, _ dims: [String: Int], _ reals: [String: Double], _ inputs: [String: Value], _ θ: [String: Tensor]) throws -> [String: Tensor] {
        var o = RunOptions()
        o.dtype = .f64
        let run = try Pipeline.run(p, RunSetup(dims: dims, reals: reals, inputs: inputs, parameters: θ, mask: nil, options: o))
        return Dictionary(RunSession.flatten(run.value), uniquingKeysWith: { a, _ in a })
    }

    func maxRelative(_ a: [String: Tensor], _ b: [String: Tensor]) -> Double {
        var worst = 0.0
        for (name, x) in a {
            for (u, v) in zip(x.contiguous().doubles, b[name]!.contiguous().doubles) { worst = max(worst, abs(u - v) / max(abs(u), abs(v), 1e-12)) }
        }
        return worst
    }

    @Test("DTrainingAdam (Algorithm 18): two Adam steps move θ exactly as Kingma & Ba's update computed here from ∇loss (checked by central differences), Float64")
    func adamStepMatchesKingmaBa() throws {
        let adam = try InterpreterFixtures.program("DTrainingAdam")
        let seqs = [[1, 4, 2, 5, 3], [2, 5, 1, 3]]
        // β and ε far from their defaults so that bias correction and ε both show in the result.
        let β1 = 0.8, β2 = 0.9, ε = 0.1, η = 0.05
        var dims = Self.tiny
        dims["N_data"] = 2
        let (adamInputs, _) = try dataset(adam, ["x": seqs])
        let reals = ["η": η, "β_1": β1, "β_2": β2, "ε": ε]
        // The gradient of each step's loss: DTraining's ∇loss(θ) on that one sequence (the tape).
        let problems = try seqs.map { try dTraining($0) }
        let θ0 = Dictionary(problems[0].parameters.map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a })
        let θ̂ = try step(adam, dims, reals, adamInputs, θ0)
        func g(_ n: Int, _ θ: [String: Tensor]) throws -> [String: Tensor] { try problems[n].gradient(θ).gradient }
        let g1 = try g(0, θ0)
        // … and that gradient against central differences on a few coordinates of every tensor.
        let (_, fd) = try problems[0].check(elements: 2)
        let fdWorst = fd.map(\.maxError).max() ?? .nan
        #expect(fdWorst <= Self.tolerance, "∇loss against central differences: \(fdWorst)")

        // Kingma & Ba 2015, Algorithm 1, entry by entry.
        var θ = θ0.mapValues { $0.contiguous().doubles }
        var m = θ.mapValues { $0.map { _ in 0.0 } }, v = m
        for s in 1...2 {
            let gs = (s == 1 ? g1 : try g(1, θ.reduce(into: [:]) { $0[$1.key] = Tensor(shape: θ0[$1.key]!.shape, values: $1.value, dtype: .f64) }))
            for name in θ.keys {
                let gn = gs[name]!.contiguous().doubles
                for i in gn.indices {
                    m[name]![i] = β1 * m[name]![i] + (1 - β1) * gn[i]
                    v[name]![i] = β2 * v[name]![i] + (1 - β2) * gn[i] * gn[i]
                    let mh = m[name]![i] / (1 - pow(β1, Double(s))), vh = v[name]![i] / (1 - pow(β2, Double(s)))
                    θ[name]![i] -= η * mh / (vh.squareRoot() + ε)
                }
            }
        }
        let expected = θ.reduce(into: [String: Tensor]()) { $0[$1.key] = Tensor(shape: θ0[$1.key]!.shape, values: $1.value, dtype: .f64) }
        #expect(Set(θ̂.keys) == Set(expected.keys))
        let err = maxRelative(θ̂, expected)
        #expect(err <= 1e-9, "Adam θ̂ against Kingma & Ba: max relative error \(err)")
        #expect(maxRelative(θ̂, θ0) > 1e-3, "θ moved")
    }

    @Test("DTrainingMinibatch (Algorithm 19): one step with B = 2 is θ − η (g_1 + g_2)/2 of the two sequences' gradients, Float64")
    func minibatchStepAveragesGradients() throws {
        let mb = try InterpreterFixtures.program("DTrainingMinibatch")
        let seqs = [[1, 4, 2, 5, 3], [2, 5, 1, 3]]
        let η = 0.3
        let (inputs, n) = try dataset(mb, ["x": seqs])
        let dims = try RunSession.datasetDimensions(mb.target, count: n, given: Self.tiny)
        #expect(dims["B"] == 2 && dims["N_batches"] == 1)
        // Each sequence's gradient: DTraining's ∇loss(θ) on it (the tape).
        let problems = try seqs.map { try dTraining($0) }
        let θ0 = Dictionary(problems[0].parameters.map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a })
        let θ̂ = try step(mb, dims, ["η": η], inputs, θ0)
        let g = try problems.map { try $0.gradient(θ0).gradient }
        var expected: [String: Tensor] = [:]
        for (name, t) in θ0 {
            let a = t.contiguous().doubles, g1 = g[0][name]!.contiguous().doubles, g2 = g[1][name]!.contiguous().doubles
            expected[name] = Tensor(shape: t.shape, values: a.indices.map { a[$0] - η * (g1[$0] + g2[$0]) / 2 }, dtype: .f64)
        }
        let err = maxRelative(θ̂, expected)
        #expect(err <= 1e-9, "minibatch θ̂ against θ − η·mean gradient: max relative error \(err)")
        // B must divide N_data; a wrong N_batches is refused.
        #expect(throws: RuntimeError.self) { try RunSession.datasetDimensions(mb.target, count: 3, given: [:]) }
        #expect(throws: RuntimeError.self) { try RunSession.datasetDimensions(mb.target, count: 4, given: ["N_batches": 3]) }
    }

    /// DTrainingMinibatch's loss names `DTransformer(x_n | θ)` inside `Σ_t`: the call must run once per
    /// sequence of the batch (`Evaluator+CallMemo`), not once per position, and still once per sequence
    /// when the sequences differ in length (a memo keyed wrongly would reuse the first one's P); with
    /// the `sequence-batching` rule on, once for the whole batch (`SequenceRulesTests` checks its values).
    @Test("DTrainingMinibatch: one step runs DTransformer once per sequence of the batch (once per batch when batched), whatever ℓ",
          arguments: [false, true])
    func minibatchCallsTransformerOncePerSequence(batched: Bool) throws {
        let mb = try InterpreterFixtures.program("DTrainingMinibatch")
        for seqs in [[[1, 4, 2, 5, 3], [2, 5, 1, 3]], [[1, 4, 2, 5, 3, 6], [2, 5, 1]]] {
            let (inputs, n) = try dataset(mb, ["x": seqs])
            let dims = try RunSession.datasetDimensions(mb.target, count: n, given: Self.tiny)
            var o = RunOptions()
            o.profile = true
            o.disabledRules = batched ? [] : [.sequenceBatching]
            let run = try Pipeline.run(mb, RunSetup(dims: dims, reals: ["η": 0.1], inputs: inputs, parameters: nil, mask: nil, options: o))
            // The lines of DTransformer outside its layer loop run once per call.
            let calls = run.evaluator.profile.filter { $0.key.file.hasSuffix("/DTransformer.algo") }.values.map(\.calls).min()
            #expect(calls == (batched ? 1 : seqs.count), "DTransformer ran \(calls ?? 0) times for \(seqs.count) sequences")
        }
    }

    @Test("Adam and minibatch training lower the loss on a tiny dataset to below half")
    func variantsLossFalls() throws {
        var reals = RunSession.trainingReals(for: try InterpreterFixtures.program("DTrainingAdam").target)
        #expect(reals["β_1"] == 0.9 && reals["β_2"] == 0.999 && reals["ε"] == 1e-8 && reals["η"] == 0.01)
        for file in ["DTrainingAdam", "DTrainingMinibatch"] {
            let p = try InterpreterFixtures.program(file)
            reals = RunSession.trainingReals(for: p.target)
            reals["η"] = file == "DTrainingAdam" ? 0.02 : 0.1
            let (inputs, n) = try dataset(p, Self.data)
            var dims = try RunSession.datasetDimensions(p.target, count: n, given: Self.tiny.merging(["B": 1]) { $1 })
            dims["N_epochs"] = 30; dims["d_e"] = 8; dims["d_mlp"] = 16; dims["d_attn"] = 4; dims["d_mid"] = 4
            let r = try RunSession.train(p, dims: dims, reals: reals, inputs: inputs, parameters: nil, options: RunOptions())
            #expect(r.stepLosses.count == 90)
            #expect(r.lossAfter < 0.5 * r.lossBefore, "\(file) \(r.lossBefore) → \(r.lossAfter)")
        }
    }
}
