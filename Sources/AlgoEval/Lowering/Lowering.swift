import AlgoDiagnostics
import AlgoSema
import AlgoSyntax

/// Lowering: a checked algorithm → its `AlgorithmPlan`, once, when the program is loaded. Every
/// block is walked once: at each statement the statement rules are tried, in every expression
/// (`Expr.first`, the one walker) the expression rules, and the algorithm rules on the whole body.
/// What no rule matches runs as written.
enum Lowering {
    static let expressionRules: [any ExpressionRule] = [AffineBiasRule(), TransposedProductRule(), PickedSumRule(), LogSoftmaxRule(), RowSumRule(), SGDUpdateRule()]
    static let statementRules: [any StatementRule] = [CausalAttentionRule(), LogSoftmaxRule(), MaskedSelectRule(), ColumnLoopRule(), EvaluationUpdateRule(), EvaluationAdamRule(), AdamStepRule()]
    static let algorithmRules: [any AlgorithmRule] = [LayerNormRule()]

    /// `program`: where the callees of calls are found (rules that look at a callee's body: head
    /// batching, the call memo).
    static func lower(_ a: CheckedAlgorithm, in program: CheckedProgram) -> AlgorithmPlan {
        let callee: @Sendable (ResolvedCall) -> CheckedAlgorithm? = { r in
            program.algorithms.first { $0.file == r.file && $0.syntax.title.signature?.name.spelling == r.callee }
        }
        let statementRules = Self.statementRules + [HeadBatchingRule(callee: callee), SequenceLoopBatchingRule(callee: callee)]
        let expressionRules = Self.expressionRules + [CallMemoRule(callee: callee), SequenceBatchingRule(callee: callee), PrefixReuseRule(callee: callee)]
        var plan = AlgorithmPlan()
        plan.unsupported = firstUnsupported(a.syntax.body)
        for r in algorithmRules {
            if let node = r.match(a) { plan.algorithm = node; plan.fired.append((r.id, a.syntax.span)); break }
        }
        func block(_ body: [Statement]) {
            for (i, s) in body.enumerated() {
                for r in statementRules {
                    if let node = r.match(body, at: i, in: a) { plan.statements[SpanKey(s.span)] = node; plan.fired.append((r.id, s.span)); break }
                }
                for e in s.expressions {
                    _ = e.first { x -> Bool? in
                        for r in expressionRules {
                            if let node = r.match(x, in: a) { plan.expressions[SpanKey(x.span)] = node; plan.fired.append((r.id, x.span)); break }
                        }
                        return nil
                    }
                }
                block(s.substatements)
            }
        }
        block(a.syntax.body)
        plan.fired.sort { $0.span.start < $1.span.start }
        return plan
    }

    /// The first construct the evaluator does not execute (a function whose parameter is not a
    /// name, `∇` of anything but `∇loss(θ)`), found at load time and reported before anything runs.
    static func firstUnsupported(_ body: [Statement]) -> (message: String, span: Span)? {
        for s in body {
            switch s.kind {
            case .assign(let target, _, let value):
                if case .call(let c) = target.kind, !c.arguments.allSatisfy({ if case .name = $0.kind { return true } else { return false } }) {
                    return ("a function whose parameter is not a name is not executable yet", s.span)
                }
                if let r = unsupported(value) { return r }
            case .returnValue(_, let v): if let r = unsupported(v) { return r }
            case .forLoop(let l): if let r = firstUnsupported(l.body) { return r }
            case .forAll(_, let b): if let r = firstUnsupported([b]) { return r }
            case .ifThen(let i): if let r = firstUnsupported(i.body) { return r }
            case .whileLoop(let w): if let r = firstUnsupported(w.body) { return r }
            case .sample, .comment, .error: break
            }
        }
        return nil
    }

    /// A `∇` of anything but a function of θ applied to one argument (`∇loss(θ)`).
    static func unsupported(_ e: Expr) -> (message: String, span: Span)? {
        e.first { x in
            guard case .unary(.gradient, let a) = x.kind else { return nil }
            if case .call(let c) = a.kind, c.arguments.count == 1 { return nil }
            return ("`∇` of anything but a function of θ (`∇loss(θ)`) is not executable yet", x.span)
        }
    }
}
