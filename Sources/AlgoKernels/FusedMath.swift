/// Vector math shared by the fused kernels.
public enum FusedMath {
    /// eˣ on 8 lanes (`exp8`, CausalBlocks.swift: Cephes `expf`, ≤ 2 ulp on [−87.3, 88.3], exactly 0 below
    /// −87.3 and at −∞ so that −∞-masked scores vanish, clamped above 88.3).
    @_transparent
    public static func exp(_ x: SIMD8<Float>) -> SIMD8<Float> { exp8(x) }   // CausalBlocks.swift

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
