// The name mapping between `algo`'s checkpoint names (the paper's, see `algo params`) and the
// checkpoints of HuggingFace GPT-2, HuggingFace BERT and nanoGPT: written once, here, as a table.
// `ModelConversion` reads it in both directions; `Sources/AlgoEval/README.md` prints it.
//
// In a pattern, `{l}` is the layer: 1-based in `algo` names (`γ^1_{l}`), 0-based in the others
// (`h.{l}.ln_1.weight`); `{h}` is the head (1-based, `algo` names only). How the values move:
//
//   same           the tensor as stored (a vector, or a matrix already rows = outputs: nn.Linear)
//   transposed     the stored matrix transposed (GPT-2's Conv1D [in, out]; embeddings [N_V, d_e])
//   head(k, T)     rows (k·d_e + (h−1)·d_attn) ..< (k·d_e + h·d_attn) of the stored matrix, first
//                  transposed when T (GPT-2's c_attn packs q, k, v as blocks k = 0, 1, 2 of 3·d_e
//                  outputs, each split into H heads of d_attn = d_e/H); for a bias, those entries

import Foundation

/// How an `algo` tensor is read out of a stored one (and written back).
public enum NameLayout: Sendable, Equatable {
    /// The stored tensor itself.
    case same
    /// The stored matrix transposed.
    case transposed
    /// Head h's rows of block `block` of the stored matrix (transposed first when `transposed`), or entries of a bias.
    case head(block: Int, transposed: Bool)
}

/// One row of the table: an `algo` name, the stored name, the layout.
public struct NameRule: Sendable {
    public var algo: String
    public var stored: String
    public var layout: NameLayout
    /// The `algo` tensor's shape, in the paper's dimension names.
    public var shape: [String]
    /// Whether the rule is instantiated per layer (`{l}`) / per head (`{h}`).
    public var perLayer: Bool { algo.contains("{l}") }
    public var perHead: Bool { algo.contains("{h}") }
    init(_ algo: String, _ stored: String, _ layout: NameLayout, _ shape: [String]) {
        self.algo = algo; self.stored = stored; self.layout = layout; self.shape = shape
    }
}

/// The three tables.
public enum ModelNames {
    /// HuggingFace `GPT2LMHeadModel` ↔ `Algorithms/GPT2/GPT2.algo` (names without the `transformer.`
    /// prefix, which is stripped on reading and written back). `lm_head.weight` is `wte` (tied).
    public static let gpt2: [NameRule] = [
        NameRule("W_e", "wte.weight", .transposed, ["d_e", "N_V"]),
        NameRule("W_p", "wpe.weight", .transposed, ["d_e", "ℓ_max"]),
        NameRule("𝓦_{l}.W^{h}_q", "h.{l}.attn.c_attn.weight", .head(block: 0, transposed: true), ["d_attn", "d_e"]),
        NameRule("𝓦_{l}.b^{h}_q", "h.{l}.attn.c_attn.bias", .head(block: 0, transposed: false), ["d_attn"]),
        NameRule("𝓦_{l}.W^{h}_k", "h.{l}.attn.c_attn.weight", .head(block: 1, transposed: true), ["d_attn", "d_e"]),
        NameRule("𝓦_{l}.b^{h}_k", "h.{l}.attn.c_attn.bias", .head(block: 1, transposed: false), ["d_attn"]),
        NameRule("𝓦_{l}.W^{h}_v", "h.{l}.attn.c_attn.weight", .head(block: 2, transposed: true), ["d_mid", "d_e"]),
        NameRule("𝓦_{l}.b^{h}_v", "h.{l}.attn.c_attn.bias", .head(block: 2, transposed: false), ["d_mid"]),
        NameRule("𝓦_{l}.W_o", "h.{l}.attn.c_proj.weight", .transposed, ["d_e", "d_e"]),
        NameRule("𝓦_{l}.b_o", "h.{l}.attn.c_proj.bias", .same, ["d_e"]),
        NameRule("γ^1_{l}", "h.{l}.ln_1.weight", .same, ["d_e"]),
        NameRule("β^1_{l}", "h.{l}.ln_1.bias", .same, ["d_e"]),
        NameRule("γ^2_{l}", "h.{l}.ln_2.weight", .same, ["d_e"]),
        NameRule("β^2_{l}", "h.{l}.ln_2.bias", .same, ["d_e"]),
        NameRule("W^{l}_mlp1", "h.{l}.mlp.c_fc.weight", .transposed, ["d_mlp", "d_e"]),
        NameRule("b^{l}_mlp1", "h.{l}.mlp.c_fc.bias", .same, ["d_mlp"]),
        NameRule("W^{l}_mlp2", "h.{l}.mlp.c_proj.weight", .transposed, ["d_e", "d_mlp"]),
        NameRule("b^{l}_mlp2", "h.{l}.mlp.c_proj.bias", .same, ["d_e"]),
        NameRule("γ", "ln_f.weight", .same, ["d_e"]),
        NameRule("β", "ln_f.bias", .same, ["d_e"]),
    ]

    /// nanoGPT's `GPT` state dict ↔ `Algorithms/GPT2/NanoGPT.algo`: GPT-2's names with nn.Linear
    /// weights ([out, in]: no transposition); `lm_head.weight` is `transformer.wte.weight` (tied).
    public static let nanoGPT: [NameRule] = gpt2.map { r in
        guard r.stored.contains(".attn.") || r.stored.contains(".mlp.") else { return r }
        switch r.layout {
        case .transposed: return NameRule(r.algo, r.stored, .same, r.shape)
        case .head(let block, _): return NameRule(r.algo, r.stored, .head(block: block, transposed: false), r.shape)
        case .same: return r
        }
    }

