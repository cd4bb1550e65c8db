import Foundation
import Testing
@testable import AlgoCLI

/// `algo lsp`'s command line (the server itself is tested in AlgoLSPTests).
@Suite struct LspCommandTests {
    func run(_ args: String...) -> (ExitCode, Output) { runCLI(args) }

    @Test func usageErrors() {
        #expect(run("lsp", "--debounce", "soon").0 == .usage)
        #expect(run("lsp", "--debounce", "-1").0 == .usage)
        #expect(run("lsp", "Algorithms/DTransformer.algo").0 == .usage)
        #expect(run("lsp", "--bench", "x.algo", "--edits", "0").0 == .usage)
        #expect(run("lsp", "--bench", "/nonexistent/x.algo").0 == .input)
        let (code, out) = run("lsp", "--help")
        #expect(code == .ok)
        #expect(out.stdout.contains("Language Server Protocol"))
        #expect(run("--help").1.stdout.contains("lsp"))
    }

    @Test func benchRunsAFewEdits() {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Algorithms/MHAttention.algo").path
        let (code, out) = run("lsp", "--bench", path, "--edits", "3")
        #expect(code == .ok, "\(out.stderr)")
        #expect(out.stdout.contains("didChange → diagnostics of the file"))
        #expect(out.stdout.contains("resident memory"))
    }
}
