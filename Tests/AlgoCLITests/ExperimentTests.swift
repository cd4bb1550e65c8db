import Foundation
import Testing
@testable import AlgoCLI
import AlgoEval
import AlgoTensor

/// `algo run` of experiment files (`Algorithms/Experiments/`), shrunk to seconds with `--set` and a
/// short `--data` text; the full runs are measured in release (Algorithms/Experiments/README.md).
@Suite("algo run of experiment files")
struct ExperimentTests {
    static let experiments = RunCommandTests.repository + "/Algorithms/Experiments/"

    /// A fresh directory under the temporary directory.
    static func scratch() throws -> String {
        let d = NSTemporaryDirectory() + "algo-experiment-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }

    /// The first `bytes` of the project's prose.
    static func shortText(_ bytes: Int) throws -> String {
        let text = try String(contentsOfFile: experiments + "data/prose.txt", encoding: .utf8)
        return String(text.utf8.prefix(bytes))!
    }

    /// `name = 1.2345` printed by an experiment line.
    static func real(_ name: String, _ stdout: String) -> Double? {
        for line in stdout.split(separator: "\n") {
            let t = line.trimmingCharacters(in: .whitespaces)
            guard let r = t.range(of: " \(name) = ") else { continue }
            return Double(t[r.upperBound...].prefix { !$0.isWhitespace })
        }
        return nil
    }

    static let tiny = "ℓ_test=400,ℓ_max=32,L=1,H=2,d_e=16,d_mlp=32,d_attn=8,d_mid=8,ℓ_prompt=8,ℓ_gen=8,η=0.01"

    @Test("CharGPT shrunk to seconds: the held-out loss falls, the baseline is printed, θ̂ is written and reads back")
    func charGPTLearns() throws {
        let dir = try Self.scratch()
        try Self.shortText(2400).write(toFile: dir + "/t.txt", atomically: true, encoding: .utf8)
        var o = Output(color: false)
        let rc = CLI.run(["run", Self.experiments + "CharGPT.algo", "--data", dir + "/t.txt", "--set", Self.tiny, "--output", dir + "/θ.safetensors"], &o)
        #expect(rc == .ok, "\(o.stderr)")
        let before = try #require(Self.real("loss_before", o.stdout), "\(o.stdout)")
        let after = try #require(Self.real("loss_after", o.stdout), "\(o.stdout)")
        let unigram = try #require(Self.real("H_unigram", o.stdout), "\(o.stdout)")
        // Untrained, every character is about equally likely: log N_V nats (N_V ≈ 38 here).
        #expect(abs(before - Foundation.log(38)) < 0.1, "\(before)")
        #expect(after < before - 0.5, "\(before) → \(after)")
        #expect(unigram > 2 && unigram < before, "\(unigram)")
        #expect(o.stdout.contains("y = 8 tokens \""), "the sample is printed decoded: \(o.stdout)")
        // The training call's progress: log lines on stderr (not a terminal), the last at step N_data of N_data.
        let steps = try #require(Self.real("x_{1:N_data}", o.stdout).map { Int($0) }, "\(o.stdout)")
        #expect(o.stderr.contains("step \(steps)/\(steps) (epoch 1): loss "), "\(o.stderr)")
        let c = try Checkpoint.read(dir + "/θ.safetensors").get()
        #expect(c["W_e"]?.shape == [16, 38])
        #expect(c.metadata["algo.hyperparameter.N_V"] == "38")
        // The checkpoint carries its vocabulary: a prompt as text needs no tokenizer file.
        #expect(c.metadata[CheckpointMetadata.tokenizerKey]?.contains(#""kind":"character""#) == true)
        var g = Output(color: false)
        let rg = CLI.run(["run", RunCommandTests.repository + "/Algorithms/DInference.algo", "--params", dir + "/θ.safetensors",
                          "--text", "The model", "--set", "ℓ_gen=4"], &g)
        #expect(rg == .ok && g.stdout.contains("input x = [") && g.stdout.contains("(9 tokens)") && g.stdout.contains("as text: \""), "\(g.stdout)\(g.stderr)")
    }

    @Test("a fixed seed reproduces an experiment line for line")
    func seededRunsAgree() throws {
        let dir = try Self.scratch()
        try Self.shortText(1200).write(toFile: dir + "/t.txt", atomically: true, encoding: .utf8)
        var a = Output(color: false), b = Output(color: false)
        let args = ["run", Self.experiments + "CharGPT.algo", "--data", dir + "/t.txt", "--set", Self.tiny, "--output", dir + "/θ.safetensors"]
        #expect(CLI.run(args, &a) == .ok)
        #expect(CLI.run(args, &b) == .ok)
        let strip = { (s: String) in s.split(separator: "\n").map { $0.replacingOccurrences(of: #"\s+\([0-9.]+ s\)"#, with: "", options: .regularExpression) } }
        #expect(strip(a.stdout) == strip(b.stdout))
    }

    @Test("Seq2seq and MLM shrunk to seconds run every line and print accuracy and losses")
    func seq2seqAndMLMRun() throws {
        let dir = try Self.scratch()
        var o = Output(color: false)
        #expect(CLI.run(["run", Self.experiments + "Seq2seq.algo", "--set", "N_data=40,N_test=5,L_enc=1,L_dec=1,d_e=16,d_mlp=16,d_attn=8,d_mid=8",
                         "--output", dir + "/s.safetensors"], &o) == .ok, "\(o.stderr)")
        let acc = try #require(Self.real("accuracy", o.stdout), "\(o.stdout)")
        #expect(acc >= 0 && acc <= 1)
        #expect(o.stdout.contains("x_{1:N_data} = 40 sequences of 3…8 tokens"), "\(o.stdout)")
        try Self.shortText(1600).write(toFile: dir + "/t.txt", atomically: true, encoding: .utf8)
        o = Output(color: false)
        #expect(CLI.run(["run", Self.experiments + "MLM.algo", "--data", dir + "/t.txt", "--set", "ℓ_train=1000,ℓ_test=400,ℓ_max=32,L=1,d_e=16,d_mlp=32,d_f=16,p_mask=0.5",
                         "--output", dir + "/m.safetensors"], &o) == .ok, "\(o.stderr)")
        let before = try #require(Self.real("loss_before", o.stdout), "\(o.stdout)")
        // Untrained, the masked characters cost about log N_V nats each (N_V ≈ 37 here).
        #expect(before > 3.3 && before < 3.9, "\(before)")
    }

    @Test("every file of Algorithms/Experiments/ checks alone: a directory of experiments also reads the directory above")
    func experimentDirectoryChecks() {
        for f in ["CharGPT", "Seq2seq", "MLM", "EDTrainingAdam", "ETrainingAdam"] {
            var o = Output(color: false)
            #expect(CLI.run(["check", Self.experiments + f + ".algo"], &o) == .ok, "\(f): \(o.stderr)")
        }
    }

    @Test("the unigram baseline is the add-one cross-entropy, computed here by hand")
    func unigramBaseline() {
        // Training counts of tokens 1, 2, 3 with one added: 3, 2, 1 of 6. Test tokens 1, 2.
        let h = ExperimentRunner.unigramCrossEntropy(train: [[1, 1, 2]], test: [[1], [2]], vocabulary: 3)
        #expect(abs(h - (-(Foundation.log(3.0 / 6) + Foundation.log(2.0 / 6)) / 2)) < 1e-12)
    }

    /// Runs `args` and returns the exit code and the codes of the diagnostics on stderr.
    static func failing(_ args: [String]) -> (ExitCode, String) {
        var o = Output(color: false)
        let rc = CLI.run(args, &o)
        return (rc, o.stderr)
    }

    @Test("bad flags and data: --log-every 0; a missing, an empty, a too short corpus; a sequence beyond ℓ_max; an unknown character — each a coded diagnostic at the experiment's line")
    func badData() throws {
        let dir = try Self.scratch()
        let exp = Self.experiments + "CharGPT.algo"
        // A log interval of 0 steps is a usage error, as for a training file (it divided by zero).
        var (rc, err) = Self.failing(["run", exp, "--data", dir + "/missing.txt", "--set", Self.tiny, "--log-every", "0"])
        #expect(rc == .usage && err.contains("`--log-every` takes a number of steps ≥ 1"), "\(err)")
        (rc, err) = Self.failing(["run", exp, "--data", dir + "/missing.txt", "--set", Self.tiny])
        #expect(rc == .input && err.contains("error[E0001]") && err.contains("CharGPT.algo:12:"), "\(err)")
        try "".write(toFile: dir + "/empty.txt", atomically: true, encoding: .utf8)
        (rc, err) = Self.failing(["run", exp, "--data", dir + "/empty.txt", "--set", Self.tiny])
        #expect(rc == .input && err.contains("error[E0004]") && err.contains("CharGPT.algo:12:"), "\(err)")
        try Self.shortText(300).write(toFile: dir + "/short.txt", atomically: true, encoding: .utf8)
        (rc, err) = Self.failing(["run", exp, "--data", dir + "/short.txt", "--set", Self.tiny])
        #expect(rc == .input && err.contains("error[E0005]") && err.contains("CharGPT.algo:14:"), "\(err)")
        try Self.shortText(2400).write(toFile: dir + "/t.txt", atomically: true, encoding: .utf8)
        (rc, err) = Self.failing(["run", exp, "--data", dir + "/t.txt", "--set", Self.tiny.replacingOccurrences(of: "ℓ_gen=8", with: "ℓ_gen=40"), "--output", dir + "/θ.safetensors"])
        #expect(rc == .diagnostics && err.contains("error[E0515]") && err.contains("CharGPT.algo:23:"), "\(err)")

        // A second text encoded with the vocabulary of the first: `z` is not in "abc".
        try "abcabc".write(toFile: dir + "/a.txt", atomically: true, encoding: .utf8)
        try "abz".write(toFile: dir + "/b.txt", atomically: true, encoding: .utf8)
        try """
        Experiment 1: y ← Encode(a, b)
        Input: a = "a.txt", b = "b.txt"
        Output: y ∈ V*
        Hyperparameters: N_V ∈ ℕ
        1 x ← tokenize(a | characters)
        2 y ← tokenize(b | characters)
        3 return y

        """.write(toFile: dir + "/Encode.algo", atomically: true, encoding: .utf8)
        (rc, err) = Self.failing(["run", dir + "/Encode.algo"])
        #expect(rc == .diagnostics && err.contains("error[E0516]") && err.contains("Encode.algo:6:"), "\(err)")
    }

    @Test("tokenize(c | bpe): byte-level BPE with the experiment's N_merges; a second text with unseen characters still encodes")
    func bpeTokenize() throws {
        let dir = try Self.scratch()
        try Self.shortText(2000).write(toFile: dir + "/a.txt", atomically: true, encoding: .utf8)
        try "The model reads 🤗 zzz".write(toFile: dir + "/b.txt", atomically: true, encoding: .utf8)
        let program = """
        Experiment 1: y ← Encode(a, b)
        Input: a = "a.txt", b = "b.txt"
        Output: y ∈ V*
        Hyperparameters: N_V ∈ ℕ
        Hyperparameters: N_merges = 40
        1 x ← tokenize(a | bpe)
        2 y ← tokenize(b | bpe)
        3 return y

        """
        try program.write(toFile: dir + "/Encode.algo", atomically: true, encoding: .utf8)
        var o = Output(color: false)
        let rc = CLI.run(["run", dir + "/Encode.algo"], &o)
        #expect(rc == .ok, "\(o.stderr)")
        #expect(o.stdout.contains("N_V = \(256 + 40 + 3)"), "\(o.stdout)")
        // The training text and the expected encoding of the second text, from BPETokenizer itself.
        let t = try BPETokenizer(trainedOn: [try Self.shortText(2000)], merges: 40)
        let ids = try t.encode("The model reads 🤗 zzz", wrap: false).get()
        #expect(o.stdout.contains("y = \(ids.count) tokens"), "\(o.stdout)")
        // Without N_merges the checker says what to declare.
        try program.replacingOccurrences(of: "Hyperparameters: N_merges = 40\n", with: "").write(toFile: dir + "/Encode.algo", atomically: true, encoding: .utf8)
        let (rc2, err) = Self.failing(["run", dir + "/Encode.algo"])
        #expect(rc2 == .diagnostics && err.contains("N_merges"), "\(err)")
    }
}
