import AlgoDiagnostics
import AlgoEval
import AlgoSema
import AlgoSyntax
import AlgoTensor
import Foundation

/// `algo run FILE.algo`: checks the file, then evaluates its algorithm from the `.algo` text.
/// Hyperparameters from embedded defaults, the checkpoint's metadata or `--set`; parameters from
/// `--params` or initialised (γ = 1, β and biases 0, other weights 𝒩(0, 0.02²), `--seed`); inputs
/// from `--input`, the checkpoint's `input.*` tensors or defaults. Exit 0, 1 on diagnostics.
struct RunCommand: Command {
    var name: String { "run" }
    var summary: String { "run an algorithm of the paper from its .algo text" }
    var usage: String {
        """
        usage: algo run FILE.algo [--set NAME=VALUE,…] [--params IN.safetensors] [--input NAME=VALUE;…]
                                  [--tokenizer FILE_OR_DIR] [--text TEXT] [--samples N] [--top-k K] [--strict]
                                  [--output OUT.safetensors] [--precision f32|f64] [--seed N] [--profile]
                                  [--rules all|none|-NAME,…] [--dump plan]

        Checks FILE.algo (calls resolve in its directory), then runs its algorithm. Without flags it
        runs on embedded defaults (N_V = 65, ℓ_max = 64, L = 2, H = 4, d_e = 64, d_mlp = 256,
        d_attn = d_mid = 16, a short token sequence) with freshly initialised parameters.
        `--params` reads parameters (named as `algo params` lists them), and the checkpoint's
        `input.*` tensors and `algo.hyperparameter.*` metadata. `--input x=3,1,4` gives token ids
        (1-based); several inputs are separated by `;`. `--set Mask=causal` or `Mask=1` for Alg. 4, 5.
        `--output` writes what the algorithm returns as `output.NAME` (safetensors, atomically, with
        the hyperparameters and the SHA-256 of the .algo source in its metadata).
        A `--params` tensor the algorithm does not read is warning E0552 (an error with `--strict`).
        Text: `--tokenizer` reads `algo`'s vocabulary files, a HuggingFace tokenizer.json, GPT-2's
        vocab.json + merges.txt, or their directory (a checkpoint of an experiment, a training run or
        `algo convert` carries its own); `--text "The model"` encodes the one token-sequence input
        (`--text x=…;z=…` names them). Sampling: `--top-k K` draws among the K most likely tokens,
        `--samples N` prints N samples (seeds seed … seed+N−1).
        Training (Algorithms 11–13): the dataset is `--input 'x_1=3,1,4;x_2=2,7'` (EDTraining also
        `z_1=…`), else a built-in one; a bare run trains a tiny model (N_V = 12, d_e = 16, L = 1,
        N_epochs = 40, η = 0.05) and prints the loss before and after; `--output`/`--save-params`
        write θ̂ under the names of `algo params`. Adam (DTrainingAdam): β_1 = 0.9, β_2 = 0.999,
        ε = 1e-8, η = 0.01; minibatches (DTrainingMinibatch): B = 2, N_batches = N_data/B.
        While training, a terminal shows one progress line (step/total, loss, tokens/s, ETA; no colour
        with NO_COLOR); otherwise a log line every `--log-every` steps goes to stderr. `--checkpoint F`
        saves θ and the whole training state (step, Adam's moments, the random generator, the losses)
        atomically every `--checkpoint-every` steps and at the end; `--resume F` with the same command
        line continues exactly where F was written (bit-identical to an uninterrupted run; a checkpoint
        of other .algo text, hyperparameters or dataset is refused, E0510–E0514). Ctrl-C stops at the
        next step, saves the checkpoint and exits 130; a second Ctrl-C exits at once. A loss that
        becomes NaN/∞ stops the run (E0503) and keeps the last checkpoint. `--loss-svg F` plots the
        loss of every step and its moving average. `--held-out 'x_1=…;…'` is a second dataset, never
        trained on: its loss before and after, and every `--eval-every N` steps.
        Experiments (`Experiment N:` files, Algorithms/Experiments/): run line by line, printing each
        value; `--data PATH` replaces the data file, `--set` the header's values, `--output` the
        checkpoint's path, `--params` the θ of `initialise(…)`; each training line takes the training
        flags above, and `--eval-every N` adds the held-out loss of its later `evaluate(…, θ̂)` line.
        Losses are in nats per predicted token. Sources/AlgoCLI/README.md: which flag applies to what.
        Fast paths are rewrite rules matched at load time (Sources/AlgoEval/Lowering/README.md):
        `--dump plan` lists where each matched, `--rules none` or `--rules -layer-norm,…` turns them off.
        """
    }
    var flags: [Arguments.Spec] {
        [
            Arguments.Spec("set", value: true, help: "hyperparameter values, `d_e=64,H=4,τ=0.8`"),
            Arguments.Spec("params", value: true, help: "parameters (and inputs) from a safetensors checkpoint"),
            Arguments.Spec("input", value: true, help: "inputs, `x=3,1,4;z=2,7` (token ids are 1-based)"),
            Arguments.Spec("text", value: true, help: "text inputs through `--tokenizer`, `x=Once upon` or just `Once upon` for one token-sequence input (no bos/eos added)"),
            Arguments.Spec("tokenizer", value: true, help: "a tokenizer: `algo`'s JSON vocabulary, a HuggingFace tokenizer.json, GPT-2's vocab.json (+ merges.txt) or their directory; encodes `--text`, decodes token outputs, sets N_V"),
            Arguments.Spec("output", value: true, help: "write the result to a safetensors file"),
            Arguments.Spec("data", value: true, help: "an experiment's data file, instead of the one its header names"),
            Arguments.Spec("save-params", value: true, help: "write the parameters used (e.g. initialised) to a safetensors file"),
            Arguments.Spec("precision", value: true, help: "`f32` (default) or `f64`"),
            Arguments.Spec("seed", value: true, help: "seed of parameter initialisation and sampling (default 0)"),
            Arguments.Spec("max-steps", value: true, help: "step limit of `while` loops (default 256)"),
            Arguments.Spec("top-k", value: true, help: "`sample` draws among the k most likely tokens only (beside τ)"),
            Arguments.Spec("samples", value: true, help: "run a sampling algorithm N times (seeds seed … seed+N−1, the same parameters) and print every sample"),
            Arguments.Spec("strict", help: "a `--params` tensor the algorithm does not use is an error (E0552), not a warning"),
            Arguments.Spec("check-finite", help: "also report infinities produced by a line (NaN is always reported)"),
            Arguments.Spec("profile", help: "print time and operations per source line"),
            Arguments.Spec("rules", value: true, help: "rewrite rules (fast paths): `all` (default), `none`, or `-NAME,…` to turn some off"),
            Arguments.Spec("dump", value: true, help: "`plan`: print which rewrite rules matched at which lines, and do not run"),
            Arguments.Spec("checkpoint", value: true, help: "training: save θ and the training state to this file (atomically) for --resume"),
            Arguments.Spec("checkpoint-every", value: true, help: "training: steps between checkpoints (default 100; also at the end and on Ctrl-C)"),
            Arguments.Spec("resume", value: true, help: "training: continue the run that wrote this --checkpoint file (same command line)"),
            Arguments.Spec("loss-svg", value: true, help: "training: write the loss curve (every step and a moving average) as SVG"),
            Arguments.Spec("log-every", value: true, help: "training: steps between log lines when stderr is not a terminal (default a tenth of the run)"),
            Arguments.Spec("held-out", value: true, help: "training: a held-out dataset, `x_1=3,1,4;x_2=…` as --input, never trained on: its loss before and after (and with --eval-every)"),
            Arguments.Spec("eval-every", value: true, help: "training: the held-out loss (--held-out, or the set an experiment's later `evaluate(…, θ̂)` line names) every N steps, on the progress and the --loss-svg plot"),
            KernelOptions.threadsFlag,
            DiagnosticFormat.flag,
        ]
    }

