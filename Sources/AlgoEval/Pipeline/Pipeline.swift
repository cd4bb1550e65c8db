import AlgoDiagnostics
import AlgoSema
import AlgoSyntax
import AlgoTensor

/// The pipeline of `algo run`, `algo gradcheck`, `algo bench model` and the experiments, on one
/// screen (as jlox's `Lox.run`):
///
///     read → parse → resolve/check → lower → run/∇ → report
///
/// * **read** (`read`): the file, once.
/// * **parse → resolve/check** (`load`): the file and its library (`Library.around`, the directory
///   listed and parsed once); `ShapeChecker.check` checks every algorithm once, callees included,
///   each with its own diagnostics. Errors stop here (`RunFailure`, with every source to render them).
/// * **lower** (`lower`): the checked program becomes what the evaluator runs. Today that is the
///   `EvalProgram` (each checked algorithm with its header precomputed); this is the seam where the
///   lowering to plans (issue 12, rewrite rules) plugs in.
/// * **run/∇** (`run`): dimensions inferred once from what is given, default inputs, parameters
///   (verified or initialised), `Evaluator.run`. Training (`RunSession.train`: the passes before
///   and after, ∇ and the updates), `algo gradcheck` (`GradientCheckProblem`) and the experiments'
///   calls of the paper's algorithms (`ExperimentRunner`) run through this same function.
/// * **report**: the caller's (`algo run`'s `RunReport`, gradcheck's table, bench's timings).
public enum Pipeline {
    /// read: the text of `path` (E0001–E0003 when it cannot be read).
    public static func read(_ path: String) -> Result<SourceFile, RunFailure> {
        SourceFile.load(path: path).mapError { RunFailure([$0]) }
    }

    /// read → parse → check → lower.
    public static func load(path: String, values: [String: Int] = [:]) -> Result<LoadedProgram, RunFailure> {
        read(path).flatMap { load($0, values: values) }
    }

    /// parse → check → lower of a text held in memory under `source.path`: its library is the other
    /// `.algo` files around that path (a library file with the same path is replaced by the text).
    /// `values` are `--set` dimensions the check uses; `library` lets several loads share one listing.
    public static func load(_ source: SourceFile, values: [String: Int] = [:], library given: Library? = nil) -> Result<LoadedProgram, RunFailure> {
        var bag = DiagnosticBag()
        let target = ParsedFile(source: source, tree: Parser.parse(source, &bag))
        if bag.hasErrors { return .failure(RunFailure(bag.all, sources: [source])) }
        let library = given ?? Library.around([target])
        let others = library.excluding([source.path])
        let outcome = ShapeChecker.check([target], library: others, options: CheckOptions(values: values), &bag)
        let sources = [source] + others.map(\.source)
        guard let checked = outcome.program else { return .failure(RunFailure(bag.all, sources: sources)) }
        let program = lower(checked)
        guard let t = program.algorithms.first(where: { $0.file == source.path }) else {
            return .failure(RunFailure([Diagnostic(.missingValue, "`\(source.path)` holds no algorithm", at: target.tree.span)], sources: sources))
        }
        return .success(LoadedProgram(program: program, target: t, source: source, sources: sources, diagnostics: bag.all))
    }

    /// lower: the checked program as the evaluator runs it (the seam of the lowering pass).
    static func lower(_ checked: CheckedProgram) -> EvalProgram { EvalProgram(checked) }

