import AlgoDiagnostics
import AlgoSema
import AlgoSyntax
import AlgoTensor
import Foundation

/// Training (Algorithms 11–13): functions of θ, `∇`, member-wise arithmetic on parameter
/// collections, the random choice and set builders.
///
/// * `P(θ) ← DTransformer(x_n | θ)` and `loss(θ) = …` define functions (`Value.function`); applying
///   one evaluates its body in a copy of the defining frame with θ bound to the argument. Inside one
///   application, `P(θ)` is evaluated once (memoised by spelling), so `Σ_t log P(θ)[…, t]` runs the
///   transformer once, not ℓ − 1 times.
/// * `log P(θ)[i, t]`, with `P(θ)` a call whose callee returns `softmax(Z)`, is log-softmax(Z)[i, t]
///   (`Rules/LogSoftmax.swift`).
/// * `∇loss(θ)` records the forward on a fresh `Tape` with every tensor of θ as a parameter, takes
///   the gradients, and returns them with θ's structure (member names); the tape is dropped before
///   `θ ← θ − η · ∇loss(θ)` (member-wise) builds the new parameters.
/// * `a or b randomly with probability p or q`: one uniform draw from the run's generator (`--seed`)
///   per evaluation, in execution order; `a` when u < p.
extension Evaluator {
    /// `P(θ) ← …`, `loss(θ) = …`.
    func defineFunction(_ c: Call, _ value: Expr, _ s: Statement, _ f: Frame) throws {
        var params: [String] = []
        for a in c.arguments {
            guard case .name(let n) = a.kind else {
                throw RuntimeError(.notExecutable, "a function whose parameter is not a name is not executable yet", at: a.span)
            }
            params.append(n.spelling)
        }
        var logForm: LogForm? = nil
        if case .logSoftmaxReturn(let form)? = f.algorithm.plan.statements[SpanKey(s.span)] { logForm = form }
        f.vars[c.callee.spelling] = .function(FunctionValue(name: c.callee.spelling, parameters: params, body: value, frame: f, logForm: logForm))
    }

    /// `P(θ)` (or, with `log`, log P(θ)) at a call site, memoised inside an enclosing application.
    func applyFunction(_ fn: FunctionValue, _ c: Call, _ e: Expr, _ f: Frame, log: Bool = false) throws -> Value {
        guard c.arguments.count == fn.parameters.count, c.parameters.isEmpty else {
            throw RuntimeError(.invalidInput, "`\(fn.name)` takes \(fn.parameters.count) argument(s)", at: e.span)
        }
        var key: String? = (log ? "log " : "") + fn.name + "("
        for a in c.arguments { if case .name(let n) = a.kind { key! += n.spelling + "," } else { key = nil; break } }
        if let key, let v = functionMemo?[key] { return v }
        let args = try c.arguments.map { try eval($0, f) }
        let v = try apply(fn, args, log: log, e.span)
        if let key, functionMemo != nil { functionMemo![key] = v }
        return v
    }

    func apply(_ fn: FunctionValue, _ args: [Value], log: Bool, _ span: Span) throws -> Value {
        let g = fn.frame.copy()
        for (p, a) in zip(fn.parameters, args) { g.vars[p] = a }
        let outer = functionMemo == nil
        if outer { functionMemo = [:]; memoFrame = g }
        defer { if outer { functionMemo = nil; memoFrame = nil } }
        return log ? try logOfApplication(fn, g, span) : try eval(fn.body, g)
    }

    /// `∇loss(θ)`: the gradient of a scalar function of θ, with θ's structure; in an evaluation pass
    /// (`RunOptions.applyGradients` off) zeros with θ's structure, after loss(θ) is evaluated and recorded.
    func gradient(_ a: Expr, _ e: Expr, _ f: Frame) throws -> Value {
        let tape = options.applyGradients ? Tape() : nil
        let (θ, loss, leaves) = try differentiatedLoss(a, e, f, tape: tape)
        guard let tape else { return zeros(like: θ) }
        let grads = tape.gradients(of: loss, wrt: leaves, releasing: true)  // activations freed as the gradients accumulate
        if options.profile { addBackward(tape) }
        var k = 0
        let g = rebuild(θ, grads, &k)
        if options.recordGradients { gradients.append(g) }
        return g
    }

