// Chunking (the paper's Section 3): an article longer than the context ℓ_max "is crudely broken
// into shorter chunks of length ≤ ℓ_max".

/// Where bos/eos go when a text is cut into chunks of at most ℓ_max tokens.
public enum ChunkingPolicy: Sendable, Hashable {
    /// The paper's crude cut: the text is wrapped once (`bos … eos`) and the wrapped sequence is
    /// cut into consecutive chunks of ℓ_max tokens (the last may be shorter). Only the first chunk
    /// starts with bos and only the last ends with eos; nothing is lost or added. Needs ℓ_max ≥ 1.
    case crude
    /// Every chunk is a complete sequence: the text's ids are cut into pieces of ℓ_max − 2 tokens
    /// and each piece is wrapped in `bos … eos`. Needs ℓ_max ≥ 3. An empty text gives `[bos, eos]`.
    case wrapEach
}

/// Cutting id sequences into chunks of length ≤ ℓ_max.
public enum Chunking {
    /// `ids` cut into consecutive chunks of `maxLength` (the last may be shorter; an empty input
    /// gives no chunks). `.invalidArgument` when `maxLength < 1`.
    public static func split(_ ids: [Int], maxLength: Int) -> Result<[[Int]], TokenizerError> {
        guard maxLength >= 1 else { return .failure(.invalidArgument("ℓ_max must be ≥ 1, got \(maxLength)")) }
        return .success(stride(from: 0, to: ids.count, by: maxLength).map { Array(ids[$0..<min($0 + maxLength, ids.count)]) })
    }

    /// The unwrapped ids `content` of one text as chunks of length ≤ `maxLength`, with `bos` and
    /// `eos` placed by `policy`.
    public static func chunks(_ content: [Int], maxLength: Int, policy: ChunkingPolicy, bos: Int, eos: Int) -> Result<[[Int]], TokenizerError> {
        switch policy {
        case .crude:
            return split([bos] + content + [eos], maxLength: maxLength)
        case .wrapEach:
            guard maxLength >= 3 else { return .failure(.invalidArgument("ℓ_max must be ≥ 3 to hold bos, a token and eos, got \(maxLength)")) }
            if content.isEmpty { return .success([[bos, eos]]) }
            return split(content, maxLength: maxLength - 2).map { $0.map { [bos] + $0 + [eos] } }
        }
    }
}

extension Tokenizer {
    /// `text` encoded and cut into chunks of length ≤ `maxLength` (ℓ_max), bos/eos placed by `policy`.
    public func encodeChunks(_ text: String, maxLength: Int, policy: ChunkingPolicy = .crude) -> Result<[[Int]], TokenizerError> {
        encode(text, wrap: false).flatMap { Chunking.chunks($0, maxLength: maxLength, policy: policy, bos: bosToken, eos: eosToken) }
    }
}
