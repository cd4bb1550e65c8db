import Foundation
import Testing
@testable import AlgoCLI

/// `algo check`: exit codes, the directory as library, `--dump shapes`, `--format json`, `--set`.
@Suite struct CheckCommandTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static func path(_ p: String) -> String { root.appendingPathComponent(p).path }

    func run(_ args: String...) -> (ExitCode, Output) { runCLI(args) }

    @Test func cleanFileFindsItsCalleesInItsDirectory() {
        let (code, out) = run("check", Self.path("Algorithms/DTransformer.algo"))
        #expect(code == .ok, "\(out.stderr)")
        #expect(out.stderr == "checked 1 file (1 algorithm), 0 errors\n")
        let (quiet, q) = run("check", "--quiet", Self.path("Algorithms/DTransformer.algo"))
        #expect(quiet == .ok && q.stderr.isEmpty && q.stdout.isEmpty)
    }

    /// A directory stands for its `.algo` files, below it too (issue 15: it was "is a directory").
    @Test func aDirectoryIsEveryFileBelowIt() throws {
        let (code, out) = run("check", Self.path("Algorithms"))
        let count = try FileManager.default.subpathsOfDirectory(atPath: Self.path("Algorithms")).filter { $0.hasSuffix(".algo") }.count
        #expect(count > 20)
        #expect(code == .ok, "\(out.stderr)")
        #expect(out.stderr.hasPrefix("checked \(count) files ("), "\(out.stderr)")
        // JSON is for tools: an empty array on stdout, no summary.
        let (jsonCode, json) = run("check", "--format", "json", Self.path("Algorithms"))
        #expect(jsonCode == .ok && json.stdout.filter { !$0.isWhitespace } == "[]" && json.stderr.isEmpty, "\(json.stdout)\(json.stderr)")
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("algo-empty-\(UUID())").path
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: empty) }
        let (emptyCode, e) = run("check", empty)
        #expect(emptyCode == .input && e.stderr.contains("holds no .algo file"))
    }

    @Test func erratumGivesExitOneAndTheMessage() {
        let (code, out) = run("check", Self.path("Tests/AlgoSyntaxTests/Fixtures/errata/A1-ETransformer-W_u.algo"),
                              Self.path("Algorithms/MHAttention.algo"), Self.path("Algorithms/Attention.algo"), Self.path("Algorithms/LayerNorm.algo"))
        #expect(code == .diagnostics)
        #expect(out.stderr.contains("error[E0401]: cannot multiply `W_u` ∈ ℝ^{N_V×d_e} by `X` ∈ ℝ^{d_f×ℓ}"))
        #expect(out.stderr.contains("1 error found"))
    }

    @Test func dumpShapes() {
        let (code, out) = run("check", "--dump", "shapes", Self.path("Algorithms/Attention.algo"))
        #expect(code == .ok)
        #expect(out.stdout.contains("Algorithm 4: Attention"))
        #expect(out.stdout.contains("S"))
        #expect(out.stdout.contains("ℝ^{ℓ_z×ℓ_x}"))
    }

    @Test func jsonFormat() {
        let (code, out) = run("check", "--format", "json", Self.path("Tests/AlgoSyntaxTests/Fixtures/errata/D9-MHAttention-Hd_mid.algo"),
                              Self.path("Algorithms/Attention.algo"))
        #expect(code == .diagnostics)
        #expect(out.stdout.contains("\"code\" : \"E0301\""))
    }

    @Test func setValues() {
        let a1 = Self.path("Tests/AlgoSyntaxTests/Fixtures/errata/A1-ETransformer-W_u.algo")
        let lib = ["Algorithms/MHAttention.algo", "Algorithms/Attention.algo", "Algorithms/LayerNorm.algo"].map(Self.path)
        var out = Output()
        #expect(CLI.run(["check", "--set", "d_e=64,d_f=64", a1] + lib, &out) == .ok)
        #expect(run("check", "--set", "d_e=x", a1).0 == .usage)
        #expect(run("check", "--dump", "tokens", a1).0 == .usage)
        #expect(run("check").0 == .usage)
        #expect(run("check", "/nonexistent.algo").0 == .input)
    }
}

/// E0308: a parameter the body never reads is a warning of `algo check`, and `algo run` and
/// `algo gradcheck` show it too (gradcheck passes its zero gradient, which hides the mistake).
@Suite struct UnusedParameterTests {
    @Test func anRMSnormEditLeavesβUnused() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("algo-unused-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for f in try FileManager.default.contentsOfDirectory(atPath: CheckCommandTests.path("Algorithms")) where f.hasSuffix(".algo") {
            try FileManager.default.copyItem(atPath: CheckCommandTests.path("Algorithms/" + f), toPath: dir.appendingPathComponent(f).path)
        }
        let file = dir.appendingPathComponent("DTransformer.algo").path
        let text = try String(contentsOfFile: file, encoding: .utf8)
        let edited = text.replacingOccurrences(of: "layer_norm(X[:, t] | γ^1_l, β^1_l)", with: "RMSnorm(X[:, t] | γ^1_l)")
        #expect(edited != text)
        try edited.write(toFile: file, atomically: true, encoding: .utf8)

        var out = Output()
        #expect(CLI.run(["check", file], &out) == .ok, "a warning is no error")
        #expect(out.stderr.contains("warning[E0308]: parameter `β^1_l` is never used by `DTransformer`"), "\(out.stderr)")
        #expect(!out.stderr.contains("`β^2_l`"), "β^2_l is still read by line 7")
        #expect(out.stderr.contains("0 errors, 1 warning"))
        for args in [["run", file], ["gradcheck", file]] {
            var o = Output()
            #expect(CLI.run(args, &o) == .ok, "\(args[0]): \(o.stderr)")
            #expect(o.stderr.contains("warning[E0308]"), "\(args[0])")
        }
        var clean = Output()
        #expect(CLI.run(["check", CheckCommandTests.path("Algorithms")], &clean) == .ok)
        #expect(!clean.stderr.contains("E0308"), "no shipped algorithm has an unused parameter or input")
    }
}
