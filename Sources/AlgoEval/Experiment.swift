import AlgoDiagnostics
import AlgoSema
import AlgoSyntax
import AlgoTensor
import Foundation

/// Runs an `Experiment N:` block (Grammar/README.md, "Experiments"): its header values, then its
/// numbered lines in order. A line is `name ← value` where the value is a data built-in (`tokenize`,
/// `chunk`, `sequences`, `reverse`, `unigram`, `initialise`, `evaluate`, `exact_match`), a call of
/// one of the paper's algorithms (run by `Pipeline.run`, the evaluator's ordinary path, so
/// training hooks apply), or a paper expression (`length(x)`, arithmetic, `z_1[1 : ℓ_prompt]`)
/// that the one `Evaluator` computes in the experiment's frame; `return θ̂` ends it. What is the
/// runner's own: the data (paths, tokenizer, datasets, splits that must fit the data) and calling
/// the training algorithm with its monitor (`TrainingCall`). Every line prints one summary line
/// through `log`.
public struct ExperimentRunner {
    public let loaded: LoadedProgram
    public var options: RunOptions
    /// `--data PATH`: replaces the path of the experiment's first text input.
    public var dataOverride: String?
    /// `--output PATH`: replaces the path the returned parameters are written to.
    public var outputOverride: String?
    /// `--set NAME=VALUE`: replaces header values of hyperparameters.
    public var overrides: [String: String] = [:]
    /// `--params`: θ by checkpoint name, which `initialise(…)` returns (verified against its layout)
    /// instead of drawing it.
    public var parameters: [String: Tensor]? = nil
    /// Called by `initialise(…)` with the `--params` tensors its algorithm does not read (sorted):
    /// `algo run` warns (E0552), or refuses with `--strict` by throwing, before any training line.
    public var unusedParameters: (([String], LoadedAlgorithm) throws -> Void)? = nil
    /// Receives one line per experiment line (and the header's values).
    public var log: (String) -> Void = { _ in }
    /// Told the line about to run (`algo run` says which line a Ctrl-C interrupted).
    public var lineStarted: (String) -> Void = { _ in }
    /// Given the evaluator of every run the experiment makes, when it ends (`--profile`).
    public var finishedRun: (Evaluator) -> Void = { _ in }
    /// The training run of each training call (`θ̂ ← DTrainingAdam(…)`): its monitor (progress,
    /// checkpoints, held-out loss) and a resume. Not used by `evaluate`.
    public var training: ((TrainingCall) throws -> TrainingRun?)? = nil

    public init(_ loaded: LoadedProgram, options: RunOptions) {
        self.loaded = loaded
        self.options = options
    }

    /// The numbers of the lines that call a training algorithm (`θ̂ ← DTrainingAdam(…)`).
    public var trainingLines: [String] {
        a.syntax.body.compactMap { st in
            guard case .assign(_, _, let v) = st.kind, case .call = v.kind, let r = a.checked.calls[v.span], !r.isBuiltin,
                  let callee = loaded.program.find(r.callee, file: r.file), RunSession.isTraining(callee) else { return nil }
            return st.lineNumber
        }
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
        /// Per-step training losses of every training call, in order, in nats per predicted token.
        public var stepLosses: [Double] = []
        /// `--profile`: every run's profile, line by line (training, evaluation, inference).
        public var profile: [Evaluator.ProfileKey: Evaluator.ProfileEntry] = [:]
    }

