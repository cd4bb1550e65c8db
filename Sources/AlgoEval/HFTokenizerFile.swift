// Reading HuggingFace tokenizer files into an `HFTokenizer`: a `tokenizer.json`, or GPT-2's
// `vocab.json` + `merges.txt` (turned into the `tokenizer.json` that `GPT2TokenizerFast` would
// write, which is then the tokenizer's vocabulary file). Every malformation is a
// `TokenizerError.malformedFile` naming what is wrong; nothing traps and no allocation exceeds a
// small multiple of the file's size: ids must be 0…N−1 without gaps (a huge id is refused before
// any table of that size exists), merged tokens must be in the vocabulary (so their length is
// bounded by the file), and files past the memory budget are refused unread (`TokenizerFile.read`).

import Foundation

/// Parsing of HuggingFace's tokenizer files.
public enum HFTokenizerFile {
    /// The largest id accepted (GPT-2's tokenizer.json is 1.4 MB and has 50257; no real file has ids near this).
    public static let maxFileBytes = 512 << 20

    /// The longest token string accepted, in UTF-8 bytes (GPT-2's longest is 128 bytes).
    public static let maxTokenBytes = 4096

    // MARK: - GPT-2's pair of files

    /// A byte-level BPE from GPT-2's `vocab.json` (token → 0-based id) and `merges.txt` (one
    /// `left right` pair per line in rank order, an optional `#version` first line).
    public static func gpt2(vocabJSON: [UInt8], merges: [UInt8]) -> Result<HFTokenizer, TokenizerError> {
        let vocab: JSONValue
        switch JSONParser.parse(vocabJSON) {
        case .success(let v): vocab = v
        case .failure(let e): return .failure(.malformedFile("vocab.json: \(e.message) at byte \(e.offset)"))
        }
        guard case .object = vocab else { return .failure(.malformedFile("vocab.json must be an object of token → id")) }
        guard let text = String(validating: merges, as: UTF8.self) else { return .failure(.malformedFile("merges.txt is not UTF-8")) }
        var mergeItems: [JSONValue] = []
        for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let l = line.hasSuffix("\r") ? line.dropLast() : line
            if l.isEmpty || (n == 0 && l.hasPrefix("#version")) { continue }
            let parts = l.split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                return .failure(.malformedFile("merges.txt line \(n + 1) is not two tokens separated by one space"))
            }
            mergeItems.append(.array([.string(String(parts[0])), .string(String(parts[1]))]))
        }
        var added: [JSONValue] = []
        if case .object(let members) = vocab, let eot = members.first(where: { $0.key == "<|endoftext|>" }) {
            added.append(.object([("id", eot.value), ("content", .string("<|endoftext|>")), ("single_word", .bool(false)),
                                  ("lstrip", .bool(false)), ("rstrip", .bool(false)), ("normalized", .bool(true)), ("special", .bool(true))]))
        }
        let byteLevel: JSONValue = .object([("type", .string("ByteLevel")), ("add_prefix_space", .bool(false)),
                                            ("trim_offsets", .bool(true)), ("use_regex", .bool(true))])
        let json: JSONValue = .object([
            ("version", .string("1.0")), ("truncation", .null), ("padding", .null), ("added_tokens", .array(added)),
            ("normalizer", .null), ("pre_tokenizer", byteLevel), ("post_processor", byteLevel), ("decoder", byteLevel),
            ("model", .object([("type", .string("BPE")), ("dropout", .null), ("unk_token", .null),
                               ("continuing_subword_prefix", .null), ("end_of_word_suffix", .null), ("fuse_unk", .bool(false)),
                               ("byte_fallback", .bool(false)), ("ignore_merges", .bool(false)),
                               ("vocab", vocab), ("merges", .array(mergeItems))])),
        ])
        let bytes = JSONWriter.write(json) + [0x0A]
        return tokenizer(json, bytes: bytes)
    }

    // MARK: - tokenizer.json

    /// A tokenizer from the bytes of a `tokenizer.json`.
    public static func tokenizerJSON(_ bytes: [UInt8]) -> Result<HFTokenizer, TokenizerError> {
        switch JSONParser.parse(bytes) {
        case .success(let v): return tokenizer(v, bytes: bytes)
        case .failure(let e): return .failure(.malformedFile("\(e.message) at byte \(e.offset)"))
        }
    }

    /// Whether parsed JSON looks like a `tokenizer.json` (an object with a `model`).
    static func isTokenizerJSON(_ v: JSONValue) -> Bool { v["model"] != nil }

    private struct Failure: Error { var message: String }

    static func tokenizer(_ root: JSONValue, bytes: [UInt8]) -> Result<HFTokenizer, TokenizerError> {
        do { return .success(try build(root, bytes: bytes)) } catch let f as Failure { return .failure(.malformedFile(f.message)) } catch {
            return .failure(.malformedFile("\(error)"))
        }
    }

    private static func build(_ root: JSONValue, bytes: [UInt8]) throws -> HFTokenizer {
        guard case .object = root else { throw Failure(message: "expected a JSON object") }
        guard let model = root["model"], case .object = model else { throw Failure(message: "`model` must be an object") }
        guard case .string(let type)? = model["type"] else { throw Failure(message: "`model.type` must be a string") }

        // The vocabulary: the model's and the added tokens', ids 0…N−1 without gaps.
        guard case .object(let vocabMembers)? = model["vocab"] else { throw Failure(message: "`model.vocab` must be an object of token → id") }
        var entries: [(String, Int)] = []
        entries.reserveCapacity(vocabMembers.count)
        for (token, idValue) in vocabMembers {
            guard let id = idValue.nonNegativeInt, id < maxFileBytes else { throw Failure(message: "the id of token \(quoted(token)) is not a natural number") }
            entries.append((token, id))
        }
        var added: [HFTokenizer.AddedToken] = []
        if let a = root["added_tokens"], a != .null {
            guard case .array(let items) = a else { throw Failure(message: "`added_tokens` must be an array") }
            for (k, item) in items.enumerated() {
                guard case .string(let content)? = item["content"], let id = item["id"]?.nonNegativeInt, id < maxFileBytes else {
                    throw Failure(message: "added token \(k + 1) needs a string `content` and a natural `id`")
                }
                if item["single_word"] == .bool(true) { throw Failure(message: "added token \(quoted(content)): `single_word` is not supported") }
                added.append(HFTokenizer.AddedToken(content: content, id: id, special: item["special"] == .bool(true),
                                                    lstrip: item["lstrip"] == .bool(true), rstrip: item["rstrip"] == .bool(true)))
                entries.append((content, id))
            }
        }
        let count = entries.reduce(0) { max($0, $1.1 + 1) }
        guard count <= entries.count else {
            throw Failure(message: "ids must be 0…N−1 without gaps; id \(count - 1) is beyond the \(entries.count) tokens")
        }
        var tokens = [String?](repeating: nil, count: count)
        var ids: [String: Int] = [:]
        for (token, id) in entries {
            guard token.utf8.count <= maxTokenBytes else { throw Failure(message: "token \(id) is longer than \(maxTokenBytes) bytes") }
            if let old = tokens[id], Array(old.utf8) != Array(token.utf8) {
                throw Failure(message: "id \(id) is both \(quoted(old)) and \(quoted(token))")
            }
            if let other = ids[token], other != id { throw Failure(message: "token \(quoted(token)) has ids \(other) and \(id)") }
            tokens[id] = token
            ids[token] = id
        }
        if let gap = tokens.firstIndex(where: { $0 == nil }) { throw Failure(message: "ids must be 0…N−1 without gaps; no token has id \(gap)") }
        return try finish(root, model: model, type: type, tokens: tokens.compactMap { $0 }, ids: ids, added: added, bytes: bytes)
    }

    private static func finish(_ root: JSONValue, model: JSONValue, type: String, tokens: [String], ids: [String: Int],
                               added: [HFTokenizer.AddedToken], bytes: [UInt8]) throws -> HFTokenizer {
        func id(of token: JSONValue?, _ what: String) throws -> Int? {
            guard let token, token != .null else { return nil }
            guard case .string(let s) = token, let i = ids[s] else { throw Failure(message: "\(what) is not a token of the vocabulary") }
            return i
        }
        func bool(_ v: JSONValue?, _ default: Bool) -> Bool { if case .bool(let b)? = v { return b }; return `default` }

        // Model.
        let m: HFTokenizer.Model
        switch type {
        case "BPE":
            for (key, what) in [("continuing_subword_prefix", "a continuing-subword prefix"), ("end_of_word_suffix", "an end-of-word suffix"), ("dropout", "dropout")] {
                if let v = model[key], v != .null { throw Failure(message: "BPE with \(what) is not supported") }
            }
            if bool(model["byte_fallback"], false) { throw Failure(message: "BPE with `byte_fallback` is not supported") }
            guard case .array(let items)? = model["merges"] else { throw Failure(message: "`model.merges` must be an array") }
            var ranks: [HFTokenizer.Pair: (rank: Int, id: Int)] = [:]
            ranks.reserveCapacity(items.count)
            for (r, item) in items.enumerated() {
                let a: String, b: String
                switch item {
                case .string(let s):
                    let parts = s.split(separator: " ", omittingEmptySubsequences: false)
                    guard parts.count == 2 else { throw Failure(message: "merge \(r + 1) is not two tokens separated by one space") }
                    (a, b) = (String(parts[0]), String(parts[1]))
                case .array(let p):
                    guard p.count == 2, case .string(let x) = p[0], case .string(let y) = p[1] else { throw Failure(message: "merge \(r + 1) is not a pair of strings") }
                    (a, b) = (x, y)
                default: throw Failure(message: "merge \(r + 1) is not a pair of strings")
                }
                guard let l = ids[a], let rr = ids[b] else { throw Failure(message: "merge \(r + 1) (\(quoted(a)) \(quoted(b))) uses a token outside the vocabulary") }
                guard let merged = ids[a + b] else { throw Failure(message: "merge \(r + 1) makes \(quoted(a + b)), which is not in the vocabulary") }
                let pair = HFTokenizer.Pair(l, rr)
                guard ranks[pair] == nil else { throw Failure(message: "merge \(r + 1) (\(quoted(a)) \(quoted(b))) appears twice") }
                ranks[pair] = (r, merged)
            }
            m = .bpe(ranks: ranks, ignoreMerges: bool(model["ignore_merges"], false), unknown: try id(of: model["unk_token"], "`model.unk_token`"))
        case "WordPiece":
            guard let unk = try id(of: model["unk_token"] ?? .string("[UNK]"), "`model.unk_token`") else { throw Failure(message: "WordPiece needs `unk_token`") }
            var prefix = "##"
            if case .string(let p)? = model["continuing_subword_prefix"] { prefix = p }
            let maxChars = model["max_input_chars_per_word"]?.nonNegativeInt ?? 100
            m = .wordPiece(prefix: prefix, unknown: unk, maxChars: maxChars)
        default:
            throw Failure(message: "model type \(quoted(type)) is not supported (BPE and WordPiece are)")
        }

        // Normalizer.
        var normalizers: [HFNormalizer] = []
        func normalizer(_ v: JSONValue) throws {
            if v == .null { return }
            guard case .string(let t)? = v["type"] else { throw Failure(message: "a normalizer without `type`") }
            switch t {
            case "BertNormalizer":
                let lower = bool(v["lowercase"], true)
                let strip: Bool
                if case .bool(let s)? = v["strip_accents"] { strip = s } else { strip = lower }
                normalizers.append(.bert(cleanText: bool(v["clean_text"], true), chineseChars: bool(v["handle_chinese_chars"], true),
                                         stripAccents: strip, lowercase: lower))
            case "Lowercase": normalizers.append(.lowercase)
            case "NFC": normalizers.append(.nfc)
            case "NFD": normalizers.append(.nfd)
            case "NFKC": normalizers.append(.nfkc)
            case "NFKD": normalizers.append(.nfkd)
            case "StripAccents": normalizers.append(.stripAccents)
            case "Sequence":
                guard case .array(let list)? = v["normalizers"] else { throw Failure(message: "a `Sequence` normalizer needs `normalizers`") }
                for n in list { try normalizer(n) }
            default: throw Failure(message: "normalizer \(quoted(t)) is not supported")
            }
        }
        try normalizer(root["normalizer"] ?? .null)

        // Pre-tokenizer.
        func preTokenizer(_ v: JSONValue) throws -> HFTokenizer.PreTokenizer {
            guard case .string(let t)? = v["type"] else { throw Failure(message: "`pre_tokenizer` must be an object with a `type`") }
            switch t {
            case "ByteLevel": return .byteLevel(prefixSpace: bool(v["add_prefix_space"], false), useRegex: bool(v["use_regex"], true))
            case "BertPreTokenizer": return .bert
            case "WhitespaceSplit": return .whitespaceSplit
            case "Sequence":
                guard case .array(let list)? = v["pretokenizers"], list.count == 1 else { throw Failure(message: "a `Sequence` pre-tokenizer of more than one step is not supported") }
                return try preTokenizer(list[0])
            default: throw Failure(message: "pre-tokenizer \(quoted(t)) is not supported")
            }
        }
        let pre = try preTokenizer(root["pre_tokenizer"] ?? .null)

        // Post-processor: the tokens around a single text.
        var prefix: [Int] = [], suffix: [Int] = []
        func postProcessor(_ v: JSONValue) throws {
            if v == .null { return }
            guard case .string(let t)? = v["type"] else { throw Failure(message: "`post_processor` must be an object with a `type`") }
            switch t {
            case "ByteLevel": return
            case "BertProcessing", "RobertaProcessing":
                guard case .array(let cls)? = v["cls"], cls.count == 2, let c = cls[1].nonNegativeInt, c < tokens.count,
                      case .array(let sep)? = v["sep"], sep.count == 2, let s = sep[1].nonNegativeInt, s < tokens.count else {
                    throw Failure(message: "`\(t)` needs `cls` and `sep` as [token, id] with ids in the vocabulary")
                }
                prefix = [c]; suffix = [s]
            case "TemplateProcessing":
                guard case .array(let single)? = v["single"] else { throw Failure(message: "`TemplateProcessing` needs `single`") }
                var seenSequence = false
                for piece in single {
                    if piece["Sequence"] != nil { seenSequence = true; continue }
                    guard case .string(let name)? = piece["SpecialToken"]?["id"] else { throw Failure(message: "a template piece is neither `Sequence` nor `SpecialToken`") }
                    guard case .array(let list)? = v["special_tokens"]?[name]?["ids"] else { throw Failure(message: "template token \(quoted(name)) has no `ids`") }
                    for x in list {
                        guard let i = x.nonNegativeInt, i < tokens.count else { throw Failure(message: "template token \(quoted(name)) has an id outside the vocabulary") }
                        if seenSequence { suffix.append(i) } else { prefix.append(i) }
                    }
                }
            case "Sequence":
                guard case .array(let list)? = v["processors"] else { throw Failure(message: "a `Sequence` post-processor needs `processors`") }
                for p in list { try postProcessor(p) }
            default: throw Failure(message: "post-processor \(quoted(t)) is not supported")
            }
        }
        try postProcessor(root["post_processor"] ?? .null)

        // Decoder.
        let dec: HFTokenizer.Decoder
        let decoderValue = root["decoder"] ?? .null
        if decoderValue == .null {
            switch m {
            case .bpe: dec = .byteLevel
            case .wordPiece(let p, _, _): dec = .wordPiece(prefix: p, cleanup: true)
            }
        } else {
            guard case .string(let t)? = decoderValue["type"] else { throw Failure(message: "`decoder` must be an object with a `type`") }
            switch t {
            case "ByteLevel": dec = .byteLevel
            case "WordPiece":
                var p = "##"
                if case .string(let s)? = decoderValue["prefix"] { p = s }
                dec = .wordPiece(prefix: p, cleanup: bool(decoderValue["cleanup"], true))
            default: throw Failure(message: "decoder \(quoted(t)) is not supported")
            }
        }

        // Special roles (0-based).
        func named(_ names: [String]) -> Int? { names.lazy.compactMap { ids[$0] }.first }
        let bos = prefix.first ?? named(["<|endoftext|>", "<s>", "[CLS]", "<bos>"])
        let eos = suffix.last ?? named(["<|endoftext|>", "</s>", "[SEP]", "<eos>"])
        let mask = named(["[MASK]", "<mask>"])
        return HFTokenizer(tokens: tokens, ids: ids, normalizers: normalizers, preTokenizer: pre, model: m, decoder: dec,
                           addedTokens: added, prefix: prefix, suffix: suffix, bos: bos, eos: eos, mask: mask, json: bytes)
    }

    /// A token for a message: quoted, escaped, at most 40 characters.
    static func quoted(_ s: String) -> String {
        let e = s.unicodeScalars.map { $0.escaped(asASCII: false) }.joined()
        return "\"" + (e.count > 40 ? String(e.prefix(40)) + "…" : e) + "\""
    }
}

extension JSONValue {
    /// The member `key` of an object (nil for other values or a missing key).
    subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.first { Array($0.key.utf8) == Array(key.utf8) }?.value
    }
}
