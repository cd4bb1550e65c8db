import AlgoDiagnostics
import AlgoSema
import AlgoSyntax
import AlgoTensor
import Foundation

/// Runs an `Experiment N:` block (Grammar/README.md, "Experiments"): its header values, then its
/// numbered lines in order. A line is `name ← value` where the value is a data built-in (`tokenize`,
/// `chunk`, `sequences`, `reverse`, `unigram`, `initialise`, `evaluate`, `exact_match`), a call of
/// one of the paper's algorithms (run by `Pipeline.run`, the evaluator's ordinary path, so
/// training hooks apply), `length`, a slice `x[a : b]`, or arithmetic on natural numbers;
/// `return θ̂` ends it. Every line prints one summary line through `log`.
public struct ExperimentRunner {
    public let loaded: LoadedProgram
    public var options: RunOptions
    /// `--data PATH`: replaces the path of the experiment's first text input.
    public var dataOverride: String?
    /// `--output PATH`: replaces the path the returned parameters are written to.
    public var outputOverride: String?
    /// `--set NAME=VALUE`: replaces header values of hyperparameters.
    public var overrides: [String: String] = [:]
    /// Receives one line per experiment line (and the header's values).
    public var log: (String) -> Void = { _ in }
    /// A monitor for each training call (`θ̂ ← DTrainingAdam(…)`), given the algorithm's name and its
    /// N_epochs × N_data (or N_batches) steps: `algo run` shows its progress. Not used by `evaluate`.
    public var trainingMonitor: ((_ algorithm: String, _ totalSteps: Int?) -> TrainingMonitor?)? = nil

    public init(_ loaded: LoadedProgram, options: RunOptions) {
        self.loaded = loaded
        self.options = options
    }

    /// Whether the target of a loaded program is an experiment.
    public static func isExperiment(_ p: LoadedProgram) -> Bool { p.target.syntax.title.keyword == .experiment }

    /// What an experiment produced.
    public struct Result {
        /// Every value a line assigned, by name, as printed.
        public var summaries: [(name: String, text: String)] = []
        /// The real numbers assigned (losses, baselines, accuracies) by name.
        public var reals: [String: Double] = [:]
        /// The returned parameters and where they were written (nil when not written).
        public var parameters: [(name: String, tensor: Tensor)] = []
        public var checkpoint: String?
        /// Per-step training losses of every training call, in order.
        public var stepLosses: [Double] = []
    }

    /// An experiment's values.
    enum EValue {
        case text(String)
        case nat(Int)
        case real(Double)
        case tokens([Int])
        case dataset([[Int]])
        case parameters([String: Tensor])
    }

    final class State {
        var values: [String: EValue] = [:]
        /// Datasets `x_{1:N}` by base name (`x`), apart from a value named `x`.
        var datasets: [String: [[Int]]] = [:]
        /// Output paths of the header (`θ̂ = "E.safetensors"`), apart from the values the lines assign.
        var outputs: [String: String] = [:]
        var dims: [String: Int] = [:]
        var reals: [String: Double] = [:]
        var tokenizer: (any Tokenizer)?
        var rng: RandomGenerator
        var result = Result()
        /// The one evaluator, for the paper's expressions of the lines (`paper`).
        let evaluator: Evaluator
        init(seed: UInt64, evaluator: Evaluator) { rng = RandomGenerator(seed: seed &+ 0x5EED); self.evaluator = evaluator }
    }

    var a: LoadedAlgorithm { loaded.target }
    var directory: String { LibraryPaths.directory(of: loaded.source.path) }

    /// Runs the experiment. Errors are `RuntimeError`s with the experiment line's span.
    public func run() throws -> Result {
        let s = State(seed: options.seed, evaluator: Evaluator(program: loaded.program, options: options))
        try bindHeader(s)
        // Every output is checked before the first line runs (a long training must not fail at its end).
        for out in Set(s.outputs.values).union(outputOverride.map { [$0] } ?? []).sorted() {
            if case .failure(let e) = AtomicFile.checkWritable(out) { throw ExperimentOutputError(message: e.message) }
        }
        do {
            for st in a.syntax.body { try statement(st, s) }
        } catch let stop as TrainingStopped {
            // Ctrl-C during a training line: θ after the last step goes where θ̂ would have gone.
            let out = outputOverride ?? s.outputs.values.sorted().first
            var written: String? = nil
            if let out, case .success = Checkpoint.write(tensors: stop.snapshot.parameters, metadata: ["algo.algorithm": a.name, "algo.train.step": "\(stop.snapshot.step)"], to: out) {
                written = out
            }
            throw ExperimentStopped(step: stop.snapshot.step, written: written)
        }
        return s.result
    }

