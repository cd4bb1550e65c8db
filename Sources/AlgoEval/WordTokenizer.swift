/// Word-level tokenization (the paper's Section 4): one token per word, the word carrying its
/// trailing whitespace (`['My ', 'grandma ', 'makes ', …]`).
///
/// **Splitting.** A piece is a maximal run of non-whitespace scalars followed by the whitespace
/// after it; whitespace at the start of a text is a piece of its own. With `.whitespace` (the
/// default) punctuation stays inside the word, which gives the paper's count of 7 tokens for
/// "My grandma makes the best apple pie." (`'pie.'` is one token). With `.punctuation` every
/// punctuation scalar (general category P*) is a piece of its own (with its trailing whitespace),
/// as the paper's "all English words plus punctuation" suggests, and the example has 8 tokens
/// (`'pie'`, `'.'`). The paper's two statements disagree; `.whitespace` matches its number.
///
/// **Unknown words** fall back to characters: the vocabulary holds every word of the corpus and
/// every single character (Unicode scalar) of the corpus, so a word never seen in training is
/// spelled out one character per token, and decoding stays exact. A character never seen in
/// training is an error (`.unknownCharacter`), as for `CharacterTokenizer`.
///
/// The vocabulary is sorted by UTF-8 bytes; element `k` (0-based) has id `k + 1`.
public struct WordTokenizer: Tokenizer, Equatable {
    /// How a text is cut into words.
    public enum Splitting: String, Sendable, Hashable {
        /// Words are runs of non-whitespace plus their trailing whitespace (the paper's count).
        case whitespace
        /// As `.whitespace`, but each punctuation character is a word of its own.
        case punctuation
    }

    /// The vocabulary elements in id order (id = index + 1): words and single characters.
    public let elements: [String]
    /// How texts are cut into words.
    public let splitting: Splitting
    private let index: [[UInt8]: Int]

    /// N_V = number of elements + 3.
    public var vocabularySize: Int { elements.count + 3 }

    /// The tokenizer whose vocabulary is the distinct words and characters of `corpus`, sorted by
    /// UTF-8 bytes. Fails with `.emptyCorpus` when the corpus has no characters.
    public static func train(on corpus: [String], splitting: Splitting = .whitespace) -> Result<WordTokenizer, TokenizerError> {
        var set = Set<[UInt8]>()
        for text in corpus {
            for piece in WordTokenizer.pieces(text, splitting) { set.insert(Array(piece.utf8)) }
            for s in text.unicodeScalars { set.insert(Array(String(Character(s)).utf8)) }
        }
        guard !set.isEmpty else { return .failure(.emptyCorpus) }
        let sorted = set.sorted(by: bytesLess).map { String(decoding: $0, as: UTF8.self) }
        return .success(WordTokenizer(unchecked: sorted, splitting: splitting))
    }

    /// `train(on:splitting:)` as a throwing initialiser (the error is a `TokenizerError` value).
    public init(trainedOn corpus: [String], splitting: Splitting = .whitespace) throws(TokenizerError) {
        self = try WordTokenizer.train(on: corpus, splitting: splitting).get()
    }

    /// The tokenizer with exactly these elements in this order. Fails on an empty list, an empty
    /// or duplicate element, or a character of some element missing as a single-character element.
    public static func make(elements: [String], splitting: Splitting) -> Result<WordTokenizer, TokenizerError> {
        guard !elements.isEmpty else { return .failure(.emptyCorpus) }
        let keys = elements.map { Array($0.utf8) }
        guard Set(keys).count == keys.count else { return .failure(.malformedFile("duplicate word in the vocabulary")) }
        guard !keys.contains(where: \.isEmpty) else { return .failure(.malformedFile("empty word in the vocabulary")) }
        let set = Set(keys)
        for e in elements {
            for s in e.unicodeScalars where !set.contains(Array(String(Character(s)).utf8)) {
                return .failure(.malformedFile("character U+\(String(s.value, radix: 16, uppercase: true)) of a word is not itself in the vocabulary"))
            }
        }
        return .success(WordTokenizer(unchecked: elements, splitting: splitting))
    }

    private init(unchecked elements: [String], splitting: Splitting) {
        self.elements = elements
        self.splitting = splitting
        var index: [[UInt8]: Int] = [:]
        for (k, e) in elements.enumerated() { index[Array(e.utf8)] = k + 1 }
        self.index = index
    }

    /// The words of `text` (concatenated they give `text` back exactly).
    public func words(_ text: String) -> [String] { WordTokenizer.pieces(text, splitting) }

    /// One id per known word; an unknown word is spelled out one id per character;
    /// `.unknownCharacter` for a character outside the vocabulary.
    public func encode(_ text: String, wrap: Bool) -> Result<[Int], TokenizerError> {
        var ids: [Int] = []
        var position = 0
        for piece in WordTokenizer.pieces(text, splitting) {
            if let id = index[Array(piece.utf8)] {
                ids.append(id)
                position += piece.unicodeScalars.count
                continue
            }
            for s in piece.unicodeScalars {
                position += 1
                guard let id = index[Array(String(Character(s)).utf8)] else { return .failure(.unknownCharacter(s, position: position)) }
                ids.append(id)
            }
        }
        return .success(wrapped(ids, wrap))
    }

    /// The words of `ids` concatenated; `.idOutOfRange` for an id outside `1…N_V`.
    public func decode(_ ids: [Int], specialTokens: SpecialTokenRendering) -> Result<String, TokenizerError> {
        decodeBytes(ids, specialTokens: specialTokens) { Array(elements[$0].utf8) }.map { String(decoding: $0, as: UTF8.self) }
    }

    /// `{"format":"algo-tokenizer","version":1,"kind":"word","splitting":…,"vocabulary":[…]}`.
    public func vocabularyFile() -> [UInt8] {
        TokenizerFile.write(kind: .word, vocabulary: elements, splitting: splitting)
    }

    /// Equal when splitting and vocabularies (byte for byte) are equal.
    public static func == (a: WordTokenizer, b: WordTokenizer) -> Bool {
        a.splitting == b.splitting && a.elements.map { Array($0.utf8) } == b.elements.map { Array($0.utf8) }
    }

    /// Cuts `text` into pieces (see the type's documentation).
    static func pieces(_ text: String, _ splitting: Splitting) -> [String] {
        var out: [String] = []
        var current = String.UnicodeScalarView()
        var inTrailingSpace = false
        func flush() { if !current.isEmpty { out.append(String(current)); current = String.UnicodeScalarView() } }
        for s in text.unicodeScalars {
            if s.properties.isWhitespace {
                current.append(s)
                inTrailingSpace = true
                continue
            }
            let isPunct = splitting == .punctuation && isPunctuation(s)
            // A new piece starts after whitespace, at a punctuation mark, and after a punctuation mark.
            if inTrailingSpace || isPunct || (splitting == .punctuation && current.last.map(isPunctuation) == true) {
                flush()
            }
            current.append(s)
            inTrailingSpace = false
        }
        flush()
        return out
    }

    static func isPunctuation(_ s: Unicode.Scalar) -> Bool {
        switch s.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation:
            return true
        default:
            return false
        }
    }
}
