import AlgoDiagnostics
import AlgoSema
import AlgoSyntax

/// The proof two rules share (`SequenceBatchingRule`, `PrefixReuseRule`): a call's callee, and every
/// algorithm it calls, is **column-wise in its sequence** except for causal attention. Column t of
/// every value computed from the sequence argument depends only on position t of the sequence
/// (and on shared values: parameters, hyperparameters, dimensions), except in Algorithm 4's lines
/// 4–6 with the causal mask, where column t reads the columns t′ ≤ t of K and V. Such a callee can
/// run on the columns of several sequences side by side, or on the new columns of a growing
/// sequence, when (a) a read of a shared value by a position (`W_p[:, t]`) uses the position within
/// its sequence and (b) the attention keeps within each sequence (`Evaluator+Sequences`).
///
/// What the proof accepts, walking the bodies in order (every other form that reads the sequence
/// makes it fail): `ℓ ← length(x)` of a sequence input (ℓ then appears only as a column loop's
/// range `[ℓ]` and in `[e_1, …, e_ℓ]`); column loops `for t ∈ [ℓ] : …` whose body reads a value
/// of the sequence only at column t (`X[:, t]`, `x[t]`, `e_t`) and a shared value at column t only
/// as a position (`W_p[:, t]`, recorded in `positional`); other loops over shared ranges (layers,
/// heads); products whose left factor is shared (`W X`); element-wise operations with shared
/// operands that are scalars, vectors or `b 𝟏ᵀ`; column-wise builtins (softmax, GELU, ReLU, exp,
/// log, tanh, σ); Σ over shared bounds (`Σ_{i=1}^{d_e} e[i]`, a sum over rows); row reads `e[i]`; the lists
/// `[e_1, …, e_ℓ]` and `[Y^1; …; Y^H]`; calls whose parameters are shared, proven the same way;
/// and Algorithm 4's lines 4–6 as `CausalAttentionRule` matches them, with K, Q and V from the
/// sequence (its run-time guard checks the mask is causal), or with Q from the sequence and K, V
/// shared (cross-attention on a context Z: column t of the result reads column t of Q only; its
/// run-time guard checks that the mask removes nothing, `Mask ≡ 1`, so no column's weights depend
/// on its position). Statements that read nothing of the sequence are shared (EDTransformer's
/// encoder, `Z[:, t] ← …` over z's columns included); an argument the call gives is not its
/// default (`MHAttention(X, Z | …)` with Z given is not `Z = X`). The column dimensions of the
/// sequence inputs' declared types (`ℓ_x` of `X ∈ ℝ^{d_x×ℓ_x}`) must not be read in the body.
///
/// Besides the verdict, the proof records the facts the executors need (`SequenceProofFacts`):
/// the position reads, the **context** of each call it walked (one algorithm called at one site
/// with different sequence arguments, as MHAttention calls Attention for self- and for
/// cross-attention, is two contexts; a call it did not walk reads nothing of the sequence and
/// runs outside the sequence run), the attentions with shared keys, and the **shared
/// assignments** by context (shared in every pass over their loop), which decoding computes once.
struct SequenceColumnsProof {
    /// The checked algorithm a call resolves to.
    let callee: (ResolvedCall) -> CheckedAlgorithm?
    /// Reads of a shared value by a column variable (`W_p[:, t]`), in the callee and its callees.
    private(set) var positional: Set<Span> = []
    /// Algorithm 4's lines 4–6 with K and V shared and Q from the sequence (cross-attention on a
    /// context: EDTransformer's `MHAttention(X, Z | 𝓦^e/d_l, Mask ≡ 1)`), by the span of line 4.
    private(set) var sharedKeys: Set<SequenceContextKey> = []
    /// Which invocation of an algorithm a callee frame is (its context): by the caller's context and
    /// the call's span; the callee of the proven call has the context `contexts[.init(0, call)]`.
    /// One algorithm called at one site with other sequence arguments (MHAttention's self- and
    /// cross-attention calls of Attention) is two contexts, whose shared statements differ.
    private(set) var contexts: [SequenceContextKey: Int] = [:]
    /// Assignments that read nothing of the sequence in their context, in every pass over their
    /// loop (`sharedStatements` minus `varyingStatements`, see `shared`).
    private var sharedStatements: Set<SequenceContextKey> = [], varyingStatements: Set<SequenceContextKey> = []
    private var depth = 0, context = 0
    /// The assignments of the callee and its callees that read nothing of the sequence, in their
    /// context: their values are the same on every call with the same shared values (decoding
    /// computes them once: the encoder's Z, cross-attention's K and V).
    var shared: Set<SequenceContextKey> { sharedStatements.subtracting(varyingStatements) }

