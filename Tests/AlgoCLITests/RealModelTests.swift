import Foundation
import Testing
import AlgoEval
import AlgoTensor
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

    @Test("a malformed tokenizer file is E0550 (exit 1), a missing one exit 3 with the system's reason")
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
        #expect(code2 == .input && out2.stderr.contains("cannot read the tokenizer") && out2.stderr.contains("no such file"), "\(out2.stderr)")
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

    @Test("--params with tensors the algorithm does not read: warning E0552 naming them, an error with --strict; training runs too")
    func unusedParameters() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("algo-unused-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let params = dir.appendingPathComponent("d.safetensors").path
        let small = ["--set", "d_e=8,d_mlp=8,d_attn=4,d_mid=4,H=2,L=1"]
        let (c0, _) = run(["run", Self.repository + "/Algorithms/DTransformer.algo"] + small + ["--save-params", params])
        try #require(c0 == .ok)
        // GPT2.algo ties its unembedding: DTransformer's W_u is left unread.
        let gpt2 = Self.repository + "/Algorithms/GPT2/GPT2.algo"
        let (c1, o1) = run(["run", gpt2, "--params", params, "--input", "x=1,2"])
        #expect(c1 == .ok && o1.stderr.contains("warning[E0552]") && o1.stderr.contains("`W_u`"), "\(o1.stderr)")
        let (c2, o2) = run(["run", gpt2, "--params", params, "--input", "x=1,2", "--strict"])
        #expect(c2 == .diagnostics && o2.stderr.contains("error[E0552]"), "\(o2.stderr)")
        // Its own checkpoint reads without a word.
        let (c3, o3) = run(["run", Self.repository + "/Algorithms/DTransformer.algo", "--params", params, "--input", "x=1,2", "--strict"])
        #expect(c3 == .ok && !o3.stderr.contains("E0552"), "\(o3.stderr)")
        // Training runs check too: DTraining reads every tensor of DTransformer's checkpoint (no
        // word); a tensor added to it is named, and with --strict the run stops before any step.
        let extra = dir.appendingPathComponent("extra.safetensors").path
        var c = try Checkpoint.read(params).get()
        c.tensors.append(("W_stray", Tensor(shape: [2], floats: [1, 2])))
        try Checkpoint.write(tensors: c.tensors, metadata: c.metadata, to: extra).get()
        let train = ["run", Self.repository + "/Algorithms/DTraining.algo", "--set", "N_epochs=1"]
        let (c4, o4) = run(train + ["--params", params, "--strict"])
        #expect(c4 == .ok && !o4.stderr.contains("E0552"), "\(o4.stderr)")
        let (c5, o5) = run(train + ["--params", extra])
        #expect(c5 == .ok && o5.stderr.contains("warning[E0552]") && o5.stderr.contains("`W_stray`") && o5.stdout.contains("loss after"), "\(o5.stderr)")
        let (c6, o6) = run(train + ["--params", extra, "--strict", "--output", dir.appendingPathComponent("never.safetensors").path])
        #expect(c6 == .diagnostics && o6.stderr.contains("error[E0552]") && !o6.stdout.contains("loss after"), "\(o6.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("never.safetensors").path))
    }

    @Test("algo convert keeps the tokenizer beside the model: --text needs no --tokenizer, and --to writes tokenizer.json back")
    func convertedTokenizer() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("algo-convtok-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir + "/gpt2", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for f in ["gpt2/model.safetensors", "gpt2/config.json", "bpe/vocab.json", "bpe/merges.txt"] {
            try FileManager.default.copyItem(atPath: Self.hf + "/" + f, toPath: dir + "/gpt2/" + (f as NSString).lastPathComponent)
        }
        let (c1, o1) = run(["convert", dir + "/gpt2", dir + "/g.safetensors"])
        #expect(c1 == .ok && o1.stdout.contains("with its tokenizer"), "\(o1.stdout)\(o1.stderr)")
        let (c2, o2) = run(["run", Self.repository + "/Algorithms/GPT2/GPT2.algo", "--params", dir + "/g.safetensors", "--text", "The model reads"])
        #expect(c2 == .ok && o2.stdout.contains("input x = [266, 317, 482] (3 tokens)"), "\(o2.stdout)\(o2.stderr)")
        let (c3, o3) = run(["convert", dir + "/g.safetensors", dir + "/back", "--to", "hf-gpt2"])
        #expect(c3 == .ok, "\(o3.stderr)")
        let back = try Self.tokenizer(dir + "/back/tokenizer.json")
        #expect(try back.encode("The model reads", wrap: false).get() == [266, 317, 482])
    }

    static func tokenizer(_ path: String) throws -> any Tokenizer {
        switch TokenizerFile.load(from: path) {
        case .success(let t): return t
        case .failure(let e): throw e
        }
    }

    /// The token ids of `output y = [...]` and of each `sample k (seed s): [...]` line.
    static func samples(_ stdout: String) -> [[Int]] {
        stdout.split(separator: "\n").filter { $0.hasPrefix("output y = [") || $0.hasPrefix("sample ") }.map { line in
            let inside = line.drop { $0 != "[" }.dropFirst().prefix { $0 != "]" }
            return inside.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        }
    }

    @Test("∇loss(θ) through tanh, σ, π, layer_norm_ε and GPT-2's tied unembedding equals finite differences (algo gradcheck)")
    func gradients() throws {
        // A directory with the paper's algorithms, GPT2.algo, a tiny gated model using σ, tanh and a
        // reciprocal, and DTraining (Algorithm 13) rewritten to train each: `algo gradcheck` compares
        // the tape's ∇loss(θ) with central differences in Float64 (tolerance 1e-5, its own; a wrong
        // derivative of tanh or σ is off by 1e-2 and more, see GradientCheckTests' faulty GELU).
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("algo-grad-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let algorithms = Self.repository + "/Algorithms"
        for f in try FileManager.default.contentsOfDirectory(atPath: algorithms) where f.hasSuffix(".algo") {
            try FileManager.default.copyItem(atPath: algorithms + "/" + f, toPath: dir + "/" + f)
        }
        try FileManager.default.copyItem(atPath: algorithms + "/GPT2/GPT2.algo", toPath: dir + "/GPT2.algo")
        try """
        // A test model: a gated unit between the embedding and the unembedding.
        Algorithm 30: P ← Gated(x | θ)
        /* A tiny gated model */
        Input:  x ∈ V*, a sequence of token IDs.
        Output: P ∈ (0,1)^{N_V×length(x)}, a distribution per position.
        Hyperparameters: d_e ∈ ℕ
        Parameters: θ includes all of the following parameters:
          W_e ∈ ℝ^{d_e×N_V}, W_u ∈ ℝ^{N_V×d_e}, the embedding and unembedding matrices.
        1 ℓ ← length(x)
        2 for t ∈ [ℓ] : e_t ← W_e[:, x[t]]
        3 X ← [e_1, e_2, . . . e_ℓ]
        4 return P = softmax(W_u (σ(X) ⊙ tanh X + 1/(1 + exp(−X))))

        """.write(toFile: dir + "/Gated.algo", atomically: true, encoding: .utf8)
        let training = try String(contentsOfFile: algorithms + "/DTraining.algo", encoding: .utf8)
        for (model, number) in [("Gated", 31), ("GPT2", 32)] {
            let text = training.replacingOccurrences(of: "DTransformer", with: model)
                .replacingOccurrences(of: "Algorithm 13:", with: "Algorithm \(number):")
                .replacingOccurrences(of: "DTraining", with: model + "Training")
            try text.write(toFile: dir + "/\(model)Training.algo", atomically: true, encoding: .utf8)
            let (code, out) = run(["gradcheck", dir + "/\(model)Training.algo"])
            #expect(code == .ok && out.stdout.contains("passed: all"), "\(model): \(out.stdout)\(out.stderr)")
        }
    }

    @Test("generation: the sliding window equals DInference inside ℓ_max and continues past it; --samples; --top-k 1 is greedy")
    func generation() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("algo-gen-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let params = dir + "/w.safetensors"
        let (c0, _) = run(["run", Self.repository + "/Algorithms/DTransformer.algo", "--set", "d_e=8,d_mlp=8,d_attn=4,d_mid=4,H=2,L=1,ℓ_max=6",
                           "--input", "x=1,2,3", "--save-params", params])
        try #require(c0 == .ok)
        let window = Self.repository + "/Algorithms/DInferenceWindow.algo", plain = Self.repository + "/Algorithms/DInference.algo"
        // Inside the context (3 + 4 − 1 ≤ 6) the window is all of x: the same draws as Algorithm 14.
        let (c1, o1) = run(["run", window, "--params", params, "--input", "x=1,2,3", "--set", "ℓ_gen=4", "--seed", "5"])
        let (c2, o2) = run(["run", plain, "--params", params, "--input", "x=1,2,3", "--set", "ℓ_gen=4", "--seed", "5"])
        #expect(c1 == .ok && c2 == .ok && Self.samples(o1.stdout) == Self.samples(o2.stdout) && Self.samples(o1.stdout).first?.count == 4,
                "\(o1.stdout)\n\(o2.stdout)")
        // Past it: Algorithm 14 is refused before it starts (E0515: 3 + 10 − 1 tokens would reach
        // position 7 > ℓ_max, erratum A10); the window goes on.
        let (c3, o3) = run(["run", plain, "--params", params, "--input", "x=1,2,3", "--set", "ℓ_gen=10"])
        #expect(c3 == .diagnostics && o3.stderr.contains("error[E0515]"), "\(o3.stderr)")
        let (c4, o4) = run(["run", window, "--params", params, "--input", "x=1,2,3", "--set", "ℓ_gen=10", "--samples", "3"])
        let drawn = Self.samples(o4.stdout)
        #expect(c4 == .ok && drawn.count == 3 && drawn.allSatisfy { $0.count == 10 } && Set(drawn.map { $0.description }).count > 1, "\(o4.stdout)\(o4.stderr)")
        // Top-1 keeps only the most likely token: every seed gives the same (greedy) continuation.
        let (c5, o5) = run(["run", window, "--params", params, "--input", "x=1,2,3", "--set", "ℓ_gen=10", "--samples", "3", "--top-k", "1"])
        let greedy = Self.samples(o5.stdout)
        #expect(c5 == .ok && greedy.count == 3 && Set(greedy.map { $0.description }).count == 1, "\(o5.stdout)\(o5.stderr)")
    }

    @Test("a training run with --tokenizer writes its vocabulary into θ̂: DInference then reads --text without --tokenizer")
    func trainingCarriesTokenizer() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("algo-traintok-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let out = dir + "/θ̂.safetensors"
        let (c1, o1) = run(["run", Self.repository + "/Algorithms/DTraining.algo", "--tokenizer", Self.hf + "/bpe",
                            "--input", "x_1=266,317,482;x_2=266,317,482", "--set", "N_epochs=1,d_e=8,d_mlp=8,d_attn=4,d_mid=4,H=2,L=1,ℓ_max=8",
                            "--output", out])
        #expect(c1 == .ok, "\(o1.stderr)")
        let (c2, o2) = run(["run", Self.repository + "/Algorithms/DInference.algo", "--params", out, "--text", "The model reads", "--set", "ℓ_gen=2"])
        #expect(c2 == .ok && o2.stdout.contains("input x = [266, 317, 482] (3 tokens)") && o2.stdout.contains("as text:"), "\(o2.stdout)\(o2.stderr)")
    }

    @Test("the model directories' algorithms are in canonical form, check clean and survive the ASCII round trip",
          arguments: ["GPT2/GPT2.algo", "GPT2/NanoGPT.algo", "GPT2/GPT2Inference.algo", "BERT/BERT.algo"])
    func modelFilesAreCanonical(file: String) throws {
        let path = Self.repository + "/Algorithms/" + file
        let (c1, o1) = run(["fmt", "--check", path])
        #expect(c1 == .ok, "\(o1.stdout)\(o1.stderr)")
        let (c2, o2) = run(["check", path])
        #expect(c2 == .ok, "\(o2.stderr)")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("algo-fmt-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (c3, ascii) = run(["fmt", "--ascii", path])
        try #require(c3 == .ok)
        try ascii.stdout.write(toFile: dir + "/a.algo", atomically: true, encoding: .utf8)
        let (c4, back) = run(["fmt", dir + "/a.algo"])
        let original = try String(contentsOfFile: path, encoding: .utf8)
        #expect(c4 == .ok && back.stdout.trimmingCharacters(in: .newlines) == original.trimmingCharacters(in: .newlines))
    }
}
