import Foundation
import Testing
import AlgoTensor
@testable import AlgoEval

/// The paper's running example (Section 4).
let grandma = "My grandma makes the best apple pie."

/// Random text over awkward Unicode: ASCII, Latin with combining marks, CJK, emoji with ZWJ and
/// skin-tone modifiers, controls and NUL, U+FFFD, BOM, a noncharacter, supplementary planes.
func randomUnicodeText(_ rng: inout RandomGenerator, maxLength: Int = 40) -> String {
    let ranges: [ClosedRange<UInt32>] = [
        0x20...0x7E, 0x00...0x1F, 0xC0...0x24F, 0x300...0x36F, 0x391...0x3C9, 0x4E00...0x4E80,
        0x1F300...0x1F64F, 0x1F3FB...0x1F3FF, 0x200D...0x200D, 0xFE0F...0xFE0F, 0xFFFD...0xFFFD,
        0xFEFF...0xFEFF, 0xFFFF...0xFFFF, 0x10000...0x10100, 0xE000...0xE010, 0x2028...0x2029,
    ]
    var s = String.UnicodeScalarView()
    let n = rng.int(below: maxLength + 1)
    for _ in 0..<n {
        let r = ranges[rng.int(below: ranges.count)]
        let v = r.lowerBound + UInt32(rng.int(below: Int(r.upperBound - r.lowerBound) + 1))
        if let scalar = Unicode.Scalar(v) { s.append(scalar) }
    }
    return String(s)
}

@Suite("Special tokens and the paper's example")
struct PaperExampleTests {
    @Test("character level: 36 tokens plus bos/eos")
    func characterLevel() throws {
        let t = try CharacterTokenizer(trainedOn: [grandma])
        let ids = try t.encode(grandma, wrap: false).get()
        #expect(ids.count == 36)
        let wrapped = try t.encode(grandma).get()
        #expect(wrapped.count == 38)
        #expect(wrapped.first == t.bosToken && wrapped.last == t.eosToken)
        #expect(Array(wrapped.dropFirst().dropLast()) == ids)
        // Distinct characters of the example: space . M a b d e g h i k l m n p r s t y = 19.
        #expect(t.vocabularySize == 19 + 3)
        #expect(t.scalars.first == " " && t.scalars[1] == ".")
        #expect(try t.decode(wrapped).get() == grandma)
    }

    @Test("word level: the paper's 7 tokens ['My ', 'grandma ', 'makes ', …]")
    func wordLevel() throws {
        let t = try WordTokenizer(trainedOn: [grandma])
        #expect(t.words(grandma) == ["My ", "grandma ", "makes ", "the ", "best ", "apple ", "pie."])
        let ids = try t.encode(grandma, wrap: false).get()
        #expect(ids.count == 7)
        #expect(ids.map { t.elements[$0 - 1] } == ["My ", "grandma ", "makes ", "the ", "best ", "apple ", "pie."])
        #expect(try t.decode(ids).get() == grandma)
        let p = try WordTokenizer(trainedOn: [grandma], splitting: .punctuation)
        #expect(p.words(grandma) == ["My ", "grandma ", "makes ", "the ", "best ", "apple ", "pie", "."])
        #expect(try p.encode(grandma, wrap: false).get().count == 8)
    }

    @Test("mask, bos, eos are N_V − 2, N_V − 1, N_V and elements are 1…N_V − 3")
    func specialIds() throws {
        let tokenizers: [any Tokenizer] = [
            try CharacterTokenizer(trainedOn: ["abc "]),
            try WordTokenizer(trainedOn: ["ab c"]),
            try BPETokenizer(trainedOn: ["abab"], merges: 1),
        ]
        for t in tokenizers {
            let n = t.vocabularySize
            #expect(t.maskToken == n - 2 && t.bosToken == n - 1 && t.eosToken == n)
            #expect(t.elementCount == n - 3)
            let ids = try t.encode("abab c ab", wrap: false).get()
            #expect(ids.allSatisfy { 1 <= $0 && $0 <= n - 3 })
            #expect(try t.decode([t.bosToken] + ids + [t.maskToken, t.eosToken]).get() == "abab c ab")
            #expect(try t.decode([t.bosToken, t.maskToken, t.eosToken], specialTokens: .show).get() == "⟨bos⟩⟨mask⟩⟨eos⟩")
            #expect(t.encode("", wrap: true) == .success([t.bosToken, t.eosToken]))
        }
        #expect(try CharacterTokenizer(trainedOn: ["abc"]).vocabularySize == 6)
        #expect(try BPETokenizer(trainedOn: ["abab"], merges: 1).vocabularySize == 256 + 1 + 3)
    }
}