    /// What the executors need of the proof (`SequenceColumns.proof`).
    var facts: SequenceProofFacts { SequenceProofFacts(positional: positional, sharedKeys: sharedKeys, contexts: contexts, shared: shared) }

    init(callee: @escaping (ResolvedCall) -> CheckedAlgorithm?) { self.callee = callee }

    /// Whether the call at `e` (in `a`) runs a callee column-wise in the arguments `varying`.
    mutating func call(_ e: Expr, in a: CheckedAlgorithm, varying: Set<Int>) -> Bool {
        guard case .call(let c) = e.kind, let r = a.calls[e.span], !r.isBuiltin, let g = callee(r), depth < 32,
              !varying.isEmpty, varying.allSatisfy({ $0 < c.arguments.count }) else { return false }
        let key = SequenceContextKey(context: context, span: e.span)
        let id = contexts[key] ?? contexts.count + 1
        contexts[key] = id
        let caller = context
        depth += 1; context = id
        defer { depth -= 1; context = caller }
        return algorithm(g, varyingInputs: varying, given: c.arguments.count)
    }

    /// `given`: how many arguments the call gives (an input past them takes its default, `Z = X`).
    private mutating func algorithm(_ a: CheckedAlgorithm, varyingInputs: Set<Int>, given: Int) -> Bool {
        var s = Scope(a)
        let inputs = a.syntax.title.signature?.inputs ?? []
        var varyingNames: Set<String> = []
        for (k, sp) in inputs.enumerated() {
            guard case .name(let n) = sp.name.kind else { return false }
            if varyingInputs.contains(k) || (k >= given && sp.defaultValue.map { d in varyingNames.contains { d.mentions($0) } } ?? false) {
                varyingNames.insert(n.spelling)
            }
        }
        s.varying = varyingNames
        // The column dimension of a sequence input's declared type (`ℓ_x`) is not a position count
        // the body may read: it is the number of columns of all sequences together.
        for case .line(let l) in a.syntax.header where l.kind == .input {
            guard case .declarations(let d) = l.content else { continue }
            for decl in d.declarations {
                guard decl.names.contains(where: { Matching.name($0).map(varyingNames.contains) ?? false }),
                      let t = decl.type, case .power(_, let dims, _) = t.kind, dims.count == 2, let col = Matching.name(dims[1]) else { continue }
                s.lengths.insert(col)
            }
        }
        return block(a.syntax.body, &s)
    }

    /// What the walk knows about one algorithm's names.
    private struct Scope {
        let a: CheckedAlgorithm
        /// Values (by spelling) and families (by key) computed from the sequence.
        var varying: Set<String> = []
        /// Families whose index is a column variable (`e_t`).
        var columnFamilies: Set<String> = []
        /// Names holding the number of columns (`ℓ ← length(x)`), and column dimensions.
        var lengths: Set<String> = []
        /// The variables of the column loops around, and of the other loops around.
        var columns: Set<String> = [], loops: Set<String> = []
        init(_ a: CheckedAlgorithm) { self.a = a }
    }

    // MARK: Statements

    private mutating func block(_ body: [Statement], _ s: inout Scope) -> Bool {
        var i = 0
        while i < body.count {
            if case .causalAttention(let form)? = CausalAttentionRule().match(body, at: i, in: s.a) {
                // K, Q and V from the sequence, or Q from it and K, V shared (its run-time guard
                // checks that the mask is the same for every column); the mask's condition and the divisor shared.
                let keysShared = !s.varying.contains(form.keys) && !s.varying.contains(form.values)
                guard s.varying.contains(form.queries), keysShared || (s.varying.contains(form.keys) && s.varying.contains(form.values)),
                      !mentionsSequence(form.condition, s), !(form.divisor.map { mentionsSequence($0, s) } ?? false),
                      let end = body.firstIndex(where: { $0.span == form.returnLine.span }) else { return false }
                if keysShared { sharedKeys.insert(SequenceContextKey(context: context, span: form.first.span)) }
                i = end + 1
                continue
            }
            guard statement(body[i], &s) else { return false }
            i += 1
        }
        return true
    }

