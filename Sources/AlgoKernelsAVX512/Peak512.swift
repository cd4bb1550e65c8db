// The FMA throughput of 512-bit vectors, for `Peak` in AlgoKernels (which calls it only on a
// processor with AVX-512).
#if arch(x86_64)

/// The `zmm` counterpart of AlgoKernels' `Peak.fmaLoop`.
public enum Peak512 {
    /// `fmaChains` (SIMDWidth.swift) on `SIMD16<Float>`: 384 flops per round.
    @inline(never)
    public static func fmaLoop(iterations: Int, x: Float, y: Float) -> Float {
        fmaChains(SIMD16<Float>.self, iterations: iterations, x: x, y: y)
    }
}

#endif