    /// run: one evaluation of `p.target`. Dimensions: `setup.dims`, then those the given tensors fix
    /// (`ParameterLayout.inferDimensions`, once), then `setup.fallback`. Inputs: `setup.inputs`, and
    /// with `setup.defaultInputs` the defaults of a bare run for the rest. Parameters: verified
    /// against the layout when given, else initialised from `options.seed`.
    public static func run(_ p: LoadedProgram, _ setup: RunSetup) throws -> RunResult {
        try p.target.requireExecutable()
        var dims = setup.dims
        var inputs = setup.inputs
        var shapes: [String: [Int]] = [:]
        for (k, v) in inputs { if case .tensor(let t) = v { shapes[k] = t.shape } }
        ParameterLayout.inferDimensions(p.target, program: p.program, parameters: (setup.parameters ?? [:]).mapValues(\.shape), inputs: shapes, into: &dims)
        // Dimensions neither given nor fixed by the tensors (ℓ_gen with a checkpoint) take the fallback.
        for (k, v) in setup.fallback where dims[k] == nil { dims[k] = v }
        // Sizes from outside are checked before anything is allocated (`SizeBudget`): the default
        // inputs, θ and every variable whose dimensions are known.
        try SizeBudget.checkPositive(p.program, dims: dims, at: p.target.syntax.title.span)
        let specs = try ParameterLayout.parameters(of: p.target, program: p.program, dims: dims)
        try SizeBudget.checkParameters(specs, dims: dims, dtype: setup.options.dtype, training: RunSession.isTraining(p.target), at: p.target.syntax.title.span)
        try SizeBudget.check(p, dims: dims, inputs: inputs, dtype: setup.options.dtype)
        var defaulted: [String] = []
        if setup.defaultInputs {
            let defaults = try RunSession.defaultInputs(p.target, dims: dims, seed: setup.options.seed, dtype: setup.options.dtype, skip: Set(inputs.keys))
            for (k, v) in defaults where inputs[k] == nil { inputs[k] = v; defaulted.append(k) }
            // The default sequences count too (ℓ_gen against ℓ_max, Algorithm 14).
            if !defaulted.isEmpty { try SizeBudget.check(p, dims: dims, inputs: inputs, dtype: setup.options.dtype) }
        }
        try RunSession.checkInputs(p.target, inputs, dims)
        try RunSession.checkReals(p.target, setup.reals)
        var θ: [String: Variable] = [:]
        if let given = setup.parameters {
            let unused = RunSession.unread(given, specs)
            if !unused.isEmpty, let report = setup.unusedParameters { try report(unused) }
            try RunSession.verify(given, specs, at: p.target.syntax.title.span)
            for s in specs { θ[s.name] = Variable(given[s.name]!.converted(to: setup.options.dtype)) }
        } else {
            θ = ParameterLayout.initialise(specs, seed: setup.options.seed, dtype: setup.options.dtype)
        }
        let e = Evaluator(program: p.program, options: setup.options)
        let v = try e.run(p.target, dims: dims, reals: setup.reals, inputs: inputs, parameters: θ, mask: setup.mask)
        return RunResult(value: v, evaluator: e, parameters: θ, dims: dims, inputs: inputs, defaulted: defaulted.sorted())
    }
}

/// What one run is given (`Pipeline.run`).
public struct RunSetup {
    /// Dimensions given (`--set`, a checkpoint's metadata); the tensors fix more, `fallback` the rest.
    public var dims: [String: Int]
    public var reals: [String: Double]
    public var inputs: [String: Value]
    /// Parameters by checkpoint name (verified against the layout), or nil to initialise them.
    public var parameters: [String: Tensor]?
    public var mask: MaskValue?
    public var options: RunOptions
    /// Dimensions for what is neither given nor fixed by a tensor (`RunSession.defaultDimensions`).
    public var fallback: [String: Int]
    /// Fill inputs that are not given with the defaults of a bare run (`RunSession.defaultInputs`).
    public var defaultInputs: Bool
    /// Called before the run with the given parameters that the algorithm does not read (sorted;
    /// training state `train.*` left out): `algo run` warns (E0552), or refuses with `--strict` by throwing.
    public var unusedParameters: (([String]) throws -> Void)? = nil

    public init(dims: [String: Int] = [:], reals: [String: Double] = [:], inputs: [String: Value] = [:], parameters: [String: Tensor]? = nil,
                mask: MaskValue? = nil, options: RunOptions = RunOptions(), fallback: [String: Int] = [:], defaultInputs: Bool = false) {
        self.dims = dims; self.reals = reals; self.inputs = inputs; self.parameters = parameters
        self.mask = mask; self.options = options; self.fallback = fallback; self.defaultInputs = defaultInputs
    }
}

/// What one run produced (`Pipeline.run`).
public struct RunResult {
    public let value: Value
    /// The evaluator that ran (its profile, warnings, losses and gradients).
    public let evaluator: Evaluator
    /// θ as used, by checkpoint name.
    public let parameters: [String: Variable]
    /// Every dimension of the run.
    public let dims: [String: Int]
    /// Every input of the run, and which of them were defaults.
    public let inputs: [String: Value]
    public let defaulted: [String]
}
