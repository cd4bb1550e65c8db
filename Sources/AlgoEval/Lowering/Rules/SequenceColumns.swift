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
/// Several sequence arguments (EDTransformer(z_n, x_n | θ) in EDTraining's loop) are proven together,
/// each with its own column layout (`call`): everything above holds per layout, a value follows one
/// layout, and lines 4–6 may take Q from one layout and K, V from another (cross-attention).
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
    /// Reads of a shared value by a column variable (`W_p[:, t]`), in the callee and its callees,
    /// with the layout of the column variable's sequence (see `call`).
    private(set) var positional: [Span: Int] = [:]
    /// Algorithm 4's lines 4–6 by context and the span of line 4: the layouts of Q and of K, V
    /// (nil: K and V shared, cross-attention on a context: EDInference's `MHAttention(X, Z | 𝓦^e/d_l, Mask ≡ 1)`).
    private(set) var attentions: [SequenceContextKey: AttentionLayouts] = [:]
    /// Which invocation of an algorithm a callee frame is (its context): by the caller's context and
    /// the call's span; the callee of the proven call has the context `contexts[.init(0, call)]`.
    /// One algorithm called at one site with other sequence arguments (MHAttention's self- and
    /// cross-attention calls of Attention) is two contexts, whose shared statements differ.
    private(set) var contexts: [SequenceContextKey: Int] = [:]
    /// Assignments that read nothing of the sequence in their context, in every pass over their
    /// loop (`sharedStatements` minus `varyingStatements`, see `shared`).
    private var sharedStatements: Set<SequenceContextKey> = [], varyingStatements: Set<SequenceContextKey> = []
    /// The layout of the proven call's result (set by `call` at depth 0).
    private(set) var resultLayout: Int? = nil
    /// A fact recorded twice with different layouts (a loop whose second pass moves a value to
    /// another sequence's columns): the proof fails.
    private var conflict = false
    private var depth = 0, context = 0
    /// The assignments of the callee and its callees that read nothing of the sequence, in their
    /// context: their values are the same on every call with the same shared values (decoding
    /// computes them once: the encoder's Z, cross-attention's K and V).
    var shared: Set<SequenceContextKey> { sharedStatements.subtracting(varyingStatements) }

    /// What the executors need of the proof (`SequenceColumns.proof`).
    var facts: SequenceProofFacts {
        SequenceProofFacts(positional: positional, attentions: attentions, contexts: contexts, shared: shared, result: resultLayout ?? 0)
    }

    init(callee: @escaping (ResolvedCall) -> CheckedAlgorithm?) { self.callee = callee }

    /// Whether the call at `e` (in `a`) runs a callee column-wise in the arguments `varying`. Each
    /// of them is a **layout**: its columns, the sequences side by side, are numbered by the rank of
    /// the argument among `varying` (EDTransformer(z_n, x_n | θ): z's columns layout 0, x's layout 1).
    /// Every value computed from them is tagged with the one layout its columns follow; a value
    /// that would mix two (`Z + X`) makes the proof fail, except in Algorithm 4's lines 4–6 with Q
    /// from one layout and K, V from another (cross-attention, block-diagonal between the layouts'
    /// segments n).
    mutating func call(_ e: Expr, in a: CheckedAlgorithm, varying: Set<Int>) -> Bool {
        guard case .call(let c) = e.kind, varying.allSatisfy({ $0 < c.arguments.count }) else { return false }
        let layouts = Dictionary(uniqueKeysWithValues: varying.sorted().enumerated().map { ($0.element, $0.offset) })
        guard let r = call(e, in: a, layouts: layouts), !conflict else { return false }
        resultLayout = r
        return true
    }

    /// The layout of the call's result, or nil when the proof fails; `layouts`: the layout of each varying argument.
    private mutating func call(_ e: Expr, in a: CheckedAlgorithm, layouts: [Int: Int]) -> Int? {
        guard case .call(let c) = e.kind, let r = a.calls[e.span], !r.isBuiltin, let g = callee(r), depth < 32,
              !layouts.isEmpty, layouts.keys.allSatisfy({ $0 < c.arguments.count }) else { return nil }
        let key = SequenceContextKey(context: context, span: e.span)
        let id = contexts[key] ?? contexts.count + 1
        contexts[key] = id
        let caller = context
        depth += 1; context = id
        defer { depth -= 1; context = caller }
        return algorithm(g, layouts: layouts, given: c.arguments.count)
    }

    /// `given`: how many arguments the call gives (an input past them takes its default, `Z = X`).
    private mutating func algorithm(_ a: CheckedAlgorithm, layouts: [Int: Int], given: Int) -> Int? {
        var s = Scope(a)
        let inputs = a.syntax.title.signature?.inputs ?? []
        for (k, sp) in inputs.enumerated() {
            guard case .name(let n) = sp.name.kind else { return nil }
            if let l = layouts[k] {
                s.varying[n.spelling] = l
            } else if k >= given, let d = sp.defaultValue {
                // A default reading a varying input (`Z = X`) takes its layout.
                let read = s.varying.filter { d.mentions($0.key) }.map(\.value)
                guard Set(read).count <= 1 else { return nil }
                if let l = read.first { s.varying[n.spelling] = l }
            }
        }
        // The column dimension of a sequence input's declared type (`ℓ_x`) is not a position count
        // the body may read: it is the number of columns of all sequences together.
        for case .line(let l) in a.syntax.header where l.kind == .input {
            guard case .declarations(let d) = l.content else { continue }
            for decl in d.declarations {
                guard let layout = decl.names.lazy.compactMap({ Matching.name($0).flatMap { s.varying[$0] } }).first,
                      let t = decl.type, case .power(_, let dims, _) = t.kind, dims.count == 2, let col = Matching.name(dims[1]) else { continue }
                s.lengths[col] = layout
            }
        }
        guard block(a.syntax.body, &s) else { return nil }
        return s.returned
    }

    /// What the walk knows about one algorithm's names.
    private struct Scope {
        let a: CheckedAlgorithm
        /// Values (by spelling) and families (by key) computed from the sequences, with their layout.
        var varying: [String: Int] = [:]
        /// Families whose index is a column variable (`e_t`).
        var columnFamilies: Set<String> = []
        /// Names holding the number of columns (`ℓ ← length(x)`), and column dimensions, with their layout.
        var lengths: [String: Int] = [:]
        /// The variables of the column loops around (with their layout), and of the other loops around.
        var columns: [String: Int] = [:], loops: Set<String> = []
        /// The layout of the expression being walked (nil until it reads a sequence).
        var layout: Int? = nil
        /// The layout of what the algorithm returns.
        var returned: Int? = nil
        init(_ a: CheckedAlgorithm) { self.a = a }
        /// Whether the expression being walked can follow layout `l` (it follows the first it meets).
        mutating func unify(_ l: Int?) -> Bool {
            guard let l else { return false }
            if let m = layout { return m == l }
            layout = l
            return true
        }
    }

    /// Records a fact in `table`; false when it held another value for `key` (a conflict).
    private static func record<K: Hashable, V: Equatable>(_ table: inout [K: V], _ key: K, _ value: V) -> Bool {
        if let old = table[key], old != value { return false }
        table[key] = value
        return true
    }

    // MARK: Statements

    private mutating func block(_ body: [Statement], _ s: inout Scope) -> Bool {
        var i = 0
        while i < body.count {
            if case .causalAttention(let form)? = CausalAttentionRule().match(body, at: i, in: s.a) {
                // K, Q and V from the sequences (K and V in one layout, Q in that or another), or Q
                // from them and K, V shared (its run-time guard checks that the mask is the same for
                // every column, or causal within each sequence); the mask's condition and the divisor shared.
                let q = s.varying[form.queries], k = s.varying[form.keys], v = s.varying[form.values]
                guard let q, k == v, !mentionsSequence(form.condition, s), !(form.divisor.map { mentionsSequence($0, s) } ?? false),
                      let end = body.firstIndex(where: { $0.span == form.returnLine.span }) else { return false }
                if !Self.record(&attentions, SequenceContextKey(context: context, span: form.first.span), AttentionLayouts(queries: q, keys: k)) { conflict = true }
                // Line 6 returns the queries' columns.
                s.layout = s.returned
                guard s.unify(q) else { return false }
                s.returned = q
                i = end + 1
                continue
            }
            guard statement(body[i], &s) else { return false }
            i += 1
        }
        return true
    }

    private mutating func statement(_ st: Statement, _ s: inout Scope) -> Bool {
        s.layout = nil
        switch st.kind {
        case .comment: return true
        case .returnValue(_, let v):
            guard expression(v, &s), let l = s.layout else { return false }
            s.layout = s.returned
            guard s.unify(l) else { return false }
            s.returned = l
            return true
        case .assign(let target, _, let value):
            // `ℓ ← length(x)`.
            if case .name(let n) = target.kind, case .call(let c) = value.kind, s.a.calls[value.span]?.builtin == .length,
               c.arguments.count == 1, let x = Matching.name(c.arguments[0]), let layout = s.varying[x] {
                guard s.varying[n.spelling] == nil, s.columns[n.spelling] == nil else { return false }
                s.lengths[n.spelling] = layout
                return true
            }
            let fromSequence = mentionsSequence(value, s)
            guard expression(value, &s) else { return false }
            let layout = s.layout
            if fromSequence && layout == nil { return false }
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
                guard s.lengths[n.spelling] == nil, s.columns[n.spelling] == nil, !s.loops.contains(n.spelling) else { return false }
                // A script that is a loop variable makes the target a family element (`e_t`, `Y^h`), as `Evaluator.assign` decides.
                guard let index = n.scripts.lastIndex(where: { s.columns[$0.raw] != nil || s.loops.contains($0.raw) }) else {
                    s.varying[n.spelling] = fromSequence ? layout : nil
                    return true
                }
                let key = NameBinding.familyKey(n.base, n.scripts, index: index)
                if let column = s.columns[n.scripts[index].raw] {
                    // `e_t ← …` in a column loop: the value follows t's layout.
                    guard s.unify(column) else { return false }
                    s.columnFamilies.insert(key)
                } else if s.columnFamilies.contains(key) { return false }
                if fromSequence { s.varying[key] = s.layout }
                return true
            case .index(let base, let idx):
                // `X̃[:, t] ← …` in a column loop.
                guard let b = Matching.name(base), idx.count == 2, case .all = idx[0].kind,
                      let t = Matching.name(idx[1]), let column = s.columns[t], s.lengths[b] == nil, s.unify(column) else { return false }
                // Columns of another layout's value (or of a shared one) written by this layout's positions: not column-wise.
                if let old = s.varying[b], old != column { return false }
                s.varying[b] = column
                return true
            default: return false
            }
        case .forLoop(let loop):
            let v = loop.variable.spelling
            var column: Int? = nil
            switch loop.range {
            case .domain(let d):
                guard case .range(let bound) = d.kind else { return false }
                if let l = Matching.name(bound), let layout = s.lengths[l] { column = layout }
                else if mentionsSequence(bound, s) { return false }
            case .counting(let bounds):
                if bounds.contains(where: { mentionsSequence($0, s) }) { return false }
            }
            if let column { s.columns[v] = column } else { s.loops.insert(v) }
            defer { if column != nil { s.columns[v] = nil } else { s.loops.remove(v) } }
            // Twice: a value made from the sequence late in the body is read early in the next pass.
            return block(loop.body, &s) && block(loop.body, &s)
        case .forAll, .ifThen, .whileLoop, .sample, .error: return false
        }
    }

    // MARK: Expressions

    /// Whether `e` reads the sequences: a value or family computed from them, a column variable, or
    /// a number of columns.
    private func mentionsSequence(_ e: Expr, _ s: Scope) -> Bool {
        e.contains(intoNameScripts: false) { x in
            guard case .name(let n) = x.kind else { return false }
            if s.columns[n.spelling] != nil || s.lengths[n.spelling] != nil { return true }
            switch s.a.bindings[x.span] {
            case .value(let v)?: return s.varying[v] != nil || s.lengths[v] != nil
            case .familyElement(let key, _)?: return s.varying[key] != nil
            case .dimension(let d)?: return s.lengths[d] != nil
            default: return false
            }
        }
    }

    /// Whether `e` is column-wise in the sequences (true for an expression that does not read
    /// them); its columns' layout is unified into `s.layout`.
    private mutating func expression(_ e: Expr, _ s: inout Scope) -> Bool {
        guard mentionsSequence(e, s) else { return true }
        switch e.kind {
        case .name(let n):
            switch s.a.bindings[e.span] {
            case .value(let v)?: return s.lengths[v] == nil && s.unify(s.varying[v])
            case .familyElement(let key, let index)?:
                guard s.unify(s.varying[key]), index < n.scripts.count else { return false }
                let script = n.scripts[index].value
                if s.columnFamilies.contains(key) { return s.unify(Matching.name(script).flatMap { s.columns[$0] }) }
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
            // Each argument in its own layout; the result in the layout the callee returns.
            var layouts: [Int: Int] = [:]
            let outer = s.layout
            for (k, arg) in c.arguments.enumerated() where mentionsSequence(arg, s) {
                s.layout = nil
                guard expression(arg, &s), let l = s.layout else { return false }
                layouts[k] = l
            }
            s.layout = outer
            return s.unify(call(e, in: s.a, layouts: layouts))
        case .index(let base, let idx):
            if !mentionsSequence(base, s) {
                // `W_p[:, t]`: a position; `W_e[:, x[t]]`: the columns of the tokens.
                guard idx.count == 2, case .all = idx[0].kind else { return false }
                if let t = Matching.name(idx[1]), let column = s.columns[t] {
                    if !Self.record(&positional, e.span, column) { conflict = true }
                    return s.unify(column)
                }
                return expression(idx[1], &s)
            }
            guard expression(base, &s) else { return false }
            func isColumn(_ x: Expr) -> Bool { Matching.name(x).flatMap { s.columns[$0] } != nil }
            func isAll(_ x: Expr) -> Bool { if case .all = x.kind { return true } else { return false } }
            func column(_ x: Expr) -> Int? { Matching.name(x).flatMap { s.columns[$0] } }
            switch s.a.types[base.span] {
            case .sequence?: return idx.count == 1 && isColumn(idx[0]) && s.unify(column(idx[0]))                       // x[t]
            case .array(_, _, _)?:
                if idx.count == 1 { return !mentionsSequence(idx[0], s) }                     // e[i], a row
                guard idx.count == 2, isAll(idx[0]) || !mentionsSequence(idx[0], s), isAll(idx[1]) || isColumn(idx[1]) else { return false }
                return isAll(idx[1]) || s.unify(column(idx[1]))
            default: return false
            }
        case .list(let items, let sep):
            // `[e_1, e_2, . . . e_ℓ]` (the columns of a column family) or `[Y^1; …; Y^H]` (rows).
            guard items.contains(where: { if case .ellipsis = $0.kind { return true } else { return false } }) else { return false }
            let names = items.filter { if case .ellipsis = $0.kind { return false } else { return true } }
            var key: String? = nil
            for x in names {
                guard case .familyElement(let k, _)? = s.a.bindings[x.span], key == nil || key == k, s.unify(s.varying[k]) else { return false }
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
    /// Reads of a shared value by a column variable (`W_p[:, t]`), with the layout of its sequence.
    let positional: [Span: Int]
    /// Algorithm 4's lines 4–6 by context and line 4: the layouts of Q and of K, V (nil: shared).
    let attentions: [SequenceContextKey: AttentionLayouts]
    /// The context of each call the proof walked, by the caller's context (0: the proven call's caller) and the call.
    let contexts: [SequenceContextKey: Int]
    /// Assignments that read nothing of the sequence, by context.
    let shared: Set<SequenceContextKey>
    /// The layout of the proven call's result (EDTransformer's P: x's columns).
    let result: Int
}

/// The layouts of one attention's queries and of its keys and values (`SequenceColumnsProof.attentions`).
struct AttentionLayouts: Hashable, Sendable {
    let queries: Int
    /// nil: K and V shared (a context read by every column); another layout than the queries':
    /// cross-attention from each sequence n of one layout to sequence n of the other.
    let keys: Int?
}
