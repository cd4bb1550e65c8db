import AlgoDiagnostics
@testable import AlgoSyntax
import Foundation

/// Shared helpers: parse snippets, dump them, find the repository.
enum Support {
    /// Parses `text` as a file named `test.algo`.
    static func parse(_ text: String) -> (AlgoFile, [Diagnostic]) {
        Parser.parse(SourceFile(path: "test.algo", text: text))
    }

    /// The span-free dump of a file.
    static func dump(_ text: String) -> String {
        ASTDump.dump(parse(text).0)
    }

    /// Wraps body lines into an algorithm and returns the dumps of its body statements and the diagnostics.
    static func body(_ lines: String) -> (String, [Diagnostic]) {
        let (file, diagnostics) = parse("Algorithm 1: y ← F(x)\n" + lines + "\n")
        let statements = file.algorithms.first?.body ?? []
        return (statements.map(ASTDump.dump).joined(separator: "\n"), diagnostics)
    }

    /// The prefix dump of the value of `y ← <expression>`, with the diagnostics.
    static func expr(_ text: String) -> String {
        let (file, diagnostics) = parse("Algorithm 1: y ← F(x)\n1 y ← " + text + "\n")
        guard diagnostics.isEmpty else { return "errors: " + diagnostics.map(\.message).joined(separator: "; ") }
        guard let s = file.algorithms.first?.body.first, case .assign(_, _, let v) = s.kind else { return "no assignment" }
        return ASTDump.dump(v)
    }

    /// The prefix dump of the type in `Input: x ∈ <type>`.
    static func type(_ text: String) -> String {
        let (file, diagnostics) = parse("Algorithm 1: y ← F(x)\nInput: x ∈ " + text + "\n")
        guard diagnostics.isEmpty else { return "errors: " + diagnostics.map(\.message).joined(separator: "; ") }
        guard case .line(let h)? = file.algorithms.first?.header.first, case .declarations(let d) = h.content,
              let t = d.declarations.first?.type else { return "no type" }
        return ASTDump.type(t)
    }

    /// The repository root, found from this file's path.
    static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// The transcribed algorithms (`Algorithms/*.algo`, or the folder named by `ALGO_ALGORITHMS_DIR`),
    /// or nil when the folder is missing in this checkout.
    /// The experiment files `Algorithms/Experiments/*.algo` (a file kind of its own: `Experiment N:`
    /// titles, header values, quoted paths), fuzzed with the algorithms.
    static func experimentFiles() -> [URL] {
        let dir = repositoryRoot.appendingPathComponent("Algorithms/Experiments")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.filter { $0.hasSuffix(".algo") }.sorted().map { dir.appendingPathComponent($0) }
    }

    static func algorithmFiles() -> [URL]? {
        let override = ProcessInfo.processInfo.environment["ALGO_ALGORITHMS_DIR"]
        let dir = override.map { URL(fileURLWithPath: $0) } ?? repositoryRoot.appendingPathComponent("Algorithms")
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir.path) else { return nil }
        let files = names.filter { $0.hasSuffix(".algo") }.sorted().map { dir.appendingPathComponent($0) }
        return files.isEmpty ? nil : files
    }
}
