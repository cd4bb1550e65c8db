#!/usr/bin/env python3
"""Generates the wrong-program corpus: each case is one of Algorithms/*.algo with one mutation and
the expected diagnostic written on the line it must be reported at (`// error E0401`).
Run from the package root: python3 Tests/AlgoSemaTests/Fixtures/make_wrong.py
Options for the checker go in a `// check-set: NAME=VALUE,…` line (like `algo check --set`)."""
import os, sys

A = "Algorithms/"
# (case name, algorithm file, text to replace, replacement, expected code, substring of the error line or None = the replaced line, description, --set)
CASES = [
 ("att-missing-transpose", "Attention", "4 S ← KᵀQ", "4 S ← K Q", "E0401", None, "a missing transpose: K Q instead of KᵀQ"),
 ("att-claim-query", "Attention", "[[Query ∈ ℝ^{d_attn×ℓ_x}]]", "[[Query ∈ ℝ^{d_attn×ℓ_z}]]", "E0404", None, "a claim with the wrong sequence length"),
 ("att-claim-score-swapped", "Attention", "[[Score ∈ ℝ^{ℓ_z×ℓ_x}]]", "[[Score ∈ ℝ^{ℓ_x×ℓ_z}]]", "E0404", None, "a claim with swapped dimensions"),
 ("att-wq-shape", "Attention", "W_q ∈ ℝ^{d_attn×d_x}", "W_q ∈ ℝ^{d_attn×d_z}", "E0401", "1 Q ←", "a wrong parameter shape"),
 ("att-bias-no-ones", "Attention", "1 Q ← W_q X + b_q 𝟏ᵀ", "1 Q ← W_q X + b_q", "E0402", None, "a bias vector added to a matrix without 𝟏ᵀ"),
 ("att-bias-number-transposed", "Attention", "1 Q ← W_q X + b_q 𝟏ᵀ", "1 Q ← W_q X + b_q 1^T", "E0410", None, "the number 1 transposed (`1^T`) for the all-ones row 𝟏ᵀ"),
 ("dt-unused-after-tying", "DTransformer", "return P = softmax(W_u X)", "return P = softmax(W_eᵀ X)", "E0308", "  W_u ∈ ℝ^{N_V×d_e}", "the unembedding tied to W_eᵀ, so the declared W_u is never used (a warning)"),
 ("att-mask-swapped-index", "Attention", "¬Mask[t_z, t_x]", "¬Mask[t_x, t_z]", "E0408", None, "a swapped mask index"),
 ("att-mask-wrong-shape", "Attention", "Mask∈{0,1}^{ℓ_z×ℓ_x}", "Mask∈{0,1}^{ℓ_x×ℓ_z}", "E0408", "5 ∀t_z", "a mask of the wrong shape"),
 ("att-return-no-values", "Attention", "return Ṽ = V · softmax(S/√d_attn)", "return Ṽ = softmax(S/√d_attn)", "E0411", None, "the values are not applied"),
 ("att-value-from-x", "Attention", "3 V ← W_v Z + b_v 𝟏ᵀ", "3 V ← W_v X + b_v 𝟏ᵀ", "E0401", None, "values computed from the primary sequence"),
 ("att-unknown-name", "Attention", "S/√d_attn", "S/√d_atn", "E0301", None, "a misspelt dimension"),
 ("att-key-bias", "Attention", "W_k ∈ ℝ^{d_attn×d_z}, b_k ∈ ℝ^{d_attn}", "W_k ∈ ℝ^{d_attn×d_z}, b_k ∈ ℝ^{d_out}", "E0402", "2 K ←", "a bias of the wrong length"),
 ("att-softmax-two-args", "Attention", "softmax(S/√d_attn)", "softmax(S/√d_attn, S)", "E0406", None, "a builtin with two arguments"),
 ("mha-stack-side-by-side", "MHAttention", "3 Y ← [Y^1; Y^2; . . . ; Y^H]", "3 Y ← [Y^1, Y^2, . . . Y^H]", "E0401", "4 return", "heads stacked side by side instead of on top of each other"),
 ("mha-wo-shape", "MHAttention", "W_o ∈ ℝ^{d_out×H d_mid}", "W_o ∈ ℝ^{d_out×d_mid}", "E0401", "4 return", "W_o without the H heads"),
 ("mha-wv-shape", "MHAttention", "W^h_v ∈ ℝ^{d_mid×d_z}", "W^h_v ∈ ℝ^{d_mid×d_x}", "E0405", "2     Y^h", "a head's value matrix of the wrong shape"),
 ("mha-whole-collection", "MHAttention", "Attention(X, Z | 𝓦^h_qkv, Mask)", "Attention(X, Z | 𝓦, Mask)", "E0405", None, "the whole collection passed for one head's"),
 ("mha-unbound-index", "MHAttention", "Attention(X, Z | 𝓦^h_qkv, Mask)", "Attention(X, Z | 𝓦^j_qkv, Mask)", "E0302", None, "a family index no loop binds"),
 ("mha-stack-short", "MHAttention", "3 Y ← [Y^1; Y^2; . . . ; Y^H]", "3 Y ← [Y^1; Y^2; . . . ; Y^{H − 1}]", "E0401", "4 return", "a stacked dimension that does not add up"),
 ("mha-arity", "MHAttention", "Attention(X, Z | 𝓦^h_qkv, Mask)", "Attention(X | 𝓦^h_qkv, Mask)", "E0406", None, "a call missing an input"),
 ("mha-extra-param", "MHAttention", "Attention(X, Z | 𝓦^h_qkv, Mask)", "Attention(X, Z | 𝓦^h_qkv, Mask, W_o)", "E0406", None, "a call with a parameter too many"),
 ("mha-unknown-named", "MHAttention", "Attention(X, Z | 𝓦^h_qkv, Mask)", "Attention(X, Z | 𝓦^h_qkv, Msk ≡ 1)", "E0307", None, "a named argument the callee does not have"),
 ("mha-bias-no-ones", "MHAttention", "W_o Y + b_o 𝟏ᵀ", "W_o Y + b_o", "E0402", None, "the output bias without 𝟏ᵀ"),
 ("mha-wrong-hyper", "MHAttention", "Attention(X, Z | 𝓦^h_qkv, Mask)", "Attention(X, Z | 𝓦^h_qkv, Mask, d_attn ≡ d_mid)", "E0405", None, "a wrong hyperparameter bound by name at a call"),
 ("mha-stack-mismatch", "MHAttention", "3 Y ← [Y^1; Y^2; . . . ; Y^H]", "3 Y ← [Y^1; W_o; . . . ; Y^H]", "E0409", None, "stacked blocks of different shapes"),
 ("ln-return-scalar", "LayerNorm", "return ê = (e − m)/√v ⊙ γ + β", "return ê = m", "E0411", None, "a scalar returned for a vector"),
 ("ln-gamma-matrix", "LayerNorm", "γ, β ∈ ℝ^{d_e}", "γ, β ∈ ℝ^{d_e×d_e}", "E0402", "3 return", "a scale of the wrong shape"),
 ("ln-sum-beyond", "LayerNorm", "1 m ← Σ_{i=1}^{d_e} e[i]/d_e", "1 m ← Σ_{i=1}^{d_e + 1} e[i]/d_e", "E0407", None, "a sum running past the vector"),
 ("ln-index-vector-twice", "LayerNorm", "1 m ← Σ_{i=1}^{d_e} e[i]/d_e", "1 m ← Σ_{i=1}^{d_e} e[i, i]/d_e", "E0410", None, "a vector indexed like a matrix"),
 ("te-row-not-column", "TokenEmbedding", "W_e[:, v]", "W_e[v, :]", "E0411", None, "a row taken instead of a column"),
 ("te-output-shape", "TokenEmbedding", "Output:     e ∈ ℝ^{d_e}", "Output:     e ∈ ℝ^{N_V}", "E0411", "1 return", "an output declared with the wrong length"),
 ("pe-index-beyond", "PositionalEmbedding", "W_p[:, ℓ]", "W_p[:, ℓ + 1]", "E0407", None, "a position index past ℓ_max"),
 ("pe-set-range", "PositionalEmbedding", "W_p[:, ℓ]", "W_p[:, d_e]", "E0413", None, "an index that only the --set values show out of range", "d_e=8,ℓ_max=4"),
 ("ue-missing-softmax", "Unembedding", "softmax(W_u e)", "W_u e", "E0411", None, "a distribution without softmax"),
 ("ue-transposed", "Unembedding", "softmax(W_u e)", "softmax(W_uᵀ e)", "E0401", None, "a transpose too many"),
 ("ue-undeclared-output", "Unembedding", "return p = softmax(W_u e)", "return q = softmax(W_u e)", "E0304", None, "a return naming no declared output"),
 ("ba-missing-transpose", "BasicAttention", "exp(qᵀk_t / √d_attn) /", "exp(q k_t / √d_attn) /", "E0401", None, "a dot product written without ᵀ"),
 ("ba-value-shape", "BasicAttention", "W_v ∈ ℝ^{d_out×d_in}", "W_v ∈ ℝ^{d_out×d_attn}", "E0401", "3 ∀t", "a value matrix of the wrong shape"),
 ("ba-sum-keys", "BasicAttention", "α_t v_t", "α_t k_t", "E0411", None, "keys summed instead of values"),
 ("ba-unbound-index", "BasicAttention", "2 ∀t : k_t ← W_k e_t + b_k", "2 ∀t : k_t ← W_k e_s + b_k", "E0302", None, "a family index no ∀ binds"),
 ("dt-missing-ones", "DTransformer", "W^l_mlp1 X̃ + b^l_mlp1 𝟏ᵀ", "W^l_mlp1 X̃ + b^l_mlp1", "E0402", None, "an MLP bias without 𝟏ᵀ"),
 ("dt-mlp-transposed", "DTransformer", "W^l_mlp1 ∈ ℝ^{d_mlp×d_e}", "W^l_mlp1 ∈ ℝ^{d_e×d_mlp}", "E0401", " 8     X ←", "an MLP matrix declared transposed"),
 ("dt-wu-transposed", "DTransformer", "W_u ∈ ℝ^{N_V×d_e}", "W_u ∈ ℝ^{d_e×N_V}", "E0401", "11 return", "the unembedding declared transposed"),
 ("dt-column-loop-range", "DTransformer", " 5     for t ∈ [ℓ] :", " 5     for t ∈ [ℓ_max] :", "E0408", None, "a column loop over the wrong range"),
 ("dt-final-loop-range", "DTransformer", "10 for t ∈ [ℓ] :", "10 for t ∈ [L] :", "E0408", None, "the final layer-norm loop over the layers"),
 ("dt-ln-wrong-params", "DTransformer", "layer_norm(X[:, t] | γ^1_l, β^1_l)", "layer_norm(X[:, t] | W^l_mlp1, β^1_l)", "E0405", None, "a matrix passed as layer-norm scale"),
 ("dt-unknown-callee", "DTransformer", "X + MHAttention(X̃", "X + MHAtention(X̃", "E0303", None, "a misspelt algorithm"),
 ("dt-mask-pattern", "DTransformer", "Mask[t, t′] = [[t ≤ t′]]", "Mask[t] = [[t ≤ t]]", "E0410", None, "a mask given with one index"),
 ("dt-stack-beyond", "DTransformer", "X ← [e_1, e_2, . . . e_ℓ]", "X ← [e_1, e_2, . . . e_{ℓ + 1}]", "E0407", None, "stacking one embedding too many"),
 ("dt-no-softmax", "DTransformer", "return P = softmax(W_u X)", "return P = W_u X", "E0411", None, "logits returned as probabilities"),
 ("dt-embedding-row", "DTransformer", "W_e[:, x[t]]", "W_e[x[t], :]", "E0402", None, "a token embedding taken as a row"),
 ("dt-positional-shape", "DTransformer", "W_p ∈ ℝ^{d_e×ℓ_max}", "W_p ∈ ℝ^{d_mlp×ℓ_max}", "E0402", " 2 for t", "a positional embedding of the wrong width"),
 ("dt-residual-wrong-matrix", "DTransformer", "X ← X + W^l_mlp2 GELU", "X ← X + W^l_mlp1 GELU", "E0401", None, "the wrong MLP matrix on the way out"),
 ("dt-loop-variable", "DTransformer", " 4 for l = 1, 2, . . . , L do", " 4 for i = 1, 2, . . . , L do", "E0302", " 5     for t", "a layer loop binding the wrong variable (as A2)"),
 ("dt-ln-wrong-hyper", "DTransformer", "layer_norm(X[:, t] | γ, β)", "layer_norm(X[:, t] | γ, β, d_e ≡ d_mlp)", "E0405", None, "a wrong hyperparameter at a call"),
 ("dt-mask-matrix", "DTransformer", "Mask[t, t′] = [[t ≤ t′]]", "Mask ≡ W_e", "E0405", None, "a mask of the wrong shape at the call"),
 ("dt-mlp-bias-shape", "DTransformer", "b^l_mlp2 ∈ ℝ^{d_e}", "b^l_mlp2 ∈ ℝ^{d_mlp}", "E0402", " 8     X ←", "an MLP output bias of the wrong length"),
 ("dt-shape-change-in-loop", "DTransformer", " 8     X ← X + W^l_mlp2 GELU(W^l_mlp1 X̃ + b^l_mlp1 𝟏ᵀ) + b^l_mlp2 𝟏ᵀ", " 8     X ← W^l_mlp1 X̃ + b^l_mlp1 𝟏ᵀ", "E0412", None, "a loop that changes the width of X"),
 ("dt-column-wrong-rows", "DTransformer", "10 for t ∈ [ℓ] : X[:, t] ← layer_norm(X[:, t] | γ, β)", "10 for t ∈ [ℓ] : X[:, t] ← W_u X[:, t]", "E0403", None, "a column assigned a vector of the wrong length"),
 ("dt-no-A4", "DTransformer", "Hyperparameters: d_attn, d_mid ∈ ℕ\n", "", "E0305", " 6     X ←", "d_attn and d_mid never bound (A4)"),
 ("et-wf-transposed", "ETransformer", "W_f ∈ ℝ^{d_f×d_e}", "W_f ∈ ℝ^{d_e×d_f}", "E0401", "10 X ←", "the final projection declared transposed"),
 ("et-final-ln-shape", "ETransformer", "γ, β ∈ ℝ^{d_f}", "γ, β ∈ ℝ^{d_e}", "E0405", "11 for t", "final layer-norm parameters of the wrong width"),
 ("et-return-no-unembedding", "ETransformer", "return P = softmax(W_u X)", "return P = softmax(X)", "E0411", None, "no unembedding"),
 ("et-A1", "ETransformer", "W_u ∈ ℝ^{N_V×d_f}", "W_u ∈ ℝ^{N_V×d_e}", "E0401", "12 return", "erratum A1 as printed"),
 ("ed-cross-swapped", "EDTransformer", "MHAttention(X, Z | 𝓦^e/d_l, Mask ≡ 1)", "MHAttention(Z, X | 𝓦^e/d_l, Mask ≡ 1)", "E0402", None, "cross-attention with the sequences swapped"),
 ("ed-decoder-token-source", "EDTransformer", "11 for t ∈ [ℓ_x] : e_t ← W_e[:, x[t]]", "11 for t ∈ [ℓ_x] : e_t ← W_e[:, z[t]]", "E0408", None, "the decoder embedding the context tokens"),
 ("ed-decoder-stack", "EDTransformer", "X ← [e_1, e_2, . . . e_{ℓ_x}]", "X ← [e_1, e_2, . . . e_{ℓ_z}]", "E0408", "15     for t", "the decoder stacking ℓ_z embeddings"),
 ("ed-encoder-mlp-in-decoder", "EDTransformer", "W^l_mlp4 ReLU(W^l_mlp3 X", "W^l_mlp2 ReLU(W^l_mlp3 X", "E0408", None, "an encoder parameter indexed by a decoder layer"),
 ("ed-layer-norm-index", "EDTransformer", "layer_norm(X[:, t] | γ^3_l, β^3_l)", "layer_norm(X[:, t] | γ^3_t, β^3_l)", "E0408", None, "a swapped family index"),
 ("ed-wu-shape", "EDTransformer", "W_u ∈ ℝ^{N_V×d_e}", "W_u ∈ ℝ^{N_V×d_mlp}", "E0401", "21 return", "the unembedding of the wrong width"),
 ("ed-A2", "EDTransformer", "13 for l = 1, 2, . . . , L_dec do", "13 for i = 1, 2, . . . , L_dec do", "E0302", "14     X ←", "erratum A2 as printed"),
 ("dtr-loss-beyond", "DTraining", "Σ_{t=1}^{ℓ−1} log", "Σ_{t=1}^{ℓ} log", "E0407", None, "the loss reading one token past the end"),
 ("dtr-gradient-of-matrix", "DTraining", "∇loss(θ)", "∇P(θ)", "E0410", None, "the gradient of a matrix-valued function"),
 ("dtr-duplicate", "DTraining", "Hyperparameters: N_epochs ∈ ℕ, η ∈ (0, ∞)", "Hyperparameters: N_epochs ∈ ℕ, η ∈ (0, ∞), N_epochs ∈ ℕ", "E0306", None, "a hyperparameter declared twice"),
 ("etr-loss-shifted", "ETraining", "log P(θ)[x_n[t], t]", "log P(θ)[x_n[t], t + 1]", "E0407", None, "the masked-token loss reading the next position"),
 ("etr-arity", "ETraining", "ETransformer(x̃_n | θ)", "ETransformer(x̃_n, x_n | θ)", "E0406", None, "an encoder called with two sequences"),
 ("edtr-arity", "EDTraining", "EDTransformer(z_n, x_n | θ)", "EDTransformer(x_n | θ)", "E0406", None, "a seq2seq model called with one sequence"),
 ("dinf-one-index", "DInference", "p ← P[:, ℓ + i − 1]", "p ← P[ℓ + i − 1]", "E0410", None, "a matrix indexed like a vector"),
 ("dinf-sample-matrix", "DInference", "q ∝ p^{1/τ}", "q ∝ P^{1/τ}", "E0410", None, "sampling from a matrix"),
 ("edinf-index-beyond", "EDInference", "p ← P[:, length(x̂)]", "p ← P[:, length(x̂) + 1]", "E0407", None, "a column past the end"),
 ("edinf-undeclared-input", "EDInference", "Input:  θ̂, trained parameters of the seq2seq transformer.", "Input:  A seq2seq transformer and trained parameters θ̂ of the transformer.", "E0304", "Algorithm 15:", "erratum A13 as printed"),
 ("att-scores-transposed", "Attention", "4 S ← KᵀQ", "4 S ← QᵀK", "E0404", None, "scores computed as QᵀK"),
 ("mha-inputs-swapped", "MHAttention", "Attention(X, Z | 𝓦^h_qkv, Mask)", "Attention(Z, X | 𝓦^h_qkv, Mask)", "E0405", None, "primary and context sequences swapped at the call"),
 ("dtr-missing-theta", "DTraining", "DTransformer(x_n | θ)", "DTransformer(x_n)", "E0307", None, "a call that does not pass the parameters"),
 ("etr-set-builder-range", "ETraining", "T̃ ← {t ∈ [ℓ] :", "T̃ ← {t ∈ [ℓ + 1] :", "E0407", None, "masked positions looked up one past the end"),
 ("dinf-append-matrix", "DInference", "x ← [x, y]", "x ← [x, P]", "E0410", None, "a matrix appended to a token sequence"),
 ("dt-vstack-embeddings", "DTransformer", "X ← [e_1, e_2, . . . e_ℓ]", "X ← [e_1; e_2; . . . ; e_ℓ]", "E0410", " 5     for t", "embeddings stacked on top of each other instead of side by side"),
 ("mha-Hd_mid", "MHAttention", "W_o ∈ ℝ^{d_out×H d_mid}", "W_o ∈ ℝ^{d_out×Hd_mid}", "E0301", None, "Hd_mid as printed (Decision 9)"),
 # Section 8 variants (Algorithms 16–19, ours): member-wise arithmetic on parameter collections (Adam), minibatches, RMSnorm.
 ("adam-moment-plus-matrix", "DTrainingAdam", "11         m ← β_1 m + (1 − β_1) g", "11         m ← β_1 m + (1 − β_1) P(θ)", "E0410", None, "a probability matrix added to the first moment estimate"),
 ("adam-moment-over-matrix", "DTrainingAdam", "13         m̂ ← m/(1 − β_1^s)", "13         m̂ ← m/P(θ)", "E0410", None, "a moment estimate divided by a matrix"),
 ("adam-moment-scalar-init", "DTrainingAdam", " 1 m ← 0 · θ,", " 1 m ← 0,", "E0412", "11         m ←", "a first moment estimate initialised to a number, not to θ's structure"),
 ("adam-epsilon-vector", "DTrainingAdam", "(√v̂ + ε)", "(√v̂ + ε 𝟏)", "E0410", "15         θ ←", "a vector added to a collection"),
 ("mb-batch-indexes-data", "DTrainingMinibatch", "log DTransformer(x_n | θ)", "log DTransformer(x_b | θ)", "E0408", None, "a batch number used as a sequence number"),
 ("gopher-norm-with-offset", "DTransformerGopher", "RMSnorm(X[:, t] | γ)", "RMSnorm(X[:, t] | γ, γ)", "E0406", None, "RMSnorm given an offset as layer_norm is"),
]

def main():
    out = "Tests/AlgoSemaTests/Fixtures/wrong"
    os.makedirs(out, exist_ok=True)
    for old in os.listdir(out):
        if old.endswith(".algo"): os.remove(os.path.join(out, old))
    for case in CASES:
        name, algo, old, new, code, at, desc = case[:7]
        opts = case[7] if len(case) > 7 else None
        text = open(A + algo + ".algo", encoding="utf-8").read()
        if text.count(old) != 1:
            sys.exit(f"{name}: {old!r} occurs {text.count(old)} times in {algo}")
        text = text.replace(old, new)
        lines = text.split("\n")
        key = at if at is not None else new
        hits = [i for i, l in enumerate(lines) if key in l and not l.startswith("//")]
        if len(hits) != 1:
            sys.exit(f"{name}: error line {key!r} matches {len(hits)} lines")
        lines[hits[0]] += f"  // error {code}"
        head = [f"// Wrong program `{name}`: Algorithms/{algo}.algo with {desc}."]
        if opts: head.append(f"// check-set: {opts}")
        open(f"{out}/{name}.algo", "w", encoding="utf-8").write("\n".join(head + lines))
    print(len(CASES), "cases")

main()
