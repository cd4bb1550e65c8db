import AlgoDiagnostics
import AlgoEval
import AlgoTensor
import Foundation

/// The training-run flags (`TrainingFlags`) applied to an experiment's training lines
/// (`θ̂ ← DTrainingAdam(…)`), as a training file has them: a progress display per line,
/// `--checkpoint F` every `--checkpoint-every N` steps, at the line's last step and on Ctrl-C (metadata
/// `algo.experiment.line` names the line), `--resume F` (the experiment re-runs its lines up to the
/// checkpoint's training line, which the evaluator resumes bit-identically; later lines run on),
/// `--eval-every N` (the held-out loss of the line's later `evaluate(…, θ̂)`, every N steps and at the
/// last), and `--loss-svg F` (one file per training line: F, or F-2.svg … when there are several).
final class ExperimentTraining: @unchecked Sendable {
    let progress: ProgressOptions
    let sink: ProgressSink
    let flags: TrainingFlags
    private let lock = NSLock()
    private var monitor: TrainingMonitor?
    private var resumeUsed = false
    /// Per training line: its algorithm and line, its losses (nats per predicted token) and held-out points.
    private(set) var curves: [(algorithm: String, line: String, losses: [Double], heldOut: [(step: Int, loss: Double)])] = []
    /// The last checkpoint written: its line and step.
    private var saved: (line: String, step: Int)? = nil

    init(flags: TrainingFlags, progress: ProgressOptions, live: Bool) {
        self.flags = flags; self.progress = progress; sink = ProgressSink(live: live)
    }

    /// The training run of one training line: monitor, checkpoints, held-out loss, resume.
    func start(_ call: TrainingCall) throws -> TrainingRun {
        var snapshot: TrainingSnapshot? = nil
        if let (path, c) = flags.resume, c.metadata[TrainingCall.lineKey] == call.line {
            snapshot = try TrainingCheckpoint.snapshot(from: c, path: path, expecting: call.identity, at: call.span)
            lock.lock(); resumeUsed = true; lock.unlock()
        }
        if flags.evalEvery != nil, call.heldOut == nil {
            throw RuntimeError(.noHeldOutSet, "`--eval-every`: no later line evaluates what line \(call.line) trains, so it has no held-out set", at: call.span,
                               notes: ["the held-out set of a training line `θ̂ ← T(…)` is the dataset of the first later line `loss ← evaluate(T′(z_{1:N_test}, θ̂))`"])
        }
        let index = curves.count
        // A resumed line's curve starts with the checkpoint's losses and held-out points.
        let heldBefore = snapshot == nil ? [] : Self.heldOut(from: flags.resume?.checkpoint.metadata[Self.heldOutKey] ?? "")
        curves.append((call.algorithm, call.line, snapshot?.tokenLosses ?? [], heldBefore))
        var display = progress.display(total: call.totalSteps)
        let monitor = TrainingMonitor { [self] step, boundary in
            var held: Double? = nil
            if let h = call.heldOut, let loss = try flags.heldOutLoss(step, boundary, h.loss) {
                held = loss
                curves[index].heldOut.append((step.step, loss))
            }
            curves[index].losses.append(step.lossPerToken)
            if let text = display.update(step, now: ProcessInfo.processInfo.systemUptime, heldOut: held) { sink.write(text) }
            // The checkpoint's metadata carries the held-out points so far (made only at checkpoint steps).
            if try flags.checkpoint(step, boundary, identity: call.identity, metadata: call.metadata.merging(
                [Self.heldOutKey: curves[index].heldOut.map { "\($0.step):\($0.loss)" }.joined(separator: ",")]) { _, b in b }, line: call.line) {
                lock.lock(); saved = (call.line, step.step); lock.unlock()
            }
            if step.step == step.totalSteps || step.stopping {
                sink.write(display.finish())
                lock.lock(); self.monitor = nil; lock.unlock()
            }
        }
        lock.lock(); self.monitor = monitor; lock.unlock()
        return TrainingRun(monitor: monitor, resume: snapshot)
    }