    /// The forward half of `∇loss(θ)` (`a` is `loss(θ)`): θ's value, loss(θ) (a finite scalar,
    /// appended to `losses`), and θ's tensors as the tape's leaves when `tape` records.
    func differentiatedLoss(_ a: Expr, _ e: Expr, _ f: Frame, tape: Tape?) throws -> (θ: Value, loss: Variable, leaves: [Variable]) {
        guard case .call(let c) = a.kind, case .function(let fn)? = f.vars[c.callee.spelling], c.arguments.count == 1 else {
            throw RuntimeError(.notExecutable, "`∇` applies to a function of θ defined before (`loss(θ) = …`), as `∇loss(θ)`", at: e.span)
        }
        let θ = try eval(c.arguments[0], f)
        let outerTape = profileTape
        if options.profile, let tape { tape.timesBackward = true; profileTape = tape }
        defer { profileTape = outerTape }
        var leaves: [Variable] = []
        let argument = try tape.map { try record(θ, $0, &leaves, c.arguments[0].span) } ?? θ
        let v = try apply(fn, [argument], log: false, e.span)
        let loss = try tensor(v, e.span)
        guard loss.value.count == 1 else {
            throw RuntimeError(.invalidInput, "`\(fn.name)(θ)` is not a number (shape \(loss.shape)); `∇` needs a scalar function", at: e.span)
        }
        let l = loss.value.doubles[0]
        guard l.isFinite else {
            throw RuntimeError(.nonFinite, "`\(fn.name)(θ)` is \(l) (step \(losses.count + 1))", at: e.span,
                               notes: ["a smaller learning rate η (`--set η=…`) may keep training stable"])
        }
        losses.append(l)
        recordLossUnit(fn, l)
        return (θ, loss, leaves)
    }

    /// The executor of `Rules/EvaluationUpdate.swift` at `θ ← θ − η · ∇loss(θ)`: in an evaluation
    /// pass, loss(θ) evaluated and recorded as `∇loss(θ)` does, and θ's value itself, which is what
    /// θ − η · 0 gives entry for entry when η in the run's dtype is finite and ≥ +0 (the rule's
    /// argument). nil when the guard fails: not an evaluation pass, θ not tensors of the run's
    /// dtype, η not such a number (nothing has run then; the line runs as written).
    func keptParameters(_ form: EvaluationUpdateForm, _ f: Frame) throws -> Value? {
        guard !options.applyGradients, case .unary(.gradient, let loss) = form.gradient.kind else { return nil }
        let θ = try eval(form.parameters, f)
        guard isParameters(θ), let η = scalarNumber(try eval(form.rate, f)) else { return nil }
        let converted = scalar(η).value.doubles[0]   // η as the product sees it
        guard converted.isFinite, converted.sign == .plus else { return nil }
        ops += 1
        _ = try differentiatedLoss(loss, form.gradient, f, tape: nil)
        return θ
    }

    /// A tensor of the run's dtype, or a collection of such (nested): parameters an evaluation pass can keep.
    func isParameters(_ v: Value) -> Bool {
        switch v {
        case .tensor(let t): return t.dtype == dtype
        case .collection(let c): return c.members.allSatisfy { isParameters($0.value) }
        default: return false
        }
    }

    func record(_ v: Value, _ tape: Tape, _ leaves: inout [Variable], _ span: Span) throws -> Value {
        switch v {
        case .tensor(let t):
            let p = tape.parameter(t.value)
            leaves.append(p)
            return .tensor(p)
        case .collection(let c):
            var out = Collection()
            for m in c.members { out.members.append((m.name, try record(m.value, tape, &leaves, span))) }
            return .collection(out)
        default:
            throw RuntimeError(.invalidInput, "`∇` with respect to \(v.kindName)", at: span)
        }
    }

    func rebuild(_ v: Value, _ grads: [Tensor], _ k: inout Int) -> Value {
        switch v {
        case .tensor:
            k += 1
            return .tensor(Variable(grads[k - 1]))
        case .collection(let c):
            var out = Collection()
            for m in c.members { out.members.append((m.name, rebuild(m.value, grads, &k))) }
            return .collection(out)
        default: return v
        }
    }

