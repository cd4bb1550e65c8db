import AlgoDiagnostics
@testable import AlgoSyntax
import Testing

/// Every expression and type form of the paper, by its span-free prefix dump.
@Suite struct ExpressionTests {
    static let expressions: [(String, String)] = [
        ("W_q X + b_q 𝟏ᵀ", "(+ (juxt W_q X) (juxt b_q (ᵀ 𝟏)))"),
        ("KᵀQ", "(juxt (ᵀ K) Q)"),
        ("K^T Q", "(juxt (ᵀ K) Q)"),
        ("α_t v_t", "(juxt α_t v_t)"),
        ("exp A[t_z, t_x]", "(call exp (index A t_z t_x))"),
        ("log P(θ)[x_n[t+1], t]", "(call log (index (call P θ) (index x_n (+ t 1)) t))"),
        ("√d_attn", "(√ d_attn)"),
        ("Σ_{i=1}^{d_e} e[i]/d_e", "(Σ _(= i 1) ^d_e (/ (index e i) d_e))"),
        ("Σ_u exp(qᵀk_u / √d_attn)", "(Σ _u (call exp (/ (juxt (ᵀ q) k_u) (√ d_attn))))"),
        ("exp(qᵀk_t / √d_attn) / Σ_u exp(qᵀk_u / √d_attn)", "(/ (call exp (/ (juxt (ᵀ q) k_t) (√ d_attn))) (Σ _u (call exp (/ (juxt (ᵀ q) k_u) (√ d_attn)))))"),
        ("−Σ_{t∈T̃} log P(θ)[x_n[t], t]", "(neg (Σ _(∈ t T̃) (call log (index (call P θ) (index x_n t) t))))"),
        ("Σ_{t=1}^{T} α_t v_t + b", "(+ (Σ _(= t 1) ^T (juxt α_t v_t)) b)"),
        ("(e[i] − m)²/d_e", "(/ (scripted (− (index e i) m) ^2) d_e)"),
        ("p^{1/τ}", "p^{1/τ}"),
        ("W^l_mlp1 X", "(juxt W^l_mlp1 X)"),
        ("γ^1_l", "γ^1_l"),
        ("𝓦^e/d_l", "𝓦^e/d_l"),
        ("Y^h", "Y^h"),
        ("x̃_n", "x̃_n"),
        ("t′", "t′"),
        ("ℓ_max", "ℓ_max"),
        ("e_{ℓ_z}", "e_{ℓ_z}"),
        ("z_{1:N_data}", "z_{1:N_data}"),
        ("MHAttention(X̃ | 𝓦_l, Mask[t, t′] = [[t ≤ t′]])", "(call MHAttention X̃ | 𝓦_l (= (index Mask t t′) (iverson (≤ t t′))))"),
        ("MHAttention(Z | 𝓦^enc_l, Mask ≡ 1)", "(call MHAttention Z | 𝓦^enc_l (≡ Mask 1))"),
        ("layer_norm(X[:, t] | γ^1_l, β^1_l)", "(call layer_norm (index X : t) | γ^1_l β^1_l)"),
        ("[e_1, e_2, . . . e_ℓ]", "(hlist e_1 e_2 … e_ℓ)"),
        ("[Y^1; Y^2; . . . ; Y^H]", "(vlist Y^1 Y^2 … Y^H)"),
        ("[x, y]", "(hlist x y)"),
        ("[bos_token]", "(hlist bos_token)"),
        ("x[ℓ + 1 : ℓ + ℓ_gen]", "(index x (slice (+ ℓ 1) (+ ℓ ℓ_gen)))"),
        ("W_e[:, x[t]]", "(index W_e : (index x t))"),
        ("[[t ≤ t′]]", "(iverson (≤ t t′))"),
        ("{t ∈ [ℓ] : x̃_n[t] = mask_token}", "(set-builder t (range ℓ) (= (index x̃_n t) mask_token))"),
        ("{(z_n, x_n)}_{n=1}^{N_data}", "(scripted (set (tuple z_n x_n)) _(= n 1) ^N_data)"),
        ("θ − η · ∇loss(θ)", "(− θ (· η (∇ (call loss θ))))"),
        ("(e − m)/√v ⊙ γ + β", "(+ (⊙ (/ (− e m) (√ v)) γ) β)"),
        ("V · softmax(S/√d_attn)", "(· V (call softmax (/ S (√ d_attn))))"),
        ("W_o Y + b_o 𝟏ᵀ", "(+ (juxt W_o Y) (juxt b_o (ᵀ 𝟏)))"),
        ("mask_token or x_n[t] randomly with probability p_mask or 1 − p_mask", "(random (mask_token (index x_n t)) (p_mask (− 1 p_mask)))"),
        ("¬Mask[t_z, t_x]", "(¬ (index Mask t_z t_x))"),
        ("−∞", "(neg ∞)"),
        ("P[:, ℓ + i − 1]", "(index P : (− (+ ℓ i) 1))"),
        ("x[1:t]", "(index x (slice 1 t))"),
        ("H d_mid", "(juxt H d_mid)"),
        ("2 x", "(juxt 2 x)"),
        ("(a, b)", "(tuple a b)"),
    ]

