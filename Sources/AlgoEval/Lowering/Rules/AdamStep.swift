import AlgoSema
import AlgoSyntax

/// Adam's update after its gradient (DTrainingAdam lines 11–15, EDTrainingAdam's and ETrainingAdam's
/// lines of the same text, Kingma & Ba 2015, Algorithm 1):
///
///     m ← β_1 m + (1 − β_1) g
///     v ← β_2 v + (1 − β_2) g ⊙ g
///     m̂ ← m/(1 − β_1^s)
///     v̂ ← v/(1 − β_2^s)
///     θ ← θ − η m̂/(√v̂ + ε)
///
/// As written the five lines are fourteen element-wise operations per member of θ, each a pass over
/// the member and a fresh value: on CharGPT's model more time than the transformer and its gradient.
/// The executor (`Evaluator.adamStep`) computes all five values in one pass per member
/// (`Tensor.adamStep`), each entry with the same operations rounded in the same order, so the bits are
/// those of the lines as written, and writes each value into the buffer of the one it replaces when
/// nothing else holds it. It then assigns the five lines' targets in order, as the lines would (a
/// training run's monitor and checkpoint see θ's line as before).
///
/// Precondition (proven here): five consecutive assignments of exactly that form (call the scalars
/// a, b, c, d, e₁, e₂, h, k in the order written): the targets m, v, m̂, v̂, θ and the gradient g are
/// names without scripts (values held under their spelling), all six distinct; the scalars are
/// expressions the checker typed as scalars that call no algorithm, draw nothing and read none of the
/// six names (evaluating them in the guard and again on the fallback gives the same number).
/// Run-time guard: θ a tensor or nested collections of tensors of the run's dtype, g, m and v of its
/// layout, not on a tape; every scalar a number; not while a resumed training run skips to its step.
/// Otherwise, and with the rule off, the five lines run as written.
struct AdamStepRule: StatementRule {
    let id = RuleID.adamStep

    func match(_ body: [Statement], at i: Int, in a: CheckedAlgorithm) -> FusedStatement? {
        Self.form(body, at: i, in: a).map { .adamStep($0) }
    }

    /// The five lines from `body[i]`, or nil.
    static func form(_ body: [Statement], at i: Int, in a: CheckedAlgorithm) -> AdamStepForm? {
        guard i + 5 <= body.count else { return nil }
        var targets: [String] = [], values: [Expr] = []
        for s in body[i..<(i + 5)] {
            // A name without scripts: a value held under its spelling (no family element).
            guard case .assign(let t, _, let v) = s.kind, case .name(let n) = t.kind, n.scripts.isEmpty else { return nil }
            targets.append(n.spelling); values.append(Matching.unparenthesised(v))
        }
        let (m, v, mHat, vHat, θ) = (targets[0], targets[1], targets[2], targets[3], targets[4])
        // m ← a m + b g: g is the name b multiplies.
        guard case .binary(.add, let m1, let m2) = values[0].kind,
              case .binary(let op, _, let gName) = Matching.unparenthesised(m2).kind, Matching.isProduct(op),
              let g = Matching.name(gName) else { return nil }
        let names = targets + [g]
        guard Set(names).count == 6 else { return nil }
        /// A scalar that reads none of the six names, calls no algorithm and draws nothing.
        func scalar(_ e: Expr) -> Expr? {
            guard Matching.isScalar(Matching.unparenthesised(e), a) || Matching.isScalar(e, a), !names.contains(where: { e.mentions($0) }),
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
        guard let ma = scaled(m1, m), let mb = scaled(m2, g) else { return nil }
        // v ← c v + (d g) ⊙ g
        guard case .binary(.add, let v1, let v2) = values[1].kind, let vc = scaled(v1, v),
              case .binary(.hadamard, let dg, let g2) = Matching.unparenthesised(v2).kind, Matching.name(g2) == g,
              let vd = scaled(dg, g) else { return nil }
        // m̂ ← m/e₁, v̂ ← v/e₂
        guard let e1 = divided(values[2], m), let e2 = divided(values[3], v) else { return nil }
        // θ ← θ − (h m̂)/(√v̂ + k)
        guard case .binary(.subtract, let t1, let step) = values[4].kind, Matching.name(t1) == θ,
              case .binary(.divide, let num, let den) = Matching.unparenthesised(step).kind, let h = scaled(num, mHat),
              case .binary(.add, let root, let k) = Matching.unparenthesised(den).kind,
              case .unary(.sqrt, let r) = Matching.unparenthesised(root).kind, Matching.name(r) == vHat, let kk = scalar(k) else { return nil }
        return AdamStepForm(targets: targets, gradient: g, scalars: [ma, mb, vc, vd, e1, e2, h, kk])
    }
}

/// The parts of a matched Adam update (`AdamStepRule`).
struct AdamStepForm: Sendable {
    /// m, v, m̂, v̂, θ: the five lines' targets, in order.
    let targets: [String]
    /// g, the gradient the lines read.
    let gradient: String
    /// a, b, c, d, e₁, e₂, h, k (see the rule).
    let scalars: [Expr]
}
