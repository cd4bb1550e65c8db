import AlgoSema
import AlgoSyntax

/// Lowering: a checked algorithm → its `AlgorithmPlan`, once, when the program is loaded. Every
/// block is walked once: at each statement the statement rules are tried, in every expression
/// (`Expr.first`, the one walker) the expression rules, and the algorithm rules on the whole body.
/// What no rule matches runs as written.
enum Lowering {
    static let expressionRules: [any ExpressionRule] = [AffineBiasRule(), TransposedProductRule(), PickedSumRule()]
    static let statementRules: [any StatementRule] = [CausalAttentionRule()]
    static let algorithmRules: [any AlgorithmRule] = [LayerNormRule()]

    /// `program`: where the callees of calls are found (rules that look at a callee's body: head batching).
    static func lower(_ a: CheckedAlgorithm, in program: CheckedProgram) -> AlgorithmPlan {
        let callee: @Sendable (ResolvedCall) -> CheckedAlgorithm? = { r in
            program.algorithms.first { $0.file == r.file && $0.syntax.title.signature?.name.spelling == r.callee }
        }
        let statementRules = Self.statementRules + [HeadBatchingRule(callee: callee)]
        let expressionRules = Self.expressionRules + [SequenceBatchingRule(callee: callee), PrefixReuseRule(callee: callee)]
        var plan = AlgorithmPlan()
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
}
