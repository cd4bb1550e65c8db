import AlgoDiagnostics
import AlgoSyntax
import AlgoTensor
import Foundation

/// The executor of the fused causal attention (`Rules/CausalAttention.swift` states what it
/// replaces and when): the run-time guard, then `causalAttention(K, Q, V, c)`.
extension Evaluator {
    /// What the `return` of the three lines gives, or nil when the guard fails (nothing has been
    /// assigned then, and the lines run as written).
    func causalAttention(_ form: CausalAttentionForm, _ f: Frame) throws -> Value? {
        if let sc = f.sequences { return try sequenceAttention(form, sc, f) }   // within each sequence (Evaluator+Sequences)
        guard !f.logReturn,
              case .tensor(let k)? = f.vars[form.keys], case .tensor(let q)? = f.vars[form.queries],
              case .tensor(let v)? = f.vars[form.values],
              k.rank == q.rank, q.rank == v.rank, k.rank == 2 || (k.rank == 3 && f.heads == k.shape[2]),
              k.shape[0] == q.shape[0], k.shape[1] == q.shape[1], v.shape[1] == k.shape[1],
              k.rank == 2 || (k.shape[2] == q.shape[2] && q.shape[2] == v.shape[2]), k.dtype == dtype
        else { return nil }
        let n = k.shape[1]
        let start = options.profile ? DispatchTime.now().uptimeNanoseconds : 0
        let opsBefore = ops
        guard try isCausal(form, n, f) else { return nil }
        var divisor = 1.0
        if let d = form.divisor {
            guard let x = number(try eval(d, f)), x.isFinite, x > 0 else { return nil }
            divisor = x
        }
        ops += 1
        // Its backward time goes to the line the profile shows it at (line 4).
        let savedTag = profileTape?.tag
        if let t = profileTape { t.tag = profileTag(form.first, f) }
        defer { if let savedTag { profileTape?.tag = savedTag } }
        let result = Value.tensor(Variable.causalAttention(keys: k, queries: q, values: v, divisor: divisor))
        try checkFinite(result, form.returnLine, f)
        if options.profile { record(form.first, f, since: start, opsBefore: opsBefore) }
        return result
    }

    /// Whether line 5's condition, evaluated over the ℓ×ℓ grid as the batched `∀` evaluates it, is
    /// 1 exactly where `t_z > t_x`. Remembered per `causalMaskKey` when the answer depends on nothing
    /// else (every layer of DTransformer asks it again: the condition, the comparison's n×n tensors
    /// and the check took ≈ 0.1 ms of the calling thread per layer on the small model).
    func isCausal(_ form: CausalAttentionForm, _ n: Int, _ f: Frame) throws -> Bool {
        let key = causalMaskKey(form, n, f)
        if let key, let known = causalMasks[key] { return known }
        let condition = try maskCondition(form, .grid(count: n, axis: 0), .grid(count: n, axis: 1), f)
        // A constant mask (`Mask ≡ 1`) gives a number, not a grid: never causal, even at ℓ = 1.
        let causal: Bool
        if case .tensor(let c) = condition { causal = c.value.isStrictlyLowerIndicator(n) } else { causal = false }
        if let key { causalMasks[key] = causal }
        return causal
    }

    /// The key under which `isCausal`'s answer is remembered, or nil when it could depend on more than
    /// the key holds: the condition (its span), n, and the fingerprint of every Mask it reads. The
    /// condition may read only the grid variables and names bound to a Mask, and call nothing; each
    /// Mask is `--set Mask=causal`, a constant, or a rule (`Mask[t, t′] = [[t ≤ t′]]`) whose body
    /// reads only its own variables and calls nothing, so that the frame it was given in cannot
    /// change its value.
    func causalMaskKey(_ form: CausalAttentionForm, _ n: Int, _ f: Frame) -> [Int]? {
        func callsNothing(_ e: Expr) -> Bool {
            !e.contains { x in
                if case .call = x.kind { return true }
                if case .randomChoice = x.kind { return true }
                return false
            }
        }
        // Names as the frame holds them (`t_z`, not its script `z`).
        func names(_ e: Expr) -> Set<String> {
            var out: Set<String> = []
            _ = e.first(intoNameScripts: false) { x -> Bool? in
                if case .name(let n) = x.kind { out.insert(n.spelling) }
                return nil
            }
            return out
        }
        guard callsNothing(form.condition) else { return nil }
        var key = [form.condition.span.start, form.condition.span.end, form.condition.span.file.hashValue, n]
        for name in names(form.condition).sorted() where !form.variables.contains(name) {
            guard case .mask(let m)? = f.vars[name] else { return nil }
            switch m {
            case .causal, .constant: break
            case .rule(let vars, let body, _):
                guard callsNothing(body), names(body).isSubset(of: Set(vars)) else { return nil }
            case .matrix: return nil
            }
            key.append(name.hashValue)
            guard Self.fingerprint(.mask(m), into: &key) else { return nil }
        }
        return key
    }
}
