import Foundation
import Testing
import AlgoTensor
import AlgoDiagnostics
@testable import AlgoEval

/// Evaluation passes of the training algorithms (`evaluate(…)`, `--eval-every`, a training run's
/// loss before and after): the update line keeps θ (`Rules/EvaluationUpdate.swift`), and ETraining's
/// loop over the sequences runs its transformer on chunks of them side by side, its masks drawn
/// ahead from a copy of the generator (`Rules/SequenceBatching.swift`, `SequenceLoopBatchingRule`).
/// Each is checked against the same pass with the rule off.
@Suite("evaluation passes: θ kept by the update (SGD and Adam), ETraining's loop batched")
struct EvaluationPassTests {
    static let dims: [String: Int] = ["N_V": 11, "ℓ_max": 10, "L": 2, "H": 2, "d_e": 8, "d_mlp": 12, "d_attn": 4, "d_mid": 4, "d_f": 8]
    /// Lengths 7, 10, 3, 10, 2 (ℓ_max = 10), 32 columns together.
    static let sequences = [[3, 1, 4, 1, 5, 9, 2], [6, 5, 3, 5, 8, 9, 7, 9, 3, 2], [3, 8, 4], [6, 2, 6, 4, 3, 3, 8, 3, 2, 7], [9, 5]]

    /// Executions of the `ℓ ← length(x)` line of `transformer` in the profile: one per call.
    func calls(_ ev: Evaluator, _ transformer: String) throws -> Int {
        try InterpreterFixtures.executions(ev, ofLineContaining: "ℓ ← length(x)", in: InterpreterFixtures.algoPath(transformer))
    }

    /// One pass of the training algorithm in `p` over `sequences` (N_epochs = 1, seed 5, profiled).
    func pass(_ p: LoadedProgram, _ sequences: [[Int]] = Self.sequences, extra: [String: Int] = [:], reals: [String: Double] = [:],
              options: (inout RunOptions) -> Void) throws -> RunResult {
        try InterpreterFixtures.trainingRun(p, sequences, dims: Self.dims.merging(extra.merging(["N_epochs": 1]) { a, _ in a }) { _, b in b },
                                            reals: reals, options: options)
    }

    /// An evaluation pass's losses, or the code of the runtime error it stopped with.
    func outcome(_ p: LoadedProgram, reals: [String: Double], _ dtype: DType, _ disabled: Set<RuleID>) throws -> (losses: [Double], code: DiagnosticCode?) {
        do {
            let r = try pass(p, reals: reals) { o in o.dtype = dtype; o.applyGradients = false; o.disabledRules = disabled }
            return (r.evaluator.losses, nil)
        } catch let e as RuntimeError {
            return ([], e.diagnostic.code)
        }
    }

    func evaluation(_ name: String, dtype: DType, disabled: Set<RuleID>, chunk: Int = 2048) throws -> RunResult {
        try pass(try InterpreterFixtures.program(name)) { o in
            o.dtype = dtype; o.applyGradients = false; o.disabledRules = disabled; o.sequenceChunkColumns = chunk
        }
    }

    // MARK: The update of an evaluation pass

    /// θ − η · 0 = θ entry for entry (the rule's argument), so with the rule off θ̂ holds θ's
    /// numbers bit for bit, and with it on θ̂'s members are θ's tensors themselves (no copy); the
    /// losses, computed from the same θ by the same lines, are equal bit for bit.
    @Test("an evaluation pass keeps θ: θ̂ is θ's own tensors with the rule on, θ's bits with it off, the losses equal",
          arguments: ["DTraining", "ETraining", "DTrainingMinibatch"])
    func updateKeepsParameters(_ name: String) throws {
        let p = try InterpreterFixtures.program(name)
        #expect(p.target.plan.fired.contains { $0.rule == .evaluationUpdate })
        func run(_ disabled: Set<RuleID>) throws -> RunResult {
            try pass(p, extra: name == "DTrainingMinibatch" ? ["B": 5] : [:]) { o in o.applyGradients = false; o.disabledRules = disabled }
        }
        let on = try run([]), off = try run([.evaluationUpdate])
        #expect(!on.evaluator.losses.isEmpty && on.evaluator.losses == off.evaluator.losses)
        let θon = RunSession.flatten(on.value), θoff = RunSession.flatten(off.value)
        #expect(θon.count == on.parameters.count && θoff.count == θon.count)
        for (name, t) in θon {
            let initial = try #require(on.parameters[name]).value
            #expect(t.storage === initial.storage, "\(name) was copied")
        }
        for (name, t) in θoff {
            let initial = try #require(off.parameters[name]).value
            #expect(t.storage !== initial.storage)
            #expect(t.contiguous().doubles.map(\.bitPattern) == initial.contiguous().doubles.map(\.bitPattern), "\(name) changed")
        }
    }

