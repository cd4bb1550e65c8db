import Foundation
import Testing
import AlgoTensor
import AlgoDiagnostics
@testable import AlgoEval

/// The two rules over sequences (`Rules/SequenceBatching.swift`, `Rules/PrefixReuse.swift`):
/// DTrainingMinibatch's Σ over the sequences of a batch runs the transformer once on their columns
/// side by side, and DInference's calls on a growing x compute only the new columns (a KV cache).
/// Both are checked against the lines as written (the rule off) and, for decoding, against one
/// whole forward pass on the final sequence.
@Suite("sequence rules: a minibatch as one call, decoding that reuses the prefix")
struct SequenceRulesTests {
    static let dims: [String: Int] = ["N_V": 11, "ℓ_max": 10, "L": 2, "H": 2, "d_e": 8, "d_mlp": 12, "d_attn": 4, "d_mid": 4]

    /// The profile's number of executions of DTransformer's line 1 (`ℓ ← length(x)`): one per call.
    func transformerCalls(_ ev: Evaluator) throws -> Int {
        try InterpreterFixtures.executions(ev, ofLineContaining: "ℓ ← length(x)", in: InterpreterFixtures.algoPath("DTransformer"))
    }

    /// A training algorithm `name` run on `sequences` with the small dims and `extra`, seed 5, profiled.
    func runOnDataset(_ name: String, _ sequences: [[Int]], extra: [String: Int], options: (inout RunOptions) -> Void) throws -> RunResult {
        try InterpreterFixtures.trainingRun(try InterpreterFixtures.program(name), sequences, dims: Self.dims.merging(extra) { _, b in b }, options: options)
    }

    /// Every ∇loss(θ) and θ̂ of DTrainingMinibatch, and the transformer calls it made.
    func minibatch(_ sequences: [[Int]], B: Int, dtype: DType, disabled: Set<RuleID>) throws -> ([Double], Int) {
        let r = try runOnDataset("DTrainingMinibatch", sequences, extra: ["B": B, "N_epochs": 2]) { o in
            o.dtype = dtype; o.recordGradients = true; o.disabledRules = disabled
        }
        let values = (r.evaluator.gradients + [r.value]).flatMap { RunSession.flatten($0).flatMap { $0.tensor.contiguous().doubles } }
        return (values, try transformerCalls(r.evaluator))
    }

    /// Float64: both sides compute every entry by the same reference loops, the batched products
    /// only wider, so they agree to rounding of the summation order (≤ 1e-12 of the largest entry;
    /// a sequence read at another's positions, or attention across sequences, is off by 1e-2 and more).
    @Test("DTrainingMinibatch: every ∇loss(θ) and θ̂ with the batch as one call equal the per-sequence calls (Float64, unequal lengths, Σ lengths > ℓ_max)")
    func minibatchEqualsPerSequence() throws {
        // Lengths 7, 10, 3, 10 (ℓ_max = 10): together 30 columns, so W_p[:, t] must read positions, not columns.
        let sequences = [[3, 1, 4, 1, 5, 9, 2], [6, 5, 3, 5, 8, 9, 7, 9, 3, 2], [3, 8, 4], [6, 2, 6, 4, 3, 3, 8, 3, 2, 7],
                         [9, 5, 2, 8], [8, 4, 1, 9, 7, 1], [6, 9, 3, 9, 9], [3, 7, 5, 1, 1, 5, 8, 2]]
        let (on, callsOn) = try minibatch(sequences, B: 4, dtype: .f64, disabled: [])
        let (off, callsOff) = try minibatch(sequences, B: 4, dtype: .f64, disabled: [.sequenceBatching])
        #expect(on.count == off.count && !on.isEmpty)
        let scale = max(1, off.map(abs).max() ?? 0)
        let worst = zip(on, off).map { abs($0 - $1) }.max() ?? .infinity
        #expect(worst <= 1e-12 * scale, "max difference \(worst) (scale \(scale))")
        // 2 epochs × 2 batches: one call per batch, against one per sequence.
        #expect(callsOn == 4, "\(callsOn) transformer calls with the rule on")
        #expect(callsOff == 16, "\(callsOff) transformer calls with the rule off")
    }

