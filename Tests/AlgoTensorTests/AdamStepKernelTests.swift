import AlgoKernels
import Foundation
import Testing
@testable import AlgoTensor

/// `Tensor.adamStep` (Adam's five update lines in one pass) against the fourteen element-wise
/// operations of the lines as written, bit for bit, and its writing into the buffers it replaces.
@Suite(.serialized) struct AdamStepKernelTests {
    /// DTrainingAdam's scalars at step s = 3 with Kingma & Ba's defaults and η = 10⁻³.
    static let scalars = AdamScalars(a: 0.9, b: 1 - 0.9, c: 0.999, d: 1 - 0.999, e1: 1 - pow(0.9, 3), e2: 1 - pow(0.999, 3),
                                     h: 1e-3, k: 1e-8)

    /// The lines as written: one `binary`/`unary` per operation, each scalar a rank-0 tensor of the dtype.
    static func asWritten(_ θ: Tensor, _ g: Tensor, _ m: Tensor, _ v: Tensor, _ s: AdamScalars) -> [Tensor] {
        func c(_ x: Double) -> Tensor { Tensor(scalar: x, dtype: θ.dtype) }
        let m2 = c(s.a).binary(.mul, m).binary(.add, c(s.b).binary(.mul, g))
        let v2 = c(s.c).binary(.mul, v).binary(.add, c(s.d).binary(.mul, g).binary(.mul, g))
        let mHat = m2.binary(.div, c(s.e1)), vHat = v2.binary(.div, c(s.e2))
        let θ2 = θ.binary(.sub, c(s.h).binary(.mul, mHat).binary(.div, vHat.unary(.sqrt).binary(.add, c(s.k))))
        return [m2, v2, mHat, vHat, θ2]
    }

    @Test("each entry equals the fourteen operations as written, bit for bit (f32 and f64, 1 and 2 threads, a size split across threads)",
          arguments: [DType.f32, .f64], [1, 2])
    func bitIdentical(_ dtype: DType, _ threads: Int) {
        let saved = (Parallel.threads, Parallel.adapts)
        (Parallel.threads, Parallel.adapts) = (threads, false)   // a split asked for is a split made
        defer { (Parallel.threads, Parallel.adapts) = saved }
        do {
            var rng = RandomGenerator(seed: 3)
            let shape = [96, 1200]   // 115,200 entries × cost 8: split over the threads
            let θ = Tensor.normal(shape, dtype: dtype, using: &rng), g = Tensor.normal(shape, std: 1e-3, dtype: dtype, using: &rng)
            let m = Tensor.normal(shape, std: 1e-3, dtype: dtype, using: &rng)
            let v = Tensor.uniform(shape, 0, 1e-6, dtype: dtype, using: &rng)
            let expected = Self.asWritten(θ, g, m, v, Self.scalars)
            let r = Tensor.adamStep(theta: θ, gradient: g, m: m, v: v, mHat: nil, vHat: nil, Self.scalars)
            for (got, want) in zip([r.m, r.v, r.mHat, r.vHat, r.theta], expected) {
                #expect(got.shape == want.shape && got.dtype == dtype)
                #expect(got.contiguous().doubles.map(\.bitPattern) == want.contiguous().doubles.map(\.bitPattern))
            }
        }
    }

    @Test("m, v, θ and the previous m̂, v̂ take their successors in their own buffers when nothing else holds them; shared buffers are not written")
    func writesInPlaceOnlyWhenFree() {
        // A pool of its own counts the buffers taken: none when every result goes in place.
        let pool = BufferPool()
        BufferPool.$current.withValue(pool) {
            var rng = RandomGenerator(seed: 4)
            func fresh() -> Tensor { Tensor.normal([8, 5], using: &rng) }
            let g = fresh()
            var m: Tensor? = fresh(), v: Tensor? = Tensor.uniform([8, 5], using: &rng), θ: Tensor? = fresh(), mHat: Tensor? = fresh(), vHat: Tensor? = fresh()
            let buffers = [m, v, θ, mHat, vHat].map { $0!.storage.raw }
            pool.resetCounters()
            let r = Tensor.adamStep(theta: θ.take()!, gradient: g, m: m.take()!, v: v.take()!, mHat: mHat.take(), vHat: vHat.take(), Self.scalars)
            #expect(pool.freshAllocations + pool.reuses == 0)
            #expect([r.m, r.v, r.theta, r.mHat, r.vHat].map { $0.storage.raw } == buffers)

            // Held elsewhere: the caller's θ and m keep their values, and their results take buffers of their own.
            let heldθ = fresh(), heldM = fresh(), v2 = Tensor.uniform([8, 5], using: &rng)   // v ≥ 0, as Adam's is
            let before = (heldθ.doubles, heldM.doubles)
            pool.resetCounters()
            let s = Tensor.adamStep(theta: heldθ, gradient: g, m: heldM, v: v2, mHat: nil, vHat: nil, Self.scalars)
            #expect(pool.freshAllocations + pool.reuses == 5)   // θ′, m′, v′ (v2 too is held here) and m̂, v̂
            #expect(heldθ.doubles == before.0 && heldM.doubles == before.1)
            #expect(s.theta.doubles.map(\.bitPattern) == Self.asWritten(heldθ, g, heldM, v2, Self.scalars)[4].doubles.map(\.bitPattern))
        }
    }
}
