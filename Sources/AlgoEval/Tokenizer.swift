// The tokenizer contract of the paper's Section 4: vocabulary elements have ids 1…N_V − 3, then
// mask_token = N_V − 2, bos_token = N_V − 1, eos_token = N_V, and a text is its ids preceded by
// bos_token and followed by eos_token.

/// A tokenizer from the paper's Section 4: maps text to 1-based token ids and back.
///
/// Vocabulary elements have ids `1…N_V − 3`; the three special tokens follow them
/// (`maskToken = N_V − 2`, `bosToken = N_V − 1`, `eosToken = N_V`). `encode` wraps the text in
/// `bosToken … eosToken` unless told not to. Errors are values (`TokenizerError`), never traps.
public protocol Tokenizer: Sendable {
    /// N_V: vocabulary elements plus the three special tokens.
    var vocabularySize: Int { get }

    /// The ids of `text`, wrapped in `bosToken … eosToken` when `wrap` is true.
    func encode(_ text: String, wrap: Bool) -> Result<[Int], TokenizerError>

    /// The text of `ids`; special tokens are dropped or shown as `⟨mask⟩`, `⟨bos⟩`, `⟨eos⟩`.
    func decode(_ ids: [Int], specialTokens: SpecialTokenRendering) -> Result<String, TokenizerError>

    /// The vocabulary file (JSON) of this tokenizer, readable by `TokenizerFile.load`.
    func vocabularyFile() -> [UInt8]

    /// `mask_token` (1-based). `algo`'s own tokenizers: N_V − 2; a HuggingFace tokenizer: its mask
    /// token (`[MASK]`), or nil when it has none (GPT-2).
    var maskTokenIfAny: Int? { get }
    /// `bos_token` (1-based): N_V − 1 for `algo`'s tokenizers; `[CLS]` or `<|endoftext|>` for HuggingFace's.
    var bosToken: Int { get }
    /// `eos_token` (1-based): N_V for `algo`'s tokenizers; `[SEP]` or `<|endoftext|>` for HuggingFace's.
    var eosToken: Int { get }
}

/// The one place where token ids change base. The notation's ids are 1-based (`W_e[:, x[t]]`,
/// `P[x[t+1], t]`); HuggingFace's (`vocab.json`, `tokenizer.json`, `input_ids`) and every array
/// index in Swift are 0-based. HuggingFace id `i` is notation id `i + 1`; row `i` of HuggingFace's
/// `wte` is column `i + 1` of `W_e`, so a converted checkpoint needs no renumbering.
public enum TokenIds {
    /// The notation's (1-based) id of HuggingFace's (0-based) id `zeroBased`.
    @inline(__always) public static func notation(_ zeroBased: Int) -> Int { zeroBased + 1 }
    /// HuggingFace's (0-based) id of the notation's (1-based) id `oneBased`.
    @inline(__always) public static func zeroBased(_ oneBased: Int) -> Int { oneBased - 1 }
}

/// What `decode` does with the special tokens.
public enum SpecialTokenRendering: Sendable, Hashable {
    /// Leave them out of the text (the default: `decode(encode(t)) == t`).
    case drop
    /// Show them as `⟨mask⟩`, `⟨bos⟩`, `⟨eos⟩`.
    case show
}

extension Tokenizer {
    /// `mask_token` := N_V − 2 (masked language modelling, Alg. 12).
    public var maskTokenIfAny: Int? { vocabularySize - 2 }
    /// `mask_token`, or N_V − 2 for a tokenizer without one.
    public var maskToken: Int { maskTokenIfAny ?? vocabularySize - 2 }
    /// `bos_token` := N_V − 1, the beginning of a sequence.
    public var bosToken: Int { vocabularySize - 1 }
    /// `eos_token` := N_V, the end of a sequence.
    public var eosToken: Int { vocabularySize }
    /// N_V − 3: the number of real vocabulary elements (ids `1…N_V − 3`).
    public var elementCount: Int { vocabularySize - 3 }

    /// The ids of `text` wrapped in `bosToken … eosToken` (the paper's representation of a text).
    public func encode(_ text: String) -> Result<[Int], TokenizerError> { encode(text, wrap: true) }

    /// The text of `ids` with the special tokens dropped.
    public func decode(_ ids: [Int]) -> Result<String, TokenizerError> { decode(ids, specialTokens: .drop) }

    /// Writes the vocabulary file to `path` (atomically: a temporary file, fsync, rename).
    public func save(to path: String) -> Result<Void, TokenizerError> {
        AtomicFile.write(vocabularyFile(), to: path).mapError { .io($0.reason) }
    }

    /// The name shown for a special token id, or nil for a vocabulary element.
    func specialName(_ id: Int) -> String? {
        if id == maskToken { return "⟨mask⟩" }
        if id == bosToken { return "⟨bos⟩" }
        if id == eosToken { return "⟨eos⟩" }
        return nil
    }

    /// `ids` wrapped in bos … eos when `wrap` is true.
    func wrapped(_ ids: [Int], _ wrap: Bool) -> [Int] { wrap ? [bosToken] + ids + [eosToken] : ids }

    /// Decodes by concatenating the UTF-8 bytes of each element (`bytes(of:)` takes a 0-based element index).
    func decodeBytes(_ ids: [Int], specialTokens: SpecialTokenRendering, bytes: (Int) -> [UInt8]) -> Result<[UInt8], TokenizerError> {
        var out: [UInt8] = []
        for (position, id) in ids.enumerated() {
            guard id >= 1, id <= vocabularySize else {
                return .failure(.idOutOfRange(id: id, position: position + 1, vocabularySize: vocabularySize))
            }
            if let name = specialName(id) {
                if specialTokens == .show { out += Array(name.utf8) }
            } else {
                out += bytes(id - 1)
            }
        }
        return .success(out)
    }
}

/// A tokenizer failure: a value with a message, never a trap.
public enum TokenizerError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Training on an empty corpus (no text at all).
    case emptyCorpus
    /// A character the tokenizer has never seen (1-based position in Unicode scalars of the text).
    case unknownCharacter(Unicode.Scalar, position: Int)
    /// An id outside `1…N_V` (1-based position in the id sequence).
    case idOutOfRange(id: Int, position: Int, vocabularySize: Int)
    /// A bad argument (for example ℓ_max too small for the chunking policy).
    case invalidArgument(String)
    /// A vocabulary file that is not a valid tokenizer description.
    case malformedFile(String)
    /// A file that could not be read or written.
    case io(String)

    /// One lowercase line without a trailing period.
    public var description: String {
        switch self {
        case .emptyCorpus: return "cannot train a tokenizer on an empty corpus"
        case let .unknownCharacter(s, position):
            return "character U+\(String(s.value, radix: 16, uppercase: true)) `\(s.escaped(asASCII: false))` at position \(position) is not in the vocabulary"
        case let .idOutOfRange(id, position, n): return "token id \(id) at position \(position) is outside 1…\(n)"
        case let .invalidArgument(m): return m
        case let .malformedFile(m): return "malformed tokenizer file: \(m)"
        case let .io(m): return m
        }
    }
}

/// Orders byte strings lexicographically (the deterministic order of every vocabulary here; unlike
/// `String <`, it does not identify canonically equivalent strings such as `é` and `e`+`◌́`).
func bytesLess(_ a: [UInt8], _ b: [UInt8]) -> Bool { a.lexicographicallyPrecedes(b) }