    /// Flag handling around `Pipeline`: read → parse → check → lower (`Pipeline.load`), then an
    /// experiment, a training run or a forward run (`Pipeline.run`), then the report (`RunReport`).
    func run(_ args: Arguments, _ output: inout Output) -> ExitCode {
        guard let format = DiagnosticFormat.from(args, &output) else { return .usage }
        guard let path = singleFile(args, &output) else { return .usage }
        do {
            let options = try Self.options(args)
            if let p = OutputPaths.preflight(args, flags: OutputPaths.runFlags) { return p.report(Reporter(format: format), &output) }
            let set = try DimensionOverrides.parse(args.value("set"), accepts: .numbersAndMask).mapError { UsageError($0.message) }.get()
            var reporter = Reporter(format: format)
            let (files, failures) = reporter.load([path])                         // read, once
            if !failures.isEmpty { reporter.emit(failures, &output); return .input }
            let source = files[0]
            let checkpoint: Checkpoint?, tokenizer: (any Tokenizer)?
            do { (checkpoint, tokenizer) = try Self.sideFiles(args) } catch let e as FileProblem { return e.report(reporter, &output) }
            let loaded: LoadedProgram
            switch Pipeline.load(source, values: set.dims) {                       // parse → check → lower
            case .success(let l): loaded = l
            case .failure(let f): return Self.report(f, &reporter, &output)
            }
            reporter.add(loaded.sources)   // a runtime error or warning in a callee renders with its snippet
            if args.value("dump") == "plan" {
                output.out(loaded.program.planDump(target: loaded.target, disabled: options.disabledRules))
                return .ok
            }
            if !loaded.diagnostics.isEmpty { reporter.emit(loaded.diagnostics, &output) }   // the check's warnings (an unused parameter, E0308)
            let experiment = ExperimentRunner.isExperiment(loaded)   // an experiment checks `--set` against its header
            let kind: RunKind = experiment ? .experiment : RunSession.isTraining(loaded.target) ? .training : .forward
            if let e = kind.refusal(args, loaded.target.name) { throw e }
            if !experiment, let e = set.validate(against: loaded.program.settableNames, for: "`\(loaded.target.name)` or what it calls") { throw UsageError(e.message) }
            if experiment {
                return runExperiment(loaded, args, options, setDims: set.dims, setReals: set.reals, checkpoint: checkpoint, &reporter, &output)
            }
            let (dims, reals, mask) = Self.hyperparameters(loaded, set, checkpoint: checkpoint, tokenizer: tokenizer)
            if RunSession.isTraining(loaded.target) {
                return runTraining(args, &output, &reporter, loaded: loaded, source: source, path: path, checkpoint: checkpoint, tokenizer: tokenizer,
                                   dims: dims, reals: reals, setGiven: !set.dims.isEmpty || !set.reals.isEmpty, options: options)
            }
            do {
                let inputs = try Self.inputs(args, loaded.target, checkpoint: checkpoint, tokenizer: tokenizer, dtype: options.dtype)
                var setup = RunSetup(dims: dims, reals: reals, inputs: inputs, parameters: checkpoint.map(RunSession.parameters(from:)),
                                     mask: mask, options: options, fallback: RunSession.defaultDimensions, defaultInputs: true)
                let unread = UnreadParameters(args)
                setup.unusedParameters = { try unread.report($0, loaded.target) }
                let start = Date()
                let result = try Pipeline.run(loaded, setup)
                var samples: [(seed: UInt64, value: Value)] = []
                if let n = try Self.samples(args), n > 1, case .tokens = result.value {
                    // More samples: the same parameters and inputs, the next seeds.
                    setup.parameters = result.parameters.mapValues(\.value)
                    setup.inputs = result.inputs
                    for k in 1..<n {
                        setup.options.seed = options.seed &+ UInt64(k)
                        samples.append((setup.options.seed, try Pipeline.run(loaded, setup).value))
                    }
                }
                var report = RunReport(loaded: loaded, result: result, reals: reals, checkpoint: checkpoint == nil ? nil : args.value("params"),
                                       setGiven: !set.dims.isEmpty || !set.reals.isEmpty, options: options, tokenizer: tokenizer,
                                       seconds: Date().timeIntervalSince(start))
                report.samples = samples
                reporter.emit(unread.warnings + result.evaluator.warnings, &output)
                output.out(report.text)
                return Self.writeOutputs(args, report, reporter, &output)
            } catch let e as UsageError {
                throw e
            } catch {
                return Self.report(Self.namingCheckpoints(error, args), &reporter, &output)
            }
        } catch let e as UsageError {
            output.err("algo run: error: \(e.message)")
            return .usage
        } catch {
            output.err("algo run: error: \(error)")
            return .usage
        }
    }

