// A tokenizer read from HuggingFace's files: GPT-2's `vocab.json` + `merges.txt`, or a
// `tokenizer.json` holding a byte-level BPE (GPT-2, RoBERTa) or a WordPiece (BERT). Encoding follows
// `tokenizers`' pipeline: added tokens are cut out of the raw text first (leftmost, longest), the
// rest is normalized, pre-tokenized and split by the model; `wrap` adds the post-processor's
// tokens ([CLS] … [SEP]; GPT-2 adds none). Ids are HuggingFace's plus one (`TokenIds`).
// The parsing of the files is in `HFTokenizerFile.swift`; the README beside this file describes
// what is read and what is refused.

/// A HuggingFace tokenizer (byte-level BPE or WordPiece) with 1-based ids.
public struct HFTokenizer: Tokenizer {
    /// How a word becomes tokens.
    public enum Model: Sendable {
        /// Byte-pair encoding by merge rank: `ranks[left, right]` = (rank, id of the merged token).
        case bpe(ranks: [Pair: (rank: Int, id: Int)], ignoreMerges: Bool, unknown: Int?)
        /// Greedy longest match first, continuations spelled `prefix` + piece; a word that cannot be
        /// split (or is longer than `maxChars` scalars) is the unknown token.
        case wordPiece(prefix: String, unknown: Int, maxChars: Int)
    }

    /// Two adjacent token ids (0-based).
    public struct Pair: Hashable, Sendable {
        public var left: Int32, right: Int32
        public init(_ left: Int, _ right: Int) { self.left = Int32(truncatingIfNeeded: left); self.right = Int32(truncatingIfNeeded: right) }
    }

    /// How the text is cut into words before the model.
    public enum PreTokenizer: Sendable, Equatable {
        /// GPT-2's byte-level pattern (`ByteLevel`); `prefixSpace` adds a space before a text not starting with one.
        case byteLevel(prefixSpace: Bool, useRegex: Bool)
        /// BERT's: whitespace removed, punctuation isolated.
        case bert
        /// `WhitespaceSplit`: split at whitespace only.
        case whitespaceSplit
    }

    /// How ids become text.
    public enum Decoder: Sendable, Equatable {
        /// Concatenate the tokens and map the characters back to bytes.
        case byteLevel
        /// Join with spaces, continuations (`prefix` + piece) glued, then `cleanup` of spaces before punctuation.
        case wordPiece(prefix: String, cleanup: Bool)
    }

    /// One entry of `added_tokens`: matched in the raw text before anything else.
    public struct AddedToken: Sendable, Equatable {
        public var content: String
        public var id: Int
        public var special: Bool
        public var lstrip: Bool
        public var rstrip: Bool
    }

    /// The token strings, by 0-based id (as the model spells them: `Ġthe`, `##ing`, `[CLS]`).
    public let tokens: [String]
    /// The id of each token string (0-based).
    let ids: [String: Int]
    public let normalizers: [HFNormalizer]
    public let preTokenizer: PreTokenizer
    public let model: Model
    public let decoder: Decoder
    public let addedTokens: [AddedToken]
    /// The post-processor's tokens around a single text (0-based ids): [CLS] and [SEP] for BERT.
    public let prefix: [Int], suffix: [Int]
    /// 0-based ids of the special roles.
    let bos: Int?, eos: Int?, mask: Int?
    /// The `tokenizer.json` text this tokenizer was read from or corresponds to (its vocabulary file).
    let json: [UInt8]

    public var vocabularySize: Int { tokens.count }
    public var maskTokenIfAny: Int? { mask.map(TokenIds.notation) }
    /// bos: the post-processor's first token ([CLS]), else `<|endoftext|>`-like (the first special token), else N_V − 1.
    public var bosToken: Int { bos.map(TokenIds.notation) ?? vocabularySize - 1 }
    public var eosToken: Int { eos.map(TokenIds.notation) ?? vocabularySize }
    public func vocabularyFile() -> [UInt8] { json }

    // MARK: - Encoding

    public func encode(_ text: String, wrap: Bool) -> Result<[Int], TokenizerError> {
        var out: [Int] = wrap ? prefix : []
        for segment in splitAdded(text) {
            switch segment {
            case .added(let id): out.append(id)
            case .text(let t):
                var normalized = t
                for n in normalizers { normalized = n.apply(normalized) }
                for word in words(normalized) {
                    switch modelTokens(word) {
                    case .success(let ids): out += ids
                    case .failure(let e): return .failure(e)
                    }
                }
            }
        }
        if wrap { out += suffix }
        return .success(out.map(TokenIds.notation))
    }

    private enum Segment { case text(String), added(Int) }

    /// The text cut at added tokens: at each position the longest added token that starts there
    /// wins; `lstrip`/`rstrip` tokens also take the whitespace before/after them.
    private func splitAdded(_ text: String) -> [Segment] {
        guard !addedTokens.isEmpty else { return [.text(text)] }
        let scalars = Array(text.unicodeScalars)
        let added = addedTokens.map { (token: $0, scalars: Array($0.content.unicodeScalars)) }.filter { !$0.scalars.isEmpty }
        var out: [Segment] = []
        var pending = String.UnicodeScalarView()
        var i = 0
        while i < scalars.count {
            var best: (token: AddedToken, length: Int)?
            for a in added where a.scalars.count <= scalars.count - i && (best == nil || a.scalars.count > best!.length) {
                if scalars[i..<(i + a.scalars.count)].elementsEqual(a.scalars) { best = (a.token, a.scalars.count) }
            }
            guard let (token, length) = best else { pending.append(scalars[i]); i += 1; continue }
            if token.lstrip { while let last = pending.last, last.properties.isWhitespace { pending.removeLast() } }
            if !pending.isEmpty { out.append(.text(String(pending))); pending = String.UnicodeScalarView() }
            out.append(.added(token.id))
            i += length
            if token.rstrip { while i < scalars.count, scalars[i].properties.isWhitespace { i += 1 } }
        }
        if !pending.isEmpty { out.append(.text(String(pending))) }
        return out
    }

