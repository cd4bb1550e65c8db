import AlgoDiagnostics
import AlgoSyntax
import AlgoTensor

/// The executor of head batching (`Rules/HeadBatching.swift` states what it replaces and when).
///
/// Each parameter that varies with h (`𝓦^h_qkv`) is evaluated for every h and its members are
/// stacked along a third, trailing dimension: a matrix `[m, k]` becomes `[m, k, H]` laid out as the
/// rows `[W^1; W^2; …; W^H]` (strides `[1, m·H, m]`), so that `W X` for all heads is one matrix product
/// `[m·H, k]·[k, n]` (see `Tensor.matmul`); a vector `[d]` becomes `[d, 1, H]`. Inside the callee
/// (`Frame.heads` = H) a rank-3 value holds one matrix per head: products of a rank-3 and a rank-2
/// operand broadcast the latter over the heads, `∀t_z, t_x` masks the first two dimensions,
/// softmax works per column. Head h of the result (`[:, :, h]`) is `Y^h`. All of it is recorded on
/// the tape like the loop it replaces (stacking and slicing are differentiable).
extension Evaluator {
    /// Runs the loop head-batched; nil when the run-time guard fails (then the loop runs as written).
    func headBatchedLoop(_ form: HeadBatchingForm, _ values: [Int], _ f: Frame) throws -> Flow? {
        let v = form.variable, c = form.call
        // The callee's `∀` is a masked select on `[·, ·, H]` values: it has no per-entry meaning there.
        guard f.heads == nil, values.count >= 2, enabled(.maskedSelect), values == Array(1...values.count), f.vars[c.callee.spelling] == nil else { return nil }
        let heads = values.count
        var stacked: [Span: Value] = [:]
        let saved = f.vars[v]
        defer { f.vars[v] = saved }
        for p in form.varying {
            var perHead: [Collection] = []
            for h in values {
                f.vars[v] = .nat(h)
                guard case .collection(let col) = try eval(p, f) else { return nil }
                perHead.append(col)
            }
            guard let s = self.stacked(perHead, at: SpanKey(p.span), keptBy: f.sequences?.cache) else { return nil }
            stacked[p.span] = .collection(s)
        }
        f.vars[v] = saved
        let result = try callAlgorithm(c, form.value, f, given: stacked, heads: heads)
        guard case .tensor(let y) = result, y.rank == 3, y.shape[2] == heads else {
            throw RuntimeError(.notExecutable, "the heads of `\(c.callee.spelling)` gave \(result.kindName), not one matrix per head", at: form.value.span)
        }
        let key = familyKey(form.target, form.script)
        // Element h is head h of y, sliced when read (`Family.element`); `[Y^1; …; Y^H]` is one reshape
        // (`Evaluator.list`). Elements the family held before (other than 1…H) are kept, the heads then copied out.
        var fam = f.families[key] ?? Family()
        if fam.columns != nil { fam = Family() }
        if fam.elements.isEmpty {
            fam.heads = y
        } else {
            for h in values {
                ops += 1
                fam.elements[h] = .tensor(y.slice(lower: [0, 0, h - 1], upper: [y.shape[0], y.shape[1], h]).reshaped([y.shape[0], y.shape[1]]))
            }
            fam.heads = y
        }
        f.families[key] = fam
        return .normal
    }

