/// Character-level tokenization (the paper's Section 4): one token per character.
///
/// A "character" is a **Unicode scalar**, not a grapheme cluster (`Character`): scalars are a
/// fixed, finite alphabet, the split does not depend on the Unicode version of the toolchain's
/// grapheme rules (so a saved vocabulary means the same thing everywhere), an unseen combination of
/// seen scalars (a new emoji sequence, `e` + combining accent) is still encodable, and decoding is
/// exact (`é` precomposed and decomposed stay different). For ASCII text both notions agree: the
/// paper's example has 36 characters either way.
///
/// The vocabulary is the sorted (by code point) set of distinct scalars of the training corpus;
/// element `k` (0-based) has id `k + 1`.
public struct CharacterTokenizer: Tokenizer, Equatable {
    /// The vocabulary elements in id order (id = index + 1).
    public let scalars: [Unicode.Scalar]
    private let index: [UInt32: Int]

    /// N_V = number of distinct characters + 3.
    public var vocabularySize: Int { scalars.count + 3 }

    /// The tokenizer whose vocabulary is the distinct characters of `corpus`, sorted by code point.
    /// Fails with `.emptyCorpus` when the corpus has no characters.
    public static func train(on corpus: [String]) -> Result<CharacterTokenizer, TokenizerError> {
        var set = Set<UInt32>()
        for text in corpus { for s in text.unicodeScalars { set.insert(s.value) } }
        guard !set.isEmpty else { return .failure(.emptyCorpus) }
        return .success(CharacterTokenizer(uncheckedScalars: set.sorted().compactMap(Unicode.Scalar.init)))
    }

    /// `train(on:)` as a throwing initialiser (typed throws: the error is a `TokenizerError` value).
    public init(trainedOn corpus: [String]) throws(TokenizerError) { self = try CharacterTokenizer.train(on: corpus).get() }

    /// The tokenizer with exactly these vocabulary elements in this order; fails on duplicates or an empty list.
    public static func make(scalars: [Unicode.Scalar]) -> Result<CharacterTokenizer, TokenizerError> {
        guard !scalars.isEmpty else { return .failure(.emptyCorpus) }
        guard Set(scalars.map(\.value)).count == scalars.count else {
            return .failure(.malformedFile("duplicate character in the vocabulary"))
        }
        return .success(CharacterTokenizer(uncheckedScalars: scalars))
    }

    private init(uncheckedScalars scalars: [Unicode.Scalar]) {
        self.scalars = scalars
        var index: [UInt32: Int] = [:]
        for (k, s) in scalars.enumerated() { index[s.value] = k + 1 }
        self.index = index
    }

    /// One id per Unicode scalar; `.unknownCharacter` for a scalar outside the vocabulary.
    public func encode(_ text: String, wrap: Bool) -> Result<[Int], TokenizerError> {
        var ids: [Int] = []
        for (position, s) in text.unicodeScalars.enumerated() {
            guard let id = index[s.value] else { return .failure(.unknownCharacter(s, position: position + 1)) }
            ids.append(id)
        }
        return .success(wrapped(ids, wrap))
    }

    /// The characters of `ids`; `.idOutOfRange` for an id outside `1…N_V`.
    public func decode(_ ids: [Int], specialTokens: SpecialTokenRendering) -> Result<String, TokenizerError> {
        decodeBytes(ids, specialTokens: specialTokens) { Array(String(Character(scalars[$0])).utf8) }
            .map { String(decoding: $0, as: UTF8.self) }
    }

    /// `{"format":"algo-tokenizer","version":1,"kind":"character","vocabulary":[…]}`.
    public func vocabularyFile() -> [UInt8] {
        TokenizerFile.write(kind: .character, vocabulary: scalars.map { String(Character($0)) })
    }

    /// Equal when the vocabularies are equal, element by element.
    public static func == (a: CharacterTokenizer, b: CharacterTokenizer) -> Bool { a.scalars == b.scalars }
}