    /// η = 10³⁹ is finite as a Double but ∞ in Float32, where η · 0 is NaN and θ − NaN is NaN: the
    /// guard sends the line as written, which fails on the next loss as with the rule off; in
    /// Float64 it is finite and θ is kept (with the rule off: θ − 0 = θ) and the losses agree.
    @Test("η that is ∞ in the run's dtype: the update runs as written (Float32 fails as with the rule off; Float64 keeps θ)")
    func infiniteRateRunsAsWritten() throws {
        let p = try InterpreterFixtures.program("DTraining")
        func run(_ dtype: DType, _ disabled: Set<RuleID>) throws -> (losses: [Double], code: DiagnosticCode?) {
            try outcome(p, reals: ["η": 1e39], dtype, disabled)
        }
        #expect(try run(.f32, []).code == .nonFinite)
        #expect(try run(.f32, [.evaluationUpdate]).code == .nonFinite)
        let a = try run(.f64, []), b = try run(.f64, [.evaluationUpdate])
        #expect(a.code == nil && b.code == nil)
        #expect(a.losses == b.losses && a.losses.count == Self.sequences.count)
    }

    // MARK: Adam's update of an evaluation pass

    /// With g = +0 and m = v = ±0 the six lines give +0 for g, m, v, m̂, v̂ and θ itself, entry for
    /// entry (`Rules/EvaluationAdam.swift`): with the rule on θ̂ is θ's own tensors and lines 11–15
    /// never run (their profile rows are absent), with it off θ̂ holds θ's bits; the losses, computed
    /// from the same θ by the same lines, are equal bit for bit.
    @Test("Adam's update in an evaluation pass keeps θ: θ̂ is θ's own tensors with the rule on, θ's bits with it off, the losses equal",
          arguments: [DType.f32, .f64])
    func adamKeepsParameters(_ dtype: DType) throws {
        let p = try InterpreterFixtures.program("DTrainingAdam")
        #expect(p.target.plan.fired.contains { $0.rule == .evaluationAdam })
        func run(_ disabled: Set<RuleID>) throws -> (r: RunResult, momentLines: Int) {
            let r = try pass(p) { o in o.dtype = dtype; o.applyGradients = false; o.disabledRules = disabled }
            return (r, try InterpreterFixtures.executions(r.evaluator, ofLineContaining: "m ← β_1 m + (1 − β_1) g",
                                                          in: InterpreterFixtures.algoPath("DTrainingAdam")))
        }
        let on = try run([]), off = try run([.evaluationAdam])
        #expect(on.momentLines == 0 && off.momentLines == Self.sequences.count, "m ← β_1 m + (1 − β_1) g: \(on.momentLines) and \(off.momentLines) runs")
        #expect(on.r.evaluator.losses.count == Self.sequences.count && on.r.evaluator.losses == off.r.evaluator.losses)
        #expect(on.r.evaluator.adamZeros == nil, "the θ-sized tree of zeros outlived its pass")
        for (name, t) in RunSession.flatten(on.r.value) {
            #expect(t.storage === (try #require(on.r.parameters[name])).value.storage, "\(name) was copied")
        }
        for (name, t) in RunSession.flatten(off.r.value) {
            let initial = try #require(off.r.parameters[name]).value
            #expect(t.contiguous().doubles.map(\.bitPattern) == initial.contiguous().doubles.map(\.bitPattern), "\(name) changed")
        }
    }