    /// HuggingFace `BertForMaskedLM` ↔ `Algorithms/BERT/BERT.algo`. The decoder weight is the word
    /// embedding (tied); its bias is `cls.predictions.bias`.
    public static let bert: [NameRule] = [
        NameRule("W_e", "bert.embeddings.word_embeddings.weight", .transposed, ["d_e", "N_V"]),
        NameRule("W_p", "bert.embeddings.position_embeddings.weight", .transposed, ["d_e", "ℓ_max"]),
        NameRule("W_s", "bert.embeddings.token_type_embeddings.weight", .transposed, ["d_e", "N_S"]),
        NameRule("γ_e", "bert.embeddings.LayerNorm.weight", .same, ["d_e"]),
        NameRule("β_e", "bert.embeddings.LayerNorm.bias", .same, ["d_e"]),
        NameRule("𝓦_{l}.W^{h}_q", "bert.encoder.layer.{l}.attention.self.query.weight", .head(block: 0, transposed: false), ["d_attn", "d_e"]),
        NameRule("𝓦_{l}.b^{h}_q", "bert.encoder.layer.{l}.attention.self.query.bias", .head(block: 0, transposed: false), ["d_attn"]),
        NameRule("𝓦_{l}.W^{h}_k", "bert.encoder.layer.{l}.attention.self.key.weight", .head(block: 0, transposed: false), ["d_attn", "d_e"]),
        NameRule("𝓦_{l}.b^{h}_k", "bert.encoder.layer.{l}.attention.self.key.bias", .head(block: 0, transposed: false), ["d_attn"]),
        NameRule("𝓦_{l}.W^{h}_v", "bert.encoder.layer.{l}.attention.self.value.weight", .head(block: 0, transposed: false), ["d_mid", "d_e"]),
        NameRule("𝓦_{l}.b^{h}_v", "bert.encoder.layer.{l}.attention.self.value.bias", .head(block: 0, transposed: false), ["d_mid"]),
        NameRule("𝓦_{l}.W_o", "bert.encoder.layer.{l}.attention.output.dense.weight", .same, ["d_e", "d_e"]),
        NameRule("𝓦_{l}.b_o", "bert.encoder.layer.{l}.attention.output.dense.bias", .same, ["d_e"]),
        NameRule("γ^1_{l}", "bert.encoder.layer.{l}.attention.output.LayerNorm.weight", .same, ["d_e"]),
        NameRule("β^1_{l}", "bert.encoder.layer.{l}.attention.output.LayerNorm.bias", .same, ["d_e"]),
        NameRule("W^{l}_mlp1", "bert.encoder.layer.{l}.intermediate.dense.weight", .same, ["d_mlp", "d_e"]),
        NameRule("b^{l}_mlp1", "bert.encoder.layer.{l}.intermediate.dense.bias", .same, ["d_mlp"]),
        NameRule("W^{l}_mlp2", "bert.encoder.layer.{l}.output.dense.weight", .same, ["d_e", "d_mlp"]),
        NameRule("b^{l}_mlp2", "bert.encoder.layer.{l}.output.dense.bias", .same, ["d_e"]),
        NameRule("γ^2_{l}", "bert.encoder.layer.{l}.output.LayerNorm.weight", .same, ["d_e"]),
        NameRule("β^2_{l}", "bert.encoder.layer.{l}.output.LayerNorm.bias", .same, ["d_e"]),
        NameRule("W_f", "cls.predictions.transform.dense.weight", .same, ["d_e", "d_e"]),
        NameRule("b_f", "cls.predictions.transform.dense.bias", .same, ["d_e"]),
        NameRule("γ", "cls.predictions.transform.LayerNorm.weight", .same, ["d_e"]),
        NameRule("β", "cls.predictions.transform.LayerNorm.bias", .same, ["d_e"]),
        NameRule("b_u", "cls.predictions.bias", .same, ["N_V"]),
    ]

    /// Stored tensors that carry nothing `algo` needs: GPT-2's causal-mask buffers, BERT's position
    /// ids, pooler and next-sentence head, and the tied output weights (checked equal to the embedding).
    static func isIgnorable(_ stored: String) -> Bool {
        stored.hasSuffix(".attn.bias") && !stored.contains("c_attn") || stored.hasSuffix(".attn.masked_bias")
            || stored == "bert.embeddings.position_ids" || stored.hasPrefix("bert.pooler.") || stored.hasPrefix("cls.seq_relationship.")
    }

    /// `{l}`/`{h}` filled in: `algo` indices as the paper writes them (a value of two or more digits braced).
    static func instantiate(_ pattern: String, layer: Int?, head: Int?, algoSide: Bool) -> String {
        func index(_ n: Int) -> String { algoSide ? (n < 10 ? "\(n)" : "{\(n)}") : "\(n)" }
        var s = pattern
        if let l = layer { s = s.replacingOccurrences(of: "{l}", with: index(algoSide ? l : l - 1)) }
        if let h = head { s = s.replacingOccurrences(of: "{h}", with: index(h)) }
        return s
    }
}
