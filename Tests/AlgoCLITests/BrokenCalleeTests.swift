import Foundation
import Testing
@testable import AlgoCLI

/// A shape-wrong callee in the caller's directory (a copy of `Algorithms/` whose Attention line 4
/// reads `S ← QᵀK`): `algo check` of a caller and `algo run` of it report the callee's own
/// diagnostic at the callee's file, line and column, with its snippet, in text and JSON, and exit 1.
@Suite struct BrokenCalleeTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// A fresh copy of `Algorithms/*.algo` with Attention's line 4 transposed; removed by the caller.
    static func brokenDirectory() throws -> String {
        let dir = NSTemporaryDirectory() + "algo-broken-callee-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let algorithms = root.appendingPathComponent("Algorithms").path
        for name in try FileManager.default.contentsOfDirectory(atPath: algorithms) where name.hasSuffix(".algo") {
            var text = try String(contentsOfFile: algorithms + "/" + name, encoding: .utf8)
            if name == "Attention.algo" {
                let before = text
                text = text.replacingOccurrences(of: "4 S ← KᵀQ ", with: "4 S ← QᵀK ")
                #expect(text != before, "Attention.algo no longer has `4 S ← KᵀQ`")
            }
            try text.write(toFile: dir + "/" + name, atomically: true, encoding: .utf8)
        }
        return dir
    }

    func run(_ args: [String]) -> (ExitCode, Output) {
        var out = Output(color: false)
        let code = CLI.run(args, &out)
        return (code, out)
    }

    /// The line of the broken claim in the copy (1-based), found in the file itself.
    static func claimLine(_ dir: String) throws -> (line: Int, text: String) {
        let lines = try String(contentsOfFile: dir + "/Attention.algo", encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        let i = try #require(lines.firstIndex { $0.hasPrefix("4 S ← QᵀK") })
        return (i + 1, String(lines[i]))
    }

    @Test func checkAndRunOfACallerReportTheCalleesDiagnosticWithItsSnippet() throws {
        let dir = try Self.brokenDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (line, text) = try Self.claimLine(dir)
        let column = text.distance(from: text.startIndex, to: try #require(text.range(of: "[[Score")).lowerBound) + 1
        let location = "--> \(dir)/Attention.algo:\(line):\(column)"
        // The callee alone, the direct caller and a caller two calls away all fail the same way.
        for caller in ["Attention.algo", "MHAttention.algo", "DTransformer.algo"] {
            let (code, out) = run(["check", dir + "/" + caller])
            #expect(code == .diagnostics, "\(caller): \(out.stderr)")
            #expect(out.stderr.contains("error[E0404]: the claim `Score ∈ ℝ^{ℓ_z×ℓ_x}` does not hold: `S` is ℝ^{ℓ_x×ℓ_z}"), "\(caller): \(out.stderr)")
            #expect(out.stderr.contains(location), "\(caller): \(out.stderr)")
            #expect(out.stderr.contains("\(line) | \(text)"), "\(caller): \(out.stderr)")
            #expect(out.stderr.contains("1 error found"), "\(caller): \(out.stderr)")
        }
        let (checkCode, checked) = run(["check", dir + "/DTransformer.algo"])
        let (runCode, ran) = run(["run", dir + "/DTransformer.algo"])
        #expect(checkCode == .diagnostics)
        #expect(runCode == .diagnostics)
        #expect(ran.stdout.isEmpty, "nothing runs: \(ran.stdout)")
        #expect(ran.stderr == checked.stderr, "run shows the diagnostic check shows:\n\(ran.stderr)\nvs\n\(checked.stderr)")
    }

    /// The rendered diagnostic, pinned (the scratch directory written `DIR`): the same for `check`
    /// and `run`, with the callee's snippet, the label under `S` and the caret under the claim.
    @Test func theRenderedDiagnosticIsPinned() throws {
        let dir = try Self.brokenDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let golden = """
            error[E0404]: the claim `Score ∈ ℝ^{ℓ_z×ℓ_x}` does not hold: `S` is ℝ^{ℓ_x×ℓ_z}
              --> DIR/Attention.algo:14:38
               |
            14 | 4 S ← QᵀK                            [[Score ∈ ℝ^{ℓ_z×ℓ_x}]]
               |   - ℝ^{ℓ_x×ℓ_z}
               |                                      ^^^^^^^^^^^^^^^^^^^^^^^ claimed ℝ^{ℓ_z×ℓ_x}
            1 error found
            """
        for command in ["check", "run"] {
            let (_, out) = run([command, dir + "/MHAttention.algo"])
            let got = out.stderr.replacingOccurrences(of: dir, with: "DIR").trimmingCharacters(in: .newlines)
            #expect(got == golden, "\(command):\n\(got)")
        }
    }

    @Test func jsonOfCheckAndRunLocatesTheCallee() throws {
        let dir = try Self.brokenDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (line, _) = try Self.claimLine(dir)
        for command in ["check", "run"] {
            let (code, out) = run([command, "--format", "json", dir + "/DTransformer.algo"])
            #expect(code == .diagnostics, "\(command): \(out.stderr)")
            let items = try #require(try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [[String: Any]], "\(command): \(out.stdout)")
            #expect(items.count == 1, "\(command): \(out.stdout)")
            let d = try #require(items.first)
            #expect(d["code"] as? String == "E0404")
            #expect(d["file"] as? String == dir + "/Attention.algo")
            #expect(d["line"] as? Int == line)
            #expect((d["column"] as? Int ?? 0) > 1)
        }
    }
}