    /// The loss `−Σ_n Σ_t log DTransformer(x_n | θ)[x_n[t+1], t]/B` of a batch run as one call is
    /// one pick of every sequence's entries (`Evaluator.pickedTermsSum`), not a picked sum per
    /// sequence: a step issues as many tensor operations for B = 4 as for B = 2, and its values
    /// equal the per-sequence picked sums (`picked-sum` off: each term as written, over the same
    /// batched call) to rounding of the summation order (Float64, 1e-12 of the largest entry).
    @Test("a batch's loss terms are one pick: operations per step do not grow with B, values equal the terms as written")
    func minibatchLossIsOnePick() throws {
        let sequences = [[3, 1, 4, 1, 5, 9, 2], [6, 5, 3, 5, 8, 9, 7, 9, 3, 2], [3, 8, 4], [6, 2, 6, 4, 3, 3, 8, 3, 2, 7],
                         [9, 5, 2, 8], [8, 4, 1, 9, 7, 1], [6, 9, 3, 9, 9], [3, 7, 5, 1, 1, 5, 8, 2]]
        // Sequences of one length: the causal mask is checked once per distinct length in a batch (a few operations each).
        let equal = sequences.map { Array(($0 + $0).prefix(6)) }
        func opsPerStep(_ B: Int) throws -> Int {
            let r = try runOnDataset("DTrainingMinibatch", equal, extra: ["B": B, "N_epochs": 1]) { _ in }
            return r.evaluator.ops / r.evaluator.losses.count
        }
        let (two, four) = (try opsPerStep(2), try opsPerStep(4))
        #expect(two == four, "\(two) operations per step for B = 2, \(four) for B = 4")
        let (on, _) = try minibatch(sequences, B: 4, dtype: .f64, disabled: [])
        let (off, _) = try minibatch(sequences, B: 4, dtype: .f64, disabled: [.pickedSum])
        #expect(on.count == off.count && !on.isEmpty)
        let scale = max(1, off.map(abs).max() ?? 0)
        let worst = zip(on, off).map { abs($0 - $1) }.max() ?? .infinity
        #expect(worst <= 1e-12 * scale, "max difference \(worst) (scale \(scale))")
    }

    /// The rule off or causal attention off (whose kernel keeps the attention within each
    /// sequence): the Σ runs as written, one call per sequence.
    @Test("with causal-attention off the minibatch runs sequence by sequence", arguments: [RuleID.causalAttention, .sequenceBatching])
    func needsCausalAttention(_ rule: RuleID) throws {
        let (_, calls) = try minibatch([[3, 1, 4], [1, 5, 9, 2]], B: 2, dtype: .f32, disabled: [rule])
        #expect(calls == 4)
    }

    /// A minibatch loss over ETransformer (Algorithm 9): the proof accepts it (its attention has
    /// Algorithm 4's form), and its mask is `Mask ≡ 1`, which removes nothing: the batched call keeps
    /// each sequence's attention within its own columns, full (block-diagonal), not causal.
    static let bidirectional = """
    Algorithm 93: θ̂ ← BidirectionalMinibatch(x_{1:N_data}, θ)
    Input:  {x_n}_{n=1}^{N_data}, a dataset of sequences.
    Input:  θ, initial encoder-only transformer parameters.
    Output: θ̂, the trained parameters.
    Hyperparameters: N_epochs ∈ ℕ, η ∈ (0, ∞)
    1 for i = 1, 2, . . . , N_epochs do
    2     loss(θ) = −Σ_{n=1}^{N_data} Σ_{t=1}^{length(x_n)} log ETransformer(x_n | θ)[x_n[t], t]
    3     θ ← θ − η · ∇loss(θ)
    4 end
    5 return θ̂ = θ

    """

