import AlgoDiagnostics
import AlgoEval

/// A file named by a flag — `--params`, `--resume`, `--tokenizer`, `--output`, `--save-params`,
/// `--checkpoint`, `--loss-svg`, `-o` — that cannot be read or written: one coded diagnostic at
/// the file, naming the flag and giving the system's reason, printed as every diagnostic is (text,
/// or `--format json`), with the README's exit code:
/// - E0001 no such file, E0002 any other reason it cannot be read: exit 3;
/// - E0006 a checkpoint that is not a safetensors file `algo` reads (the header, a dtype, a shape
///   or an offset is wrong): exit 3, as the file cannot be read as what the flag asks for;
/// - E0007 an output that cannot be written (a missing or read-only directory, a full disk, a
///   device node, FIFO or directory in its place): exit 4, the previous file left as it was.
struct FileProblem: Error {
    let diagnostic: Diagnostic
    let exit: ExitCode

    /// `what` names the file by its flag: "the checkpoint `--params θ.safetensors`".
    static func what(_ flag: String, _ path: String) -> String {
        switch flag {
        case "params": "the checkpoint `--params \(path)`"
        case "resume": "the checkpoint `--resume \(path)`"
        case "tokenizer": "the tokenizer `--tokenizer \(path)`"
        case "": "`\(path)`"
        default: "`--\(flag) \(path)`"
        }
    }

    /// `path` (given with `--flag`) could not be read: `why` is the system's reason.
    static func unreadable(_ path: String, flag: String, _ why: String) -> FileProblem {
        let missing = why == FileBytes.Failure.notFound.description
        return FileProblem(diagnostic: Diagnostic(missing ? .fileNotFound : .fileUnreadable, "cannot read \(what(flag, path)): \(why)", at: Span(file: path, start: 0, end: 0)),
                           exit: .input)
    }

    /// Reading the checkpoint `path` (given with `--flag`) failed: the system's reason, or what is
    /// wrong inside the file.
    static func checkpoint(_ path: String, flag: String, _ e: CheckpointError) -> FileProblem {
        if case .io(let why) = e { return unreadable(path, flag: flag, why) }
        var d = Diagnostic(.malformedCheckpoint, "\(flag.isEmpty ? "`\(path)`" : "`--\(flag) \(path)`") is not a checkpoint `algo` reads: \(e)", at: Span(file: path, start: 0, end: 0))
        d.notes.append("checkpoints are safetensors files of F32 or F64 tensors (`algo run --save-params`, `algo convert`)")
        return FileProblem(diagnostic: d, exit: .input)
    }

    /// `path` (given with `--flag`) could not be written: `why` is the reason.
    static func unwritable(_ path: String, flag: String, _ why: String) -> FileProblem {
        FileProblem(diagnostic: Diagnostic(.outputUnwritable, "cannot write \(what(flag, path)): \(why)", at: Span(file: path, start: 0, end: 0)), exit: .output)
    }

    /// Prints the diagnostic and returns the exit code.
    func report(_ reporter: Reporter, _ output: inout Output) -> ExitCode {
        reporter.emit([diagnostic], &output)
        return exit
    }
}
