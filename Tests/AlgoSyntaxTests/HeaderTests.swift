import AlgoDiagnostics
@testable import AlgoSyntax
import Testing

/// Titles (with and without signatures, `— prose`, defaults `Z = X`) and every header line form:
/// declarations with trailing prose, untyped names, datasets, collections and their groups.
@Suite struct HeaderTests {
    static let source = """
        Algorithm 5: Ṽ ← MHAttention(X, Z = X | 𝓦, Mask)
        Input:      X ∈ ℝ^{d_x×ℓ_x}, Z ∈ ℝ^{d_z×ℓ_z}, vector representations of primary and context sequence.
        Input:      v ∈ V ≅ [N_V], a token ID.
        Input:  {(z_n, x_n)}_{n=1}^{N_data}, a dataset of sequence pairs.
        Input:  θ, initial transformer parameters.
        Input:  Trained transformer parameters θ̂.
        Output: P ∈ (0,1)^{N_V×length(x)}, where the t-th column of P represents P̂_θ(x[t+1] | x[1:t]).
        Output:     p ∈ Δ(V), a probability distribution over the vocabulary.
        Hyperparameters: H, number of attention heads
        Hyperparameters: Mask∈{0,1}^{ℓ_z×ℓ_x}, ↑(3)
        Hyperparameters: N_epochs ∈ ℕ, η ∈ (0, ∞), p_mask ∈ (0, 1)
        Parameters: W_q, W_k ∈ ℝ^{d_attn×d_in}, b_q, b_k ∈ ℝ^{d_attn}, the query and key linear projections.
        Parameters: 𝓦 consisting of
                      For h ∈ [H], 𝓦^h_qkv consisting of:
                        | W^h_q ∈ ℝ^{d_attn×d_x}, b^h_q ∈ ℝ^{d_attn},
                        | W^h_v ∈ ℝ^{d_mid×d_z},  b^h_v ∈ ℝ^{d_mid}.
                      W_o ∈ ℝ^{d_out×H d_mid}, b_o ∈ ℝ^{d_out}.
        Parameters: θ includes all of the following parameters:
          W_e ∈ ℝ^{d_e×N_V}, W_p ∈ ℝ^{d_e×ℓ_max}, the token and positional embedding matrices.
          For l ∈ [L]:
           | 𝓦_l, multi-head attention parameters for layer l, see (4),
           | γ^1_l, β^1_l, γ^2_l, β^2_l ∈ ℝ^{d_e}, two sets of layer-norm parameters,
          W_u ∈ ℝ^{N_V×d_e}, the unembedding matrix.
        1 return Ṽ = X
        Algorithm 1: e ← TokenEmbedding(v | W_e) — Token embedding.
        1 return e = W_e[:, v]
        Algorithm 2: Positional embedding.
        1 return e_p = W_p[:, ℓ]
        Algorithm 11: θ̂ ← EDTraining(z_{1:N_data}, x_{1:N_data}, θ)
        9 return θ̂ = θ
        """

    static let expected = """
        (file
          (algorithm 5
            (title (outputs Ṽ) MHAttention (inputs X (= Z X)) (params 𝓦 Mask))
            (Input (line (decl (X) (^ ℝ d_x ℓ_x)) (decl (Z) (^ ℝ d_z ℓ_z)) (prose "vector representations of primary and context sequence.")))
            (Input (line (decl (v) (≅ V (range N_V))) (prose "a token ID.")))
            (Input (line (decl ((scripted (set (tuple z_n x_n)) _(= n 1) ^N_data))) (prose "a dataset of sequence pairs.")))
            (Input (line (decl (θ)) (prose "initial transformer parameters.")))
            (Input (line (prose "Trained transformer parameters θ̂.")))
            (Output (line (decl (P) (^ (interval 0 1) N_V (call length x))) (prose "where the t-th column of P represents P̂_θ(x[t+1] | x[1:t]).")))
            (Output (line (decl (p) (Δ V)) (prose "a probability distribution over the vocabulary.")))
            (Hyperparameters (line (decl (H)) (prose "number of attention heads")))
            (Hyperparameters (line (decl (Mask) (^ (set 0 1) ℓ_z ℓ_x)) (prose "↑(3)")))
            (Hyperparameters (line (decl (N_epochs) ℕ) (decl (η) (interval 0 ∞)) (decl (p_mask) (interval 0 1))))
            (Parameters (line (decl (W_q W_k) (^ ℝ d_attn d_in)) (decl (b_q b_k) (^ ℝ d_attn)) (prose "the query and key linear projections.")))
            (Parameters (collection 𝓦 "consisting of"
              (group h (range H) (collection 𝓦^h_qkv) (prose "consisting of:")
                (line (decl (W^h_q) (^ ℝ d_attn d_x)) (decl (b^h_q) (^ ℝ d_attn)))
                (line (decl (W^h_v) (^ ℝ d_mid d_z)) (decl (b^h_v) (^ ℝ d_mid))))
              (line (decl (W_o) (^ ℝ d_out (juxt H d_mid))) (decl (b_o) (^ ℝ d_out)))))
            (Parameters (collection θ "includes all of the following parameters:"
              (line (decl (W_e) (^ ℝ d_e N_V)) (decl (W_p) (^ ℝ d_e ℓ_max)) (prose "the token and positional embedding matrices."))
              (group l (range L)
                (line (decl (𝓦_l)) (prose "multi-head attention parameters for layer l, see (4),"))
                (line (decl (γ^1_l β^1_l γ^2_l β^2_l) (^ ℝ d_e)) (prose "two sets of layer-norm parameters,")))
              (line (decl (W_u) (^ ℝ N_V d_e)) (prose "the unembedding matrix."))))
            (body
              (1 return Ṽ X)))
          (algorithm 1
            (title (outputs e) TokenEmbedding (inputs v) (params W_e) (prose "Token embedding."))
            (body
              (1 return e (index W_e : v))))
          (algorithm 2
            (title (prose "Positional embedding."))
            (body
              (1 return e_p (index W_p : ℓ))))
          (algorithm 11
            (title (outputs θ̂) EDTraining (inputs z_{1:N_data} x_{1:N_data} θ) (params))
            (body
              (9 return θ̂ θ))))
        """

    @Test func everyHeaderForm() {
        let (file, diagnostics) = Support.parse(HeaderTests.source + "\n")
        #expect(diagnostics.isEmpty, "\(diagnostics.map(\.message))")
        #expect(ASTDump.dump(file) == HeaderTests.expected + "\n")
    }

    /// A comment line between the header and the body belongs to the body; one between header lines to the header.
    @Test func commentLinesGoWhereTheyStand() {
        let dump = Support.dump("Algorithm 1: y ← F(x)\n/* a */\nInput: x ∈ V*\n/* b */\n1 y ← x\n")
        #expect(dump.contains("    (comment \"a\")\n    (Input"))
        #expect(dump.contains("(body\n      (comment \"b\")"))
    }

    @Test func spansAreCharacterColumns() {
        let source = SourceFile(path: "t.algo", text: "Algorithm 1: y ← F(x)\n1 y ← ℓ ⊙ @\n")
        let (_, diagnostics) = Parser.parse(source)
        #expect(diagnostics.count == 1)
        if let d = diagnostics.first {
            #expect(d.code == .unknownCharacter)
            let (line, column) = source.location(of: d.span.start)
            #expect(line == 2 && column == 11)
        }
    }
}