    // MARK: Header

    func bindHeader(_ s: State) throws {
        var firstInput = true
        for l in a.header(.hyperparameters) + a.header(.input) + a.header(.output) {
            guard case .declarations(let dl) = l.content else { continue }
            for d in dl.declarations {
                guard let v = d.value, case .name(let n)? = d.names.first?.kind else { continue }
                let name = n.spelling
                switch (l.kind, v.kind) {
                case (.hyperparameters, .number(let text)):
                    let given = overrides[name] ?? text
                    if text.contains(".") {
                        guard let x = Double(given) else { throw RuntimeError(.invalidInput, "`--set \(name)=\(given)`: expected a number", at: v.span) }
                        s.reals[name] = x
                    } else {
                        guard let x = Int(given), x >= 0 else { throw RuntimeError(.invalidInput, "`--set \(name)=\(given)`: expected a natural number", at: v.span) }
                        s.dims[name] = x
                    }
                case (.input, .text(let path)):
                    var p = path
                    if firstInput, let o = dataOverride { p = o } else if !path.hasPrefix("/") { p = directory + "/" + path }
                    firstInput = false
                    s.values[name] = .text(p)
                case (.output, .text(let path)):
                    s.outputs[name] = outputOverride ?? path
                default: continue
                }
            }
        }
        for k in overrides.keys where s.dims[k] == nil && s.reals[k] == nil {
            throw RuntimeError(.invalidInput, "`--set \(k)=…` names no hyperparameter value of this experiment", at: a.syntax.title.span)
        }
        let dims = s.dims.sorted { $0.key < $1.key }.map { "\($0.key) = \($0.value)" } + s.reals.sorted { $0.key < $1.key }.map { "\($0.key) = \($0.value)" }
        log("hyperparameters: " + dims.joined(separator: ", "))
    }

    // MARK: Statements

    func statement(_ st: Statement, _ s: State) throws {
        let line = st.lineNumber.map { String($0) } ?? " "
        let started = Date()
        switch st.kind {
        case .comment, .error: return
        case .assign(let target, _, let value):
            guard case .name(let n) = target.kind else {
                throw RuntimeError(.notExecutable, "an experiment line assigns a name", at: target.span)
            }
            let v = try eval(value, s, target: n)
            assign(n, v, s)
            let secs = Date().timeIntervalSince(started)
            let text = describe(v, s)
            s.result.summaries.append((n.spelling, text))
            if case .real(let x) = v { s.result.reals[n.spelling] = x }
            log(String(repeating: " ", count: max(0, 2 - line.count)) + line + " " + n.spelling + " = " + text + (secs >= 0.5 ? String(format: "   (%.1f s)", secs) : ""))
        case .returnValue(_, let value):
            let v = try eval(value, s, target: nil)
            guard case .parameters(let θ) = v else { return }
            s.result.parameters = θ.keys.sorted().map { ($0, θ[$0]!) }
            guard let out = outputPath(s, returning: value) else { return }
            var h: [String: String] = [:]
            for (k, x) in s.dims { h[k] = String(x) }
            for (k, x) in s.reals { h[k] = String(x) }
            var extra = ["algo.algorithm": a.name]
            if let t = s.tokenizer { extra[CheckpointMetadata.tokenizerKey] = String(decoding: t.vocabularyFile(), as: UTF8.self) }
            let meta = CheckpointMetadata.make(source: loaded.source.text, hyperparameters: h, extra: extra)
            if case .failure(let e) = Checkpoint.write(tensors: s.result.parameters, metadata: meta, to: out) {
                throw ExperimentOutputError(message: "cannot write the checkpoint `\(out)`: \(e)")
            }
            s.result.checkpoint = out
            log("\(line) return: \(s.result.parameters.count) parameter tensors written to \(out)")
        default:
            throw RuntimeError(.notExecutable, "an experiment's lines are assignments `name ← …` and `return`", at: st.span)
        }
    }

