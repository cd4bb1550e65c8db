import AlgoDiagnostics
import AlgoEval
import AlgoSyntax
import Foundation

/// `algo fmt FILE…`: writes the canonical form (Unicode, or ASCII with `--ascii`) to stdout, or in
/// place with `--write` (atomically); `--check` lists the files not in canonical form and exits 1.
/// Files with syntax errors are not formatted: their diagnostics are reported and the exit code is 1.
struct FmtCommand: Command {
    var name: String { "fmt" }
    var summary: String { "write .algo files in canonical form (Unicode or --ascii)" }
    var usage: String {
        """
        usage: algo fmt FILE… [--ascii] [--write | --check] [--format text|json]

        Rewrites every symbol to its canonical spelling (the paper's Unicode, or LaTeX-style ASCII
        with `--ascii`), indents bodies by 4 spaces after right-aligned line numbers, and removes
        trailing whitespace; everything else (alignment, prose, comments) is kept.
        Without `--write` or `--check` the result goes to stdout.
        """
    }
    var flags: [Arguments.Spec] {
        [
            Arguments.Spec("ascii", help: "write the ASCII spelling instead of Unicode"),
            Arguments.Spec("write", help: "replace each file by its formatted text (atomically)"),
            Arguments.Spec("check", help: "list files that are not in canonical form and exit 1; change nothing"),
            DiagnosticFormat.flag,
        ]
    }

    func run(_ args: Arguments, _ output: inout Output) -> ExitCode {
        guard let format = DiagnosticFormat.from(args, &output) else { return .usage }
        guard !args.positionals.isEmpty else {
            output.err("algo fmt: error: no input files\n\n" + usage)
            return .usage
        }
        if args.has("write") && args.has("check") {
            output.err("algo fmt: error: `--write` and `--check` exclude each other")
            return .usage
        }
        let style: AlgoSyntax.Formatter.Style = args.has("ascii") ? .ascii : .unicode
        var reporter = Reporter(format: format)
        let (files, failures) = reporter.load(args.positionals)
        var diagnostics = failures
        var unformatted: [String] = []
        var writeFailed = false
        for file in files {
            let (text, ds) = AlgoSyntax.Formatter.format(file, style: style)
            diagnostics += ds
            guard let text else { continue }
            if args.has("check") {
                if text != file.text { unformatted.append(file.path) }
            } else if args.has("write") {
                if text != file.text {
                    // AtomicFile keeps the file's mode and writes through a symbolic link.
                    if case .failure(let e) = AtomicFile.write(Array(text.utf8), to: file.path) {
                        diagnostics.append(FileProblem.unwritable(file.path, flag: "", e.reason).diagnostic)
                        writeFailed = true
                    }
                }
            } else {
                output.stdout += text
            }
        }
        for path in unformatted { output.out(path) }
        reporter.emit(diagnostics, &output)
        if !failures.isEmpty { return .input }
        if writeFailed { return .output }
        if diagnostics.contains(where: { $0.severity == .error }) || !unformatted.isEmpty { return .diagnostics }
        return .ok
    }
}