    static let types: [(String, String)] = [
        ("V ≅ [N_V]", "(≅ V (range N_V))"),
        ("V*", "(* V)"),
        ("ℝ^{d_e×N_V}", "(^ ℝ d_e N_V)"),
        ("{0,1}^{ℓ_z×ℓ_x}", "(^ (set 0 1) ℓ_z ℓ_x)"),
        ("(0,1)^{N_V×length(x)}", "(^ (interval 0 1) N_V (call length x))"),
        ("Δ(V)", "(Δ V)"),
        ("(0, ∞)", "(interval 0 ∞)"),
        ("[ℓ_max]", "(range ℓ_max)"),
        ("ℕ", "ℕ"),
        ("ℝ^{d_out×H d_mid}", "(^ ℝ d_out (juxt H d_mid))"),
        ("ℝ^{d_e}", "(^ ℝ d_e)"),
        ("ℝ", "ℝ"),
    ]

    @Test(arguments: expressions)
    func expression(_ source: String, _ expected: String) {
        #expect(Support.expr(source) == expected, "\(source)")
    }

    @Test(arguments: types)
    func type(_ source: String, _ expected: String) {
        #expect(Support.type(source) == expected, "\(source)")
    }

    /// Names keep their scripts structured, in order, with the raw text and a parsed value.
    @Test func namesKeepTheirScripts() throws {
        let (file, ds) = Support.parse("Algorithm 1: y ← F(x)\n1 y ← W^l_mlp1 + e_{ℓ_z} + 𝓦^e/d_l + m²\n")
        #expect(ds.isEmpty)
        guard case .assign(_, _, let v)? = file.algorithms.first?.body.first?.kind else { Issue.record("no assignment"); return }
        var names: [Name] = []
        func collect(_ e: Expr) {
            switch e.kind {
            case .name(let n): names.append(n)
            case .binary(_, let l, let r): collect(l); collect(r)
            case .scripted(let x, _): collect(x)
            default: break
            }
        }
        collect(v)
        #expect(names.map(\.base) == ["W", "e", "𝓦", "m"])
        #expect(names[0].scripts.map(\.position) == [.sup, .sub])
        #expect(names[0].scripts.map(\.raw) == ["l", "mlp1"])
        #expect(names[1].scripts.first?.braced == true)
        #expect(names[1].scripts.first?.raw == "ℓ_z")
        #expect(names[2].scripts.map(\.raw) == ["e/d", "l"])
        #expect(names[3].scripts.map(\.raw) == ["2"])
        #expect(names[3].spelling == "m^2")
        #expect(names[0].spelling == "W^l_mlp1")
    }

    /// The ASCII spelling gives the same tree as the Unicode one.
    @Test func asciiSpellingGivesTheSameTree() {
        #expect(Support.expr("K^T Q") == Support.expr("KᵀQ"))
        #expect(Support.expr("\\sum_{t\\in\\tilde{T}} \\alpha_t") == Support.expr("Σ_{t∈T̃} α_t"))
        #expect(Support.expr("\\sqrt d_attn") == Support.expr("√d_attn"))
        #expect(Support.expr("(e[i] - m)^2/d_e") == Support.expr("(e[i] − m)²/d_e"))
        #expect(Support.expr("b_q \\mathbf{1}^T") == Support.expr("b_q 𝟏ᵀ"))
        #expect(Support.expr("[e_1, e_2, ... e_\\ell]") == Support.expr("[e_1, e_2, . . . e_ℓ]"))
        #expect(Support.type("\\mathbb{R}^{d_e\\times N_V}") == Support.type("ℝ^{d_e×N_V}"))
    }
}