    /// ε = 10⁻⁵⁰ is 0 in Float32: √(+0) + 0 = +0 and m̂/(+0) = 0/0 is NaN, so θ is not kept: the guard
    /// sends the lines as written, and the pass fails on the next loss as with the rule off. In
    /// Float64 it is a positive number, θ is kept, and the losses equal those with the rule off.
    @Test("Adam's update with ε = 10⁻⁵⁰ (0 in Float32): the lines run as written and fail as with the rule off; Float64 keeps θ")
    func adamGuardRunsAsWritten() throws {
        let p = try InterpreterFixtures.program("DTrainingAdam")
        func run(_ dtype: DType, _ disabled: Set<RuleID>) throws -> (losses: [Double], code: DiagnosticCode?) {
            try outcome(p, reals: ["ε": 1e-50], dtype, disabled)
        }
        #expect(try run(.f32, []).code == .nonFinite)
        #expect(try run(.f32, [.evaluationAdam]).code == .nonFinite)
        let a = try run(.f64, []), b = try run(.f64, [.evaluationAdam])
        #expect(a.code == nil && b.code == nil && a.losses == b.losses && a.losses.count == Self.sequences.count)
    }

    // MARK: ETraining's loop over the sequences

    /// The masks drawn ahead are the masks each iteration draws: the masked positions (`predictedTokens`,
    /// the size of each T̃) are the same numbers in the same order as sequence by sequence, and each
    /// loss agrees to rounding. Float64: each column is the same dot products in a wider product and
    /// the attention the same products per sequence (block-diagonal), so ≤ 1e-12 relative; a masked
    /// position drawn differently changes a loss by far more (a whole term of −log P ≈ 2.4). Float32:
    /// ≈ 1e-7 per operation through 2 layers, ≤ 1e-5 relative.
    ///
    /// With seed 5 the sequences (lengths 7, 10, 3, 10, 2) get 1, 2, 0, 3, 1 masked positions: the
    /// third calls nothing (its Σ over T̃ is empty), so 4 calls as written. Chunks of 12 columns:
    /// {1, 2} at iteration 1, then {4, 5} at iteration 4, drawn ahead after the real generator passed
    /// iteration 3's draws (2 calls). Chunks of 21: {1, 2, 3, 4} (the third's slice unused), then
    /// {5} alone, which runs as written (2 calls). 2,048: one call.
    @Test("ETraining's evaluation pass: the masks drawn ahead are the ones drawn in the loop, the losses as sequence by sequence (chunk boundaries, unequal lengths)",
          arguments: [DType.f64, .f32])
    func maskedLoopEqualsPerSequence(_ dtype: DType) throws {
        let off = try evaluation("ETraining", dtype: dtype, disabled: [.sequenceBatching])
        #expect(off.evaluator.predictedTokens == [1, 2, 0, 3, 1])
        #expect(try calls(off.evaluator, "ETransformer") == 4)
        let bound = dtype == .f64 ? 1e-12 : 1e-5
        for (chunk, expected) in [(12, 2), (21, 2), (2048, 1)] {
            let on = try evaluation("ETraining", dtype: dtype, disabled: [], chunk: chunk)
            let callsOn = try calls(on.evaluator, "ETransformer")
            #expect(callsOn == expected, "chunk \(chunk): \(callsOn) calls")
            #expect(on.evaluator.predictedTokens == off.evaluator.predictedTokens, "chunk \(chunk)")
            #expect(on.evaluator.losses.count == Self.sequences.count && off.evaluator.losses.count == on.evaluator.losses.count)
            let worst = zip(on.evaluator.losses, off.evaluator.losses).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? .infinity
            #expect(worst <= bound, "chunk \(chunk): max relative difference \(worst)")
        }
    }

