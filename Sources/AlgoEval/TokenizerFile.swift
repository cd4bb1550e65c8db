import AlgoDiagnostics
// The vocabulary file of a tokenizer: a small JSON object, so that a trained tokenizer (a BPE
// especially) can be saved next to a checkpoint and reused.
//
//   {"format":"algo-tokenizer","version":1,"kind":"character","vocabulary":["a","b",…]}
//   {"format":"algo-tokenizer","version":1,"kind":"word","splitting":"whitespace","vocabulary":[…]}
//   {"format":"algo-tokenizer","version":1,"kind":"bpe","merges":[[98,99],[257,100],…]}
//
// Vocabulary strings are in id order (id = position, 1-based); BPE merges hold the 1-based ids of
// their two parts (ids 1…256 are the bytes 0…255). Special tokens are not stored: they are always
// the last three ids. Keys are written in this fixed order, so equal tokenizers give equal bytes.

import Foundation

/// Reading and writing tokenizer vocabulary files.
public enum TokenizerFile {
    /// The three tokenizer kinds, as written in the `kind` field.
    public enum Kind: String, Sendable, Hashable {
        /// `CharacterTokenizer`.
        case character
        /// `WordTokenizer`.
        case word
        /// `BPETokenizer`.
        case bpe
    }

    /// Reads a tokenizer: a vocabulary file written by `Tokenizer.save(to:)`, a HuggingFace
    /// `tokenizer.json`, GPT-2's `vocab.json` (with `merges.txt` beside it) or `merges.txt` (with
    /// `vocab.json` beside it), or a directory holding `tokenizer.json` or that pair.
    public static func load(from path: String) -> Result<any Tokenizer, TokenizerError> {
        // Anything but a directory is read as a file (`FileBytes` gives the system's reason).
        var isDirectory: ObjCBool = false
        let directory = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
        let dir = directory ? path : (path as NSString).deletingLastPathComponent
        let name = directory ? "" : (path as NSString).lastPathComponent
        func beside(_ file: String) -> String { dir.isEmpty ? file : (dir as NSString).appendingPathComponent(file) }
        let vocab = beside("vocab.json"), merges = beside("merges.txt"), json = beside("tokenizer.json")
        let exists = { FileManager.default.fileExists(atPath: $0) }
        if directory && !exists(json) && !(exists(vocab) && exists(merges)) {
            return .failure(.io("the directory holds neither tokenizer.json nor vocab.json with merges.txt"))
        }
        if name == "vocab.json" || name == "merges.txt" || (directory && !exists(json)) {
            return read(vocab, given: path).flatMap { v in
                read(merges, given: path).flatMap { m in HFTokenizerFile.gpt2(vocabJSON: v, merges: m).map { $0 as any Tokenizer } }
            }
        }
        return read(directory ? json : path, given: path).flatMap(parse)
    }

    /// The bytes of one tokenizer file, refused unread beyond the memory budget (`SizeBudget`). `.io`
    /// holds the system's reason, after the file's path when it is not the one given (`--tokenizer
    /// DIR` reads `DIR/vocab.json`).
    static func read(_ file: String, given: String) -> Result<[UInt8], TokenizerError> {
        let at = file == given ? "" : "`\(file)`: "
        return FileBytes.read(file, limit: SizeBudget.available.bytes, why: SizeBudget.available.phrase).mapError { .io(at + $0.description) }
    }

    /// Parses the bytes of a vocabulary file; every malformation is a `.malformedFile` value.
    public static func parse(_ bytes: [UInt8]) -> Result<any Tokenizer, TokenizerError> {
        let json: JSONValue
        switch JSONParser.parse(bytes) {
        case .success(let v): json = v
        case .failure(let e): return .failure(.malformedFile("\(e.message) at byte \(e.offset)"))
        }
        guard case .object(let members) = json else { return .failure(.malformedFile("expected a JSON object")) }
        if HFTokenizerFile.isTokenizerJSON(json) { return HFTokenizerFile.tokenizer(json, bytes: bytes).map { $0 as any Tokenizer } }
        func field(_ name: String) -> JSONValue? { members.first { $0.key == name }?.value }
        guard field("format") == .string("algo-tokenizer") else {
            return .failure(.malformedFile("neither an `algo` vocabulary file (`format` is not \"algo-tokenizer\") nor a HuggingFace tokenizer.json (no `model`)"))
        }
        guard field("version") == .number("1") else { return .failure(.malformedFile("unsupported `version` (expected 1)")) }
        guard case .string(let kindName)? = field("kind"), let kind = Kind(rawValue: kindName) else {
            return .failure(.malformedFile("`kind` must be \"character\", \"word\" or \"bpe\""))
        }
        switch kind {
        case .character:
            guard let vocab = strings(field("vocabulary")) else { return .failure(.malformedFile("`vocabulary` must be a non-empty array of strings")) }
            var scalars: [Unicode.Scalar] = []
            for s in vocab {
                let u = Array(s.unicodeScalars)
                guard u.count == 1 else { return .failure(.malformedFile("character vocabulary element \"\(s)\" is not one character")) }
                scalars.append(u[0])
            }
            return CharacterTokenizer.make(scalars: scalars).map { $0 as any Tokenizer }
        case .word:
            guard let vocab = strings(field("vocabulary")) else { return .failure(.malformedFile("`vocabulary` must be a non-empty array of strings")) }
            guard case .string(let sname)? = field("splitting"), let splitting = WordTokenizer.Splitting(rawValue: sname) else {
                return .failure(.malformedFile("`splitting` must be \"whitespace\" or \"punctuation\""))
            }
            return WordTokenizer.make(elements: vocab, splitting: splitting).map { $0 as any Tokenizer }
        case .bpe:
            guard case .array(let items)? = field("merges") else { return .failure(.malformedFile("`merges` must be an array")) }
            var merges: [BPETokenizer.Merge] = []
            for item in items {
                guard case .array(let pair) = item, pair.count == 2, let l = pair[0].nonNegativeInt, let r = pair[1].nonNegativeInt,
                      l >= 1, r >= 1 else {
                    return .failure(.malformedFile("merge \(merges.count + 1) is not a pair of positive ids"))
                }
                merges.append(BPETokenizer.Merge(l - 1, r - 1))
            }
            return BPETokenizer.make(merges: merges).map { $0 as any Tokenizer }
        }
    }

    /// The strings of a non-empty JSON array of strings.
    private static func strings(_ v: JSONValue?) -> [String]? {
        guard case .array(let items)? = v, !items.isEmpty else { return nil }
        var out: [String] = []
        for item in items {
            guard case .string(let s) = item else { return nil }
            out.append(s)
        }
        return out
    }

    /// The file bytes (compact JSON and a final newline).
    static func write(kind: Kind, vocabulary: [String]? = nil, splitting: WordTokenizer.Splitting? = nil, merges: [[Int]]? = nil) -> [UInt8] {
        var members: [(key: String, value: JSONValue)] = [
            ("format", .string("algo-tokenizer")), ("version", .number("1")), ("kind", .string(kind.rawValue)),
        ]
        if let splitting { members.append(("splitting", .string(splitting.rawValue))) }
        if let vocabulary { members.append(("vocabulary", .array(vocabulary.map { .string($0) }))) }
        if let merges { members.append(("merges", .array(merges.map { .array($0.map { .number(String($0)) }) }))) }
        return JSONWriter.write(.object(members)) + [0x0A]
    }
}
