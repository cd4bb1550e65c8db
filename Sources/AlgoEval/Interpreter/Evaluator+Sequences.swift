import AlgoDiagnostics
import AlgoSyntax
import AlgoTensor
import Foundation

/// How the columns of the sequence values map to positions while a callee proven column-wise in
/// its sequences (`Rules/SequenceColumns.swift`) runs on several sequences side by side
/// (`Rules/SequenceBatching.swift`) or on the new tokens of a growing one (`Rules/PrefixReuse.swift`).
/// One **layout** per sequence argument (EDTransformer(z_n, x_n | θ): z's columns and x's); in each,
/// segment s holds `columns` consecutive columns, the positions `first + 1 … first + columns` of its
/// sequence, and segment s of every layout belongs to the same iteration.
final class SequenceColumns {
    struct Segment { let columns: Int, first: Int }
    /// The columns of one sequence argument.
    struct Layout {
        let segments: [Segment]
        /// The number of columns of all segments.
        let total: Int
        /// The 1-based position of each column, in column order.
        let positions: [Int]
        init(_ segments: [Segment]) {
            self.segments = segments
            total = segments.reduce(0) { $0 + $1.columns }
            positions = segments.flatMap { s in (0..<s.columns).map { s.first + 1 + $0 } }
        }
    }
    /// By layout (the rank of the argument among the call's sequence arguments).
    let layouts: [Layout]
    /// What the proof found in the callee and its callees: position reads of shared values
    /// (`W_p[:, t]`), the context of each callee frame, shared statements and each attention's layouts.
    let proof: SequenceProofFacts
    /// The K and V of every attention for the positions already computed (prefix reuse), else nil.
    let cache: AttentionCache?
    /// Square sizes whose mask was checked causal, by the span of the mask's condition.
    var checkedSquares: Set<[Int]> = []

    init(layouts: [[Segment]], proof: SequenceProofFacts, cache: AttentionCache?) {
        self.layouts = layouts.map(Layout.init)
        self.proof = proof
        self.cache = cache
    }
}

/// The K and V columns (`[d, p]` or head-batched `[d, p, H]`) of every causal attention of one
/// call, in the order the attentions run (the callee's control flow does not depend on the
/// sequence: its loops run over shared ranges); `next` counts the attentions of the current call.
final class AttentionCache {
    var keys: [Variable] = [], values: [Variable] = []
    var next = 0
    /// From an attention's first extension on, its K and V in buffers that grow without copying the prefix.
    var growing: [Int: (keys: GrowingColumns, values: GrowingColumns)] = [:]
    /// The values of the shared statements of the first call, in the order they ran, and how many
    /// this call has taken (`Evaluator.sharedValue`); `replaying` from the second call on.
    var shared: [(statement: SpanKey, value: Value)] = []
    var sharedNext = 0, replaying = false

    /// Appends the new columns of attention `ordinal` to its K and V; returns all of them (views, no copy of the prefix).
    func extend(_ ordinal: Int, keys k: Variable, values v: Variable) -> (Variable, Variable) {
        var g = growing[ordinal] ?? (GrowingColumns(keys[ordinal].value, capacity: 2 * (keys[ordinal].shape[1] + k.shape[1])),
                                     GrowingColumns(values[ordinal].value, capacity: 2 * (values[ordinal].shape[1] + v.shape[1])))
        growing[ordinal] = nil   // uniquely held while it grows
        keys[ordinal] = Variable(g.keys.append(k.value)); values[ordinal] = Variable(g.values.append(v.value))
        growing[ordinal] = g
        return (keys[ordinal], values[ordinal])
    }
    /// Per-head parameters stacked for head batching (`Evaluator.stacked(_:at:keptBy:)`), kept for
    /// the whole decoding whatever their size, with the tensors they were stacked from.
    var stacked: [Evaluator.StackKey: (parts: [Variable], stacked: Collection)] = [:]
}

