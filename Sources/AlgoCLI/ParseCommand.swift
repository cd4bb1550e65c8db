import AlgoDiagnostics
import AlgoSyntax

/// `algo parse FILE…`: lexes and parses, reports every syntax error; `--dump tokens|ast` prints
/// the tokens or the tree (span-free unless `--spans`). Exit 0 clean, 1 syntax errors, 3 unreadable.
struct ParseCommand: Command {
    var name: String { "parse" }
    var summary: String { "check the syntax of .algo files; dump their tokens or tree" }
    var usage: String {
        """
        usage: algo parse FILE… [--dump tokens|ast] [--spans] [--format text|json]

        Parses each file and reports every syntax error (exit 1), or exits 0 when all files parse.
        `--dump ast` prints the tree as S-expressions, `--dump tokens` one token per line.
        """
    }
    var flags: [Arguments.Spec] {
        [
            Arguments.Spec("dump", value: true, help: "print `tokens` or `ast` to stdout"),
            Arguments.Spec("spans", help: "with `--dump`, add line:column spans"),
            DiagnosticFormat.flag,
        ]
    }

    func run(_ args: Arguments, _ output: inout Output) -> ExitCode {
        guard let format = DiagnosticFormat.from(args, &output) else { return .usage }
        let dump = args.value("dump")
        if let d = dump, d != "tokens", d != "ast" {
            output.err("algo parse: error: `--dump` takes `tokens` or `ast`, not `\(d)`")
            return .usage
        }
        guard !args.positionals.isEmpty else {
            output.err("algo parse: error: no input files\n\n" + usage)
            return .usage
        }
        var reporter = Reporter(format: format)
        let (files, failures) = reporter.load(args.positionals)
        var diagnostics = failures
        var dumps = ""
        for file in files {
            var bag = DiagnosticBag()
            if dump == "tokens" {
                dumps += TokenDump.dump(Lexer.tokenize(file), source: file)
            }
            let tree = Parser.parse(file, &bag)
            if dump == "ast" {
                if files.count > 1 { dumps += ";; \(file.path)\n" }
                dumps += ASTDump.dump(tree, spans: args.has("spans"), source: file)
            }
            diagnostics += bag.all
        }
        if !dumps.isEmpty { output.out(dumps) }
        reporter.emit(diagnostics, &output)
        if !failures.isEmpty { return .input }
        return diagnostics.contains { $0.severity == .error } ? .diagnostics : .ok
    }
}
