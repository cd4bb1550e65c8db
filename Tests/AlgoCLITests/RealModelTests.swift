import Foundation
import Testing
@testable import AlgoCLI

/// Real models on the command line (issue 14): HuggingFace tokenizer files with `--tokenizer`,
/// their diagnostics.
@Suite("Real models on the command line")
struct RealModelTests {
    static let repository: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    static let hf = repository + "/Tests/Reference/fixtures/hf"

    func run(_ args: [String]) -> (ExitCode, Output) {
        var out = Output()
        let code = CLI.run(args, &out)
        return (code, out)
    }

    @Test("--tokenizer reads GPT-2's vocab.json + merges.txt: N_V from it, --text encoded, the tokens decoded")
    func gpt2Tokenizer() {
        let (code, out) = run(["run", Self.repository + "/Algorithms/DInference.algo", "--tokenizer", Self.hf + "/bpe/vocab.json",
                               "--text", "x=The model reads", "--set", "ℓ_gen=2,d_e=16,d_mlp=16,d_attn=8,d_mid=8,L=1,H=2"])
        #expect(code == .ok, "\(out.stderr)")
        #expect(out.stdout.contains("N_V = 648"), "\(out.stdout)")
        // HF's ids of "The model reads" are 265, 316, 481 (Tests/Reference/fixtures/hf/encodings.json).
        #expect(out.stdout.contains("input x = [266, 317, 482] (3 tokens)"), "\(out.stdout)")
        #expect(out.stdout.contains("as text: \""), "\(out.stdout)")
    }

    @Test("a malformed tokenizer file is E0550 (exit 1), a missing one E0001 (exit 3)")
    func badTokenizer() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("algo-tok-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let bad = dir.appendingPathComponent("tokenizer.json").path
        try Data(#"{"model":{"type":"BPE","vocab":{"a":0,"b":7},"merges":[]}}"#.utf8).write(to: URL(fileURLWithPath: bad))
        let (code, out) = run(["run", Self.repository + "/Algorithms/DTransformer.algo", "--tokenizer", bad])
        #expect(code == .diagnostics)
        #expect(out.stderr.contains("error[E0550]") && out.stderr.contains("without gaps"), "\(out.stderr)")
        let (code2, out2) = run(["run", Self.repository + "/Algorithms/DTransformer.algo", "--tokenizer", dir.path + "/none.json"])
        #expect(code2 == .input && out2.stderr.contains("error[E0001]"), "\(out2.stderr)")
    }
}
