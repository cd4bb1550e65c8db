@testable import AlgoSyntax
import Foundation
import Testing

/// `Grammar/README.md` shows the lexer's own symbol tables (generated), so the reference cannot drift.
@Suite struct NotationReferenceTests {
    @Test func readmeSymbolTablesMatchTheLexer() throws {
        let readme = try String(contentsOf: Support.repositoryRoot.appendingPathComponent("Grammar/README.md"), encoding: .utf8)
        let begin = "<!-- BEGIN generated: Spellings.markdownReference() -->\n"
        let end = "<!-- END generated -->"
        guard let b = readme.range(of: begin), let e = readme.range(of: end, range: b.upperBound..<readme.endIndex) else {
            Issue.record("Grammar/README.md lacks the generated symbol section")
            return
        }
        let section = String(readme[b.upperBound..<e.lowerBound])
        #expect(section == Spellings.markdownReference(), "regenerate the section from Spellings.markdownReference()")
    }

    @Test func readmeKeepsTheDecisions() throws {
        let readme = try String(contentsOf: Support.repositoryRoot.appendingPathComponent("Grammar/README.md"), encoding: .utf8)
        #expect(readme.contains("## Decisions"))
        for code in ["E0101", "E0102", "E0103"] + (1...17).map({ String(format: "E02%02d", $0) }) {
            #expect(readme.contains(code), "\(code) is not documented")
        }
    }
}
