import AlgoDiagnostics
import AlgoEval
import AlgoSema
import AlgoSyntax
import AlgoTensor
import Foundation

/// `algo run` of a training algorithm (11–13): the dataset from `--input 'x_1=…;x_2=…'` (or the
/// built-in one), SGD as the algorithm is written, the loss before and after, θ̂ as a checkpoint.
extension RunCommand {
    func runTraining(_ args: Arguments, _ output: inout Output, _ reporter: inout Reporter, loaded: LoadedProgram, source: SourceFile,
                     path: String, checkpoint: Checkpoint?, tokenizer: (any Tokenizer)? = nil, dims given: [String: Int], reals givenReals: [String: Double],
                     setGiven: Bool, options: RunOptions) -> ExitCode {
        let a = loaded.target
        var dims = given, reals = givenReals
        for (k, v) in RunSession.trainingReals(for: a) where reals[k] == nil { reals[k] = v }
        var fallback = RunSession.defaultDimensions
        for (k, v) in RunSession.trainingDimensions { fallback[k] = v }
        // With a checkpoint the model's dimensions come from it; N_epochs still has its default.
        if checkpoint != nil, dims["N_epochs"] == nil { dims["N_epochs"] = RunSession.trainingDimensions["N_epochs"] }
        do {
            var elements = try Self.datasetElements(args, "input", a, dtype: options.dtype) ?? [:]
            let builtIn = elements.isEmpty
            if builtIn { elements = RunSession.defaultDatasetElements(a) }
            let (inputs, count) = try RunSession.dataset(elements, a)
            guard count > 0 else { output.err("algo run: error: the dataset is empty"); return .usage }
            dims = try RunSession.datasetDimensions(a, count: count, given: dims)
            let nv = dims["N_V"] ?? (checkpoint == nil ? fallback["N_V"] : nil)
            func checkVocabulary(_ elements: [String: [Int: [Int]]], _ what: String) throws {
                if let nv, let bad = elements.values.flatMap({ $0.values.flatMap { $0 } }).first(where: { $0 < 1 || $0 > nv }) {
                    throw RuntimeError(.invalidInput, "token \(bad) of \(what) is outside the vocabulary 1…\(nv) (set N_V with --set)", at: a.syntax.title.span)
                }
            }
            try checkVocabulary(elements, "the dataset")
            // `--held-out`: a second dataset, never trained on; its loss before and after, and every
            // `--eval-every N` steps (an evaluation pass at that step's θ, with its own evaluator).
            var heldOut: (inputs: [String: Value], dims: [String: Int])? = nil
            if let held = try Self.datasetElements(args, "held-out", a, dtype: options.dtype) {
                try checkVocabulary(held, "the held-out set")
                let hInputs: [String: Value], hCount: Int
                do { (hInputs, hCount) = try RunSession.dataset(held, a) } catch var e as RuntimeError {
                    e.diagnostic.message = "`--held-out`: " + e.diagnostic.message
                    throw e
                }
                guard hCount > 0 else { output.err("algo run: error: the held-out set is empty"); return .usage }
                if let b = dims["B"], RunSession.isMinibatch(a), hCount % b != 0 {
                    output.err("algo run: error: the held-out set has \(hCount) sequence\(hCount == 1 ? "" : "s"), which the batch size B = \(b) does not divide"); return .usage
                }
                var given = dims
                given["N_data"] = nil; given["N_batches"] = nil
                heldOut = (hInputs, try RunSession.datasetDimensions(a, count: hCount, given: given))
            }
            if args.value("eval-every") != nil, heldOut == nil {
                output.err("algo run: error: `--eval-every` needs a held-out set: give it with `--held-out 'x_1=…;x_2=…'` (the `--input` dataset is all training data)")
                return .usage
            }

            // Training flags: checkpoints, resume, progress, the loss curve.
            let flags: TrainingFlags
            switch TrainingFlags.read(args) {
            case .success(let f): flags = f
            case .failure(let f): return f.report(reporter, &output)
            }
            guard let progress = ProgressOptions(args, &output) else { return .usage }
            let merged = dims.merging(fallback) { a, _ in a }
            let identity = TrainingIdentity.make(loaded, dims: merged, reals: reals, inputs: inputs, dtype: options.dtype)
            let trainingOnly: Set<String> = ["N_data", "N_epochs", "B", "N_batches"]
            var modelReals = reals
            for k in RunSession.trainingRealNames { modelReals[k] = nil }
            let checkpointMeta = Self.metadata(source, dims: merged, reals: modelReals,
                                               usedDims: RunReport.dimensionsUsed(a, loaded.program).union(RunReport.modelDimensions(loaded)).filter { merged[$0] != nil && !trainingOnly.contains($0) }.sorted(), a,
                                               tokenizer: tokenizer)
            let resume = try flags.resume.map { try TrainingCheckpoint.snapshot(from: $0.checkpoint, path: $0.path, expecting: identity, at: a.syntax.title.span) }
            let perEpoch = RunSession.tokensPerStep(a, inputs: inputs, dims: merged)
            if let epochs = merged["N_epochs"] { try SizeBudget.checkSteps(epochs: epochs, stepsPerEpoch: perEpoch.count, at: a.syntax.title.span) }
            let total = merged["N_epochs"].map { $0 * perEpoch.count }
            if let k = resume?.step, let total, k > total {
                throw RuntimeError(.resumeMismatch, "`\(flags.resume?.path ?? "")` is at step \(k), but this run has only \(total) steps", at: a.syntax.title.span)
            }
            var display = progress.display(total: total)
            let sink = ProgressSink(live: output.live)
            var savedStep: Int? = nil
            let heldOutLoss = heldOut.map { h in
                { (θ: [(name: String, tensor: Tensor)]) throws -> Double in
                    try RunSession.evaluationPass(loaded, dims: h.dims, reals: reals, inputs: h.inputs, parameters: Dictionary(θ, uniquingKeysWith: { a, _ in a }),
                                                  options: options, fallback: fallback).evaluator.meanLossPerToken
                }
            }
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

            let start = Date()
            let r: RunSession.TrainingResult
            // `--params` tensors θ does not read: warning E0552 after the run, an error with --strict.
            let unread = UnreadParameters(args)
            do {
                r = try RunSession.train(loaded, dims: dims, reals: reals, inputs: inputs,
                                         parameters: checkpoint.map(RunSession.parameters(from:)), options: options, fallback: fallback,
                                         training: TrainingRun(monitor: monitor, resume: resume),
                                         unusedParameters: { try unread.report($0, loaded.target) })
                sink.write(display.finish())
                if !sink.live { output.err(sink.buffered) }
                reporter.emit(unread.warnings, &output)
            } catch let e as FileProblem {
                sink.write(display.finish())
                if !sink.live { output.err(sink.buffered) }
                return e.report(reporter, &output)
            } catch {
                sink.write(display.finish())
                if !sink.live { output.err(sink.buffered) }
                let code = Self.report(Self.namingCheckpoints(error, args), &reporter, &output)
                if let path = flags.checkpointPath {
                    output.err(savedStep.map { "the last good checkpoint, step \($0), is kept in \(path)" } ?? "no checkpoint was written to \(path) before the run stopped")
                }
                return code
            }
            let seconds = Date().timeIntervalSince(start)
            let usedDims = RunReport.dimensionsUsed(a, loaded.program).union(RunReport.modelDimensions(loaded)).filter { r.dims[$0] != nil }.sorted()
            var s = "\(a.syntax.title.number.isEmpty ? "" : "Algorithm \(a.number): ")\(RunReport.signature(a, source))   (\(path))\n"
            let shown = usedDims.map { "\($0) = \(r.dims[$0]!)" } + a.hyperparameterNames.filter { reals[$0] != nil }.map { "\($0) = \(reals[$0]!)" }
            s += "hyperparameters: \(shown.joined(separator: ", "))"
            s += checkpoint == nil ? (setGiven ? "  (defaults and --set)\n" : "  (embedded defaults for training; change with --set)\n") : "  (from the checkpoint and --set)\n"
            s += "dataset: \(count) \(RunSession.datasetInputs(a).count > 1 ? "sequence pairs" : "sequences")"
            s += builtIn ? " (built-in; give your own with --input 'x_1=3,1,4;x_2=…')\n" : " (--input)\n"
            for (name, _) in RunSession.datasetInputs(a) {
                for (i, ids) in (elements[name] ?? [:]).sorted(by: { $0.key < $1.key }).prefix(4) {
                    s += "  \(name.prefix { $0 != "_" })_\(i) = \(RunReport.brief(.tokens(ids)))\n"
                }
                if count > 4 { s += "  …\n" }
            }
            let numbers = r.parameters.reduce(0) { $0 + $1.tensor.count }
            s += "parameters: \(r.parameters.count) tensors, \(numbers) numbers"
            s += checkpoint == nil ? ", initialised: weights 𝒩(0, 0.02²), biases and β 0, γ 1 (seed \(options.seed))\n" : " from \(args.value("params")!)\n"
            let method = a.hyperparameterNames.contains("β_1") ? "Adam" : "SGD"
            if RunSession.isMinibatch(a) {
                s += "training: \(r.stepLosses.count) \(method) steps (N_epochs = \(r.dims["N_epochs"] ?? 0) × N_batches = \(r.dims["N_batches"] ?? 0), one batch of B = \(r.dims["B"] ?? 0) sequences per step, loss averaged over the batch)\n"
            } else {
                s += "training: \(r.stepLosses.count) \(method) steps (N_epochs = \(r.dims["N_epochs"] ?? 0) × N_data = \(count), one sequence per step)\n"
            }
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
            if let k = r.stoppedAtStep {
                _ = writeLossSVG(&output)
                s += "stopped at step \(k)\(total.map { " of \($0)" } ?? "") (Ctrl-C)\n"
                s += String(format: "loss before: %.4f nats per predicted token\n", r.lossBeforePerToken)
                if options.profile { s += ProfileTable.text(r.evaluator.profile, title: "training pass, until the stop") }
                output.out(s)
                if let path = flags.checkpointPath {
                    output.err("algo run: stopped at step \(k); the checkpoint \(path) holds it: run the same command with `--resume \(path)` to continue")
                } else {
                    output.err("algo run: stopped at step \(k); no checkpoint was saved (run with `--checkpoint FILE` to be able to `--resume FILE`)")
                }
                return .interrupted
            }
            s += String(format: "loss before: %.4f nats per predicted token\n", r.lossBeforePerToken)
            s += String(format: "loss after:  %.4f nats per predicted token\n", r.lossAfterPerToken)
            s += "  (the mean of −log P over every token the algorithm's loss(θ) predicts in the dataset"
            s += a.hyperparameterNames.contains("p_mask") ? "; the same masks (seed \(options.seed)) before and after)\n" : ")\n"
            if let h = heldOutLoss, let heldCount = heldOut?.dims["N_data"] {
                if !r.initial.isEmpty { s += String(format: "held-out loss before: %.4f nats per predicted token\n", try h(r.initial)) }
                s += String(format: "held-out loss after:  %.4f nats per predicted token (--held-out: %d %@, not trained on)\n", try h(r.parameters), heldCount, heldCount == 1 ? "sequence" : "sequences")
            }
            s += String(format: "time: %.1f ms (%@)\n", seconds * 1000, options.dtype == .f64 ? "float64" : "float32")
            if options.profile { s += ProfileTable.text(r.evaluator.profile, title: "the training pass") }
            output.out(s)

            var metaDims = r.dims
            metaDims["N_data"] = nil; metaDims["N_epochs"] = nil; metaDims["B"] = nil; metaDims["N_batches"] = nil
            let modelDims = usedDims.filter { !["N_data", "N_epochs", "B", "N_batches"].contains($0) }
            for flag in ["output", "save-params"] {
                guard let out = args.value(flag) else { continue }
                if case .failure(let e) = Checkpoint.write(tensors: r.parameters, metadata: Self.metadata(source, dims: metaDims, reals: modelReals, usedDims: modelDims, a, tokenizer: tokenizer), to: out) {
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
}
