import AlgoDiagnostics
@testable import AlgoSyntax
import Foundation
import Testing

/// The golden corpus of malformed (and a few tricky well-formed) inputs, rustc-UI-test style.
///
/// Each case is one file `Fixtures/golden/<case>.algo`. The diagnostics it must produce are written
/// in the file itself, one per `//` comment, usually on the line right after the line that must fail:
///
///     1 y ← (x + 1
///     // error E0203 @ 2:13
///
/// `// error CODE @ LINE:COLUMN` — LINE is the 1-based line of the file (comment lines count),
/// COLUMN the 1-based character column (`ℝ`, `x̃`, a tab are one column each) where the diagnostic's
/// primary span starts. A `//` comment is trivia, so the expectation lines change nothing else.
/// The case passes when the file produces exactly these diagnostics (code, line, column) and no
/// others: one mistake gives one error, no cascades. A case whose name starts with `ok-` must
/// produce no diagnostic at all; every other case must list at least one.
///
/// Files are read with `SourceFile.load` (so an invalid UTF-8 case reports E0003 like the CLI) and
/// shown as `golden/<case>.algo`. The rendered text output (rustc style, no colour) of each case is
/// pinned in `Fixtures/snapshots/<case>.txt`. After a deliberate change of messages or labels,
/// regenerate the snapshots with
///
///     ALGO_BLESS=1 swift test --filter GoldenTests
///
/// and review the diff (`git diff Tests/AlgoSyntaxTests/Fixtures/snapshots`) before committing.
@Suite struct GoldenTests {
    static let fixtures = Support.repositoryRoot.appendingPathComponent("Tests/AlgoSyntaxTests/Fixtures")
    static let goldenDir = fixtures.appendingPathComponent("golden")
    static let snapshotDir = fixtures.appendingPathComponent("snapshots")
    static var blessing: Bool { ProcessInfo.processInfo.environment["ALGO_BLESS"] == "1" }

