import AlgoDiagnostics
import AlgoSema
import AlgoSyntax

/// Batched sequences: `Σ_{n=a}^{b} … C(x_n | θ) …` (DTrainingMinibatch's loss, line 3) runs the
/// callee C once on the B sequences side by side, instead of once per n: the columns of x_a, …,
/// x_b concatenated, a position read `W_p[:, t]` taking the position within each sequence, the
/// causal attention kept within each sequence (`Evaluator+Sequences`). Column j of the result
/// belongs to one sequence; its slice for sequence n is what the call gives for n, and is put in
/// the call memo (`Evaluator+CallMemo`) under the key the call has for that n, so that the Σ then
/// runs as written and every call in it is a memo hit. Each entry is the same dot products as in
/// the per-n calls (the products are wider, the order of each sum is the same: values equal up to
/// the GEMM's blocking, well within the rule A/B test's bound).
///
/// Precondition (proven here): the Σ has a variable n (`n = a` … `b`), its body holds exactly one
/// algorithm call that mentions n, exactly one argument of it mentions n, its parameters do not,
/// it mentions no variable of a Σ inside the body, and the callee is column-wise in that argument
/// except for causal attention (`SequenceColumnsProof`). Run-time guard (`Evaluator.batchSequences`):
/// the Σ is inside an application of a function of θ whose calls are memoised (`loss(θ)`), the
/// causal-attention rule is on, at least two sequences, every argument a token sequence of
/// length ≥ 1, no key already memoised, each attention's mask causal on each sequence, and the
/// batched call ran without error and gave one column per token; otherwise the Σ runs as written.
/// Sequences of unequal lengths are segments of unequal widths.
struct SequenceBatchingRule: ExpressionRule {
    let id = RuleID.sequenceBatching
    /// The checked algorithm a call resolves to (`Lowering.lower`'s program).
    let callee: @Sendable (ResolvedCall) -> CheckedAlgorithm?

    func match(_ e: Expr, in a: CheckedAlgorithm) -> FusedExpression? {
        guard case .sum(let s) = e.kind, let lower = s.lower, case .binary(.equal, let v, _) = lower.value.kind,
              let n = Matching.name(v), s.upper != nil else { return nil }
        var calls: [Expr] = []
        var inner: Set<String> = []
        _ = s.body.first { x -> Bool? in
            if case .call = x.kind, let r = a.calls[x.span], !r.isBuiltin, x.mentions(n) { calls.append(x) }
            if case .sum(let t) = x.kind, let l = t.lower {
                switch l.value.kind {
                case .binary(.equal, let w, _), .membership(let w, _): if let name = Matching.name(w) { inner.insert(name) }
                case .name(let w): inner.insert(w.spelling)
                default: break
                }
            }
            return nil
        }
        guard calls.count == 1, case .call(let c) = calls[0].kind, !inner.contains(where: { calls[0].mentions($0) }),
              !c.parameters.contains(where: { p in p.value.mentions(n) || (p.target?.mentions(n) ?? false) }) else { return nil }
        let varying = c.arguments.indices.filter { c.arguments[$0].mentions(n) }
        guard varying.count == 1 else { return nil }
        var proof = SequenceColumnsProof(callee: callee)
        guard proof.call(calls[0], in: a, varying: Set(varying)) else { return nil }
        var form = SequenceBatchForm(variable: n, call: c, callExpr: calls[0], arguments: varying, proof: proof.facts)
        form.pickedTerms = Self.pickedTerms(s.body, call: calls[0], variable: n, in: a)
        return .sequences(.batch(form))
    }

