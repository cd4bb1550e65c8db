import AlgoDiagnostics
import AlgoSema
import AlgoSyntax
import AlgoTensor
import Foundation

/// The evaluator of checked programs (`algo run`): runs an algorithm's plan (`LoadedAlgorithm.plan`),
/// with every matrix operation going through AlgoTensor's `Variable` (no tape for inference; a
/// training run records the parameters on a tape and runs the same code).
///
/// It matches no syntax: names are read through the checker's bindings, and where the lowering
/// fused lines (`Lowering/Rules/`) it looks the node up by span and runs its executor (the
/// `Evaluator+…` file the rule names), whose run-time guard returns nil when the values do not
/// fit; the lines then run as written. A batched loop binds its variable to all of 1…ℓ at once
/// (`Value.grid`): `X[:, t]` is X, `x[t]` the token list, `e[i]` all rows.
public final class Evaluator {
    public let program: EvalProgram
    public var options: RunOptions
    var rng: RandomGenerator
    /// Warnings (step limit) collected during the run.
    public internal(set) var warnings: [Diagnostic] = []
    /// Per-line profile: (file, line) → (seconds, evaluator operations).
    public internal(set) var profile: [ProfileKey: ProfileEntry] = [:]
    var ops = 0
    var depth = 0
    var sourceCache: [String: String] = [:]
    /// Values of `P(θ)` inside one application of a function of θ (`loss(θ)` reads `P(θ)` ℓ − 1 times).
    var functionMemo: [String: Value]? = nil
    /// The frame of the outermost application of a function of θ: the only frame whose algorithm calls
    /// are memoised (`Evaluator+CallMemo`); inside a callee, statements assign.
    var memoFrame: Frame? = nil
    /// The caches of calls that reuse their prefix (`Evaluator+Sequences`), by call site.
    var prefixCaches: [SpanKey: PrefixCache] = [:]
    /// The loops over sequences running now whose call runs on chunks of them (`Evaluator+SequenceLoop`), by call site.
    var sequenceLoops: [SpanKey: SequenceLoopBatch] = [:]
    /// The tree of +0 that Adam's update in an evaluation pass assigns (`Evaluator+EvaluationAdam`), for the length of one `run`.
    var adamZeros: Value? = nil
    /// The parameter names of the last `run`, sorted (a run with the same names reuses the order).
    var sortedParameterNames: [String] = []
    /// Stacked per-head parameters by call site and the storage of their first tensor (one entry
    /// per layer), with the tensors they were stacked from (`Evaluator+Heads`).
    var stackCache: [StackKey: (parts: [Variable], stacked: Collection)] = [:]
    var stackCachedBytes = 0
    /// The value of every `loss(θ)` differentiated by `∇loss(θ)`, in order (one per SGD step).
    public internal(set) var losses: [Double] = []
    /// Each loss of `losses` in nats per predicted token, and the tokens it predicted (`Evaluator+LossUnit`).
    public internal(set) var tokenLosses: [Double] = []
    public internal(set) var predictedTokens: [Int] = []
    /// The value of every `∇loss(θ)`, with θ's structure, when `options.recordGradients` is set.
    public internal(set) var gradients: [Value] = []

    public struct ProfileKey: Hashable, Sendable { public let file: String; public let line: Int }
    /// One line's profile: time including what it calls (a loop's includes its body), operations,
    /// executions, and how the paper names it (`Evaluator+Profile`).
    public struct ProfileEntry: Sendable {
        public var seconds: Double = 0; public var operations: Int = 0; public var calls: Int = 0
        /// The algorithm, the paper's line number (nil for a line without one) and the line's source text.
        public var algorithm = "", paperLine: String? = nil, text = ""
        /// A loop or conditional: its time includes its body's lines.
        public var isLoop = false
        /// Time of the backward pass (`∇`) spent in the VJPs of the operations this line issued itself.
        public var backwardSeconds: Double = 0
    }
    /// File line of each statement profiled (the profile's key), computed once.
    var lineCache: [Span: Int] = [:]
    /// Time spent in a training monitor (checkpoints, held-out loss): not the lines' (`--profile`).
    var monitorNanos: UInt64 = 0
    /// `--profile` inside `∇loss(θ)`: the tape whose nodes are tagged with the line issuing them
    /// (`profileTags` numbers the lines), so the backward time goes to the lines (`Evaluator+Profile`).
    var profileTape: Tape? = nil
    var profileTags: [ProfileKey] = []
    var profileTagOf: [ProfileKey: Int] = [:]

