import AlgoDiagnostics
import AlgoEval
import AlgoTensor
import Foundation

/// `algo run EXPERIMENT.algo`: an `Experiment N:` file runs line by line (`ExperimentRunner`), each
/// line printing its value; `--data`, `--set` and `--output` replace the header's values. Its
/// training lines take the flags of a training run (`ExperimentTraining`): progress,
/// `--checkpoint`/`--checkpoint-every`/`--resume`, `--loss-svg`, `--eval-every`; `--params` gives
/// `initialise(…)` a checkpoint's θ (tensors it does not read: E0552, an error with `--strict`);
/// `--profile` profiles every run the experiment makes.
extension RunCommand {
    func runExperiment(_ loaded: LoadedProgram, _ args: Arguments, _ options: RunOptions, setDims: [String: Int], setReals: [String: Double],
                       checkpoint: Checkpoint?, _ reporter: inout Reporter, _ output: inout Output) -> ExitCode {
        var runner = ExperimentRunner(loaded, options: options)
        runner.dataOverride = args.value("data")
        runner.outputOverride = args.value("output")
        runner.parameters = checkpoint.map(RunSession.parameters(from:))
        // `--params` tensors `initialise(…)` does not read: warning E0552 after the run, an error with --strict.
        let unread = UnreadParameters(args)
        runner.unusedParameters = unread.report
        for (k, v) in setDims { runner.overrides[k] = String(v) }
        for (k, v) in setReals { runner.overrides[k] = String(v) }
        guard let progress = ProgressOptions(args, &output) else { return .usage }
        let flags: TrainingFlags
        switch TrainingFlags.read(args) {
        case .success(let f): flags = f
        case .failure(let f): return f.report(reporter, &output)
        }
        let training = ExperimentTraining(flags: flags, progress: progress, live: output.live)
        // Lines go to stdout when the run ends; on a terminal they are also shown on stderr as they come.
        final class Lines: @unchecked Sendable { var all: [String] = []; var line = " " }
        let lines = Lines()
        runner.log = { line in
            lines.all.append(line)
            if progress.terminal { OutputStreams.progress(line + "\n") }
        }
        runner.lineStarted = { lines.line = $0 }
        runner.training = { try training.start($0) }
        // Ctrl-C during a training line stops it at the next step (its checkpoint saved, as a training
        // run's); elsewhere it ends the run at once, saying what is on disk.
        let interrupt = output.live ? InterruptHandler {
            if training.requestStop() {
                OutputStreams.progress("\nalgo run: stopping after the current training step (Ctrl-C again quits at once)\n")
                return
            }
            OutputStreams.progress("\nalgo run: interrupted during line \(lines.line); \(training.savedText())\n")
            TerminationSignals.exit(by: SIGINT)
        } : nil
        defer { interrupt?.cancel() }
        // SIGTERM and SIGHUP end the run at once (a checkpoint being written is removed, the last one
        // kept), saying what is on disk.
        if output.live { TerminationSignals.shared.setNote { "\(training.savedText())" } }
        defer { if output.live { TerminationSignals.shared.setNote(nil) } }
        defer { if !training.sink.live { output.err(training.sink.buffered) } }
        output.out("experiment \(loaded.target.number): \(loaded.target.name) (\(loaded.source.path))\n")
        var code = ExitCode.ok
        do {
            let span = loaded.target.syntax.title.span
            if let e = training.unusedResume(span, trainingLines: runner.trainingLines, ran: false) { throw e }
            let result = try runner.run()
            if let e = training.unusedResume(span, trainingLines: runner.trainingLines, ran: true) { throw e }
            for l in lines.all { output.out(l) }
            if options.profile { output.out(ProfileTable.text(result.profile, title: "every run of the experiment")) }
            reporter.emit(unread.warnings, &output)
        } catch {
            for l in lines.all { output.out(l) }
            code = report(error, training, &reporter, &output)
        }
        // The loss curves are optional: written last, their failure never loses θ̂ (already written).
        if let problem = training.writeLossCurves() { let c = problem.report(reporter, &output); if code == .ok { code = c } }
        return code
    }

    private func report(_ error: Error, _ training: ExperimentTraining, _ reporter: inout Reporter, _ output: inout Output) -> ExitCode {
        switch error {
        case let e as RuntimeError:
            reporter.emit([e.diagnostic], &output)
            // The data file (E00xx: missing, unreadable, not UTF-8, empty, too short) is an input: exit 3.
            return e.diagnostic.code.rawValue.hasPrefix("E00") ? .input : .diagnostics
        case let e as ExperimentStopped:
            output.err("algo run: stopped at training step \(e.step) of line \(e.line) (Ctrl-C); " + training.stoppedText())
            return .interrupted
        case let e as ExperimentOutputError:
            output.err("algo run: error: \(e.message)")
            return .output
        case let e as FileProblem:
            return e.report(reporter, &output)
        case let f as RunFailure:
            reporter.emit(f.diagnostics, &output)
            return .diagnostics
        default:
            output.err("algo run: error: \(error)")
            return .diagnostics
        }
    }
}