    /// `stack(cols)`, reused from an earlier call at the same site when every tensor is the one it
    /// was stacked from (same storage and layout) and none is on a tape: θ unchanged between
    /// forward passes (inference, `algo bench model`) is stacked once per layer. The cache holds
    /// those tensors, so no in-place update (`Variable.binary(_:consuming:_:)` needs a unique
    /// reference) can change them under it; a recorded θ is stacked afresh, and empties the cache
    /// (a training step follows: the stacks of an evaluation pass's θ are stale, and holding that θ
    /// would keep its memory). The copies are kept while they total at most `stackCacheBytes`, and
    /// the cache is emptied when a new entry does not fit.
    ///
    /// A decoding that reuses its prefix (`decoding`, `Evaluator+Sequences`) keeps its copies in its
    /// own cache instead, every layer whatever the size, for as long as the decoding lasts.
    func stacked(_ cols: [Collection], at site: SpanKey, keptBy decoding: AttentionCache? = nil) -> Collection? {
        var parts: [Variable] = []
        for c in cols { for m in c.members { if case .tensor(let t) = m.value { parts.append(t) } } }
        guard let first = parts.first, !parts.contains(where: \.isRecorded) else {
            if !stackCache.isEmpty { stackCache.removeAll(); stackCachedBytes = 0 }
            return Self.stack(cols)
        }
        let key = StackKey(site: site, storage: ObjectIdentifier(first.value.storage))
        if let (old, s) = decoding?.stacked[key] ?? stackCache[key], old.count == parts.count,
           zip(old, parts).allSatisfy({ Self.same($0, $1) }) { return s }
        guard let s = Self.stack(cols) else { return nil }
        if let decoding { decoding.stacked[key] = (parts, s); return s }
        let bytes = parts.reduce(0) { $0 + $1.value.count * $1.dtype.byteSize }
        guard bytes <= Self.stackCacheBytes else { return s }
        if stackCachedBytes + bytes > Self.stackCacheBytes { stackCache.removeAll(); stackCachedBytes = 0 }
        stackCache[key] = (parts, s)
        stackCachedBytes += bytes
        return s
    }

    /// The most bytes of stacked copies `stacked` keeps: 256 MiB, every layer of GPT-2's (85 MB;
    /// the small model's 10.6 MB, the tiny model's 100 KiB). The cost is memory, a quarter of the
    /// attention parameters' (`W_q`, `W_k`, `W_v` of every head, copied once); what it saves is
    /// the copy on every forward pass: on the small model's forward on two threads (Zen 4, `perf`)
    /// stacking took 1.5 ms of the calling thread's 48 ms per pass, with 1.9 ms of CPU in all.
    /// (It was 1 MiB until issue 13's forward work: with 4 MiB two of the small model's layers were
    /// kept and evicted by the third before the next pass could use them; every layer fits now.)
    static let stackCacheBytes = 1 << 28

    /// Whether two constants hold the same tensor (storage, offset, shape, strides, dtype).
    static func same(_ a: Variable, _ b: Variable) -> Bool {
        !a.isRecorded && !b.isRecorded && a.value.storage === b.value.storage && a.value.offset == b.value.offset
            && a.shape == b.shape && a.value.strides == b.value.strides && a.dtype == b.dtype
    }

    /// A head-batched call site and the storage of the first per-head tensor.
    struct StackKey: Hashable { let site: SpanKey; let storage: ObjectIdentifier }

    /// Members of H collections stacked per head (same names and shapes in every head), or nil.
    static func stack(_ cols: [Collection]) -> Collection? {
        let first = cols[0]
        var out = Collection()
        for (k, m) in first.members.enumerated() {
            var parts: [Variable] = []
            for c in cols {
                guard k < c.members.count, c.members[k].name == m.name, case .tensor(let t) = c.members[k].value,
                      t.shape == parts.first?.shape ?? t.shape, t.rank == 1 || t.rank == 2 else { return nil }
                parts.append(t)
            }
            let h = parts.count, rows = parts[0].shape[0]
            let all = Variable.concat(parts, axis: 0)  // [W^1; W^2; …] or [b^1; b^2; …]
            if parts[0].rank == 2 {
                out.members.append((m.name, .tensor(all.reshaped([rows, h, parts[0].shape[1]]).permuted([0, 2, 1]))))
            } else {
                out.members.append((m.name, .tensor(all.reshaped([rows, 1, h]))))
            }
        }
        return out
    }

    /// Both operands of a product as rank 3 with the heads last, when one is head-batched (rank 3)
    /// and the other a matrix (broadcast over the heads) or head-batched with the same H.
    func headBatched(_ l: Variable, _ r: Variable, _ f: Frame) -> (Variable, Variable)? {
        guard let heads = f.heads, l.rank == 3 || r.rank == 3, l.rank >= 2, r.rank >= 2 else { return nil }
        func lift(_ x: Variable) -> Variable? {
            if x.rank == 3 { return x.shape[2] == heads ? x : nil }
            return x.rank == 2 ? x.reshaped([x.shape[0], x.shape[1], 1]).broadcast(to: [x.shape[0], x.shape[1], heads]) : nil
        }
        guard let a = lift(l), let b = lift(r) else { return nil }
        return (a, b)
    }
}
