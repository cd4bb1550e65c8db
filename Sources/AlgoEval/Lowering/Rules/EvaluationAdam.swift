import AlgoSema
import AlgoSyntax

/// Adam's update in an evaluation pass (DTrainingAdam lines 10–15, EDTrainingAdam's and
/// ETrainingAdam's lines of the same text, Kingma & Ba 2015, Algorithm 1):
///
///     g ← ∇loss(θ)
///     m ← β_1 m + (1 − β_1) g
///     v ← β_2 v + (1 − β_2) g ⊙ g
///     m̂ ← m/(1 − β_1^s)
///     v̂ ← v/(1 − β_2^s)
///     θ ← θ − η m̂/(√v̂ + ε)
///
/// With `RunOptions.applyGradients` off, `∇loss(θ)` evaluates loss(θ) and returns +0 in every entry,
/// and the six lines as written make 14 member-by-member passes over θ's size per sequence (as much
/// as the transformer on a small model). When m and v hold only zeros (±0: `0 · θ` of lines 1–2 for a
/// finite θ, or what this rule assigned), the lines give, entry for entry, under round-to-nearest
/// (each scalar converted to the run's dtype first, as `Evaluator.scalar` does; call them a, b, c,
/// d, e₁, e₂, h, k in the order written):
///
/// - m: a·(±0) is ±0 when a is finite, b·(+0) is +0 when b is finite with its sign bit clear, and
///   (±0) + (+0) = +0: m is +0 everywhere;
/// - v: likewise with c and d, and (+0) ⊙ (+0) = +0: +0;
/// - m̂, v̂: (+0)/e is +0 when e > 0 (+∞ included; not 0, negative or NaN);
/// - θ: h·(+0) = +0 for h finite and ≥ +0; √(+0) = +0; (+0) + k = k, > 0 when k > 0; (+0)/k = +0;
///   and x − (+0) = x for every x (−0, ±∞ and NaN included): θ itself.
///
/// So the executor (`Evaluator.evaluationAdam`) evaluates loss(θ) as `∇` would (the loss recorded),
/// assigns g, m, v, m̂ and v̂ one tree of +0 with θ's members, shapes and dtype (built once per
/// layout and shared: nothing writes a tensor in place), and keeps θ. The first iteration checks m
/// and v entry by entry; later ones find the shared tree itself (by storage identity).
///
/// Precondition (proven here): `g ← ∇loss(θ)` with g a name without scripts and the ∇ of a call
/// with the one argument θ, followed by the five lines `AdamStepRule` matches with that g and θ (its
/// precondition: six distinct names; a, b, c, d, e₁, e₂, h and k scalars that call no algorithm,
/// draw nothing and read none of the six names, so evaluating them in the guard and again on the
/// fallback is the same number). Run-time guard: an evaluation pass outside a training run; θ
/// tensors of the run's dtype (a tensor or nested collections); m and v of θ's layout and all ±0;
/// the scalars as stated above. Otherwise, and with the rule off, the six lines run as written.
struct EvaluationAdamRule: StatementRule {
    let id = RuleID.evaluationAdam

    func match(_ body: [Statement], at i: Int, in a: CheckedAlgorithm) -> FusedStatement? {
        // g ← ∇loss(θ), then the five lines of `AdamStepRule` reading that g and updating that θ.
        guard i + 6 <= body.count, case .assign(let t, _, let value) = body[i].kind, case .name(let n) = t.kind, n.scripts.isEmpty,
              case .unary(.gradient, let loss) = Matching.unparenthesised(value).kind, case .call(let c) = loss.kind,
              c.arguments.count == 1, c.parameters.isEmpty,
              let step = AdamStepRule.form(body, at: i + 1, in: a), step.gradient == n.spelling,
              Matching.name(c.arguments[0]) == step.targets[4] else { return nil }
        return .evaluationAdam(EvaluationAdamForm(names: [n.spelling] + step.targets, loss: loss, gradient: Matching.unparenthesised(value),
                                                  scalars: step.scalars))
    }
}

/// The parts of a matched Adam update (`EvaluationAdamRule`).
struct EvaluationAdamForm: Sendable {
    /// g, m, v, m̂, v̂, θ.
    let names: [String]
    /// `loss(θ)` and `∇loss(θ)`.
    let loss: Expr, gradient: Expr
    /// a, b, c, d, e₁, e₂, h, k (see the rule).
    let scalars: [Expr]
}
