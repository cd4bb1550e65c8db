/// One column: `c[m] ← alpha · op(A) · b + beta · c`, the n = 1 case of `GEMM.sgemm` (a
/// matrix-vector product: each new token of decoding that reuses the prefix multiplies every weight
/// matrix by one column). A packed GEMM would copy the whole of A into panels to use each element
/// once; here A is read once in place. Not transposed, `y += A[:, p]·b[p]` runs over p in order,
/// four contiguous columns of A streamed at a time (y stays in L1); transposed, each output is a dot
/// product of a contiguous column of the stored A with b. Each output is one sum over k, in an
/// order that differs from the packed kernel's (the two agree to rounding). Bound by reading A:
/// from `parallelWork` multiply-adds the rows are split, in blocks of 64, over `Parallel.threads`
/// threads; every row is computed the same way in any block, so the result does not depend on the
/// thread count.
enum GEMV {
    /// m·k from which the rows are split over the threads (a 256×256 matrix, 256 KB: ~25 µs of
    /// reading on one core, several times a hand-off to a spinning worker).
    static let parallelWork = 1 << 16

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
            // y[lo..<m] += A[lo..<m, p]·b[p] for p in order, four columns of A streamed at a time;
            // each row's sum runs over p in order (the same in a SIMD lane and in the scalar tail).
            let lo = range.lowerBound, count = m - lo, vectors = count / 8 * 8
            withUnsafeTemporaryAllocation(of: Float.self, capacity: max(count, 1)) { y in
                let y = y.baseAddress!
                y.update(repeating: 0, count: count)
                var p = 0
                while p < k {
                    let w = min(4, k - p)
                    let x0 = b[p * incb], x1 = w > 1 ? b[(p + 1) * incb] : 0, x2 = w > 2 ? b[(p + 2) * incb] : 0, x3 = w > 3 ? b[(p + 3) * incb] : 0
                    let c0 = a + lo + p * lda
                    if w == 4 {
                        let v0 = SIMD8(repeating: x0), v1 = SIMD8(repeating: x1), v2 = SIMD8(repeating: x2), v3 = SIMD8(repeating: x3)
                        var i = 0
                        while i < vectors {
                            var acc = UnsafeRawPointer(y + i).loadUnaligned(as: SIMD8<Float>.self)
                            acc += load(c0 + i) * v0
                            acc += load(c0 + lda + i) * v1
                            acc += load(c0 + 2 * lda + i) * v2
                            acc += load(c0 + 3 * lda + i) * v3
                            UnsafeMutableRawPointer(y + i).storeBytes(of: acc, as: SIMD8<Float>.self)
                            i += 8
                        }
                        while i < count {
                            var t = y[i]
                            t += c0[i] * x0; t += c0[lda + i] * x1; t += c0[2 * lda + i] * x2; t += c0[3 * lda + i] * x3
                            y[i] = t
                            i += 1
                        }
                    } else {
                        let xs = [x0, x1, x2, x3]
                        for q in 0..<w {
                            let col = c0 + q * lda, v = SIMD8(repeating: xs[q])
                            var i = 0
                            while i < vectors {
                                let acc = UnsafeRawPointer(y + i).loadUnaligned(as: SIMD8<Float>.self) + load(col + i) * v
                                UnsafeMutableRawPointer(y + i).storeBytes(of: acc, as: SIMD8<Float>.self)
                                i += 8
                            }
                            while i < count { y[i] += col[i] * xs[q]; i += 1 }
                        }
                    }
                    p += w
                }
                for i in 0..<count { store(lo + i, y[i]) }
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
