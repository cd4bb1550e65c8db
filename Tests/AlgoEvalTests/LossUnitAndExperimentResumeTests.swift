import Foundation
import Testing
import AlgoTensor
import AlgoDiagnostics
@testable import AlgoEval

/// The one loss unit (`Evaluator+LossUnit`: nats per predicted token) checked by identities between
/// algorithms, and an experiment's training line stopped and resumed bit for bit (`ExperimentRunner`).
@Suite("loss in nats per predicted token; experiment resume")
struct LossUnitAndExperimentResumeTests {
    @Test("per token: DTraining's loss over ℓ − 1 = 7 positions; DTrainingMinibatch (Σ over B sequences, each term /B) gives the same per-token loss at the same θ; ETraining divides by |T̃|")
    func perTokenIdentities() throws {
        // Float64, so that the identities hold to rounding (1e-12 relative: sums of 7–14 logs).
        let d = try TrainingResumeTests.setup("DTraining", dtype: .f64)
        let m = try TrainingResumeTests.setup("DTrainingMinibatch", dtype: .f64)
        let rd = try TrainingResumeTests.train(d), rm = try TrainingResumeTests.train(m)
        // Every built-in sequence has 8 tokens: 7 predicted per sequence.
        #expect(abs(rd.lossBefore / 7 - rd.lossBeforePerToken) < 1e-12 * rd.lossBefore)
        #expect(abs(rd.stepLossesPerToken[0] - rd.stepLosses[0] / 7) < 1e-12 * rd.stepLosses[0])
        // The minibatch loss is the batch's mean per sequence: per token it is DTraining's at the same θ.
        #expect(abs(rm.lossBeforePerToken - rd.lossBeforePerToken) < 1e-12 * rd.lossBeforePerToken, "\(rm.lossBeforePerToken) vs \(rd.lossBeforePerToken)")
        #expect(abs(rm.stepLossesPerToken[0] - rm.stepLosses[0] * 2 / 14) < 1e-12 * rm.stepLosses[0])
        // Untrained: about log N_V = log 12 per token.
        #expect(abs(rd.lossBeforePerToken - Foundation.log(12)) < 0.05)
        // ETraining: every step's per-token loss is its loss over the masked positions it drew.
        let e = try TrainingResumeTests.setup("ETraining", dtype: .f64)
        var seen: [TrainingStep] = []
        _ = try TrainingResumeTests.train(e, TrainingRun(monitor: TrainingMonitor { s, _ in seen.append(s) }))
        for s in seen where s.predictedTokens > 0 {
            #expect(abs(s.lossPerToken - s.loss / Double(s.predictedTokens)) < 1e-12 * max(1, s.loss))
            #expect(s.predictedTokens <= 8)
        }
        #expect(seen.contains { $0.predictedTokens > 0 })
    }

    /// CharGPT shrunk to a second (f32, the shipped precision).
    static func charGPT() throws -> (LoadedProgram, String) {
        let path = InterpreterFixtures.repository + "/Algorithms/Experiments/CharGPT.algo"
        let p = try Pipeline.load(path: path).get()
        let data = NSTemporaryDirectory() + "algo-exp-\(UUID().uuidString).txt"
        let prose = try String(contentsOfFile: InterpreterFixtures.repository + "/Algorithms/Experiments/data/prose.txt", encoding: .utf8)
        try String(prose.utf8.prefix(1800))!.write(toFile: data, atomically: true, encoding: .utf8)
        return (p, data)
    }

    static func runner(_ p: LoadedProgram, _ data: String) -> ExperimentRunner {
        var r = ExperimentRunner(p, options: RunOptions())
        r.dataOverride = data
        r.outputOverride = data + ".safetensors"
        for (k, v) in ["ℓ_test": "300", "ℓ_max": "24", "L": "1", "H": "2", "d_e": "8", "d_mlp": "16", "d_attn": "4", "d_mid": "4", "ℓ_prompt": "4", "ℓ_gen": "4", "η": "0.01"] {
            r.overrides[k] = v
        }
        return r
    }

    @Test("an experiment's training line stopped at step 17 (checkpoint as `--checkpoint` writes it) and resumed ends with θ̂ bit-identical to a run never stopped")
    func experimentResume() throws {
        let (p, data) = try Self.charGPT()
        let whole = try Self.runner(p, data).run()
        // Stop at step 17 and keep the snapshot, as the CLI's monitor writes it on Ctrl-C.
        var stopped = Self.runner(p, data)
        final class Box: @unchecked Sendable { var snapshot: TrainingSnapshot?; var call: TrainingCall? }
        let box = Box()
        stopped.training = { call in
            box.call = call
            return TrainingRun(monitor: TrainingMonitor { step, boundary in
                if step.step == 17 { box.snapshot = boundary.snapshot(); throw StopHere() }
            })
        }
        #expect(throws: StopHere.self) { try stopped.run() }
        let snap = try #require(box.snapshot), call = try #require(box.call)
        #expect(call.line == "8" && call.algorithm == "DTrainingAdam")
        // Through the checkpoint file format, as `--resume` reads it.
        let path = data + ".ck.safetensors"
        _ = try TrainingCheckpoint.write(snap, identity: call.identity, metadata: call.metadata, to: path).get()
        let c = try Checkpoint.read(path).get()
        var resumed = Self.runner(p, data)
        resumed.training = { call in
            TrainingRun(monitor: nil, resume: try TrainingCheckpoint.snapshot(from: c, path: path, expecting: call.identity, at: call.span))
        }
        let r = try resumed.run()
        #expect(try TrainingResumeTests.bytes(r.parameters) == TrainingResumeTests.bytes(whole.parameters))
        #expect(r.reals["loss_after"] == whole.reals["loss_after"])
        // The loss history: the checkpoint's 17 steps, then the resumed ones, equal to the whole run's.
        #expect(r.stepLosses.elementsEqual(whole.stepLosses) { $0.bitPattern == $1.bitPattern })
    }

    struct StopHere: Error {}
}
