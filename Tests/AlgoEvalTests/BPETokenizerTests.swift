import Foundation
import Testing
import AlgoTensor
@testable import AlgoEval

@Suite("Byte-pair encoding")
struct BPETokenizerTests {
    typealias M = BPETokenizer.Merge
    let a = 97, b = 98, space = 32

    /// Worked by hand. Pieces of "abab abab ab": "abab " ×2, "ab" ×1.
    /// Step 1: (a,b) occurs 2·2 + 1 = 5 times → element 256 = "ab".
    /// Step 2: pieces [256,256,␠] ×2, [256] ×1; (256,256) and (256,␠) both occur 2 times;
    ///         tie → smaller pair (256, 32) → element 257 = "ab ".
    /// Step 3: pieces [256,257] ×2 → (256,257) occurs 2 times → element 258 = "abab ".
    /// Step 4: no pair occurs twice: training stops at 3 merges although 10 were allowed.
    @Test("merges learned on a tiny corpus equal the hand-worked merges")
    func handWorked() throws {
        let t = try BPETokenizer(trainedOn: ["abab abab ab"], merges: 10)
        #expect(t.merges == [M(a, b), M(256, space), M(256, 257)])
        #expect(t.elementBytes[258] == Array("abab ".utf8))
        #expect(t.vocabularySize == 256 + 3 + 3)
        // Encoding by rank: "abab" (no space) → [256, 256] → ids [257, 257]; "abab " → 258 → id 259.
        #expect(try t.encode("abab", wrap: false).get() == [257, 257])
        #expect(try t.encode("abab ", wrap: false).get() == [259])
        #expect(try t.encode("abab ab", wrap: false).get() == [259, 257])
        #expect(try t.encode("ba", wrap: false).get() == [b + 1, a + 1])
    }

    @Test("equal counts: the smaller pair of element indices is merged first")
    func tieBreak() throws {
        let t = try BPETokenizer(trainedOn: ["dc", "ba", "dc", "ba"], merges: 5)
        #expect(t.merges == [M(98, 97), M(100, 99)])
    }

    @Test("merges do not cross pieces; a limit of 1 merge is respected")
    func pieces() throws {
        #expect(BPETokenizer.pieces("My grandma's pie, 42x!").map { String(decoding: $0, as: UTF8.self) }
                == ["My ", "grandma", "'", "s ", "pie", ", ", "42", "x", "!"])
        let t = try BPETokenizer(trainedOn: ["a a a a"], merges: 5)
        #expect(t.merges == [M(a, space)])       // "a " ×3, "a" ×1; ( ␠,a) never adjacent inside a piece
        let one = try BPETokenizer(trainedOn: ["abab abab ab"], merges: 1)
        #expect(one.merges == [M(a, b)])
    }

    @Test("any UTF-8 text round-trips exactly (seeded random Unicode, emoji, controls)")
    func roundTrip() throws {
        var rng = RandomGenerator(seed: 3)
        var corpus: [String] = []
        for _ in 0..<30 { corpus.append(randomUnicodeText(&rng)) }
        let t = try BPETokenizer(trainedOn: corpus + [grandma, grandma], merges: 60)
        #expect(t.merges.count > 10)
        for _ in 0..<300 {
            let text = randomUnicodeText(&rng)
            let ids = try t.encode(text).get()
            #expect(ids.allSatisfy { 1 <= $0 && $0 <= t.vocabularySize })
            #expect(Array(try t.decode(ids).get().utf8) == Array(text.utf8))
        }
        for text in ["", "👩🏽‍💻🇨🇭", "e\u{301}\u{301}", "\u{0}\u{FFFD}\u{FEFF}", "\u{10FFFF}", grandma] {
            #expect(Array(try t.decode(t.encode(text).get()).get().utf8) == Array(text.utf8))
        }
    }

    @Test("arbitrary bytes, including invalid UTF-8, round-trip through encode(bytes:) and decodeBytes")
    func bytes() throws {
        let t = try BPETokenizer(trainedOn: [grandma, "\u{FFFD}é"], merges: 20)
        var rng = RandomGenerator(seed: 4)
        for _ in 0..<300 {
            let bytes = (0..<rng.int(below: 30)).map { _ in UInt8(rng.int(below: 256)) }
            #expect(try t.decodeBytes(t.encode(bytes: bytes)).get() == bytes)
        }
        // A cut inside a character decodes to U+FFFD in a String; decodeBytes stays exact.
        let ids = try t.encode("é", wrap: false).get()
        #expect(ids.count == 1 || ids.count == 2)
        #expect(try t.decode(t.encode(bytes: [0xC3], wrap: false)).get() == "\u{FFFD}")
    }

    @Test("determinism: the same corpus gives the same merges and the same file, bit for bit")
    func determinism() throws {
        var rng = RandomGenerator(seed: 5)
        let corpus = (0..<20).map { _ in randomUnicodeText(&rng) } + [grandma]
        let first = try BPETokenizer(trainedOn: corpus, merges: 40)
        for _ in 0..<3 {
            let again = try BPETokenizer(trainedOn: corpus, merges: 40)
            #expect(again.merges == first.merges)
            #expect(again.vocabularyFile() == first.vocabularyFile())
        }
        let w1 = try WordTokenizer(trainedOn: corpus), w2 = try WordTokenizer(trainedOn: corpus)
        #expect(w1.vocabularyFile() == w2.vocabularyFile())
        let c1 = try CharacterTokenizer(trainedOn: corpus), c2 = try CharacterTokenizer(trainedOn: corpus.reversed())
        #expect(c1.vocabularyFile() == c2.vocabularyFile())   // order of texts does not matter
    }

    @Test("incremental training equals the recount-everything definition")
    func incrementalEqualsReference() {
        var rng = RandomGenerator(seed: 6)
        for round in 0..<20 {
            // Small alphabets make many repeated and overlapping pairs (aaaa…), the hard case.
            let alphabet = Array("ab a\u{E9}.\n".unicodeScalars).prefix(2 + round % 5)
            var corpus: [String] = []
            for _ in 0..<(1 + rng.int(below: 6)) {
                var s = String.UnicodeScalarView()
                for _ in 0..<rng.int(below: 60) { s.append(alphabet[rng.int(below: alphabet.count)]) }
                corpus.append(String(s))
            }
            if round % 4 == 0 { corpus.append(randomUnicodeText(&rng)) }
            var counts: [[UInt8]: Int] = [:]
            for text in corpus { for p in BPETokenizer.pieces(text) { counts[p, default: 0] += 1 } }
            let keys = counts.keys.sorted(by: bytesLess)
            let words = keys.map { $0.map(Int.init) }, freq = keys.map { counts[$0]! }
            let fast = BPETokenizer.learnMerges(words: words, frequencies: freq, limit: 50)
            #expect(fast == BPETokenizer.learnMergesReference(words: words, frequencies: freq, limit: 50), "round \(round)")
        }
    }

    @Test("make(merges:) rejects merges referring to later elements")
    func makeValidation() {
        guard case .failure(.malformedFile) = BPETokenizer.make(merges: [M(256, 97)]) else { Issue.record("accepted"); return }
        guard case .failure(.malformedFile) = BPETokenizer.make(merges: [M(97, 98), M(97, 98)]) else { Issue.record("accepted"); return }
        #expect(BPETokenizer.make(merges: [M(97, 98), M(256, 256)]).map(\.merges) == .success([M(97, 98), M(256, 256)]))
    }
}
