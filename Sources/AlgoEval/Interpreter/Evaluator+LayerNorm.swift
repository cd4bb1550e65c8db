import AlgoSyntax
import AlgoTensor

/// Layer norm as one fused operation: a call whose callee's body is the paper's Algorithm 6,
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
/// The values differ from the interpreted lines only by rounding: the fused kernel sums a column
/// before dividing by d_e (the lines divide each term), multiplies by 1/√v instead of dividing by √v,
/// and adds in a different order (`FusedLayerNormTests` states the bound). Only f32 with
/// `Fusion.enabled` is fused (f64, e.g. `algo gradcheck`, runs the lines as written). A result
/// that is not finite (a constant column: v = 0, erratum A3) is discarded and the lines run as
/// written, so the diagnostic names the line of LayerNorm.algo that produced it.
extension Evaluator {
    /// The names in a body that is Algorithm 6 (see above).
    struct LayerNormForm: Equatable {
        /// The input e, the dimension d_e, the scale γ and the offset β.
        let input: String, dimension: String, gamma: String, beta: String
    }

    /// The fused result of calling `callee` with the frame `f` (inputs and parameters bound), or
    /// nil when the callee is not Algorithm 6, the values do not fit (e not `[d_e]` or `[d_e, n]`,
    /// γ or β not `[d_e]`, not f32) or the result is not finite: then the body runs as written.
    func fusedLayerNorm(_ callee: LoadedAlgorithm, _ f: Frame) -> Value? {
        guard options.fuseLayerNorm, Fusion.enabled, dtype == .f32, !f.logReturn, let form = callee.layerNormForm,
              case .tensor(let x)? = f.vars[form.input], case .tensor(let γ)? = f.vars[form.gamma],
              case .tensor(let β)? = f.vars[form.beta], let d = f.dims[form.dimension], d >= 1,
              x.rank == 1 || x.rank == 2, x.shape[0] == d, γ.shape == [d], β.shape == [d],
              x.dtype == .f32, γ.dtype == .f32, β.dtype == .f32 else { return nil }
        let y = x.layerNormColumns(γ: γ, β: β, epsilon: 0)
        let seen = y.value.finiteness
        if seen.hasNaN || (options.checkFinite && seen.hasInfinity) { return nil }
        ops += 1
        return .tensor(y)
    }

    /// The names of `a`'s body when it is Algorithm 6 statement by statement (comments aside), else nil
    /// (found once per algorithm: `LoadedAlgorithm.layerNormForm`).
    static func layerNormForm(_ a: LoadedAlgorithm) -> LayerNormForm? {
        let body = a.syntax.body.filter { if case .comment = $0.kind { return false } else { return true } }
        guard body.count == 3, a.inputs.count == 1, case .name(let en) = a.inputs[0].name.kind,
              case .assign(let mTarget, _, let mValue) = body[0].kind, let m = name(mTarget),
              case .assign(let vTarget, _, let vValue) = body[1].kind, let v = name(vTarget),
              case .returnValue(_, let r) = body[2].kind else { return nil }
        let e = en.spelling
        let parameters = Set(a.parameters.compactMap { p -> String? in if case .name(let n) = p.name.kind { return n.spelling } else { return nil } })
        // 1: m ← Σ_{i=1}^{D} e[i]/D
        guard let (i1, d1, t1) = meanSum(mValue), case .binary(.divide, let t1a, let t1b) = t1.kind,
              isIndex(t1a, e, i1), name(t1b) == d1 else { return nil }
        // 2: v ← Σ_{i=1}^{D} (e[i] − m)²/D
        guard let (i2, d2, t2) = meanSum(vValue), d2 == d1, case .binary(.divide, let sq, let t2b) = t2.kind, name(t2b) == d1,
              case .scripted(let sqBase, let sqScripts) = unparenthesised(sq).kind, sqScripts.count == 1,
              sqScripts[0].position == .sup, case .number("2") = sqScripts[0].value.kind,
              case .binary(.subtract, let ei, let mi) = unparenthesised(sqBase).kind, isIndex(ei, e, i2), name(mi) == m else { return nil }
        // 3: return (e − m)/√v ⊙ γ + β
        guard case .binary(.add, let scaled, let bExpr) = unparenthesised(r).kind, let β = name(bExpr),
              case .binary(.hadamard, let normalised, let gExpr) = unparenthesised(scaled).kind, let γ = name(gExpr),
              case .binary(.divide, let centred, let root) = unparenthesised(normalised).kind,
              case .binary(.subtract, let e3, let m3) = unparenthesised(centred).kind, name(e3) == e, name(m3) == m,
              case .unary(.sqrt, let v3) = unparenthesised(root).kind, name(v3) == v else { return nil }
        // e is the input, γ and β parameters; m, v, i are none of these and distinct.
        let locals = [m, v, i1, i2]
        guard parameters.contains(γ), parameters.contains(β), γ != β, m != v, i1 != m, i1 != v, i2 != m, i2 != v,
              !locals.contains(where: { [e, γ, β, d1].contains($0) }) else { return nil }
        return LayerNormForm(input: e, dimension: d1, gamma: γ, beta: β)
    }

    /// `Σ_{i=1}^{D} body` → (i, D, body).
    static func meanSum(_ x: Expr) -> (String, String, Expr)? {
        guard case .sum(let s) = unparenthesised(x).kind, let lower = s.lower, let upper = s.upper,
              case .binary(.equal, let iExpr, let one) = lower.value.kind, let i = name(iExpr), case .number("1") = one.kind,
              let d = name(upper.value) else { return nil }
        return (i, d, unparenthesised(s.body))
    }

    /// `e[i]`.
    static func isIndex(_ x: Expr, _ e: String, _ i: String) -> Bool {
        guard case .index(let base, let idx) = unparenthesised(x).kind, idx.count == 1 else { return false }
        return name(base) == e && name(idx[0]) == i
    }

    /// The spelling of a name expression.
    static func name(_ x: Expr) -> String? {
        if case .name(let n) = unparenthesised(x).kind { return n.spelling }
        return nil
    }

    /// `(x)` → x.
    static func unparenthesised(_ x: Expr) -> Expr {
        if case .tuple(let items) = x.kind, items.count == 1 { return unparenthesised(items[0]) }
        return x
    }
}
