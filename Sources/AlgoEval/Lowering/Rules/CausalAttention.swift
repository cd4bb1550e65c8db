import AlgoSema
import AlgoSyntax

/// Causal attention on the kept half: Algorithm 4's lines 4–6
///
///     S ← KᵀQ
///     ∀t_z, t_x, if ¬Mask[t_z, t_x] then S[t_z, t_x] ← −∞
///     return Ṽ = V · softmax(S/√d_attn)
///
/// run, when the mask removes exactly the entries below the diagonal (`Mask[t, t′] = [[t ≤ t′]]`,
/// as DTransformer and DInference pass it), as `Ṽ = causalAttention(K, Q, V, √d_attn)`, `V · A`
/// summing only `t_z ≤ t_x` (`Variable.causalAttention`): the scores below the
/// diagonal are never computed, the softmax runs over the kept entries of each column, and the
/// backward products skip the same half. The values are those of the three lines as written.
///
/// Precondition (proven here): the three statements have this form (comments between them
/// allowed), K, Q and V are values of the frame, and the divisor does not read S. Run-time guard
/// (`Evaluator.causalAttention`): the condition of line 5, evaluated over the ℓ×ℓ grid as the
/// batched `∀` does, is 1 exactly where `t_z > t_x` (a constant `Mask ≡ 1`, a mask that is not
/// causal, cross-attention with ℓ_z ≠ ℓ_x fail it), the shapes fit, Float32 or Float64 alike, the
/// divisor is a positive number, and the frame does not return a log-softmax; otherwise the three
/// lines run as written.
struct CausalAttentionRule: StatementRule {
    let id = RuleID.causalAttention

    func match(_ body: [Statement], at i: Int, in a: CheckedAlgorithm) -> FusedStatement? {
        // Line 4: S ← KᵀQ.
        guard case .assign(let st, _, let sv) = body[i].kind, case .name(let sName) = st.kind, sName.scripts.isEmpty,
              case .binary(let op, let kT, let qE) = sv.kind, Matching.isProduct(op),
              case .transpose(let kE) = kT.kind, Matching.isValue(kE, a), Matching.isValue(qE, a)
        else { return nil }
        let s = sName.spelling
        var j = i + 1
        func next() -> Statement? {
            while j < body.count, case .comment = body[j].kind { j += 1 }
            defer { j += 1 }
            return j < body.count ? body[j] : nil
        }
        // Line 5: ∀t_z, t_x, if C then S[t_z, t_x] ← −∞.
        guard let maskLine = next(), case .forAll(let vars, let forBody) = maskLine.kind, vars.count == 2,
              case .ifThen(let cond) = forBody.kind, cond.body.count == 1,
              case .assign(let mt, _, let mv) = cond.body[0].kind, case .index(let mBase, let mIdx) = mt.kind,
              Matching.name(mBase) == s, mIdx.count == 2,
              zip(mIdx, vars).allSatisfy({ Matching.name($0) == $1.spelling }),
              case .unary(.negate, let inf) = mv.kind, case .infinity = inf.kind
        else { return nil }
        // Line 6: return V · softmax(S/c) (or softmax(S)).
        guard let returnLine = next(), case .returnValue(_, let rv) = returnLine.kind,
              case .binary(let pop, let vE, let smE) = rv.kind, Matching.isProduct(pop), Matching.isValue(vE, a),
              Matching.name(vE) != s, case .call(let sm) = smE.kind, a.calls[smE.span]?.builtin == .softmax,
              sm.arguments.count == 1, sm.parameters.isEmpty
        else { return nil }
        var divisor: Expr? = nil
        switch sm.arguments[0].kind {
        case .name(let n) where n.spelling == s: break
        case .binary(.divide, let num, let den):
            guard Matching.name(num) == s, !den.mentions(base: sName.base) else { return nil }
            divisor = den
        default: return nil
        }
        guard let k = Matching.name(kE), let q = Matching.name(qE), let v = Matching.name(vE), k != s, q != s else { return nil }
        return .causalAttention(CausalAttentionForm(keys: k, queries: q, values: v, variables: vars.map(\.spelling),
                                                    condition: cond.condition, divisor: divisor, first: body[i], returnLine: returnLine))
    }
}

/// The names and lines of a matched causal attention.
struct CausalAttentionForm: Sendable {
    /// K, Q and V (values of the frame).
    let keys: String, queries: String, values: String
    /// `t_z`, `t_x`.
    let variables: [String]
    /// Line 5's condition (`¬Mask[t_z, t_x]`), evaluated over the grid by the run-time guard.
    let condition: Expr
    /// `√d_attn`, or nil for `softmax(S)`.
    let divisor: Expr?
    /// Line 4 (where the profile attributes the time) and the `return` (checked as a return is).
    let first: Statement, returnLine: Statement
}