@Suite("Errors are values")
struct TokenizerErrorTests {
    @Test func emptyCorpus() {
        #expect(CharacterTokenizer.train(on: []) == .failure(.emptyCorpus))
        #expect(CharacterTokenizer.train(on: ["", ""]) == .failure(.emptyCorpus))
        #expect(WordTokenizer.train(on: [""]) == .failure(.emptyCorpus))
        #expect(BPETokenizer.train(on: [], merges: 5) == .failure(.emptyCorpus))
        #expect(throws: TokenizerError.emptyCorpus) { try CharacterTokenizer(trainedOn: []) }
        guard case .failure(.invalidArgument) = BPETokenizer.train(on: ["a"], merges: -1) else {
            Issue.record("negative merges accepted")
            return
        }
    }

    @Test func unseenCharacter() throws {
        let t = try CharacterTokenizer(trainedOn: ["abc"])
        #expect(t.encode("abxc") == .failure(.unknownCharacter("x", position: 3)))
        let e = TokenizerError.unknownCharacter("x", position: 3)
        #expect(e.description == "character U+78 `x` at position 3 is not in the vocabulary")
    }

    @Test func idOutOfRange() throws {
        let t = try CharacterTokenizer(trainedOn: ["abc"])
        #expect(t.decode([1, 0]) == .failure(.idOutOfRange(id: 0, position: 2, vocabularySize: 6)))
        #expect(t.decode([7]) == .failure(.idOutOfRange(id: 7, position: 1, vocabularySize: 6)))
        #expect(t.decode([Int.min, Int.max]) == .failure(.idOutOfRange(id: Int.min, position: 1, vocabularySize: 6)))
        let b = try BPETokenizer(trainedOn: ["ab"], merges: 0)
        #expect(b.decode([260]) == .failure(.idOutOfRange(id: 260, position: 1, vocabularySize: 259)))
    }
}

@Suite("Character tokenizer")
struct CharacterTokenizerTests {
    @Test("Unicode scalars, not grapheme clusters: é precomposed and decomposed stay distinct")
    func scalars() throws {
        let composed = "caf\u{E9}", decomposed = "cafe\u{301}"
        let t = try CharacterTokenizer(trainedOn: [composed, decomposed, "👩‍💻"])
        #expect(try t.encode(composed, wrap: false).get().count == 4)
        #expect(try t.encode(decomposed, wrap: false).get().count == 5)
        #expect(try t.encode("👩‍💻", wrap: false).get().count == 3)   // 👩 ZWJ 💻
        #expect(Array(try t.decode(t.encode(decomposed).get()).get().utf8) == Array(decomposed.utf8))
        #expect(Array(try t.decode(t.encode(composed).get()).get().utf8) == Array(composed.utf8))
        // A new combination of seen scalars is encodable.
        #expect(try t.decode(t.encode("💻‍👩").get()).get() == "💻‍👩")
    }

    @Test func roundTripRandom() throws {
        var rng = RandomGenerator(seed: 1)
        for _ in 0..<200 {
            let text = randomUnicodeText(&rng)
            let t = try CharacterTokenizer(trainedOn: [text, "x"])
            #expect(Array(try t.decode(t.encode(text).get()).get().utf8) == Array(text.utf8))
        }
    }
}

@Suite("Word tokenizer")
struct WordTokenizerTests {
    @Test("unknown words fall back to characters; unknown characters are errors")
    func unknownWords() throws {
        let t = try WordTokenizer(trainedOn: [grandma])
        let ids = try t.encode("My apple gram pie.", wrap: false).get()
        let shown = ids.map { t.elements[$0 - 1] }
        #expect(shown == ["My ", "apple ", "g", "r", "a", "m", " ", "pie."])
        #expect(try t.decode(ids).get() == "My apple gram pie.")
        #expect(t.encode("My zebra") == .failure(.unknownCharacter("z", position: 4)))
    }

    @Test("leading, repeated and other whitespace is kept exactly")
    func whitespace() throws {
        let text = "  two  spaces\tand\na line "
        let t = try WordTokenizer(trainedOn: [text])
        #expect(t.words(text) == ["  ", "two  ", "spaces\t", "and\n", "a ", "line "])
        #expect(try t.decode(t.encode(text).get()).get() == text)
        #expect(WordTokenizer.pieces("a.b,c", .punctuation) == ["a", ".", "b", ",", "c"])
        #expect(WordTokenizer.pieces("...!", .punctuation) == [".", ".", ".", "!"])
    }

    @Test func roundTripRandom() throws {
        var rng = RandomGenerator(seed: 2)
        for k in 0..<200 {
            let text = randomUnicodeText(&rng)
            let t = try WordTokenizer(trainedOn: [text, "x"], splitting: k % 2 == 0 ? .whitespace : .punctuation)
            #expect(Array(try t.decode(t.encode(text).get()).get().utf8) == Array(text.utf8))
        }
    }
}
