import AlgoEval

/// The files a command will write, checked before it starts any work (a training run must not
/// fail at its end because `--output` names a missing directory): each must be a regular file
/// (followed through a symbolic link) or a new name in an existing, writable directory. Device
/// nodes, FIFOs, sockets and directories are refused (exit 4), never replaced.
enum OutputPaths {
    /// The flags of `algo run` that name an output file.
    static let runFlags = ["output", "save-params", "checkpoint", "loss-svg"]

    /// Checks every given output flag: the first that cannot be written (E0007, exit 4), or nil.
    static func preflight(_ args: Arguments, flags: [String]) -> FileProblem? {
        for flag in flags {
            guard let path = args.value(flag) else { continue }
            if case .failure(let e) = AtomicFile.checkWritable(path) { return FileProblem.unwritable(path, flag: flag, e.reason) }
        }
        return nil
    }
}