    /// Lengths 4, 4, 5: the first two sequences' attention is one batched product (their columns
    /// viewed as [d, 4, 2 × H]), the third's its own. Float64, as for DTrainingMinibatch: the
    /// projections are the same dot products in wider products and each sequence's attention the
    /// same products as alone, so every ∇loss(θ) and θ̂
    /// agree to ≤ 1e-12 of the largest entry; attention across sequences would be off by 1e-2 and more.
    @Test("a minibatch over ETransformer (Mask ≡ 1): one call, attention block-diagonal, every gradient as sequence by sequence")
    func bidirectionalMinibatchIsBlockDiagonal() throws {
        let source = SourceFile(path: InterpreterFixtures.repository + "/Algorithms/BidirectionalMinibatch.algo", text: Self.bidirectional)
        let p: LoadedProgram
        switch Pipeline.load(source) {
        case .success(let l): p = l
        case .failure(let f): throw f
        }
        #expect(p.target.plan.fired.contains { $0.rule == .sequenceBatching })
        func run(_ disabled: Set<RuleID>) throws -> ([Double], Int) {
            var o = RunOptions()
            o.dtype = .f64
            o.seed = 5
            o.recordGradients = true
            o.profile = true
            o.disabledRules = disabled
            let name = try #require(RunSession.datasetInputs(p.target).first).name
            let (inputs, n) = try RunSession.dataset([name: [1: [3, 1, 4, 1], 2: [5, 9, 2, 6], 3: [6, 5, 3, 5, 8]]], p.target)
            var given = Self.dims
            given["N_epochs"] = 1; given["d_f"] = 8
            let dims = try RunSession.datasetDimensions(p.target, count: n, given: given)
            let r = try Pipeline.run(p, RunSetup(dims: dims, reals: RunSession.trainingReals(for: p.target), inputs: inputs, parameters: nil, mask: nil, options: o))
            let calls = try InterpreterFixtures.executions(r.evaluator, ofLineContaining: "ℓ ← length(x)", in: InterpreterFixtures.algoPath("ETransformer"))
            return ((r.evaluator.gradients + [r.value]).flatMap { RunSession.flatten($0).flatMap { $0.tensor.contiguous().doubles } }, calls)
        }
        let (on, callsOn) = try run([]), (off, callsOff) = try run([.sequenceBatching])
        #expect(callsOff == 3)
        #expect(callsOn == 1, "\(callsOn) ETransformer calls with the rule on")
        #expect(on.count == off.count && !on.isEmpty)
        let scale = max(1, off.map(abs).max() ?? 0)
        let worst = zip(on, off).map { abs($0 - $1) }.max() ?? .infinity
        #expect(worst <= 1e-12 * scale, "max difference \(worst) (scale \(scale))")
    }

    /// DInference with the small dims; the cached P of the call site and the tokens.
    func decode(_ dtype: DType, disabled: Set<RuleID>, ℓgen: Int) throws -> (tokens: [Int], prompt: [Int], cache: PrefixCache?, θ: [String: Variable]) {
        let p = try InterpreterFixtures.program("DInference")
        var o = RunOptions()
        o.dtype = dtype
        o.seed = 9
        o.disabledRules = disabled
        var dims = Self.dims
        dims["ℓ_gen"] = ℓgen
        dims["ℓ_max"] = 16
        let prompt = [3, 1, 4, 1, 5]
        let r = try Pipeline.run(p, RunSetup(dims: dims, reals: ["τ": 1], inputs: ["x": .tokens(prompt)], parameters: nil, mask: nil, options: o))
        guard case .tokens(let y) = r.value else { Issue.record("DInference gave \(r.value.kindName)"); return ([], prompt, nil, [:]) }
        return (y, prompt, r.evaluator.prefixCaches.values.first, r.parameters)
    }

    /// The P a decoding cache built column by column against one pass of `transformer` on the same
    /// inputs and θ: Float64 ≤ 1e-12, Float32 ≤ 2e-5 of the largest entry (the reasons beside each test).
    func expectWholePass(_ cached: PrefixCache, _ transformer: String, dims: [String: Int], inputs: [String: Value],
                         θ: [String: Variable], _ dtype: DType) throws {
        var o = RunOptions()
        o.dtype = dtype
        let t = try InterpreterFixtures.program(transformer)
        let whole = try Pipeline.run(t, RunSetup(dims: dims, reals: [:], inputs: inputs, parameters: θ.mapValues(\.value), mask: nil, options: o))
        guard case .tensor(let P) = whole.value else { Issue.record("\(transformer) gave \(whole.value.kindName)"); return }
        #expect(P.shape == cached.output.shape)
        let a = cached.output.value.contiguous().doubles, b = P.value.contiguous().doubles
        let worst = zip(a, b).map { abs($0 - $1) }.max() ?? .infinity
        let bound = (dtype == .f64 ? 1e-12 : 2e-5) * (b.map(abs).max() ?? 1)
        #expect(worst <= bound, "max |ΔP| = \(worst), bound \(bound)")
    }