    public init(program: EvalProgram, options: RunOptions = RunOptions()) {
        self.program = program
        self.options = options
        self.rng = RandomGenerator(seed: options.seed)
    }

    var dtype: DType { options.dtype }

    // MARK: - Entry

    /// Runs `algorithm` with top-level values: dimensions (`--set`), real hyperparameters, inputs by
    /// signature spelling (`x`, `X`, `e_{1:T}`), parameters by checkpoint name (`𝓦_2.W^3_q`).
    public func run(_ algorithm: LoadedAlgorithm, dims: [String: Int], reals: [String: Double] = [:],
                    inputs: [String: Value], parameters: [String: Variable], mask: MaskValue? = nil) throws -> Value {
        let f = Frame(algorithm)
        // The evaluation pass's tree of zeros is θ-sized: not kept past the run (a RunResult holding
        // this evaluator may live on through a training run).
        defer { adamZeros = nil }
        f.dims = dims
        for (k, v) in reals { f.vars[k] = .real(v) }
        for (k, v) in algorithm.realDefaults where f.vars[k] == nil { f.vars[k] = .real(v) }
        if let mask { f.vars["Mask"] = .mask(mask) }
        // Parameters: flat names, and collections for dotted prefixes (`𝓦_2.W^3_q` → `𝓦_2`).
        var whole = Collection()
        var prefixed: [String: Collection] = [:]
        var prefixOrder: [String] = []
        if sortedParameterNames.count != parameters.count || !sortedParameterNames.allSatisfy({ parameters[$0] != nil }) {
            sortedParameterNames = parameters.keys.sorted()
        }
        for name in sortedParameterNames {
            let v = Value.tensor(parameters[name]!)
            if let dot = name.firstIndex(of: ".") {
                let p = String(name[..<dot]), m = String(name[name.index(after: dot)...])
                if prefixed[p] == nil { prefixOrder.append(p); prefixed[p] = Collection() }
                prefixed[p]!.members.append((m, v))
            } else {
                whole.members.append((name, v))
                f.vars[name] = v
            }
        }
        for p in prefixOrder { whole.members.append((p, .collection(prefixed[p]!))); f.vars[p] = .collection(prefixed[p]!) }
        // Inputs.
        for sp in algorithm.inputs {
            guard case .name(let n) = sp.name.kind else { continue }
            if let v = inputs[n.spelling] {
                try bindInput(n, v, in: f)
            } else if sp.defaultValue == nil {
                if isUntyped(n.spelling, in: algorithm, kind: .input) {
                    f.vars[n.spelling] = .collection(whole)   // θ̂ of Algorithms 14, 15
                } else {
                    throw RuntimeError(.missingValue, "no value for the input `\(n.spelling)`; give it with `--input \(n.spelling)=…`", at: sp.span)
                }
            }
        }
        for sp in algorithm.inputs {
            guard case .name(let n) = sp.name.kind, f.vars[n.spelling] == nil, let d = sp.defaultValue else { continue }
            f.vars[n.spelling] = try eval(d, f)
        }
        // Signature parameters that are collections (`θ`, `𝓦`, `𝓦_qkv`) are the whole set.
        for sp in algorithm.parameters {
            guard case .name(let n) = sp.name.kind, f.vars[n.spelling] == nil else { continue }
            if n.spelling == "Mask" {
                throw RuntimeError(.missingValue, "no value for the hyperparameter `Mask`", at: sp.span)
            }
            if isCollection(n.spelling, in: algorithm) { f.vars[n.spelling] = .collection(whole) }
        }
        bindDimsFromShapes(f)
        let result = try execute(algorithm, f)
        return result
    }

    func bindInput(_ n: Name, _ v: Value, in f: Frame) throws {
        if case .family(let fam) = v, let i = n.scripts.lastIndex(where: { $0.raw.contains(":") }) {
            // A dataset `x_{1:N_data}`: element n is `x_n`.
            f.families[familyKey(n, i)] = fam
        } else if n.scripts.contains(where: { $0.raw.contains(":") }), case .tensor(let m) = v {
            // `e_{1:T}`: a family given as the columns of a matrix.
            let i = n.scripts.lastIndex { $0.raw.contains(":") }!
            f.families[familyKey(n, i)] = Family(columns: m.rank == 1 ? m.reshaped([m.shape[0], 1]) : m)
        } else {
            f.vars[n.spelling] = v
        }
    }