    func outputPath(_ s: State, returning value: Expr) -> String? {
        if case .name(let n) = value.kind, let p = s.outputs[n.spelling] { return p }
        return outputOverride
    }

    func assign(_ n: Name, _ v: EValue, _ s: State) {
        if let last = n.scripts.last, last.position == .sub, case .slice(_, let hi?) = last.value.kind, case .name(let hn) = hi.kind,
           case .dataset(let xs) = v {
            s.dims[hn.spelling] = xs.count
            s.datasets[n.base] = xs
            return
        }
        s.values[n.spelling] = v
    }

    func describe(_ v: EValue, _ s: State) -> String {
        switch v {
        case .text(let t): return "\"\(t)\""
        case .nat(let x): return String(x)
        case .real(let x): return String(format: "%.4f", x)
        case .tokens(let ids):
            let shown = decode(ids, s).map { t -> String in
                let one = t.replacingOccurrences(of: "\n", with: "⏎")
                return "\"" + (one.count > 100 ? String(one.prefix(100)) + "…" : one) + "\""
            } ?? (ids.prefix(24).map(String.init).joined(separator: ",") + (ids.count > 24 ? ",…" : ""))
            return "\(ids.count) tokens " + shown
        case .dataset(let xs):
            let lens = xs.map(\.count)
            return "\(xs.count) sequences of \(lens.min() ?? 0)…\(lens.max() ?? 0) tokens"
        case .parameters(let θ):
            return "\(θ.count) tensors, \(θ.values.reduce(0) { $0 + $1.count }) numbers"
        }
    }

    func decode(_ ids: [Int], _ s: State) -> String? {
        guard let t = s.tokenizer, case .success(let text) = t.decode(ids, specialTokens: .drop) else { return nil }
        return text
    }

    // MARK: Expressions

    func eval(_ e: Expr, _ s: State, target: Name?) throws -> EValue {
        switch e.kind {
        case .name(let n):
            if let v = s.values[n.spelling] { return v }
            if let x = s.dims[n.spelling] { return .nat(x) }
            if let x = s.reals[n.spelling] { return .real(x) }
            if let last = n.scripts.last, last.position == .sub, let xs = s.datasets[n.base] {
                if case .slice = last.value.kind { return .dataset(xs) }
                let i = try nat(try eval(last.value, s, target: nil), last.value.span)
                guard i >= 1, i <= xs.count else {
                    throw RuntimeError(.runtimeIndexOutOfRange, "`\(n.spelling)`: the dataset `\(n.base)` has \(xs.count) elements", at: e.span)
                }
                return .tokens(xs[i - 1])
            }
            throw RuntimeError(.missingValue, "`\(n.spelling)` has no value", at: e.span)
        case .number, .binary:
            return try paper(e, s)
        case .index(let base, let ix):
            guard case .tokens(let ids) = try eval(base, s, target: nil), ix.count == 1, case .slice(let lo?, let hi?) = ix[0].kind else {
                throw RuntimeError(.notExecutable, "an experiment slices token sequences, `x[a : b]`", at: e.span)
            }
            let a = try nat(try eval(lo, s, target: nil), lo.span), b = try nat(try eval(hi, s, target: nil), hi.span)
            guard a >= 1, b <= ids.count, a <= b else {
                throw RuntimeError(.dataTooShort, "`\(ExprPrinter.print(e))` is \(a)…\(b) of \(ids.count) tokens: the data is too short for it", at: e.span)
            }
            return .tokens(Array(ids[(a - 1)..<b]))
        case .call(let c):
            if let r = a.checked.calls[e.span], !r.isBuiltin { return try algorithmCall(c, e, r, s) }
            // The data built-ins (Grammar/README.md, "Experiments") are the runner's; `length` is the paper's.
            if ExperimentBuiltins.names.contains(c.callee.spelling) { return try builtin(c, e, s, target: target) }
            return try paper(e, s)
        default:
            throw RuntimeError(.notExecutable, "`\(ExprPrinter.print(e))` is not an experiment value", at: e.span)
        }
    }

