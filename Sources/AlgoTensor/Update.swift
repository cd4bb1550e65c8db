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

/// The scalars of Adam's update lines (Kingma & Ba 2015, Algorithm 1; DTrainingAdam lines 11–15),
/// each as the run's dtype holds it: m ← a m + b g, v ← c v + (d g) ⊙ g, m̂ ← m/e₁, v̂ ← v/e₂,
/// θ ← θ − (h m̂)/(√v̂ + k). In DTrainingAdam a = β_1, b = 1 − β_1, c = β_2, d = 1 − β_2,
/// e₁ = 1 − β_1^s, e₂ = 1 − β_2^s, h = η, k = ε.
public struct AdamScalars: Sendable, Equatable {
    public var a, b, c, d, e1, e2, h, k: Double
    public init(a: Double, b: Double, c: Double, d: Double, e1: Double, e2: Double, h: Double, k: Double) {
        self.a = a; self.b = b; self.c = c; self.d = d; self.e1 = e1; self.e2 = e2; self.h = h; self.k = k
    }
}

extension Tensor {
    /// Adam's five update lines for one member of θ (all of one shape and dtype) in one pass:
    /// m′ = a·m + b·g, v′ = c·v + (d·g)·g, m̂ = m′/e₁, v̂ = v′/e₂, θ′ = θ − (h·m̂)/(√v̂ + k), every
    /// operation rounded on its own in the order written (Swift contracts nothing into a fused
    /// multiply-add), so each entry is bit-identical to the fourteen element-wise operations of the
    /// lines as written. Each result is written into the buffer of the value it replaces (m, v, the
    /// previous m̂ and v̂, θ) when the caller gave it up and nothing else holds it, else into a fresh
    /// one; g is only read. Large members are split over `Parallel.threads` (every entry computed
    /// alike: the result does not depend on the thread count).
    public static func adamStep(theta: consuming Tensor, gradient g: Tensor, m: consuming Tensor, v: consuming Tensor,
                                mHat: consuming Tensor?, vHat: consuming Tensor?, _ s: AdamScalars)
        -> (m: Tensor, v: Tensor, mHat: Tensor, vHat: Tensor, theta: Tensor) {
        precondition([m.shape, v.shape, g.shape].allSatisfy { $0 == theta.shape } && [m.dtype, v.dtype, g.dtype].allSatisfy { $0 == theta.dtype },
                     "adamStep: θ, g, m and v must share one shape and dtype")
        let shape = theta.shape, dtype = theta.dtype, count = theta.count
        /// Whether the caller gave the buffer up and it is dense: the result may go into it.
        func free(_ x: inout Tensor) -> Bool {
            x.shape == shape && x.dtype == dtype && x.offset == 0 && x.isContiguous && x.storage.count == x.count
                && isKnownUniquelyReferenced(&x.storage)
        }
        /// An input read through a dense view, and where its replacement goes: the same buffer when
        /// free (each entry is read before it is written, at the same index only), else a fresh one.
        func readAndWrite(_ t: consuming Tensor) -> (read: Tensor, write: Tensor) {
            var x = t
            if free(&x) { return (x, x) }
            return (x.contiguous(), Tensor(uninitializedShape: shape, dtype: dtype))
        }
        /// A previous m̂ or v̂ (only written): its buffer when free, else a fresh one.
        func write(_ t: consuming Tensor?) -> Tensor {
            if var x = consume t, free(&x) { return x }
            return Tensor(uninitializedShape: shape, dtype: dtype)
        }
        let (mr, mo) = readAndWrite(consume m), (vr, vo) = readAndWrite(consume v), (tr, to) = readAndWrite(consume theta)
        let mho = write(consume mHat), vho = write(consume vHat), gr = g.contiguous()
        func run<T: TensorScalar>(_: T.Type) {
            let pm = T.pointer(mr.storage) + mr.offset, pv = T.pointer(vr.storage) + vr.offset
            let pt = T.pointer(tr.storage) + tr.offset, pg = T.pointer(gr.storage) + gr.offset
            let om = T.pointer(mo.storage), ov = T.pointer(vo.storage), ot = T.pointer(to.storage)
            let omh = T.pointer(mho.storage), ovh = T.pointer(vho.storage)
            let a = T(s.a), b = T(s.b), c = T(s.c), d = T(s.d), e1 = T(s.e1), e2 = T(s.e2), h = T(s.h), k = T(s.k)
            Parallel.forRanges(count, cost: 8) { r in
                for i in r {
                    let gi = pg[i]
                    let mi = a * pm[i] + b * gi
                    let vi = c * pv[i] + (d * gi) * gi
                    let mh = mi / e1, vh = vi / e2
                    let th = pt[i] - (h * mh) / (T.sqrt_(vh) + k)
                    om[i] = mi; ov[i] = vi; omh[i] = mh; ovh[i] = vh; ot[i] = th
                }
            }
        }
        switch dtype {
        case .f32: run(Float.self)
        case .f64: run(Double.self)
        }
        return (mo, vo, mho, vho, to)
    }
}