    func zeros(like v: Value) -> Value {
        switch v {
        case .tensor(let t): return .tensor(Variable(Tensor.zeros(t.shape, dtype: t.dtype)))
        case .collection(let c): return .collection(Collection(c.members.map { ($0.name, zeros(like: $0.value)) }))
        default: return v
        }
    }

    /// Collections are values (`Sources/AlgoSema/README.md`): `+`, `−`, `⊙`, `/` of two collections of
    /// the same structure act member by member (matched by name), element-wise; a scalar times, added
    /// to, subtracted from or dividing a collection (`η · g`, `β_1 m`, `√v̂ + ε`, `m/(1 − β_1^s)`, `0 · θ`)
    /// acts on every entry. The one mechanism behind `θ ← θ − η · ∇loss(θ)` and Adam's moment updates.
    ///
    /// The operands are consumed: a member that nothing else holds (a gradient fresh from `∇`, an
    /// intermediate such as `η · ∇loss(θ)`) receives the result in its own buffer
    /// (`Variable.binary(_:consuming:_:)`), so `θ − η · ∇loss(θ)` allocates nothing beyond the
    /// gradient, and θ itself, still held by the frame, is read, never overwritten.
    func memberwise(_ op: BinaryOperator, _ x: consuming Value, _ y: consuming Value, _ e: Expr) throws -> Value {
        let xIsCollection: Bool, yIsCollection: Bool
        if case .collection = x { xIsCollection = true } else { xIsCollection = false }
        if case .collection = y { yIsCollection = true } else { yIsCollection = false }
        switch (xIsCollection, yIsCollection) {
        case (true, true):
            guard op == .add || op == .subtract || op == .hadamard || op == .divide else {
                throw RuntimeError(.notExecutable, "`\(op.rawValue)` of two parameter collections is not executable", at: e.span)
            }
            var a = Self.takeMembers(&x)!, b = Self.takeMembers(&y)!
            guard a.map(\.name) == b.map(\.name) else {
                throw RuntimeError(.invalidInput, "the parameter collections have different members", at: e.span)
            }
            var out = Collection()
            for k in a.indices {
                let l = a[k].value, r = b[k].value
                a[k].value = .nat(0); b[k].value = .nat(0)
                out.members.append((a[k].name, try memberwise(op, consume l, consume r, e)))
            }
            return .collection(out)
        case (true, false), (false, true):
            // One collection and a number: the number applies to every member, on its own side.
            let onLeft = xIsCollection
            let number = onLeft ? y : x
            guard scalarNumber(number) != nil || isScalarTensor(number), op != .hadamard else {
                let what = onLeft ? "a parameter collection combined with \(y.kindName)" : "\(x.kindName) combined with a parameter collection"
                throw RuntimeError(.invalidInput, what, at: e.span)
            }
            var a = onLeft ? Self.takeMembers(&x)! : Self.takeMembers(&y)!
            var out = Collection()
            for k in a.indices {
                let m = a[k].value
                a[k].value = .nat(0)
                let value = onLeft ? try memberwise(op, consume m, copy number, e) : try memberwise(op, copy number, consume m, e)
                out.members.append((a[k].name, value))
            }
            return .collection(out)
        case (false, false):
            let l = try tensor(x, e.span), r = try tensor(y, e.span)
            x = .nat(0); y = .nat(0)   // the operands' last references are now `l` and `r`
            try broadcastable(l, r, e)
            ops += 1
            let kernel: BinaryOp
            switch op {
            case .add: kernel = .add
            case .subtract: kernel = .sub
            case .divide: kernel = .div
            default: kernel = .mul
            }
            return .tensor(Variable.binary(kernel, consuming: consume l, consume r))
        }
    }

    /// The members of a collection value, each moved out (replaced by a placeholder) and `v` left
    /// `.nat(0)`, so that a temporary's tensors are uniquely referenced when they reach an
    /// element-wise operation that may write into their buffers; nil for a value that is no collection.
    static func takeMembers(_ v: inout Value) -> [(name: String, value: Value)]? {
        guard case .collection(var c) = v else { return nil }
        v = .nat(0)
        var out: [(name: String, value: Value)] = []
        out.reserveCapacity(c.members.count)
        for k in c.members.indices {
            let m = c.members[k]
            c.members[k].value = .nat(0)
            out.append(m)
        }
        return out
    }