/// What a call site that reuses its prefix keeps between calls.
final class PrefixCache {
    /// The frame the call ran in, the tokens it ran on, the shared values it read (`kept` holds them,
    /// so that no buffer of theirs is freed and its address reused while the fingerprint names it), its result.
    let frame: Frame
    var tokens: [Int]
    let fingerprint: [Int], kept: [Value]
    var output: Variable
    /// The columns of `output` in a buffer that grows without copying them (from the first reuse on).
    var outputColumns: GrowingColumns? = nil
    let attention: AttentionCache
    /// How many calls in a row computed only their new columns (0 after a whole run).
    let extensions: Int
    init(frame: Frame, tokens: [Int], fingerprint: [Int], kept: [Value], output: Variable, attention: AttentionCache, extensions: Int) {
        self.frame = frame; self.tokens = tokens; self.fingerprint = fingerprint; self.kept = kept; self.output = output
        self.attention = attention; self.extensions = extensions
    }
}

/// A sequence run met something its proof does not cover at run time (a mask that is not causal, a
/// disabled rule, shapes that do not fit): the caller runs the lines as written instead.
struct SequenceFallback: Error {}

extension Evaluator {
    // MARK: Batched sequences

    /// The executor of `SequenceBatchingRule` at the Σ `e` over `values`: runs the call once on the
    /// sequences side by side. When the Σ's terms are picked entries of the call (`pickedTerms`),
    /// returns the whole Σ as one pick of every sequence's entries (`pickedTermsSum`); otherwise
    /// puts each sequence's columns in the call memo and returns nil, and the Σ runs as written.
    /// Does nothing (nil) when the rule did not match here, is off, or the guard fails.
    func batchSequences(_ e: Expr, _ values: [Int], _ f: Frame) throws -> Value? {
        guard values.count >= 2, enabled(.sequenceBatching), enabled(.causalAttention), f.sequences == nil,
              case .sequences(.batch(let form))? = f.algorithm.plan.expressions[SpanKey(e.span)],
              functionMemo != nil, f === memoFrame else { return nil }
        var keys: [String] = [], segments: [SequenceColumns.Segment] = [], tokens: [Int] = []
        let saved = f.vars[form.variable]
        do {
            defer { f.vars[form.variable] = saved }
            for n in values {
                f.vars[form.variable] = .nat(n)
                guard let key = callMemoKey(form.callExpr, f, log: false),
                      functionMemo?[key] == nil,
                      case .tokens(let x) = try eval(form.call.arguments[form.arguments[0]], f), !x.isEmpty else { return nil }
                keys.append(key)
                segments.append(.init(columns: x.count, first: 0))
                tokens += x
            }
        }
        let layout = SequenceColumns(layouts: [segments], proof: form.proof, cache: nil)
        let result: Value
        do {
            result = try callAlgorithm(form.call, form.callExpr, f, given: [form.call.arguments[form.arguments[0]].span: .tokens(tokens)], sequences: layout)
        } catch {
            return nil   // as written: a real error is reported there, by the line that makes it
        }
        guard case .tensor(let p) = result, p.rank == 2, p.shape[1] == tokens.count else { return nil }
        if let terms = form.pickedTerms, enabled(.pickedSum), let v = try pickedTermsSum(terms, form.variable, values, segments, p, f) { return v }
        var start = 0
        for (key, s) in zip(keys, segments) {
            ops += 1
            functionMemo?[key] = .tensor(p.slice(lower: [0, start], upper: [p.shape[0], start + s.columns]))
            start += s.columns
        }
        return nil
    }