    func isUntyped(_ name: String, in a: LoadedAlgorithm, kind: HeaderKind) -> Bool {
        for l in a.header(kind) {
            guard case .declarations(let d) = l.content else { continue }
            for decl in d.declarations where decl.names.contains(where: { if case .name(let n) = $0.kind { return n.spelling == name } else { return false } }) {
                return decl.type == nil
            }
        }
        return false
    }

    func isCollection(_ name: String, in a: LoadedAlgorithm) -> Bool {
        for l in a.header(.parameters) {
            if case .collection(let c) = l.content, c.name.spelling == name { return true }
        }
        return isUntyped(name, in: a, kind: .parameters)
    }

    // MARK: - Calls

    /// Runs the algorithm `call` resolves to. `given`: parameter values by the span of their
    /// expression in the call, used instead of evaluating it, and `heads`: the callee runs
    /// head-batched (both from `Evaluator+Heads`); `logReturn`: its `return P = softmax(Z)` gives
    /// log-softmax(Z).
    /// `given` also holds argument values (by the span of the argument), and `sequences` the column
    /// layout of a sequence run (`Evaluator+Sequences`; by default the caller's).
    func callAlgorithm(_ call: Call, _ expr: Expr, _ caller: Frame, given: [Span: Value] = [:], heads: Int? = nil,
                       logReturn: Bool = false, sequences: SequenceColumns? = nil) throws -> Value {
        guard let resolved = caller.algorithm.calls[SpanKey(expr.span)], let calleeIndex = caller.algorithm.callees[SpanKey(expr.span)] else {
            throw RuntimeError(.notExecutable, "the call to `\(call.callee.spelling)` was not resolved by the checker", at: expr.span)
        }
        let callee = program.algorithms[calleeIndex]
        guard depth < 64 else { throw RuntimeError(.notExecutable, "calls nested deeper than 64", at: expr.span) }
        let f = Frame(callee)
        f.logReturn = logReturn
        f.heads = heads
        f.sequences = sequences ?? caller.sequences
        if let sc = f.sequences { enterSequenceContext(f, sc, caller: sequences == nil ? caller.sequenceContext : 0, expr) }   // Evaluator+SequenceContext
        f.dims = resolved.dimensionValues { caller.dims[$0] }
        // Real hyperparameters of the caller with the same name (τ).
        for h in callee.realHyperparameterNames {
            if let v = caller.vars[h] { f.vars[h] = v }
        }
        for (h, v) in callee.realDefaults where f.vars[h] == nil { f.vars[h] = .real(v) }
        // Inputs.
        for (k, sp) in callee.inputs.enumerated() {
            guard case .name(let n) = sp.name.kind else { continue }
            if k < call.arguments.count {
                try bindInput(n, try given[call.arguments[k].span] ?? eval(call.arguments[k], caller), in: f)
            }
        }
        for sp in callee.inputs {
            guard case .name(let n) = sp.name.kind, f.vars[n.spelling] == nil, let d = sp.defaultValue else { continue }
            f.vars[n.spelling] = try eval(d, f)
        }
        // Parameters: named bindings, then positional in order.
        var bound: Set<String> = []
        for p in call.parameters {
            guard let target = p.target else { continue }
            switch target.kind {
            case .name(let n):
                let v = try given[p.value.span] ?? eval(p.value, caller)
                if n.spelling == "Mask" {
                    switch v {
                    case .mask: f.vars["Mask"] = v
                    case .nat(let k): f.vars["Mask"] = .mask(.constant(Double(k)))
                    case .real(let r): f.vars["Mask"] = .mask(.constant(r))
                    case .tensor(let t): f.vars["Mask"] = .mask(.matrix(t.value))
                    default: throw RuntimeError(.invalidInput, "`Mask` bound to \(v.kindName)", at: p.span)
                    }
                } else {
                    f.vars[n.spelling] = v
                }
                bound.insert(n.spelling)
            case .index(let base, let idx):
                guard case .name(let n) = base.kind else { throw RuntimeError(.notExecutable, "this binding is not executable yet", at: p.span) }
                let vars = idx.compactMap { e -> String? in if case .name(let v) = e.kind { return v.spelling } else { return nil } }
                f.vars[n.spelling] = .mask(.rule(variables: vars, body: p.value, frame: caller))
                bound.insert(n.spelling)
            default:
                throw RuntimeError(.notExecutable, "this binding is not executable yet", at: p.span)
            }
        }
        let free = callee.parameters.compactMap { sp -> String? in
            if case .name(let n) = sp.name.kind, !bound.contains(n.spelling) { return n.spelling } else { return nil }
        }
        var k = 0
        for p in call.parameters where p.target == nil {
            guard k < free.count else { break }
            let name = free[k]; k += 1
            let v = try given[p.value.span] ?? eval(p.value, caller)
            f.vars[name] = v
        }
        bindDimsFromShapes(f)
        if let fused = fusedLayerNorm(callee, f) { return fused }   // Algorithm 6 as one fused node (Evaluator+LayerNorm)
        depth += 1
        defer { depth -= 1 }
        return try execute(callee, f)
    }

