import AlgoKernels

/// Copies between strided views: concatenation, gathers and the adjoints of slicing and gathering.
extension Tensor {
    /// Copies (or adds, when `accumulate`) `src` into the view `dst` element by element.
    /// `dst` must view storage the caller owns exclusively; same shape and dtype.
    static func transfer(_ src: Tensor, into dst: Tensor, accumulate: Bool) {
        precondition(src.shape == dst.shape && src.dtype == dst.dtype,
                     "transfer: \(Shape.describe(src.shape)) into \(Shape.describe(dst.shape))")
        func run<T: TensorScalar>(_ t: T.Type) {
            let ps = T.pointer(src.storage), pd = T.pointer(dst.storage)
            rows4(dst.shape, dst.strides, dst.offset, src.strides, src.offset, parallelCost: 1) { _, id, isrc, n0, d0, s0 in
                let qd = pd + id, qs = ps + isrc
                if accumulate {
                    if d0 == 1 && s0 == 1 { for k in 0..<n0 { qd[k] += qs[k] } }
                    else { for k in 0..<n0 { qd[k * d0] += qs[k * s0] } }
                } else {
                    if d0 == 1 && s0 == 1 { qd.update(from: qs, count: n0) }
                    else { for k in 0..<n0 { qd[k * d0] = qs[k * s0] } }
                }
            }
        }
        switch src.dtype {
        case .f32: run(Float.self)
        case .f64: run(Double.self)
        }
    }

    /// Unit-length box at `index` along `axis` (the other dimensions whole).
    func sliceAt(axis: Int, _ lo: Int, _ hi: Int) -> Tensor {
        var lower = [Int](repeating: 0, count: rank), upper = shape
        lower[axis] = lo
        upper[axis] = hi
        return slice(lower: lower, upper: upper)
    }

    /// Tensors joined along `axis` (all other dimensions equal): `[Y¹; Y²]` is axis 0 (stacking
    /// vertically, Alg. 5 line 3), `[e₁, e₂, …]` of columns `[d, 1]` is axis 1 (Alg. 8 line 3).
    public static func concat(_ parts: [Tensor], axis: Int) -> Tensor {
        precondition(!parts.isEmpty, "concat: no tensors")
        let first = parts[0]
        precondition(axis >= 0 && axis < first.rank, "concat(axis: \(axis)): shape \(Shape.describe(first.shape))")
        var total = 0
        for p in parts {
            var a = p.shape, b = first.shape
            a[axis] = 0; b[axis] = 0
            precondition(p.rank == first.rank && a == b && p.dtype == first.dtype,
                         "concat(axis: \(axis)): shapes \(Shape.describe(first.shape)) and \(Shape.describe(p.shape))")
            total += p.shape[axis]
        }
        var oshape = first.shape
        oshape[axis] = total
        let out = Tensor(uninitializedShape: oshape, dtype: first.dtype)
        var starts: [Int] = []
        var at = 0
        for p in parts { starts.append(at); at += p.shape[axis] }
        // Parts copied side by side on the kernel threads when the whole is large (`[Y¹; …; Y^H]`
        // is H parts below the split threshold each); each part's copy is then serial.
        let body = { (i: Int) in
            transfer(parts[i], into: out.sliceAt(axis: axis, starts[i], starts[i] + parts[i].shape[axis]), accumulate: false)
        }
        if parts.count > 1 && out.count >= Parallel.minimumSplitWork { Parallel.forEach(parts.count, body) }
        else { for i in parts.indices { body(i) } }
        return out
    }

    /// Zeros of `shape` with `self` written into the box starting at `lower` (adjoint of `slice`).
    public func padded(into shape: [Int], at lower: [Int]) -> Tensor {
        let out = Tensor.zeros(shape, dtype: dtype)
        let upper = zip(lower, self.shape).map { $0 + $1 }
        Tensor.transfer(self, into: out.slice(lower: lower, upper: upper), accumulate: false)
        return out
    }

