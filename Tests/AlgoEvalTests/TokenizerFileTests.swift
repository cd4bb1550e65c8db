import Foundation
import Testing
import AlgoTensor
@testable import AlgoEval

/// A fresh temporary directory for one test.
func temporaryDirectory() -> String {
    let path = NSTemporaryDirectory() + "algo-eval-\(UUID().uuidString)"
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

@Suite("Tokenizer files and chunking")
struct TokenizerFileTests {
    @Test("save and load give the same tokenizer and the same ids")
    func saveLoad() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let corpus = [grandma, "Ünïcödé \"quotes\" \\ back\tslash\n👩‍💻 caf\u{E9} cafe\u{301}"]
        let tokenizers: [any Tokenizer] = [
            try CharacterTokenizer(trainedOn: corpus),
            try WordTokenizer(trainedOn: corpus, splitting: .punctuation),
            try BPETokenizer(trainedOn: corpus, merges: 30),
        ]
        for (k, t) in tokenizers.enumerated() {
            let path = dir + "/tok\(k).json"
            try t.save(to: path).get()
            let loaded = try TokenizerFile.load(from: path).get()
            #expect(loaded.vocabularySize == t.vocabularySize)
            #expect(loaded.vocabularyFile() == t.vocabularyFile())
            for text in corpus { #expect(try loaded.encode(text).get() == t.encode(text).get()) }
            #expect(type(of: loaded) == type(of: t))
        }
        let c = try CharacterTokenizer(trainedOn: ["ba\u{0}"])
        #expect(String(decoding: c.vocabularyFile(), as: UTF8.self)
                == #"{"format":"algo-tokenizer","version":1,"kind":"character","vocabulary":["\u0000","a","b"]}"# + "\n")
        // No temporary file is left behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).sorted() == ["tok0.json", "tok1.json", "tok2.json"])
    }

    @Test("malformed files are error values")
    func malformed() {
        let cases = [
            "", "[]", "{", #"{"format":"x","version":1,"kind":"bpe","merges":[]}"#,
            #"{"format":"algo-tokenizer","version":2,"kind":"bpe","merges":[]}"#,
            #"{"format":"algo-tokenizer","version":1,"kind":"sentencepiece"}"#,
            #"{"format":"algo-tokenizer","version":1,"kind":"bpe","merges":[[1]]}"#,
            #"{"format":"algo-tokenizer","version":1,"kind":"bpe","merges":[[0,1]]}"#,
            #"{"format":"algo-tokenizer","version":1,"kind":"bpe","merges":[[258,1]]}"#,
            #"{"format":"algo-tokenizer","version":1,"kind":"character","vocabulary":["ab"]}"#,
            #"{"format":"algo-tokenizer","version":1,"kind":"character","vocabulary":["a","a"]}"#,
            #"{"format":"algo-tokenizer","version":1,"kind":"character","vocabulary":[]}"#,
            #"{"format":"algo-tokenizer","version":1,"kind":"word","splitting":"whitespace","vocabulary":["ab "]}"#,
            #"{"format":"algo-tokenizer","version":1,"kind":"word","vocabulary":["a"]}"#,
            #"{"format":"algo-tokenizer","version":1,"kind":"bpe","kind":"bpe","merges":[]}"#,
        ]
        for text in cases {
            switch TokenizerFile.parse(Array(text.utf8)) {
            case .success: Issue.record("accepted: \(text)")
            case .failure(let e):
                guard case .malformedFile = e else { Issue.record("\(e) for \(text)"); continue }
                if case .emptyCorpus = e { Issue.record("\(text)") }
            }
        }
        guard case .failure(.io) = TokenizerFile.load(from: "/nonexistent/tok.json") else { Issue.record("io"); return }
    }

    @Test("truncated and corrupted vocabulary files never crash")
    func fuzz() throws {
        let corpus = [grandma, "👩‍💻 é"]
        let files = [
            try CharacterTokenizer(trainedOn: corpus).vocabularyFile(),
            try WordTokenizer(trainedOn: corpus).vocabularyFile(),
            try BPETokenizer(trainedOn: corpus + corpus, merges: 10).vocabularyFile(),
        ]
        var rng = RandomGenerator(seed: 12)
        var loaded = 0
        for valid in files {
            for n in 0..<valid.count { if case .success = TokenizerFile.parse(Array(valid[0..<n])) { loaded += 1 } }
            for _ in 0..<500 {
                var bytes = valid
                let i = rng.int(below: bytes.count)
                let jsonCharacters = Array("{}[],:\"0123456789".utf8)
                bytes[i] = rng.int(below: 2) == 0 ? UInt8(rng.int(below: 256)) : jsonCharacters[rng.int(below: jsonCharacters.count)]
                if case .success(let t) = TokenizerFile.parse(bytes) {
                    loaded += 1
                    _ = t.encode(grandma)
                    _ = t.decode(Array(1...t.vocabularySize))
                }
            }
        }
        #expect(loaded < 3 * 500)
    }

    @Test("crude chunking keeps every id once: bos only in the first chunk, eos only in the last")
    func crude() throws {
        let t = try CharacterTokenizer(trainedOn: [grandma])
        let chunks = try t.encodeChunks(grandma, maxLength: 10, policy: .crude).get()
        #expect(chunks.map(\.count) == [10, 10, 10, 8])
        #expect(Array(chunks.joined()) == (try t.encode(grandma).get()))
        #expect(chunks[0].first == t.bosToken && chunks[3].last == t.eosToken)
        #expect(chunks.dropFirst().allSatisfy { !$0.contains(t.bosToken) })
        #expect(try t.encodeChunks("", maxLength: 1).get() == [[t.bosToken], [t.eosToken]])
        #expect(Chunking.split([], maxLength: 4) == .success([]))
        guard case .failure(.invalidArgument) = Chunking.split([1], maxLength: 0) else { Issue.record("ℓ_max 0"); return }
    }

    @Test("wrapEach chunking: every chunk is bos … eos and ≤ ℓ_max")
    func wrapEach() throws {
        let t = try CharacterTokenizer(trainedOn: [grandma])
        let chunks = try t.encodeChunks(grandma, maxLength: 10, policy: .wrapEach).get()
        #expect(chunks.map(\.count) == [10, 10, 10, 10, 6])   // 36 = 8 + 8 + 8 + 8 + 4
        #expect(chunks.allSatisfy { $0.first == t.bosToken && $0.last == t.eosToken && $0.count <= 10 })
        #expect(Array(chunks.map { $0.dropFirst().dropLast() }.joined()) == (try t.encode(grandma, wrap: false).get()))
        #expect(try t.encodeChunks("", maxLength: 3, policy: .wrapEach).get() == [[t.bosToken, t.eosToken]])
        guard case .failure(.invalidArgument) = t.encodeChunks(grandma, maxLength: 2, policy: .wrapEach) else { Issue.record("ℓ_max 2"); return }
    }
}
