import AlgoDiagnostics
import AlgoSyntax

// MARK: - Experiment files: header values, data built-ins, datasets `x_{1:N}`

/// The names of the experiments' data built-ins (`tokenize`, `chunk`, …), for the experiment runner.
public enum ExperimentBuiltins {
    public static var names: Set<String> { Set(AlgoChecker.experimentBuiltins.keys) }
}

/// An `Experiment N:` block is checked like an algorithm: its calls of the paper's algorithms are
/// shape-checked with the hyperparameters flowing by name. In addition it may bind values in its
/// header (`ℓ_max = 64`, `corpus = "prose.txt"`) and call the data built-ins below (Grammar/README.md,
/// "Experiments"), which exist only in experiments.
extension AlgoChecker {
    var isExperiment: Bool { algorithm.title.keyword == .experiment }

    /// The data built-ins of experiments and how many inputs and `|` parameters each takes.
    static let experimentBuiltins: [String: (inputs: Int, parameters: Int)] = [
        "tokenize": (1, 1), "chunk": (1, 1), "sequences": (1, 1), "reverse": (1, 0),
        "initialise": (1, 0), "evaluate": (1, 0), "unigram": (2, 0), "exact_match": (2, 0),
    ]

    /// The tokenizers `tokenize(c | …)` accepts (paper, section 4).
    static let tokenizerKinds: Set<String> = ["characters", "words", "bpe"]

    /// A declaration with a value (`ℓ_max = 64`): only experiments bind values in their header.
    /// Hyperparameters take numbers (a whole number is a dimension, a decimal a real), inputs and
    /// outputs a text: the path of a data file (inputs) or of the checkpoint written (outputs).
    /// Returns the declared type, or nil when the declaration is not valued.
    func declareValued(_ d: Declaration, kind: HeaderKind) -> Bool {
        guard let value = d.value else { return false }
        // An algorithm's real hyperparameter may have a default: a constant real (`ε = 10⁻⁵`).
        if !isExperiment, kind == .hyperparameters, d.names.count == 1, case .name(let n) = d.names[0].kind,
           !ConstantExpression.isWholeNumber(value), ConstantExpression.value(value) != nil {
            dimNames.remove(n.spelling)
            define(n.spelling, Binding(type: .real, origin: n.span, kind: .hyperparameter, loopDepth: 0))
            return true
        }
        guard isExperiment else {
            var d = Diagnostic(.headerValue, "an algorithm's header declares names, it does not bind values", at: value.span, label: "a value")
            d.notes.append("values are bound by experiment files (`Experiment N: …`) or `algo run --set`; an algorithm's header gives a default only to a real hyperparameter, as a constant such as `ε = 10⁻⁵` or `τ = 1.0`")
            report(d)
            return false
        }
        guard d.names.count == 1, case .name(let n) = d.names[0].kind else {
            report(Diagnostic(.headerValue, "a header value binds one name: `name = value`", at: d.span))
            return true
        }
        switch kind {
        case .hyperparameters:
            guard case .number(let s) = value.kind else {
                report(Diagnostic(.headerValue, "the value of the hyperparameter `\(n.spelling)` is a number, not `\(text(value))`", at: value.span))
                define(n.spelling, Binding(type: .error, origin: n.span, kind: .hyperparameter, loopDepth: 0))
                return true
            }
            if s.contains(".") {
                dimNames.remove(n.spelling)
                define(n.spelling, Binding(type: .real, origin: n.span, kind: .hyperparameter, loopDepth: 0))
            } else {
                define(n.spelling, Binding(type: .nat(.named(n.spelling)), origin: n.span, kind: .hyperparameter, loopDepth: 0))
            }
        case .input, .output:
            guard case .text = value.kind else {
                report(Diagnostic(.headerValue, "the value of `\(n.spelling)` is a file's path in double quotes (`\"prose.txt\"`), not `\(text(value))`",
                                  at: value.span))
                define(n.spelling, Binding(type: .error, origin: n.span, kind: kindOf(kind), loopDepth: 0))
                return true
            }
            let t: SemType = kind == .input ? .text : program.freshTypeVariable()
            define(n.spelling, Binding(type: t, origin: n.span, kind: kindOf(kind), loopDepth: 0))
            if kind == .output { outputs[n.spelling] = Binding(type: t, origin: n.span, kind: .output, loopDepth: 0) }
        case .parameters:
            report(Diagnostic(.headerValue, "parameters are initialised (`θ ← initialise(DTransformer)`), not given values", at: value.span))
        }
        return true
    }

