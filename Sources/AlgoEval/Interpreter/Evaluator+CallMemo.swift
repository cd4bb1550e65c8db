import AlgoSyntax

/// Calls of algorithms inside one application of a function of θ are evaluated once per distinct
/// argument: `loss(θ) = −Σ_n Σ_{t=1}^{length(x_n)−1} log DTransformer(x_n | θ)[x_n[t+1], t]/B`
/// (DTrainingMinibatch, line 3) names the same transformer call for every position t, and running
/// it ℓ − 1 times per sequence would be ℓ − 1 times the work and the tape. Like `P(θ)`'s memo
/// (`applyFunction`), the scope is one application, and only calls written in the function's own
/// expression are memoised: nothing is assigned while it runs, so a call's arguments can only
/// change with the natural-number variables of the sums around it, and every variable the call
/// reads is part of the key (`Expr.mentionedNames`, slices and scripts included:
/// `DTransformer(x_n[1:t] | θ)` is keyed by n and t). Calls inside a callee are not memoised (its
/// statements assign). Calls of algorithms that draw random numbers are never memoised.
extension Evaluator {
    /// The memo key of a call at `e` in frame `f`, or nil when it must be evaluated afresh.
    func callMemoKey(_ c: Call, _ e: Expr, _ f: Frame, callee: String, file: String, log: Bool) -> String? {
        guard functionMemo != nil, f === memoFrame, isDeterministic(callee, file: file) else { return nil }
        var key = "call \(e.span.file):\(e.span.start)" + (log ? " log" : "")
        // Every variable the call's arguments and parameters read, inside slices and scripts too
        // (`x_n[1:t]` depends on n and t).
        for name in e.mentionedNames.sorted() where f.vars[name] != nil {
            switch f.vars[name]! {
            case .nat(let k): key += " \(name)=\(k)"
            case .real(let r): key += " \(name)=\(r.bitPattern)"
            case .tensor, .collection, .tokens: continue   // unchanged while the application runs
            default: return nil                            // a batched loop's grid, a function, …: not keyed
            }
        }
        return key
    }

    /// Whether an algorithm, and every algorithm it calls, draws no random numbers (no `sample`
    /// statement, no `… randomly with probability …`), cached per algorithm.
    func isDeterministic(_ name: String, file: String) -> Bool {
        let id = file + "#" + name
        if let d = deterministicCache[id] { return d }
        deterministicCache[id] = false   // a recursive call is not memoised
        guard let a = program.find(name, file: file) else { return false }
        let draws = a.syntax.body.contains { s in
            s.contains(statement: { if case .sample = $0.kind { true } else { false } },
                       expression: { if case .randomChoice = $0.kind { true } else { false } })
        }
        let d = !draws && a.checked.calls.values.allSatisfy { $0.isBuiltin || isDeterministic($0.callee, file: $0.file) }
        deterministicCache[id] = d
        return d
    }
}