    /// Dimensions fixed by the shapes of inputs and parameters (`d_x` from X, `N_V` from W_e), from
    /// the declarations `LoadedAlgorithm.shapeDeclarations` lists in header order.
    func bindDimsFromShapes(_ f: Frame) {
        for (name, collection, dims) in f.algorithm.shapeDeclarations {
            let held: Value?
            if let collection, case .collection(let c)? = f.vars[collection] { held = c[name] } else { held = f.vars[name] }
            guard case .tensor(let v)? = held else { continue }
            for (axis, dn) in dims.enumerated() where axis < v.rank {
                if let dn, f.dims[dn] == nil, dims.count == v.rank || axis == 0 {
                    f.dims[dn] = v.shape[axis]
                }
            }
        }
    }

    // MARK: - Names

    /// `γ^1_l` with l = 2 → `γ^1_2`: scripts that are bound natural-number variables replaced by their values.
    func concreteSpelling(_ n: Name, _ f: Frame) -> String {
        Self.spelling(n) { raw in
            if case .nat(let v)? = f.vars[raw] { return v }
            return nil
        }
    }

    func substitute(_ n: Name, _ variable: String, _ value: Int) -> String {
        Self.spelling(n) { $0 == variable ? value : nil }
    }

    /// The checkpoint naming convention in one place: `n` spelled with every script whose raw text
    /// `index` maps to a value replaced by that value (`γ^1_l`, l = 2 → `γ^1_2`; `γ^1_{12}`).
    public static func spelling(_ n: Name, index: (String) -> Int?) -> String {
        n.base + n.scripts.map { s in
            if let v = index(s.raw) { return s.position.rawValue + indexText(v) }
            return ExprPrinter.print(s)
        }.joined()
    }

    /// An index value in a checkpoint name: braced from two digits on (`γ^1_{12}`).
    public static func indexText(_ v: Int) -> String { v >= 10 || v < 0 ? "{\(v)}" : "\(v)" }

    func familyKey(_ n: Name, _ i: Int) -> String { NameBinding.familyKey(n.base, n.scripts, index: i) }

    /// The value of the name expression at `span`, as the checker resolved it (`CheckedAlgorithm.bindings`).
    func lookup(_ name: Name, _ span: Span, _ f: Frame) throws -> Value {
        guard let b = f.algorithm.names[SpanKey(span)] else {
            throw RuntimeError(.notExecutable, "the name `\(name.spelling)` was not resolved by the checker", at: span)
        }
        if let slot = b.slot {
            if let v = f.vars[slot: slot] { return v }
            throw missing(name.spelling, span, f)
        }
        if let key = b.memberKey, case .member(let collection, _) = b.binding {
            guard case .collection(let c)? = f.vars[collection], let v = c[key] else { throw missing(key, span, f) }
            return v
        }
        return try value(of: b.binding, name, span, f, groupIndex: b.group)
    }

