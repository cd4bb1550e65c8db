import Foundation
import Testing
import AlgoTensor
import AlgoDiagnostics
@testable import AlgoEval

/// EDTraining's evaluation pass (Algorithm 11 under `evaluate(…)`, a training run's loss before
/// and after): its loop over the pairs (z_n, x_n) runs EDTransformer on a chunk of pairs side by
/// side, two column layouts (the z's for the encoder, the x's for the decoder), the encoder's
/// `Mask ≡ 1` attention within each z_n, the decoder's causal attention within each x_n, and the
/// cross-attention from x_n's columns to z_n's only (`SequenceColumnsProof.call`'s layouts,
/// `Evaluator.crossAttention`). Each pass is checked against the same pass with the rule off.
@Suite("EDTraining's evaluation loop batched: two layouts, cross-attention block-diagonal")
struct EDTrainingEvaluationTests {
    static let dims: [String: Int] = ["N_V": 11, "ℓ_max": 10, "L_enc": 2, "L_dec": 2, "H": 2, "d_e": 8, "d_mlp": 12, "d_attn": 4,
                                      "d_mid": 4, "N_epochs": 1]
    /// Pairs of lengths (5, 6), (3, 4), (7, 2), (3, 4), (2, 8): 44 columns of z and x together,
    /// no two consecutive pairs of equal lengths; pairs 2 and 4 have the same lengths.
    static let sources = [[3, 1, 4, 1, 5], [9, 2, 6], [5, 3, 5, 8, 9, 7, 9], [3, 2, 3], [8, 4]]
    static let targets = [[2, 6, 4, 3, 3, 8], [3, 2, 7, 9], [5, 1], [4, 6, 8, 2], [6, 4, 3, 3, 8, 3, 2, 7]]

    /// Executions of EDTransformer's line 1 (`ℓ_z ← length(z)`): one per call.
    func calls(_ ev: Evaluator) throws -> Int {
        try InterpreterFixtures.executions(ev, ofLineContaining: "ℓ_z ← length(z)", in: InterpreterFixtures.algoPath("EDTransformer"))
    }

    func evaluation(_ z: [[Int]] = Self.sources, _ x: [[Int]] = Self.targets, dtype: DType, disabled: Set<RuleID>,
                    chunk: Int = 2048) throws -> RunResult {
        try InterpreterFixtures.trainingRun(try InterpreterFixtures.program("EDTraining"), z, pairedWith: x, dims: Self.dims) { o in
            o.dtype = dtype; o.applyGradients = false; o.disabledRules = disabled; o.sequenceChunkColumns = chunk
        }
    }

    /// The largest difference of two passes' per-pair losses, relative to max(1, |loss|).
    func worst(_ a: RunResult, _ b: RunResult) -> Double {
        guard a.evaluator.losses.count == b.evaluator.losses.count else { return .infinity }
        return zip(a.evaluator.losses, b.evaluator.losses).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? .infinity
    }

    /// Float64: each column is the same dot products in a wider product (the encoder's and the
    /// decoder's columns side by side), and every attention the same products per pair (each
    /// block of the block-diagonal computed on its own): ≤ 1e-12 relative, rounding only (the
    /// GEMM's blocking may group the sums differently). A cross-attention over all of the chunk's
    /// z columns instead of z_n's changes the losses by 4·10⁻⁶–2.6·10⁻⁵ relative at this
    /// initialisation (measured by breaking `crossAttention` so; attention is nearly uniform at
    /// 𝒩(0, 0.02²)), seven orders above the Float64 bound; positions read in the wrong layout make
    /// every batched call fall back (the call counts fail). Float32: ≈ 1e-7 per operation through
    /// 2 + 2 layers, ≤ 1e-5 relative.
    ///
    /// Chunks of 12 columns (z's and x's together): {1, 2} (18), {3, 4} (16), then pair 5 alone,
    /// which runs as written: 3 calls. Chunks of 21: {1, 2, 3} (27), {4, 5} (17): 2 calls. 2,048: one.
    @Test("EDTraining's evaluation pass: the losses as pair by pair, across chunk boundaries and unequal lengths",
          arguments: [DType.f64, .f32])
    func batchedEqualsPairByPair(_ dtype: DType) throws {
        let p = try InterpreterFixtures.program("EDTraining")
        #expect(p.target.plan.fired.contains { $0.rule == .sequenceBatching })
        let off = try evaluation(dtype: dtype, disabled: [.sequenceBatching])
        #expect(try calls(off.evaluator) == 5)
        #expect(off.evaluator.losses.count == 5)
        let bound = dtype == .f64 ? 1e-12 : 1e-5
        for (chunk, expected) in [(12, 3), (21, 2), (2048, 1)] {
            let on = try evaluation(dtype: dtype, disabled: [], chunk: chunk)
            let callsOn = try calls(on.evaluator)
            #expect(callsOn == expected, "chunk \(chunk): \(callsOn) calls")
            #expect(on.evaluator.predictedTokens == off.evaluator.predictedTokens)
            let w = worst(on, off)
            #expect(w <= bound, "chunk \(chunk): max relative difference \(w)")
        }
    }

