import AlgoSema
import AlgoSyntax

/// A loop over the columns run once on all of them: the inline loops of Algorithms 8–10,
///
///     for t ∈ [ℓ] : e_t ← W_e[:, x[t]] + W_p[:, t]          (line 2)
///     for t ∈ [ℓ] : X̃[:, t] ← layer_norm(X[:, t] | γ, β)    (lines 5, 7, 10)
///
/// run with t bound to all of 1…ℓ (`Value.grid`): `X[:, t]` is X, `x[t]` the token list (one
/// gather of W_e), `W_p[:, t]` the first ℓ columns, a callee receives `[d, ℓ]` as its vector, and
/// the assignment writes every column (or every element of the family e) at once. So a model's
/// operation count does not depend on ℓ.
///
/// Precondition (proven here): an inline loop whose one statement assigns either `A[:, t]` in a
/// loop the checker marked independent (`CheckedAlgorithm.columnLoops`: no iteration reads a
/// column another writes), or a family element `e_t` whose value does not read the family e.
/// Run-time guard (`Evaluator.forLoop`): the loop runs over 1…n (not another set of positions);
/// otherwise, and with the rule off, it runs column by column as written.
struct ColumnLoopRule: StatementRule {
    let id = RuleID.columnLoop

    func match(_ body: [Statement], at i: Int, in a: CheckedAlgorithm) -> FusedStatement? {
        guard case .forLoop(let loop) = body[i].kind, loop.form == .inline, loop.body.count == 1,
              case .assign(let target, _, let value) = loop.body[0].kind else { return nil }
        let v = loop.variable.spelling
        switch target.kind {
        case .index(_, let idx):
            guard idx.count == 2, case .all = idx[0].kind, Matching.name(idx[1]) == v,
                  a.columnLoops.contains(body[i].span) || a.columnLoops.contains(loop.body[0].span) else { return nil }
            return .columnLoop
        case .name(let n):
            guard n.scripts.last?.raw == v, !value.mentions(base: n.base) else { return nil }
            return .columnLoop
        default: return nil
        }
    }
}