    /// The body `Σ_{t=a}^{b} log C(x_n | θ)[i(t), j(t)]/B` (DTrainingMinibatch's loss): a Σ over t
    /// that `PickedSumRule` matches, whose base is the batched call with the log taken of each
    /// entry, its bounds a lower `t = a` and an upper bound, and its divisor not mentioning n. Then
    /// the whole Σ over n is one pick of every sequence's entries from the batched result.
    static func pickedTerms(_ body: Expr, call: Expr, variable n: String, in a: CheckedAlgorithm) -> PickedTermsForm? {
        guard case .sum(let inner) = body.kind, inner.upper != nil, let lower = inner.lower, case .binary(.equal, _, _) = lower.value.kind,
              case .pickedSum(let picked)? = PickedSumRule().match(body, in: a), picked.logOfEntries, picked.logOf == nil,
              picked.base.span == call.span, !(picked.divisor?.mentions(n) ?? false) else { return nil }
        // `i(t) = x_n[t + c]` (or `x_n[t]`) with `j(t) = t`: the sequence read once per n, not an index expression per term.
        var shifted: (sequence: Expr, offset: Int)? = nil
        if Matching.name(picked.columns) == picked.variable, case .index(let base, let idx) = picked.rows.kind, idx.count == 1,
           !base.mentions(picked.variable) {
            let k = Matching.unparenthesised(idx[0])
            if Matching.name(k) == picked.variable { shifted = (base, 0) }
            if case .binary(.add, let l, let r) = k.kind, Matching.name(l) == picked.variable, case .number(let c) = r.kind, let offset = Int(c) {
                shifted = (base, offset)
            }
        }
        return PickedTermsForm(sum: inner, terms: picked, shiftedRows: shifted)
    }
}

/// A Σ over sequences whose terms are picked entries of the batched call (`SequenceBatchingRule.pickedTerms`).
struct PickedTermsForm: Sendable {
    /// The inner Σ over t (its bounds are evaluated with n bound).
    let sum: Sum
    /// Its picked-sum form: the variable t, the row and column index of a term, the divisor.
    let terms: PickedSumForm
    /// When the row index is `x_n[t + c]` and the column index t: the sequence x_n (not reading t)
    /// and c, so that each term's row is read from the sequence evaluated once per n.
    var shiftedRows: (sequence: Expr, offset: Int)? = nil
}

/// What the two sequence rules matched (`SequenceBatchingRule`, `PrefixReuseRule`).
enum SequenceForm: Sendable {
    case batch(SequenceBatchForm)
    case prefix(PrefixReuseForm)
}

/// The parts of a matched batched Σ over sequences.
struct SequenceBatchForm: Sendable {
    /// The Σ's variable (`n`).
    let variable: String
    /// The call (`DTransformer(x_n | θ)`) and its expression.
    let call: Call, callExpr: Expr
    /// Which arguments carry the sequences, in the order of their layouts (one for the Σ form;
    /// EDTraining's loop: z_n and x_n).
    let arguments: [Int]
    /// What the proof found in the callee (position reads, contexts, shared statements).
    let proof: SequenceProofFacts
    /// For the Σ form: its body when it is a picked sum of the call's entries, run as one pick
    /// over all sequences; nil otherwise (and for the loop form).
    var pickedTerms: PickedTermsForm? = nil
    /// A loop's statements that make the sequence arguments (ETraining's lines 3–7), run ahead for
    /// later iterations; empty when the arguments read nothing the loop body assigns, and for a Σ.
    var prelude: [Statement] = []
    /// Where the prelude's writes go: the spellings (`ℓ`, `t`, `T̃`) and the families whose element n
    /// (`x̃_n`) its assignments, loops, `∀`s and draws can write (`SequenceLoopBatchingRule.writes`);
    /// an iteration whose draws were made ahead takes them from there instead of running the prelude
    /// again. nil: the prelude may write other places (a family element other than n), and runs as written.
    var preludeWrites: (spellings: [String], families: [String])? = nil
}