    /// `Σ_n Σ_{t=a}^{b} log C(x_n | θ)[i(t), j(t)]/B` from the batched result `p` (the sequences'
    /// columns side by side, `segments` in the order of `values`): the entries (i(t), j(t)) of
    /// every sequence n, column j(t) of its own segment, taken by one gather of their columns and
    /// one pick, then log, ÷ B and one sum; the terms of `Evaluator.pickedSum` for every n at once,
    /// the same numbers added in another order. Nil (the Σ then runs as written on the memoised
    /// slices) when an index is not a natural inside the sequence's columns, or a bound or the
    /// divisor is not a number.
    func pickedTermsSum(_ form: PickedTermsForm, _ n: String, _ values: [Int], _ segments: [SequenceColumns.Segment],
                        _ p: Variable, _ f: Frame) throws -> Value? {
        let terms = form.terms
        guard let lower = form.sum.lower, case .binary(.equal, _, let from) = lower.value.kind, let upper = form.sum.upper else { return nil }
        var rows: [Int] = [], cols: [Int] = []
        let savedN = f.vars[n], savedT = f.vars[terms.variable]
        defer { f.vars[n] = savedN; f.vars[terms.variable] = savedT }
        var start = 0
        for (value, segment) in zip(values, segments) {
            f.vars[n] = .nat(value)
            guard case .nat(let a) = try eval(from, f), case .nat(let b) = try eval(upper.value, f) else { return nil }
            if a <= b, let shifted = form.shiftedRows {
                // `x_n[t + c]` and t: the tokens read from x_n, evaluated once (an index outside it: as written).
                guard case .tokens(let x) = try eval(shifted.sequence, f), a + shifted.offset >= 1, b + shifted.offset <= x.count,
                      a >= 1, b <= segment.columns else { return nil }
                for t in a...b {
                    let i = x[t + shifted.offset - 1]
                    guard i >= 1, i <= p.shape[0] else { return nil }
                    rows.append(i - 1); cols.append(start + t - 1)
                }
            } else if a <= b {
                for t in a...b {
                    f.vars[terms.variable] = .nat(t)
                    guard case .nat(let i) = try eval(terms.rows, f), case .nat(let j) = try eval(terms.columns, f),
                          i >= 1, i <= p.shape[0], j >= 1, j <= segment.columns else { return nil }
                    rows.append(i - 1); cols.append(start + j - 1)
                }
            }
            start += segment.columns
        }
        guard rows.count >= 2 else { return nil }
        var divisor: Variable? = nil
        if let d = terms.divisor {
            let q = try tensor(try eval(d, f), d.span)
            guard q.value.count == 1 else { return nil }
            divisor = q
        }
        ops += 3
        var picked = p.gather(axis: 1, indices: cols).pick(rows: rows).log()
        if let divisor { ops += 1; picked = picked / divisor }
        ops += 1
        return .tensor(picked.sum(axis: 0))
    }

    // MARK: Prefix reuse

    /// The executor of `PrefixReuseRule` at the call `e`: the callee's result on x, computing only
    /// the columns of the tokens added since the previous call at this site; nil when the rule did
    /// not match here, is off, or the guard fails (then the call runs as written).
    func reusePrefix(_ c: Call, _ e: Expr, _ f: Frame) throws -> Value? {
        guard enabled(.prefixReuse), enabled(.causalAttention), f.sequences == nil, functionMemo == nil,
              case .sequences(.prefix(let form))? = f.algorithm.plan.expressions[SpanKey(e.span)],
              let resolved = f.algorithm.checked.calls[e.span], let callee = program.find(resolved.callee, file: resolved.file),
              case .tokens(let x) = try eval(c.arguments[form.argument], f), !x.isEmpty else { return nil }
        // What else the callee reads: the other arguments, the parameters, the real hyperparameters.
        var fingerprint: [Int] = [], kept: [Value] = []
        for x in c.arguments.enumerated().filter({ $0.offset != form.argument }).map(\.element) + c.parameters.map(\.value) {
            let v = try eval(x, f)
            guard Self.fingerprint(v, into: &fingerprint) else { return nil }
            kept.append(v)
        }
        for h in callee.realHyperparameterNames {
            guard let v = f.vars[h] else { fingerprint.append(0); continue }
            guard Self.fingerprint(v, into: &fingerprint) else { return nil }
        }
        let key = SpanKey(e.span)
        var reuse: PrefixCache? = nil
        if let old = prefixCaches[key], old.frame === f, old.fingerprint == fingerprint, old.tokens.count < x.count,
           Array(x.prefix(old.tokens.count)) == old.tokens {
            reuse = old
        }
        prefixCaches[key] = nil
        let attention = reuse?.attention ?? AttentionCache()
        attention.next = 0
        attention.sharedNext = 0
        attention.replaying = reuse != nil
        let first = reuse?.tokens.count ?? 0
        let layout = SequenceColumns(layouts: [[.init(columns: x.count - first, first: first)]], proof: form.proof, cache: attention)
        let result: Value
        do {
            result = try callAlgorithm(c, e, f, given: [c.arguments[form.argument].span: .tokens(Array(x[first...]))], sequences: layout)
        } catch {
            return nil   // as written: a real error is reported there
        }
        guard case .tensor(let p) = result, p.rank == 2, p.shape[1] == x.count - first, attention.next == attention.keys.count,
              !attention.replaying || attention.sharedNext == attention.shared.count else { return nil }
        var full = p
        var columns: GrowingColumns? = nil
        if let reuse {
            guard reuse.output.shape[0] == p.shape[0] else { return nil }
            ops += 1
            columns = reuse.outputColumns ?? GrowingColumns(reuse.output.value, capacity: 2 * x.count)
            reuse.outputColumns = nil   // uniquely held while it grows
            full = Variable(columns!.append(p.value))
        }
        let cache = PrefixCache(frame: f, tokens: x, fingerprint: fingerprint, kept: kept, output: full, attention: attention,
                                extensions: reuse.map { $0.extensions + 1 } ?? 0)
        cache.outputColumns = columns
        prefixCaches[key] = cache
        return .tensor(full)
    }