    /// The P the cache built column by column against one DTransformer pass on the same tokens and θ.
    /// Float64: the new column's scores are one product K_fullᵀq where the whole pass takes the
    /// same entries from the causal kernel, so each entry is the same sum in another order:
    /// ≤ 1e-12 relative. Float32: the same, ≈ 1e-7 relative per operation through 2 layers,
    /// softmax and layer norm (≈ 30 operations): ≤ 2e-5 of the largest entry (0.1–0.3 here).
    @Test("DInference with the prefix reused: P equals one whole forward pass on the same tokens", arguments: [DType.f64, .f32])
    func decodingEqualsRecomputation(_ dtype: DType) throws {
        let ℓgen = 11   // the prompt (5) + 11 = 16 = ℓ_max positions
        let (y, prompt, cache, θ) = try decode(dtype, disabled: [], ℓgen: ℓgen)
        let cached = try #require(cache)
        #expect(cached.extensions == ℓgen - 1, "\(cached.extensions) calls reused their prefix")
        let x = prompt + y.dropLast()
        #expect(cached.tokens == x)
        var dims = Self.dims
        dims["ℓ_max"] = 16
        try expectWholePass(cached, "DTransformer", dims: dims, inputs: ["x": .tokens(x)], θ: θ, dtype)
        // The same tokens with the rule off (each call on the whole prefix).
        let (yOff, _, cacheOff, _) = try decode(dtype, disabled: [.prefixReuse], ℓgen: ℓgen)
        #expect(yOff == y)
        #expect(cacheOff == nil)
    }

    /// An evaluation pass of a training algorithm (`evaluate(…)`, the loss before and after of a
    /// training run, `--eval-every`): every loss(θ), and the transformer calls it made.
    func evaluationPass(_ name: String, _ sequences: [[Int]], dtype: DType, disabled: Set<RuleID>, apply: Bool = false) throws -> ([Double], Int) {
        let r = try runOnDataset(name, sequences, extra: ["N_epochs": 1]) { o in
            o.dtype = dtype; o.applyGradients = apply; o.disabledRules = disabled
        }
        return (r.evaluator.losses + r.evaluator.tokenLosses, try transformerCalls(r.evaluator))
    }

    /// Float64, as for the minibatch: each column is the same dot products in a wider product, so
    /// the losses agree to rounding (≤ 1e-12 relative); a sequence read at another's positions or
    /// attending across sequences is off by 1e-2 and more.
    @Test("an evaluation pass of DTraining and DTrainingAdam: the loop's sequences run as one call, every loss as sequence by sequence",
          arguments: ["DTraining", "DTrainingAdam"])
    func evaluationLoopEqualsPerSequence(_ name: String) throws {
        let sequences = [[3, 1, 4, 1, 5, 9, 2], [6, 5, 3, 5, 8, 9, 7, 9, 3, 2], [3, 8, 4], [6, 2, 6, 4, 3, 3, 8, 3, 2, 7], [9, 5]]
        let (on, callsOn) = try evaluationPass(name, sequences, dtype: .f64, disabled: [])
        let (off, callsOff) = try evaluationPass(name, sequences, dtype: .f64, disabled: [.sequenceBatching])
        #expect(on.count == 2 * sequences.count && off.count == on.count)
        let worst = zip(on, off).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? .infinity
        #expect(worst <= 1e-12, "max relative difference \(worst)")
        #expect(callsOn == 1, "\(callsOn) transformer calls with the rule on (one chunk of 5 sequences)")
        #expect(callsOff == sequences.count)
        // Float32: the same to float rounding (≈ 1e-7 per operation through 2 layers: ≤ 1e-5 relative).
        let (on32, _) = try evaluationPass(name, sequences, dtype: .f32, disabled: [])
        let (off32, _) = try evaluationPass(name, sequences, dtype: .f32, disabled: [.sequenceBatching])
        let worst32 = zip(on32, off32).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? .infinity
        #expect(worst32 <= 1e-5, "Float32: max relative difference \(worst32)")
    }

