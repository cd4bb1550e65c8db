/// One column: `c[m] ← alpha · op(A) · b + beta · c`, the n = 1 case of `GEMM.sgemm` (a
/// matrix-vector product: each new token of decoding that reuses the prefix multiplies every weight
/// matrix by one column). A packed GEMM would copy the whole of A into panels to use each element
/// once; here A is read once in place. Not transposed, rows in blocks of 64 accumulate
/// `A[i…i+63, p]·b[p]` over p (A's columns are contiguous); transposed, each output is a dot
/// product of a contiguous column of the stored A with b. Each output is one sum over k, in an
/// order that differs from the packed kernel's (the two agree to rounding). Bound by reading A:
/// from `parallelWork` multiply-adds the rows are split, in blocks of 64, over `Parallel.threads`
/// threads; every row is computed the same way in any block, so the result does not depend on the
/// thread count.
enum GEMV {
    /// m·k from which the rows are split over the threads (a 512×512 matrix, 1 MB).
    static let parallelWork = 1 << 18

    /// `b[p]` is `b[p · incb]`.
    static func sgemv(transA: Bool, m: Int, k: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
                      b: UnsafePointer<Float>, incb: Int, beta: Float, c: UnsafeMutablePointer<Float>) {
        let blocks = (m + 63) / 64
        if m * k < parallelWork || Parallel.threads <= 1 || blocks < 2 {
            rows(0..<m, transA: transA, k: k, alpha: alpha, a: a, lda: lda, b: b, incb: incb, beta: beta, c: c)
            return
        }
        Parallel.forEach(min(blocks, 4 * Parallel.threads)) { piece in
            let pieces = min(blocks, 4 * Parallel.threads)
            let lo = blocks * piece / pieces * 64, hi = min(m, blocks * (piece + 1) / pieces * 64)
            rows(lo..<hi, transA: transA, k: k, alpha: alpha, a: a, lda: lda, b: b, incb: incb, beta: beta, c: c)
        }
    }

    /// Rows `range` of the product (`range.lowerBound` a multiple of 64).
    static func rows(_ range: Range<Int>, transA: Bool, k: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
                     b: UnsafePointer<Float>, incb: Int, beta: Float, c: UnsafeMutablePointer<Float>) {
        let m = range.upperBound
        @inline(__always) func store(_ i: Int, _ acc: Float) { c[i] = beta == 0 ? alpha * acc : alpha * acc + beta * c[i] }
        @inline(__always) func load(_ p: UnsafePointer<Float>) -> SIMD8<Float> { UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self) }
        if !transA {
            var i = range.lowerBound
            while i + 64 <= m {
                var s0 = SIMD8<Float>(), s1 = SIMD8<Float>(), s2 = SIMD8<Float>(), s3 = SIMD8<Float>()
                var s4 = SIMD8<Float>(), s5 = SIMD8<Float>(), s6 = SIMD8<Float>(), s7 = SIMD8<Float>()
                for p in 0..<k {
                    let x = SIMD8<Float>(repeating: b[p * incb]), col = a + i + p * lda
                    s0 += load(col) * x; s1 += load(col + 8) * x; s2 += load(col + 16) * x; s3 += load(col + 24) * x
                    s4 += load(col + 32) * x; s5 += load(col + 40) * x; s6 += load(col + 48) * x; s7 += load(col + 56) * x
                }
                for (j, s) in [s0, s1, s2, s3, s4, s5, s6, s7].enumerated() { for l in 0..<8 { store(i + 8 * j + l, s[l]) } }
                i += 64
            }
            while i + 8 <= m {
                var s = SIMD8<Float>()
                for p in 0..<k { s += load(a + i + p * lda) * SIMD8<Float>(repeating: b[p * incb]) }
                for l in 0..<8 { store(i + l, s[l]) }
                i += 8
            }
            while i < m {
                var s: Float = 0
                for p in 0..<k { s += a[i + p * lda] * b[p * incb] }
                store(i, s)
                i += 1
            }
            return
        }
        for i in range {
            let col = a + i * lda
            var s = SIMD8<Float>(), t = SIMD8<Float>()
            var p = 0
            if incb == 1 {
                while p + 16 <= k { s += load(col + p) * load(b + p); t += load(col + p + 8) * load(b + p + 8); p += 16 }
            }
            var r = (s + t).sum()
            while p < k { r += col[p] * b[p * incb]; p += 1 }
            store(i, r)
        }
    }
}