    /// A value's identity for the prefix cache, appended to `key`: tensors by their storage (the
    /// same buffer, view and shape), numbers and tokens by value, collections member by member (with
    /// their names' hashes), a mask rule by its syntax; false for anything else (no reuse).
    static func fingerprint(_ v: Value, into key: inout [Int]) -> Bool {
        switch v {
        case .tensor(let t):
            let x = t.value
            key += [1, Int(bitPattern: UInt(bitPattern: ObjectIdentifier(x.storage))), x.offset, x.rank] + x.shape + x.strides
        case .nat(let n): key += [2, n]
        case .real(let r): key += [3, Int(bitPattern: UInt(r.bitPattern))]
        case .tokens(let ids): key += [4, ids.count] + ids
        case .collection(let c):
            key += [5, c.members.count]
            for m in c.members {
                key.append(m.name.hashValue)
                guard fingerprint(m.value, into: &key) else { return false }
            }
        case .mask(.rule(let vars, let body, _)): key += [6, body.span.start, body.span.end, body.span.file.hashValue] + vars.map(\.hashValue)
        case .mask(.causal): key.append(7)
        case .mask(.constant(let c)): key += [8, Int(bitPattern: UInt(c.bitPattern))]
        default: return false
        }
        return true
    }

    // MARK: Inside the callee

    /// `W_p[:, t]` inside a sequence run: the column variable's columns read as positions within
    /// their sequence (a gather), or `values` unchanged when `e` is no position read.
    func positionalIndices(_ values: [Value], _ e: Expr, _ f: Frame) throws -> [Value] {
        guard let sc = f.sequences, let l = sc.proof.positional[e.span] else { return values }
        guard l < sc.layouts.count else { throw SequenceFallback() }
        let layout = sc.layouts[l]
        return try values.map { v in
            switch v {
            case .grid(let n, _) where n >= 0:
                guard n == layout.total else { throw SequenceFallback() }
                return .tokens(layout.positions)
            case .nat(let t):
                guard t >= 1, t <= layout.total else { throw SequenceFallback() }
                return .nat(layout.positions[t - 1])
            default: return v
            }
        }
    }