    /// `--samples N` (1 to 10000), or nil when not given.
    static func samples(_ args: Arguments) throws -> Int? {
        guard let s = args.value("samples") else { return nil }
        guard let v = Int(s), v >= 1, v <= 10_000 else { throw UsageError("`--samples` takes a number from 1 to 10000") }
        return v
    }

    /// `--precision`, `--seed`, `--max-steps`, `--top-k`, `--check-finite`, `--profile` (and `--samples` checked).
    static func options(_ args: Arguments) throws -> RunOptions {
        var options = RunOptions()
        switch args.value("precision") ?? "f32" {
        case "f32": options.dtype = .f32
        case "f64": options.dtype = .f64
        case let p: throw UsageError("`--precision` takes `f32` or `f64`, not `\(p)`")
        }
        if let s = args.value("seed") { guard let v = UInt64(s) else { throw UsageError("`--seed` takes a natural number") }; options.seed = v }
        if let s = args.value("max-steps") { guard let v = Int(s), v >= 0 else { throw UsageError("`--max-steps` takes a natural number") }; options.maxSteps = v }
        if let s = args.value("top-k") { guard let v = Int(s), v >= 1 else { throw UsageError("`--top-k` takes a number ≥ 1") }; options.topK = v }
        _ = try samples(args)
        options.checkFinite = args.has("check-finite")
        options.profile = args.has("profile")
        if let r = args.value("rules") {
            guard let off = RuleID.disabled(by: r) else {
                throw UsageError("`--rules` takes `all`, `none` or `-NAME,…` with NAME among \(RuleID.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            options.disabledRules = off
        }
        if let d = args.value("dump"), d != "plan" { throw UsageError("`--dump` takes `plan`") }
        return options
    }

    /// The checkpoint of `--params` and the tokenizer of `--tokenizer`, each read once; without
    /// `--tokenizer`, the tokenizer the checkpoint carries (experiments, training runs, `algo convert`).
    static func sideFiles(_ args: Arguments) throws -> (Checkpoint?, (any Tokenizer)?) {
        var checkpoint: Checkpoint? = nil, tokenizer: (any Tokenizer)? = nil
        if let p = args.value("params") {
            switch Checkpoint.read(p) {
            case .success(let c): checkpoint = c
            case .failure(let e): throw FileProblem.checkpoint(p, flag: "params", e)
            }
        }
        if let t = args.value("tokenizer") {
            switch TokenizerFile.load(from: t) {
            case .success(let tk): tokenizer = tk
            case .failure(.io(let why)): throw FileProblem.unreadable(t, flag: "tokenizer", why)
            case .failure(let e):
                var d = Diagnostic(.tokenizerFile, "`\(t)` is not a tokenizer `algo` reads: \(e)", at: Span(file: t, start: 0, end: 0))
                d.notes.append("`--tokenizer` reads `algo`'s vocabulary files, a HuggingFace tokenizer.json (byte-level BPE or WordPiece), GPT-2's vocab.json with merges.txt beside it, or a directory holding either")
                throw FileProblem(diagnostic: d, exit: .diagnostics)
            }
        } else if let p = args.value("params"), let t = checkpoint?.metadata[CheckpointMetadata.tokenizerKey] {
            switch TokenizerFile.parse(Array(t.utf8)) {
            case .success(let tk): tokenizer = tk
            case .failure(let e):
                let d = Diagnostic(.tokenizerFile, "the tokenizer in `\(p)` (`\(CheckpointMetadata.tokenizerKey)`) is not readable: \(e)", at: Span(file: p, start: 0, end: 0))
                throw FileProblem(diagnostic: d, exit: .diagnostics)
            }
        }
        if args.value("text") != nil && tokenizer == nil { throw UsageError("`--text` needs `--tokenizer FILE` (or a `--params` checkpoint that carries its tokenizer)") }
        return (checkpoint, tokenizer)
    }

    /// Dimensions, reals and the mask: the checkpoint's (with a checkpoint, dimensions come from it
    /// and its tensors, not the defaults), N_V of the tokenizer, then `--set`. `--set τ=1` parses as
    /// a natural number; a hyperparameter declared real is a real. A `Mask` hyperparameter not given is 1.
    static func hyperparameters(_ loaded: LoadedProgram, _ set: DimensionOverrides, checkpoint: Checkpoint?,
                                tokenizer: (any Tokenizer)?) -> (dims: [String: Int], reals: [String: Double], mask: MaskValue?) {
        var dims: [String: Int] = [:], reals = RunSession.defaultReals, mask = set.mask
        if let c = checkpoint {
            let h = RunSession.hyperparameters(from: c)
            dims = h.dims
            for (k, v) in h.reals { reals[k] = v }
            if mask == nil { mask = RunSession.mask(from: c) }
        }
        if let tk = tokenizer { dims["N_V"] = tk.vocabularySize }
        for (k, v) in set.dims { dims[k] = v }
        for (k, v) in set.reals { reals[k] = v }
        // Header defaults of real hyperparameters (`ε = 10⁻⁵`), where nothing else gave a value.
        for (k, v) in loaded.target.realDefaults where reals[k] == nil { reals[k] = v }
        for (k, v) in set.dims where loaded.target.isRealHyperparameter(k) || loaded.program.algorithms.contains(where: { $0.isRealHyperparameter(k) }) {
            dims[k] = nil; reals[k] = Double(v)
        }
        if mask == nil, loaded.target.hyperparameterNames.contains("Mask") { mask = .constant(1) }
        return (dims, reals, mask)
    }

    /// Inputs: the checkpoint's `input.*`, then `--input`, then `--text` through the tokenizer (the
    /// run fills the rest with defaults). `--text` without `NAME=` is the algorithm's one
    /// token-sequence input.
    static func inputs(_ args: Arguments, _ a: LoadedAlgorithm, checkpoint: Checkpoint?, tokenizer: (any Tokenizer)?, dtype: DType) throws -> [String: Value] {
        var inputs: [String: Value] = try checkpoint.map { try RunSession.inputs(from: $0, a, dtype: dtype, path: args.value("params") ?? "the checkpoint") } ?? [:]
        for part in (args.value("input") ?? "").split(separator: ";") {
            let kv = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces).precomposedStringWithCanonicalMapping }
            guard kv.count == 2 else { throw UsageError("`--input` takes `NAME=VALUE;…`, not `\(part)`") }
            guard let kind = RunSession.kind(of: kv[0], a) else {
                throw UsageError("`\(a.name)` has no input `\(kv[0])` (inputs: \(RunSession.inputKinds(a).map(\.name).joined(separator: ", ")))")
            }
            inputs[kv[0]] = try RunSession.parseInput(kv[1], kind: kind, name: kv[0], dtype: dtype, at: a.syntax.title.span)
        }
        if let text = args.value("text"), let tk = tokenizer {
            // `NAME=TEXT;…`, or the whole text for an algorithm with one token-sequence input.
            let tokenInputs = RunSession.inputKinds(a).filter { $0.kind == .tokens }.map(\.name)
            let named = text.split(separator: "=", maxSplits: 1).first.map { tokenInputs.contains($0.trimmingCharacters(in: .whitespaces).precomposedStringWithCanonicalMapping) } ?? false
            if !named && tokenInputs.count != 1 {
                throw UsageError("`--text` takes `NAME=TEXT;…` (`\(a.name)` has \(tokenInputs.count) token-sequence inputs)")
            }
            for part in named ? text.split(separator: ";").map(String.init) : [tokenInputs[0] + "=" + text] {
                let kv = part.split(separator: "=", maxSplits: 1).map(String.init)
                guard kv.count == 2 else { throw UsageError("`--text` takes `NAME=TEXT;…`") }
                let name = kv[0].trimmingCharacters(in: .whitespaces).precomposedStringWithCanonicalMapping
                guard RunSession.kind(of: name, a) == .tokens else { throw UsageError("`\(name)` is no token-sequence input of `\(a.name)`") }
                switch tk.encode(kv[1], wrap: false) {
                case .success(let ids): inputs[name] = .tokens(ids)
                case .failure(let e): throw UsageError("cannot encode `\(kv[1])`: \(e)")
                }
            }
        }
        return inputs
    }