/// Batched sequences in a loop: `for n = a, …, b do … F(θ) ← C(x_n | θ) … end` (DTraining,
/// ETraining, EDTraining's `C(z_n, x_n | θ)`, run by `evaluate(…)` and the held-out loss of
/// `--eval-every` as an evaluation pass) runs the callee C once on a chunk of the loop's sequences
/// side by side instead of once per n, by the same proof and the same executor inside the callee
/// as the Σ form (`SequenceBatchingRule`): column j of the batched result belongs to one sequence,
/// and each iteration's call takes its sequence's slice. With several sequence arguments (z_n and
/// x_n) each has its own columns (a layout, `SequenceColumnsProof.call`): the encoder runs on the
/// z's side by side, the decoder on the x's, and x_n's columns attend to z_n's only.
///
/// The sequences of a later iteration must be known before that iteration runs. Either the arguments
/// read nothing the body assigns (x_n of DTraining), or they read what the body's **prelude**
/// assigns: the statements of the body before the one holding the call (ETraining's lines 3–7,
/// which draw x̃_n from the random generator). The executor then runs the prelude ahead for the
/// next iterations, in a copy of the frame, from a copy of the generator: the draws of iteration
/// n + 1 are the next ones after iteration n's prelude, since nothing from the call's statement to
/// the end of the body draws. Each iteration still runs its prelude as written (drawing from the
/// real generator), and takes its slice only when its tokens equal those the chunk ran on.
///
/// Precondition (proven here): a counting loop whose body holds exactly one algorithm call that
/// mentions n; the arguments of it that mention n mention no name assigned from the call's
/// statement on, nor the variable of a Σ there (ETraining's `T̃` of line 7 is before, θ after); the
/// parameters do not mention n; the callee draws no random numbers (`CallMemoRule.isDeterministic`:
/// batching reorders the calls) and is column-wise in those arguments except for Algorithm 4's
/// lines 4–6 (`SequenceColumnsProof`). When an argument reads a
/// name the prelude assigns: the prelude reads nothing assigned from the call's statement on, calls
/// no algorithm, defines no function of θ, takes no `∇`, has no `return` and no `while`, and nothing from the
/// call's statement on draws a random number. Run-time guard (`Evaluator.loopBatchResult`): an
/// evaluation pass (`RunOptions.applyGradients` off: `∇loss(θ)` is zero and records no tape), not a
/// training run, the causal-attention rule on, not inside another sequence run; an iteration's
/// call takes its slice only when its tokens, its other arguments and its parameters are, value for
/// value, those the chunk ran on (θ is kept by `evaluation-update`, or θ − η · 0 makes new tensors
/// equal to θ); a chunk of one sequence, a prelude that fails ahead, or a batched call that fails,
/// runs the calls as written. Inside the callee each sequence's attention is kept within its
/// columns, causal or, for `Mask ≡ 1` (ETransformer, EDTransformer's encoder), full: block-diagonal,
/// and a cross-attention from one layout to another is block-diagonal between segments n (`sequenceAttention`).
struct SequenceLoopBatchingRule: StatementRule {
    let id = RuleID.sequenceBatching
    /// The checked algorithm a call resolves to (`Lowering.lower`'s program).
    let callee: @Sendable (ResolvedCall) -> CheckedAlgorithm?

    func match(_ body: [Statement], at i: Int, in a: CheckedAlgorithm) -> FusedStatement? {
        guard case .forLoop(let loop) = body[i].kind, case .counting = loop.range else { return nil }
        let n = loop.variable.spelling
        var calls: [Expr] = []
        /// Bases of the names the statements assign, and the variables of their loops, ∀s and Σs.
        func assigned(_ sts: [Statement]) -> [String] {
            var out: [String] = []
            for st in sts {
                switch st.kind {
                case .assign(let t, _, _):
                    switch t.kind {
                    case .name(let name): out.append(name.base)
                    case .index(let b, _): if case .name(let name) = b.kind { out.append(name.base) }
                    default: break
                    }
                case .sample(let sm): if case .name(let name) = sm.target.kind { out.append(name.base) }
                case .forLoop(let l): out.append(l.variable.base)
                // A ∀'s variables change within an iteration, as a for loop's do.
                case .forAll(let variables, _): out += variables.map(\.base)
                case .returnValue, .ifThen, .whileLoop, .comment, .error: break
                }
                for e in st.expressions {
                    _ = e.first { x -> Bool? in
                        // A Σ's variable changes within an iteration: a call reading it is not one per n.
                        if case .sum(let t) = x.kind, let l = t.lower, case .binary(.equal, let w, _) = l.value.kind, let v = Matching.name(w) {
                            out.append(v)
                        }
                        return nil
                    }
                }
                out += assigned(st.substatements)
            }
            return out
        }
        for st in loop.body {
            _ = st.contains(expression: { x in
                if case .call = x.kind, let r = a.calls[x.span], !r.isBuiltin, x.mentions(n) { calls.append(x) }
                return false
            })
        }
        guard calls.count == 1, case .call(let c) = calls[0].kind, let r = a.calls[calls[0].span],
              let at = loop.body.firstIndex(where: { $0.span.start <= calls[0].span.start && calls[0].span.end <= $0.span.end }),
              !c.parameters.contains(where: { p in p.value.mentions(n) || (p.target?.mentions(n) ?? false) }) else { return nil }
        let varying = c.arguments.indices.filter { c.arguments[$0].mentions(n) }
        guard !varying.isEmpty else { return nil }
        let sequences = varying.map { c.arguments[$0] }
        func reads(_ e: Expr, _ names: [String]) -> Bool { names.contains { e.mentions(base: $0) || e.mentions($0) } }
        let prelude = Array(loop.body[..<at]), rest = Array(loop.body[at...])
        let after = assigned(rest), before = assigned(prelude)
        guard !sequences.contains(where: { reads($0, after) }), CallMemoRule(callee: callee).isDeterministic(r, seen: []) else { return nil }
        var ahead: [Statement] = []
        if sequences.contains(where: { reads($0, before) }) {
            // The prelude runs ahead for later iterations: it must read nothing the rest assigns,
            // have no effect but its assignments and its draws, and be the only statements that draw.
            let draws = rest.contains { st in
                st.contains(statement: { if case .sample = $0.kind { true } else { false } },
                            expression: { if case .randomChoice = $0.kind { true } else { false } })
            }
            let replayable = prelude.allSatisfy { st in
                !st.contains(statement: { s in
                    switch s.kind {
                    case .returnValue, .whileLoop: return true   // a while loop's step-limit warning would be given twice
                    case .assign(let t, _, _): if case .call = t.kind { return true } else { return false }
                    case .sample, .forLoop, .forAll, .ifThen, .comment, .error: return false
                    }
                }, expression: { x in
                    if case .unary(.gradient, _) = x.kind { return true }
                    if case .call = x.kind, let r = a.calls[x.span], !r.isBuiltin { return true }
                    return reads(x, after)
                })
            }
            // Nothing after the prelude writes what the prelude writes (its loops' variables included),
            // so an iteration can take the prelude's values as the run ahead left them.
            guard !draws, replayable, Set(assigned(prelude)).isDisjoint(with: after) else { return nil }
            ahead = prelude
        }
        let writes = ahead.isEmpty ? nil : Self.writes(ahead, variable: n, in: a)
        var proof = SequenceColumnsProof(callee: callee)
        guard proof.call(calls[0], in: a, varying: Set(varying)) else { return nil }
        var form = SequenceBatchForm(variable: n, call: c, callExpr: calls[0], arguments: varying, proof: proof.facts, prelude: ahead)
        form.preludeWrites = writes
        return .sequenceLoop(form)
    }