    private mutating func statement(_ st: Statement, _ s: inout Scope) -> Bool {
        switch st.kind {
        case .comment: return true
        case .returnValue(_, let v): return expression(v, &s)
        case .assign(let target, _, let value):
            // `ℓ ← length(x)`.
            if case .name(let n) = target.kind, case .call(let c) = value.kind, s.a.calls[value.span]?.builtin == .length,
               c.arguments.count == 1, let x = Matching.name(c.arguments[0]), s.varying.contains(x) {
                guard !s.varying.contains(n.spelling), !s.columns.contains(n.spelling) else { return false }
                s.lengths.insert(n.spelling)
                return true
            }
            let fromSequence = mentionsSequence(value, s)
            guard expression(value, &s) else { return false }
            // Nothing of the sequence read or written: a shared statement (`Z[:, t] ← …` over z's columns too).
            let key = SequenceContextKey(context: context, span: st.span)
            if !fromSequence && !mentionsSequence(target, s) {
                sharedStatements.insert(key)
                if case .index = target.kind { return true }
            } else {
                varyingStatements.insert(key)
            }
            switch target.kind {
            case .name(let n):
                guard !s.lengths.contains(n.spelling), !s.columns.contains(n.spelling), !s.loops.contains(n.spelling) else { return false }
                // A script that is a loop variable makes the target a family element (`e_t`, `Y^h`), as `Evaluator.assign` decides.
                guard let index = n.scripts.lastIndex(where: { s.columns.contains($0.raw) || s.loops.contains($0.raw) }) else {
                    if fromSequence { s.varying.insert(n.spelling) } else { s.varying.remove(n.spelling) }
                    return true
                }
                let key = NameBinding.familyKey(n.base, n.scripts, index: index)
                if s.columns.contains(n.scripts[index].raw) { s.columnFamilies.insert(key) } else if s.columnFamilies.contains(key) { return false }
                if fromSequence { s.varying.insert(key) }
                return true
            case .index(let base, let idx):
                // `X̃[:, t] ← …` in a column loop.
                guard let b = Matching.name(base), idx.count == 2, case .all = idx[0].kind,
                      let t = Matching.name(idx[1]), s.columns.contains(t), !s.lengths.contains(b) else { return false }
                s.varying.insert(b)
                return true
            default: return false
            }
        case .forLoop(let loop):
            let v = loop.variable.spelling
            var column = false
            switch loop.range {
            case .domain(let d):
                guard case .range(let bound) = d.kind else { return false }
                if let l = Matching.name(bound), s.lengths.contains(l) { column = true }
                else if mentionsSequence(bound, s) { return false }
            case .counting(let bounds):
                if bounds.contains(where: { mentionsSequence($0, s) }) { return false }
            }
            if column { s.columns.insert(v) } else { s.loops.insert(v) }
            defer { if column { s.columns.remove(v) } else { s.loops.remove(v) } }
            // Twice: a value made from the sequence late in the body is read early in the next pass.
            return block(loop.body, &s) && block(loop.body, &s)
        case .forAll, .ifThen, .whileLoop, .sample, .error: return false
        }
    }

    // MARK: Expressions

    /// Whether `e` reads the sequence: a value or family computed from it, a column variable, or a
    /// number of columns.
    private func mentionsSequence(_ e: Expr, _ s: Scope) -> Bool {
        e.contains(intoNameScripts: false) { x in
            guard case .name(let n) = x.kind else { return false }
            if s.columns.contains(n.spelling) || s.lengths.contains(n.spelling) { return true }
            switch s.a.bindings[x.span] {
            case .value(let v)?: return s.varying.contains(v) || s.lengths.contains(v)
            case .familyElement(let key, _)?: return s.varying.contains(key)
            case .dimension(let d)?: return s.lengths.contains(d)
            default: return false
            }
        }
    }