    /// Runs of pairs of equal lengths ((4, 3) × 3, then (4, 5), (2, 5) × 2): each run's encoder,
    /// decoder and cross-attention is one batched product over [d, n, pairs × heads]; a run whose
    /// z lengths are equal but x lengths not ((4, 3) then (4, 5)) is split; with head batching off
    /// (rank-2 values, one call per head) the same. Float64, ≤ 1e-12 relative (as above).
    @Test("EDTraining's evaluation pass over runs of equal lengths (heads batched and not): the losses as pair by pair",
          arguments: [Set<RuleID>(), [.headBatching]])
    func equalLengthRuns(_ disabled: Set<RuleID>) throws {
        let z = [[3, 1, 4, 1], [5, 9, 2, 6], [5, 3, 5, 8], [9, 7, 9, 3], [3, 2], [8, 4]]
        let x = [[2, 6, 4], [3, 3, 8], [3, 2, 7], [9, 5, 1, 4, 6], [8, 2, 6, 4, 3], [3, 8, 3, 2, 7]]
        let on = try evaluation(z, x, dtype: .f64, disabled: disabled)
        let off = try evaluation(z, x, dtype: .f64, disabled: disabled.union([.sequenceBatching]))
        #expect(try calls(on.evaluator) == 1 && calls(off.evaluator) == 6)
        let w = worst(on, off)
        #expect(on.evaluator.losses.count == 6 && w <= 1e-12, "max relative difference \(w)")
    }

    /// A cross-attention mask that removes something (`Mask[t_z, t_x] = [[t_z ≤ t_x]]` in place of
    /// `Mask ≡ 1`): the proof accepts the loop (masks are checked at run time), the cross-attention's
    /// guard fails inside the batched call (`SequenceFallback`), the chunk stops, and every pair runs
    /// as written: one EDTransformer call begun and abandoned, then one per pair, the same losses
    /// bit for bit as with the rule off.
    @Test("a cross-attention mask that removes entries: the batched call falls back and every pair runs as written")
    func maskedCrossAttentionRunsAsWritten() throws {
        let (p, dir) = try InterpreterFixtures.editedCopy(["Attention", "MHAttention", "LayerNorm", "EDTraining", "EDTransformer"],
                                                         editing: "EDTransformer", replacing: "MHAttention(X, Z | 𝓦^e/d_l, Mask ≡ 1)",
                                                         with: "MHAttention(X, Z | 𝓦^e/d_l, Mask[t, t′] = [[t ≤ t′]])", load: "EDTraining")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(p.target.plan.fired.contains { $0.rule == .sequenceBatching })
        func run(_ disabled: Set<RuleID>) throws -> (losses: [Double], calls: Int) {
            let r = try InterpreterFixtures.trainingRun(p, Self.sources, pairedWith: Self.targets, dims: Self.dims) { o in
                o.dtype = .f64; o.applyGradients = false; o.disabledRules = disabled
            }
            return (r.evaluator.losses, try calls(r.evaluator))
        }
        let on = try run([]), off = try run([.sequenceBatching])
        #expect(off.calls == 5 && on.calls == off.calls + 1, "\(on.calls) calls with the rule on, \(off.calls) off")
        #expect(on.losses == off.losses && on.losses.count == 5)
    }
}
