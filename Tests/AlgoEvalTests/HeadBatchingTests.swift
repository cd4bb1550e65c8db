import Foundation
import Testing
import AlgoTensor
@testable import AlgoEval

/// MHAttention's `For h ∈ [H]: Y^h ← Attention(…)` runs as one head-batched call (Evaluator+Heads).
/// Checked against Attention.algo run once per head (the loop as written) and W_o [Y^1; …; Y^H] + b_o
/// assembled here, in Float64 where both sides compute every entry by the same reference loops
/// (so they agree to rounding of the order of operations, ≤ 1e-12 relative).
@Suite("head batching: MHAttention equals its per-head loop")
struct HeadBatchingTests {
    func options(_ profile: Bool = false) -> RunOptions {
        var o = RunOptions()
        o.dtype = .f64
        o.profile = profile
        return o
    }

    @Test("MHAttention (batched) = W_o [Attention_1; …; Attention_H] + b_o, causal and full masks, self- and cross-attention", arguments: [false, true])
    func equalsPerHead(causal: Bool) throws {
        let mha = try InterpreterFixtures.program("MHAttention"), attention = try InterpreterFixtures.program("Attention")
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
        let r = try RunSession.run(mha, dims: dims, reals: [:], inputs: ["X": .tensor(Variable(X)), "Z": .tensor(Variable(Z))],
                                   parameters: θ, mask: mask, options: options(true))
        guard case .tensor(let batched) = r.value else { Issue.record("MHAttention gave \(r.value.kindName)"); return }
        // Batched: Attention's lines ran once, not H times.
        let attentionCalls = r.evaluator.profile.filter { $0.key.file.hasSuffix("Attention.algo") && !$0.key.file.hasSuffix("MHAttention.algo") }.map(\.value.calls)
        #expect(!attentionCalls.isEmpty && attentionCalls.allSatisfy { $0 == 1 }, "\(attentionCalls)")
        var heads: [Tensor] = []
        for h in 1...H {
            let ph: [String: Tensor] = ["W_q": θ["W^\(h)_q"]!, "b_q": θ["b^\(h)_q"]!, "W_k": θ["W^\(h)_k"]!, "b_k": θ["b^\(h)_k"]!,
                                        "W_v": θ["W^\(h)_v"]!, "b_v": θ["b^\(h)_v"]!]
            let y = try RunSession.run(attention, dims: ["d_x": dx, "d_z": causal ? dx : dz, "d_attn": dAttn, "d_out": dMid, "ℓ_x": lx, "ℓ_z": lz],
                                       reals: [:], inputs: ["X": .tensor(Variable(X)), "Z": .tensor(Variable(Z))], parameters: ph, mask: mask, options: options())
            guard case .tensor(let t) = y.value else { Issue.record("Attention gave \(y.value.kindName)"); return }
            heads.append(t.value)
        }
        let expected = Tensor.matmul(θ["W_o"]!, Tensor.concat(heads, axis: 0)) + θ["b_o"]!.reshaped([dOut, 1])
        let got = batched.value.doubles, want = expected.doubles
        #expect(batched.shape == [dOut, lx])
        for i in want.indices { #expect(abs(got[i] - want[i]) <= 1e-12 * max(1, abs(want[i])), "entry \(i)") }
    }
}
