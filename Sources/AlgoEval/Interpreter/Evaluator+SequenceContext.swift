import AlgoDiagnostics
import AlgoSyntax
import AlgoTensor

/// What a sequence run (`Evaluator+Sequences`) needs beyond the columns: which invocation a callee
/// frame is (`SequenceProofFacts.contexts`), the statements that read nothing of the sequence,
/// computed once while decoding reuses its prefix, and attention with shared keys (cross-attention
/// on a context Z). `Rules/SequenceColumns.swift` proves what each relies on.
extension Evaluator {
    /// A callee frame `f` in a sequence run: its context, from its caller's and the call. A call the
    /// proof did not walk reads nothing of the sequence (`MHAttention(Z | 𝓦^enc_l, Mask ≡ 1)` of
    /// EDTransformer's encoder): it runs outside the sequence run, as written.
    func enterSequenceContext(_ f: Frame, _ sc: SequenceColumns, caller: Int, _ call: Expr) {
        guard let id = sc.proof.contexts[.init(context: caller, span: call.span)] else {
            f.sequences = nil
            return
        }
        f.sequenceContext = id
    }

    /// The value of the assignment `s` in a call that reuses its prefix: a shared statement's value
    /// (one that reads nothing of the sequence, in this context) is computed by the first call and
    /// taken, in the same order, by every later one; any other statement's is computed. Throws
    /// `SequenceFallback` when a later call's shared statements do not come in the first's order.
    func sharedValue(_ value: Expr, _ s: Statement, _ f: Frame) throws -> Value {
        guard let sc = f.sequences, let cache = sc.cache, sc.proof.shared.contains(.init(context: f.sequenceContext, span: s.span)) else {
            return try eval(value, f)
        }
        let key = SpanKey(s.span)
        if cache.replaying {
            guard cache.sharedNext < cache.shared.count, cache.shared[cache.sharedNext].statement == key else { throw SequenceFallback() }
            cache.sharedNext += 1
            return cache.shared[cache.sharedNext - 1].value
        }
        let v = try eval(value, f)
        cache.shared.append((key, v))
        return v
    }

    /// Algorithm 4's lines 4–6 with K and V shared (`[d, ℓ_z]`, or `[d, ℓ_z, H]` head-batched) and
    /// the queries the sequence run's columns: `V · softmax(KᵀQ/c)`, column by column, which is what
    /// the lines give when the mask removes nothing. Run-time guard: the mask's condition over
    /// ℓ_z × (the last position of any column) is 0 everywhere (`Mask ≡ 1`), so that a column's
    /// weights do not depend on its position; otherwise `SequenceFallback`.
    func sharedKeysAttention(_ form: CausalAttentionForm, _ layout: SequenceColumns.Layout, _ sc: SequenceColumns, _ f: Frame) throws -> Value {
        guard !f.logReturn,
              case .tensor(let k)? = f.vars[form.keys], case .tensor(let q)? = f.vars[form.queries], case .tensor(let v)? = f.vars[form.values],
              k.rank == q.rank, q.rank == v.rank, k.rank == 2 || (k.rank == 3 && f.heads == k.shape[2] && q.shape[2] == k.shape[2] && v.shape[2] == k.shape[2]),
              k.shape[0] == q.shape[0], q.shape[1] == layout.total, v.shape[1] == k.shape[1], k.shape[1] >= 1, k.dtype == dtype
        else { throw SequenceFallback() }
        guard try removesNothing(form, k.shape[1], layout.positions.max() ?? 0, sc, f) else { throw SequenceFallback() }
        let divisor = try attentionDivisor(form, f)
        ops += 4
        let weights = (k.matmul(q, transposeSelf: true) / divisor).softmaxColumns()
        let result = Value.tensor(v.matmul(weights))
        try checkFinite(result, form.returnLine, f)
        return result
    }
}
