import AlgoDiagnostics
import AlgoEval
import AlgoSema
import AlgoSyntax
import AlgoTensor
import Foundation

/// `algo run` of a training algorithm (11–13, 19): the dataset from `--input 'x_1=…;x_2=…'` (or the
/// built-in one, `TrainingData`), SGD or Adam as the algorithm is written, progress, checkpoints
/// and the loss curve (`TrainingFlags`), the loss before and after, θ̂ as a checkpoint.
extension RunCommand {
    func runTraining(_ args: Arguments, _ output: inout Output, _ reporter: inout Reporter, loaded: LoadedProgram, source: SourceFile,
                     path: String, checkpoint: Checkpoint?, tokenizer: (any Tokenizer)? = nil, dims given: [String: Int], reals givenReals: [String: Double],
                     setGiven: Bool, options: RunOptions) -> ExitCode {
        let a = loaded.target
        var reals = givenReals
        for (k, v) in RunSession.trainingReals(for: a) where reals[k] == nil { reals[k] = v }
        var fallback = RunSession.defaultDimensions
        for (k, v) in RunSession.trainingDimensions { fallback[k] = v }
        var given = given
        // With a checkpoint the model's dimensions come from it; N_epochs still has its default.
        if checkpoint != nil, given["N_epochs"] == nil { given["N_epochs"] = RunSession.trainingDimensions["N_epochs"] }
        do {
            let data = try TrainingData(args, a, dims: given, fallbackVocabulary: checkpoint == nil ? fallback["N_V"] : nil, dtype: options.dtype)
            let flags: TrainingFlags
            switch TrainingFlags.read(args) {
            case .success(let f): flags = f
            case .failure(let f): return f.report(reporter, &output)
            }
            guard let progress = ProgressOptions(args, &output) else { return .usage }
            let merged = data.dims.merging(fallback) { a, _ in a }
            let identity = TrainingIdentity.make(loaded, dims: merged, reals: reals, inputs: data.inputs, dtype: options.dtype)
            var modelReals = reals
            for k in RunSession.trainingRealNames { modelReals[k] = nil }
            let checkpointMeta = Self.modelMetadata(source, loaded, dims: merged, reals: modelReals, tokenizer: tokenizer)
            let resume = try flags.resume.map { try TrainingCheckpoint.snapshot(from: $0.checkpoint, path: $0.path, expecting: identity, at: a.syntax.title.span) }
            let perEpoch = RunSession.tokensPerStep(a, inputs: data.inputs, dims: merged)
            if let epochs = merged["N_epochs"] { try SizeBudget.checkSteps(epochs: epochs, stepsPerEpoch: perEpoch.count, at: a.syntax.title.span) }
            let total = merged["N_epochs"].map { $0 * perEpoch.count }
            if let k = resume?.step, let total, k > total {
                throw RuntimeError(.resumeMismatch, "`\(flags.resume?.path ?? "")` is at step \(k), but this run has only \(total) steps", at: a.syntax.title.span)
            }

            // Every step: the progress line, the held-out loss every `--eval-every` steps, checkpoints.
            var display = progress.display(total: total)
            let sink = ProgressSink(live: output.live)
            var savedStep: Int? = nil
            let heldOutLoss = data.heldOutLoss(loaded, reals: reals, options: options, fallback: fallback)
            var heldPoints: [(step: Int, loss: Double)] = []
            let monitor = TrainingMonitor { step, boundary in
                var held: Double? = nil
                if let h = heldOutLoss, let loss = try flags.heldOutLoss(step, boundary, h) { held = loss; heldPoints.append((step.step, loss)) }
                if let text = display.update(step, now: ProcessInfo.processInfo.systemUptime, heldOut: held) { sink.write(text) }
                if try flags.checkpoint(step, boundary, identity: identity, metadata: checkpointMeta) { savedStep = step.step }
            }
            let interrupt = output.live ? InterruptHandler {
                monitor.requestStop()
                OutputStreams.progress("\nalgo run: stopping after the current step (Ctrl-C again quits at once)\n")
            } : nil
            defer { interrupt?.cancel() }
            func finishProgress() {
                sink.write(display.finish())
                if !sink.live { output.err(sink.buffered) }
            }

            let start = Date()
            let r: RunSession.TrainingResult
            // `--params` tensors θ does not read: warning E0552 after the run, an error with --strict.
            let unread = UnreadParameters(args)
            do {
                r = try RunSession.train(loaded, dims: data.dims, reals: reals, inputs: data.inputs,
                                         parameters: checkpoint.map(RunSession.parameters(from:)), options: options, fallback: fallback,
                                         training: TrainingRun(monitor: monitor, resume: resume),
                                         unusedParameters: { try unread.report($0, loaded.target) })
                finishProgress()
                reporter.emit(unread.warnings, &output)
            } catch let e as FileProblem {
                finishProgress()
                return e.report(reporter, &output)
            } catch {
                finishProgress()
                let code = Self.report(Self.namingCheckpoints(error, args), &reporter, &output)
                if let path = flags.checkpointPath {
                    output.err(savedStep.map { "the last good checkpoint, step \($0), is kept in \(path)" } ?? "no checkpoint was written to \(path) before the run stopped")
                }
                return code
            }
            let seconds = Date().timeIntervalSince(start)

            var s = Self.trainingSummary(loaded, source: source, path: path, r, reals: reals, data: data, checkpoint: checkpoint != nil,
                                         setGiven: setGiven, params: args.value("params"), seed: options.seed)
            if let k = resume?.step, let path = flags.resume?.path { s += "resumed at step \(k) from \(path)\n" }
            // The loss curve is optional: written after θ̂, and its failure never loses θ̂.
            func writeLossSVG(_ output: inout Output) -> Bool {
                guard let svg = flags.lossSVG else { return true }
                let title = "\(a.name): loss per step" + (heldPoints.isEmpty ? "" : " and held-out loss")
                if case .failure(let e) = LossPlotSVG.write(losses: r.stepLossesPerToken, title: title, heldOut: heldPoints, to: svg) {
                    _ = FileProblem.unwritable(svg, flag: "loss-svg", e.reason).report(reporter, &output); return false
                }
                return true
            }
            if let k = r.stoppedAtStep { s += "stopped at step \(k)\(total.map { " of \($0)" } ?? "") (Ctrl-C)\n" }
            s += String(format: "loss before: %.4f nats per predicted token\n", r.lossBeforePerToken)
            if let k = r.stoppedAtStep {
                _ = writeLossSVG(&output)
                if options.profile { s += ProfileTable.text(r.evaluator.profile, title: "training pass, until the stop") }
                output.out(s)
                if let path = flags.checkpointPath {
                    output.err("algo run: stopped at step \(k); the checkpoint \(path) holds it: run the same command with `--resume \(path)` to continue")
                } else {
                    output.err("algo run: stopped at step \(k); no checkpoint was saved (run with `--checkpoint FILE` to be able to `--resume FILE`)")
                }
                return .interrupted
            }
            s += String(format: "loss after:  %.4f nats per predicted token\n", r.lossAfterPerToken)
            s += "  (the mean of −log P over every token the algorithm's loss(θ) predicts in the dataset"
            s += a.hyperparameterNames.contains("p_mask") ? "; the same masks (seed \(options.seed)) before and after)\n" : ")\n"
            if let h = heldOutLoss, let heldCount = data.heldOut?.dims["N_data"] {
                if !r.initial.isEmpty { s += String(format: "held-out loss before: %.4f nats per predicted token\n", try h(r.initial)) }
                s += String(format: "held-out loss after:  %.4f nats per predicted token (--held-out: %d %@, not trained on)\n", try h(r.parameters), heldCount, heldCount == 1 ? "sequence" : "sequences")
            }
            s += String(format: "time: %.1f ms (%@)\n", seconds * 1000, options.dtype == .f64 ? "float64" : "float32")
            if options.profile { s += ProfileTable.text(r.evaluator.profile, title: "the training pass") }
            output.out(s)

            let metadata = Self.modelMetadata(source, loaded, dims: r.dims, reals: modelReals, tokenizer: tokenizer)
            for flag in ["output", "save-params"] {
                guard let out = args.value(flag) else { continue }
                if case .failure(let e) = Checkpoint.write(tensors: r.parameters, metadata: metadata, to: out) {
                    return FileProblem.unwritable(out, flag: flag, e.description).report(reporter, &output)
                }
                output.out("wrote θ̂ (\(r.parameters.count) parameters, named as `algo params` lists them) to \(out)")
            }
            return writeLossSVG(&output) ? .ok : .output
        } catch let e as UsageError {
            output.err("algo run: error: \(e.message)")
            return .usage
        } catch {
            return Self.report(Self.namingCheckpoints(error, args), &reporter, &output)
        }
    }