    /// A dataset argument `x_{1:N}` in an experiment: the whole family `x` (N must be its size).
    func datasetReference(_ base: String, _ scripts: [Script], span: Span) -> SemType? {
        guard isExperiment, let last = scripts.last, last.position == .sub,
              let f = families[Self.key(base, Array(scripts.dropLast()))] else { return nil }
        // A dataset whose defining line had an error: its uses say nothing new.
        guard case .family(let domain, _) = program.resolve(f.type) else { return .error }
        guard case .slice(let lo?, let hi?) = last.value.kind else { return nil }
        if literal(lo) != .one { report(Diagnostic(.invalidOperand, "a dataset is written `\(base)_{1:N}`, starting at 1", at: lo.span)) }
        if let d = dimOf(hi, allowFree: false), !program.unify(.nat(d), .nat(domain)) {
            report(Diagnostic(.indexDomainMismatch, "the dataset `\(base)` has \(show(domain)) elements, not \(show(d))", at: hi.span))
        }
        return program.resolve(f.type)
    }

    /// `x_{1:N} ← …` in an experiment: defines the family `x` over [N] (N becomes a dimension).
    func assignDataset(_ n: Name, _ v: SemType, target: Expr) -> Bool {
        guard isExperiment, let last = n.scripts.last, last.position == .sub, case .slice(_, let hi?) = last.value.kind else { return false }
        guard case .name(let hn) = hi.kind else {
            report(Diagnostic(.invalidOperand, "a dataset's size is a name, `\(n.base)_{1:N_data}`", at: hi.span))
            return true
        }
        let k = Self.key(n.base, Array(n.scripts.dropLast()))
        if v.isError { defineFamily(k, Binding(type: .error, origin: n.span, kind: .local, loopDepth: loopDepth)); return true }
        guard case .family(let domain, let element) = v else {
            report(Diagnostic(.assignmentMismatch, "`\(n.spelling)` is a dataset; the value is \(show(v))", at: target.span))
            return true
        }
        dimNames.insert(hn.spelling)
        if !program.unify(.nat(domain), .nat(.named(hn.spelling))) {
            report(Diagnostic(.assignmentMismatch, "the dataset has \(show(domain)) elements, the target says \(hn.spelling)", at: hi.span))
        }
        defineFamily(k, Binding(type: .family(domain: .named(hn.spelling), element: element), origin: n.span, kind: .local, loopDepth: loopDepth),
                     display: n.spelling)
        types[target.span] = v
        return true
    }

