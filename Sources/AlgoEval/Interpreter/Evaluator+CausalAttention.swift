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
        // The mask's condition over the ℓ×ℓ grid, as the batched `∀` evaluates it.
        let saved = form.variables.map { f.vars[$0] }
        for (a, name) in form.variables.enumerated() { f.vars[name] = .grid(count: n, axis: a) }
        let condition: Value
        do {
            defer { for (a, name) in form.variables.enumerated() { f.vars[name] = saved[a] } }
            condition = try eval(form.condition, f)
        }
        // A constant mask (`Mask ≡ 1`) gives a number, not a grid: never causal, even at ℓ = 1.
        guard case .tensor(let c) = condition, c.value.isStrictlyLowerIndicator(n) else { return nil }
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
}
