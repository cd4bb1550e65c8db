import AlgoDiagnostics
import AlgoEval
import AlgoSema
import AlgoSyntax
import Foundation

/// `algo check FILE…`: resolves names and proves every shape symbolically. Calls resolve to the same
/// file, the other named files, then the other `.algo` files of the caller's directory (the
/// directory is the library, `Library`); a callee's own diagnostics are reported at its file, line
/// and column. Exit 0 clean, 1 diagnostics, 2 usage, 3 unreadable input.
struct CheckCommand: Command {
    var name: String { "check" }
    var summary: String { "check every shape symbolically, in the paper's dimension names" }
    var usage: String {
        """
        usage: algo check FILE_OR_DIR… [--set NAME=VALUE,…] [--dump shapes] [--format text|json] [--quiet]

        Proves, with no numbers, that every matrix product, sum, stacking, column assignment, call,
        claim `[[…]]` and return fits. Calls resolve to algorithms of the same file, of the other
        files named, or of any other `.algo` file in the caller's directory.
        `--set d_e=64,H=4` also checks with concrete values (index ranges, equal sizes).
        `--dump shapes` prints every variable's shape per algorithm.
        A directory stands for every `.algo` file at and below it. On success a line on stderr says
        how many files were checked (not with `--quiet` or `--format json`).
        """
    }
    var flags: [Arguments.Spec] {
        [
            Arguments.Spec("set", value: true, help: "concrete dimension values, `d_e=64,H=4`"),
            Arguments.Spec("dump", value: true, help: "print `shapes` to stdout"),
            DiagnosticFormat.flag,
            Arguments.Spec("quiet", help: "print nothing when every file checks"),
        ]
    }

    func run(_ args: Arguments, _ output: inout Output) -> ExitCode {
        guard let format = DiagnosticFormat.from(args, &output) else { return .usage }
        if let d = args.value("dump"), d != "shapes" {
            output.err("algo check: error: `--dump` takes `shapes`, not `\(d)`")
            return .usage
        }
        let set: DimensionOverrides
        switch DimensionOverrides.parse(args.value("set"), accepts: .naturals) {
        case .success(let o): set = o
        case .failure(let e): output.err("algo check: error: \(e.message)"); return .usage
        }
        guard !args.positionals.isEmpty else {
            output.err("algo check: error: no input files\n\n" + usage)
            return .usage
        }
        var paths: [String] = []
        for p in args.positionals {
            guard let inside = Library.algoPaths(under: p) else { paths.append(p); continue }
            guard !inside.isEmpty else { output.err("algo check: error: the directory `\(p)` holds no .algo file"); return .input }
            paths += inside.filter { !paths.contains($0) }
        }
        var reporter = Reporter(format: format)
        let (files, failures) = reporter.load(paths)
        var bag = DiagnosticBag()
        var parsed: [ParsedFile] = []
        for f in files { parsed.append(ParsedFile(source: f, tree: Parser.parse(f, &bag))) }
        let library = Library.around(parsed).excluding(files.map(\.path))
        // A callee's diagnostics point into its library file: the reporter renders them from it.
        reporter.add(library.map(\.source))
        let outcome = ShapeChecker.check(parsed, library: library, options: CheckOptions(values: set.dims), &bag)
        if let checked = outcome.program, let e = set.validate(against: EvalProgram(checked).settableNames, for: "the checked algorithms") {
            reporter.emit(failures + bag.all, &output)
            output.err("algo check: error: \(e.message)")
            return .usage
        }
        if args.value("dump") == "shapes" {
            output.out(outcome.shapes.map(\.rendered).joined())
        }
        let diagnostics = failures + bag.all
        reporter.emit(diagnostics, &output)
        if !failures.isEmpty { return .input }
        if diagnostics.contains(where: { $0.severity == .error }) { return .diagnostics }
        if !args.has("quiet"), format == .text {   // JSON is for tools: stdout holds the array, nothing else is said
            let warnings = diagnostics.count
            let algorithms = parsed.reduce(0) { $0 + $1.tree.algorithms.count }
            output.err("checked \(files.count) file\(files.count == 1 ? "" : "s") (\(algorithms) algorithm\(algorithms == 1 ? "" : "s")), 0 errors"
                       + (warnings > 0 ? ", \(warnings) warning\(warnings == 1 ? "" : "s")" : ""))
        }
        return .ok
    }
}
