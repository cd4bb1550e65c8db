import AlgoDiagnostics

/// What a token is. The set is closed: switches over it have no `default:`.
public enum TokenKind: Sendable, Hashable {
    /// A name's base: letters (NFC, with combining tilde/hat …), digits after the first letter,
    /// primes (`t′`). Scripts (`_x`, `^{…}`) are separate tokens.
    case identifier
    /// A decimal number `0`, `1`, `2.5`.
    case number
    /// A number at the start of a line followed by a space: the paper's line number.
    case lineNumber
    /// The content of an unbraced script right after `_` or `^`: `q` in `W_q`, `mlp1`, `e/d` in `𝓦^e/d_l`.
    case scriptWord
    /// Unicode superscript digits `²` (read as `^2`).
    case superscriptDigits
    /// Unicode subscript digits `₁` (read as `_1`).
    case subscriptDigits
    /// An operator or punctuation symbol (`←`, `∈`, `(`, …), whichever of its spellings was used.
    case symbol(Symbol)
    /// A `/* … */` comment on one line (the paper's comment lines, kept in the tree).
    case blockComment
    /// A text in double quotes on one line, `"prose.txt"` (experiment files: a data file's path);
    /// `value` is the text between the quotes. A `"` not closed on its line is `.unknown`.
    case string
    /// The end of a line.
    case newline
    /// The end of the file (always the last token).
    case endOfFile
    /// Characters that are no token (`@`, an unknown `\macro`): reported by the parser only
    /// where code is expected; prose may contain anything.
    case unknown
}

/// Whitespace and `//` comments before a token on its line: not part of the tree, kept so that
/// the formatter can preserve the layout.
public enum Trivia: Sendable, Hashable {
    case whitespace(String)
    case lineComment(String)

    /// The source text of this piece of trivia.
    public var text: String {
        switch self {
        case .whitespace(let s), .lineComment(let s): s
        }
    }
}

/// One token with its source text, its canonical Unicode value, and the trivia before it.
/// Concatenating `leadingTrivia` and `text` of all tokens gives back the file exactly.
public struct Token: Sendable, Hashable {
    /// What the token is.
    public var kind: TokenKind
    /// UTF-8 byte offsets into the source text, `start..<end` (trivia excluded).
    public var start: Int
    /// UTF-8 offset just past the token.
    public var end: Int
    /// The source text of the token as written.
    public var text: String
    /// The canonical Unicode form: NFC identifier with ASCII spellings resolved (`\tilde{X}` → `X̃`),
    /// the Unicode symbol, the digits of a super/subscript, the comment text.
    public var value: String
    /// Whitespace and `//` comments between the previous token (or line start) and this one.
    public var leadingTrivia: [Trivia]
    /// 1-based character column of the token's first character on its line.
    public var column: Int

    /// Whether anything (whitespace, a comment) separates this token from the previous one.
    public var hasLeadingSpace: Bool { !leadingTrivia.isEmpty }

    /// The source text of the leading trivia.
    public var triviaText: String { leadingTrivia.map(\.text).joined() }

    /// The span of the token in `file`.
    public func span(_ file: String) -> Span { Span(file: file, start: start, end: end) }

    /// Whether this is the given symbol.
    public func `is`(_ s: Symbol) -> Bool { kind == .symbol(s) }

    /// Whether this is an identifier spelled `word` (keywords are contextual identifiers).
    public func isWord(_ word: String) -> Bool { kind == .identifier && value == word }
}
