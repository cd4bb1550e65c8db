import AlgoSema
import AlgoSyntax

/// `Σ_{i=1}^{n} … e[i] …` (Algorithm 6's mean and variance, RMSnorm's mean square) as one sum over
/// the rows: i is bound to the grid 1…n along the first axis (`Value.grid`), so `e[i]` is e itself
/// (all rows; `[d, ℓ]` in a column-batched call), the body is evaluated once, and its rows are
/// summed (`Variable.sum(axis: 0)`): two operations instead of about 3n.
///
/// Precondition (proven here, `onlyIndexes`): the body reads i, and only as the whole single index
/// of a name (`e[i]`); a transpose, call, Σ, list or tuple in the body does not mention i at all.
/// Run-time guard (`Evaluator.sum`): the sum starts at 1 and has at least one term, and the body's
/// value has n rows; otherwise, and with the rule off, the terms are summed one by one.
struct RowSumRule: ExpressionRule {
    let id = RuleID.rowSum

    func match(_ e: Expr, in a: CheckedAlgorithm) -> FusedExpression? {
        guard case .sum(let s) = e.kind, let variable = Matching.summationVariable(s, overSets: false) else { return nil }
        guard s.body.mentions(variable), Self.onlyIndexes(s.body, variable) else { return nil }
        return .rowSum(variable: variable)
    }

    /// Whether every occurrence of `v` is a whole single index `A[v]` of a name (so a Σ over `v`
    /// can run once over all rows). A transpose, call, Σ or list must not mention `v` at all.
    static func onlyIndexes(_ e: Expr, _ v: String) -> Bool {
        switch e.kind {
        case .index(let a, let i) where i.count == 1:
            if case .name(let n) = i[0].kind, n.spelling == v, case .name = a.kind { return !a.mentions(v) }
        case .transpose, .call, .sum, .list, .tuple: return !e.mentions(v)
        case .name(let n) where n.spelling == v: return false
        default: break
        }
        return e.children.allSatisfy { onlyIndexes($0, v) }
    }
}