    /// A paper expression of a line (numbers, arithmetic, `length(x)`): the one evaluator computes it,
    /// in a frame holding the experiment's numbers and token sequences.
    func paper(_ e: Expr, _ s: State) throws -> EValue {
        let f = Frame(a)
        for (k, v) in s.values {
            switch v {
            case .nat(let x): f.vars[k] = .nat(x)
            case .real(let x): f.vars[k] = .real(x)
            case .tokens(let ids): f.vars[k] = .tokens(ids)
            case .text, .dataset, .parameters: continue
            }
        }
        for (k, v) in s.dims { f.dims[k] = v }
        for (k, v) in s.reals where f.vars[k] == nil { f.vars[k] = .real(v) }
        switch try s.evaluator.eval(e, f) {
        case .nat(let x): return .nat(x)
        case .real(let x): return .real(x)
        case .tokens(let ids): return .tokens(ids)
        case let v: throw RuntimeError(.notExecutable, "`\(ExprPrinter.print(e))` is \(v.kindName), not an experiment value", at: e.span)
        }
    }

    func nat(_ v: EValue, _ span: Span) throws -> Int {
        if case .nat(let x) = v { return x }
        throw RuntimeError(.invalidInput, "expected a natural number", at: span)
    }

    func dataset(_ v: EValue, _ span: Span) throws -> [[Int]] {
        if case .dataset(let xs) = v { return xs }
        throw RuntimeError(.invalidInput, "expected a dataset", at: span)
    }

    // MARK: Built-ins