    /// A real scalar held as a tensor (`[]` or `[1]`).
    func isScalarTensor(_ v: Value) -> Bool {
        if case .tensor(let t) = v { return t.shape.reduce(1, *) == 1 && t.rank <= 1 }
        return false
    }

    /// `√v̂`, `−g`, `g^2`: a unary operation or power of a collection acts on every entry.
    func memberwiseMap(_ v: Value, _ f: (Value) throws -> Value) rethrows -> Value {
        guard case .collection(let c) = v else { return try f(v) }
        return .collection(Collection(try c.members.map { ($0.name, try memberwiseMap($0.value, f)) }))
    }

    /// `a or b randomly with probability p or q`: one uniform draw u; the first option whose
    /// cumulative probability exceeds u.
    func randomChoice(_ options: [Expr], _ probabilities: [Expr], _ e: Expr, _ f: Frame) throws -> Value {
        guard options.count == probabilities.count, options.count >= 2 else {
            throw RuntimeError(.notExecutable, "a random choice needs one probability per option", at: e.span)
        }
        var ps: [Double] = []
        for p in probabilities {
            guard let x = number(try eval(p, f)), x >= 0, x <= 1 else {
                throw RuntimeError(.invalidInput, "a probability of the random choice is not a number in [0, 1]", at: p.span)
            }
            ps.append(x)
        }
        guard abs(ps.reduce(0, +) - 1) < 1e-9 else {
            throw RuntimeError(.invalidInput, "the probabilities of the random choice sum to \(ps.reduce(0, +)), not 1", at: e.span)
        }
        let u = rng.uniform()
        var acc = 0.0
        for (k, p) in ps.enumerated() {
            acc += p
            if u < acc { return try eval(options[k], f) }
        }
        return try eval(options[options.count - 1], f)
    }

    /// `{t ∈ [ℓ] : condition}`: the positions where the condition holds.
    func setBuilder(_ variable: Name, _ domain: TypeExpr, _ condition: Expr, _ e: Expr, _ f: Frame) throws -> Value {
        guard case .range(let de) = domain.kind, case .nat(let n) = try eval(de, f) else {
            throw RuntimeError(.notExecutable, "a set over this domain is not executable yet (only `{t ∈ [n] : …}`)", at: domain.span)
        }
        let v = variable.spelling
        let saved = f.vars[v]
        defer { f.vars[v] = saved }
        var out: [Int] = []
        for t in stride(from: 1, through: n, by: 1) {
            f.vars[v] = .nat(t)
            if try truth(try eval(condition, f), condition.span) { out.append(t) }
        }
        return .indexSet(out)
    }

    /// The elements of `T̃` or `[n]` in `Σ_{t∈T̃}`.
    func members(_ set: TypeExpr, _ f: Frame) throws -> [Int] {
        switch set.kind {
        case .named(let n):
            // A set is a local of the frame (`T̃ ← {t ∈ [ℓ] : …}`).
            switch f.vars[n.spelling] {
            case .indexSet(let s)?: return s
            case let v?: throw RuntimeError(.invalidInput, "`\(n.spelling)` is \(v.kindName), not a set of positions", at: set.span)
            case nil: throw missing(n.spelling, set.span, f)
            }
        case .range(let de):
            guard case .nat(let n) = try eval(de, f) else { throw RuntimeError(.invalidInput, "the range is not a natural number", at: de.span) }
            return n >= 1 ? Array(1...n) : []
        default:
            throw RuntimeError(.notExecutable, "a Σ over this set is not executable yet", at: set.span)
        }
    }

    /// `x̃_n[t] ← token`: one position of a token sequence `old` (created with the loop's length).
    func settingToken(_ old: Value?, _ t: Int, _ token: Int, of name: String, _ f: Frame, _ span: Span) throws -> Value {
        var seq: [Int]
        let n = try loopCount(f) ?? t
        if case .tokens(let o)? = old, o.count == n { seq = o } else { seq = Array(repeating: 0, count: max(n, t)) }
        guard t >= 1, t <= seq.count else {
            throw RuntimeError(.runtimeIndexOutOfRange, "position \(t) of `\(name)` is outside 1…\(seq.count)", at: span)
        }
        seq[t - 1] = token
        return .tokens(seq)
    }
}
