import Foundation
import Testing
@testable import AlgoDiagnostics

@Suite struct SourceFileTests {
    @Test func columnsCountCharactersNotBytes() {
        // `ℝ`, `←` are 3 bytes each in UTF-8, `X̃` is X + U+0303 (one character, 3 bytes).
        let f = SourceFile(path: "t.algo", text: "W ∈ ℝ^{d}\nX̃ ← W X\n")
        let offsetOfD = Array("W ∈ ℝ^{".utf8).count
        #expect(f.location(of: offsetOfD) == (1, 8))
        let offsetOfArrow = Array("W ∈ ℝ^{d}\nX̃ ".utf8).count
        #expect(f.location(of: offsetOfArrow) == (2, 3))
        #expect(f.lineText(2) == "X̃ ← W X")
    }

    @Test func crlfAndBOM() {
        let f = SourceFile(path: "t.algo", text: "\u{FEFF}a\r\nbc\r\n")
        #expect(f.lineText(1) == "a")
        #expect(f.location(of: 4) == (2, 2))
    }

    @Test func invalidUTF8PointsAtTheByte() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("algo-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("bad.algo").path
        try Data([0x61, 0x0A, 0xE2, 0x86, 0x90, 0x20, 0xFF, 0x62]).write(to: URL(fileURLWithPath: path))
        guard case .failure(let d) = SourceFile.load(path: path) else { Issue.record("expected failure"); return }
        #expect(d.code == .invalidUTF8)
        let loc = try #require(d.source).location(of: d.span.start)
        #expect(loc == (2, 3)) // after "←" and a space
        let text = TextRenderer(files: []).render(d)
        #expect(text.contains("bad.algo:2:3"))
    }

    @Test func rejectsOverlongAndSurrogates() {
        #expect(SourceFile.firstInvalidUTF8([0xC0, 0x80]) == 0)          // overlong NUL
        #expect(SourceFile.firstInvalidUTF8([0xED, 0xA0, 0x80]) == 0)    // UTF-16 surrogate
        #expect(SourceFile.firstInvalidUTF8([0x61, 0xF0, 0x9F, 0x98]) == 1) // truncated at end
        #expect(SourceFile.firstInvalidUTF8(Array("ℝ𝓦x̃".utf8)) == nil)
    }

    @Test func missingFileAndDirectory() {
        guard case .failure(let d) = SourceFile.load(path: "/nonexistent/x.algo") else { Issue.record("expected failure"); return }
        #expect(d.code == .fileNotFound)
        guard case .failure(let e) = SourceFile.load(path: "/tmp") else { Issue.record("expected failure"); return }
        #expect(e.code == .fileUnreadable)
    }
}

@Suite struct RendererTests {
    let file = SourceFile(path: "A.algo", text: "1 Q ← W_q X + b_q 𝟏ᵀ\n2 S ← K Q\n")

    func diagnostic() -> Diagnostic {
        let kStart = Array("1 Q ← W_q X + b_q 𝟏ᵀ\n2 S ← ".utf8).count
        var d = Diagnostic(.fileUnreadable, "example message with `K`", at: Span(file: "A.algo", start: kStart, end: kStart + 3), label: "here")
        let wq = Array("1 Q ← ".utf8).count
        d.labels.append(.init(Span(file: "A.algo", start: wq, end: wq + 3), "declared here"))
        d.notes.append("a note")
        d.help = "a help"
        return d
    }

    @Test func textLayout() {
        let text = TextRenderer(files: [file]).render(diagnostic())
        let expected = """
        error[E0002]: example message with `K`
         --> A.algo:2:7
          |
        1 | 1 Q ← W_q X + b_q 𝟏ᵀ
          |       --- declared here
        2 | 2 S ← K Q
          |       ^^^ here
          |
          = note: a note
          = help: a help

        """
        #expect(text == expected)
    }

    @Test func jsonHasPositions() throws {
        let json = JSONRenderer(files: [file]).render([diagnostic()])
        let parsed = try JSONSerialization.jsonObject(with: Data(json.utf8)) as! [[String: Any]]
        #expect(parsed.count == 1)
        #expect(parsed[0]["code"] as? String == "E0002")
        #expect(parsed[0]["line"] as? Int == 2)
        #expect(parsed[0]["column"] as? Int == 7)
        #expect(parsed[0]["end_column"] as? Int == 10)
        #expect((parsed[0]["labels"] as? [[String: Any]])?.first?["line"] as? Int == 1)
    }
}

/// The one did-you-mean rule (`Suggestion`), used by the checker and the command line.
@Suite struct SuggestionTests {
    @Test func distanceCountsCharactersAndSwaps() {
        #expect(Suggestion.editDistance("check", "check") == 0)
        #expect(Suggestion.editDistance("chekc", "check") == 1)   // a swap of neighbours is one edit
        #expect(Suggestion.editDistance("W_q", "W_qq") == 1)
        #expect(Suggestion.editDistance("𝓦_1", "𝓦_2") == 1)       // 𝓦 is one character, two UTF-16 units
        #expect(Suggestion.editDistance("", "abc") == 3)
        #expect(Suggestion.editDistance("ab", "ba") == 1)
        #expect(Suggestion.editDistance("abc", "ca") == 3)        // no edit of an already-swapped pair
    }

    @Test func closestWithinTheLimitFirstOnTies() {
        #expect(Suggestion.closest(to: "chekc", among: ["parse", "check", "run"]) == "check")
        #expect(Suggestion.closest(to: "frobnicate", among: ["parse", "check", "run"]) == nil)
        #expect(Suggestion.closest(to: "sed", among: ["set", "seed"]) == "set")
        #expect(Suggestion.closest(to: "x", among: ["y"]) == nil, "one- and two-character words get no guess")
        #expect(Suggestion.closest(to: "run", among: ["run"]) == nil, "the word itself is no suggestion")
    }
}