    func builtin(_ c: Call, _ e: Expr, _ s: State, target: Name?) throws -> EValue {
        let args = c.arguments
        switch c.callee.spelling {
        case "tokenize":
            guard case .text(let path) = try eval(args[0], s, target: nil), case .name(let kind) = c.parameters[0].value.kind else {
                throw RuntimeError(.invalidInput, "`tokenize` takes a text", at: e.span)
            }
            let text = try readText(path, e.span)
            if let t = s.tokenizer {
                switch t.encode(text, wrap: false) {
                case .success(let ids): return .tokens(ids)
                case .failure(let err):
                    throw RuntimeError(.unknownToken, "`\(path)`: \(err)", at: e.span, notes: ["the experiment's first `tokenize` learned the vocabulary; later texts must use it"])
                }
            }
            let trained: Swift.Result<any Tokenizer, TokenizerError>
            switch kind.spelling {
            case "words": trained = WordTokenizer.train(on: [text]).map { $0 }
            case "bpe":
                guard let merges = s.dims["N_merges"] else { throw RuntimeError(.missingValue, "`tokenize(… | bpe)` needs N_merges", at: e.span) }
                trained = BPETokenizer.train(on: [text], merges: merges).map { $0 }
            default: trained = CharacterTokenizer.train(on: [text]).map { $0 }
            }
            guard case .success(let t) = trained, case .success(let ids) = t.encode(text, wrap: false), !ids.isEmpty else {
                throw RuntimeError(.emptyData, "the data file `\(path)` holds no token", at: e.span)
            }
            s.tokenizer = t
            s.dims["N_V"] = t.vocabularySize
            log("   N_V = \(t.vocabularySize) (\(t.elementCount) \(kind.spelling) + mask_token, bos_token, eos_token)")
            return .tokens(ids)
        case "chunk":
            guard case .tokens(let ids) = try eval(args[0], s, target: nil) else { throw RuntimeError(.invalidInput, "`chunk` takes a token sequence", at: e.span) }
            let size = try nat(try eval(c.parameters[0].value, s, target: nil), c.parameters[0].value.span)
            guard size >= 2 else { throw RuntimeError(.invalidInput, "chunks of \(size) tokens hold nothing to predict", at: e.span) }
            var pieces = (try? Chunking.split(ids, maxLength: size).get()) ?? []
            pieces.removeAll { $0.count < 2 }
            guard !pieces.isEmpty else {
                throw RuntimeError(.dataTooShort, "\(ids.count) tokens make no sequence of 2…\(size) tokens", at: e.span)
            }
            return .dataset(pieces)
        case "sequences":
            let count = try nat(try eval(args[0], s, target: nil), args[0].span)
            let maxLen = try nat(try eval(c.parameters[0].value, s, target: nil), c.parameters[0].value.span)
            guard let nv = s.dims["N_V"], nv > 3, maxLen >= 1, count >= 1 else {
                throw RuntimeError(.missingValue, "`sequences` needs N_V > 3, a count ≥ 1 and a length ≥ 1", at: e.span)
            }
            // Up to count × maxLen token ids (8 bytes each), checked before the first is drawn.
            try SizeBudget.require(SizeBudget.product(SizeBudget.product(count, maxLen), 8), "`sequences` of \(count) sequences of up to \(maxLen) tokens need", at: e.span)
            return .dataset((0..<count).map { _ in
                let len = 1 + s.rng.int(below: maxLen)
                return (0..<len).map { _ in 1 + s.rng.int(below: nv - 3) }
            })
        case "reverse":
            let xs = try dataset(try eval(args[0], s, target: nil), args[0].span)
            guard let nv = s.dims["N_V"] else { throw RuntimeError(.missingValue, "`reverse` needs N_V", at: e.span) }
            return .dataset(xs.map { [nv - 1] + $0.reversed() + [nv] })
        case "unigram":
            let train = try dataset(try eval(args[0], s, target: nil), args[0].span)
            let test = try dataset(try eval(args[1], s, target: nil), args[1].span)
            guard let nv = s.dims["N_V"] else { throw RuntimeError(.missingValue, "`unigram` needs N_V", at: e.span) }
            try SizeBudget.require(SizeBudget.product(SizeBudget.sum(nv, 1), 8), "N_V = \(nv): the unigram counts need", at: e.span)
            return .real(Self.unigramCrossEntropy(train: train, test: test, vocabulary: nv))
        case "initialise":
            guard let r = a.checked.calls[args[0].span], let callee = loaded.program.find(r.callee, file: r.file) else {
                throw RuntimeError(.missingValue, "`initialise`: no algorithm", at: e.span)
            }
            let dims = calleeDims(r, s)
            let specs = try ParameterLayout.parameters(of: callee, program: loaded.program, dims: dims)
            try SizeBudget.checkParameters(specs, dims: dims, dtype: options.dtype, training: false, at: e.span)
            return .parameters(ParameterLayout.initialise(specs, seed: options.seed, dtype: options.dtype).mapValues(\.value))
        case "evaluate":
            guard case .call(let inner) = args[0].kind, let r = a.checked.calls[args[0].span] else {
                throw RuntimeError(.notExecutable, "`evaluate` takes a call of a training algorithm", at: e.span)
            }
            return try evaluate(inner, args[0], r, s)
        case "exact_match":
            guard case .call(let inner) = args[0].kind, let r = a.checked.calls[args[0].span],
                  let callee = loaded.program.find(r.callee, file: r.file) else {
                throw RuntimeError(.notExecutable, "`exact_match` takes an inference call", at: e.span)
            }
            let zs = try dataset(try eval(inner.arguments[0], s, target: nil), inner.arguments[0].span)
            guard case .parameters(let θ) = try eval(inner.arguments[1], s, target: nil) else {
                throw RuntimeError(.invalidInput, "`exact_match`: the second input of the call is parameters", at: inner.arguments[1].span)
            }
            let xs = try dataset(try eval(args[1], s, target: nil), args[1].span)
            var hits = 0
            for (z, x) in zip(zs, xs) {
                let out = try runCallee(callee, r, s, inputs: [inputName(callee, 0): .tokens(z)], parameters: θ, span: e.span)
                if case .tokens(let ids) = out.value, ids == x { hits += 1 }
            }
            return .real(Double(hits) / Double(max(1, zs.count)))
        default:
            throw RuntimeError(.notExecutable, "`\(c.callee.spelling)` is not an experiment built-in", at: e.span)
        }
    }

    /// The cross-entropy, in nats per token, of the tokens of `test` under the token frequencies of
    /// `train`, add-one smoothed over the vocabulary 1…N_V (so a token unseen in training is finite).
    public static func unigramCrossEntropy(train: [[Int]], test: [[Int]], vocabulary: Int) -> Double {
        var counts = [Double](repeating: 1, count: vocabulary + 1)
        counts[0] = 0
        for x in train { for t in x where t >= 1 && t <= vocabulary { counts[t] += 1 } }
        let total = counts.reduce(0, +)
        var sum = 0.0, n = 0
        for x in test { for t in x where t >= 1 && t <= vocabulary { sum -= Foundation.log(counts[t] / total); n += 1 } }
        return n == 0 ? 0 : sum / Double(n)
    }

