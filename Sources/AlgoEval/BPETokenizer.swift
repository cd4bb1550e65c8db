import AlgoDiagnostics

/// Byte-level byte-pair encoding (the paper's Section 4 subword tokenization, [Gag94, SHB16], as in
/// GPT-2 [RWC+19]).
///
/// **Vocabulary.** Elements 0…255 (ids 1…256) are the 256 bytes; element 256 + r (id 257 + r) is
/// the r-th merge, the concatenation of its two parts. N_V = 256 + merges + 3. Every UTF-8 text
/// is encodable and `decode(encode(t)) == t` byte for byte.
///
/// **Pre-tokenization.** Merges never cross piece boundaries. A piece is a maximal run of scalars
/// of one class (letters and marks, numbers, other non-whitespace) followed by its trailing
/// whitespace; leading whitespace is a piece of its own. (GPT-2 attaches the space in front of a
/// word; here it trails, as in the paper's `'My '`, `'grandma '`.)
///
/// **Training.** Pieces are counted over the corpus. Each step counts adjacent pairs of elements
/// over all pieces (weighted by piece frequency, overlapping pairs such as `aa` in `aaa` counted
/// each time) and merges the most frequent pair; **ties are broken by the smaller pair of element
/// indices** `(left, right)` compared lexicographically (for bytes this is byte order, and older
/// merges come before newer ones). Occurrences are replaced left to right without overlap.
/// Training stops after `merges` steps or earlier when no pair occurs at least twice.
///
/// **Encoding** applies merges by rank, as GPT-2 does: within a piece, repeatedly merge every
/// occurrence (left to right) of the adjacent pair with the lowest merge rank, until none applies.
public struct BPETokenizer: Tokenizer, Equatable {
    /// One merge: the element indices (0-based; 0…255 are bytes) of the left and right parts.
    public struct Merge: Hashable, Sendable {
        /// 0-based element index of the left part.
        public var left: Int
        /// 0-based element index of the right part.
        public var right: Int
        /// The merge `left right`.
        public init(_ left: Int, _ right: Int) { self.left = left; self.right = right }
    }

    /// The merges in rank order; merge `r` creates element `256 + r` (id `257 + r`).
    public let merges: [Merge]
    /// The bytes of every element (0-based element index).
    public let elementBytes: [[UInt8]]
    private let rank: [Merge: Int]

    /// N_V = 256 + number of merges + 3.
    public var vocabularySize: Int { 256 + merges.count + 3 }

    /// Learns at most `merges` merges from `corpus` (see the type's documentation for the rules).
    /// Fails with `.emptyCorpus` for a corpus without bytes and `.invalidArgument` for `merges < 0`.
    public static func train(on corpus: [String], merges maxMerges: Int) -> Result<BPETokenizer, TokenizerError> {
        guard maxMerges >= 0 else { return .failure(.invalidArgument("the number of merges must be ≥ 0, got \(maxMerges)")) }
        var counts: [[UInt8]: Int] = [:]
        for text in corpus { for p in pieces(text) { counts[p, default: 0] += 1 } }
        guard !counts.isEmpty else { return .failure(.emptyCorpus) }
        // Unique pieces in a fixed order, as sequences of element indices.
        let keys = counts.keys.sorted(by: bytesLess)
        return .success(BPETokenizer(unchecked: learnMerges(words: keys.map { $0.map(Int.init) }, frequencies: keys.map { counts[$0]! }, limit: maxMerges)))
    }

    /// The most frequent pair (count ≥ 2), ties broken by the smaller `(left, right)`.
    private static func bestPair(_ pairCounts: [Merge: Int]) -> Merge? {
        var best: Merge?
        var bestCount = 1
        for (pair, c) in pairCounts where c > bestCount || (c == bestCount && best.map({ (pair.left, pair.right) < ($0.left, $0.right) }) == true) {
            best = pair
            bestCount = c
        }
        return best
    }

