/// Vector math shared by the fused kernels.
public enum FusedMath {
    /// eˣ on 8 lanes (Cephes `expf` scheme): n = round(x·log₂e) by the 1.5·2²³ trick, r = x − n·ln2 in two
    /// parts, a degree-6 polynomial for eʳ, scaled by 2ⁿ built in the exponent bits. Relative error
    /// ≤ 2 ulp on [−87.3, 88.3]; inputs above are clamped (finite overflow guard), inputs below −87.3
    /// (including −∞) give exactly 0 so that −∞-masked scores vanish.
    @_transparent
    public static func exp(_ x: SIMD8<Float>) -> SIMD8<Float> {
        let lo = SIMD8<Float>(repeating: -87.3), hi = SIMD8<Float>(repeating: 88.3)
        var v = x.replacing(with: hi, where: x .> hi)
        let under = v .< lo
        v = v.replacing(with: lo, where: under)
        let magic = SIMD8<Float>(repeating: 12582912.0)
        let t = v * 1.44269504088896341 + magic
        let n = t - magic
        let r = fma(n, SIMD8<Float>(repeating: 2.12194440e-4), fma(n, SIMD8<Float>(repeating: -0.693359375), v))
        let z = r * r
        var p = SIMD8<Float>(repeating: 1.9875691500e-4)
        p = fma(p, r, 1.3981999507e-3)
        p = fma(p, r, 8.3334519073e-3)
        p = fma(p, r, 4.1665795894e-2)
        p = fma(p, r, 1.6666665459e-1)
        p = fma(p, r, 5.0000001201e-1)
        let e = fma(p, z, r) + 1
        let ni = unsafeBitCast(t, to: SIMD8<Int32>.self) &- 0x4B40_0000
        let scale = unsafeBitCast((ni &+ 127) &<< 23, to: SIMD8<Float>.self)
        return (e * scale).replacing(with: 0, where: under)
    }

    /// `a·b + c` with one rounding (`vfmadd` on AVX2/FMA targets).
    @_transparent
    public static func fma(_ a: SIMD8<Float>, _ b: SIMD8<Float>, _ c: SIMD8<Float>) -> SIMD8<Float> {
        c.addingProduct(a, b)
    }

    /// `a·b + c` with one rounding, `c` broadcast.
    @_transparent
    public static func fma(_ a: SIMD8<Float>, _ b: SIMD8<Float>, _ c: Float) -> SIMD8<Float> {
        SIMD8<Float>(repeating: c).addingProduct(a, b)
    }

    /// Scalar version of `exp(_: SIMD8)` (same polynomial) for column tails, so that every element
    /// of a column gets the same function whatever its position.
    @_transparent
    public static func exp(_ x: Float) -> Float {
        exp(SIMD8<Float>(repeating: x))[0]
    }

    /// Runs `body(range)` over chunks of `count` columns (`Parallel.forRanges` with `perColumn`
    /// elements per column). Each column is computed by the same code whatever the chunking, so
    /// results do not depend on the thread count.
    @inline(__always)
    public static func forColumns(_ count: Int, perColumn: Int, _ body: (Range<Int>) -> Void) {
        Parallel.forRanges(count, cost: perColumn, body)
    }
}