    func readText(_ path: String, _ span: Span) throws -> String {
        let data: [UInt8]
        // Its tokens take 8 bytes per byte of text, beside the text itself.
        switch FileBytes.read(path, limit: SizeBudget.available.bytes / 9, why: "its tokens would need 9× that; \(SizeBudget.available.phrase)") {
        case .success(let b): data = b
        case .failure(.notFound):
            throw RuntimeError(.fileNotFound, "the data file `\(path)` does not exist", at: span, notes: ["give another with `--data PATH`"])
        case .failure(let why):
            throw RuntimeError(.fileUnreadable, "the data file `\(path)` cannot be read: \(why)", at: span)
        }
        guard let text = String(bytes: data, encoding: .utf8) else {
            throw RuntimeError(.invalidUTF8, "the data file `\(path)` is not UTF-8 text", at: span)
        }
        guard !text.isEmpty else { throw RuntimeError(.emptyData, "the data file `\(path)` is empty", at: span) }
        return text
    }

    // MARK: Algorithm calls

    /// The callee's dimensions: its resolved bindings evaluated with the experiment's values.
    func calleeDims(_ r: ResolvedCall, _ s: State) -> [String: Int] { r.dimensionValues { s.dims[$0] } }

    func inputName(_ callee: LoadedAlgorithm, _ i: Int) -> String {
        guard i < callee.inputs.count, case .name(let n) = callee.inputs[i].name.kind else { return "" }
        return n.spelling
    }

    /// Runs `callee` through `Pipeline.run` with the experiment's dimensions and reals; checks every
    /// sequence it is given against ℓ_max first (E0515).
    func runCallee(_ callee: LoadedAlgorithm, _ r: ResolvedCall, _ s: State, inputs: [String: Value], parameters: [String: Tensor]?,
                   span: Span, options override: RunOptions? = nil, extraDims: [String: Int] = [:]) throws -> (value: Value, evaluator: Evaluator) {
        var dims = calleeDims(r, s)
        for (k, v) in extraDims { dims[k] = v }
        try SizeBudget.checkSequenceLengths(callee, inputs: inputs, dims: dims, at: span)
        let p = LoadedProgram(program: loaded.program, target: callee, source: loaded.source, sources: loaded.sources, diagnostics: [])
        var o = override ?? options
        if override == nil, RunSession.isTraining(callee), let make = trainingMonitor {
            let perStep = RunSession.tokensPerStep(callee, inputs: inputs, dims: dims)
            if let epochs = dims["N_epochs"] { try SizeBudget.checkSteps(epochs: epochs, stepsPerEpoch: perStep.count, at: span) }
            let total = dims["N_epochs"].map { $0 * perStep.count }
            let run = TrainingRun(monitor: make(callee.name, total))
            run.tokensPerStep = perStep
            run.totalSteps = total
            o.training = run
        }
        let out = try Pipeline.run(p, RunSetup(dims: dims, reals: s.reals, inputs: inputs, parameters: parameters, options: o))
        return (out.value, out.evaluator)
    }

    /// The inputs of a call: datasets as families, sequences as tokens; parameters separately.
    func callInputs(_ c: Call, _ callee: LoadedAlgorithm, _ s: State) throws -> (inputs: [String: Value], parameters: [String: Tensor]?, count: Int?) {
        var inputs: [String: Value] = [:]
        var θ: [String: Tensor]? = nil
        var count: Int? = nil
        for (i, arg) in c.arguments.enumerated() {
            switch try eval(arg, s, target: nil) {
            case .parameters(let p): θ = p
            case .tokens(let ids): inputs[inputName(callee, i)] = .tokens(ids)
            case .dataset(let xs):
                var f = Family()
                for (k, x) in xs.enumerated() { f.elements[k + 1] = .tokens(x) }
                inputs[inputName(callee, i)] = .family(f)
                count = xs.count
            case .nat(let x): inputs[inputName(callee, i)] = .nat(x)
            default: throw RuntimeError(.invalidInput, "`\(ExprPrinter.print(arg))` cannot be passed to `\(callee.name)`", at: arg.span)
            }
        }
        return (inputs, θ, count)
    }