    /// θ̂'s metadata (`metadata`) with the model's dimensions only: a training run's own
    /// (`RunSession.trainingDimensionNames`) describe the run, not the model.
    static func modelMetadata(_ source: SourceFile, _ loaded: LoadedProgram, dims: [String: Int], reals: [String: Double],
                              tokenizer: (any Tokenizer)?) -> [String: String] {
        let used = RunReport.dimensionsUsed(loaded.target, loaded.program).union(RunReport.modelDimensions(loaded))
            .filter { dims[$0] != nil && !RunSession.trainingDimensionNames.contains($0) }.sorted()
        return metadata(source, dims: dims, reals: reals, usedDims: used, loaded.target, tokenizer: tokenizer)
    }

    /// The head of a training run's report: the algorithm, its hyperparameters, the dataset (its first
    /// four sequences), the parameters and how θ was trained.
    static func trainingSummary(_ loaded: LoadedProgram, source: SourceFile, path: String, _ r: RunSession.TrainingResult, reals: [String: Double],
                                data: TrainingData, checkpoint: Bool, setGiven: Bool, params: String?, seed: UInt64) -> String {
        let a = loaded.target
        let usedDims = RunReport.dimensionsUsed(a, loaded.program).union(RunReport.modelDimensions(loaded)).filter { r.dims[$0] != nil }.sorted()
        var s = "\(a.syntax.title.number.isEmpty ? "" : "Algorithm \(a.number): ")\(RunReport.signature(a, source))   (\(path))\n"
        let shown = usedDims.map { "\($0) = \(r.dims[$0]!)" } + a.hyperparameterNames.filter { reals[$0] != nil }.map { "\($0) = \(reals[$0]!)" }
        s += "hyperparameters: \(shown.joined(separator: ", "))"
        s += !checkpoint ? (setGiven ? "  (defaults and --set)\n" : "  (embedded defaults for training; change with --set)\n") : "  (from the checkpoint and --set)\n"
        s += "dataset: \(data.count) \(RunSession.datasetInputs(a).count > 1 ? "sequence pairs" : "sequences")"
        s += data.builtIn ? " (built-in; give your own with --input 'x_1=3,1,4;x_2=…')\n" : " (--input)\n"
        for (name, _) in RunSession.datasetInputs(a) {
            for (i, ids) in (data.elements[name] ?? [:]).sorted(by: { $0.key < $1.key }).prefix(4) {
                s += "  \(name.prefix { $0 != "_" })_\(i) = \(RunReport.brief(.tokens(ids)))\n"
            }
            if data.count > 4 { s += "  …\n" }
        }
        let numbers = r.parameters.reduce(0) { $0 + $1.tensor.count }
        s += "parameters: \(r.parameters.count) tensors, \(numbers) numbers"
        s += !checkpoint ? ", initialised: weights 𝒩(0, 0.02²), biases and β 0, γ 1 (seed \(seed))\n" : " from \(params ?? "--params")\n"
        let method = a.hyperparameterNames.contains("β_1") ? "Adam" : "SGD"
        if RunSession.isMinibatch(a) {
            s += "training: \(r.stepLosses.count) \(method) steps (N_epochs = \(r.dims["N_epochs"] ?? 0) × N_batches = \(r.dims["N_batches"] ?? 0), one batch of B = \(r.dims["B"] ?? 0) sequences per step, loss averaged over the batch)\n"
        } else {
            s += "training: \(r.stepLosses.count) \(method) steps (N_epochs = \(r.dims["N_epochs"] ?? 0) × N_data = \(data.count), one sequence per step)\n"
        }
        return s
    }
}
