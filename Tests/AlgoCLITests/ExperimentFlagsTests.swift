import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
@testable import AlgoCLI
import AlgoEval
import AlgoTensor

/// The training-run flags on experiment files, from the command line as a user runs them (issue 15):
/// `--loss-svg`, `--eval-every`, `--checkpoint`/`--resume`, `--params`, `--profile`; and the loss
/// unit and `--profile` of training files.
@Suite("algo run: experiments take the run flags; profile and loss unit of training runs")
struct ExperimentFlagsTests {
    static let experiments = ExperimentTests.experiments
    static let algorithms = RunCommandTests.repository + "/Algorithms/"

    /// CharGPT shrunk to seconds on a short text in `dir` (63 training steps of 16…32 characters).
    static func charGPT(_ dir: String, _ more: [String], set: String = ExperimentTests.tiny) throws -> [String] {
        if !FileManager.default.fileExists(atPath: dir + "/t.txt") { try ExperimentTests.shortText(2400).write(toFile: dir + "/t.txt", atomically: true, encoding: .utf8) }
        return ["run", experiments + "CharGPT.algo", "--data", dir + "/t.txt", "--set", set] + more
    }

    static func bytes(_ path: String) -> Data? { FileManager.default.contents(atPath: path) }

    @Test("--eval-every 20 and --loss-svg: the held-out loss is on the progress and a second line of the plot (steps 20, 40, 60, 63), and θ̂ is bit-identical to a run without it")
    func heldOutLoss() throws {
        let dir = try ExperimentTests.scratch()
        let (plainCode, plain) = runCLI(try Self.charGPT(dir, ["--output", dir + "/a.safetensors"]))
        #expect(plainCode == .ok, "\(plain.stderr)")
        let (code, o) = runCLI(try Self.charGPT(dir, ["--output", dir + "/b.safetensors", "--eval-every", "20", "--loss-svg", dir + "/loss.svg"]))
        #expect(code == .ok, "\(o.stderr)")
        // Measuring the held-out set runs its own evaluator: the training is untouched.
        #expect(Self.bytes(dir + "/a.safetensors") == Self.bytes(dir + "/b.safetensors"))
        #expect(o.stderr.contains("step 20/63 (epoch 1): loss ") && o.stderr.contains("nats/token, held-out "), "\(o.stderr)")
        let parser = try #require(XMLParser(contentsOf: URL(fileURLWithPath: dir + "/loss.svg")))
        let reader = TrainingRunCLITests.PolylineReader()
        parser.delegate = reader
        #expect(parser.parse())
        #expect(reader.points["loss"]?.count == 63)
        let held = try #require(reader.points["held-out"])
        #expect(held.count == 4, "\(held)")
        #expect(reader.texts.contains("held-out") && reader.texts.contains("loss (nats per predicted token)"))
        // The last held-out point is the loss_after line's value: the same pass at θ̂.
        let after = try #require(ExperimentTests.real("loss_after", o.stdout))
        let last = try #require(o.stderr.split(separator: "\n").last { $0.contains("step 63/63") })
        #expect(last.contains(String(format: "held-out %.4f", after)), "\(last) vs \(after)")
    }

    @Test("--checkpoint and --resume: the checkpoint names its training line; resuming from it ends byte-identical; a checkpoint of another line is E0581")
    func checkpointAndResume() throws {
        let dir = try ExperimentTests.scratch()
        let ck = dir + "/ck.safetensors"
        var (code, o) = runCLI(try Self.charGPT(dir, ["--output", dir + "/a.safetensors", "--checkpoint", ck, "--checkpoint-every", "25", "--eval-every", "30"]))
        #expect(code == .ok, "\(o.stderr)")
        let c = try Checkpoint.read(ck).get()
        #expect(c.metadata["algo.experiment.line"] == "8" && TrainingCheckpoint.step(c) == 63)
        // The held-out points measured so far (steps 30, 60, 63) travel with the checkpoint.
        #expect(ExperimentTraining.heldOut(from: c.metadata["algo.experiment.held_out"] ?? "").map(\.step) == [30, 60, 63])
        (code, o) = runCLI(try Self.charGPT(dir, ["--output", dir + "/b.safetensors", "--resume", ck]))
        #expect(code == .ok, "\(o.stderr)")
        #expect(Self.bytes(dir + "/a.safetensors") == Self.bytes(dir + "/b.safetensors"))
        var meta = c.metadata
        meta["algo.experiment.line"] = "3"
        _ = try Checkpoint.write(tensors: c.tensors, metadata: meta, to: dir + "/line3.safetensors").get()
        (code, o) = runCLI(try Self.charGPT(dir, ["--resume", dir + "/line3.safetensors"]))
        #expect(code == .diagnostics && o.stderr.contains("error[E0581]") && o.stderr.contains("line 3"), "\(o.stderr)")
    }

