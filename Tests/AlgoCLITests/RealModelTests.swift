import Foundation
import Testing
import AlgoEval
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

    @Test("the notation the real models need: a real default in a header, π, tanh, σ, a number divided by a matrix")
    func notation() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("algo-notation-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        // Each line is an identity that holds exactly in real numbers; Y collects the residues.
        let text = """
        Algorithm 1: Y ← Identities(X)
        Input:  X ∈ ℝ^{d×ℓ}, numbers.
        Output: Y ∈ ℝ^{d×ℓ}, what is left of each identity.
        Hyperparameters: c = √(2/π), ε = 10⁻⁵
        1 A ← σ(X) − 1/(1 + exp(−X))
        2 B ← tanh(X) − (2 σ(2 X) − 1)
        3 C ← tanh X − tanh(X)
        4 return Y = A ⊙ A + B ⊙ B + C + (c − 0.7978845608028654) + (ε − 0.00001)
        """
        let path = dir.appendingPathComponent("Identities.algo").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("Y.safetensors").path
        let (code, o) = run(["run", path, "--set", "d=3,ℓ=4", "--precision", "f64", "--output", out])
        #expect(code == .ok, "\(o.stderr)")
        #expect(o.stdout.contains("c = 0.7978845608028654") && o.stdout.contains("ε = 1e-05"), "\(o.stdout)")
        let y = try Checkpoint.read(out).get()["output.Y"]?.doubles ?? []
        #expect(y.count == 12 && y.allSatisfy { abs($0) < 1e-15 }, "\(y)")
        // A whole number is a dimension: no default in an algorithm's header (E0414).
        let bad = dir.appendingPathComponent("Bad.algo").path
        try text.replacingOccurrences(of: "ε = 10⁻⁵", with: "n = 3").write(toFile: bad, atomically: true, encoding: .utf8)
        let (code2, o2) = run(["check", bad])
        #expect(code2 == .diagnostics && o2.stderr.contains("error[E0414]"), "\(o2.stderr)")
    }
}
