import AlgoDiagnostics
import AlgoEval
import AlgoExport
import Foundation

/// `algo export --jax FILE.algo [-o module.py]`: the checked algorithm and its callees as a
/// readable JAX module (Sources/AlgoExport/README.md). `algo` only writes the text; nothing here
/// runs Python. A construct the export cannot translate is a diagnostic at its line (E0560–E0562,
/// exit 1) and nothing is written, so an existing `-o` file is kept as it was.
struct ExportCommand: Command {
    var name: String { "export" }
    var summary: String { "write an algorithm and its callees as a JAX (Python) module" }
    var usage: String {
        """
        usage: algo export --jax FILE.algo [-o module.py]

        Writes FILE's algorithm and every algorithm it calls as one Python module for JAX: one
        function per algorithm, named as in the paper, each line tagged with the paper's line number,
        the shapes the checker proved asserted, θ as a dict keyed by the checkpoint names of
        `algo params` with `load_params`/`save_params` for `algo`'s safetensors files. A training
        algorithm also gets NAME_loss, NAME_step and NAME_batch_step (jit-compiled; the batch step
        runs data-parallel with jax.sharding, Sources/AlgoExport/README.md). Without `-o` the module
        goes to stdout; `-o` replaces the file atomically. A line that cannot be exported is reported
        (E0560–E0562) and nothing is written.
        Exit 0 written, 1 diagnostics, 2 usage, 3 unreadable input, 4 unwritable output (E0007).
        """
    }
    var flags: [Arguments.Spec] {
        [
            Arguments.Spec("jax", help: "write a JAX module (the only target)"),
            Arguments.Spec("output", value: true, help: "`-o`: the .py file to write (default stdout)"),
            DiagnosticFormat.flag,
        ]
    }

    func run(_ args: Arguments, _ output: inout Output) -> ExitCode {
        guard let format = DiagnosticFormat.from(args, &output) else { return .usage }
        guard args.has("jax") else {
            output.err("algo export: error: give the target, `--jax`\n" + CLI.shortUsage(for: self))
            return .usage
        }
        guard let path = singleFile(args, &output) else { return .usage }
        if let out = args.value("output"), out.isEmpty {
            output.err("algo export: error: `-o` needs a file name\n" + CLI.shortUsage(for: self))
            return .usage
        }
        var reporter = Reporter(format: format)
        if let p = OutputPaths.preflight(args, flags: ["output"]) { return p.report(reporter, &output) }
        let (files, failures) = reporter.load([path])
        if !failures.isEmpty { reporter.emit(failures, &output); return .input }
        let loaded: LoadedProgram
        switch Pipeline.load(files[0]) {
        case .failure(let f): return RunCommand.report(f, &reporter, &output)
        case .success(let p): loaded = p
        }
        let result = JAXExport.module(targets: loaded.program.algorithms.filter { $0.file == loaded.source.path }.map(\.checked),
                                      program: loaded.program.algorithms.map(\.checked), sources: loaded.sources, displayPath: path)
        reporter.add(loaded.sources)
        guard let text = result.text else {
            reporter.emit(result.diagnostics, &output)
            return .diagnostics
        }
        guard let out = args.value("output") else { output.out(text); return .ok }
        if case .failure(let e) = AtomicFile.write(Array(text.utf8), to: out) {
            return FileProblem.unwritable(out, flag: "output", e.reason).report(reporter, &output)
        }
        output.err("algo export: wrote \(out) (\(result.functions.joined(separator: ", ")); \(text.split(separator: "\n", omittingEmptySubsequences: false).count) lines)")
        return .ok
    }
}