    @Test("--params gives initialise(…) the checkpoint's θ: loss_before of the second run is loss_after of the first")
    func paramsFeedInitialise() throws {
        let dir = try ExperimentTests.scratch()
        var (code, o) = runCLI(try Self.charGPT(dir, ["--output", dir + "/a.safetensors"]))
        #expect(code == .ok, "\(o.stderr)")
        let after = try #require(ExperimentTests.real("loss_after", o.stdout))
        (code, o) = runCLI(try Self.charGPT(dir, ["--output", dir + "/b.safetensors", "--params", dir + "/a.safetensors"]))
        #expect(code == .ok, "\(o.stderr)")
        #expect(o.stdout.contains("θ from --params (27 tensors)"), "\(o.stdout)")
        // The same pass over the same held-out set at the same θ (F32 on disk and in the run).
        #expect(ExperimentTests.real("loss_before", o.stdout) == after)
        // A checkpoint of another model is refused (E0506).
        (code, o) = runCLI(try Self.charGPT(dir, ["--params", dir + "/a.safetensors"], set: ExperimentTests.tiny.replacingOccurrences(of: "d_e=16", with: "d_e=32")))
        #expect(code == .diagnostics && o.stderr.contains("error[E0506]"), "\(o.stderr)")
    }

    @Test("--params with a tensor initialise(…) does not read: warning E0552 after the run; with --strict an error before any line trains, and no θ̂ written")
    func paramsUnread() throws {
        let dir = try ExperimentTests.scratch()
        var (code, o) = runCLI(try Self.charGPT(dir, ["--output", dir + "/a.safetensors", "--strict"]))
        #expect(code == .ok && !o.stderr.contains("E0552"), "\(o.stderr)")
        var c = try Checkpoint.read(dir + "/a.safetensors").get()
        c.tensors.append(("W_stray", Tensor(shape: [2], floats: [1, 2])))
        try Checkpoint.write(tensors: c.tensors, metadata: c.metadata, to: dir + "/stray.safetensors").get()
        (code, o) = runCLI(try Self.charGPT(dir, ["--params", dir + "/stray.safetensors"]))
        #expect(code == .ok && o.stderr.contains("warning[E0552]") && o.stderr.contains("`W_stray`") && o.stdout.contains("loss_after"), "\(o.stderr)")
        // Its own checkpoint, under --strict, reads without a word (above); the stray tensor stops the run.
        (code, o) = runCLI(try Self.charGPT(dir, ["--params", dir + "/stray.safetensors", "--strict", "--output", dir + "/never.safetensors"]))
        #expect(code == .diagnostics && o.stderr.contains("error[E0552]") && !o.stdout.contains("loss_after"), "\(o.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/never.safetensors"))
    }

    @Test("--profile of an experiment: one table over every run it made, callee lines included (MHAttention 1–2, Attention), slowest first")
    func experimentProfile() throws {
        let dir = try ExperimentTests.scratch()
        let (code, o) = runCLI(try Self.charGPT(dir, ["--profile"]))
        #expect(code == .ok, "\(o.stderr)")
        let rows = Self.profileRows(o.stdout)
        for name in ["MHAttention line 1", "MHAttention line 2", "Attention line 4", "DTrainingAdam line 10", "DInference line 3"] {
            #expect(rows.contains { $0.name.hasSuffix(name) }, "\(name): \(o.stdout)")
        }
        #expect(zip(rows, rows.dropFirst()).allSatisfy { $0.ms >= $1.ms })
    }

    /// The rows of a `--profile` table: time and backward time in ms (0 without that column), the line's name and text.
    static func profileRows(_ stdout: String) -> [(ms: Double, backward: Double, name: String, text: String)] {
        stdout.split(separator: "\n").compactMap { l -> (Double, Double, String, String)? in
            let parts = l.split(separator: "  ", omittingEmptySubsequences: true).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count >= 5, parts[0].hasSuffix(" ms"), let ms = Double(parts[0].dropLast(3)),
                  let runs = parts.firstIndex(where: { $0.hasSuffix("×") }), runs + 2 < parts.count else { return nil }
            let backward = parts[1].hasSuffix(" ms") ? Double(parts[1].dropLast(3)) ?? 0 : 0
            // A loop's row is marked `↻ `.
            let name = parts[runs + 1].hasPrefix("↻ ") ? String(parts[runs + 1].dropFirst(2)) : parts[runs + 1]
            return (ms, backward, name, parts[(runs + 2)...].joined(separator: "  "))
        }
    }

