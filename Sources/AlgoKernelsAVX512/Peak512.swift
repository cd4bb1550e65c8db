// The FMA throughput of 512-bit vectors, for `Peak` in AlgoKernels (which calls it only on a
// processor with AVX-512).
#if arch(x86_64)

/// The `zmm` counterpart of AlgoKernels' `Peak.fmaLoop`.
public enum Peak512 {
    /// Runs `iterations` rounds of 12 independent `SIMD16<Float>` fused multiply-adds (12 chains
    /// cover the 4-cycle latency of two 512-bit FMA pipes) and returns a value that depends on all
    /// of them, so that nothing is optimised away. 384 flops per round.
    @inline(never)
    public static func fmaLoop(iterations: Int, x: Float, y: Float) -> Float {
        let a = SIMD16<Float>(repeating: x), b = SIMD16<Float>(repeating: y)
        var c0 = SIMD16<Float>(repeating: 0), c1 = c0 + 1, c2 = c0 + 2, c3 = c0 + 3
        var c4 = c0 + 4, c5 = c0 + 5, c6 = c0 + 6, c7 = c0 + 7
        var c8 = c0 + 8, c9 = c0 + 9, c10 = c0 + 10, c11 = c0 + 11
        for _ in 0..<iterations {
            c0 = c0.addingProduct(a, b); c1 = c1.addingProduct(a, b)
            c2 = c2.addingProduct(a, b); c3 = c3.addingProduct(a, b)
            c4 = c4.addingProduct(a, b); c5 = c5.addingProduct(a, b)
            c6 = c6.addingProduct(a, b); c7 = c7.addingProduct(a, b)
            c8 = c8.addingProduct(a, b); c9 = c9.addingProduct(a, b)
            c10 = c10.addingProduct(a, b); c11 = c11.addingProduct(a, b)
        }
        let s = ((c0 + c1) + (c2 + c3)) + ((c4 + c5) + (c6 + c7)) + ((c8 + c9) + (c10 + c11))
        return s.sum()
    }
}

#endif
