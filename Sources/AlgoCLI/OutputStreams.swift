import AlgoDiagnostics
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The process's standard output and error, written with `write(2)` (never Foundation's
/// `FileHandle.write`, which traps through a `try!` when the stream is full, closed or a pipe
/// nobody reads). A failed write is a value: `CLI.main` turns it into exit 4, and a broken pipe
/// (EPIPE, a reader that went away while SIGPIPE is ignored) into a quiet exit 4 as Unix tools do.
enum OutputStreams {
    /// Why writing a stream failed.
    enum Failure: Error, Equatable {
        /// The reader of a pipe went away (EPIPE): nothing to report to anyone.
        case brokenPipe
        /// Any other error (ENOSPC on `/dev/full`, EBADF on a closed descriptor, EIO, …): the system's reason.
        case system(String)
    }

    /// Started with stdin, stdout or stderr closed (`>&-`), the process would hand that descriptor
    /// number to the next file it opens (a checkpoint's temporary file would then receive the
    /// report). Each closed one is opened read-only on `/dev/null` first, so a write to it fails
    /// (EBADF, exit 4) and no file is ever written by mistake.
    static func reserveStandardDescriptors() {
        for fd: Int32 in 0...2 where fcntl(fd, F_GETFD) == -1 && errno == EBADF {
            _ = open("/dev/null", O_RDONLY)
        }
    }

    /// Writes all of `text` to descriptor `fd` (1 stdout, 2 stderr), retrying short writes and EINTR.
    static func write(_ text: String, to fd: Int32) -> Result<Void, Failure> {
        guard let code = FileBytes.write(Array(text.utf8), to: fd) else { return .success(()) }
        return .failure(code == EPIPE ? .brokenPipe : .system(FileBytes.reason(code)))
    }

    /// Best-effort progress and notices on stderr while a run goes on: a failure is dropped (the
    /// run's result still reaches stdout; the final flush reports a stderr failure).
    static func progress(_ text: String) { _ = write(text, to: 2) }

    /// Writes a finished command's streams (stdout first) and returns the exit code: `code` when
    /// both were written, else 4 (`ExitCode.output`), with the reason on stderr when stderr still works.
    static func flush(_ output: Output, code: ExitCode) -> ExitCode {
        var failed = false
        if case .failure(let f) = write(output.stdout, to: 1) {
            failed = true
            if case .system(let reason) = f { _ = write("algo: error: cannot write standard output: \(reason)\n", to: 2) }
        }
        if case .failure = write(output.stderr, to: 2) { failed = true }
        return failed && code != .interrupted ? .output : code
    }
}
