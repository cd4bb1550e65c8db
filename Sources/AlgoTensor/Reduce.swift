import AlgoKernels

/// Reductions along one axis (the dimension is kept with size 1), and the un-broadcasting sum.
public enum ReduceOp: Sendable, Hashable, CaseIterable {
    /// Σ along the axis.
    case sum
    /// max along the axis (−∞ for an empty axis).
    case max
}

extension Tensor {
    /// `op` over dimension `axis`; the result has size 1 there. The order of accumulation is the
    /// index order for every output element, whichever thread computes it (large reductions are
    /// split over output elements, never along `axis`), so results are bitwise reproducible and
    /// independent of the thread count.
    public func reduce(_ op: ReduceOp, axis: Int) -> Tensor {
        precondition(axis >= 0 && axis < rank, "\(op)(axis: \(axis)): shape \(Shape.describe(shape))")
        switch (dtype, op) {
        case (.f32, .sum): return Tensor.reduceKernel(self, axis, Float.self, 0, AddFunction.self)
        case (.f64, .sum): return Tensor.reduceKernel(self, axis, Double.self, 0, AddFunction.self)
        case (.f32, .max): return Tensor.reduceKernel(self, axis, Float.self, -.infinity, MaxFunction.self)
        case (.f64, .max): return Tensor.reduceKernel(self, axis, Double.self, -.infinity, MaxFunction.self)
        }
    }

    /// Along the first axis: one running value per column (four interleaved ones for long dense
    /// columns), in a fixed order. Along another axis: the
    /// result starts as slice 0 and each further slice is combined into it row by row (contiguous inner
    /// loops); every output element still sees its inputs in index order. Large ones are split over
    /// the output elements (`rows4`'s `parallelCost`), never along `axis`.
    static func reduceKernel<T: TensorScalar, F: ElementFunction2>(_ a: Tensor, _ axis: Int, _ t: T.Type, _ initial: T, _ f: F.Type) -> Tensor {
        var oshape = a.shape
        let n = oshape[axis]
        oshape[axis] = 1
        let out = Tensor(uninitializedShape: oshape, dtype: a.dtype)
        let pa = T.pointer(a.storage), po = T.pointer(out.storage)
        let step = a.strides[axis]
        if axis == 0 || n == 0 {
            loop4(oshape, a.strides, a.offset, a.strides, a.offset, parallelCost: max(1, n)) { o, ia, _ in
                if step == 1 && n >= 16 {
                    // Four interleaved accumulators (k mod 4), combined as (0+1)+(2+3): breaks the
                    // dependency chain; the order is fixed by n alone.
                    var a0 = initial, a1 = initial, a2 = initial, a3 = initial
                    let q = pa + ia
                    var k = 0
                    while k + 4 <= n {
                        a0 = F.apply(a0, q[k]); a1 = F.apply(a1, q[k + 1]); a2 = F.apply(a2, q[k + 2]); a3 = F.apply(a3, q[k + 3])
                        k += 4
                    }
                    while k < n { a0 = F.apply(a0, q[k]); k += 1 }
                    po[o] = F.apply(F.apply(a0, a1), F.apply(a2, a3))
                } else {
                    var acc = initial
                    for k in 0..<n { acc = F.apply(acc, pa[ia + k * step]) }
                    po[o] = acc
                }
            }
            return out
        }
        rows4(oshape, a.strides, a.offset, a.strides, a.offset, parallelCost: n) { o, ia, _, n0, a0, _ in
            let qo = po + o
            for i in 0..<n0 { qo[i] = F.apply(initial, pa[ia + i * a0]) }
            for k in 1..<n {
                let qa = pa + ia + k * step
                if a0 == 1 { for i in 0..<n0 { qo[i] = F.apply(qo[i], qa[i]) } }
                else { for i in 0..<n0 { qo[i] = F.apply(qo[i], qa[i * a0]) } }
            }
        }
        return out
    }

    /// Index (0-based) of the largest entry of each column of a matrix `[n, ℓ]` (first one on ties;
    /// NaN entries are skipped): the τ → 0 limit of sampling from a column (Alg. 14). Not differentiable.
    public func argmaxColumns() -> [Int] {
        precondition(rank == 2 || rank == 1, "argmaxColumns: shape \(Shape.describe(shape))")
        let m = rank == 1 ? reshaped([shape[0], 1]) : self
        return (0..<m.shape[1]).map { t in
            var best = 0
            var bestValue = m.shape[0] > 0 && !m[0, t].isNaN ? m[0, t] : -Double.infinity
            for i in 1..<max(1, m.shape[0]) where m[i, t] > bestValue {
                best = i
                bestValue = m[i, t]
            }
            return best
        }
    }

    /// Σ of all elements, rank 0.
    public func sumAll() -> Tensor {
        var t = self
        for k in 0..<rank where t.shape[k] != 1 { t = t.reduce(.sum, axis: k) }
        return t.reshaped([])
    }

    /// Sums a gradient of a broadcast result back to the operand's `target` shape (un-broadcasting):
    /// every dimension where `target` (padded with trailing 1s) is 1 and `self` is not is summed.
    /// The autodiff engine calls this in one place for every primitive input.
    public func sumToShape(_ target: [Int]) -> Tensor {
        if shape == target { return self }
        precondition(Shape.broadcasts(target, to: shape),
                     "unbroadcast: \(Shape.describe(shape)) cannot sum to \(Shape.describe(target))")
        let padded = Shape.padded(target, to: rank)
        var t = self
        for k in 0..<rank where padded[k] == 1 && shape[k] != 1 { t = t.reduce(.sum, axis: k) }
        return t.reshaped(target)
    }
}