    /// Algorithm 4's lines 4–6 inside a sequence run: causal attention within each segment; a
    /// segment of new columns after a cached prefix attends to the cached K and V too; `Mask ≡ 1`
    /// within each segment, or from each segment of the queries' layout to the same segment of the
    /// keys' (cross-attention, `crossAttention`). Throws `SequenceFallback` when the values or the mask do not fit.
    func sequenceAttention(_ form: CausalAttentionForm, _ sc: SequenceColumns, _ f: Frame) throws -> Value {
        guard let at = sc.proof.attentions[.init(context: f.sequenceContext, span: form.first.span)], at.queries < sc.layouts.count,
              (at.keys ?? 0) < sc.layouts.count else { throw SequenceFallback() }
        let layout = sc.layouts[at.queries]
        guard let keyLayout = at.keys else { return try sharedKeysAttention(form, layout, sc, f) }
        if keyLayout != at.queries { return try crossAttention(form, keys: sc.layouts[keyLayout], queries: layout, sc, f) }
        guard !f.logReturn,
              case .tensor(let k)? = f.vars[form.keys], case .tensor(let q)? = f.vars[form.queries], case .tensor(let v)? = f.vars[form.values],
              k.rank == q.rank, q.rank == v.rank, k.rank == 2 || (k.rank == 3 && f.heads == k.shape[2]),
              k.shape[0] == q.shape[0], k.shape[1] == layout.total, q.shape[1] == layout.total, v.shape[1] == layout.total,
              k.rank == 2 || (k.shape[2] == q.shape[2] && q.shape[2] == v.shape[2]), k.dtype == dtype
        else { throw SequenceFallback() }
        let divisor = try attentionDivisor(form, f)
        let ordinal = sc.cache?.next ?? 0
        sc.cache?.next += 1
        if sc.cache == nil, layout.segments.allSatisfy({ $0.first == 0 }) {
            // Every sequence from its start (a minibatch, a loop's chunk). A mask that removes
            // nothing (`Mask ≡ 1`, ETransformer): full attention within each sequence, block-diagonal.
            if try !layout.segments.allSatisfy({ try isCausalSquare(form, $0.columns, sc, f) }) {
                for s in layout.segments where try !removesNothing(form, s.columns, s.columns, sc, f) { throw SequenceFallback() }
                let widths = layout.segments.map(\.columns)
                return try profiledAttention(form, f) { self.blockDiagonalAttention(k, q, v, keys: widths, queries: widths, divisor: divisor) }
            }
            // A causal mask: all sequences and heads in one call.
            return try profiledAttention(form, f) {
                self.ops += 1
                return .causalAttention(keys: k, queries: q, values: v, divisor: divisor, segments: layout.segments.map(\.columns))
            }
        }
        var outs: [Variable] = []
        var start = 0
        for s in layout.segments {
            let ks = Self.columns(k, start, start + s.columns), qs = Self.columns(q, start, start + s.columns), vs = Self.columns(v, start, start + s.columns)
            start += s.columns
            if s.first == 0 {
                try checkCausalSquare(form, s.columns, sc, f)
                if let cache = sc.cache {
                    guard layout.segments.count == 1, ordinal == cache.keys.count else { throw SequenceFallback() }
                    cache.keys.append(ks); cache.values.append(vs)
                }
                ops += 2
                outs.append(.causalAttention(keys: ks, queries: qs, values: vs, divisor: divisor))
            } else {
                // One new column at position p after p − 1 cached ones: it attends to all p.
                guard let cache = sc.cache, layout.segments.count == 1, s.columns == 1, ordinal < cache.keys.count,
                      cache.keys[ordinal].shape[1] == s.first else { throw SequenceFallback() }
                let p = s.first + 1
                try checkCausalExtension(form, p, f)
                let (kf, vf) = cache.extend(ordinal, keys: ks, values: vs)
                ops += 5
                let weights = (kf.matmul(qs, transposeSelf: true) / divisor).softmaxColumns()
                outs.append(vf.matmul(weights))
            }
        }
        let result = Value.tensor(outs.count == 1 ? outs[0] : Variable.concat(outs, axis: 1))
        try checkFinite(result, form.returnLine, f)
        return result
    }