    /// Checkpoint metadata: the held-out points measured so far, `step:loss,…` (a resume's curve keeps them).
    static let heldOutKey = "algo.experiment.held_out"

    static func heldOut(from text: String) -> [(step: Int, loss: Double)] {
        text.split(separator: ",").compactMap { p in
            let kv = p.split(separator: ":")
            guard kv.count == 2, let k = Int(kv[0]), let v = Double(kv[1]) else { return nil }
            return (k, v)
        }
    }

    /// Ctrl-C: asks the training line running to stop at its next step; false when none runs.
    func requestStop() -> Bool {
        lock.lock(); let m = monitor; lock.unlock()
        m?.requestStop()
        return m != nil
    }

    /// What is on disk after a Ctrl-C outside a training line.
    func savedText() -> String {
        lock.lock(); let s = saved; lock.unlock()
        if let s, let path = flags.checkpointPath {
            return "the checkpoint \(path) holds θ after step \(s.step) of training line \(s.line); θ̂ was not written (the `return` line writes it)"
        }
        return "nothing was saved: θ̂ is written by the `return` line, and files written before are as they were" + (flags.checkpointPath == nil ? " (`--checkpoint FILE` saves a training line's state)" : "")
    }

    /// What is on disk after a Ctrl-C during a training line (its monitor saved the checkpoint at that step).
    func stoppedText() -> String {
        guard let path = flags.checkpointPath else {
            return "no checkpoint was saved (run with `--checkpoint FILE` to be able to `--resume FILE`); θ̂ was not written and files written before are as they were"
        }
        return "the checkpoint \(path) holds it: run the same command with `--resume \(path)` to continue"
    }

    /// A `--resume` checkpoint that names no training line of the experiment (E0581): checked
    /// before the first line runs, and (`ran`) after the run, when no training line took it.
    func unusedResume(_ span: Span, trainingLines: [String], ran: Bool) -> RuntimeError? {
        guard let (path, c) = flags.resume else { return nil }
        lock.lock(); let used = resumeUsed; lock.unlock()
        if ran ? used : c.metadata[TrainingCall.lineKey].map(trainingLines.contains) == true { return nil }
        let line = c.metadata[TrainingCall.lineKey]
        return RuntimeError(.resumeLineMismatch, "`\(path)` " + (line.map { "was written at line \($0), which is no training line of this experiment" } ?? "was not written by a training line of an experiment (it names no `\(TrainingCall.lineKey)`)"), at: span,
                            notes: ["resume with the checkpoint `--checkpoint` wrote for this experiment; the lines ran without resuming"])
    }

    /// The path of training line k's curve (k from 1): F for the only one, `F-k.svg` when there are several.
    static func curvePath(_ path: String, _ k: Int, of count: Int) -> String {
        guard count > 1 else { return path }
        let ext = (path as NSString).pathExtension
        let stem = ext.isEmpty ? path : String(path.dropLast(ext.count + 1))
        return stem + "-\(k)" + (ext.isEmpty ? "" : "." + ext)
    }

    /// `--loss-svg`: every training line's curve (losses, held-out points); the first that cannot be written (E0007).
    func writeLossCurves() -> FileProblem? {
        guard let path = flags.lossSVG else { return nil }
        for (k, c) in curves.enumerated() {
            let title = "\(c.algorithm) (line \(c.line)): loss per step" + (c.heldOut.isEmpty ? "" : " and held-out loss")
            let file = Self.curvePath(path, k + 1, of: curves.count)
            if case .failure(let e) = LossPlotSVG.write(losses: c.losses, title: title, heldOut: c.heldOut, to: file) {
                return FileProblem.unwritable(file, flag: "loss-svg", e.reason)
            }
        }
        return nil
    }
}