    /// `groupIndex`: a `.groupCollection`'s index in `LoadedAlgorithm.collectionGroups`, when the load found it.
    func value(of binding: NameBinding, _ name: Name, _ span: Span, _ f: Frame, groupIndex: Int? = nil) throws -> Value {
        switch binding {
        case .value(let spelling):
            if let v = f.vars[spelling] { return v }
            throw missing(spelling, span, f)
        case .member(let collection, let member):
            let key = concreteSpelling(member, f)
            guard case .collection(let c)? = f.vars[collection], let v = c[key] else { throw missing(key, span, f) }
            return v
        case .groupCollection(let collection, let group):
            // `𝓦^h_qkv`: the members of `𝓦` of head h, keyed without h (`W_q` for `W^h_q`).
            let groups = f.algorithm.collectionGroups
            guard case .collection(let parent)? = f.vars[collection],
                  let g = (groupIndex.map { groups[$0] } ?? groups.first(where: { $0.collection.spelling == Name.spell(group.base, group.scripts) })),
                  case .nat(let i)? = f.vars[g.variable] else { throw missing(concreteSpelling(group, f), span, f) }
            var sub = Collection()
            for (member, key) in g.members {
                guard let v = parent[substitute(member, g.variable, i)] else { throw missing(substitute(member, g.variable, i), span, f) }
                sub.members.append((key, v))
            }
            return .collection(sub)
        case .familyElement(let key, let index):
            guard let fam = f.families[key], index < name.scripts.count else { throw missing(concreteSpelling(name, f), span, f) }
            let idx = try eval(name.scripts[index].value, f)
            switch idx {
            case .nat(let t):
                guard let v = fam.element(t) else {
                    throw RuntimeError(.runtimeIndexOutOfRange, "`\(name.spelling)`: index \(t) is outside 1…\(fam.count)", at: span)
                }
                return v
            case .grid(let count, _):
                if let c = fam.columns, count == fam.count { return .tensor(c) }
                throw RuntimeError(.notExecutable, "a batched read of the family `\(name.spelling)` is not executable yet", at: span)
            default:
                throw RuntimeError(.invalidInput, "`\(name.spelling)`: the index is \(idx.kindName)", at: span)
            }
        case .dimension(let d):
            if let v = f.dims[d] { return .nat(v) }
            throw missing(d, span, f)
        case .specialToken(let token):
            guard let nv = f.dims["N_V"] else { throw missing("N_V", span, f) }
            return .nat(token.value(vocabulary: nv))
        case .constant(let c):
            return .real(c.value)
        case .power(let base, let exponent):
            let b = try value(of: base, Name(base: name.base, scripts: Array(name.scripts.dropLast()), span: name.span), span, f)
            return try power(b, try eval(exponent, f), span)
        }
    }

    func missing(_ spelling: String, _ span: Span, _ f: Frame) -> RuntimeError {
        RuntimeError(.missingValue, "`\(spelling)` has no value here", at: span,
                     notes: spelling.contains(".") || f.algorithm.header(.parameters).isEmpty ? [] : ["parameters are named by the convention of `algo params`"])
    }

    // MARK: - Values

    func scalar(_ d: Double) -> Variable { Variable(scalar: d, dtype: dtype) }

    func tensor(_ v: Value, _ span: Span) throws -> Variable {
        switch v {
        case .tensor(let t): return t
        case .nat(let n): return scalar(Double(n))
        case .real(let r): return scalar(r)
        case .bool(let b): return scalar(b ? 1 : 0)
        case .grid(let n, let axis):
            let values = (1...max(n, 1)).map(Double.init)
            return Variable(Tensor(shape: axis == 0 ? [n, 1] : [1, n], values: values, dtype: dtype))
        case .mask(.constant(let c)): return scalar(c)
        case .mask(.matrix(let m)): return Variable(m.converted(to: dtype))
        case .mask(.causal): throw RuntimeError(.invalidInput, "the causal Mask is used only indexed, `Mask[t_z, t_x]`", at: span)
        default: throw RuntimeError(.invalidInput, "expected a number, vector or matrix, found \(v.kindName)", at: span)
        }
    }

    func number(_ v: Value) -> Double? {
        switch v {
        case .nat(let n): return Double(n)
        case .real(let r): return r
        case .bool(let b): return b ? 1 : 0
        case .mask(.constant(let c)): return c
        case .tensor(let t) where t.value.count == 1 && t.rank <= 1: return t.value.doubles[0]
        default: return nil
        }
    }

    func power(_ base: Value, _ k: Value, _ span: Span) throws -> Value {
        guard let e = number(k) else { throw RuntimeError(.invalidInput, "the exponent is \(k.kindName)", at: span) }
        switch base {
        case .nat(let n) where e == e.rounded() && e >= 0: return .nat(Int(pow(Double(n), e)))
        case .nat, .real: return .real(pow(number(base)!, e))
        default: ops += 1; return .tensor(try tensor(base, span).pow(e))
        }
    }
}