    /// Algorithm 4's lines 4–6 with Q from one layout and K, V from another (EDTransformer's
    /// cross-attention `MHAttention(X, Z | 𝓦^e/d_l, Mask ≡ 1)` on a chunk of pairs (z_n, x_n)): the
    /// columns of x_n attend to the columns of z_n only, a rectangular block-diagonal, which is
    /// what each pair's call gives when the mask removes nothing on each ℓ_z × ℓ_x grid (checked
    /// here; otherwise `SequenceFallback`). Every sequence from its start, no cache.
    func crossAttention(_ form: CausalAttentionForm, keys kl: SequenceColumns.Layout, queries ql: SequenceColumns.Layout,
                        _ sc: SequenceColumns, _ f: Frame) throws -> Value {
        guard !f.logReturn, sc.cache == nil, kl.segments.count == ql.segments.count,
              kl.segments.allSatisfy({ $0.first == 0 }), ql.segments.allSatisfy({ $0.first == 0 }),
              case .tensor(let k)? = f.vars[form.keys], case .tensor(let q)? = f.vars[form.queries], case .tensor(let v)? = f.vars[form.values],
              k.rank == q.rank, q.rank == v.rank, k.rank == 2 || (k.rank == 3 && f.heads == k.shape[2] && q.shape[2] == k.shape[2] && v.shape[2] == k.shape[2]),
              k.shape[0] == q.shape[0], k.shape[1] == kl.total, v.shape[1] == kl.total, q.shape[1] == ql.total, k.dtype == dtype
        else { throw SequenceFallback() }
        for (z, x) in zip(kl.segments, ql.segments) where try !removesNothing(form, z.columns, x.columns, sc, f) { throw SequenceFallback() }
        let divisor = try attentionDivisor(form, f)
        return try profiledAttention(form, f) {
            self.blockDiagonalAttention(k, q, v, keys: kl.segments.map(\.columns), queries: ql.segments.map(\.columns), divisor: divisor)
        }
    }

    /// `V · softmax(KᵀQ/c)` for each pair of segments (K, V columns `keys[s]`, Q columns
    /// `queries[s]`, consecutive in their tensors), the blocks of a block-diagonal attention. A run
    /// of g consecutive pairs of the same widths (m, n) is one batched product: columns [d, g·n]
    /// (or [d, g·n, H]) are, in column-major order, [d, n, g] (or [d, n, g·H]), so pair s (of head
    /// h) is batch s (s + g·h) of both operands, and each batch's product is that pair's alone.
    func blockDiagonalAttention(_ k: Variable, _ q: Variable, _ v: Variable, keys: [Int], queries: [Int], divisor: Double) -> Variable {
        var outs: [Variable] = []
        var kStart = 0, qStart = 0, i = 0
        let heads = k.rank == 3 ? k.shape[2] : 1
        while i < queries.count {
            let m = keys[i], n = queries[i]
            var g = 1
            while i + g < queries.count, keys[i + g] == m, queries[i + g] == n { g += 1 }
            var ks = Self.columns(k, kStart, kStart + g * m), vs = Self.columns(v, kStart, kStart + g * m)
            var qs = Self.columns(q, qStart, qStart + g * n)
            if g > 1 {
                ks = ks.reshaped([ks.shape[0], m, g * heads]); vs = vs.reshaped([vs.shape[0], m, g * heads])
                qs = qs.reshaped([qs.shape[0], n, g * heads])
            }
            ops += g > 1 ? 7 : 3
            var out = vs.matmul((ks.matmul(qs, transposeSelf: true) / divisor).softmaxColumns())
            if g > 1 { out = out.reshaped(k.rank == 3 ? [out.shape[0], g * n, heads] : [out.shape[0], g * n]) }
            outs.append(out)
            kStart += g * m; qStart += g * n; i += g
        }
        return outs.count == 1 ? outs[0] : Variable.concat(outs, axis: 1)
    }

    /// Columns a ..< b of a `[d, n]` or `[d, n, H]` tensor (itself when all).
    static func columns(_ x: Variable, _ a: Int, _ b: Int) -> Variable {
        if a == 0 && b == x.shape[1] { return x }
        return x.rank == 2 ? x.slice(lower: [0, a], upper: [x.shape[0], b]) : x.slice(lower: [0, a, 0], upper: [x.shape[0], b, x.shape[2]])
    }

    /// The divisor of line 6 (`√d_attn`), 1 without one; `SequenceFallback` unless finite and > 0.
    func attentionDivisor(_ form: CausalAttentionForm, _ f: Frame) throws -> Double {
        guard let d = form.divisor else { return 1 }
        guard let x = number(try eval(d, f)), x.isFinite, x > 0 else { throw SequenceFallback() }
        return x
    }

