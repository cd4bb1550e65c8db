import AlgoSema
import AlgoSyntax

/// Layer norm as one fused operation: a callee whose body is the paper's Algorithm 6,
///
///     1 m ← Σ_{i=1}^{d_e} e[i]/d_e
///     2 v ← Σ_{i=1}^{d_e} (e[i] − m)²/d_e
///     3 return ê = (e − m)/√v ⊙ γ + β
///
/// (any names: e the callee's input, γ and β its parameters, d_e the dimension of e, m, v and i
/// local), runs as `Variable.layerNormColumns(γ:β:epsilon: 0)`: one tape node that keeps n̂ =
/// (e − m)/√v and 1/√v per column for its VJP, where the three interpreted lines kept e − m,
/// (e − m)²/d_e, e[i]/d_e and n̂. The callee is recognised by its body, statement by statement,
/// so an edited LayerNorm.algo (an ε, another normalisation) runs as written. A column-batched
/// call (`for t ∈ [ℓ] : X̃[:, t] ← layer_norm(X[:, t] | γ, β)`, e of shape `[d_e, ℓ]`) is one
/// fused call over all columns.
///
/// Run-time guard (`Evaluator.fusedLayerNorm`): Float32 values of the shapes above, and a finite
/// result (a constant column: v = 0, erratum A3, runs the lines as written so that the
/// diagnostic names the line of LayerNorm.algo that produced it). The values differ from the
/// interpreted lines only by rounding (`LayerNormFusionTests` states the bound).
struct LayerNormRule: AlgorithmRule {
    let id = RuleID.layerNorm

    func match(_ a: CheckedAlgorithm) -> FusedAlgorithm? {
        typealias M = Matching
        let body = a.syntax.body.filter { if case .comment = $0.kind { return false } else { return true } }
        let inputs = a.syntax.title.signature?.inputs ?? []
        guard body.count == 3, inputs.count == 1, case .name(let en) = inputs[0].name.kind,
              case .assign(let mTarget, _, let mValue) = body[0].kind, let m = M.name(mTarget),
              case .assign(let vTarget, _, let vValue) = body[1].kind, let v = M.name(vTarget),
              case .returnValue(_, let r) = body[2].kind else { return nil }
        let e = en.spelling
        let parameters = Set((a.syntax.title.signature?.parameters ?? []).compactMap { p -> String? in
            if case .name(let n) = p.name.kind { return n.spelling } else { return nil }
        })
        // 1: m ← Σ_{i=1}^{D} e[i]/D
        guard let (i1, d1, t1) = meanSum(mValue), case .binary(.divide, let t1a, let t1b) = t1.kind,
              isIndex(t1a, e, i1), M.name(t1b) == d1 else { return nil }
        // 2: v ← Σ_{i=1}^{D} (e[i] − m)²/D
        guard let (i2, d2, t2) = meanSum(vValue), d2 == d1, case .binary(.divide, let sq, let t2b) = t2.kind, M.name(t2b) == d1,
              case .scripted(let sqBase, let sqScripts) = M.unparenthesised(sq).kind, sqScripts.count == 1,
              sqScripts[0].position == .sup, case .number("2") = sqScripts[0].value.kind,
              case .binary(.subtract, let ei, let mi) = M.unparenthesised(sqBase).kind, isIndex(ei, e, i2), M.name(mi) == m else { return nil }
        // 3: return (e − m)/√v ⊙ γ + β
        guard case .binary(.add, let scaled, let bExpr) = M.unparenthesised(r).kind, let β = M.name(bExpr),
              case .binary(.hadamard, let normalised, let gExpr) = M.unparenthesised(scaled).kind, let γ = M.name(gExpr),
              case .binary(.divide, let centred, let root) = M.unparenthesised(normalised).kind,
              case .binary(.subtract, let e3, let m3) = M.unparenthesised(centred).kind, M.name(e3) == e, M.name(m3) == m,
              case .unary(.sqrt, let v3) = M.unparenthesised(root).kind, M.name(v3) == v else { return nil }
        // e is the input, γ and β parameters; m, v, i are none of these and distinct.
        let locals = [m, v, i1, i2]
        guard parameters.contains(γ), parameters.contains(β), γ != β, m != v, i1 != m, i1 != v, i2 != m, i2 != v,
              !locals.contains(where: { [e, γ, β, d1].contains($0) }) else { return nil }
        return .layerNorm(LayerNormForm(input: e, dimension: d1, gamma: γ, beta: β))
    }

    /// `Σ_{i=1}^{D} body` → (i, D, body).
    func meanSum(_ x: Expr) -> (String, String, Expr)? {
        guard case .sum(let s) = Matching.unparenthesised(x).kind, let lower = s.lower, let upper = s.upper,
              case .binary(.equal, let iExpr, let one) = lower.value.kind, let i = Matching.name(iExpr), case .number("1") = one.kind,
              let d = Matching.name(upper.value) else { return nil }
        return (i, d, Matching.unparenthesised(s.body))
    }

    /// `e[i]`.
    func isIndex(_ x: Expr, _ e: String, _ i: String) -> Bool {
        guard case .index(let base, let idx) = Matching.unparenthesised(x).kind, idx.count == 1 else { return false }
        return Matching.name(base) == e && Matching.name(idx[0]) == i
    }
}

/// The names in a body that is Algorithm 6.
struct LayerNormForm: Equatable, Sendable {
    /// The input e, the dimension d_e, the scale γ and the offset β.
    let input: String, dimension: String, gamma: String, beta: String
}