    /// `--output` (what the algorithm returned, as `output.NAME`) and `--save-params` (θ as used).
    static func writeOutputs(_ args: Arguments, _ report: RunReport, _ reporter: Reporter, _ output: inout Output) -> ExitCode {
        let a = report.target, result = report.result
        let metadata = Self.metadata(report.loaded.source, dims: result.dims, reals: report.reals, usedDims: report.usedDims, a, tokenizer: report.tokenizer)
        if let out = args.value("output") {
            var tensors: [(name: String, tensor: Tensor)] = []
            switch result.value {
            case .tensor(let t): tensors = [("output." + a.outputName, t.value)]
            case .tokens(let ids): tensors = [("output." + a.outputName, Tensor(shape: [ids.count], values: ids.map(Double.init), dtype: .f64))]
            case .nat(let n): tensors = [("output." + a.outputName, Tensor(scalar: Double(n), dtype: .f64))]
            default: return FileProblem.unwritable(out, flag: "output", "the result is \(result.value.kindName), which a checkpoint does not hold").report(reporter, &output)
            }
            if case .failure(let e) = Checkpoint.write(tensors: tensors, metadata: metadata, to: out) {
                return FileProblem.unwritable(out, flag: "output", e.description).report(reporter, &output)
            }
            output.out("wrote output.\(a.outputName) to \(out)")
        }
        if let out = args.value("save-params") {
            let tensors = result.parameters.keys.sorted().map { (name: $0, tensor: result.parameters[$0]!.value) }
            if case .failure(let e) = Checkpoint.write(tensors: tensors, metadata: metadata, to: out) {
                return FileProblem.unwritable(out, flag: "save-params", e.description).report(reporter, &output)
            }
            output.out("wrote \(tensors.count) parameters to \(out)")
        }
        return .ok
    }

