import AlgoSema
import AlgoSyntax

/// `∀t_z, t_x, if ¬Mask[t_z, t_x] then S[t_z, t_x] ← −∞` (Algorithm 4 line 5) as one masked
/// select: the variables are bound to index grids over S's axes (`Value.grid`), the condition is
/// evaluated once on the whole grid (the Mask rule `[[t ≤ t′]]` on two grids is an ℓ×ℓ 0/1
/// matrix), and S + bias (bias = c where the condition holds, 0 elsewhere; for a finite c,
/// S ⊙ keep + bias) replaces the ℓ² assignments. Differentiable in S; in a head-batched callee the
/// bias broadcasts over the heads.
///
/// Precondition (proven here): `∀` over n variables of one assignment (optionally under one
/// `if`) to `S[v_1, …, v_n]` with S a name and the indices the variables in order. Run-time guard
/// (`Evaluator.maskedSelect`): S is a tensor with one axis per variable (plus the heads' in a
/// head-batched call) and the assigned value is a number; otherwise, and with the rule off, the
/// `∀` runs entry by entry as written.
struct MaskedSelectRule: StatementRule {
    let id = RuleID.maskedSelect

    func match(_ body: [Statement], at i: Int, in a: CheckedAlgorithm) -> FusedStatement? {
        guard case .forAll(let variables, let inner) = body[i].kind else { return nil }
        let names = variables.map(\.spelling)
        var condition: Expr? = nil
        var assignment = inner
        if case .ifThen(let c) = inner.kind {
            guard c.body.count == 1 else { return nil }
            condition = c.condition; assignment = c.body[0]
        }
        guard case .assign(let target, _, let value) = assignment.kind, case .index(let base, let idx) = target.kind,
              let s = Matching.name(base), idx.count == names.count,
              zip(idx, names).allSatisfy({ Matching.name($0) == $1 }) else { return nil }
        return .maskedSelect(MaskedSelectForm(variables: names, condition: condition, target: s, value: value))
    }
}

/// The parts of a matched masked select.
struct MaskedSelectForm: Sendable {
    /// The `∀` variables (`t_z`, `t_x`), the condition (nil: every entry), S, and the value assigned.
    let variables: [String], condition: Expr?, target: String, value: Expr
}
