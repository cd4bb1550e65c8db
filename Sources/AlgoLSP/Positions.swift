import AlgoDiagnostics

/// An LSP position: 0-based line, and character offset in **UTF-16 code units** within the line
/// (the protocol's default encoding, the only one this server speaks).
public struct Position: Sendable, Hashable, Comparable {
    public var line: Int
    public var character: Int
    public init(line: Int, character: Int) { self.line = line; self.character = character }

    public static func < (a: Position, b: Position) -> Bool {
        (a.line, a.character) < (b.line, b.character)
    }

    var json: JSON { ["line": JSON(line), "character": JSON(character)] }

    init?(_ j: JSON?) {
        guard let l = j?["line"]?.int, let c = j?["character"]?.int, l >= 0, c >= 0 else { return nil }
        self.init(line: l, character: c)
    }
}

/// An LSP range (`Range` in the protocol) `start..<end`.
public struct TextRange: Sendable, Hashable {
    public var start: Position
    public var end: Position
    public init(start: Position, end: Position) { self.start = start; self.end = end }

    var json: JSON { ["start": start.json, "end": end.json] }

    init?(_ j: JSON?) {
        guard let s = Position(j?["start"]), let e = Position(j?["end"]) else { return nil }
        self.init(start: s, end: e)
    }
}

/// The one place where UTF-8 byte offsets (spans, the lexer, the checker) and LSP positions (UTF-16
/// code units per line) are converted. `ℝ` is 3 bytes and 1 unit; `𝓦` (outside the Basic
/// Multilingual Plane) 4 bytes and 2 units; `X̃` is X + U+0303, 1 + 2 bytes and 2 units; an emoji
/// with a skin tone is two scalars, 8 bytes and 4 units.
///
/// Lines end at `\n` (a `\r` before it is not part of the line), as in `SourceFile`.
public struct LineIndex: Sendable {
    public let utf8: [UInt8]
    /// Byte offset of the first byte of each line.
    public let lineStarts: [Int]

    public init(_ text: String) {
        utf8 = Array(text.utf8)
        var starts = [0]
        for (i, b) in utf8.enumerated() where b == 10 { starts.append(i + 1) }
        lineStarts = starts
    }

    /// The byte offset where line `l`'s content ends (before `\r\n` or `\n`).
    func contentEnd(ofLine l: Int) -> Int {
        var end = l + 1 < lineStarts.count ? lineStarts[l + 1] - 1 : utf8.count
        if end > lineStarts[l], utf8[end - 1] == 13 { end -= 1 }
        return end
    }

    /// Bytes of the UTF-8 sequence that starts with `lead`, and the UTF-16 units of its scalar.
    @inline(__always) static func width(_ lead: UInt8) -> (bytes: Int, units: Int) {
        switch lead {
        case 0xF0...0xFF: (4, 2)
        case 0xE0..<0xF0: (3, 1)
        case 0xC0..<0xE0: (2, 1)
        default: (1, 1)
        }
    }

    /// The position of a byte offset (clamped to the text; an offset inside a scalar counts from
    /// that scalar's start).
    public func position(of offset: Int) -> Position {
        let o = max(0, min(offset, utf8.count))
        var lo = 0, hi = lineStarts.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if lineStarts[mid] <= o { lo = mid } else { hi = mid - 1 }
        }
        var i = lineStarts[lo], units = 0
        while i < o {
            let w = Self.width(utf8[i])
            if i + w.bytes > o { break }
            i += w.bytes
            units += w.units
        }
        return Position(line: lo, character: units)
    }

    /// The byte offset of a position. A line past the end is the end of the text; a character past
    /// the end of its line is the line's end (as LSP says); a character in the middle of a
    /// surrogate pair is the start of its scalar.
    public func offset(of p: Position) -> Int {
        guard p.line < lineStarts.count else { return utf8.count }
        let end = contentEnd(ofLine: p.line)
        var i = lineStarts[p.line], units = 0
        while i < end {
            let w = Self.width(utf8[i])
            if units + w.units > p.character { break }
            units += w.units
            i += w.bytes
        }
        return i
    }

    public func range(of span: Span, shift: Int = 0) -> TextRange {
        TextRange(start: position(of: span.start + shift), end: position(of: span.end + shift))
    }

    /// The UTF-16 length of the bytes `start..<end` (on one line).
    public func utf16Length(from start: Int, to end: Int) -> Int {
        var i = max(0, start), units = 0
        let e = min(end, utf8.count)
        while i < e {
            let w = Self.width(utf8[i])
            i += w.bytes
            units += w.units
        }
        return units
    }
}