    /// The prelude drawn ahead is not drawn again: an iteration whose masks the chunk drew ahead
    /// takes the prelude's values (ℓ, t, x̃_n, T̃) and the generator's state after them, so ETraining's
    /// line 3 runs only where a chunk starts or no chunk drew ahead (chunks of 12: iterations 1, 3
    /// (no call: its T̃ is empty, so it draws as written) and 4; of 21: 1 and 5; of 2,048: 1), and the
    /// random stream is the one drawn sequence by sequence: the same masks, and the generator ends
    /// in the same state, word for word, as with the rule off.
    @Test("ETraining's prelude drawn ahead runs once per iteration: its values taken, the generator's state after the loop as sequence by sequence")
    func preludeRunsOnce() throws {
        let off = try evaluation("ETraining", dtype: .f64, disabled: [.sequenceBatching])
        func preludes(_ r: RunResult) throws -> Int {
            try InterpreterFixtures.executions(r.evaluator, ofLineContaining: "ℓ ← length(x_n)", in: InterpreterFixtures.algoPath("ETraining"))
        }
        #expect(try preludes(off) == 5)
        for (chunk, expected) in [(12, 3), (21, 2), (2048, 1)] {
            let on = try evaluation("ETraining", dtype: .f64, disabled: [], chunk: chunk)
            let runs = try preludes(on)
            #expect(runs == expected, "chunk \(chunk): \(runs) preludes run")
            #expect(on.evaluator.predictedTokens == off.evaluator.predictedTokens, "chunk \(chunk)")
            #expect(on.evaluator.rng.state == off.evaluator.rng.state, "chunk \(chunk)")
        }
    }

    /// Runs of equal lengths (4, 4, 4, then 3, 3, then 5, 16 + 6 + 5 = 27 columns in one chunk):
    /// each run's attention is one batched product over [d, n, sequences × heads]; the losses as
    /// sequence by sequence to the bounds above (Float64 ≤ 1e-12 relative), the same masks.
    @Test("ETraining's evaluation pass over runs of equal lengths: attention batched per run, the losses as sequence by sequence")
    func equalLengthRuns() throws {
        let sequences = [[3, 1, 4, 1], [5, 9, 2, 6], [5, 3, 5, 8], [9, 7, 9], [3, 2, 3], [8, 4, 6, 2, 6]]
        let p = try InterpreterFixtures.program("ETraining")
        func run(_ disabled: Set<RuleID>) throws -> RunResult {
            try pass(p, sequences) { o in o.dtype = .f64; o.applyGradients = false; o.disabledRules = disabled; o.seed = 2 }
        }
        let on = try run([]), off = try run([.sequenceBatching])
        #expect(try calls(on.evaluator, "ETransformer") == 1)
        #expect(on.evaluator.predictedTokens == off.evaluator.predictedTokens)
        #expect(on.evaluator.predictedTokens.filter { $0 > 0 }.count >= 4, "masked \(on.evaluator.predictedTokens)")
        let worst = zip(on.evaluator.losses, off.evaluator.losses).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? .infinity
        #expect(on.evaluator.losses.count == sequences.count && worst <= 1e-12, "max relative difference \(worst)")
    }

    /// DTraining's loop with a chunk boundary: the same bounds as above (causal attention per sequence).
    @Test("DTraining's evaluation pass over two chunks and a lone sequence: the losses as sequence by sequence")
    func chunkBoundary() throws {
        let off = try evaluation("DTraining", dtype: .f64, disabled: [.sequenceBatching])
        let on = try evaluation("DTraining", dtype: .f64, disabled: [], chunk: 12)
        #expect(try calls(on.evaluator, "DTransformer") == 3 && calls(off.evaluator, "DTransformer") == 5)
        let worst = zip(on.evaluator.losses, off.evaluator.losses).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? .infinity
        #expect(on.evaluator.losses.count == 5 && worst <= 1e-12, "max relative difference \(worst)")
    }

