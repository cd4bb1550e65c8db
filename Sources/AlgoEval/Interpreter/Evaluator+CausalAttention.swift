import AlgoDiagnostics
import AlgoSyntax
import AlgoTensor
import Foundation

/// Causal attention on the kept half: Algorithm 4's lines 4–6
///
///     S ← KᵀQ
///     ∀t_z, t_x, if ¬Mask[t_z, t_x] then S[t_z, t_x] ← −∞
///     return Ṽ = V · softmax(S/√d_attn)
///
/// run, when the mask removes exactly the entries below the diagonal (`Mask[t, t′] = [[t ≤ t′]]`,
/// as DTransformer and DInference pass it), as `A = causalWeights(K, Q, √d_attn)` and
/// `Ṽ = V · A` summing only `t_z ≤ t_x` (`Variable.causalWeights`, `causalProduct`): the scores
/// below the diagonal are never computed, the softmax runs over the kept entries of each column,
/// and the backward products skip the same half. The values are those of the three lines as
/// written (each kept entry is computed by the same arithmetic; see `CausalAttention`).
///
/// Causality is read from the mask's values: the condition of line 5, evaluated over the ℓ×ℓ
/// grid as the batched `∀` does, must be 1 exactly where `t_z > t_x`. Any other mask (the
/// constant `Mask ≡ 1` of the encoders, even at ℓ = 1, a mask from a checkpoint that is not causal, cross-attention
/// with ℓ_z ≠ ℓ_x) and any other form of the three lines run as written. `RunOptions.skipMaskedHalf
/// = false` runs them as written always (for comparisons).
extension Evaluator {
    /// The causal form starting at statement `i` of `body` (comments between the three statements
    /// allowed): returns what the `return` gives, or nil when the statements or the mask do not
    /// have the causal form (nothing has been assigned then).
    func causalAttention(_ body: [Statement], at i: Int, _ f: Frame) throws -> Value? {
        // Line 4: S ← KᵀQ.
        guard case .assign(let st, _, let sv) = body[i].kind, case .name(let sName) = st.kind, sName.scripts.isEmpty,
              case .binary(let op, let kT, let qE) = sv.kind, op == .juxtapose || op == .multiply || op == .times,
              case .transpose(let kE) = kT.kind, case .name(let kName) = kE.kind, case .name(let qName) = qE.kind
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
              case .name(let mName) = mBase.kind, mName.spelling == s, mIdx.count == 2,
              zip(mIdx, vars).allSatisfy({ if case .name(let n) = $0.kind { return n.spelling == $1.spelling } else { return false } }),
              case .unary(.negate, let inf) = mv.kind, case .infinity = inf.kind
        else { return nil }
        // Line 6: return V · softmax(S/c) (or softmax(S)).
        guard !f.logReturn, let returnLine = next(), case .returnValue(_, let rv) = returnLine.kind,
              case .binary(let pop, let vE, let smE) = rv.kind, pop == .juxtapose || pop == .multiply || pop == .times,
              case .name(let vName) = vE.kind, vName.spelling != s,
              case .call(let sm) = smE.kind, f.algorithm.checked.calls[smE.span]?.builtin == .softmax, sm.arguments.count == 1, sm.parameters.isEmpty
        else { return nil }
        var divisorExpr: Expr? = nil
        switch sm.arguments[0].kind {
        case .name(let n) where n.spelling == s: break
        case .binary(.divide, let num, let den):
            guard case .name(let n) = num.kind, n.spelling == s, !den.mentions(base: sName.base) else { return nil }
            divisorExpr = den
        default: return nil
        }
        guard kName.spelling != s, qName.spelling != s,
              case .tensor(let k)? = f.vars[kName.spelling], case .tensor(let q)? = f.vars[qName.spelling],
              case .tensor(let v)? = f.vars[vName.spelling],
              k.rank == q.rank, q.rank == v.rank, k.rank == 2 || (k.rank == 3 && headBatch == k.shape[2]),
              k.shape[0] == q.shape[0], k.shape[1] == q.shape[1], v.shape[1] == k.shape[1],
              k.rank == 2 || (k.shape[2] == q.shape[2] && q.shape[2] == v.shape[2]), k.dtype == dtype
        else { return nil }
        let n = k.shape[1]
        let start = options.profile ? DispatchTime.now().uptimeNanoseconds : 0
        let opsBefore = ops
        // The mask's condition over the ℓ×ℓ grid, as the batched `∀` evaluates it.
        let saved = vars.map { f.vars[$0.spelling] }
        for (a, name) in vars.enumerated() { f.vars[name.spelling] = .grid(count: n, axis: a) }
        let condition: Value
        do {
            defer { for (a, name) in vars.enumerated() { f.vars[name.spelling] = saved[a] } }
            condition = try eval(cond.condition, f)
        }
        // A constant mask (`Mask ≡ 1`) gives a number, not a grid: never causal, even at ℓ = 1.
        guard case .tensor(let c) = condition, c.value.isStrictlyLowerIndicator(n) else { return nil }
        return try causalResult(k, q, v, divisorExpr, returnLine, body[i], f, start, opsBefore)
    }

    /// `V · causalWeights(K, Q, c)`, checked as a `return` is, profiled on the first line.
    private func causalResult(_ k: Variable, _ q: Variable, _ v: Variable, _ divisorExpr: Expr?, _ returnLine: Statement,
                              _ first: Statement, _ f: Frame, _ start: UInt64, _ opsBefore: Int) throws -> Value? {
        var divisor = 1.0
        if let divisorExpr {
            guard let d = number(try eval(divisorExpr, f)), d.isFinite, d > 0 else { return nil }
            divisor = d
        }
        ops += 2
        let result = Value.tensor(v.causalProduct(.causalWeights(keys: k, queries: q, divisor: divisor)))
        try checkFinite(result, returnLine, f)
        if options.profile, let line = lineOf(first, f) {
            let key = ProfileKey(file: f.algorithm.file, line: line)
            var e = profile[key] ?? ProfileEntry()
            e.seconds += Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
            e.operations += ops - opsBefore
            e.calls += 1
            profile[key] = e
        }
        return result
    }
}