    /// A checkpoint's metadata: the hyperparameters, the source's SHA-256, the algorithm, and the
    /// tokenizer of the run, so that reading it back needs no `--tokenizer`.
    static func metadata(_ source: SourceFile, dims: [String: Int], reals: [String: Double], usedDims: [String], _ a: LoadedAlgorithm,
                         tokenizer: (any Tokenizer)? = nil) -> [String: String] {
        var h: [String: String] = [:]
        for d in usedDims { h[d] = String(dims[d]!) }
        for n in a.hyperparameterNames { if let r = reals[n] { h[n] = String(r) } }
        var extra = ["algo.algorithm": a.name]
        if let tokenizer { extra[CheckpointMetadata.tokenizerKey] = String(decoding: tokenizer.vocabularyFile(), as: UTF8.self) }
        return CheckpointMetadata.make(source: source.text, hyperparameters: h, extra: extra)
    }

    /// Prints what stopped a run: a runtime diagnostic (its span may point into a callee's file,
    /// e.g. layer_norm's line, which is then loaded for rendering), the diagnostics of a failed
    /// set-up, or any other error as one line. Always exit code 1.
    static func report(_ error: Error, _ reporter: inout Reporter, _ output: inout Output) -> ExitCode {
        switch error {
        case let e as RuntimeError:
            if !reporter.files.contains(where: { $0.path == e.diagnostic.span.file }) { _ = reporter.load([e.diagnostic.span.file]) }
            reporter.emit([e.diagnostic], &output)
        case let f as RunFailure:
            reporter.add(f.sources)
            reporter.emit(f.diagnostics, &output)
        default:
            output.err("algo run: error: \(error)")
        }
        return .diagnostics
    }

}