    /// A training pass updates θ every iteration: the loop is not batched (one call per sequence),
    /// and an evaluation pass with causal attention off runs as written.
    @Test("a training pass, or causal-attention off, runs the loop sequence by sequence")
    func trainingLoopRunsAsWritten() throws {
        let sequences = [[3, 1, 4], [1, 5, 9, 2], [6, 5, 3]]
        #expect(try evaluationPass("DTraining", sequences, dtype: .f32, disabled: [], apply: true).1 == 3)
        #expect(try evaluationPass("DTraining", sequences, dtype: .f32, disabled: [.causalAttention]).1 == 3)
    }

    static let edDims: [String: Int] = ["N_V": 11, "ℓ_max": 16, "L_enc": 2, "L_dec": 2, "H": 2, "d_e": 8, "d_mlp": 12, "d_attn": 4, "d_mid": 4]

    /// EDInference on z with the small dims: its tokens, the cache of its call site, θ, and the
    /// operations Attention's line 2 (`K ← W_k Z + b_k 𝟏ᵀ`) issued (the same number each time it is
    /// computed, once per MHAttention call with the heads batched; none when its value is taken from the cache).
    func edDecode(_ dtype: DType, disabled: Set<RuleID>, z: [Int]) throws -> (tokens: [Int], cache: PrefixCache?, θ: [String: Variable], keyLines: Int) {
        let p = try InterpreterFixtures.program("EDInference")
        var o = RunOptions()
        o.dtype = dtype
        o.seed = 5   // 9 steps at most; this seed draws eos_token late enough for several calls
        o.maxSteps = 9
        o.profile = true
        o.disabledRules = disabled
        let r = try Pipeline.run(p, RunSetup(dims: Self.edDims, reals: ["τ": 1], inputs: ["z": .tokens(z)], parameters: nil, mask: nil, options: o))
        guard case .tokens(let x) = r.value else { Issue.record("EDInference gave \(r.value.kindName)"); return ([], nil, [:], 0) }
        let text = try String(contentsOfFile: InterpreterFixtures.repository + "/Algorithms/Attention.algo", encoding: .utf8)
        let line = try #require(text.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.hasPrefix("2 K ←") }) + 1
        let keyLines = r.evaluator.profile.filter { $0.key.file.hasSuffix("/Attention.algo") && $0.key.line == line }.map(\.value.operations).reduce(0, +)
        return (x, r.evaluator.prefixCaches.values.first, r.parameters, keyLines)
    }

    /// The encoder-decoder's decoding: the encoder's Z and the cross-attention's K and V are computed
    /// by the first call only, each decoder self-attention keeps its K and V; the P the cache built
    /// column by column equals one EDTransformer pass on the same z, x̂ and θ. Bounds as for
    /// DInference (each entry the same sums in another order): Float64 ≤ 1e-12, Float32 ≤ 2e-5 of
    /// the largest entry (2 + 2 layers, softmax and layer norm).
    @Test("EDInference with the prefix reused: the encoder once, P equals one whole EDTransformer pass", arguments: [DType.f64, .f32])
    func edDecodingEqualsRecomputation(_ dtype: DType) throws {
        let z = [3, 1, 4, 1, 5, 9]
        let (x, cache, θ, keyLines) = try edDecode(dtype, disabled: [], z: z)
        let cached = try #require(cache)
        let calls = x.count - 1   // x̂ starts with bos_token; each call adds one token
        #expect(calls >= 3, "\(calls) calls")
        #expect(cached.extensions == calls - 1, "\(cached.extensions) of \(calls) calls reused their prefix")
        #expect(cached.tokens == Array(x.dropLast()))
        try expectWholePass(cached, "EDTransformer", dims: Self.edDims, inputs: ["z": .tokens(z), "x": .tokens(cached.tokens)], θ: θ, dtype)
        // The rule off: the same tokens, every call on the whole prefix, the encoder every time.
        let (xOff, cacheOff, _, keyLinesOff) = try edDecode(dtype, disabled: [.prefixReuse], z: z)
        #expect(xOff == x)
        #expect(cacheOff == nil)
        // L_enc + 2 L_dec = 6 attentions compute K on every call as written; with the cache, 6 on the
        // first call, then only the L_dec = 2 self-attentions (the encoder and the cross-attention's K over Z are kept).
        #expect(keyLinesOff > 0 && keyLines * 6 * calls == keyLinesOff * (6 + 2 * (calls - 1)), "K line operations \(keyLines) against \(keyLinesOff) in \(calls) calls")
    }
}
