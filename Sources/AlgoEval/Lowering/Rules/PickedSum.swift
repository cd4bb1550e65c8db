import AlgoSema
import AlgoSyntax

/// `Σ_{t=a}^{b} A[i(t), j(t)]` and `Σ_{t=a}^{b} log P(θ)[i(t), j(t)]` (the loss of Alg. 11, 13,
/// and `log C(x_n | θ)[…]/B` for an algorithm call C, DTrainingMinibatch's: the log and the quotient
/// taken of each picked entry, as each term takes them;
/// `i(t) = x_n[t+1]`, `j(t) = t`; with `t ∈ T̃`, Alg. 12) as one pick of the entries and one sum:
/// `A [m, n]` → columns `j(t)` for every t (a slice when consecutive, else a gather `[m, count]`)
/// → `pick(rows: i(t))` `[count]` → sum `[1]`, three tape nodes instead of two per term. The same
/// value as the term-by-term loop up to the order of the Float32 additions.
///
/// Precondition (proven here): the summed entry's base does not mention t, and is a name (a
/// lookup), `P(θ)` for a function of θ (`log P(θ)[…]`) or an algorithm call (`log C(…)[…]`, one
/// memoised call per application); a divisor does not mention t. Run-time guard (`Evaluator.pickedSum`):
/// at least two terms, `P` is a function memoised in the enclosing application (evaluated once
/// either way), the base is a matrix, and both indices evaluate to naturals inside its bounds for
/// every t; otherwise the terms are summed as written (and an index out of range is reported as
/// the loop reports it).
struct PickedSumRule: ExpressionRule {
    let id = RuleID.pickedSum

    func match(_ e: Expr, in a: CheckedAlgorithm) -> FusedExpression? {
        guard case .sum(let s) = e.kind, let variable = Matching.summationVariable(s, overSets: true) else { return nil }
        var target = s.body
        var divisor: Expr? = nil
        if case .binary(.divide, let term, let d) = s.body.kind, !d.mentions(variable) { target = term; divisor = d }   // `…/B`
        var function: Call? = nil
        var logOfEntries = false
        if case .call(let c) = target.kind, a.calls[target.span]?.builtin == .log, c.arguments.count == 1,
           case .index(let base, _) = c.arguments[0].kind, case .call(let pc) = base.kind {
            if a.calls[base.span] == nil {
                function = pc        // `log P(θ)[…]`: P a function of θ (the checker resolved no algorithm)
            } else if a.calls[base.span]?.isBuiltin == false {
                logOfEntries = true  // `log C(x_n | θ)[…]`: an algorithm's result (memoised per call), log of each entry
            } else { return nil }
            target = c.arguments[0]
        }
        guard case .index(let base, let idx) = target.kind, idx.count == 2, !base.mentions(variable) else { return nil }
        if function == nil, !logOfEntries, !Matching.isName(base) { return nil }
        return .pickedSum(PickedSumForm(variable: variable, base: base, rows: idx[0], columns: idx[1], logOf: function,
                                        logOfEntries: logOfEntries, divisor: divisor))
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
    /// `log C(…)[…]` for an algorithm call C: the log of each picked entry (as each term takes it).
    var logOfEntries = false
    /// `…/B`: each term divided by it (not depending on t).
    var divisor: Expr? = nil
}