    @Test("--profile of a training run: rows per paper line with their text, slowest first, callee lines included (MHAttention lines 1–2), backward time per line")
    func trainingProfile() throws {
        let (code, o) = runCLI(["run", Self.algorithms + "DTraining.algo", "--set", "N_epochs=2", "--profile"])
        #expect(code == .ok, "\(o.stderr)")
        let rows = Self.profileRows(o.stdout)
        let one = try #require(rows.first { $0.name == "MHAttention line 1" }, "\(o.stdout)")
        #expect(one.text == "For h ∈ [H]:")
        let two = try #require(rows.first { $0.name == "MHAttention line 2" })
        #expect(two.text == "Y^h ← Attention(X, Z | 𝓦^h_qkv, Mask)")
        #expect(rows.contains { $0.name == "DTraining line 6" && $0.text == "θ ← θ − η · ∇loss(θ)" })
        #expect(rows.contains { $0.name == "Attention line 1" })
        #expect(zip(rows, rows.dropFirst()).allSatisfy { $0.ms >= $1.ms })
        // The backward pass is attributed to the lines whose operations it differentiates: the
        // causal attention (run fused, shown at Attention line 4) and the MLP of line 8 among them.
        #expect(o.stdout.contains("backward: ∇'s time in the operations the line itself issued"))
        #expect(rows.first { $0.name == "Attention line 4" }.map { $0.backward > 0 } == true, "\(o.stdout)")
        #expect(rows.first { $0.name == "DTransformer line 8" }.map { $0.backward > 0 } == true, "\(o.stdout)")
        // Loop rows have no operations of their own to differentiate.
        #expect(rows.first { $0.name == "DTraining line 1" }.map { $0.backward == 0 } == true)
    }

    @Test("--eval-every: a training file without --held-out has no held-out set (exit 2, saying why); an experiment line that nothing evaluates later is E0580")
    func evalEveryRefusals() throws {
        var (code, o) = runCLI(["run", Self.algorithms + "DTraining.algo", "--eval-every", "5"])
        #expect(code == .usage && o.stderr.contains("`--eval-every` needs a held-out set"), "\(o.stderr)")
        // A copy of the library with a CharGPT whose line 9 evaluates θ, not θ̂.
        let dir = try ExperimentTests.scratch()
        try FileManager.default.createDirectory(atPath: dir + "/Experiments", withIntermediateDirectories: true)
        for f in try FileManager.default.contentsOfDirectory(atPath: Self.algorithms) where f.hasSuffix(".algo") {
            try FileManager.default.copyItem(atPath: Self.algorithms + f, toPath: dir + "/" + f)
        }
        let text = try String(contentsOfFile: Self.experiments + "CharGPT.algo", encoding: .utf8)
            .replacingOccurrences(of: "loss_after ← evaluate(DTraining(z_{1:N_test}, θ̂))", with: "loss_after ← evaluate(DTraining(z_{1:N_test}, θ))")
        try text.write(toFile: dir + "/Experiments/NoHeldOut.algo", atomically: true, encoding: .utf8)
        try ExperimentTests.shortText(2400).write(toFile: dir + "/t.txt", atomically: true, encoding: .utf8)
        (code, o) = runCLI(["run", dir + "/Experiments/NoHeldOut.algo", "--data", dir + "/t.txt", "--set", ExperimentTests.tiny, "--eval-every", "10"])
        #expect(code == .diagnostics && o.stderr.contains("error[E0580]") && o.stderr.contains("line 8"), "\(o.stderr)")
    }

    @Test("one loss unit: the summary of a training run is in nats per predicted token, ≈ log N_V before training")
    func trainingLossUnit() throws {
        let (code, o) = runCLI(["run", Self.algorithms + "DTraining.algo", "--set", "N_epochs=2"])
        #expect(code == .ok, "\(o.stderr)")
        #expect(o.stdout.contains(" nats per predicted token\n"))
        let l = try #require(TrainCommandTests.losses(o.stdout))
        // Untrained (weights 𝒩(0, 0.02²)) every token is about equally likely: log 12 nats.
        #expect(abs(l.before - Foundation.log(12)) < 0.05, "\(l)")
    }
}
