import Foundation
import Testing
import AlgoTensor
@testable import AlgoEval

/// MHAttention's `For h ∈ [H]: Y^h ← Attention(…)` runs as one head-batched call (Evaluator+Heads).
/// Checked against the same file with the rule off (`RunOptions.disabledRules`: the loop as
/// written, Attention run once per head, then `W_o [Y^1; …; Y^H] + b_o 𝟏ᵀ`), in Float64 where both
/// sides compute every entry by the same reference loops (so they agree to rounding of the order
/// of operations, ≤ 1e-12 relative).
@Suite("head batching: MHAttention equals its per-head loop")
struct HeadBatchingTests {
    func options(disabled: Set<RuleID> = []) -> RunOptions {
        var o = RunOptions()
        o.dtype = .f64
        o.profile = true
        o.disabledRules = disabled
        return o
    }

    @Test("MHAttention (batched) = its loop over the heads as written, causal and full masks, self- and cross-attention", arguments: [false, true])
    func equalsPerHead(causal: Bool) throws {
        let mha = try InterpreterFixtures.program("MHAttention")
        let (H, dx, dz, dAttn, dMid, dOut, lx, lz) = (3, 5, 4, 2, 3, 6, 7, causal ? 7 : 5)
        var rng = RandomGenerator(seed: 11)
        func normal(_ s: [Int]) -> Tensor { Tensor.normal(s, dtype: .f64, using: &rng) }
        var θ: [String: Tensor] = ["W_o": normal([dOut, H * dMid]), "b_o": normal([dOut])]
        for h in 1...H {
            θ["W^\(h)_q"] = normal([dAttn, dx]); θ["b^\(h)_q"] = normal([dAttn])
            θ["W^\(h)_k"] = normal([dAttn, dz]); θ["b^\(h)_k"] = normal([dAttn])
            θ["W^\(h)_v"] = normal([dMid, dz]); θ["b^\(h)_v"] = normal([dMid])
        }
        let X = normal([dx, lx]), Z = causal ? normal([dx, lz]) : normal([dz, lz])
        let mask: MaskValue = causal ? .causal : .constant(1)
        let dims = ["H": H, "d_x": dx, "d_z": causal ? dx : dz, "d_attn": dAttn, "d_mid": dMid, "d_out": dOut, "ℓ_x": lx, "ℓ_z": lz]
        if causal { for h in 1...H { θ["W^\(h)_k"] = normal([dAttn, dx]); θ["W^\(h)_v"] = normal([dMid, dx]) } }
        func run(_ disabled: Set<RuleID>) throws -> (Variable, [Int]) {
            let r = try Pipeline.run(mha, RunSetup(dims: dims, inputs: ["X": .tensor(Variable(X)), "Z": .tensor(Variable(Z))],
                                                   parameters: θ, mask: mask, options: options(disabled: disabled)))
            guard case .tensor(let y) = r.value else { throw RuntimeError(.invalidInput, "MHAttention gave \(r.value.kindName)", at: mha.target.syntax.span) }
            let calls = r.evaluator.profile.filter { $0.key.file.hasSuffix("/Attention.algo") }.map(\.value.calls)
            return (y, calls)
        }
        let (batched, batchedCalls) = try run([])
        let (perHead, perHeadCalls) = try run([.headBatching])
        // Batched: Attention's lines ran once, not H times; with the rule off, H times.
        #expect(!batchedCalls.isEmpty && batchedCalls.allSatisfy { $0 == 1 }, "\(batchedCalls)")
        #expect(!perHeadCalls.isEmpty && perHeadCalls.allSatisfy { $0 == H }, "\(perHeadCalls)")
        let got = batched.value.doubles, want = perHead.value.doubles
        #expect(batched.shape == [dOut, lx] && perHead.shape == [dOut, lx])
        for i in want.indices { #expect(abs(got[i] - want[i]) <= 1e-12 * max(1, abs(want[i])), "entry \(i)") }
    }
}
