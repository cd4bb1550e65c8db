/// Fused exact GELU (eq. 5): `GELU(x) = x · Φ(x)` with Φ the standard normal CDF, and its derivative
/// `Φ(x) + x · φ(x)`, `φ(x) = e^{−x²/2}/√(2π)`. No tanh approximation: Φ is evaluated to float
/// precision (≤ 1 ulp of max(1, |GELU|) measured against a 40-digit reference, see FusedKernelTests).
///
/// With z = x/√2 and t = |z|:
/// - t < 1: `erf z = z · P(z²)`, P of degree 6 (relative error 1.2e-9), `Φ = ½ + ½ erf z`;
/// - t ≥ 1: `erfc t = e^{−t²} · R(1/t)`, R of degree 10 on 1/t ∈ [1/9.4, 1] (relative error 1.1e-8),
///   `Φ = 1 − ½ erfc t` for x > 0 and `½ erfc t` for x < 0 (so Φ keeps its relative accuracy in the
///   left tail); beyond t = 9.4, e^{−t²} is 0 in f32 and Φ is exactly 0 or 1.
/// `e^{−z²}` is shared with φ. Coefficients: Lawson-weighted least squares on Chebyshev nodes against
/// mpmath's erf/erfc (40 digits), rounded to f32.
public enum FusedGELU {
    /// Φ(x) and e^{−x²/2} on 8 lanes. A branch is evaluated only when some lane needs it: in a
    /// transformer most blocks of 8 pre-activations lie within |x| < √2 (t < 1), and then the erfc
    /// branch (a division and 10 multiply-adds, two thirds of the work) is skipped. Each lane gets
    /// the same arithmetic either way, so the result does not depend on its neighbours.
    @inline(__always)
    static func cdf(_ x: SIMD8<Float>) -> (phi: SIMD8<Float>, gauss: SIMD8<Float>) {
        let z = x * 0.70710678118654752
        let t = z.replacing(with: -z, where: z .< 0)
        let s = z * z
        let gauss = FusedMath.exp(-s)
        let isSmall = t .< 1
        var phi = SIMD8<Float>.zero
        if any(isSmall) {
            var p = SIMD8<Float>(repeating: 7.853846910e-05)
            p = FusedMath.fma(p, s, -8.010189049e-04)
            p = FusedMath.fma(p, s, 5.188327283e-03)
            p = FusedMath.fma(p, s, -2.685381100e-02)
            p = FusedMath.fma(p, s, 1.128358543e-01)
            p = FusedMath.fma(p, s, -3.761262596e-01)
            p = FusedMath.fma(p, s, 1.128379107e+00)
            phi = 0.5 + 0.5 * (z * p)
        }
        if !all(isSmall) {
            var tc = t.replacing(with: 9.4, where: t .> 9.4)
            tc = tc.replacing(with: 1, where: tc .< 1)
            let u = 1 / tc
            var r = SIMD8<Float>(repeating: -5.024876446e-02)
            r = FusedMath.fma(r, u, 3.393782675e-01)
            r = FusedMath.fma(r, u, -1.014515758e+00)
            r = FusedMath.fma(r, u, 1.745553017e+00)
            r = FusedMath.fma(r, u, -1.847970366e+00)
            r = FusedMath.fma(r, u, 1.116952181e+00)
            r = FusedMath.fma(r, u, -1.676664203e-01)
            r = FusedMath.fma(r, u, -2.555931807e-01)
            r = FusedMath.fma(r, u, -2.641187049e-03)
            r = FusedMath.fma(r, u, 5.643395185e-01)
            r = FusedMath.fma(r, u, -3.679773499e-06)
            let half = 0.5 * (gauss * r)
            let large = half.replacing(with: 1 - half, where: x .> 0)
            phi = large.replacing(with: phi, where: isSmall)
        }
        return (phi, gauss)
    }

    /// The work of one block of 8 elements, in units of an element-wise addition (`Parallel.forRanges`'s
    /// `cost`): Φ is an exponential and a polynomial of degree 6 or 10 per lane, but on 8 lanes at once
    /// with an addition's memory traffic; measured, the tiny config's `[d_mlp, B·ℓ]` of a minibatch of 8
    /// (2¹⁷ elements) takes 50 µs forward and 130 µs backward on one Zen 4 core, a few times what an
    /// addition over it takes: 2 units per element. So that minibatch's GELU (2¹⁸ units) is split over
    /// the threads, and one sequence's (2¹⁴ elements, 6 and 16 µs: 2¹⁵ units) is not, below
    /// `Parallel.minimumSplitWork` (2¹⁶). (At 8 units per element one sequence's was split once that
    /// threshold fell from 2¹⁸ to 2¹⁶, and the B = 1 step paid the hand-off.)
    static let blockCost = 16

    /// `y[i] = GELU(x[i])` for `i < count`. `x` and `y` may alias.
    public static func forward(x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, count: Int) {
        FusedMath.forColumns((count + 7) / 8, perColumn: blockCost) { blocks in
            for b in blocks {
                let i = b * 8
                if i + 8 <= count {
                    let v = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
                    UnsafeMutableRawPointer(y + i).storeBytes(of: v * cdf(v).phi, as: SIMD8<Float>.self)
                } else {
                    var v = SIMD8<Float>.zero
                    for l in 0..<(count - i) { v[l] = x[i + l] }
                    let r = v * cdf(v).phi
                    for l in 0..<(count - i) { y[i + l] = r[l] }
                }
            }
        }
    }

    /// `dx[i] = dy[i] · (Φ(x[i]) + x[i]·φ(x[i]))`. `dx` may alias `dy`.
    public static func backward(x: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, count: Int) {
        FusedMath.forColumns((count + 7) / 8, perColumn: blockCost) { blocks in
            for b in blocks {
                let i = b * 8
                if i + 8 <= count {
                    let v = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
                    let g = UnsafeRawPointer(dy + i).loadUnaligned(as: SIMD8<Float>.self)
                    let (phi, gauss) = cdf(v)
                    UnsafeMutableRawPointer(dx + i).storeBytes(of: g * (phi + v * (gauss * 0.39894228040143268)), as: SIMD8<Float>.self)
                } else {
                    var v = SIMD8<Float>.zero, g = SIMD8<Float>.zero
                    for l in 0..<(count - i) { v[l] = x[i + l]; g[l] = dy[i + l] }
                    let (phi, gauss) = cdf(v)
                    let r = g * (phi + v * (gauss * 0.39894228040143268))
                    for l in 0..<(count - i) { dx[i + l] = r[l] }
                }
            }
        }
    }
}