    /// The case names (file names without `.algo`), sorted.
    static func caseNames() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: goldenDir.path)) ?? []
        return names.filter { $0.hasSuffix(".algo") }.map { String($0.dropLast(5)) }.sorted()
    }

    /// One expected diagnostic.
    struct Expectation: Hashable, CustomStringConvertible {
        var code: String
        var line: Int
        var column: Int
        var description: String { "\(code) @ \(line):\(column)" }
    }

    /// The `// error CODE @ LINE:COLUMN` comments of a text.
    static func expectations(in text: String) -> [Expectation] {
        var result: [Expectation] = []
        for line in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            guard let r = line.range(of: "// error ") else { continue }
            let rest = line[r.upperBound...].split(separator: " ")
            guard rest.count >= 3, rest[1] == "@" else { continue }
            let place = rest[2].split(separator: ":")
            guard place.count == 2, let l = Int(place[0]), let c = Int(place[1].prefix { $0.isNumber }) else { continue }
            result.append(Expectation(code: String(rest[0]), line: l, column: c))
        }
        return result
    }

    /// Loads, parses and renders a case: its text (lossy if not UTF-8), its diagnostics and the rendering.
    static func run(_ name: String) -> (text: String, diagnostics: [Diagnostic], source: SourceFile, rendered: String) {
        let path = goldenDir.appendingPathComponent(name + ".algo").path
        let shown = "golden/\(name).algo"
        switch SourceFile.load(path: path) {
        case .success(let loaded):
            let source = SourceFile(path: shown, text: loaded.text)
            let (_, diagnostics) = Parser.parse(source)
            let rendered = TextRenderer(files: [source], color: false).render(diagnostics)
            return (source.text, diagnostics, source, rendered)
        case .failure(var d):
            let text = d.source?.text ?? ""
            let source = SourceFile(path: shown, text: text)
            d.span.file = shown
            d.source = source
            d.message = d.message.replacingOccurrences(of: path, with: shown)
            return (text, [d], source, TextRenderer(files: [source], color: false).render([d]))
        }
    }

    @Test func theCorpusIsLargeEnough() {
        let names = Self.caseNames()
        #expect(names.count >= 40, "only \(names.count) golden cases")
        print("golden corpus: \(names.count) cases, \(names.filter { $0.hasPrefix("ok-") }.count) of them without errors")
    }

    @Test(arguments: GoldenTests.caseNames())
    func goldenCase(_ name: String) throws {
        let (text, diagnostics, source, rendered) = Self.run(name)
        let expected = Self.expectations(in: text)
        if name.hasPrefix("ok-") {
            #expect(expected.isEmpty, "\(name): an ok- case lists expected errors")
        } else {
            #expect(!expected.isEmpty, "\(name): no `// error CODE @ LINE:COLUMN` comment (name it ok-… if it has no errors)")
        }
        let actual = diagnostics.map { d -> Expectation in
            let (l, c) = source.location(of: d.span.start)
            return Expectation(code: d.code.rawValue, line: l, column: c)
        }
        #expect(actual == expected, "\(name): got \(diagnostics.map { "\($0.code.rawValue) \(source.location(of: $0.span.start)) \($0.message)" })")

        // Files with errors are never formatted; clean ones round-trip through both spellings.
        let formatted = AlgoSyntax.Formatter.format(source, style: .unicode)
        if diagnostics.isEmpty {
            let ascii = try #require(AlgoSyntax.Formatter.format(source, style: .ascii).text, "\(name) did not format")
            let tree = ASTDump.dump(Parser.parse(source).0)
            #expect(ASTDump.dump(Parser.parse(SourceFile(path: "a.algo", text: ascii)).0) == tree, "\(name): ASCII form differs")
            #expect(formatted.text.map { ASTDump.dump(Parser.parse(SourceFile(path: "u.algo", text: $0)).0) } == tree,
                    "\(name): Unicode form differs")
        } else if diagnostics.first?.code != .invalidUTF8 {
            #expect(formatted.text == nil, "\(name): a file with errors was formatted")
        }

        // The rendered output is pinned.
        let snapshot = Self.snapshotDir.appendingPathComponent(name + ".txt")
        if Self.blessing {
            try FileManager.default.createDirectory(at: Self.snapshotDir, withIntermediateDirectories: true)
            try rendered.write(to: snapshot, atomically: true, encoding: .utf8)
        } else {
            let pinned = try? String(contentsOf: snapshot, encoding: .utf8)
            #expect(pinned != nil, "\(name): no snapshot; run `ALGO_BLESS=1 swift test --filter GoldenTests`")
            if let pinned {
                #expect(rendered == pinned, "\(name): rendering differs from \(snapshot.lastPathComponent); if intended, run `ALGO_BLESS=1 swift test --filter GoldenTests`\n--- got\n\(rendered)")
            }
        }
    }

    /// Every lexical and syntax code (E01xx, E02xx) of the catalogue is expected by at least one
    /// golden case (and E0003, invalid UTF-8, by the one that goes through the loader).
    @Test func everyLexicalAndSyntaxCodeHasAGoldenCase() {
        var covered: Set<String> = []
        for name in Self.caseNames() {
            for e in Self.expectations(in: Self.run(name).text) { covered.insert(e.code) }
        }
        let required = DiagnosticCode.allCases.map(\.rawValue).filter { $0.hasPrefix("E01") || $0.hasPrefix("E02") }
        let missing = required.filter { !covered.contains($0) }
        #expect(missing.isEmpty, "codes without a golden case: \(missing)")
        #expect(covered.contains(DiagnosticCode.invalidUTF8.rawValue), "no golden case for invalid UTF-8")
        print("golden corpus covers \(covered.count) codes: \(covered.sorted().joined(separator: " "))")
    }

    /// Every snapshot belongs to a case (a renamed or deleted case leaves no stale snapshot).
    @Test func noStaleSnapshots() {
        let cases = Set(Self.caseNames())
        let snapshots = ((try? FileManager.default.contentsOfDirectory(atPath: Self.snapshotDir.path)) ?? [])
            .filter { $0.hasSuffix(".txt") }.map { String($0.dropLast(4)) }
        let stale = snapshots.filter { !cases.contains($0) }
        #expect(stale.isEmpty, "snapshots without a golden case: \(stale.sorted())")
    }
}
