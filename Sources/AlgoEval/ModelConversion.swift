// `algo convert`: real checkpoints into `algo`'s names and layout and back, by the table of
// `ModelNames` (read in both directions; nothing else knows a stored name). See the README beside
// this file for the table, the hyperparameters and what is refused.

import Foundation
import AlgoTensor

/// The checkpoint formats `algo convert` reads and writes besides `algo`'s own.
public enum ModelFormat: String, Sendable, CaseIterable {
    /// HuggingFace `GPT2LMHeadModel`: `model.safetensors` + `config.json`.
    case hfGPT2 = "hf-gpt2"
    /// HuggingFace `BertForMaskedLM`: `model.safetensors` + `config.json`.
    case hfBERT = "hf-bert"
    /// nanoGPT's `GPT` state dict saved as safetensors (no config: `H` must be given).
    case nanoGPT = "nanogpt"

    /// The table of this format.
    var rules: [NameRule] {
        switch self {
        case .hfGPT2: return ModelNames.gpt2
        case .hfBERT: return ModelNames.bert
        case .nanoGPT: return ModelNames.nanoGPT
        }
    }
}

/// A conversion failure: one lowercase line naming what does not fit.
public struct ConversionError: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The result of a conversion into `algo`'s names.
public struct ConvertedModel: Sendable {
    /// The tensors under `algo params` names.
    public var tensors: [(name: String, tensor: Tensor)]
    /// `algo.hyperparameter.*`, `algo.algorithm`, `algo.convert.*` (and `algo.tokenizer` when given).
    public var metadata: [String: String]
    /// Stored tensors that no rule reads and that are not known to be ignorable.
    public var unused: [String]
}

/// Conversion between stored checkpoints and `algo`'s.
public enum ModelConversion {
    /// Metadata key of the original `config.json` (so that `--to` writes it back with its other fields).
    public static let configKey = "algo.convert.config"
    /// Metadata key of the format converted from.
    public static let sourceKey = "algo.convert.from"
    /// Metadata key of the tokenizer (`tokenizer.json` text) a checkpoint carries.
    public static let tokenizerKey = CheckpointMetadata.tokenizerKey

    /// `model_type` of a `config.json` (`gpt2`, `bert`, …), if it has one.
    public static func modelType(config: [UInt8]) -> String? {
        guard case .success(let v) = JSONParser.parse(config), case .string(let t)? = v["model_type"] else { return nil }
        return t
    }

    // MARK: - Into algo's names

    /// Converts stored tensors of `format` (names as saved; a `transformer.` or `_orig_mod.` prefix is
    /// stripped) with the model's `config.json` (nil for nanoGPT) and, for nanoGPT, the head count.
    public static func toAlgo(_ format: ModelFormat, stored raw: [String: Tensor], config: [UInt8]?, heads: Int?,
                              tokenizer: [UInt8]? = nil) -> Result<ConvertedModel, ConversionError> {
        do { return .success(try convertToAlgo(format, raw, config, heads, tokenizer)) } catch let e as ConversionError { return .failure(e) } catch {
            return .failure(ConversionError("\(error)"))
        }
    }

