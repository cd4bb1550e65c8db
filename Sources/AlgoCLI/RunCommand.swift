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
                                  [--output OUT.safetensors] [--precision f32|f64] [--seed N] [--profile]

        Checks FILE.algo (calls resolve in its directory), then runs its algorithm. Without flags it
        runs on embedded defaults (N_V = 65, ℓ_max = 64, L = 2, H = 4, d_e = 64, d_mlp = 256,
        d_attn = d_mid = 16, a short token sequence) with freshly initialised parameters.
        `--params` reads parameters (named as `algo params` lists them), and the checkpoint's
        `input.*` tensors and `algo.hyperparameter.*` metadata. `--input x=3,1,4` gives token ids
        (1-based); several inputs are separated by `;`. `--set Mask=causal` or `Mask=1` for Alg. 4, 5.
        `--output` writes what the algorithm returns as `output.NAME` (safetensors, atomically, with
        the hyperparameters and the SHA-256 of the .algo source in its metadata).
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
        loss of every step and its moving average.
        Experiments (`Experiment N:` files, Algorithms/Experiments/): run line by line, printing each
        value; `--data PATH` replaces the data file, `--set` the header's values, `--output` the
        checkpoint's path.
        A callee whose body is the paper's Algorithm 6 (LayerNorm.algo as shipped) runs in f32 as one
        fused layer norm (the same values up to rounding; `--profile` then lists no lines of it); an
        edited LayerNorm.algo, `--precision f64` and a non-finite result run its lines as written.
        """
    }
    var flags: [Arguments.Spec] {
        [
            Arguments.Spec("set", value: true, help: "hyperparameter values, `d_e=64,H=4,τ=0.8`"),
            Arguments.Spec("params", value: true, help: "parameters (and inputs) from a safetensors checkpoint"),
            Arguments.Spec("input", value: true, help: "inputs, `x=3,1,4;z=2,7` (token ids are 1-based)"),
            Arguments.Spec("text", value: true, help: "text inputs through `--tokenizer`, `x=Once upon` (no bos/eos added)"),
            Arguments.Spec("tokenizer", value: true, help: "a tokenizer: `algo`'s JSON vocabulary, a HuggingFace tokenizer.json, GPT-2's vocab.json (+ merges.txt) or their directory; encodes `--text`, decodes token outputs, sets N_V"),
            Arguments.Spec("output", value: true, help: "write the result to a safetensors file"),
            Arguments.Spec("data", value: true, help: "an experiment's data file, instead of the one its header names"),
            Arguments.Spec("save-params", value: true, help: "write the parameters used (e.g. initialised) to a safetensors file"),
            Arguments.Spec("precision", value: true, help: "`f32` (default) or `f64`"),
            Arguments.Spec("seed", value: true, help: "seed of parameter initialisation and sampling (default 0)"),
            Arguments.Spec("max-steps", value: true, help: "step limit of `while` loops (default 256)"),
            Arguments.Spec("top-k", value: true, help: "`sample` draws among the k most likely tokens only (beside τ)"),
            Arguments.Spec("samples", value: true, help: "run a sampling algorithm N times (seeds seed … seed+N−1, the same parameters) and print every sample"),
            Arguments.Spec("check-finite", help: "also report infinities produced by a line (NaN is always reported)"),
            Arguments.Spec("profile", help: "print time and operations per source line"),
            Arguments.Spec("strict", help: "a `--params` tensor the algorithm does not use is an error (E0552), not a warning"),
            Arguments.Spec("checkpoint", value: true, help: "training: save θ and the training state to this file (atomically) for --resume"),
            Arguments.Spec("checkpoint-every", value: true, help: "training: steps between checkpoints (default 100; also at the end and on Ctrl-C)"),
            Arguments.Spec("resume", value: true, help: "training: continue the run that wrote this --checkpoint file (same command line)"),
            Arguments.Spec("loss-svg", value: true, help: "training: write the loss curve (every step and a moving average) as SVG"),
            Arguments.Spec("log-every", value: true, help: "training: steps between log lines when stderr is not a terminal (default a tenth of the run)"),
            DiagnosticFormat.flag,
        ]
    }

    func run(_ args: Arguments, _ output: inout Output) -> ExitCode {
        guard let format = DiagnosticFormat.from(args, &output) else { return .usage }
        guard let path = singleFile(args, &output) else { return .usage }
        var options = RunOptions()
        switch args.value("precision") ?? "f32" {
        case "f32": options.dtype = .f32
        case "f64": options.dtype = .f64
        case let p: output.err("algo run: error: `--precision` takes `f32` or `f64`, not `\(p)`"); return .usage
        }
        if let s = args.value("seed") { guard let v = UInt64(s) else { output.err("algo run: error: `--seed` takes a natural number"); return .usage }; options.seed = v }
        if let s = args.value("max-steps") { guard let v = Int(s), v >= 0 else { output.err("algo run: error: `--max-steps` takes a natural number"); return .usage }; options.maxSteps = v }
        if let s = args.value("top-k") { guard let v = Int(s), v >= 1 else { output.err("algo run: error: `--top-k` takes a number ≥ 1"); return .usage }; options.topK = v }
        var samples = 1
        if let s = args.value("samples") { guard let v = Int(s), v >= 1, v <= 10_000 else { output.err("algo run: error: `--samples` takes a number from 1 to 10000"); return .usage }; samples = v }
        options.checkFinite = args.has("check-finite")
        options.profile = args.has("profile")

        // --set: natural numbers are dimensions, other numbers reals (τ), Mask=causal|1.
        var setDims: [String: Int] = [:], setReals: [String: Double] = [:]
        var mask: MaskValue? = nil
        if let set = args.value("set") {
            for part in set.split(separator: ",") {
                let kv = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces).precomposedStringWithCanonicalMapping }
                guard kv.count == 2, !kv[0].isEmpty else { output.err("algo run: error: `--set` takes `NAME=VALUE,…`, not `\(part)`"); return .usage }
                if kv[0] == "Mask" {
                    guard let m = RunSession.maskValue(kv[1]) else { output.err("algo run: error: `Mask` takes `1`, `0` or `causal`"); return .usage }
                    mask = m
                } else if let i = Int(kv[1]), i >= 0 { setDims[kv[0]] = i }
                else if let d = Double(kv[1]) { setReals[kv[0]] = d }
                else { output.err("algo run: error: `--set \(kv[0])=\(kv[1])`: not a number"); return .usage }
            }
        }

        var reporter = Reporter(format: format)
        let (files, failures) = reporter.load([path])
        if !failures.isEmpty { reporter.emit(failures, &output); return .input }
        let source = files[0]

        // The checkpoint, if any.
        var checkpoint: Checkpoint? = nil
        if let p = args.value("params") {
            switch Checkpoint.read(p) {
            case .success(let c): checkpoint = c
            case .failure(let e): output.err("algo run: error: cannot read `\(p)`: \(e)"); return .input
            }
        }
        var tokenizer: (any Tokenizer)? = nil
        if let t = args.value("tokenizer") {
            switch Self.loadTokenizer(t) {
            case .success(let tk): tokenizer = tk
            case .failure(let d): reporter.emit([d], &output); return d.code == .tokenizerFile ? .diagnostics : .input
            }
        }
        // A checkpoint may carry its tokenizer (experiments, `algo convert`).
        if tokenizer == nil, let t = checkpoint?.metadata[CheckpointMetadata.tokenizerKey] {
            switch TokenizerFile.parse(Array(t.utf8)) {
            case .success(let tk): tokenizer = tk
            case .failure(let e):
                reporter.emit([Diagnostic(.tokenizerFile, "the tokenizer in `\(args.value("params") ?? "")` is not readable: \(e)",
                                          at: Span(file: args.value("params") ?? "", start: 0, end: 0))], &output)
                return .diagnostics
            }
        }
        if args.value("text") != nil && tokenizer == nil {
            output.err("algo run: error: `--text` needs `--tokenizer FILE` (or a `--params` checkpoint that carries its tokenizer)"); return .usage
        }
        // Dimensions: the checkpoint's and --set; then those fixed by the given tensors; then the
        // embedded defaults for the rest (RunSession.run's `fallback`).
        var dims: [String: Int] = [:], reals = RunSession.defaultReals
        if let c = checkpoint {
            let h = RunSession.hyperparameters(from: c)
            // With a checkpoint, dimensions come from it (metadata and tensor shapes), not the defaults.
            dims = h.dims
            for (k, v) in h.reals { reals[k] = v }
            if mask == nil { mask = RunSession.mask(from: c) }
        }
        if let tk = tokenizer { dims["N_V"] = tk.vocabularySize }
        for (k, v) in setDims { dims[k] = v }
        for (k, v) in setReals { reals[k] = v }

        let loaded: LoadedProgram
        switch RunSession.load(path: path, values: setDims) {
        case .success(let l): loaded = l
        case .failure(let f):
            reporter.emit(f.diagnostics, &output)
            return .diagnostics
        }
        if ExperimentRunner.isExperiment(loaded) {
            return runExperiment(loaded, args, options, setDims: setDims, setReals: setReals, &reporter, &output)
        }
        let a = loaded.target
        // Header defaults of real hyperparameters (`ε = 10⁻⁵`), where nothing else gave a value.
        for (k, v) in a.realDefaults where reals[k] == nil { reals[k] = v }
        // `--set τ=1` parses as a natural number; a hyperparameter declared real is a real.
        for (k, v) in setDims where a.isRealHyperparameter(k) || loaded.program.algorithms.contains(where: { $0.isRealHyperparameter(k) }) {
            dims[k] = nil; reals[k] = Double(v)
        }
        if mask == nil, a.hyperparameterNames.contains("Mask") { mask = .constant(1) }
        if RunSession.isTraining(a) {
            return runTraining(args, &output, &reporter, loaded: loaded, source: source, path: path, checkpoint: checkpoint, tokenizer: tokenizer,
                               dims: dims, reals: reals, setGiven: !setDims.isEmpty || !setReals.isEmpty, options: options)
        }

        do {
            // Inputs: checkpoint `input.*`, then defaults (bare run), then `--input`.
            var inputs: [String: Value] = [:]
            var defaulted: [String] = []
            if let c = checkpoint { inputs = RunSession.inputs(from: c, a, dtype: options.dtype) }
            var given: [(String, String)] = []
            if let text = args.value("input") {
                for part in text.split(separator: ";") {
                    let kv = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces).precomposedStringWithCanonicalMapping }
                    guard kv.count == 2 else { output.err("algo run: error: `--input` takes `NAME=VALUE;…`, not `\(part)`"); return .usage }
                    given.append((kv[0], kv[1]))
                }
            }
            for (k, v) in given {
                guard let kind = RunSession.kind(of: k, a) else {
                    output.err("algo run: error: `\(a.name)` has no input `\(k)` (inputs: \(RunSession.inputKinds(a).map(\.name).joined(separator: ", ")))")
                    return .usage
                }
                inputs[k] = try RunSession.parseInput(v, kind: kind, name: k, dtype: options.dtype, at: a.syntax.title.span)
            }
            if let text = args.value("text"), let tk = tokenizer {
                // `NAME=TEXT;…`, or the whole text for an algorithm with one token-sequence input.
                let tokenInputs = RunSession.inputKinds(a).filter { $0.kind == .tokens }.map(\.name)
                let named = text.split(separator: "=", maxSplits: 1).first.map { tokenInputs.contains($0.trimmingCharacters(in: .whitespaces).precomposedStringWithCanonicalMapping) } ?? false
                if !named && tokenInputs.count != 1 {
                    output.err("algo run: error: `--text` takes `NAME=TEXT;…` (`\(a.name)` has \(tokenInputs.count) token-sequence inputs)"); return .usage
                }
                for part in named ? text.split(separator: ";").map(String.init) : [tokenInputs[0] + "=" + text] {
                    let kv = part.split(separator: "=", maxSplits: 1).map(String.init)
                    guard kv.count == 2 else { output.err("algo run: error: `--text` takes `NAME=TEXT;…`"); return .usage }
                    let name = kv[0].trimmingCharacters(in: .whitespaces).precomposedStringWithCanonicalMapping
                    guard RunSession.kind(of: name, a) == .tokens else { output.err("algo run: error: `\(name)` is no token-sequence input of `\(a.name)`"); return .usage }
                    switch tk.encode(kv[1], wrap: false) {
                    case .success(let ids): inputs[name] = .tokens(ids)
                    case .failure(let e): output.err("algo run: error: cannot encode `\(kv[1])`: \(e)"); return .usage
                    }
                }
            }
            var known = dims
            var shapes: [String: [Int]] = [:]
            for (k, v) in inputs { if case .tensor(let t) = v { shapes[k] = t.shape } }
            ParameterLayout.inferDimensions(a, program: loaded.program, parameters: checkpoint.map { RunSession.parameters(from: $0).mapValues(\.shape) } ?? [:],
                                            inputs: shapes, into: &known)
            for (k, v) in RunSession.defaultDimensions where known[k] == nil { known[k] = v }
            let defaults = try RunSession.defaultInputs(a, dims: known, seed: options.seed, dtype: options.dtype, skip: Set(inputs.keys))
            for (k, v) in defaults where inputs[k] == nil { inputs[k] = v; defaulted.append(k) }

            if let c = checkpoint, let d = Self.unusedParameters(c, a, loaded.program, dims: known, path: args.value("params") ?? "", strict: args.has("strict")) {
                reporter.emit([d], &output)
                if d.severity == .error { return .diagnostics }
            }
            let start = Date()
            let result = try RunSession.run(loaded, dims: dims, reals: reals, inputs: inputs,
                                            parameters: checkpoint.map(RunSession.parameters(from:)), mask: mask, options: options,
                                            fallback: RunSession.defaultDimensions)
            let seconds = Date().timeIntervalSince(start)
            for w in result.evaluator.warnings where !reporter.files.contains(where: { $0.path == w.span.file }) { _ = reporter.load([w.span.file]) }
            reporter.emit(result.evaluator.warnings, &output)

            // Report.
            let dims = result.dims
            let usedDims = Self.dimensionsUsed(a, loaded.program).filter { dims[$0] != nil }.sorted()
            var s = "\(a.syntax.title.number.isEmpty ? "" : "Algorithm \(a.number): ")\(Self.signature(a, source))   (\(path))\n"
            if !usedDims.isEmpty || !a.hyperparameterNames.filter({ reals[$0] != nil }).isEmpty {
                let shown = usedDims.map { "\($0) = \(dims[$0]!)" } + a.hyperparameterNames.filter { reals[$0] != nil }.map { "\($0) = \(reals[$0]!)" }
                s += "hyperparameters: \(shown.joined(separator: ", "))"
                s += checkpoint == nil ? (setDims.isEmpty && setReals.isEmpty ? "  (embedded defaults; change with --set)\n" : "  (defaults and --set)\n") : "  (from the checkpoint and --set)\n"
            }
            let count = result.parameters.values.reduce(0) { $0 + $1.value.count }
            if !result.parameters.isEmpty {
                s += "parameters: \(result.parameters.count) tensors, \(count) numbers"
                s += checkpoint == nil ? ", initialised: weights 𝒩(0, 0.02²), biases and β 0, γ 1 (seed \(options.seed)); `algo params` lists them\n"
                                       : " from \(args.value("params")!)\n"
            }
            for (k, v) in inputs.sorted(by: { $0.key < $1.key }) {
                s += "input \(k) = \(Self.brief(v))\(defaulted.contains(k) ? "  (default)" : "")\n"
            }
            s += Self.describe(result.value, a, options.dtype)
            if let tk = tokenizer, case .tokens(let ids) = result.value, case .success(let text) = tk.decode(ids, specialTokens: .show) {
                s += "  as text: \"\(text)\"\n"
            }
            // More samples: the same parameters, the next seeds.
            if samples > 1, case .tokens = result.value {
                for k in 1..<samples {
                    var o = options
                    o.seed = options.seed &+ UInt64(k)
                    let r = try RunSession.run(loaded, dims: dims, reals: reals, inputs: inputs, parameters: result.parameters.mapValues(\.value),
                                               mask: mask, options: o, fallback: RunSession.defaultDimensions)
                    guard case .tokens(let ids) = r.value else { continue }
                    s += "sample \(k + 1) (seed \(o.seed)): \(Self.brief(r.value))"
                    if let tk = tokenizer, case .success(let text) = tk.decode(ids, specialTokens: .show) { s += "  \"\(text)\"" }
                    s += "\n"
                }
            }
            if checkpoint == nil, !result.parameters.isEmpty {
                s += "note: the parameters are random (untrained), so the output means nothing yet"
                if usedDims.contains("N_V"), let nv = dims["N_V"] { s += String(format: ": a predicted distribution is close to uniform (1/N_V ≈ %.3f)", 1 / Double(nv)) }
                s += "; give trained parameters with --params\n"
            }
            s += String(format: "time: %.1f ms (%@)\n", seconds * 1000, options.dtype == .f64 ? "float64" : "float32")
            if options.profile { s += Self.profileTable(result.evaluator) }
            output.out(s)

            if let out = args.value("output") {
                var tensors: [(name: String, tensor: Tensor)] = []
                switch result.value {
                case .tensor(let t): tensors = [("output." + a.outputName, t.value)]
                case .tokens(let ids): tensors = [("output." + a.outputName, Tensor(shape: [ids.count], values: ids.map(Double.init), dtype: .f64))]
                case .nat(let n): tensors = [("output." + a.outputName, Tensor(scalar: Double(n), dtype: .f64))]
                default: output.err("algo run: error: the result (\(result.value)) cannot be saved"); return .output
                }
                if case .failure(let e) = Checkpoint.write(tensors: tensors, metadata: Self.metadata(source, dims: dims, reals: reals, usedDims: usedDims, a, tokenizer: tokenizer), to: out) {
                    output.err("algo run: error: cannot write `\(out)`: \(e)"); return .output
                }
                output.out("wrote output.\(a.outputName) to \(out)")
            }
            if let out = args.value("save-params") {
                let tensors = result.parameters.keys.sorted().map { (name: $0, tensor: result.parameters[$0]!.value) }
                if case .failure(let e) = Checkpoint.write(tensors: tensors, metadata: Self.metadata(source, dims: dims, reals: reals, usedDims: usedDims, a, tokenizer: tokenizer), to: out) {
                    output.err("algo run: error: cannot write `\(out)`: \(e)"); return .output
                }
                output.out("wrote \(tensors.count) parameters to \(out)")
            }
            return .ok
        } catch {
            return Self.report(error, &reporter, &output)
        }
    }

    /// Warning (error with `--strict`) E0552 naming the tensors of `--params` that the algorithm does
    /// not read (a conversion mistake otherwise goes unnoticed), or nil. Training state (`train.*`)
    /// and inputs are not parameters.
    static func unusedParameters(_ c: Checkpoint, _ a: LoadedAlgorithm, _ p: EvalProgram, dims: [String: Int], path: String, strict: Bool) -> Diagnostic? {
        guard let specs = try? ParameterLayout.parameters(of: a, program: p, dims: dims), !specs.isEmpty else { return nil }
        let used = Set(specs.map(\.name))
        let unused = RunSession.parameters(from: c).keys.filter { !used.contains($0) && !$0.hasPrefix("train.") }.sorted()
        guard !unused.isEmpty else { return nil }
        let shown = unused.prefix(8).map { "`\($0)`" }.joined(separator: ", ") + (unused.count > 8 ? ", …" : "")
        var d = Diagnostic(.unusedTensors, "\(unused.count) tensor\(unused.count == 1 ? "" : "s") of `\(path)` \(unused.count == 1 ? "is" : "are") no parameter of `\(a.name)`: \(shown)",
                           at: Span(file: path, start: 0, end: 0), severity: strict ? .error : .warning)
        d.notes.append("`algo params \(a.file)` lists the names it reads; a checkpoint of another algorithm (or a conversion mistake) leaves tensors unread")
        return d
    }

    /// The tokenizer at `path` (any file `TokenizerFile.load` reads), or its diagnostic: E0001 for a
    /// file that cannot be read, E0550 for one that is no tokenizer.
    static func loadTokenizer(_ path: String) -> Result<any Tokenizer, Diagnostic> {
        TokenizerFile.load(from: path).mapError { e in
            let at = Span(file: path, start: 0, end: 0)
            switch e {
            case .io(let m): return Diagnostic(.fileNotFound, m, at: at)
            case .emptyCorpus, .unknownCharacter, .idOutOfRange, .invalidArgument, .malformedFile:
                var d = Diagnostic(.tokenizerFile, "`\(path)` is not a tokenizer `algo` reads: \(e)", at: at)
                d.notes.append("`--tokenizer` reads `algo`'s vocabulary files, a HuggingFace tokenizer.json (byte-level BPE or WordPiece), GPT-2's vocab.json with merges.txt beside it, or a directory holding either")
                return d
            }
        }
    }

    static func metadata(_ source: SourceFile, dims: [String: Int], reals: [String: Double], usedDims: [String], _ a: LoadedAlgorithm,
                         tokenizer: (any Tokenizer)? = nil) -> [String: String] {
        var h: [String: String] = [:]
        for d in usedDims { h[d] = String(dims[d]!) }
        for n in a.hyperparameterNames { if let r = reals[n] { h[n] = String(r) } }
        var extra = ["algo.algorithm": a.name]
        // A checkpoint carries the tokenizer of its run, so that reading it back needs no `--tokenizer`.
        if let tokenizer { extra[CheckpointMetadata.tokenizerKey] = String(decoding: tokenizer.vocabularyFile(), as: UTF8.self) }
        return CheckpointMetadata.make(source: source.text, hyperparameters: h, extra: extra)
    }

    /// The dimension names of the algorithm and of every algorithm it calls (for the report and metadata).
    static func dimensionsUsed(_ a: LoadedAlgorithm, _ p: EvalProgram) -> Set<String> {
        var names: Set<String> = []
        var seen: Set<String> = []
        func visit(_ x: LoadedAlgorithm) {
            guard seen.insert(x.name).inserted else { return }
            for (_, t) in x.checked.variables { for d in t.dims { for v in d.variables { if case .named(let n) = v { names.insert(n) } } } }
            for n in x.hyperparameterNames { names.insert(n) }
            // Callees' own dimensions (d_x, ℓ_x) are bound by the caller; only an algorithm without
            // parameters of its own (DInference) shows its callee's.
            if x.name == a.name && x.header(.parameters).isEmpty {
                for c in x.checked.calls.values where !c.isBuiltin { if let y = p.find(c.callee, file: c.file) { visit(y) } }
            }
        }
        visit(a)
        return names.filter { !$0.contains("(") }
    }

    static func signature(_ a: LoadedAlgorithm, _ source: SourceFile) -> String {
        guard let sig = a.syntax.title.signature else { return a.name }
        return source.slice(sig.span)
    }

    static func brief(_ v: Value) -> String {
        switch v {
        case .tokens(let t): return "[" + t.prefix(16).map(String.init).joined(separator: ", ") + (t.count > 16 ? ", …" : "") + "] (\(t.count) tokens)"
        case .nat(let n): return String(n)
        case .real(let r): return String(r)
        case .tensor(let t): return "tensor of shape \(t.shape.map(String.init).joined(separator: "×"))"
        default: return "…"
        }
    }

    /// The result, readably: token sequences as ids; distributions with their top tokens; other
    /// tensors with shape and summary.
    static func describe(_ v: Value, _ a: LoadedAlgorithm, _ dtype: DType) -> String {
        let name = a.outputName
        switch v {
        case .tokens(let t): return "output \(name) = \(brief(v))\n" + (t.isEmpty ? "" : "")
        case .nat(let n): return "output \(name) = \(n)\n"
        case .real(let r): return "output \(name) = \(r)\n"
        case .tensor(let t):
            let x = t.value
            let values = x.doubles
            var s = "output \(name): shape \(x.shape.map(String.init).joined(separator: "×")), "
            let finite = values.filter { $0.isFinite }
            let mean = finite.isEmpty ? 0 : finite.reduce(0, +) / Double(finite.count)
            s += String(format: "min %.4g, max %.4g, mean %.4g\n", finite.min() ?? .nan, finite.max() ?? .nan, mean)
            let isDistribution = values.allSatisfy { $0 >= 0 } && (x.rank == 1 ? abs(values.reduce(0, +) - 1) < 1e-3
                                                                   : (0..<x.shape[1]).allSatisfy { abs(x.column($0).doubles.reduce(0, +) - 1) < 1e-3 })
            if isDistribution, x.rank >= 1 {
                let cols = x.rank == 2 ? x.shape[1] : 1
                s += "  each column is a probability distribution over the \(x.shape[0]) tokens (sums to 1)\n"
                for c in Array(0..<cols).suffix(3) {
                    let col = x.rank == 2 ? x.column(c).doubles : values
                    let top = col.enumerated().sorted { $0.element > $1.element }.prefix(5)
                    let label = x.rank == 2 ? "column \(c + 1)" : name
                    s += "  \(label): most likely tokens " + top.map { String(format: "%d (%.3f)", $0.offset + 1, $0.element) }.joined(separator: ", ") + "\n"
                }
                if cols > 3 { s += "  (last 3 of \(cols) columns shown; column t is the prediction after x[1:t])\n" }
            } else if values.count <= 12 {
                s += "  = [" + values.map { String(format: "%.4g", $0) }.joined(separator: ", ") + "]\n"
            }
            return s
        default: return "output \(name): \(v.kindName)\n"
        }
    }

    static func profileTable(_ e: Evaluator) -> String {
        var s = "profile (per source line: time, tensor operations, executions):\n"
        for (k, v) in e.profile.sorted(by: { ($0.key.file, $0.key.line) < ($1.key.file, $1.key.line) }) {
            s += String(format: "  %@:%d  %8.3f ms  %6d ops  %5d×\n", (k.file as NSString).lastPathComponent, k.line, v.seconds * 1000, v.operations, v.calls)
        }
        return s
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
            reporter.emit(f.diagnostics, &output)
        default:
            output.err("algo run: error: \(error)")
        }
        return .diagnostics
    }

}
