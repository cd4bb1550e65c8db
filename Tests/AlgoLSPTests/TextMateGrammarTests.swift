@testable import AlgoLSP
import AlgoSyntax
import Foundation
import Testing

/// `Grammar/algo.tmLanguage.json` is generated from the lexer's tables and stays in step with them
/// and with the parser's keywords.
@Suite struct TextMateGrammarTests {
    static let path = Support.root.appendingPathComponent("Grammar/algo.tmLanguage.json")

    @Test func committedGrammarIsTheGeneratedOne() throws {
        if ProcessInfo.processInfo.environment["ALGO_BLESS"] == "1" {
            try TextMateGrammar.text.write(to: Self.path, atomically: true, encoding: .utf8)
        }
        let committed = try String(contentsOf: Self.path, encoding: .utf8)
        #expect(committed == TextMateGrammar.text, "regenerate: ALGO_BLESS=1 swift test --filter TextMateGrammarTests")
    }

    /// Every `match`/`begin` pattern of the grammar.
    static func patterns(_ j: JSON) -> [String] {
        switch j {
        case .object(let o):
            return ["match", "begin", "end"].compactMap { o[$0]?.string } + o.values.flatMap(patterns)
        case .array(let a): return a.flatMap(patterns)
        case .null, .bool, .number, .string: return []
        }
    }

    static func fullMatch(_ pattern: String, _ s: String) throws -> Bool {
        let r = try NSRegularExpression(pattern: "^(?:" + pattern + ")$")
        return r.firstMatch(in: s, range: NSRange(s.startIndex..., in: s)) != nil
    }

    @Test func patternsCompileAndCoverEverySpelling() throws {
        let grammar = try #require(JSON.parse(Data(TextMateGrammar.text.utf8)))
        let all = Self.patterns(grammar)
        #expect(all.count > 10)
        for p in all { _ = try NSRegularExpression(pattern: p) }
        let operators = TextMateGrammar.alternatives(TextMateGrammar.spellings { _ in true })
        for e in Spellings.symbols {
            for s in [e.unicode, e.ascii] + e.aliases {
                #expect(try Self.fullMatch(operators, s), "\(s)")
                let covered = try all.contains { try NSRegularExpression(pattern: $0).firstMatch(in: s, range: NSRange(s.startIndex..., in: s)) != nil }
                #expect(covered, "no pattern of the grammar matches `\(s)`")
            }
        }
        for l in Spellings.letters {
            #expect(all.contains { (try? Self.fullMatch($0, l.ascii)) == true }, "\(l.ascii)")
            #expect(try Self.fullMatch(TextMateGrammar.name, l.unicode), "\(l.unicode)")
        }
        #expect(try Self.fullMatch(TextMateGrammar.name, "X̃"))
        #expect(try Self.fullMatch(TextMateGrammar.name, "t′"))
    }

    /// Every word the parser tests with `isWord("…")` is a keyword of the highlighting.
    @Test func keywordsAreTheParsersWords() throws {
        let dir = Support.root.appendingPathComponent("Sources/AlgoSyntax")
        var words: Set<String> = []
        let r = try NSRegularExpression(pattern: "isWord\\(\"([^\"]+)\"\\)")
        for f in try FileManager.default.contentsOfDirectory(atPath: dir.path) where f.hasSuffix(".swift") {
            let s = try String(contentsOf: dir.appendingPathComponent(f), encoding: .utf8)
            for m in r.matches(in: s, range: NSRange(s.startIndex..., in: s)) {
                if let g = Range(m.range(at: 1), in: s) { words.insert(String(s[g])) }
            }
        }
        #expect(words.count >= 10)
        #expect(words.subtracting(Keywords.all).isEmpty, "not highlighted: \(words.subtracting(Keywords.all).sorted())")
        #expect(Set(Keywords.titles) == Set([TitleKeyword.algorithm.rawValue, TitleKeyword.experiment.rawValue]))
    }
}
