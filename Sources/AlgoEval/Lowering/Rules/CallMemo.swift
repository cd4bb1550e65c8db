import AlgoSema
import AlgoSyntax

/// Calls of algorithms inside one application of a function of θ evaluated once per distinct
/// key: `loss(θ) = −Σ_n Σ_{t=1}^{length(x_n)−1} log DTransformer(x_n | θ)[x_n[t+1], t]/B`
/// (DTrainingMinibatch, line 3) names the same transformer call for every position t, and running
/// it ℓ − 1 times per sequence would be ℓ − 1 times the work and the tape.
///
/// The key is the plan's own dependency fact: the names the call's expression reads, found once
/// here by the one walker (`Expr.mentionedNames`: arguments, parameters, slices and scripts, so
/// `DTransformer(x_n[1:t] | θ)` reads x_n, n, t and θ), with their values at the call. While a
/// function's value is evaluated nothing is assigned, so only the natural-number and real
/// variables of the sums around the call change; tensors, collections and token sequences do not.
///
/// Precondition (proven here): the call is written in the value of a definition `F(θ) = …`,
/// `F(θ) ← …` of this algorithm, and neither its callee nor anything the callee calls draws
/// random numbers (`sample`, `… randomly with probability …`; recursion counts as drawing).
/// Run-time guard (`Evaluator.call`): the call is evaluated in the frame of the outermost
/// application of a function of θ (not inside a callee, whose statements assign), and every name
/// it reads holds a natural, a real, a tensor, a collection or a token sequence (a batched loop's
/// grid or a function is not keyed: the call then runs afresh). With the rule off every call runs.
struct CallMemoRule: ExpressionRule {
    let id = RuleID.callMemo
    /// The checked algorithm a call resolves to (`Lowering.lower`'s program).
    let callee: @Sendable (ResolvedCall) -> CheckedAlgorithm?

    func match(_ e: Expr, in a: CheckedAlgorithm) -> FusedExpression? {
        guard case .call = e.kind, let r = a.calls[e.span], !r.isBuiltin else { return nil }
        let inDefinition = a.syntax.body.contains { s in
            s.contains(statement: { st in
                guard case .assign(let t, _, let v) = st.kind, case .call = t.kind else { return false }
                return v.span.start <= e.span.start && e.span.end <= v.span.end
            }, expression: { _ in false })
        }
        guard inDefinition, isDeterministic(r, seen: []) else { return nil }
        return .callMemo(reads: e.mentionedNames.sorted())
    }

    /// Whether the algorithm `r` resolves to, and every algorithm it calls, draws no random numbers.
    func isDeterministic(_ r: ResolvedCall, seen: Set<String>) -> Bool {
        let id = r.file + "#" + r.callee
        guard !seen.contains(id), let a = callee(r) else { return false }
        let draws = a.syntax.body.contains { s in
            s.contains(statement: { if case .sample = $0.kind { true } else { false } },
                       expression: { if case .randomChoice = $0.kind { true } else { false } })
        }
        return !draws && a.calls.values.allSatisfy { $0.isBuiltin || isDeterministic($0, seen: seen.union([id])) }
    }
}
