import Foundation

/// One source text with its line table. Offsets everywhere are UTF-8 byte offsets into `text`;
/// columns shown to people are counted in characters (grapheme clusters), so `ℝ`, `ℓ`, `←` and
/// `X̃` (X + combining tilde) are one column each.
public struct SourceFile: Sendable {
    /// The path as the user gave it (shown in diagnostics).
    public let path: String
    /// The text, exactly as read (a leading byte-order mark removed).
    public let text: String
    /// The same text as UTF-8 bytes, for the lexer and for offset arithmetic.
    public let utf8: [UInt8]
    /// UTF-8 offset of the first byte of each line; `lineStarts[0] == 0`.
    public let lineStarts: [Int]

    public init(path: String, text: String) {
        var t = text
        if t.hasPrefix("\u{FEFF}") { t.removeFirst() }
        self.path = path
        self.text = t
        self.utf8 = Array(t.utf8)
        var starts = [0]
        for (i, b) in utf8.enumerated() where b == UInt8(ascii: "\n") { starts.append(i + 1) }
        self.lineStarts = starts
    }

    /// The largest source file read (16 MB; the paper's longest algorithm is 2 kB): a larger file
    /// given by mistake (a checkpoint, a disk image) is refused before it is read whole.
    public static let maxBytes = 16_000_000

    /// Reads a file. Missing, unreadable and non-UTF-8 files come back as a diagnostic
    /// (`E0001`, `E0002`, `E0003`) whose span points at the first invalid byte where there is one.
    public static func load(path: String) -> Result<SourceFile, Diagnostic> {
        let bytes: [UInt8]
        switch FileBytes.read(path, limit: maxBytes, why: "an .algo file holds at most \(ByteCount.describe(maxBytes))") {
        case .success(let b): bytes = b
        case .failure(.notFound):
            return .failure(Diagnostic(.fileNotFound, "no such file `\(path)`", at: Span(file: path, start: 0, end: 0)))
        case .failure(.unreadable(let why)) where why.hasPrefix("it is a directory"):
            return .failure(Diagnostic(.fileUnreadable, "`\(path)` is a directory, not a file", at: Span(file: path, start: 0, end: 0)))
        case .failure(.unreadable(let why)):
            return .failure(Diagnostic(.fileUnreadable, "cannot read `\(path)`: \(why)", at: Span(file: path, start: 0, end: 0)))
        }
        if let bad = firstInvalidUTF8(bytes) {
            // The prefix before `bad` is valid UTF-8, so its offsets are the same in the lossy text.
            let file = SourceFile(path: path, text: String(decoding: bytes, as: UTF8.self))
            let shift = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
            var d = Diagnostic(.invalidUTF8, "file is not valid UTF-8: byte 0x\(String(bytes[bad], radix: 16, uppercase: true)) at offset \(bad)",
                               at: Span(file: path, start: bad - shift, end: bad - shift + 1))
            d.notes.append("`.algo` files are UTF-8 text; save the file as UTF-8")
            d.source = file
            return .failure(d)
        }
        return .success(SourceFile(path: path, text: String(decoding: bytes, as: UTF8.self)))
    }

    /// The offset of the first byte that is not part of a well-formed UTF-8 sequence, or nil.
    static func firstInvalidUTF8(_ b: [UInt8]) -> Int? {
        var i = 0
        while i < b.count {
            let c = b[i]
            let n: Int
            var lo: UInt8 = 0x80, hi: UInt8 = 0xBF
            switch c {
            case 0x00...0x7F: i += 1; continue
            case 0xC2...0xDF: n = 1
            case 0xE0: n = 2; lo = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: n = 2
            case 0xED: n = 2; hi = 0x9F
            case 0xF0: n = 3; lo = 0x90
            case 0xF1...0xF3: n = 3
            case 0xF4: n = 3; hi = 0x8F
            default: return i
            }
            for j in 1...n {
                guard i + j < b.count else { return i }
                let cj = b[i + j]
                let (l, h): (UInt8, UInt8) = j == 1 ? (lo, hi) : (0x80, 0xBF)
                if cj < l || cj > h { return i }
            }
            i += n + 1
        }
        return nil
    }

    /// 1-based line and character column of a byte offset (clamped to the text).
    public func location(of offset: Int) -> (line: Int, column: Int) {
        let o = max(0, min(offset, utf8.count))
        var lo = 0, hi = lineStarts.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if lineStarts[mid] <= o { lo = mid } else { hi = mid - 1 }
        }
        let start = lineStarts[lo]
        return (lo + 1, characterCount(from: start, to: o) + 1)
    }

    /// The text of 1-based line `n` without its line break.
    public func lineText(_ n: Int) -> String {
        guard n >= 1, n <= lineStarts.count else { return "" }
        let start = lineStarts[n - 1]
        var end = n < lineStarts.count ? lineStarts[n] - 1 : utf8.count
        if end > start, utf8[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        return String(decoding: utf8[start..<max(start, end)], as: UTF8.self)
    }

    /// The source text covered by a span (clamped).
    public func slice(_ span: Span) -> String {
        let s = max(0, min(span.start, utf8.count)), e = max(s, min(span.end, utf8.count))
        return String(decoding: utf8[s..<e], as: UTF8.self)
    }

    /// Number of characters (grapheme clusters) between two byte offsets on one line.
    func characterCount(from start: Int, to end: Int) -> Int {
        guard end > start else { return 0 }
        return String(decoding: utf8[start..<end], as: UTF8.self).count
    }
}