    /// Every spelling the statements can write, and every family whose element n they can write
    /// (n the loop's variable), or nil when they can write another element of a family: a name
    /// target's spelling and, when a script is n, the family key `Evaluator.assign` uses (`e_n`); a
    /// script naming anything else could be a bound index (nil); an indexed target's base (`x̃_n[t]`:
    /// its spelling, and the family the checker bound, whose index must be n); the variables of loops
    /// and `∀`s. More than it writes is harmless: no statement after the prelude assigns a name with
    /// the base of a prelude's target (the rule's precondition: the prelude would mention it), so
    /// copying such a name copies a value nothing else changed.
    static func writes(_ sts: [Statement], variable: String, in a: CheckedAlgorithm) -> (spellings: [String], families: [String])? {
        var spellings: Set<String> = [], families: Set<String> = []
        var elsewhere = false
        func target(_ t: Expr) {
            switch t.kind {
            case .name(let n):
                spellings.insert(n.spelling)
                for (i, s) in n.scripts.enumerated() {
                    if Matching.name(s.value) == variable { families.insert(NameBinding.familyKey(n.base, n.scripts, index: i)) }
                    else if s.value.contains(where: { if case .name = $0.kind { true } else { false } }) { elsewhere = true }
                }
            case .index(let b, _):
                guard case .name(let n) = b.kind else { elsewhere = true; return }
                spellings.insert(n.spelling)
                if case .familyElement(let key, let i)? = a.bindings[b.span] {
                    if i < n.scripts.count, Matching.name(n.scripts[i].value) == variable { families.insert(key) } else { elsewhere = true }
                }
            default: elsewhere = true
            }
        }
        func walk(_ sts: [Statement]) {
            for st in sts {
                switch st.kind {
                case .assign(let t, _, _): target(t)
                case .sample(let sm): target(sm.target)
                case .forLoop(let l): spellings.insert(l.variable.spelling)
                case .forAll(let variables, _): spellings.formUnion(variables.map(\.spelling))
                case .returnValue, .ifThen, .whileLoop, .comment, .error: break
                }
                walk(st.substatements)
            }
        }
        walk(sts)
        return elsewhere ? nil : (spellings.sorted(), families.sorted())
    }
}