    /// The type of an experiment built-in call, or nil when `c` is not one.
    func experimentBuiltin(_ c: Call, _ e: Expr) -> SemType? {
        let callee = c.callee.spelling
        guard isExperiment, let arity = Self.experimentBuiltins[callee] else { return nil }
        guard c.arguments.count == arity.inputs, c.parameters.count == arity.parameters else {
            let bar = arity.parameters > 0 ? " and \(arity.parameters) after `|`" : ""
            var d = Diagnostic(.argumentCount, "`\(callee)` takes \(arity.inputs) input\(arity.inputs == 1 ? "" : "s")\(bar); the call passes \(c.arguments.count)"
                               + (c.parameters.isEmpty ? "" : " and \(c.parameters.count) after `|`"), at: e.span)
            d.notes.append("the experiment built-ins are listed in Grammar/README.md, \"Experiments\"")
            report(d)
            return .error
        }
        calls[e.span] = ResolvedCall(callee: callee, file: "", isBuiltin: true, dimensions: [:], defaulted: [])
        let tokens = SemType.sequence(element: .index(.named("N_V")), length: nil)
        func kindError(_ what: String, _ arg: Expr, _ t: SemType) -> SemType { builtinKindError(callee, what, arg, t) }
        func isDataset(_ t: SemType) -> Bool {
            if case .family(_, .sequence) = t { return true }
            return false
        }
        switch callee {
        case "tokenize":
            let t = check(c.arguments[0])
            guard case .text = t else { return kindError("a text (an input `name = \"file\"`)", c.arguments[0], t) }
            let p = c.parameters[0].value
            guard case .name(let kind) = p.kind, Self.tokenizerKinds.contains(kind.spelling) else {
                report(Diagnostic(.argumentMismatch, "`tokenize` takes a tokenizer after `|`: `characters`, `words` or `bpe`, not `\(text(p))`", at: p.span))
                return .error
            }
            if kind.spelling == "bpe", !(hyperparameters.contains("N_merges") && lookup("N_merges")?.kind == .hyperparameter) {
                var d = Diagnostic(.unboundHyperparameter, "`tokenize(… | bpe)` learns N_merges merges, which this experiment does not declare", at: e.span)
                d.help = "declare it with a value: `Hyperparameters: N_merges = 256`"
                report(d)
                return .error
            }
            guard hyperparameters.contains("N_V"), lookup("N_V")?.kind == .hyperparameter else {
                var d = Diagnostic(.unboundHyperparameter, "`tokenize` sets the vocabulary size N_V, which this experiment does not declare", at: e.span)
                d.help = "declare it: `Hyperparameters: N_V ∈ ℕ`"
                report(d)
                return .error
            }
            return tokens
        case "chunk":
            let t = check(c.arguments[0])
            guard case .sequence = t else { return kindError("a token sequence", c.arguments[0], t) }
            guard let d = dimOf(c.parameters[0].value, allowFree: false) else { return .error }
            return .family(domain: program.solver.fresh(), element: .sequence(element: .index(.named("N_V")), length: d))
        case "sequences":
            guard let n = dimOf(c.arguments[0], allowFree: false), let d = dimOf(c.parameters[0].value, allowFree: false) else { return .error }
            _ = d
            return .family(domain: n, element: tokens)
        case "reverse":
            let t = check(c.arguments[0])
            guard isDataset(t) else { return kindError("a dataset `z_{1:N}`", c.arguments[0], t) }
            if case .family(let d, _) = t { return .family(domain: d, element: tokens) }
            return .error
        case "unigram":
            for a in c.arguments {
                let t = check(a)
                guard isDataset(t) else { return kindError("datasets `x_{1:N}`", a, t) }
            }
            return .real
        case "evaluate":
            let a = c.arguments[0]
            guard case .call(let inner) = a.kind, program.lookup(inner.callee.spelling, from: file) != nil else {
                let t = check(a)
                return kindError("a call of a training algorithm, `DTraining(z_{1:N}, θ̂)`", a, t)
            }
            let t = check(a)
            if t.isError { return .error }
            guard isCollectionLike(program.resolve(t)) else { return kindError("a call of a training algorithm (it returns parameters)", a, t) }
            return .real
        case "initialise":
            return initialise(c.arguments[0], e)
        case "exact_match":
            return exactMatch(c, e)
        default:
            return nil
        }
    }

    /// `initialise(DTransformer)`: the parameter collection of the named algorithm, its dimensions
    /// bound by the experiment's hyperparameters of the same names.
    func initialise(_ a: Expr, _ e: Expr) -> SemType {
        guard case .name(let n) = a.kind, let (f, i) = program.lookup(n.spelling, from: file) else {
            report(Diagnostic(.unknownAlgorithm, "`initialise` takes the name of an algorithm whose parameters it draws, not `\(text(a))`", at: a.span))
            return .error
        }
        let s = program.checker(file: f, index: i).summary()
        guard let θ = s.params.first else {
            report(Diagnostic(.argumentMismatch, "`\(s.name)` has no parameters to initialise", at: a.span))
            return .error
        }
        guard let map = bindByName(s, e) else { return .error }
        calls[a.span] = ResolvedCall(callee: s.name, file: s.file, isBuiltin: false, dimensions: map, defaulted: [])
        return θ.type.mapDims { d in d.substitute { v in if case .named(let k) = v { return map[k] } else { return nil } } }
    }

