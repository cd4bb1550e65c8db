import Foundation
import Testing
@testable import AlgoEval

/// HuggingFace tokenizer files against the encodings HuggingFace `tokenizers` itself gave
/// (`Tests/Reference/hf_tokenizers.py` wrote `Tests/Reference/fixtures/hf/`; no Python runs here).
@Suite("HuggingFace tokenizers")
struct HFTokenizerTests {
    static let directory: String = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Reference/fixtures/hf").path

    struct Case { var text: String; var ids: [Int]; var idsWithSpecial: [Int]; var decoded: String }

    /// The fixture sentences of one tokenizer (`bpe` or `wordpiece`), ids as HF gives them (0-based).
    static func cases(_ kind: String) throws -> [Case] {
        let data = try Data(contentsOf: URL(fileURLWithPath: directory + "/encodings.json"))
        let root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let list = try #require(root[kind] as? [[String: Any]])
        return try list.map { e in
            Case(text: try #require(e["text"] as? String), ids: try #require(e["ids"] as? [Int]),
                 idsWithSpecial: try #require(e["ids_with_special"] as? [Int]), decoded: try #require(e["decoded"] as? String))
        }
    }

    static func load(_ path: String) throws -> any Tokenizer {
        switch TokenizerFile.load(from: directory + "/" + path) {
        case .success(let t): return t
        case .failure(let e): throw e
        }
    }

    @Test("byte-level BPE: vocab.json + merges.txt, tokenizer.json and the directory give HF's ids, plus one",
          arguments: ["bpe/vocab.json", "bpe/merges.txt", "bpe/tokenizer.json", "bpe"])
    func byteLevelBPE(path: String) throws {
        let t = try Self.load(path)
        let cases = try Self.cases("bpe")
        #expect(cases.count >= 20)
        for c in cases {
            #expect(try t.encode(c.text, wrap: false).get() == c.ids.map(TokenIds.notation), "\(c.text.debugDescription)")
            #expect(try t.encode(c.text, wrap: true).get() == c.idsWithSpecial.map(TokenIds.notation), "\(c.text.debugDescription)")
            // Byte-level BPE loses nothing: decode(encode(s)) = s, byte for byte (special tokens shown
            // as their text); with them dropped it is HF's `decode(…, skip_special_tokens=True)`.
            let ids = try t.encode(c.text, wrap: false).get()
            #expect(Array(try t.decode(ids, specialTokens: .show).get().utf8) == Array(c.text.utf8), "\(c.text.debugDescription)")
            #expect(try t.decode(ids).get() == c.decoded)
        }
        #expect(t.vocabularySize == 648)   // vocab.json has 648 entries (the corpus has few distinct words)
        #expect(t.bosToken == TokenIds.notation(0) && t.eosToken == TokenIds.notation(0))   // <|endoftext|>
        #expect(t.maskTokenIfAny == nil)
    }

    @Test("WordPiece (BERT): tokenizer.json gives HF's ids plus one, [CLS] … [SEP] when wrapped, HF's decoding")
    func wordPiece() throws {
        let t = try Self.load("wordpiece/tokenizer.json")
        for c in try Self.cases("wordpiece") {
            let ids = try t.encode(c.text, wrap: false).get()
            #expect(ids == c.ids.map(TokenIds.notation), "\(c.text.debugDescription)")
            #expect(try t.encode(c.text, wrap: true).get() == c.idsWithSpecial.map(TokenIds.notation), "\(c.text.debugDescription)")
            // WordPiece lowercases, strips accents and drops whitespace: decode(encode(s)) is HF's decoding, not s.
            #expect(try t.decode(ids).get() == c.decoded, "\(c.text.debugDescription)")
        }
        // Roles: [CLS] = 2, [SEP] = 3, [MASK] = 4 in HF's numbering.
        #expect(t.bosToken == 3 && t.eosToken == 4 && t.maskTokenIfAny == 5)
        #expect(try t.decode([3, 5, 4], specialTokens: .show).get() == "[CLS] [MASK] [SEP]")
    }

    @Test("a tokenizer's vocabulary file reads back as the same tokenizer")
    func vocabularyFileRoundTrip() throws {
        for path in ["bpe", "wordpiece/tokenizer.json"] {
            let t = try Self.load(path)
            let again = try TokenizerFile.parse(t.vocabularyFile()).get()
            for c in try Self.cases(path == "bpe" ? "bpe" : "wordpiece") {
                #expect(try again.encode(c.text, wrap: false).get() == t.encode(c.text, wrap: false).get())
            }
        }
    }

    @Test("GPT-2's pre-tokenization pattern, written out by hand")
    func pattern() {
        func pieces(_ s: String) -> [String] {
            let u = Array(s.unicodeScalars)
            return ByteLevel.pieces(u).map { String(String.UnicodeScalarView(u[$0])) }
        }
        #expect(pieces("Hello world") == ["Hello", " world"])
        #expect(pieces("a   b") == ["a", "  ", " b"])
        #expect(pieces("a\n\nb") == ["a", "\n", "\n", "b"])
        #expect(pieces("it's we'll x'y") == ["it", "'s", " we", "'ll", " x", "'", "y"])
        #expect(pieces("ab12 !!") == ["ab", "12", " !!"])
        #expect(pieces("end  ") == ["end", "  "])
        #expect(ByteLevel.spell(Array(" \n".utf8)) == "ĠĊ")
        #expect(ByteLevel.bytes(ofSpelling: "ĠĊ") == [32, 10])
        #expect(Set(ByteLevel.characterOfByte.map(\.value)).count == 256)
    }

    @Test("hostile tokenizer files are refused with a message, never a trap or a huge allocation")
    func hostile() {
        let vocab = #"{"a":0,"b":1,"ab":2}"#
        let bad: [(vocab: String, merges: String)] = [
            (#"{"a":0,"b":1}"#, "a b\n"),                        // merged token not in the vocabulary
            (#"{"a":0,"b":5}"#, ""),                             // a gap in the ids
            (#"{"a":0,"b":9223372036854775807}"#, ""),           // an id that would allocate everything
            (#"{"a":0,"b":0}"#, ""),                             // two tokens, one id
            (#"{"a":-1}"#, ""),                                  // a negative id
            (#"{"a":1.5}"#, ""),                                 // not an integer
            (#"["a"]"#, ""),                                     // not an object
            (String(repeating: "[", count: 100_000), ""),       // nesting
            (vocab, "a b c\n"),                                  // three parts
            (vocab, "a b\na b\n"),                               // a merge twice
            (vocab, "a z\n"),                                    // a part outside the vocabulary
            (#"{"a":0,""# , ""),                                 // truncated
        ]
        for (v, m) in bad {
            guard case .failure(.malformedFile) = HFTokenizerFile.gpt2(vocabJSON: Array(v.utf8), merges: Array(m.utf8)) else {
                Issue.record("accepted \(v.prefix(40)) / \(m)"); continue
            }
        }
        let json: [String] = [
            #"{"model":{"type":"Unigram","vocab":{}}}"#,
            #"{"model":{"type":"BPE","vocab":{"a":0},"merges":[],"dropout":0.1}}"#,
            #"{"model":{"type":"BPE","vocab":{"a":0},"merges":[]},"pre_tokenizer":{"type":"Metaspace"}}"#,
            #"{"model":{"type":"WordPiece","vocab":{"a":0}}}"#,                                   // no [UNK]
            #"{"model":{"type":"BPE","vocab":{"a":0},"merges":[[1,2]]},"pre_tokenizer":{"type":"ByteLevel"}}"#,
            #"{"model":{"type":"BPE","vocab":{"a":0},"merges":[]},"added_tokens":[{"id":5,"content":"x"}],"pre_tokenizer":{"type":"ByteLevel"}}"#,
            #"{"model":{"type":"BPE","vocab":{"a":0},"merges":[]},"added_tokens":[{"id":0,"content":"x"}],"pre_tokenizer":{"type":"ByteLevel"}}"#,
            #"{"model":{"type":"BPE","vocab":{"a":0},"merges":[]},"pre_tokenizer":{"type":"ByteLevel"},"post_processor":{"type":"BertProcessing","cls":["a",7],"sep":["a",0]}}"#,
        ]
        for j in json {
            guard case .failure(.malformedFile) = TokenizerFile.parse(Array(j.utf8)) else { Issue.record("accepted \(j)"); continue }
        }
        // algo's own BPE file: 40 merges each doubling an element would make 2⁴⁰ bytes, beyond the
        // memory budget (`SizeBudget`): refused at the merge that crosses it.
        let chain = ["[98,98]"] + (1..<40).map { "[\(256 + $0),\(256 + $0)]" }   // element r is element r − 1 twice
        let file = #"{"format":"algo-tokenizer","version":1,"kind":"bpe","merges":["# + chain.joined(separator: ",") + "]}"
        guard case .failure(.malformedFile(let m)) = TokenizerFile.parse(Array(file.utf8)) else { Issue.record("accepted the doubling chain"); return }
        #expect(m.contains("merge ") && m.contains("long"), "\(m)")
    }
}