    /// ETraining with one change each: a draw after the call (line 11), so iteration n + 1's masks
    /// are not the next draws after iteration n's prelude; or a prelude that reads a name assigned
    /// after the call (q, line 11), so a later iteration's x̃ is not known ahead. The rule must
    /// not match either loop; the passes run sequence by sequence.
    static func variant(_ line11: String, probability: String, _ number: Int) -> String {
        """
        Algorithm \(number): θ̂ ← ETrainingVariant\(number)(x_{1:N_data}, θ)
        Input:  {x_n}_{n=1}^{N_data}, a dataset of sequences.
        Input:  θ, initial encoder-only transformer parameters.
        Output: θ̂, the trained parameters.
        Hyperparameters: N_epochs ∈ ℕ, η ∈ (0, ∞), p_mask ∈ (0, 1)
         1 q ← p_mask
         2 for i = 1, 2, . . . , N_epochs do
         3     for n = 1, 2, . . . , N_data do
         4         ℓ ← length(x_n)
         5         for t = 1, 2, . . . , ℓ do
         6             x̃_n[t] ← mask_token or x_n[t] randomly with probability \(probability) or 1 − \(probability)
         7         end
         8         T̃ ← {t ∈ [ℓ] : x̃_n[t] = mask_token}
         9         P(θ) ← ETransformer(x̃_n | θ)
        10         loss(θ) = −Σ_{t∈T̃} log P(θ)[x_n[t], t]
        11         θ ← θ − η · ∇loss(θ)
        12         \(line11)
        13     end
        14 end
        15 return θ̂ = θ

        """
    }

    @Test("the loop rule does not match ETraining with a draw after the call, or with a prelude reading what the rest assigns",
          arguments: [(Self.variant("x̃_n[1] ← mask_token or x_n[1] randomly with probability p_mask or 1 − p_mask", probability: "p_mask", 91), "draw after"),
                      (Self.variant("q ← p_mask", probability: "q", 92), "prelude reads q")])
    func loopRuleDoesNotMatch(_ source: String, _ what: String) throws {
        let number = source.contains("Variant91") ? 91 : 92
        let file = SourceFile(path: InterpreterFixtures.repository + "/Algorithms/ETrainingVariant\(number).algo", text: source)
        let p: LoadedProgram
        switch Pipeline.load(file) {
        case .success(let l): p = l
        case .failure(let f): throw f
        }
        #expect(!p.target.plan.fired.contains { $0.rule == .sequenceBatching }, "\(what)")
        #expect(p.target.plan.fired.contains { $0.rule == .evaluationUpdate })
        let r = try pass(p) { o in o.applyGradients = false }
        #expect(try calls(r.evaluator, "ETransformer") == r.evaluator.predictedTokens.filter { $0 > 0 }.count, "\(what)")
        #expect(r.evaluator.losses.count == Self.sequences.count)
    }

    /// ETraining over an ETransformer whose attention mask is `[[t ≥ t′]]` (each position attends
    /// to itself and the later ones): the proof accepts the loop (the mask is checked at run time),
    /// but the mask is neither causal nor `Mask ≡ 1`, so the batched call's guard fails inside the
    /// callee (`SequenceFallback`), the chunk stops, and every iteration runs as written: one
    /// ETransformer call begun and abandoned, then one per sequence with a masked position, and the
    /// same losses bit for bit as with the rule off.
    @Test("a mask neither causal nor ≡ 1: the batched call falls back and every sequence runs as written")
    func otherMaskRunsAsWritten() throws {
        let (p, dir) = try InterpreterFixtures.editedCopy(["Attention", "MHAttention", "LayerNorm", "ETraining", "ETransformer"],
                                                         editing: "ETransformer", replacing: "MHAttention(X | 𝓦_l, Mask ≡ 1)",
                                                         with: "MHAttention(X | 𝓦_l, Mask[t, t′] = [[t ≥ t′]])", load: "ETraining")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(p.target.plan.fired.contains { $0.rule == .sequenceBatching })
        func run(_ disabled: Set<RuleID>) throws -> (losses: [Double], calls: Int) {
            let r = try pass(p) { o in o.dtype = .f64; o.applyGradients = false; o.disabledRules = disabled }
            return (r.evaluator.losses, try calls(r.evaluator, "ETransformer"))
        }
        let on = try run([]), off = try run([.sequenceBatching])
        #expect(off.calls == 4 && on.calls == off.calls + 1, "\(on.calls) calls with the rule on, \(off.calls) off")
        #expect(on.losses == off.losses && on.losses.count == Self.sequences.count)
    }
}
