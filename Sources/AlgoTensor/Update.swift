import AlgoKernels

extension Tensor {
    /// `θ − η·g` in one pass (the SGD step of Alg. 11–13, `θ ← θ − η · ∇loss(θ)`), written into g's
    /// buffer when the caller gave g up (`consuming`) and nothing else holds it (a gradient fresh from
    /// the tape), else into a fresh one; θ is only read. θ and g have the same shape and dtype.
    ///
    /// Each entry is `θ_i − (η·g_i)` rounded as the two operations written (`η · g` then `θ − …`):
    /// the product is rounded to the dtype first (Swift does not contract it into a fused
    /// multiply-add), so the result is bit-identical to the two element-wise operations. Large
    /// tensors are split over `Parallel.threads` (every entry computed alike, so the result does not
    /// depend on the thread count).
    public static func sgdStep(_ theta: Tensor, rate eta: Double, gradient g: consuming Tensor) -> Tensor {
        precondition(theta.shape == g.shape && theta.dtype == g.dtype,
                     "sgdStep: θ \(theta.dtype)\(Shape.describe(theta.shape)), ∇ \(g.dtype)\(Shape.describe(g.shape))")
        var gradient = consume g
        let reuse = gradient.offset == 0 && gradient.isContiguous && gradient.storage.count == gradient.count
            && isKnownUniquelyReferenced(&gradient.storage)
        let grad = gradient.contiguous(), th = theta.contiguous()
        let out = reuse ? gradient : Tensor(uninitializedShape: theta.shape, dtype: theta.dtype)
        func run<T: TensorScalar>(_: T.Type) {
            let pt = T.pointer(th.storage) + th.offset, pg = T.pointer(grad.storage) + grad.offset, po = T.pointer(out.storage)
            let rate = T(eta)
            Parallel.forRanges(out.count, cost: 2) { r in
                let qt = pt + r.lowerBound, qg = pg + r.lowerBound, qo = po + r.lowerBound
                for i in 0..<r.count {
                    let step = rate * qg[i]   // rounded on its own, as `η · g` is
                    qo[i] = qt[i] - step
                }
            }
        }
        switch theta.dtype {
        case .f32: run(Float.self)
        case .f64: run(Double.self)
        }
        return out
    }
}
