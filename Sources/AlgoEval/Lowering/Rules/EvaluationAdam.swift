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
/// Precondition (proven here): six consecutive assignments of exactly that form: the targets g, m,
/// v, m̂, v̂ and θ are names without scripts (values held under their spelling), each distinct; the ∇ is of a call with the one
/// argument θ; a, b, c, d, e₁, e₂, h and k are expressions the checker typed as scalars that call no
/// algorithm, draw nothing and read none of the six names (evaluating them in the guard and again on
/// the fallback is the same number). Run-time guard: an evaluation pass outside a training run; θ
/// tensors of the run's dtype (a tensor or nested collections); m and v of θ's layout and all ±0;
/// the scalars as stated above. Otherwise, and with the rule off, the six lines run as written.
struct EvaluationAdamRule: StatementRule {
    let id = RuleID.evaluationAdam

    func match(_ body: [Statement], at i: Int, in a: CheckedAlgorithm) -> FusedStatement? {
        guard i + 6 <= body.count else { return nil }
        var targets: [String] = [], values: [Expr] = []
        for s in body[i..<(i + 6)] {
            // A name without scripts: a value held under its spelling (no family element).
            guard case .assign(let t, _, let v) = s.kind, case .name(let n) = t.kind, n.scripts.isEmpty else { return nil }
            targets.append(n.spelling); values.append(Matching.unparenthesised(v))
        }
        guard Set(targets).count == 6 else { return nil }
        let (g, m, v, mHat, vHat, θ) = (targets[0], targets[1], targets[2], targets[3], targets[4], targets[5])
        /// A scalar that reads none of the six names, calls no algorithm and draws nothing.
        func scalar(_ e: Expr) -> Expr? {
            guard Matching.isScalar(Matching.unparenthesised(e), a) || Matching.isScalar(e, a), !targets.contains(where: { e.mentions($0) }),
                  !e.contains(where: { x in
                      if case .randomChoice = x.kind { return true }
                      if case .call = x.kind, let r = a.calls[x.span], !r.isBuiltin { return true }
                      return false
                  }) else { return nil }
            return e
        }
        /// `s x` (a product of a scalar and the name x).
        func scaled(_ e: Expr, _ x: String) -> Expr? {
            guard case .binary(let op, let s, let y) = Matching.unparenthesised(e).kind, Matching.isProduct(op), Matching.name(y) == x else { return nil }
            return scalar(s)
        }
        /// `x/e`.
        func divided(_ e: Expr, _ x: String) -> Expr? {
            guard case .binary(.divide, let y, let d) = e.kind, Matching.name(y) == x else { return nil }
            return scalar(d)
        }
        // g ← ∇loss(θ)
        guard case .unary(.gradient, let loss) = values[0].kind, case .call(let c) = loss.kind, c.arguments.count == 1,
              c.parameters.isEmpty, Matching.name(c.arguments[0]) == θ else { return nil }
        // m ← a m + b g
        guard case .binary(.add, let m1, let m2) = values[1].kind, let ma = scaled(m1, m), let mb = scaled(m2, g) else { return nil }
        // v ← c v + (d g) ⊙ g
        guard case .binary(.add, let v1, let v2) = values[2].kind, let vc = scaled(v1, v),
              case .binary(.hadamard, let dg, let g2) = Matching.unparenthesised(v2).kind, Matching.name(g2) == g,
              let vd = scaled(dg, g) else { return nil }
        // m̂ ← m/e₁, v̂ ← v/e₂
        guard let e1 = divided(values[3], m), let e2 = divided(values[4], v) else { return nil }
        // θ ← θ − (h m̂)/(√v̂ + k)
        guard case .binary(.subtract, let t1, let step) = values[5].kind, Matching.name(t1) == θ,
              case .binary(.divide, let num, let den) = Matching.unparenthesised(step).kind, let h = scaled(num, mHat),
              case .binary(.add, let root, let k) = Matching.unparenthesised(den).kind,
              case .unary(.sqrt, let r) = Matching.unparenthesised(root).kind, Matching.name(r) == vHat, let kk = scalar(k) else { return nil }
        return .evaluationAdam(EvaluationAdamForm(names: targets, loss: loss, gradient: values[0], scalars: [ma, mb, vc, vd, e1, e2, h, kk]))
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
