import AlgoDiagnostics
import AlgoLSP
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `algo lsp`: the language server on stdin/stdout (see Sources/AlgoLSP/README.md for editor set-up).
struct LspCommand: Command {
    var name: String { "lsp" }
    var summary: String { "language server for editors (diagnostics, shapes on hover, definitions, Unicode input)" }
    var usage: String {
        """
        usage: algo lsp [--debounce SECONDS]
               algo lsp --bench FILE.algo [--edits N]

        Speaks the Language Server Protocol (3.17, JSON-RPC over stdin/stdout with Content-Length
        framing) for `.algo` files: diagnostics as you type (also for the files of the directory
        that call the edited one), the proven shape of a name on hover, the callee's header on a
        call, go to definition and references, completion of ASCII spellings into Unicode
        (`\\gamma` → `γ`, `<-` → `←`, `\\R` → `ℝ`), formatting, document symbols, semantic tokens.
        Editors start it themselves; Sources/AlgoLSP/README.md has the configuration for VS Code,
        Neovim, Helix and Emacs. Exits 0 after `shutdown` and `exit`, 1 otherwise.
        `--bench FILE` drives a server in this process as an editor would and prints the time
        from a change of FILE to its diagnostics and the memory after `--edits` changes (1000).
        """
    }
    var flags: [Arguments.Spec] {
        [
            Arguments.Spec("debounce", value: true, help: "seconds from the last change to the check (default 0.15)"),
            Arguments.Spec("bench", value: true, help: "measure change-to-diagnostics time and memory on FILE"),
            Arguments.Spec("edits", value: true, help: "with --bench, the number of changes (default 1000)"),
        ]
    }

    func run(_ args: Arguments, _ output: inout Output) -> ExitCode {
        if let file = args.value("bench") {
            let raw = args.value("edits") ?? "1000"
            guard let edits = Int(raw), edits > 0 else {
                output.err("algo lsp: error: `--edits` takes a positive number, not `\(raw)`")
                return .usage
            }
            if case .failure(let d) = SourceFile.load(path: file) { Reporter(format: .text).emit([d], &output); return .input }
            guard let r = LSPBenchmark.run(path: file, edits: edits) else {
                output.err("algo lsp: error: the server stopped answering during the benchmark")
                return .diagnostics
            }
            output.out(r.report)
            return .ok
        }
        var options = ServerOptions()
        if let d = args.value("debounce") {
            guard let s = Double(d), s >= 0, s < 60 else {
                output.err("algo lsp: error: `--debounce` takes seconds between 0 and 60, not `\(d)`")
                return .usage
            }
            options.debounce = s
        }
        guard args.positionals.isEmpty else {
            output.err("algo lsp: error: takes no files (the editor sends them)\n\n" + usage)
            return .usage
        }
        // A client that goes away mid-write must not kill the server with SIGPIPE.
        signal(SIGPIPE, SIG_IGN)
        let code = LanguageServer(input: 0, output: 1, options: options).run()
        return code == 0 ? .ok : .diagnostics
    }
}