    /// Entries `indices[j]` (0-based) along `axis`: `gather(axis: 1, [x₁, …])` of `W_e ∈ ℝ^{d×N_V}`
    /// gives the columns `W_e[:, x[t]]` side by side (Alg. 1, 8 line 2). Result size along `axis` is `indices.count`.
    public func gather(axis: Int, indices: [Int]) -> Tensor {
        precondition(axis >= 0 && axis < rank, "gather(axis: \(axis)): shape \(Shape.describe(shape))")
        var oshape = shape
        oshape[axis] = indices.count
        let out = Tensor(uninitializedShape: oshape, dtype: dtype)
        for i in indices {
            precondition(i >= 0 && i < shape[axis], "gather: index \(i) outside 0..<\(shape[axis]) of \(Shape.describe(shape))")
        }
        Tensor.blocks(wide: contiguous(), narrow: out, axis: axis, indices: indices, scatter: false)
        return out
    }

    /// Between dense tensors equal but along `axis`, where `narrow` has one entry per index: for each
    /// outer slice (the dimensions after `axis`) and each j, the block of elements before `axis`
    /// (consecutive) at `indices[j]` of `wide` is copied to entry j of `narrow` (a gather), or entry
    /// j of `narrow` is added to it (a scatter-add, in the order of `indices`).
    static func blocks(wide: Tensor, narrow: Tensor, axis: Int, indices: [Int], scatter: Bool) {
        let inner = wide.shape[..<axis].reduce(1, *), outer = wide.shape[(axis + 1)...].reduce(1, *)
        let n = wide.shape[axis], m = indices.count
        func run<T: TensorScalar>(_ t: T.Type) {
            let pw = T.pointer(wide.storage) + wide.offset, pn = T.pointer(narrow.storage) + narrow.offset
            for o in 0..<outer {
                for (j, i) in indices.enumerated() {
                    let qw = pw + (o * n + i) * inner, qn = pn + (o * m + j) * inner
                    if scatter { for k in 0..<inner { qw[k] += qn[k] } } else { qn.update(from: qw, count: inner) }
                }
            }
        }
        switch wide.dtype {
        case .f32: run(Float.self)
        case .f64: run(Double.self)
        }
    }

    /// Zeros of `shape` with the slices of `self` along `axis` added at `indices` (adjoint of `gather`;
    /// repeated indices accumulate, in the order of `indices`).
    public func scatterAdd(into shape: [Int], axis: Int, indices: [Int]) -> Tensor {
        precondition(rank == shape.count && axis >= 0 && axis < rank && self.shape[axis] == indices.count,
                     "scatterAdd(axis: \(axis)): \(Shape.describe(self.shape)) with \(indices.count) indices into \(Shape.describe(shape))")
        var rest = shape, mine = self.shape
        rest[axis] = 0; mine[axis] = 0
        precondition(rest == mine && indices.allSatisfy { $0 >= 0 && $0 < shape[axis] },
                     "scatterAdd(axis: \(axis)): \(Shape.describe(self.shape)) into \(Shape.describe(shape)) at \(indices)")
        let out = Tensor.zeros(shape, dtype: dtype)
        Tensor.blocks(wide: out, narrow: contiguous(), axis: axis, indices: indices, scatter: true)
        return out
    }

    /// One entry per column: `result[t] = self[indices[t], t]` for a matrix `[n, ℓ]`, giving `[ℓ]`
    /// (the log-likelihood terms `log P[x[t+1], t]` of Alg. 11–13).
    public func pick(rows indices: [Int]) -> Tensor {
        precondition(rank == 2 && indices.count == shape[1],
                     "pick: \(indices.count) row indices for shape \(Shape.describe(shape))")
        var out = Tensor(uninitializedShape: [shape[1]], dtype: dtype)
        for (t, i) in indices.enumerated() {
            precondition(i >= 0 && i < shape[0], "pick: row \(i) outside 0..<\(shape[0])")
            out[t] = self[i, t]
        }
        return out
    }

    /// Zeros of `[n, ℓ]` with `self[t]` at `(indices[t], t)` (adjoint of `pick`).
    public func unpick(rows n: Int, indices: [Int]) -> Tensor {
        var out = Tensor.zeros([n, indices.count], dtype: dtype)
        for (t, i) in indices.enumerated() { out[i, t] = self[t] }
        return out
    }
}