    /// The pre-tokenizer's words (for byte-level: already spelled with the byte table's characters).
    private func words(_ text: String) -> [String] {
        switch preTokenizer {
        case let .byteLevel(prefixSpace, useRegex):
            let t = prefixSpace && !text.hasPrefix(" ") && !text.isEmpty ? " " + text : text
            let scalars = Array(t.unicodeScalars)
            let ranges = useRegex ? ByteLevel.pieces(scalars) : (scalars.isEmpty ? [] : [0..<scalars.count])
            return ranges.map { r in
                var bytes: [UInt8] = []
                for s in scalars[r] { bytes += Array(String(s).utf8) }
                return ByteLevel.spell(bytes)
            }
        case .bert: return HFNormalizer.bertWords(text)
        case .whitespaceSplit: return text.split(whereSeparator: { $0.unicodeScalars.allSatisfy(\.properties.isWhitespace) }).map(String.init)
        }
    }

    /// The ids (0-based) of one word.
    private func modelTokens(_ word: String) -> Result<[Int], TokenizerError> {
        switch model {
        case let .bpe(ranks, ignoreMerges, unknown):
            if ignoreMerges, let id = ids[word] { return .success([id]) }
            var symbols: [Int] = []
            for (k, s) in word.unicodeScalars.enumerated() {
                if let id = ids[String(s)] { symbols.append(id) }
                else if let unk = unknown { symbols.append(unk) }
                else { return .failure(.unknownCharacter(s, position: k + 1)) }
            }
            return .success(HFTokenizer.merge(symbols, ranks))
        case let .wordPiece(prefix, unknown, maxChars):
            let scalars = Array(word.unicodeScalars)
            if scalars.count > maxChars { return .success([unknown]) }
            var out: [Int] = []
            var start = 0
            while start < scalars.count {
                var end = scalars.count
                var found: Int?
                while start < end {
                    var piece = String(String.UnicodeScalarView(scalars[start..<end]))
                    if start > 0 { piece = prefix + piece }
                    if let id = ids[piece] { found = id; break }
                    end -= 1
                }
                guard let id = found else { return .success([unknown]) }
                out.append(id)
                start = end
            }
            return .success(out)
        }
    }

    /// Merges by rank: repeatedly merge the adjacent pair of lowest rank (leftmost first) until no
    /// pair has a rank (GPT-2's `bpe`, HuggingFace's `merge_all`).
    static func merge(_ initial: [Int], _ ranks: [Pair: (rank: Int, id: Int)]) -> [Int] {
        var word = initial
        while word.count >= 2 {
            var best: (rank: Int, id: Int, at: Int)?
            for k in 0..<(word.count - 1) {
                if let r = ranks[Pair(word[k], word[k + 1])], best == nil || r.rank < best!.rank { best = (r.rank, r.id, k) }
            }
            guard let b = best else { break }
            let pair = Pair(word[b.at], word[b.at + 1])
            var out: [Int] = []
            out.reserveCapacity(word.count)
            var k = 0
            while k < word.count {
                if k + 1 < word.count, k >= b.at, Pair(word[k], word[k + 1]) == pair { out.append(b.id); k += 2 }
                else { out.append(word[k]); k += 1 }
            }
            word = out
        }
        return word
    }

    // MARK: - Decoding

    public func decode(_ ids: [Int], specialTokens: SpecialTokenRendering) -> Result<String, TokenizerError> {
        var kept: [String] = []
        let special = Set(addedTokens.filter(\.special).map(\.id))
        for (position, id) in ids.enumerated() {
            guard id >= 1, id <= vocabularySize else {
                return .failure(.idOutOfRange(id: id, position: position + 1, vocabularySize: vocabularySize))
            }
            let z = TokenIds.zeroBased(id)
            if special.contains(z) && specialTokens == .drop { continue }
            kept.append(tokens[z])
        }
        switch decoder {
        case .byteLevel:
            var bytes: [UInt8] = []
            for t in kept {
                if let b = ByteLevel.bytes(ofSpelling: t) { bytes += b } else { bytes += Array(t.utf8) }
            }
            return .success(String(decoding: bytes, as: UTF8.self))
        case let .wordPiece(prefix, cleanup):
            var out = ""
            for (k, token) in kept.enumerated() {
                var t = token
                if k > 0 { t = t.hasPrefix(prefix) ? String(t.dropFirst(prefix.count)) : " " + t }
                if cleanup { t = HFTokenizer.cleanup(t) }
                out += t
            }
            return .success(out)
        }
    }

    /// WordPiece's `cleanup`: no space before `.`, `?`, `!`, `,` and English clitics.
    static func cleanup(_ s: String) -> String {
        var t = s
        for (from, to) in [(" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"), (" 'm", "'m"),
                           (" do not", " don't"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re")] {
            t = t.replacingOccurrences(of: from, with: to)
        }
        return t
    }
}
