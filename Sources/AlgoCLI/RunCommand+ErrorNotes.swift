import AlgoDiagnostics
import AlgoEval

extension RunCommand {
    /// `error` with a note naming the checkpoint files of the command line when it is about a
    /// checkpoint's tensors (a parameter missing or of the wrong shape, E0506): the evaluator
    /// says "in the checkpoint", the note says which file (`--params`, `--resume`).
    static func namingCheckpoints(_ error: Error, _ args: Arguments) -> Error {
        guard var e = error as? RuntimeError, e.diagnostic.code == .parameterMismatch else { return error }
        let files = ["params", "resume"].compactMap { flag in args.value(flag).map { "`--\(flag) \($0)`" } }
        if !files.isEmpty { e.diagnostic.notes.insert("the checkpoint: \(files.joined(separator: " and "))", at: 0) }
        return e
    }
}