    /// Learns merges incrementally: pair counts are kept up to date, and only the pieces holding
    /// the chosen pair are rewritten. Gives exactly the merges of `learnMergesReference`.
    static func learnMerges(words initial: [[Int]], frequencies freq: [Int], limit: Int) -> [Merge] {
        var words = initial
        var pairCounts: [Merge: Int] = [:]
        var holders: [Merge: [Int]] = [:]        // pieces that held the pair at some point (may be stale)
        for (w, word) in words.enumerated() where word.count >= 2 {
            for k in 0..<(word.count - 1) {
                let p = Merge(word[k], word[k + 1])
                pairCounts[p, default: 0] += freq[w]
                if holders[p]?.last != w { holders[p, default: []].append(w) }
            }
        }
        var merges: [Merge] = []
        while merges.count < limit, let chosen = bestPair(pairCounts) {
            let newIndex = 256 + merges.count
            merges.append(chosen)
            for w in holders[chosen] ?? [] {
                let old = words[w]
                let new = apply(chosen, newIndex, to: old)
                if new.count == old.count { continue }    // stale holder: the pair is gone
                for k in 0..<(old.count - 1) {
                    let p = Merge(old[k], old[k + 1])
                    let c = pairCounts[p, default: 0] - freq[w]
                    pairCounts[p] = c > 0 ? c : nil
                }
                if new.count >= 2 {
                    for k in 0..<(new.count - 1) {
                        let p = Merge(new[k], new[k + 1])
                        pairCounts[p, default: 0] += freq[w]
                        if holders[p]?.last != w { holders[p, default: []].append(w) }
                    }
                }
                words[w] = new
            }
            holders[chosen] = nil
        }
        return merges
    }

    /// The definition: recount every pair over every piece at each step (slow; tests compare with it).
    static func learnMergesReference(words initial: [[Int]], frequencies freq: [Int], limit: Int) -> [Merge] {
        var words = initial
        var merges: [Merge] = []
        while merges.count < limit {
            var pairCounts: [Merge: Int] = [:]
            for (w, word) in words.enumerated() where word.count >= 2 {
                for k in 0..<(word.count - 1) { pairCounts[Merge(word[k], word[k + 1]), default: 0] += freq[w] }
            }
            guard let chosen = bestPair(pairCounts) else { break }
            let newIndex = 256 + merges.count
            merges.append(chosen)
            for w in words.indices { words[w] = apply(chosen, newIndex, to: words[w]) }
        }
        return merges
    }

    /// `train(on:merges:)` as a throwing initialiser (the error is a `TokenizerError` value).
    public init(trainedOn corpus: [String], merges: Int) throws(TokenizerError) {
        self = try BPETokenizer.train(on: corpus, merges: merges).get()
    }

    /// The tokenizer with exactly these merges. Fails when a merge refers to an element not
    /// created before it, or a merge appears twice.
    public static func make(merges: [Merge]) -> Result<BPETokenizer, TokenizerError> {
        for (r, m) in merges.enumerated() {
            guard m.left >= 0, m.right >= 0, m.left < 256 + r, m.right < 256 + r else {
                return .failure(.malformedFile("merge \(r + 1) refers to an element not defined before it"))
            }
        }
        guard Set(merges).count == merges.count else { return .failure(.malformedFile("a merge appears twice")) }
        // Each merge concatenates two elements, so a 547-byte file whose merges double the previous
        // element would ask for 2⁴¹ bytes: the lengths are summed (checked) against the memory budget first.
        var lengths = [Int](repeating: 1, count: 256)
        var total: Int? = 256
        for (r, m) in merges.enumerated() {
            let n = SizeBudget.sum(lengths[m.left], lengths[m.right])
            total = SizeBudget.sum(total, n)
            guard let n, let t = total, t <= SizeBudget.available.bytes else {
                return .failure(.malformedFile("merge \(r + 1) makes the vocabulary's elements \(total.map(ByteCount.describe) ?? "more than 9.2 EB") long; \(SizeBudget.available.phrase)"))
            }
            lengths.append(n)
        }
        return .success(BPETokenizer(unchecked: merges))
    }

    private init(unchecked merges: [Merge]) {
        self.merges = merges
        var bytes = (0..<256).map { [UInt8($0)] }
        var rank: [Merge: Int] = [:]
        for (r, m) in merges.enumerated() {
            bytes.append(bytes[m.left] + bytes[m.right])
            rank[m] = r
        }
        self.elementBytes = bytes
        self.rank = rank
    }

    /// The ids of the UTF-8 bytes of `text`.
    public func encode(_ text: String, wrap: Bool) -> Result<[Int], TokenizerError> {
        .success(encode(bytes: Array(text.utf8), wrap: wrap))
    }

    /// The ids of arbitrary bytes (not necessarily UTF-8); never fails.
    public func encode(bytes: [UInt8], wrap: Bool = true) -> [Int] {
        var ids: [Int] = []
        for piece in BPETokenizer.pieces(bytes: bytes) { ids += encodePiece(piece).map { $0 + 1 } }
        return wrapped(ids, wrap)
    }

