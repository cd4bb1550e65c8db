import AlgoDiagnostics
@testable import AlgoSyntax
import Testing

/// Every statement form of the paper's bodies, by its span-free dump.
@Suite struct StatementTests {
    static let cases: [(String, String)] = [
        ("1 q ← W_q e + b_q",
         "(1 ← q (+ (juxt W_q e) b_q))"),
        ("4 ∀t : α_t = exp(qᵀk_t / √d_attn) / Σ_u exp(qᵀk_u / √d_attn)",
         "(4 ∀ (t)\n  (= α_t (/ (call exp (/ (juxt (ᵀ q) k_t) (√ d_attn))) (Σ _u (call exp (/ (juxt (ᵀ q) k_u) (√ d_attn)))))))"),
        ("5 ∀t_z, t_x, if ¬Mask[t_z, t_x] then S[t_z, t_x] ← −∞",
         "(5 ∀ (t_z t_x)\n  (if (¬ (index Mask t_z t_x)) inline\n    (← (index S t_z t_x) (neg ∞))))"),
        ("1 return e = W_e[:, v]",
         "(1 return e (index W_e : v))"),
        ("9 return x̂",
         "(9 return x̂)"),
        ("3 return ê = (e − m)/√v ⊙ γ + β, where ⊙ denotes element-wise multiplication.",
         "(3 return ê (+ (⊙ (/ (− e m) (√ v)) γ) β) (prose \"where ⊙ denotes element-wise multiplication.\"))"),
        ("2 for t ∈ [ℓ] : e_t ← W_e[:, x[t]] + W_p[:, t]",
         "(2 for t (∈ (range ℓ)) inline\n  (← e_t (+ (index W_e : (index x t)) (index W_p : t))))"),
        ("4 for l = 1, 2, . . . , L do\n5     X ← X + MHAttention(X | 𝓦_l, Mask ≡ 1)\n9 end",
         "(4 for l (= 1 2 … L) doEnd\n  (5 ← X (+ X (call MHAttention X | 𝓦_l (≡ Mask 1))))\n  (9 end))"),
        ("2 for n = 1, 2, . . . N_data do\n3     ℓ ← length(x_n)\n7 end",
         "(2 for n (= 1 2 … N_data) doEnd\n  (3 ← ℓ (call length x_n))\n  (7 end))"),
        ("1 For h ∈ [H]:\n2     Y^h ← Attention(X, Z | 𝓦^h_qkv, Mask)\n3 Y ← [Y^1; Y^2; . . . ; Y^H]",
         "(1 for h (∈ (range H)) indented\n  (2 ← Y^h (call Attention X Z | 𝓦^h_qkv Mask)))\n(3 ← Y (vlist Y^1 Y^2 … Y^H))"),
        ("3 while y ≠ eos_token do\n6     sample a token y from q ∝ p^{1/τ}\n7     x̂ ← [x̂, y]\n8 end",
         "(3 while (≠ y eos_token)\n  (6 sample \"a token\" y (∝ q p^{1/τ}))\n  (7 ← x̂ (hlist x̂ y))\n  (8 end))"),
        ("5 x̃_n[t] ← mask_token or x_n[t] randomly with probability p_mask or 1 − p_mask",
         "(5 ← (index x̃_n t) (random (mask_token (index x_n t)) (p_mask (− 1 p_mask))))"),
        ("4 P(θ) ← DTransformer(x_n | θ)",
         "(4 ← (call P θ) (call DTransformer x_n | θ))"),
        ("5 loss(θ) = −Σ_{t=1}^{ℓ−1} log P(θ)[x_n[t+1], t]",
         "(5 = (call loss θ) (neg (Σ _(= t 1) ^(− ℓ 1) (call log (index (call P θ) (index x_n (+ t 1)) t)))))"),
        ("6 θ ← θ − η · ∇loss(θ)",
         "(6 ← θ (− θ (· η (∇ (call loss θ)))))"),
        ("1 Q ← W_q X + b_q 𝟏ᵀ                 [[Query ∈ ℝ^{d_attn×ℓ_x}]]",
         "(1 ← Q (+ (juxt W_q X) (juxt b_q (ᵀ 𝟏))) (claim Query (^ ℝ d_attn ℓ_x)))"),
        ("7 T̃ ← {t ∈ [ℓ] : x̃_n[t] = mask_token}",
         "(7 ← T̃ (set-builder t (range ℓ) (= (index x̃_n t) mask_token)))"),
        ("/* a comment */\n1 x ← 1",
         "(comment \"a comment\")\n(1 ← x 1)"),
        ("x ← 1\nfor t ∈ [T] :\n    y ← x\nz ← 2",
         "(← x 1)\n(for t (∈ (range T)) indented\n  (← y x))\n(← z 2)"),
        ("1 if x = 1 then\n2     y ← 2\n3 end\n",
         "(1 if (= x 1) doEnd\n  (2 ← y 2)\n  (3 end))"),
    ]

    @Test(arguments: cases)
    func statement(_ source: String, _ expected: String) {
        let (dump, diagnostics) = Support.body(source)
        #expect(diagnostics.isEmpty, "\(diagnostics.map(\.message))")
        #expect(dump == expected, "\(source)")
    }

    /// `For h ∈ [H]:` ends at the first line indented no deeper than `For`, also inside a `do` block.
    @Test func indentedBlockInsideLoop() {
        let (dump, diagnostics) = Support.body("""
        1 for i = 1, 2, . . . , N do
        2     For h ∈ [H]:
        3         y ← h
        4     z ← 1
        5 end
        """)
        #expect(diagnostics.isEmpty)
        #expect(dump == """
        (1 for i (= 1 2 … N) doEnd
          (2 for h (∈ (range H)) indented
            (3 ← y h))
          (4 ← z 1)
          (5 end))
        """)
    }

    /// Right-aligned line numbers (` 9`, `10`) do not change a line's block.
    @Test func rightAlignedLineNumbers() {
        let (dump, diagnostics) = Support.body(" 9 x ← 1\n10 y ← 2")
        #expect(diagnostics.isEmpty)
        #expect(dump == "(9 ← x 1)\n(10 ← y 2)")
    }
}
