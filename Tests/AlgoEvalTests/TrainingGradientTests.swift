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

    // MARK: Section 8 variants: Adam (Algorithm 18) and minibatches (Algorithm 19)

    /// Random Float64 θ (𝒩(0, 0.5²), γ around 1) with the names and shapes of the model's θ.
    func randomθ(_ p: LoadedProgram, _ dims: [String: Int], _ reals: [String: Double], _ inputs: [String: Value]) throws -> [String: Tensor] {
        let (_, initial) = try loss(p, dims, reals, inputs, [:], seed: 0)
        var rng = RandomGenerator(seed: 7)
        var θ: [String: Tensor] = [:]
        for name in initial.keys.sorted() {
            let s = initial[name]!.shape
            θ[name] = Tensor(shape: s, values: (0..<Shape.count(s)).map { _ in (name.contains("γ") ? 1 : 0) + 0.5 * rng.normal() }, dtype: .f64)
        }
        return θ
    }

    /// θ̂ of one run (N_epochs = 1) from θ, Float64.
    func step(_ p: LoadedProgram, _ dims: [String: Int], _ reals: [String: Double], _ inputs: [String: Value], _ θ: [String: Tensor]) throws -> [String: Tensor] {
        var o = RunOptions()
        o.dtype = .f64
        let run = try RunSession.run(p, dims: dims, reals: reals, inputs: inputs, parameters: θ, mask: nil, options: o)
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
        let adam = try program("DTrainingAdam"), sgd = try program("DTraining")
        let seqs = [[1, 4, 2, 5, 3], [2, 5, 1, 3]]
        // β and ε far from their defaults so that bias correction and ε both show in the result.
        let β1 = 0.8, β2 = 0.9, ε = 0.1, η = 0.05
        var dims = Self.tiny
        dims["N_data"] = 2
        let (adamInputs, _) = try dataset(adam, ["x": seqs])
        let reals = ["η": η, "β_1": β1, "β_2": β2, "ε": ε]
        let θ0 = try randomθ(adam, dims, reals, adamInputs)
        let θ̂ = try step(adam, dims, reals, adamInputs, θ0)

        // The gradient of each step's loss, from DTraining (one SGD step with η = 1 on that one sequence).
        var one = Self.tiny
        one["N_data"] = 1
        func g(_ n: Int, _ θ: [String: Tensor]) throws -> [String: Tensor] {
            try gradient(sgd, one, ["η": 1], try dataset(sgd, ["x": [seqs[n]]]).inputs, θ, seed: 0)
        }
        // … and that gradient against central differences on a few coordinates of every tensor.
        let g1 = try g(0, θ0)
        let (single, _) = try dataset(sgd, ["x": [seqs[0]]])
        var rng = RandomGenerator(seed: 3)
        var fdWorst = 0.0
        for name in θ0.keys.sorted() {
            let t = θ0[name]!
            for _ in 0..<2 {
                let i = Int(rng.next() % UInt64(t.count))
                var vp = t.contiguous().doubles, vm = vp
                vp[i] += 1e-5; vm[i] -= 1e-5
                var plus = θ0, minus = θ0
                plus[name] = Tensor(shape: t.shape, values: vp, dtype: .f64); minus[name] = Tensor(shape: t.shape, values: vm, dtype: .f64)
                let fd = (try loss(sgd, one, ["η": 1], single, plus, seed: 0).0 - (try loss(sgd, one, ["η": 1], single, minus, seed: 0).0)) / 2e-5
                let an = g1[name]!.contiguous().doubles[i]
                fdWorst = max(fdWorst, abs(fd - an) / max(abs(fd), abs(an), 1e-3))
            }
        }
        #expect(fdWorst <= 1e-6, "∇loss against central differences: \(fdWorst)")

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
        let mb = try program("DTrainingMinibatch"), sgd = try program("DTraining")
        let seqs = [[1, 4, 2, 5, 3], [2, 5, 1, 3]]
        let η = 0.3
        let (inputs, n) = try dataset(mb, ["x": seqs])
        let dims = try RunSession.datasetDimensions(mb.target, count: n, given: Self.tiny)
        #expect(dims["B"] == 2 && dims["N_batches"] == 1)
        let θ0 = try randomθ(mb, dims, ["η": η], inputs)
        let θ̂ = try step(mb, dims, ["η": η], inputs, θ0)
        var one = Self.tiny
        one["N_data"] = 1
        let g = try seqs.map { try gradient(sgd, one, ["η": 1], try dataset(sgd, ["x": [$0]]).inputs, θ0, seed: 0) }
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

    @Test("Adam and minibatch training lower the loss on a tiny dataset to below half")
    func variantsLossFalls() throws {
        var reals = RunSession.trainingReals(for: try program("DTrainingAdam").target)
        #expect(reals["β_1"] == 0.9 && reals["β_2"] == 0.999 && reals["ε"] == 1e-8 && reals["η"] == 0.01)
        for file in ["DTrainingAdam", "DTrainingMinibatch"] {
            let p = try program(file)
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