    /// Runs an attention executor for lines 4–6 as one line of the profile (its forward time, and
    /// its backward time on the tape, go to line 4, as in `causalAttention`), checking the result finite.
    func profiledAttention(_ form: CausalAttentionForm, _ f: Frame, _ body: () throws -> Variable) throws -> Value {
        let began = options.profile ? DispatchTime.now().uptimeNanoseconds : 0
        let opsBefore = ops
        let savedTag = profileTape?.tag
        if let t = profileTape { t.tag = profileTag(form.first, f) }
        defer { if let savedTag { profileTape?.tag = savedTag } }
        let result = Value.tensor(try body())
        try checkFinite(result, form.returnLine, f)
        if options.profile { record(form.first, f, since: began, opsBefore: opsBefore) }
        return result
    }

    /// The mask's condition (`¬Mask[t_z, t_x]`) with t_z and t_x bound to `tz` and `tx`.
    func maskCondition(_ form: CausalAttentionForm, _ tz: Value, _ tx: Value, _ f: Frame) throws -> Value {
        let saved = form.variables.map { f.vars[$0] }
        defer { for (a, name) in form.variables.enumerated() { f.vars[name] = saved[a] } }
        f.vars[form.variables[0]] = tz
        f.vars[form.variables[1]] = tx
        return try eval(form.condition, f)
    }

    /// The condition over the n×n grid removes exactly the entries below the diagonal.
    func checkCausalSquare(_ form: CausalAttentionForm, _ n: Int, _ sc: SequenceColumns, _ f: Frame) throws {
        guard try isCausalSquare(form, n, sc, f) else { throw SequenceFallback() }
    }

    /// Whether the condition over the n×n grid removes exactly the entries below the diagonal.
    func isCausalSquare(_ form: CausalAttentionForm, _ n: Int, _ sc: SequenceColumns, _ f: Frame) throws -> Bool {
        let key = [form.condition.span.start, n]
        if sc.checkedSquares.contains(key) { return true }
        guard case .tensor(let c) = try maskCondition(form, .grid(count: n, axis: 0), .grid(count: n, axis: 1), f),
              c.value.isStrictlyLowerIndicator(n) else { return false }
        sc.checkedSquares.insert(key)
        return true
    }

    /// Whether the condition over the rows × columns grid (t_z ≤ rows, t_x ≤ columns) is 0
    /// everywhere: the mask removes nothing there (`Mask ≡ 1` gives the number 0).
    func removesNothing(_ form: CausalAttentionForm, _ rows: Int, _ columns: Int, _ sc: SequenceColumns, _ f: Frame) throws -> Bool {
        let key = [form.condition.span.start, rows, columns]
        if sc.checkedSquares.contains(key) { return true }
        let c = try maskCondition(form, .grid(count: rows, axis: 0), .grid(count: columns, axis: 1), f)
        if let x = number(c) {
            guard x == 0 else { return false }
        } else {
            guard case .tensor(let t) = c, t.value.contiguous().doubles.allSatisfy({ $0 == 0 }) else { return false }
        }
        sc.checkedSquares.insert(key)
        return true
    }

    /// Extending a causal (p − 1)×(p − 1) square to p×p: the new column keeps every t_z ≤ p, and
    /// the new row removes every t_x < p.
    func checkCausalExtension(_ form: CausalAttentionForm, _ p: Int, _ f: Frame) throws {
        guard case .tensor(let column) = try maskCondition(form, .grid(count: p, axis: 0), .nat(p), f),
              case .tensor(let row) = try maskCondition(form, .nat(p), .grid(count: p, axis: 1), f),
              column.value.count == p, row.value.count == p else { throw SequenceFallback() }
        let r = row.value.contiguous().doubles
        guard column.value.contiguous().doubles.allSatisfy({ $0 == 0 }),
              r.enumerated().allSatisfy({ $0.element == ($0.offset < p - 1 ? 1 : 0) }) else { throw SequenceFallback() }
    }
}
