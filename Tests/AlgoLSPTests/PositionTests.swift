import AlgoDiagnostics
@testable import AlgoLSP
import Foundation
import Testing

/// UTF-8 offsets ⇄ LSP positions (UTF-16 units), checked against Swift's own `utf16` view.
@Suite struct PositionTests {
    static let text = "ℝ^{d×ℓ} x\n𝓦_l ← X̃ + 👍🏽 y\r\nlast ∈ ℕ"

    /// Every scalar boundary of the text: its byte offset and its position by Swift's `utf16` count.
    static func boundaries(_ text: String) -> [(Int, Position)] {
        var out: [(Int, Position)] = []
        var byte = 0, line = 0, units = 0
        for s in text.unicodeScalars {
            out.append((byte, Position(line: line, character: units)))
            byte += String(s).utf8.count
            units += String(s).utf16.count
            if s == "\n" { line += 1; units = 0 }
        }
        out.append((byte, Position(line: line, character: units)))
        return out
    }

    @Test func roundTripAtEveryScalar() {
        let index = LineIndex(Self.text)
        for (byte, p) in Self.boundaries(Self.text) {
            #expect(index.position(of: byte) == p, "byte \(byte)")
            // The `\r` of a CRLF line is not part of the line: the position after it is the content end.
            let crlfEnd = p.line == 1 && byte == index.lineStarts[2] - 1
            #expect(index.offset(of: p) == (crlfEnd ? byte - 1 : byte), "position \(p)")
        }
    }

    @Test func units() {
        let index = LineIndex(Self.text)
        // `𝓦` is 4 bytes and 2 units; `X̃` is X + U+0303, 3 bytes and 2 units; the emoji with its
        // skin tone is 8 bytes and 4 units.
        let line1 = "𝓦_l ← X̃ + 👍🏽 y"
        let y = line1.range(of: " y")!.lowerBound
        let start = index.lineStarts[1]
        #expect(index.position(of: start + line1[..<y].utf8.count) == Position(line: 1, character: line1[..<y].utf16.count))
        #expect(line1[..<y].utf16.count == 16)
        #expect(index.utf16Length(from: start, to: start + "𝓦".utf8.count) == 2)
        // `ℝ`: 3 bytes, 1 unit.
        #expect(index.position(of: 3) == Position(line: 0, character: 1))
    }

    @Test func clamping() {
        let index = LineIndex(Self.text)
        // Past the end of a line: the line's end (before `\r\n`); past the last line: the end.
        let line1End = index.lineStarts[2] - 2
        #expect(index.offset(of: Position(line: 1, character: 500)) == line1End)
        #expect(index.offset(of: Position(line: 99, character: 0)) == Self.text.utf8.count)
        // Inside a surrogate pair (character 1 of `𝓦`): the start of the scalar.
        #expect(index.offset(of: Position(line: 1, character: 1)) == index.lineStarts[1])
        // An offset inside a scalar counts from that scalar.
        #expect(index.position(of: 1) == Position(line: 0, character: 0))
        #expect(index.position(of: -4) == Position(line: 0, character: 0))
        #expect(index.position(of: 1 << 40).line == 2)
    }

    @Test func spansToRanges() {
        let source = SourceFile(path: "t.algo", text: Self.text)
        let index = LineIndex(Self.text)
        let s = Self.text.utf8.count - "ℕ".utf8.count
        let r = index.range(of: Span(file: "t.algo", start: s, end: Self.text.utf8.count))
        #expect(r.start == Position(line: 2, character: 7))
        #expect(r.end == Position(line: 2, character: 8))
        #expect(source.location(of: s).column == 8)
    }

    /// A client text with a byte-order mark: spans of the parser are 3 bytes behind.
    @Test func byteOrderMark() {
        let d = Document(uri: "file:///t.algo", version: 1, text: "\u{FEFF}Algorithm 1: y ← F(x)\n")
        #expect(d.shift == 3)
        #expect(d.lines.range(of: Span(file: d.path, start: 0, end: 9), shift: d.shift).start.character == 1)
    }

    @Test func incrementalChanges() {
        var d = Document(uri: "file:///t.algo", version: 1, text: "a 𝓦 b\nX̃ c\n")
        let ok = d.apply([
            ["range": ["start": ["line": 0, "character": 2], "end": ["line": 0, "character": 4]], "text": "ℝ"],
            ["range": ["start": ["line": 1, "character": 2], "end": ["line": 1, "character": 2]], "text": "ᵀ"],
        ])
        #expect(ok)
        #expect(d.text == "a ℝ b\nX̃ᵀ c\n")
        let bad = d.apply([["range": ["start": 1], "text": "x"]])
        #expect(!bad)
        #expect(d.text == "a ℝ b\nX̃ᵀ c\n")
    }
}