    func algorithmCall(_ c: Call, _ e: Expr, _ r: ResolvedCall, _ s: State) throws -> EValue {
        guard let callee = loaded.program.find(r.callee, file: r.file) else { throw RuntimeError(.missingValue, "no algorithm `\(r.callee)`", at: e.span) }
        let (inputs, θ, count) = try callInputs(c, callee, s)
        var extra: [String: Int] = [:]
        if let count { extra = try RunSession.datasetDimensions(callee, count: count, given: calleeDims(r, s)) }
        let out = try runCallee(callee, r, s, inputs: inputs, parameters: θ, span: e.span, extraDims: extra)
        switch out.value {
        case .tokens(let ids): return .tokens(ids)
        case .collection:
            let flat = RunSession.flatten(out.value)
            if !out.evaluator.losses.isEmpty {
                let ls = out.evaluator.losses
                s.result.stepLosses += ls
                let k = max(1, min(100, ls.count / 10))
                let first = ls.prefix(k).reduce(0, +) / Double(k), last = ls.suffix(k).reduce(0, +) / Double(k)
                log(String(format: "   %@: %d steps, loss per sequence %.4f → %.4f (mean of the first and last %d steps)", callee.name, ls.count, first, last, k))
            }
            return .parameters(Dictionary(flat.map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a }))
        default:
            throw RuntimeError(.invalidInput, "`\(callee.name)` returned \(out.value.kindName), which an experiment cannot hold", at: e.span)
        }
    }

    /// `evaluate(T(z_{1:N}, θ))`: one pass of the training algorithm T over the dataset with N_epochs = 1
    /// and no update; the sum of its per-sequence losses divided by the number of predicted tokens:
    /// ℓ_n − 1 per sequence for next-token losses (Algorithms 11, 13), the masked positions for
    /// ETraining (Algorithm 12; the masks are redrawn here from the same seeded generator, one
    /// uniform per position in the order the evaluator draws them, so the count is exact).
    func evaluate(_ c: Call, _ e: Expr, _ r: ResolvedCall, _ s: State) throws -> EValue {
        guard let callee = loaded.program.find(r.callee, file: r.file) else { throw RuntimeError(.missingValue, "no algorithm `\(r.callee)`", at: e.span) }
        let (inputs, θ, count) = try callInputs(c, callee, s)
        guard let count else { throw RuntimeError(.invalidInput, "`evaluate` needs a dataset", at: e.span) }
        var o = options
        o.applyGradients = false
        var extra = try RunSession.datasetDimensions(callee, count: count, given: calleeDims(r, s))
        extra["N_epochs"] = 1
        let out = try runCallee(callee, r, s, inputs: inputs, parameters: θ, span: e.span, options: o, extraDims: extra)
        let total = out.evaluator.losses.reduce(0, +)
        // The predicted positions: the dataset the loss reads (`x_n`, the last dataset input).
        let names = RunSession.datasetInputs(callee).map(\.name)
        guard let last = names.last, case .family(let f)? = inputs[last] else { return .real(.nan) }
        var tokens = 0
        if let p = s.reals["p_mask"], callee.hyperparameterNames.contains("p_mask") {
            var rng = RandomGenerator(seed: o.seed)
            for k in 1...max(1, f.count) { if case .tokens(let ids)? = f.elements[k] { for _ in ids { if rng.uniform() < p { tokens += 1 } } } }
        } else {
            for v in f.elements.values { if case .tokens(let ids) = v { tokens += max(0, ids.count - 1) } }
        }
        return .real(tokens == 0 ? .nan : total / Double(tokens))
    }
}

/// An experiment's output (its returned θ̂) cannot be written: `algo run` exits 4.
public struct ExperimentOutputError: Error, Sendable {
    public var message: String
}

/// An experiment stopped by Ctrl-C during a training line (`algo run` exits 130): the step it
/// reached and the file that holds θ after that step (nil when none could be written).
public struct ExperimentStopped: Error, Sendable {
    public var step: Int
    public var written: String?
}
