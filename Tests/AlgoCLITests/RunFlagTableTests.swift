import Foundation
import Testing
@testable import AlgoCLI

/// `Sources/AlgoCLI/README.md` lists every flag of `algo run` and the kinds of file it applies to:
/// the table is `RunFlagTable.markdown`, generated from `RunKind`, so it stays true.
@Suite("the README's table of algo run flags is RunKind's")
struct RunFlagTableTests {
    static let readme = RunCommandTests.repository + "/Sources/AlgoCLI/README.md"
    static let begin = "<!-- run-flags:begin -->\n", end = "<!-- run-flags:end -->"

    @Test("Sources/AlgoCLI/README.md holds the generated table (ALGO_BLESS=1 rewrites it)")
    func tableIsCurrent() throws {
        let text = try String(contentsOfFile: Self.readme, encoding: .utf8)
        let b = try #require(text.range(of: Self.begin)), e = try #require(text.range(of: Self.end))
        let table = RunFlagTable.markdown(flags: RunCommand().flags)
        if ProcessInfo.processInfo.environment["ALGO_BLESS"] == "1" {
            try (String(text[..<b.upperBound]) + table + String(text[e.lowerBound...])).write(toFile: Self.readme, atomically: true, encoding: .utf8)
            return
        }
        #expect(String(text[b.upperBound..<e.lowerBound]) == table)
        // Every flag of `algo run` has its row.
        for f in RunCommand().flags { #expect(table.contains("| `--\(f.name)` |"), "\(f.name)") }
    }

    @Test("a flag the table marks refused is refused by algo run (exit 2), and one marked ✓ is not refused for that reason")
    func tableMatchesTheCommand() {
        // Experiment: --input is refused, --profile is not (checked on the command line).
        var (code, o) = runCLI(["run", RunCommandTests.repository + "/Algorithms/Experiments/CharGPT.algo", "--input", "x=1"])
        #expect(code == .usage && o.stderr.contains("`--input` is not read by experiment files"), "\(o.stderr)")
        #expect(RunFlagTable.markdown(flags: RunCommand().flags).contains("| `--profile` | ✓ | ✓ | ✓ | ✓ |"))
        (code, o) = runCLI(["run", RunCommandTests.repository + "/Algorithms/DTransformer.algo", "--checkpoint", "/tmp/x.safetensors"])
        #expect(code == .usage && o.stderr.contains("applies to training algorithms"), "\(o.stderr)")
    }
}