    /// `exact_match(EDInference(z_{1:N}, θ̂), x_{1:N})`: the inference algorithm applied to every
    /// element of the dataset, compared with the targets; the fraction of exact matches.
    func exactMatch(_ c: Call, _ e: Expr) -> SemType {
        let a = c.arguments[0]
        guard case .call(let inner) = a.kind, inner.arguments.count == 2, inner.parameters.isEmpty,
              let (f, i) = program.lookup(inner.callee.spelling, from: file) else {
            report(Diagnostic(.argumentMismatch, "`exact_match` takes an inference call over a dataset, `EDInference(z_{1:N}, θ̂)`, and the targets",
                              at: a.span))
            return .error
        }
        let s = program.checker(file: f, index: i).summary()
        let zs = check(inner.arguments[0]), θ = check(inner.arguments[1]), xs = check(c.arguments[1])
        if zs.isError || θ.isError || xs.isError { return .error }
        guard case .family(let n1, .sequence) = zs else { return builtinKindError("exact_match", "datasets `x_{1:N}`", inner.arguments[0], zs) }
        guard case .family(let n2, .sequence) = xs else { return builtinKindError("exact_match", "datasets `x_{1:N}`", c.arguments[1], xs) }
        if !program.unify(.nat(n1), .nat(n2)) {
            report(Diagnostic(.argumentMismatch, "the inputs have \(show(n1)) elements and the targets \(show(n2))", at: e.span))
            return .error
        }
        guard s.inputs.count == 2, case .sequence? = s.output.map(program.resolve) else {
            report(Diagnostic(.argumentMismatch, "`\(s.name)` does not map a sequence and parameters to a sequence", at: inner.callee.span))
            return .error
        }
        guard let map = bindByName(s, e) else { return .error }
        calls[a.span] = ResolvedCall(callee: s.name, file: s.file, isBuiltin: false, dimensions: map, defaulted: [])
        return .real
    }

    /// E0405 for an argument of the built-in `callee` that is not `what` (nothing more for an argument already in error).
    private func builtinKindError(_ callee: String, _ what: String, _ arg: Expr, _ t: SemType) -> SemType {
        if t.isError { return .error }
        report(Diagnostic(.argumentMismatch, "`\(callee)` takes \(what), not \(show(t))", at: arg.span, label: show(t)))
        return .error
    }

    /// Binds every dimension of `s` to the experiment's hyperparameter of the same name; reports the
    /// unbound ones (E0305).
    func bindByName(_ s: Summary, _ e: Expr) -> [String: Dim]? {
        func isNatural(_ name: String) -> Bool {
            if case .nat? = lookup(name).map({ program.resolve($0.type) }) { return true } else { return false }
        }
        var map: [String: Dim] = [:]
        var unbound: [String] = []
        for name in s.allDims where !name.hasPrefix("length(") {
            if dimNames.contains(name) || (hyperparameters.contains(name) && isNatural(name)) {
                map[name] = .named(name)
            } else {
                unbound.append(name)
            }
        }
        guard unbound.isEmpty else {
            let list = unbound.map { "`\($0)`" }.joined(separator: ", ")
            var d = Diagnostic(.unboundHyperparameter, "hyperparameter\(unbound.count > 1 ? "s" : "") \(list) of `\(s.name)` \(unbound.count > 1 ? "are" : "is") not bound",
                               at: e.span)
            d.help = "give \(unbound.count > 1 ? "them" : "it") a value: `Hyperparameters: \(unbound[0]) = …`"
            report(d)
            return nil
        }
        return map
    }
}
