import AlgoDiagnostics
import AlgoSyntax
import Foundation
@testable import AlgoSema

/// Paths and helpers shared by the checker tests: the package root, the 15 algorithms as the
/// library, checking a list of files and reading diagnostics as (code, line).
enum Support {
    static let root: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }

    static func parse(path: String) -> ParsedFile {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return parse(text: text, path: path)
    }

    static func parse(text: String, path: String = "test.algo") -> ParsedFile {
        let source = SourceFile(path: path, text: text)
        var ignored = DiagnosticBag()
        return ParsedFile(source: source, tree: Parser.parse(source, &ignored))
    }

    static func files(in dir: String) -> [String] {
        let full = path(dir)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: full)) ?? []
        return names.filter { $0.hasSuffix(".algo") }.sorted().map { full + "/" + $0 }
    }

    /// `Algorithms/*.algo`, parsed once.
    static let algorithms: [ParsedFile] = files(in: "Algorithms").map { parse(path: $0) }

    static func check(_ files: [ParsedFile], library: [ParsedFile] = algorithms, values: [String: Int] = [:]) -> (CheckOutcome, [Diagnostic]) {
        var bag = DiagnosticBag()
        let outcome = ShapeChecker.check(files, library: library, options: CheckOptions(values: values), &bag)
        return (outcome, bag.all)
    }

    /// (code, 1-based line) of each diagnostic in `file`.
    static func codesAndLines(_ ds: [Diagnostic], in file: ParsedFile) -> [String] {
        ds.filter { $0.span.file == file.source.path }
            .map { "\($0.code.rawValue):\(file.source.location(of: $0.span.start).line)" }.sorted()
    }

    /// The 1-based number of the first line of `file` that is no `//` comment and contains `needle`.
    static func line(of needle: String, in file: ParsedFile) -> Int {
        let lines = file.source.text.split(separator: "\n", omittingEmptySubsequences: false)
        return (lines.firstIndex { !$0.hasPrefix("//") && $0.contains(needle) } ?? -1) + 1
    }

    static func render(_ ds: [Diagnostic], _ files: [ParsedFile]) -> String {
        TextRenderer(files: files.map(\.source)).render(ds)
    }
}

/// A small deterministic generator (SplitMix64) for the fuzzer.
struct SplitMix: Sendable {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { n <= 0 ? 0 : Int(next() % UInt64(n)) }
}
