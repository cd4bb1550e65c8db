import Foundation
import Testing
@testable import AlgoCLI
import AlgoEval
import AlgoTensor

/// `algo run` of the training algorithms (11–13) through `CLI.run`.
@Suite("algo run of the training algorithms")
struct TrainCommandTests {
    static let algorithms = RunCommandTests.repository + "/Algorithms/"

    static func losses(_ stdout: String) -> (before: Double, after: Double)? {
        func value(_ prefix: String) -> Double? {
            // `loss before: 2.4849 nats per predicted token`: the number.
            stdout.split(separator: "\n").first { $0.hasPrefix(prefix) }.flatMap { Double($0.dropFirst(prefix.count).split(separator: " ").first ?? "") }
        }
        guard let b = value("loss before:"), let a = value("loss after:") else { return nil }
        return (b, a)
    }

    @Test("a bare algo run of DTraining.algo trains the tiny default model on the built-in dataset: the loss falls below a tenth")
    func bareDTraining() throws {
        var o = Output(color: false)
        #expect(CLI.run(["run", Self.algorithms + "DTraining.algo"], &o) == .ok, "\(o.stderr)")
        let l = try #require(Self.losses(o.stdout), "\(o.stdout)")
        #expect(l.after < 0.1 * l.before, "\(l)")
        #expect(o.stdout.contains("dataset: 4 sequences (built-in"))
        #expect(o.stdout.contains("training: 160 SGD steps"))
    }

    @Test("bare algo runs of DTrainingAdam.algo (Adam's defaults) and DTrainingMinibatch.algo (B = 2, N_batches = 2) train: the loss falls below a tenth")
    func bareSectionEightVariants() throws {
        var o = Output(color: false)
        #expect(CLI.run(["run", Self.algorithms + "DTrainingAdam.algo"], &o) == .ok, "\(o.stderr)")
        var l = try #require(Self.losses(o.stdout), "\(o.stdout)")
        #expect(l.after < 0.1 * l.before, "\(l)")
        #expect(o.stdout.contains("η = 0.01, β_1 = 0.9, β_2 = 0.999, ε = 1e-08"))
        #expect(o.stdout.contains("training: 160 Adam steps"))
        o = Output(color: false)
        #expect(CLI.run(["run", Self.algorithms + "DTrainingMinibatch.algo"], &o) == .ok, "\(o.stderr)")
        l = try #require(Self.losses(o.stdout), "\(o.stdout)")
        #expect(l.after < 0.1 * l.before, "\(l)")
        #expect(o.stdout.contains("B = 2") && o.stdout.contains("N_batches = 2"))
        #expect(o.stdout.contains("training: 80 SGD steps (N_epochs = 40 × N_batches = 2, one batch of B = 2 sequences per step"))
        // A batch size that does not divide the dataset is a diagnostic, not a run.
        o = Output(color: false)
        #expect(CLI.run(["run", Self.algorithms + "DTrainingMinibatch.algo", "--set", "B=3"], &o) != .ok)
        #expect((o.stdout + o.stderr).contains("does not divide"))
    }

    @Test("--input 'x_1=…;x_2=…' is the dataset; --save-params and --output write θ̂ under algo params names, which DTransformer and DInference read")
    func datasetAndCheckpoint() throws {
        let out = NSTemporaryDirectory() + "algo-train-\(UUID().uuidString).safetensors"
        let out2 = NSTemporaryDirectory() + "algo-train-\(UUID().uuidString).safetensors"
        defer { try? FileManager.default.removeItem(atPath: out); try? FileManager.default.removeItem(atPath: out2) }
        var o = Output(color: false)
        #expect(CLI.run(["run", Self.algorithms + "DTraining.algo", "--input", "x_1=1,2,3,4;x_2=2,3,4,5;x_3=3,4,5,6", "--set", "N_epochs=10",
                         "--save-params", out, "--output", out2], &o) == .ok, "\(o.stderr)")
        #expect(o.stdout.contains("dataset: 3 sequences (--input)"))
        #expect(o.stdout.contains("training: 30 SGD steps"))
        let l = try #require(Self.losses(o.stdout))
        #expect(l.after < l.before)
        let c = try Checkpoint.read(out).get()
        #expect(c["W_e"]?.shape == [16, 12])
        #expect(c["𝓦_1.W^2_q"]?.shape == [8, 16])
        #expect(c.metadata[CheckpointMetadata.hyperparameterPrefix + "N_epochs"] == nil)
        #expect(try Checkpoint.read(out2).get().tensors.map(\.name) == c.tensors.map(\.name))
        var run = Output(color: false)
        #expect(CLI.run(["run", Self.algorithms + "DTransformer.algo", "--params", out, "--input", "x=1,2,3"], &run) == .ok, "\(run.stderr)")
        var gen = Output(color: false)
        #expect(CLI.run(["run", Self.algorithms + "DInference.algo", "--params", out, "--input", "x=1,2", "--set", "ℓ_gen=2"], &gen) == .ok, "\(gen.stderr)")
        // Training again from the trained checkpoint continues from θ̂: the loss starts where it ended.
        var again = Output(color: false)
        #expect(CLI.run(["run", Self.algorithms + "DTraining.algo", "--params", out, "--input", "x_1=1,2,3,4;x_2=2,3,4,5;x_3=3,4,5,6", "--set", "N_epochs=1"], &again) == .ok, "\(again.stderr)")
        let l2 = try #require(Self.losses(again.stdout))
        #expect(abs(l2.before - l.after) < 1e-3 * max(1, l.after), "\(l2.before) vs \(l.after)")
    }

    @Test("EDTraining takes pairs z_n, x_n; ETraining masks with --seed; wrong dataset input is a usage error, a token outside N_V E0507")
    func pairsAndErrors() throws {
        var ed = Output(color: false)
        #expect(CLI.run(["run", Self.algorithms + "EDTraining.algo", "--input", "z_1=3,2,1;x_1=1,2,3;z_2=4,3;x_2=3,4", "--set", "N_epochs=3"], &ed) == .ok, "\(ed.stderr)")
        #expect(ed.stdout.contains("dataset: 2 sequence pairs"))
        var e1 = Output(color: false), e2 = Output(color: false)
        #expect(CLI.run(["run", Self.algorithms + "ETraining.algo", "--set", "N_epochs=2", "--seed", "3"], &e1) == .ok, "\(e1.stderr)")
        #expect(CLI.run(["run", Self.algorithms + "ETraining.algo", "--set", "N_epochs=2", "--seed", "3"], &e2) == .ok)
        #expect(Self.losses(e1.stdout).map { [$0.before, $0.after] } == Self.losses(e2.stdout).map { [$0.before, $0.after] })
        var missing = Output(color: false)
        #expect(CLI.run(["run", Self.algorithms + "EDTraining.algo", "--input", "z_1=3,2,1;x_1=1,2,3;x_2=3,4"], &missing) == .diagnostics)
        #expect(missing.stderr.contains("E0507"), "\(missing.stderr)")
        var bad = Output(color: false)
        #expect(CLI.run(["run", Self.algorithms + "DTraining.algo", "--input", "y_1=1,2"], &bad) == .usage)
        #expect(bad.stderr.contains("x_1"))
        var big = Output(color: false)
        #expect(CLI.run(["run", Self.algorithms + "DTraining.algo", "--input", "x_1=1,2,99"], &big) == .diagnostics)
        #expect(big.stderr.contains("E0507"), "\(big.stderr)")
    }
}