    /// The bytes of `ids` (special tokens dropped or shown as their UTF-8 names).
    public func decodeBytes(_ ids: [Int], specialTokens: SpecialTokenRendering = .drop) -> Result<[UInt8], TokenizerError> {
        decodeBytes(ids, specialTokens: specialTokens) { elementBytes[$0] }
    }

    /// The text of `ids`. Bytes that are not valid UTF-8 (a sequence cut inside a character)
    /// become U+FFFD; `decodeBytes` gives the exact bytes.
    public func decode(_ ids: [Int], specialTokens: SpecialTokenRendering) -> Result<String, TokenizerError> {
        decodeBytes(ids, specialTokens: specialTokens).map { String(decoding: $0, as: UTF8.self) }
    }

    /// `{"format":"algo-tokenizer","version":1,"kind":"bpe","merges":[[l,r],…]}` with 1-based ids.
    public func vocabularyFile() -> [UInt8] {
        TokenizerFile.write(kind: .bpe, merges: merges.map { [$0.left + 1, $0.right + 1] })
    }

    /// Equal when the merges are equal.
    public static func == (a: BPETokenizer, b: BPETokenizer) -> Bool { a.merges == b.merges }

    // MARK: - Merging

    /// Element indices of one piece after applying merges by rank.
    private func encodePiece(_ piece: [UInt8]) -> [Int] {
        var word = piece.map(Int.init)
        while word.count >= 2 {
            var bestRank = Int.max
            for k in 0..<(word.count - 1) {
                if let r = rank[Merge(word[k], word[k + 1])], r < bestRank { bestRank = r }
            }
            guard bestRank != Int.max else { break }
            word = BPETokenizer.apply(merges[bestRank], 256 + bestRank, to: word)
        }
        return word
    }

    /// `word` with every occurrence of `merge`, left to right and without overlap, replaced by `newIndex`.
    static func apply(_ merge: Merge, _ newIndex: Int, to word: [Int]) -> [Int] {
        guard word.count >= 2 else { return word }
        var out: [Int] = []
        out.reserveCapacity(word.count)
        var k = 0
        while k < word.count {
            if k + 1 < word.count, word[k] == merge.left, word[k + 1] == merge.right {
                out.append(newIndex)
                k += 2
            } else {
                out.append(word[k])
                k += 1
            }
        }
        return out
    }

    // MARK: - Pre-tokenization

    /// The pieces of `text` as UTF-8 bytes.
    static func pieces(_ text: String) -> [[UInt8]] { pieces(bytes: Array(text.utf8)) }

    /// The pieces of arbitrary bytes: UTF-8 scalars are classified; an invalid byte counts as "other".
    static func pieces(bytes: [UInt8]) -> [[UInt8]] {
        var out: [[UInt8]] = []
        var current: [UInt8] = []
        var currentClass = -1       // class of the non-whitespace run in `current`, -1 if none
        var inTrailingSpace = false
        var k = 0
        while k < bytes.count {
            let (scalar, length) = decodeScalar(bytes, at: k)
            let cls = scalar.map(characterClass) ?? 2
            let chunk = bytes[k..<(k + length)]
            if cls == 3 {
                current += chunk
                inTrailingSpace = true
            } else {
                if inTrailingSpace || (currentClass != -1 && cls != currentClass) {
                    if !current.isEmpty { out.append(current) }
                    current = []
                }
                current += chunk
                currentClass = cls
                inTrailingSpace = false
            }
            k += length
        }
        if !current.isEmpty { out.append(current) }
        return out
    }

    /// 0 letters and marks, 1 numbers, 2 other, 3 whitespace.
    static func characterClass(_ s: Unicode.Scalar) -> Int {
        if s.properties.isWhitespace { return 3 }
        switch s.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
             .nonspacingMark, .spacingMark, .enclosingMark:
            return 0
        case .decimalNumber, .letterNumber, .otherNumber:
            return 1
        default:
            return 2
        }
    }

    /// The scalar starting at `bytes[k]` and its length in bytes, or (nil, 1) for an invalid byte.
    static func decodeScalar(_ bytes: [UInt8], at k: Int) -> (Unicode.Scalar?, Int) {
        let b0 = bytes[k]
        let length: Int
        switch b0 {
        case 0x00..<0x80: return (Unicode.Scalar(b0), 1)
        case 0xC2..<0xE0: length = 2
        case 0xE0..<0xF0: length = 3
        case 0xF0..<0xF5: length = 4
        default: return (nil, 1)
        }
        guard k + length <= bytes.count else { return (nil, 1) }
        guard let s = String(validating: bytes[k..<(k + length)], as: UTF8.self)?.unicodeScalars.first else { return (nil, 1) }
        return (s, length)
    }
}
