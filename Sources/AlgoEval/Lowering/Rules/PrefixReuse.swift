import AlgoDiagnostics
import AlgoSema
import AlgoSyntax

/// Decoding that reuses the prefix (a KV cache): `P ← DTransformer(x | θ̂)` in a loop that extends
/// x (`x ← [x, y]`, DInference) computes, from the second call on, only the columns of the new
/// tokens: every layer's attention keeps the K and V columns of the positions already computed
/// and appends the new ones, a position read `W_p[:, t]` takes the new tokens' positions, and the
/// result is the previous P with the new columns appended (`Evaluator+Sequences`). Because the
/// callee is column-wise in x except for causal attention (`SequenceColumnsProof`), column t of
/// every layer depends only on x[1:t], so the kept columns are what recomputation would give; the
/// new column's attention sums over all kept positions, which the causal mask keeps. Values equal
/// recomputation up to rounding (`SequenceRulesTests` states the bound). EDInference's
/// `EDTransformer(z, x̂ | θ̂)` the same way: z is a shared argument, so the encoder's statements and
/// the cross-attention's K and V over Z read nothing of x̂; the first call computes them and every
/// later call takes their values in the order they ran (`Evaluator.sharedValue`), and each
/// cross-attention runs on the new columns' queries only (`Evaluator.sharedKeysAttention`).
///
/// Precondition (proven here): an algorithm call with exactly one argument that is a name x the
/// algorithm extends somewhere by `x ← [x, …]`, the other arguments not mentioning x, and a callee
/// column-wise in x except for causal attention. Run-time guard (`Evaluator.reusePrefix`): the
/// causal-attention rule is on, the call is not inside a function of θ (no tape) nor inside
/// another sequence run, x is a token sequence; the cache is used only when the previous call at
/// this site, in this frame, had a prefix of x (strictly shorter), the same parameter tensors
/// (identical storage) and the same other arguments and real hyperparameters, and every
/// attention's mask keeps exactly t_z ≤ t_x on the new rows and columns; otherwise the call runs
/// on the whole x (and starts a new cache).
struct PrefixReuseRule: ExpressionRule {
    let id = RuleID.prefixReuse
    /// The checked algorithm a call resolves to (`Lowering.lower`'s program).
    let callee: @Sendable (ResolvedCall) -> CheckedAlgorithm?

    func match(_ e: Expr, in a: CheckedAlgorithm) -> FusedExpression? {
        guard case .call(let c) = e.kind, let r = a.calls[e.span], !r.isBuiltin else { return nil }
        let extended = Self.extendedNames(a.syntax.body)
        let candidates = c.arguments.indices.filter { k in
            Matching.isValue(c.arguments[k], a) && Matching.name(c.arguments[k]).map(extended.contains) == true
        }
        guard candidates.count == 1, let x = Matching.name(c.arguments[candidates[0]]),
              c.arguments.enumerated().allSatisfy({ $0.offset == candidates[0] || !$0.element.mentions(x) }),
              !c.parameters.contains(where: { $0.value.mentions(x) }) else { return nil }
        var proof = SequenceColumnsProof(callee: callee)
        guard proof.call(e, in: a, varying: [candidates[0]]) else { return nil }
        return .sequences(.prefix(PrefixReuseForm(argument: candidates[0], proof: proof.facts)))
    }

    /// Names the body extends by `x ← [x, …]`.
    static func extendedNames(_ body: [Statement]) -> Set<String> {
        var out: Set<String> = []
        for s in body {
            if case .assign(let t, _, let v) = s.kind, let x = Matching.name(t), case .list(let items, .comma) = v.kind,
               items.count >= 2, Matching.name(items[0]) == x { out.insert(x) }
            out.formUnion(extendedNames(s.substatements))
        }
        return out
    }
}

/// The parts of a matched call whose prefix is reused.
struct PrefixReuseForm: Sendable {
    /// Which argument is the growing sequence.
    let argument: Int
    /// What the proof found in the callee (position reads, contexts, shared statements).
    let proof: SequenceProofFacts
}
