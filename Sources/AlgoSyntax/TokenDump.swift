import AlgoDiagnostics

/// `algo parse --dump tokens`: one token per line, `line:column kind "text"` (and the canonical
/// value where it differs from the text). Trivia is not shown.
public enum TokenDump {
    /// The dump of `tokens` lexed from `source`.
    public static func dump(_ tokens: [Token], source: SourceFile) -> String {
        var out = ""
        for t in tokens {
            let (line, column) = source.location(of: t.start)
            var row = "\(line):\(column) \(kindName(t.kind))"
            if t.kind != .newline && t.kind != .endOfFile {
                row += " \(quote(t.text))"
                if t.value != t.text { row += " = \(quote(t.value))" }
            }
            out += row + "\n"
        }
        return out
    }

    /// A short name for a token kind (`identifier`, `symbol ←`).
    public static func kindName(_ k: TokenKind) -> String {
        switch k {
        case .identifier: "identifier"
        case .number: "number"
        case .lineNumber: "line-number"
        case .scriptWord: "script-word"
        case .superscriptDigits: "superscript"
        case .subscriptDigits: "subscript"
        case .symbol(let s): "symbol \(s.rawValue)"
        case .blockComment: "comment"
        case .string: "string"
        case .newline: "newline"
        case .endOfFile: "end-of-file"
        case .unknown: "unknown"
        }
    }
}