    /// The experiment's state: one frame of the evaluator holds its numbers, token sequences,
    /// datasets (families `x_{1:N_data}`) and parameter collections; the rest is the runner's.
    final class State {
        let frame: Frame
        /// Text inputs (`corpus = "data/prose.txt"`): their paths.
        var paths: [String: String] = [:]
        /// Output paths of the header (`θ̂ = "E.safetensors"`), apart from the values the lines assign.
        var outputs: [String: String] = [:]
        var reals: [String: Double] = [:]
        var tokenizer: (any Tokenizer)?
        var rng: RandomGenerator
        var result = Result()
        var trainingCalls = 0
        /// The one evaluator, for the paper's expressions of the lines.
        let evaluator: Evaluator
        var dims: [String: Int] { frame.dims }
        init(seed: UInt64, evaluator: Evaluator, frame: Frame) { rng = RandomGenerator(seed: seed &+ 0x5EED); self.evaluator = evaluator; self.frame = frame }
        func setReal(_ name: String, _ x: Double) { reals[name] = x; frame.vars[name] = .real(x) }
    }

    var a: LoadedAlgorithm { loaded.target }
    var directory: String { LibraryPaths.directory(of: loaded.source.path) }

    /// Runs the experiment. Errors are `RuntimeError`s with the experiment line's span; a training
    /// line stopped by Ctrl-C ends it with `ExperimentStopped`.
    public func run() throws -> Result {
        let s = State(seed: options.seed, evaluator: Evaluator(program: loaded.program, options: options), frame: Frame(a))
        try bindHeader(s)
        // Every output is checked before the first line runs (a long training must not fail at its end).
        for out in Set(s.outputs.values).union(outputOverride.map { [$0] } ?? []).sorted() {
            if case .failure(let e) = AtomicFile.checkWritable(out) { throw ExperimentOutputError(message: e.message) }
        }
        for st in a.syntax.body { try statement(st, s) }
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
                        s.setReal(name, x)
                    } else {
                        guard let x = Int(given), x >= 0 else { throw RuntimeError(.invalidInput, "`--set \(name)=\(given)`: expected a natural number", at: v.span) }
                        s.frame.dims[name] = x
                    }
                case (.input, .text(let path)):
                    var p = path
                    if firstInput, let o = dataOverride { p = o } else if !path.hasPrefix("/") { p = directory + "/" + path }
                    firstInput = false
                    s.paths[name] = p
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
        let line = st.lineNumber ?? " "
        let started = Date()
        lineStarted(line)
        switch st.kind {
        case .comment, .error: return
        case .assign(let target, _, let value):
            guard case .name(let n) = target.kind else {
                throw RuntimeError(.notExecutable, "an experiment line assigns a name", at: target.span)
            }
            let v = try eval(value, s, line: line)
            try assign(n, v, s)
            let secs = Date().timeIntervalSince(started)
            // `evaluate(…)` is a loss: its unit goes with it.
            var text = describe(v, s)
            if case .call(let c) = value.kind, c.callee.spelling == "evaluate" { text += " nats per predicted token" }
            s.result.summaries.append((n.spelling, text))
            if case .real(let x) = v { s.result.reals[n.spelling] = x }
            log(String(repeating: " ", count: max(0, 2 - line.count)) + line + " " + n.spelling + " = " + text + (secs >= 0.5 ? String(format: "   (%.1f s)", secs) : ""))
        case .returnValue(_, let value):
            let v = try eval(value, s, line: line)
            guard case .collection = v else { return }
            s.result.parameters = RunSession.flatten(v)
            guard let out = outputPath(s, returning: value) else { return }
            if case .failure(let e) = Checkpoint.write(tensors: s.result.parameters, metadata: metadata(s), to: out) {
                throw ExperimentOutputError(message: "cannot write the checkpoint `\(out)`: \(e)")
            }
            s.result.checkpoint = out
            log("\(line) return: \(s.result.parameters.count) parameter tensors written to \(out)")
        default:
            throw RuntimeError(.notExecutable, "an experiment's lines are assignments `name ← …` and `return`", at: st.span)
        }
    }

    /// The metadata of a θ the experiment writes: its hyperparameters, its text's SHA-256, its name.
    func metadata(_ s: State, extra: [String: String] = [:]) -> [String: String] {
        var h: [String: String] = [:]
        for (k, x) in s.dims { h[k] = String(x) }
        for (k, x) in s.reals { h[k] = String(x) }
        var extra = extra
        extra["algo.algorithm"] = a.name
        // The tokenizer the experiment learned, so `algo run --params F --text …` needs no `--tokenizer`.
        if let t = s.tokenizer { extra[CheckpointMetadata.tokenizerKey] = String(decoding: t.vocabularyFile(), as: UTF8.self) }
        return CheckpointMetadata.make(source: loaded.source.text, hyperparameters: h, extra: extra)
    }

    func outputPath(_ s: State, returning value: Expr) -> String? {
        if case .name(let n) = value.kind, let p = s.outputs[n.spelling] { return p }
        return outputOverride
    }

    /// `x_{1:N_data} ← …` binds the family and N_data; any other name its value.
    func assign(_ n: Name, _ v: Value, _ s: State) throws {
        if let i = n.scripts.lastIndex(where: { $0.raw.contains(":") }), case .slice(_, let hi?) = n.scripts[i].value.kind,
           case .name(let hn) = hi.kind, case .family(let xs) = v {
            s.frame.dims[hn.spelling] = xs.count
            try s.evaluator.bindInput(n, v, in: s.frame)
            return
        }
        s.frame.vars[n.spelling] = v
    }

    func describe(_ v: Value, _ s: State) -> String {
        switch v {
        case .nat(let x): return String(x)
        case .real(let x): return String(format: "%.4f", x)
        case .tokens(let ids):
            let shown = decode(ids, s).map { t -> String in
                let one = t.replacingOccurrences(of: "\n", with: "⏎")
                return "\"" + (one.count > 100 ? String(one.prefix(100)) + "…" : one) + "\""
            } ?? (ids.prefix(24).map(String.init).joined(separator: ",") + (ids.count > 24 ? ",…" : ""))
            return "\(ids.count) tokens " + shown
        case .family(let f):
            let lens = Self.sequences(f).map(\.count)
            return "\(f.count) sequences of \(lens.min() ?? 0)…\(lens.max() ?? 0) tokens"
        case .collection:
            let flat = RunSession.flatten(v)
            return "\(flat.count) tensors, \(flat.reduce(0) { $0 + $1.tensor.count }) numbers"
        default: return v.kindName
        }
    }

    func decode(_ ids: [Int], _ s: State) -> String? {
        guard let t = s.tokenizer, case .success(let text) = t.decode(ids, specialTokens: .drop) else { return nil }
        return text
    }

    // MARK: Expressions

    /// A line's value: the built-ins and algorithm calls here, a split `x[a : b]` checked against
    /// the data, a dataset `x_{1:N}` as its family; every other expression is the evaluator's.
    func eval(_ e: Expr, _ s: State, line: String = " ") throws -> Value {
        switch e.kind {
        case .name(let n):
            if let i = n.scripts.lastIndex(where: { $0.raw.contains(":") }), let fam = s.frame.families[s.evaluator.familyKey(n, i)] { return .family(fam) }
        case .index(let base, let ix):
            guard ix.count == 1, case .slice(let lo?, let hi?) = ix[0].kind, case .tokens(let ids) = try eval(base, s) else { break }
            let a = try nat(try eval(lo, s), lo.span), b = try nat(try eval(hi, s), hi.span)
            guard a >= 1, b <= ids.count, a <= b else {
                throw RuntimeError(.dataTooShort, "`\(ExprPrinter.print(e))` is \(a)…\(b) of \(ids.count) tokens: the data is too short for it", at: e.span)
            }
            return .tokens(Array(ids[(a - 1)..<b]))
        case .call(let c):
            if let r = a.checked.calls[e.span], !r.isBuiltin { return try algorithmCall(c, e, r, s, line: line) }
            // The data built-ins (Grammar/README.md, "Experiments") are the runner's; `length` is the paper's.
            if ExperimentBuiltins.names.contains(c.callee.spelling) { return try builtin(c, e, s) }
        default: break
        }
        return try s.evaluator.eval(e, s.frame)
    }

    func nat(_ v: Value, _ span: Span) throws -> Int {
        if case .nat(let x) = v { return x }
        throw RuntimeError(.invalidInput, "expected a natural number", at: span)
    }

    func dataset(_ v: Value, _ span: Span) throws -> [[Int]] {
        if case .family(let f) = v { return Self.sequences(f) }
        throw RuntimeError(.invalidInput, "expected a dataset", at: span)
    }

    static func sequences(_ f: Family) -> [[Int]] {
        (1...max(1, f.count)).compactMap { if case .tokens(let ids)? = f.elements[$0] { ids } else { nil } }
    }

    static func family(_ xs: [[Int]]) -> Value {
        var f = Family()
        for (k, x) in xs.enumerated() { f.elements[k + 1] = .tokens(x) }
        return .family(f)
    }

    // MARK: Built-ins

    func builtin(_ c: Call, _ e: Expr, _ s: State) throws -> Value {
        let args = c.arguments
        switch c.callee.spelling {
        case "tokenize":
            guard case .name(let input) = args[0].kind, let path = s.paths[input.spelling], case .name(let kind) = c.parameters[0].value.kind else {
                throw RuntimeError(.invalidInput, "`tokenize` takes a text input of the header", at: e.span)
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
            s.frame.dims["N_V"] = t.vocabularySize
            log("   N_V = \(t.vocabularySize) (\(t.elementCount) \(kind.spelling) + mask_token, bos_token, eos_token)")
            return .tokens(ids)
        case "chunk":
            guard case .tokens(let ids) = try eval(args[0], s) else { throw RuntimeError(.invalidInput, "`chunk` takes a token sequence", at: e.span) }
            let size = try nat(try eval(c.parameters[0].value, s), c.parameters[0].value.span)
            guard size >= 2 else { throw RuntimeError(.invalidInput, "chunks of \(size) tokens hold nothing to predict", at: e.span) }
            var pieces = (try? Chunking.split(ids, maxLength: size).get()) ?? []
            pieces.removeAll { $0.count < 2 }
            guard !pieces.isEmpty else {
                throw RuntimeError(.dataTooShort, "\(ids.count) tokens make no sequence of 2…\(size) tokens", at: e.span)
            }
            return Self.family(pieces)
        case "sequences":
            let count = try nat(try eval(args[0], s), args[0].span)
            let maxLen = try nat(try eval(c.parameters[0].value, s), c.parameters[0].value.span)
            guard let nv = s.dims["N_V"], nv > 3, maxLen >= 1, count >= 1 else {
                throw RuntimeError(.missingValue, "`sequences` needs N_V > 3, a count ≥ 1 and a length ≥ 1", at: e.span)
            }
            // Up to count × maxLen token ids (8 bytes each), checked before the first is drawn.
            try SizeBudget.require(SizeBudget.product(SizeBudget.product(count, maxLen), 8), "`sequences` of \(count) sequences of up to \(maxLen) tokens need", at: e.span)
            return Self.family((0..<count).map { _ in
                let len = 1 + s.rng.int(below: maxLen)
                return (0..<len).map { _ in 1 + s.rng.int(below: nv - 3) }
            })
        case "reverse":
            let xs = try dataset(try eval(args[0], s), args[0].span)
            guard let nv = s.dims["N_V"] else { throw RuntimeError(.missingValue, "`reverse` needs N_V", at: e.span) }
            return Self.family(xs.map { [nv - 1] + $0.reversed() + [nv] })
        case "unigram":
            let train = try dataset(try eval(args[0], s), args[0].span)
            let test = try dataset(try eval(args[1], s), args[1].span)
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
            guard let given = parameters else {
                return .collection(Evaluator.collection(Self.ordered(ParameterLayout.initialise(specs, seed: options.seed, dtype: options.dtype).mapValues(\.value), specs)))
            }
            // `--params`: the checkpoint's θ, every tensor present with its shape (E0506).
            try RunSession.verify(given, specs, at: e.span)
            let unused = RunSession.unread(given, specs)
            if !unused.isEmpty, let report = unusedParameters { try report(unused, callee) }
            log("   θ from --params (\(specs.count) tensors)")
            return .collection(Evaluator.collection(Self.ordered(given.mapValues { $0.converted(to: options.dtype) }, specs)))
        case "evaluate":
            guard case .call(let inner) = args[0].kind, let r = a.checked.calls[args[0].span] else {
                throw RuntimeError(.notExecutable, "`evaluate` takes a call of a training algorithm", at: e.span)
            }
            return .real(try evaluate(inner, args[0], r, s))
        case "exact_match":
            guard case .call(let inner) = args[0].kind, let r = a.checked.calls[args[0].span],
                  let callee = loaded.program.find(r.callee, file: r.file) else {
                throw RuntimeError(.notExecutable, "`exact_match` takes an inference call", at: e.span)
            }
            let zs = try dataset(try eval(inner.arguments[0], s), inner.arguments[0].span)
            guard case .collection(let θ) = try eval(inner.arguments[1], s) else {
                throw RuntimeError(.invalidInput, "`exact_match`: the second input of the call is parameters", at: inner.arguments[1].span)
            }
            let xs = try dataset(try eval(args[1], s), args[1].span)
            var hits = 0
            for (z, x) in zip(zs, xs) {
                let out = try runCallee(callee, r, s, inputs: [inputName(callee, 0): .tokens(z)], parameters: Self.tensors(.collection(θ)), span: e.span)
                if case .tokens(let ids) = out.value, ids == x { hits += 1 }
            }
            return .real(Double(hits) / Double(max(1, zs.count)))
        default:
            throw RuntimeError(.notExecutable, "`\(c.callee.spelling)` is not an experiment built-in", at: e.span)
        }
    }

    /// θ by checkpoint name in the layout's order.
    static func ordered(_ θ: [String: Tensor], _ specs: [ParameterSpec]) -> [(name: String, tensor: Tensor)] {
        specs.compactMap { sp in θ[sp.name].map { (sp.name, $0) } }
    }

    /// A parameter collection by checkpoint name.
    static func tensors(_ v: Value) -> [String: Tensor] { Dictionary(RunSession.flatten(v), uniquingKeysWith: { a, _ in a }) }

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

    /// Runs `callee` through `Pipeline.run` with the experiment's dimensions and reals (checking every
    /// sequence it is given against ℓ_max first, E0515); its profile joins the experiment's.
    func runCallee(_ callee: LoadedAlgorithm, _ r: ResolvedCall, _ s: State, inputs: [String: Value], parameters: [String: Tensor]?,
                   span: Span, options o: RunOptions? = nil, extraDims: [String: Int] = [:]) throws -> RunResult {
        var dims = calleeDims(r, s)
        for (k, v) in extraDims { dims[k] = v }
        try SizeBudget.checkSequenceLengths(callee, inputs: inputs, dims: dims, at: span)
        let out = try Pipeline.run(program(callee), RunSetup(dims: dims, reals: s.reals, inputs: inputs, parameters: parameters, options: o ?? options))
        addProfile(out.evaluator, s)
        return out
    }

    func program(_ callee: LoadedAlgorithm) -> LoadedProgram {
        LoadedProgram(program: loaded.program, target: callee, source: loaded.source, sources: loaded.sources, diagnostics: [])
    }

    func addProfile(_ e: Evaluator, _ s: State) {
        finishedRun(e)
        guard options.profile else { return }
        for (k, v) in e.profile { if s.result.profile[k] == nil { s.result.profile[k] = v } else { s.result.profile[k]!.add(v) } }
    }

    /// The inputs of a call: datasets as families, sequences as tokens; parameters separately.
    func callInputs(_ c: Call, _ callee: LoadedAlgorithm, _ s: State) throws -> (inputs: [String: Value], parameters: [String: Tensor]?, count: Int?) {
        var inputs: [String: Value] = [:]
        var θ: [String: Tensor]? = nil
        var count: Int? = nil
        for (i, arg) in c.arguments.enumerated() {
            switch try eval(arg, s) {
            case .collection(let p): θ = Self.tensors(.collection(p))
            case .family(let f): inputs[inputName(callee, i)] = .family(f); count = f.count
            case let v: inputs[inputName(callee, i)] = v
            }
        }
        return (inputs, θ, count)
    }

    func algorithmCall(_ c: Call, _ e: Expr, _ r: ResolvedCall, _ s: State, line: String) throws -> Value {
        guard let callee = loaded.program.find(r.callee, file: r.file) else { throw RuntimeError(.missingValue, "no algorithm `\(r.callee)`", at: e.span) }
        let (inputs, θ, count) = try callInputs(c, callee, s)
        var extra: [String: Int] = [:]
        if let count { extra = try RunSession.datasetDimensions(callee, count: count, given: calleeDims(r, s)) }
        guard RunSession.isTraining(callee) else {
            return try runCallee(callee, r, s, inputs: inputs, parameters: θ, span: e.span, extraDims: extra).value
        }
        // A training call: its monitor and resume come from `training`.
        var dims = calleeDims(r, s)
        for (k, v) in extra { dims[k] = v }
        let perStep = RunSession.tokensPerStep(callee, inputs: inputs, dims: dims)
        if let epochs = dims["N_epochs"] { try SizeBudget.checkSteps(epochs: epochs, stepsPerEpoch: perStep.count, at: e.span) }
        let total = dims["N_epochs"].map { $0 * perStep.count }
        s.trainingCalls += 1
        var o = options
        var run: TrainingRun? = nil
        if let make = training {
            let call = TrainingCall(algorithm: callee.name, line: line, index: s.trainingCalls, totalSteps: total, span: e.span,
                                    identity: TrainingIdentity.make(program(callee), dims: dims, reals: s.reals, inputs: inputs, dtype: options.dtype),
                                    metadata: metadata(s, extra: [TrainingCall.lineKey: line]),
                                    heldOut: try heldOut(after: e, s))
            run = try make(call)
        }
        if let run {
            run.tokensPerStep = perStep
            run.totalSteps = total
            o.training = run
        }
        let out: RunResult
        do {
            out = try runCallee(callee, r, s, inputs: inputs, parameters: θ, span: e.span, options: o, extraDims: extra)
        } catch let stop as TrainingStopped {
            addProfile(stop.evaluator, s)
            throw ExperimentStopped(step: stop.snapshot.step, line: line)
        }
        if let run, run.resumePending {
            throw RuntimeError(.resumeMismatch, "the checkpoint is at step \(run.resume?.step ?? 0), but this training line has only \(run.stepsPassed) steps", at: e.span)
        }
        let ls = out.evaluator.tokenLosses
        s.result.stepLosses += ls
        if !ls.isEmpty {
            let k = max(1, min(100, ls.count / 10))
            let first = ls.prefix(k).reduce(0, +) / Double(k), last = ls.suffix(k).reduce(0, +) / Double(k)
            log(String(format: "   %@: %d steps, loss %.4f → %.4f nats per predicted token (mean of the first and last %d steps)", callee.name, ls.count, first, last, k))
        }
        guard case .collection = out.value else {
            throw RuntimeError(.invalidInput, "`\(callee.name)` returned \(out.value.kindName), which an experiment cannot hold", at: e.span)
        }
        return out.value
    }

    /// `--eval-every`: the held-out loss of a training line `θ̂ ← T(…)` is the first later line
    /// `evaluate(T′(z…, θ̂))` that evaluates its result: the experiment names its held-out set there.
    /// Its datasets must be known when the training line runs. nil when no line evaluates θ̂.
    func heldOut(after e: Expr, _ s: State) throws -> HeldOut? {
        guard let (index, target) = a.syntax.body.enumerated().lazy.compactMap({ i, st -> (Int, Name)? in
            if case .assign(let t, _, let v) = st.kind, v.span == e.span, case .name(let n) = t.kind { return (i, n) } else { return nil }
        }).first else { return nil }
        for st in a.syntax.body.dropFirst(index + 1) {
            guard case .assign(_, _, let v) = st.kind, case .call(let c) = v.kind, c.callee.spelling == "evaluate", let inner = c.arguments.first,
                  case .call(let call) = inner.kind, let r = a.checked.calls[inner.span],
                  call.arguments.contains(where: { if case .name(let n) = $0.kind { n.spelling == target.spelling } else { false } }) else { continue }
            return HeldOut(line: st.lineNumber ?? " ", span: inner.span) { θ in
                let saved = s.frame.vars[target.spelling]
                defer { s.frame.vars[target.spelling] = saved }
                s.frame.vars[target.spelling] = .collection(Evaluator.collection(θ))
                return try self.evaluate(call, inner, r, s)
            }
        }
        return nil
    }

    /// `evaluate(T(z_{1:N}, θ))`: one pass of the training algorithm T over the dataset with N_epochs = 1
    /// and no update: its loss in nats per predicted token over the whole dataset (`Evaluator+LossUnit`:
    /// the ℓ_n − 1 next tokens of each sequence for Algorithms 11 and 13, the masked positions the
    /// pass drew for ETraining, Algorithm 12).
    func evaluate(_ c: Call, _ e: Expr, _ r: ResolvedCall, _ s: State) throws -> Double {
        guard let callee = loaded.program.find(r.callee, file: r.file) else { throw RuntimeError(.missingValue, "no algorithm `\(r.callee)`", at: e.span) }
        let (inputs, θ, count) = try callInputs(c, callee, s)
        guard let count else { throw RuntimeError(.invalidInput, "`evaluate` needs a dataset", at: e.span) }
        var o = options
        o.applyGradients = false
        o.training = nil
        var extra = try RunSession.datasetDimensions(callee, count: count, given: calleeDims(r, s))
        extra["N_epochs"] = 1
        return try runCallee(callee, r, s, inputs: inputs, parameters: θ, span: e.span, options: o, extraDims: extra).evaluator.meanLossPerToken
    }
}

