import AlgoSema
import AlgoSyntax

/// The SGD update of an evaluation pass: `θ ← θ − η · ∇loss(θ)` (Algorithm 13 line 6, Algorithm 12
/// line 10, Algorithm 11 line 6, DTrainingMinibatch line 4) keeps θ's members as they are when
/// `∇loss(θ)` returns zeros, instead of computing θ − η · 0 member by member (one pass over every
/// parameter per sequence, as much as the transformer itself on a small model).
///
/// Why the value is the same, bit for bit: in an evaluation pass (`RunOptions.applyGradients` off)
/// `∇loss(θ)` evaluates loss(θ) (recorded in `Evaluator.losses`) and returns `+0` in every entry,
/// with θ's structure and dtypes (`Evaluator.zeros(like:)`). η is a scalar, converted to the run's
/// dtype before the product (`Evaluator.scalar`); call that η′. If η′ is finite and its sign bit is
/// clear (η′ ≥ +0), η′ · (+0) = +0 exactly, and x − (+0) = x for every x under round-to-nearest:
/// a finite x (−0 included: −0 − (+0) = −0), ±∞, and NaN (NaN stays NaN). If η′ is ±∞ or NaN,
/// η′ · 0 is NaN and θ − NaN is NaN, and if η′ is negative (−0 included), η′ · (+0) = −0 and
/// −0 − (−0) = +0, so neither is θ: the guard sends those to the line as written.
///
/// Precondition (proven here): an assignment `θ ← θ − η · ∇F(θ)` (`η∇F(θ)`, parenthesised or not)
/// whose target, left operand and ∇'s one argument are the same name, held as a value under its
/// spelling, and whose η is a name or a number the checker typed as a scalar (so evaluating it
/// twice, on the fallback, is a lookup). Run-time guard (`Evaluator.keptParameters`): an
/// evaluation pass; θ a tensor or a collection of tensors (nested) in the run's dtype; η′ finite
/// and ≥ +0. Then ∇F(θ) is evaluated as written (the loss is recorded) without building its zeros,
/// and θ is assigned to itself. Otherwise, and with the rule off, the line runs as written.
struct EvaluationUpdateRule: StatementRule {
    let id = RuleID.evaluationUpdate

    func match(_ body: [Statement], at i: Int, in a: CheckedAlgorithm) -> FusedStatement? {
        guard case .assign(let target, _, let value) = body[i].kind, case .name(let t) = target.kind,
              case .binary(.subtract, let left, let right) = Matching.unparenthesised(value).kind,
              Matching.isValue(left, a), Matching.name(left) == t.spelling,
              case .binary(let op, let rate, let g) = Matching.unparenthesised(right).kind, Matching.isProduct(op),
              case .unary(.gradient, let loss) = Matching.unparenthesised(g).kind,
              case .call(let c) = loss.kind, c.arguments.count == 1, c.parameters.isEmpty, Matching.name(c.arguments[0]) == t.spelling,
              Matching.isScalar(rate, a) else { return nil }
        let r = Matching.unparenthesised(rate)
        var isNumber = false
        if case .number = r.kind { isNumber = true }
        guard Matching.isName(r) || isNumber else { return nil }
        return .evaluationUpdate(EvaluationUpdateForm(parameters: left, rate: rate, gradient: Matching.unparenthesised(g), loss: loss))
    }
}

/// The parts of a matched update `θ ← θ − η · ∇loss(θ)`.
struct EvaluationUpdateForm: Sendable {
    /// θ (the left operand), η, `∇loss(θ)` and its argument `loss(θ)`.
    let parameters: Expr, rate: Expr, gradient: Expr, loss: Expr
}
