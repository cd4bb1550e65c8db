import AlgoSema
import AlgoSyntax

/// `Σ_{t=a}^{b} A[i(t), j(t)]` and `Σ_{t=a}^{b} log P(θ)[i(t), j(t)]` (the loss of Alg. 11, 13,
/// `i(t) = x_n[t+1]`, `j(t) = t`; with `t ∈ T̃`, Alg. 12) as one pick of the entries and one sum:
/// `A [m, n]` → columns `j(t)` for every t (a slice when consecutive, else a gather `[m, count]`)
/// → `pick(rows: i(t))` `[count]` → sum `[1]`, three tape nodes instead of two per term. The same
/// value as the term-by-term loop up to the order of the Float32 additions.
///
/// Precondition (proven here): the summed entry's base does not mention t, and is a name (a
/// lookup) or `P(θ)` for a function of θ (`log P(θ)[…]`). Run-time guard (`Evaluator.pickedSum`):
/// at least two terms, `P` is a function memoised in the enclosing application (evaluated once
/// either way), the base is a matrix, and both indices evaluate to naturals inside its bounds for
/// every t; otherwise the terms are summed as written (and an index out of range is reported as
/// the loop reports it).
struct PickedSumRule: ExpressionRule {
    let id = RuleID.pickedSum

    func match(_ e: Expr, in a: CheckedAlgorithm) -> FusedExpression? {
        guard case .sum(let s) = e.kind, let variable = Matching.summationVariable(s, overSets: true) else { return nil }
        var target = s.body
        var function: Call? = nil
        if case .call(let c) = s.body.kind, a.calls[s.body.span]?.builtin == .log, c.arguments.count == 1,
           case .index(let base, _) = c.arguments[0].kind, case .call(let pc) = base.kind, a.calls[base.span] == nil {
            target = c.arguments[0]   // `log P(θ)[…]`: P a function of θ (the checker resolved no algorithm)
            function = pc
        }
        guard case .index(let base, let idx) = target.kind, idx.count == 2, !base.mentions(variable) else { return nil }
        if function == nil, !Matching.isName(base) { return nil }
        return .pickedSum(PickedSumForm(variable: variable, base: base, rows: idx[0], columns: idx[1], logOf: function))
    }
}

/// The parts of a matched picked sum.
struct PickedSumForm: Sendable {
    /// The summation variable (`t`).
    let variable: String
    /// The matrix (`A`, or `P(θ)` when `logOf` is set), and the row and column index of a term.
    let base: Expr, rows: Expr, columns: Expr
    /// `P(θ)` of `log P(θ)[…]`: the function applied with log-softmax.
    let logOf: Call?
}
