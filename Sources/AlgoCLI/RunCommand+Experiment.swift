import AlgoDiagnostics
import AlgoEval
import Foundation

/// `algo run EXPERIMENT.algo`: an `Experiment N:` file runs line by line (`ExperimentRunner`), each
/// line printing its value; `--data`, `--set` and `--output` replace the header's values.
extension RunCommand {
    func runExperiment(_ loaded: LoadedProgram, _ args: Arguments, _ options: RunOptions, setDims: [String: Int], setReals: [String: Double],
                       _ reporter: inout Reporter, _ output: inout Output) -> ExitCode {
        var runner = ExperimentRunner(loaded, options: options)
        runner.dataOverride = args.value("data")
        runner.outputOverride = args.value("output")
        for (k, v) in setDims { runner.overrides[k] = String(v) }
        for (k, v) in setReals { runner.overrides[k] = String(v) }
        // Lines go to stdout when the run ends; on a terminal they are also shown on stderr as they come.
        guard let progress = ProgressOptions(args, &output) else { return .usage }
        final class Lines: @unchecked Sendable { var all: [String] = [] }
        let lines = Lines()
        runner.log = { line in
            lines.all.append(line)
            if progress.terminal { OutputStreams.progress(line + "\n") }
        }
        // Each training call shows its progress on stderr as `algo run` of a training file does.
        let sink = ProgressSink(live: output.live)
        // Ctrl-C during a training line stops it at the next step and saves θ (exit 130); elsewhere
        // it ends the run at once (exit 130).
        final class Current: @unchecked Sendable { let lock = NSLock(); var monitor: TrainingMonitor? }
        let current = Current()
        runner.trainingMonitor = { _, total in
            final class Box: @unchecked Sendable { var display: ProgressDisplay; init(_ d: ProgressDisplay) { display = d } }
            let box = Box(progress.display(total: total))
            let monitor = TrainingMonitor { step, _ in
                if let text = box.display.update(step, now: ProcessInfo.processInfo.systemUptime) { sink.write(text) }
                if step.step == total {
                    sink.write(box.display.finish())
                    current.lock.lock(); current.monitor = nil; current.lock.unlock()
                }
            }
            current.lock.lock(); current.monitor = monitor; current.lock.unlock()
            return monitor
        }
        let interrupt = output.live ? InterruptHandler {
            current.lock.lock(); let m = current.monitor; current.lock.unlock()
            guard let m else { TerminationSignals.exit(by: SIGINT) }
            m.requestStop()
            OutputStreams.progress("\nalgo run: stopping after the current training step (Ctrl-C again quits at once)\n")
        } : nil
        defer { interrupt?.cancel() }
        defer { if !sink.live { output.err(sink.buffered) } }
        output.out("experiment \(loaded.target.number): \(loaded.target.name) (\(loaded.source.path))\n")
        defer { for l in lines.all { output.out(l) } }
        do {
            _ = try runner.run()
        } catch let e as RuntimeError {
            reporter.emit([e.diagnostic], &output)
            // The data file (E00xx: missing, unreadable, not UTF-8, empty, too short) is an input: exit 3.
            return e.diagnostic.code.rawValue.hasPrefix("E00") ? .input : .diagnostics
        } catch let e as ExperimentStopped {
            output.err("algo run: stopped at training step \(e.step) (Ctrl-C); " + (e.written.map { "θ after it is in \($0)" } ?? "θ was not written (no output path)"))
            return .interrupted
        } catch let e as ExperimentOutputError {
            output.err("algo run: error: \(e.message)")
            return .output
        } catch {
            output.err("algo run: error: \(error)")
            return .diagnostics
        }
        return .ok
    }
}
