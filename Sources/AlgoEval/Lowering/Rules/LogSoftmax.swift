import AlgoSema
import AlgoSyntax

/// The log of a softmax as log-softmax: `log(softmax(Z))` is `Z − log Σ exp Z` per column
/// (`Variable.logSoftmaxColumns`), one stable operation instead of a softmax whose small entries
/// underflow before the log, and one tape node instead of two. It serves the training losses:
///
///     P(θ) ← DTransformer(x_n | θ)                       (Alg. 11 line 4; DTransformer returns softmax(W_u X))
///     loss(θ) = −Σ_{t=1}^{ℓ−1} log P(θ)[x_n[t+1], t]      (line 5)
///
/// The lowering marks where a log meets a softmax:
/// * at a `log(…)` call (`FusedExpression.logSoftmax`): `log softmax(Z)`; `log P(θ)` and
///   `log P(θ)[i, t]` with P a function of θ the algorithm defines (its log form is asked for);
/// * at a statement (`FusedStatement.logSoftmaxReturn`): `return softmax(Z)` (what the algorithm
///   gives when its caller asks for the log: `Frame.logReturn`), a definition `P(θ) ← softmax(Z)`,
///   and `P(θ) ← A(…)` of an algorithm A (the log is passed on to A's return).
///
/// Precondition (proven here): softmax is the builtin (`ResolvedCall.builtin`) with one argument;
/// `P` is defined in the algorithm as a function of θ (`P(θ) ← …`, no algorithm of that name
/// resolved at the call). Run-time guard (`Evaluator.logOf`): P's value in the frame is a function.
/// Fallback (the rule off, or no match): the log of the value as written, `log(softmax(Z))`.
struct LogSoftmaxRule: ExpressionRule, StatementRule {
    let id = RuleID.logSoftmax

    func match(_ e: Expr, in a: CheckedAlgorithm) -> FusedExpression? {
        guard case .call(let c) = e.kind, a.calls[e.span]?.builtin == .log, c.arguments.count == 1 else { return nil }
        let arg = c.arguments[0]
        if let z = Self.softmaxArgument(arg, a) { return .logSoftmax(.softmax(argument: z)) }
        if case .call(let pc) = arg.kind, Self.isFunction(pc, arg, a) { return .logSoftmax(.function(call: pc, applied: arg)) }
        if case .index(let base, let idx) = arg.kind, case .call(let pc) = base.kind, Self.isFunction(pc, base, a) {
            return .logSoftmax(.indexedFunction(call: pc, applied: base, indices: idx, indexed: arg))
        }
        return nil
    }

    func match(_ body: [Statement], at i: Int, in a: CheckedAlgorithm) -> FusedStatement? {
        switch body[i].kind {
        case .returnValue(_, let v):
            return Self.softmaxArgument(v, a).map { .logSoftmaxReturn(.softmax(argument: $0)) }
        case .assign(let t, _, let v):
            guard case .call = t.kind else { return nil }   // a definition `P(θ) ← …`
            if let z = Self.softmaxArgument(v, a) { return .logSoftmaxReturn(.softmax(argument: z)) }
            if case .call(let c) = v.kind, let r = a.calls[v.span], !r.isBuiltin { return .logSoftmaxReturn(.callee(call: c, expr: v)) }
            return nil
        case .forLoop, .forAll, .ifThen, .whileLoop, .sample, .comment, .error: return nil
        }
    }

    /// Z of `softmax(Z)` (the builtin, one argument, no parameters).
    static func softmaxArgument(_ e: Expr, _ a: CheckedAlgorithm) -> Expr? {
        guard case .call(let c) = e.kind, a.calls[e.span]?.builtin == .softmax, c.arguments.count == 1, c.parameters.isEmpty else { return nil }
        return c.arguments[0]
    }

    /// Whether `P(θ)` at `e` applies a function of θ the algorithm defines (`P(θ) ← …`).
    static func isFunction(_ c: Call, _ e: Expr, _ a: CheckedAlgorithm) -> Bool {
        guard a.calls[e.span] == nil else { return false }   // the checker resolved no algorithm or builtin
        return a.syntax.body.contains { s in
            s.contains(statement: { st in
                if case .assign(let t, _, _) = st.kind, case .call(let d) = t.kind { return d.callee.spelling == c.callee.spelling }
                return false
            }, expression: { _ in false })
        }
    }
}

/// What the log of an expression is, when a log meets a softmax (`Rules/LogSoftmax.swift`). Indirect:
/// a function of θ holds one (`FunctionValue.logForm`), and a `Value` is as large as its largest case.
indirect enum LogForm: Sendable {
    /// `softmax(Z)`: log-softmax of Z's columns.
    case softmax(argument: Expr)
    /// `P(θ)` of a function of θ: P applied in its log form (its definition's `logSoftmaxReturn`).
    case function(call: Call, applied: Expr)
    /// `P(θ)[i, t]`: the entries of P's log form.
    case indexedFunction(call: Call, applied: Expr, indices: [Expr], indexed: Expr)
    /// `A(…)` of an algorithm: A runs with `Frame.logReturn`, its `return` giving the log.
    case callee(call: Call, expr: Expr)
}
