// The SGEMM micro-kernel: one 16×6 tile of C from packed panels of op(A) and op(B).
// Rationale and measurements: ../../README.md ("Performance") and shared/design/KERNELS.md.

extension GEMM {
    /// Rows of C one micro-kernel call computes (two `SIMD8<Float>` per column).
    public static let mr = 16
    /// Columns of C one micro-kernel call computes.
    public static let nr = 6

    /// `C[0..<rows, 0..<cols] ← alpha · Ap · Bp + beta · C` for one tile, where `Ap` is a packed
    /// 16×kc panel (`ap[p·16 + i]` = op(A)[i, p], zero-padded past `rows`) and Bp[p, j] is
    /// `bp[p·bRow + j·bCol]` for j < 6: a packed kc×6 panel (`bRow` 6, `bCol` 1, zero-padded past
    /// `cols`) or six columns of B read in place (all six must be readable). `rows ≤ 16`,
    /// `cols ≤ 6`; C is column-major with leading dimension `ldc`; `beta == 0` does not read C.
    ///
    /// The loop is 12 `vfmadd231ps`, 6 `vbroadcastss` and 2 loads per k-step, with the 12
    /// accumulators in registers (AVX2 has 16). Never inlined, so that a test can find it in the
    /// object file and check that it still compiles to FMAs with no calls.
    @inline(never)
    static func kernel16x6(
        kc: Int, ap: UnsafePointer<Float>, bp: UnsafePointer<Float>, bRow: Int, bCol: Int,
        c: UnsafeMutablePointer<Float>, ldc: Int, rows: Int, cols: Int, alpha: Float, beta: Float
    ) {
        kernel16x6Loop(kc: kc, ap: ap, bp: bp, bRow: bRow, bCol: bCol, c: c, ldc: ldc, rows: rows, cols: cols, alpha: alpha, beta: beta)
    }

    /// `kernel16x6` for a packed B panel (`bRow` 6, `bCol` 1): a copy of the loop whose B offsets are
    /// constants, so that it carries no address arithmetic beyond two pointer increments.
    @inline(never)
    static func kernel16x6Packed(
        kc: Int, ap: UnsafePointer<Float>, bp: UnsafePointer<Float>,
        c: UnsafeMutablePointer<Float>, ldc: Int, rows: Int, cols: Int, alpha: Float, beta: Float
    ) {
        kernel16x6Loop(kc: kc, ap: ap, bp: bp, bRow: nr, bCol: 1, c: c, ldc: ldc, rows: rows, cols: cols, alpha: alpha, beta: beta)
    }

    /// The body of `kernel16x6` and `kernel16x6Packed`.
    @inline(__always)
    static func kernel16x6Loop(
        kc: Int, ap: UnsafePointer<Float>, bp: UnsafePointer<Float>, bRow: Int, bCol: Int,
        c: UnsafeMutablePointer<Float>, ldc: Int, rows: Int, cols: Int, alpha: Float, beta: Float
    ) {
        var c00 = SIMD8<Float>(), c01 = SIMD8<Float>()
        var c10 = SIMD8<Float>(), c11 = SIMD8<Float>()
        var c20 = SIMD8<Float>(), c21 = SIMD8<Float>()
        var c30 = SIMD8<Float>(), c31 = SIMD8<Float>()
        var c40 = SIMD8<Float>(), c41 = SIMD8<Float>()
        var c50 = SIMD8<Float>(), c51 = SIMD8<Float>()
        var pa = UnsafeRawPointer(ap)
        var pb = bp
        let col3 = 3 * bCol, col5 = 5 * bCol
        for _ in 0..<kc {
            let a0 = pa.loadUnaligned(as: SIMD8<Float>.self)
            let a1 = pa.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self)
            var b = SIMD8<Float>(repeating: pb[0])
            c00 = c00.addingProduct(a0, b); c01 = c01.addingProduct(a1, b)
            b = SIMD8<Float>(repeating: pb[bCol])
            c10 = c10.addingProduct(a0, b); c11 = c11.addingProduct(a1, b)
            b = SIMD8<Float>(repeating: pb[2 * bCol])
            c20 = c20.addingProduct(a0, b); c21 = c21.addingProduct(a1, b)
            b = SIMD8<Float>(repeating: pb[col3])
            c30 = c30.addingProduct(a0, b); c31 = c31.addingProduct(a1, b)
            b = SIMD8<Float>(repeating: pb[4 * bCol])
            c40 = c40.addingProduct(a0, b); c41 = c41.addingProduct(a1, b)
            b = SIMD8<Float>(repeating: pb[col5])
            c50 = c50.addingProduct(a0, b); c51 = c51.addingProduct(a1, b)
            pa += 64
            pb += bRow
        }
        let lo = min(rows, 8), hi = rows - lo
        storeColumn(c00, c01, c, lo, hi, alpha, beta)
        if cols > 1 { storeColumn(c10, c11, c + ldc, lo, hi, alpha, beta) }
        if cols > 2 { storeColumn(c20, c21, c + 2 * ldc, lo, hi, alpha, beta) }
        if cols > 3 { storeColumn(c30, c31, c + 3 * ldc, lo, hi, alpha, beta) }
        if cols > 4 { storeColumn(c40, c41, c + 4 * ldc, lo, hi, alpha, beta) }
        if cols > 5 { storeColumn(c50, c51, c + 5 * ldc, lo, hi, alpha, beta) }
    }
}