    /// The stored names with the prefixes a saving program adds removed.
    static func normalized(_ raw: [String: Tensor], _ format: ModelFormat) -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        for (k, v) in raw {
            var n = k
            if n.hasPrefix("_orig_mod.") { n.removeFirst("_orig_mod.".count) }
            if format != .hfBERT, n.hasPrefix("transformer.") { n.removeFirst("transformer.".count) }
            if format == .hfBERT {
                if n.hasSuffix(".gamma") { n = String(n.dropLast(".gamma".count)) + ".weight" }   // TF-era BERT names
                if n.hasSuffix(".beta") { n = String(n.dropLast(".beta".count)) + ".bias" }
            }
            out[n] = v
        }
        return out
    }

    private static func convertToAlgo(_ format: ModelFormat, _ raw: [String: Tensor], _ configBytes: [UInt8]?, _ heads: Int?,
                                      _ tokenizer: [UInt8]?) throws -> ConvertedModel {
        let stored = normalized(raw, format)
        var config: JSONValue = .object([])
        if let c = configBytes {
            switch JSONParser.parse(c) {
            case .success(let v): config = v
            case .failure(let e): throw ConversionError("config.json: \(e.message) at byte \(e.offset)")
            }
        }
        func int(_ key: String) -> Int? { config[key]?.nonNegativeInt }
        func real(_ key: String) -> Double? { if case .number(let s)? = config[key] { return Double(s) }; return nil }
        func shape(_ name: String) throws -> [Int] {
            guard let t = stored[name] else { throw ConversionError("the checkpoint has no `\(name)`") }
            return t.shape
        }

        // Hyperparameters, and which shipped algorithm computes this model.
        var dims: [String: Int] = [:]
        let ε: Double
        let algorithm: String
        switch format {
        case .hfGPT2:
            guard configBytes != nil else { throw ConversionError("a HuggingFace GPT-2 needs its config.json (n_head, layer_norm_epsilon, activation_function)") }
            guard let L = int("n_layer"), let H = int("n_head"), let d = int("n_embd"), let nv = int("vocab_size"), let p = int("n_positions") else {
                throw ConversionError("config.json lacks one of n_layer, n_head, n_embd, vocab_size, n_positions")
            }
            dims = ["L": L, "H": H, "d_e": d, "N_V": nv, "ℓ_max": p, "d_mlp": int("n_inner") ?? 4 * d]
            ε = real("layer_norm_epsilon") ?? 1e-5
            let act: String
            if case .string(let a)? = config["activation_function"] { act = a } else { act = "gelu_new" }
            switch act {
            case "gelu_new", "gelu_pytorch_tanh": algorithm = "GPT2"
            case "gelu": algorithm = "NanoGPT"
            default: throw ConversionError("activation_function `\(act)` is not GPT-2's (gelu_new) nor the exact GELU (gelu)")
            }
            for (key, wanted) in [("scale_attn_weights", true), ("scale_attn_by_inverse_layer_idx", false), ("add_cross_attention", false), ("tie_word_embeddings", true)]
            where config[key] != nil && config[key] != .bool(wanted) {
                throw ConversionError("config.json has \(key) = \(!wanted); GPT2.algo computes \(key) = \(wanted)")
            }
        case .nanoGPT:
            guard let H = heads else { throw ConversionError("a nanoGPT state dict does not record the number of heads: give `--heads H` (n_head of its GPTConfig)") }
            let wte = try shape("wte.weight"), wpe = try shape("wpe.weight"), fc = try shape("h.0.mlp.c_fc.weight")
            guard wte.count == 2, wpe.count == 2, fc.count == 2 else { throw ConversionError("wte, wpe and h.0.mlp.c_fc must be matrices") }
            let layers = Set(stored.keys.compactMap { k -> Int? in
                guard k.hasPrefix("h.") else { return nil }
                return Int(k.dropFirst(2).prefix { $0 != "." })
            })
            guard let top = layers.max(), layers.count == top + 1 else { throw ConversionError("the layers h.0 … h.N are not numbered without gaps") }
            dims = ["L": top + 1, "H": H, "d_e": wte[1], "N_V": wte[0], "ℓ_max": wpe[0], "d_mlp": fc[0]]
            ε = 1e-5
            algorithm = "NanoGPT"
        case .hfBERT:
            guard configBytes != nil else { throw ConversionError("a HuggingFace BERT needs its config.json (num_attention_heads, layer_norm_eps)") }
            guard let L = int("num_hidden_layers"), let H = int("num_attention_heads"), let d = int("hidden_size"), let nv = int("vocab_size"),
                  let p = int("max_position_embeddings"), let m = int("intermediate_size") else {
                throw ConversionError("config.json lacks one of num_hidden_layers, num_attention_heads, hidden_size, vocab_size, max_position_embeddings, intermediate_size")
            }
            dims = ["L": L, "H": H, "d_e": d, "N_V": nv, "ℓ_max": p, "d_mlp": m, "N_S": int("type_vocab_size") ?? 2]
            ε = real("layer_norm_eps") ?? 1e-12
            if let act = config["hidden_act"], act != .string("gelu") { throw ConversionError("hidden_act must be `gelu` (eq. 5's GELU), not \(act)") }
            if let t = config["tie_word_embeddings"], t != .bool(true) { throw ConversionError("BERT.algo ties the decoder to the word embeddings; this config unties them") }
            if let pe = config["position_embedding_type"], pe != .string("absolute") { throw ConversionError("only absolute position embeddings are supported") }
            algorithm = "BERT"
        }
        guard let H = dims["H"], let d = dims["d_e"], H >= 1, d % H == 0 else { throw ConversionError("d_e = \(dims["d_e"] ?? 0) is not a multiple of H = \(dims["H"] ?? 0)") }
        dims["d_attn"] = d / H
        dims["d_mid"] = d / H
        guard dims.values.allSatisfy({ $0 >= 1 && $0 <= 1 << 24 }) else { throw ConversionError("a hyperparameter is 0 or implausibly large: \(dims)") }

        // The tensors, rule by rule.
        var out: [(name: String, tensor: Tensor)] = []
        var read: Set<String> = []
        for rule in format.rules {
            for l in rule.perLayer ? Array(1...dims["L"]!) : [0] {
                for h in rule.perHead ? Array(1...H) : [0] {
                    let name = ModelNames.instantiate(rule.algo, layer: rule.perLayer ? l : nil, head: rule.perHead ? h : nil, algoSide: true)
                    let storedName = ModelNames.instantiate(rule.stored, layer: rule.perLayer ? l : nil, head: nil, algoSide: false)
                    let expected = try rule.shape.map { n -> Int in
                        guard let v = dims[n] else { throw ConversionError("no value for \(n)") }
                        return v
                    }
                    guard let s = stored[storedName] else {
                        // nanoGPT with bias=False has no biases and no β: they are zero.
                        if format == .nanoGPT, storedName.hasSuffix(".bias") { out.append((name, Tensor.zeros(expected))); continue }
                        throw ConversionError("the checkpoint has no `\(storedName)` (for `\(name)`)")
                    }
                    read.insert(storedName)
                    let t = try extract(s, rule.layout, head: h, dims: dims, stored: storedName)
                    guard t.shape == expected else {
                        throw ConversionError("`\(storedName)` gives `\(name)` the shape \(t.shape.map(String.init).joined(separator: "×")), expected \(expected.map(String.init).joined(separator: "×")) (\(rule.shape.joined(separator: "×")))")
                    }
                    out.append((name, t))
                }
            }
        }

        // Tied weights: one tensor. A stored copy must be that tensor.
        let tied: [(copy: String, of: String)] = format == .hfBERT
            ? [("cls.predictions.decoder.weight", "bert.embeddings.word_embeddings.weight"), ("cls.predictions.decoder.bias", "cls.predictions.bias")]
            : [("lm_head.weight", "wte.weight")]
        for (copy, of) in tied {
            guard let c = stored[copy] else { continue }
            guard let o = stored[of], c.hasSameBits(as: o) else {
                throw ConversionError("`\(copy)` differs from `\(of)`: the model is not tied, and the shipped algorithm ties them")
            }
            read.insert(copy)
        }
        let unused = stored.keys.filter { !read.contains($0) && !ModelNames.isIgnorable($0) }.sorted()

        var metadata: [String: String] = ["algo.algorithm": algorithm, sourceKey: format.rawValue]
        for (k, v) in dims { metadata[CheckpointMetadata.hyperparameterPrefix + k] = String(v) }
        metadata[CheckpointMetadata.hyperparameterPrefix + "ε"] = "\(ε)"
        if let c = configBytes { metadata[configKey] = String(decoding: c, as: UTF8.self) }
        if let t = tokenizer { metadata[tokenizerKey] = String(decoding: t, as: UTF8.self) }
        return ConvertedModel(tensors: out, metadata: metadata, unused: unused)
    }

    /// The `algo` tensor a layout reads out of stored tensor `s`: a view of its storage (no copy; the
    /// converted model holds the stored tensors once, and each is laid out as it is written).
    static func extract(_ s: Tensor, _ layout: NameLayout, head h: Int, dims: [String: Int], stored: String) throws -> Tensor {
        switch layout {
        case .same: return s
        case .transposed:
            guard s.rank == 2 else { throw ConversionError("`\(stored)` is not a matrix") }
            return s.transposed
        case .head(let block, let transposed):
            guard let d = dims["d_e"], let da = dims["d_attn"] else { throw ConversionError("no d_e") }
            let m = transposed && s.rank == 2 ? s.transposed : s
            let lo = block * d + (h - 1) * da
            guard m.rank >= 1, m.rank <= 2, lo + da <= m.shape[0] else {
                throw ConversionError("`\(stored)` has shape \(s.shape.map(String.init).joined(separator: "×")), too small for head \(h) of block \(block)")
            }
            let upper = m.rank == 2 ? [lo + da, m.shape[1]] : [lo + da]
            return m.slice(lower: m.rank == 2 ? [lo, 0] : [lo], upper: upper)
        }
    }

    // MARK: - Out of algo's names

    /// The stored tensors (names as `format` saves them) and `config.json` of an `algo` checkpoint
    /// converted from (or shaped like) `format`.
    public static func fromAlgo(_ format: ModelFormat, _ c: Checkpoint) -> Result<(tensors: [(name: String, tensor: Tensor)], config: [UInt8]?), ConversionError> {
        do { return .success(try convertFromAlgo(format, c)) } catch let e as ConversionError { return .failure(e) } catch {
            return .failure(ConversionError("\(error)"))
        }
    }

    private static func convertFromAlgo(_ format: ModelFormat, _ c: Checkpoint) throws -> (tensors: [(name: String, tensor: Tensor)], config: [UInt8]?) {
        var given: [String: Tensor] = [:]
        for (n, t) in c.tensors { given[n] = t }
        guard given["W_u"] == nil else {
            throw ConversionError("the checkpoint has an untied unembedding `W_u` (DTransformer/ETransformer); `--to \(format.rawValue)` writes the tied models of Algorithms/GPT2 and Algorithms/BERT")
        }
        let h = CheckpointMetadata.hyperparameters(c.metadata)
        var dims: [String: Int] = [:]
        for (k, v) in h { if let i = Int(v) { dims[k] = i } }
        let ε = h["ε"].flatMap(Double.init)
        // Dimensions from the shapes when the metadata lacks them.
        if let we = given["W_e"], we.rank == 2 { dims["d_e"] = dims["d_e"] ?? we.shape[0]; dims["N_V"] = dims["N_V"] ?? we.shape[1] }
        if let wp = given["W_p"], wp.rank == 2 { dims["ℓ_max"] = dims["ℓ_max"] ?? wp.shape[1] }
        if let m = given["W^1_mlp1"], m.rank == 2 { dims["d_mlp"] = dims["d_mlp"] ?? m.shape[0] }
        if let s = given["W_s"], s.rank == 2 { dims["N_S"] = dims["N_S"] ?? s.shape[1] }
        if dims["L"] == nil { dims["L"] = (1...4096).first { given[ModelNames.instantiate("γ^1_{l}", layer: $0 + 1, head: nil, algoSide: true)] == nil } }
        if dims["H"] == nil { dims["H"] = (1...4096).first { given[ModelNames.instantiate("𝓦_{l}.W^{h}_q", layer: 1, head: $0 + 1, algoSide: true)] == nil } }
        guard let L = dims["L"], let H = dims["H"], L >= 1, H >= 1 else { throw ConversionError("cannot tell L and H from the checkpoint") }
        if let d = dims["d_e"] { dims["d_attn"] = dims["d_attn"] ?? d / H }

        // Each stored tensor from the algo tensors that a rule reads out of it, in rule order: views
        // where it is one tensor, the heads stacked where it is several (laid out as it is written).
        var pieces: [String: [(layout: NameLayout, head: Int, tensor: Tensor)]] = [:]
        var order: [String] = []
        for rule in format.rules {
            for l in rule.perLayer ? Array(1...L) : [0] {
                for hh in rule.perHead ? Array(1...H) : [0] {
                    let name = ModelNames.instantiate(rule.algo, layer: rule.perLayer ? l : nil, head: rule.perHead ? hh : nil, algoSide: true)
                    let storedName = ModelNames.instantiate(rule.stored, layer: rule.perLayer ? l : nil, head: nil, algoSide: false)
                    guard let t = given[name] else { throw ConversionError("the checkpoint has no `\(name)` (for `\(storedName)`)") }
                    if pieces[storedName] == nil { order.append(storedName) }
                    pieces[storedName, default: []].append((rule.layout, hh, t))
                }
            }
        }
        var out: [(name: String, tensor: Tensor)] = []
        for storedName in order {
            let ps = pieces[storedName]!
            let t: Tensor
            switch ps[0].layout {
            case .same: t = ps[0].tensor
            case .transposed: t = ps[0].tensor.transposed
            case .head(_, let transposed):
                let blocks = ps.sorted { a, b in
                    guard case .head(let ba, _) = a.layout, case .head(let bb, _) = b.layout else { return false }
                    return (ba, a.head) < (bb, b.head)
                }
                let stacked = Tensor.concat(blocks.map(\.tensor), axis: 0)
                t = transposed ? stacked.transposed : stacked
            }
            let prefix = format == .hfGPT2 ? "transformer." : (format == .nanoGPT ? "transformer." : "")
            out.append((prefix + storedName, t))
        }
        return (out, try config(format, dims: dims, ε: ε, original: c.metadata[configKey]))
    }

    /// `config.json` for `format`: the original one with the hyperparameters set, or a new one.
    static func config(_ format: ModelFormat, dims: [String: Int], ε: Double?, original: String?) throws -> [UInt8]? {
        func n(_ k: String) -> JSONValue { .number(String(dims[k] ?? 0)) }
        var set: [(String, JSONValue)]
        switch format {
        case .nanoGPT: return nil
        case .hfGPT2:
            set = [("architectures", .array([.string("GPT2LMHeadModel")])), ("model_type", .string("gpt2")),
                   ("vocab_size", n("N_V")), ("n_positions", n("ℓ_max")), ("n_embd", n("d_e")), ("n_layer", n("L")), ("n_head", n("H")),
                   ("n_inner", n("d_mlp")), ("layer_norm_epsilon", .number("\(ε ?? 1e-5)")), ("tie_word_embeddings", .bool(true))]
            if original == nil { set.append(("activation_function", .string("gelu_new"))) }
        case .hfBERT:
            set = [("architectures", .array([.string("BertForMaskedLM")])), ("model_type", .string("bert")),
                   ("vocab_size", n("N_V")), ("max_position_embeddings", n("ℓ_max")), ("hidden_size", n("d_e")),
                   ("num_hidden_layers", n("L")), ("num_attention_heads", n("H")), ("intermediate_size", n("d_mlp")),
                   ("type_vocab_size", n("N_S")), ("layer_norm_eps", .number("\(ε ?? 1e-12)")), ("hidden_act", .string("gelu")),
                   ("tie_word_embeddings", .bool(true))]
        }
        var members: [(key: String, value: JSONValue)] = []
        if let o = original, case .success(.object(let m)) = JSONParser.parse(Array(o.utf8)) { members = m }
        for (k, v) in set {
            if let i = members.firstIndex(where: { $0.key == k }) { members[i].value = v } else { members.append((k, v)) }
        }
        return JSONWriter.write(.object(members)) + [0x0A]
    }
}