/// A training line of an experiment about to run (`ExperimentRunner.training`): what a monitor,
/// a checkpoint and a resume need to know of it.
public struct TrainingCall {
    /// Metadata key of the experiment line a training checkpoint belongs to.
    public static let lineKey = "algo.experiment.line"
    public let algorithm: String
    /// The experiment's line number, and which training line of the run this is (1, 2, …).
    public let line: String
    public let index: Int
    public let totalSteps: Int?
    public let span: Span
    /// What a resume of this training line must match (`TrainingCheckpoint.snapshot`).
    public let identity: TrainingIdentity
    /// Metadata for its checkpoints: the experiment's hyperparameters, its text's SHA-256, this line.
    public let metadata: [String: String]
    /// The held-out loss of this line's θ (`--eval-every`), when a later line evaluates θ̂.
    public let heldOut: HeldOut?
}

/// The held-out loss of a training line: its `evaluate(…)` line run at a given θ.
public struct HeldOut {
    /// The line that names the held-out set, and its call.
    public let line: String
    public let span: Span
    /// Loss in nats per predicted token at θ (by checkpoint name, in member order).
    public let loss: ([(name: String, tensor: Tensor)]) throws -> Double
}

/// An experiment's output (its returned θ̂) cannot be written: `algo run` exits 4.
public struct ExperimentOutputError: Error, Sendable {
    public var message: String
}

/// An experiment stopped by Ctrl-C during a training line (`algo run` exits 130): the step it
/// reached and the line (its monitor saved what a training run saves: the checkpoint, if any).
public struct ExperimentStopped: Error, Sendable {
    public var step: Int
    public var line: String
}
