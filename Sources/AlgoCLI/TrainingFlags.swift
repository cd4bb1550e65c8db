import AlgoEval
import AlgoTensor
import Foundation

/// The training-run flags of `algo run`, read once for a training file and for every training line
/// of an experiment: `--checkpoint F` every `--checkpoint-every N` steps (default 100), at the last
/// step and at a Ctrl-C stop; `--resume F`; `--eval-every N` (the held-out loss: a training file's
/// `--held-out` set, an experiment line's later `evaluate(…, θ̂)`); `--loss-svg F`.
struct TrainingFlags {
    enum Failure: Error {
        case usage(String), file(FileProblem)

        /// Reported: a usage error exits 2, a file problem with its own code.
        func report(_ reporter: Reporter, _ output: inout Output) -> ExitCode {
            switch self {
            case .usage(let m): output.err("algo run: error: \(m)"); return .usage
            case .file(let problem): return problem.report(reporter, &output)
            }
        }
    }

    let checkpointPath: String?, every: Int, evalEvery: Int?, lossSVG: String?
    /// `--resume F`: its path and the checkpoint read from it.
    let resume: (path: String, checkpoint: Checkpoint)?

    /// A bad number is a usage error (exit 2), an unreadable `--resume` a file problem (exit 3).
    static func read(_ args: Arguments) -> Result<TrainingFlags, Failure> {
        func steps(_ flag: String) -> Result<Int?, Failure> {
            guard let text = args.value(flag) else { return .success(nil) }
            guard let v = Int(text), v >= 1 else { return .failure(.usage("`--\(flag)` takes a number of steps ≥ 1")) }
            return .success(v)
        }
        let every: Int?, evalEvery: Int?
        switch steps("checkpoint-every") { case .success(let v): every = v; case .failure(let f): return .failure(f) }
        switch steps("eval-every") { case .success(let v): evalEvery = v; case .failure(let f): return .failure(f) }
        var resume: (path: String, checkpoint: Checkpoint)? = nil
        if let path = args.value("resume") {
            switch Checkpoint.read(path) {
            case .success(let c): resume = (path, c)
            case .failure(let e): return .failure(.file(FileProblem.checkpoint(path, flag: "resume", e)))
            }
        }
        return .success(TrainingFlags(checkpointPath: args.value("checkpoint"), every: every ?? 100, evalEvery: evalEvery,
                                      lossSVG: args.value("loss-svg"), resume: resume))
    }

    /// The held-out loss (nats per predicted token) of θ at this step when it is one of
    /// `--eval-every N`'s (every N-th, the last, a stop); nil at other steps.
    func heldOutLoss(_ step: TrainingStep, _ boundary: TrainingBoundary, _ loss: ([(name: String, tensor: Tensor)]) throws -> Double) throws -> Double? {
        guard let n = evalEvery, step.step % n == 0 || step.step == step.totalSteps || step.stopping else { return nil }
        return try loss(boundary.snapshot().parameters)
    }

    /// Writes `--checkpoint` when this step is one of its steps (every N-th, the last, a stop);
    /// true when it wrote. A failure is E0007 naming the step (and the experiment's line, if any).
    /// `metadata` is made only at those steps.
    func checkpoint(_ step: TrainingStep, _ boundary: TrainingBoundary, identity: TrainingIdentity, metadata: @autoclosure () -> [String: String],
                    line: String? = nil) throws -> Bool {
        guard let path = checkpointPath, step.step % every == 0 || step.stopping || step.step == step.totalSteps else { return false }
        if case .failure(let e) = TrainingCheckpoint.write(boundary.snapshot(), identity: identity, metadata: metadata(), to: path) {
            throw FileProblem.unwritable(path, flag: "checkpoint", "at step \(step.step)\(line.map { " of line \($0)" } ?? ""): \(e.description)")
        }
        return true
    }
}