    /// Whether `e` is column-wise in the sequence (true for an expression that does not read it).
    private mutating func expression(_ e: Expr, _ s: inout Scope) -> Bool {
        guard mentionsSequence(e, s) else { return true }
        switch e.kind {
        case .name(let n):
            switch s.a.bindings[e.span] {
            case .value(let v)?: return s.varying.contains(v) && !s.lengths.contains(v)
            case .familyElement(let key, let index)?:
                guard s.varying.contains(key), index < n.scripts.count else { return false }
                let script = n.scripts[index].value
                if s.columnFamilies.contains(key) { return Matching.name(script).map(s.columns.contains) ?? false }
                return !mentionsSequence(script, s)
            default: return false
            }
        case .number, .ones, .infinity: return true
        case .tuple(let items): return items.count == 1 && expression(items[0], &s)
        case .iverson(let x): return expression(x, &s)
        case .unary(let op, let x): return op != .gradient && expression(x, &s)
        case .scripted(let x, let scripts): return !scripts.contains { mentionsSequence($0.value, s) } && expression(x, &s)
        case .binary(let op, let l, let r):
            switch op {
            case .juxtapose, .multiply, .times:
                // `W X`: a shared left factor; or a scalar factor on either side.
                if !mentionsSequence(l, s) { return expression(r, &s) }
                if !mentionsSequence(r, s), Matching.isScalar(r, s.a) { return expression(l, &s) }
                return false
            case .add, .subtract, .hadamard, .divide, .equal, .notEqual, .less, .lessEqual, .greater, .greaterEqual:
                for x in [l, r] where !mentionsSequence(x, s) { guard broadcastsOverColumns(x, s.a) else { return false } }
                return expression(l, &s) && expression(r, &s)
            case .equivalent: return false
            }
        case .call(let c):
            if let r = s.a.calls[e.span], r.isBuiltin {
                switch r.builtin {
                case .softmax?, .GELU?, .ReLU?, .exp?, .log?, .tanh?, .sigma?:
                    return c.parameters.isEmpty && c.arguments.allSatisfy { expression($0, &s) }
                case .length?, nil: return false
                }
            }
            guard !c.parameters.contains(where: { p in mentionsSequence(p.value, s) || (p.target.map { mentionsSequence($0, s) } ?? false) }) else { return false }
            var varying: Set<Int> = []
            for (k, arg) in c.arguments.enumerated() where mentionsSequence(arg, s) {
                guard expression(arg, &s) else { return false }
                varying.insert(k)
            }
            return call(e, in: s.a, varying: varying)
        case .index(let base, let idx):
            if !mentionsSequence(base, s) {
                // `W_p[:, t]`: a position; `W_e[:, x[t]]`: the columns of the tokens.
                guard idx.count == 2, case .all = idx[0].kind else { return false }
                if let t = Matching.name(idx[1]), s.columns.contains(t) { positional.insert(e.span); return true }
                return expression(idx[1], &s)
            }
            guard expression(base, &s) else { return false }
            func isColumn(_ x: Expr) -> Bool { Matching.name(x).map(s.columns.contains) ?? false }
            func isAll(_ x: Expr) -> Bool { if case .all = x.kind { return true } else { return false } }
            switch s.a.types[base.span] {
            case .sequence?: return idx.count == 1 && isColumn(idx[0])                       // x[t]
            case .array(_, _, _)?:
                if idx.count == 1 { return !mentionsSequence(idx[0], s) }                     // e[i], a row
                return idx.count == 2 && (isAll(idx[0]) || !mentionsSequence(idx[0], s)) && (isAll(idx[1]) || isColumn(idx[1]))
            default: return false
            }
        case .list(let items, let sep):
            // `[e_1, e_2, . . . e_ℓ]` (the columns of a column family) or `[Y^1; …; Y^H]` (rows).
            guard items.contains(where: { if case .ellipsis = $0.kind { return true } else { return false } }) else { return false }
            let names = items.filter { if case .ellipsis = $0.kind { return false } else { return true } }
            var key: String? = nil
            for x in names {
                guard case .familyElement(let k, _)? = s.a.bindings[x.span], key == nil || key == k, s.varying.contains(k) else { return false }
                key = k
            }
            guard let key else { return false }
            return sep == .comma ? s.columnFamilies.contains(key) : !s.columnFamilies.contains(key)
        case .sum(let sum):
            return expression(sum.body, &s)
        case .text, .ellipsis, .all, .transpose, .slice, .set, .setBuilder, .membership, .randomChoice, .missing:
            return false
        }
    }

    /// Whether a shared operand of an element-wise operation is the same for every column: a scalar,
    /// a vector, or `b 𝟏ᵀ`.
    private func broadcastsOverColumns(_ x: Expr, _ a: CheckedAlgorithm) -> Bool {
        if case .binary(let op, _, let r) = Matching.unparenthesised(x).kind, Matching.isProduct(op),
           case .transpose(let o) = r.kind, case .ones = o.kind { return true }
        switch a.types[x.span] {
        case .array(_, nil, _)?: return true
        case .array(_, let cols?, _)?: return cols == Dim.one
        case let t?: return t.isScalar
        case nil: return false
        }
    }
}


/// An assignment or call in one context of a sequence proof (`SequenceColumnsProof.contexts`).
struct SequenceContextKey: Hashable, Sendable {
    let context: Int
    let span: SpanKey
    init(context: Int, span: Span) { self.context = context; self.span = SpanKey(span) }
}

/// What a sequence proof found, for the executors (`Evaluator+Sequences`, `Evaluator+SequenceContext`).
struct SequenceProofFacts: Sendable {
    /// Reads of a shared value by a column variable (`W_p[:, t]`).
    let positional: Set<Span>
    /// Algorithm 4's lines 4–6 with K and V shared, by context and line 4.
    let sharedKeys: Set<SequenceContextKey>
    /// The context of each call the proof walked, by the caller's context (0: the proven call's caller) and the call.
    let contexts: [SequenceContextKey: Int]
    /// Assignments that read nothing of the sequence, by context.
    let shared: Set<SequenceContextKey>
}
