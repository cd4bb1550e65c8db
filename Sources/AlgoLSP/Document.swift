import AlgoDiagnostics
import AlgoSyntax
import Foundation

/// An open document: the client's text (which the server never reads from disk while it is open),
/// its version, and the same text as a `SourceFile` for the parser and checker.
struct Document: Sendable {
    let uri: String
    let path: String
    var version: Int
    private(set) var text: String
    /// Positions in the client's text (with a byte-order mark if the client has one).
    private(set) var lines: LineIndex
    /// The text as the parser sees it (a leading byte-order mark removed).
    private(set) var source: SourceFile

    init(uri: String, version: Int, text: String) {
        self.uri = uri
        self.path = Self.path(of: uri)
        self.version = version
        self.text = text
        self.lines = LineIndex(text)
        self.source = SourceFile(path: path, text: text)
    }

    /// Bytes the client's text has before the parser's (3 for a byte-order mark): spans of `source`
    /// are shifted by this much to be offsets into `text`.
    var shift: Int { text.hasPrefix("\u{FEFF}") ? 3 : 0 }

    /// Applies `contentChanges` of `didChange` in order: a change with a `range` replaces it, one
    /// without replaces the whole text. False (and nothing changed) when a change is malformed.
    mutating func apply(_ changes: [JSON]) -> Bool {
        var bytes = Array(text.utf8)
        var index = lines
        for c in changes {
            guard let new = c["text"]?.string else { return false }
            if let r = c["range"] {
                guard let range = TextRange(r) else { return false }
                let s = index.offset(of: range.start), e = max(s, index.offset(of: range.end))
                bytes.replaceSubrange(s..<e, with: Array(new.utf8))
            } else {
                bytes = Array(new.utf8)
            }
            index = LineIndex(String(decoding: bytes, as: UTF8.self))
        }
        text = String(decoding: bytes, as: UTF8.self)
        lines = index
        source = SourceFile(path: path, text: text)
        return true
    }

    /// The file path of a `file://` URI (percent-decoded); other URIs are used as they are.
    static func path(of uri: String) -> String {
        if uri.hasPrefix("file://"), let u = URL(string: uri), !u.path.isEmpty { return u.path }
        return uri
    }

    /// The `file://` URI of a path.
    static func uri(of path: String) -> String {
        if path.contains("://") || path.hasPrefix("untitled:") { return path }
        return URL(fileURLWithPath: path).absoluteString
    }
}
