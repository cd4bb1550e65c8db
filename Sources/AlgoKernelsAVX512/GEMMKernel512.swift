// The SGEMM micro-kernels for 512-bit vectors: tiles of C as `SIMD16<Float>` FMAs. This module is
// compiled with `-target-cpu skylake-avx512` (Package.swift), so its code runs only on a processor
// with AVX-512 F/CD/BW/DQ/VL: AlgoKernels calls it only when `VectorUnit.detected` says so.
// The packed layouts are AlgoKernels' (16-row panels of op(A), 6-column panels of op(B)); a tile
// here is two A panels by two B panels. Rationale and measurements: ../AlgoKernels/README.md.
#if arch(x86_64)

/// Micro-kernels over AlgoKernels' packed panels, for 32 `zmm` registers.
public enum GEMMKernel512 {
    /// `C[0..<rows, 0..<cols] ← alpha · Ap · Bp + beta · C` for one tile of up to 32×12, where rows
    /// 0–15 come from the packed 16×kc A panel at `ap` (`ap[p·16 + i]` = op(A)[i, p], zero-padded) and
    /// rows 16–31 from the next one at `ap + aNext`; `Bp[p, j]` is `bp[p·bRow + j·bCol]` for j < 6 and
    /// `bp[bNext + p·bRow + (j−6)·bCol]` for 6 ≤ j < 12 (two packed 6-column panels, `bRow` 6 and
    /// `bCol` 1, or twelve columns of B read in place). Every pointer read must be readable whatever
    /// `rows` and `cols` are (pass `aNext`/`bNext` 0 to reuse one panel when there is only one).
    /// `rows ≤ 32`, `cols ≤ 12`; C is column-major (`ldc`); `beta == 0` does not read C.
    ///
    /// Each entry is the same chain of fused multiply-adds over k, in order, as in AlgoKernels'
    /// 16×6 kernel, then `alpha · acc` and one FMA with `beta · C`: the result of an entry does not
    /// depend on which tile shape computed it. The loop is 24 `vfmadd231ps zmm` per k-step with 2
    /// loads and 12 broadcasts (folded into the FMAs where the compiler can); 24 accumulators.
    @inline(never)
    public static func kernel32x12(
        kc: Int, ap: UnsafePointer<Float>, aNext: Int, bp: UnsafePointer<Float>, bNext: Int, bRow: Int, bCol: Int,
        c: UnsafeMutablePointer<Float>, ldc: Int, rows: Int, cols: Int, alpha: Float, beta: Float
    ) {
        loop32x12(kc: kc, ap: ap, aNext: aNext, bp: bp, bNext: bNext, bRow: bRow, bCol: bCol,
                  c: c, ldc: ldc, rows: rows, cols: cols, alpha: alpha, beta: beta)
    }

    /// `kernel32x12` for packed B panels (`bRow` 6, `bCol` 1): the B offsets are constants.
    @inline(never)
    public static func kernel32x12Packed(
        kc: Int, ap: UnsafePointer<Float>, aNext: Int, bp: UnsafePointer<Float>, bNext: Int,
        c: UnsafeMutablePointer<Float>, ldc: Int, rows: Int, cols: Int, alpha: Float, beta: Float
    ) {
        loop32x12(kc: kc, ap: ap, aNext: aNext, bp: bp, bNext: bNext, bRow: 6, bCol: 1,
                  c: c, ldc: ldc, rows: rows, cols: cols, alpha: alpha, beta: beta)
    }

    /// The contract of `kernel32x12` for `rows ≤ 16` (one A panel): 12 accumulators.
    @inline(never)
    public static func kernel16x12(
        kc: Int, ap: UnsafePointer<Float>, bp: UnsafePointer<Float>, bNext: Int, bRow: Int, bCol: Int,
        c: UnsafeMutablePointer<Float>, ldc: Int, rows: Int, cols: Int, alpha: Float, beta: Float
    ) {
        loop16x12(kc: kc, ap: ap, bp: bp, bNext: bNext, bRow: bRow, bCol: bCol,
                  c: c, ldc: ldc, rows: rows, cols: cols, alpha: alpha, beta: beta)
    }

    /// `kernel16x12` for packed B panels (`bRow` 6, `bCol` 1).
    @inline(never)
    public static func kernel16x12Packed(
        kc: Int, ap: UnsafePointer<Float>, bp: UnsafePointer<Float>, bNext: Int,
        c: UnsafeMutablePointer<Float>, ldc: Int, rows: Int, cols: Int, alpha: Float, beta: Float
    ) {
        loop16x12(kc: kc, ap: ap, bp: bp, bNext: bNext, bRow: 6, bCol: 1,
                  c: c, ldc: ldc, rows: rows, cols: cols, alpha: alpha, beta: beta)
    }

    /// The body of `kernel32x12` and `kernel32x12Packed`.
    @inline(__always)
    static func loop32x12(
        kc: Int, ap: UnsafePointer<Float>, aNext: Int, bp: UnsafePointer<Float>, bNext: Int, bRow: Int, bCol: Int,
        c: UnsafeMutablePointer<Float>, ldc: Int, rows: Int, cols: Int, alpha: Float, beta: Float
    ) {
        var c00 = SIMD16<Float>(), c01 = SIMD16<Float>(), c10 = SIMD16<Float>(), c11 = SIMD16<Float>()
        var c20 = SIMD16<Float>(), c21 = SIMD16<Float>(), c30 = SIMD16<Float>(), c31 = SIMD16<Float>()
        var c40 = SIMD16<Float>(), c41 = SIMD16<Float>(), c50 = SIMD16<Float>(), c51 = SIMD16<Float>()
        var c60 = SIMD16<Float>(), c61 = SIMD16<Float>(), c70 = SIMD16<Float>(), c71 = SIMD16<Float>()
        var c80 = SIMD16<Float>(), c81 = SIMD16<Float>(), c90 = SIMD16<Float>(), c91 = SIMD16<Float>()
        var ca0 = SIMD16<Float>(), ca1 = SIMD16<Float>(), cb0 = SIMD16<Float>(), cb1 = SIMD16<Float>()
        var pa = UnsafeRawPointer(ap)
        var pb = bp
        let aBytes = aNext * 4
        let col3 = 3 * bCol, col5 = 5 * bCol
        let d0 = bNext, d1 = bNext + bCol, d2 = bNext + 2 * bCol, d3 = bNext + col3, d4 = bNext + 4 * bCol, d5 = bNext + col5
        for _ in 0..<kc {
            let x = pa.loadUnaligned(as: SIMD16<Float>.self)
            let y = pa.loadUnaligned(fromByteOffset: aBytes, as: SIMD16<Float>.self)
            var b = SIMD16<Float>(repeating: pb[0])
            c00 = c00.addingProduct(x, b); c01 = c01.addingProduct(y, b)
            b = SIMD16<Float>(repeating: pb[bCol])
            c10 = c10.addingProduct(x, b); c11 = c11.addingProduct(y, b)
            b = SIMD16<Float>(repeating: pb[2 * bCol])
            c20 = c20.addingProduct(x, b); c21 = c21.addingProduct(y, b)
            b = SIMD16<Float>(repeating: pb[col3])
            c30 = c30.addingProduct(x, b); c31 = c31.addingProduct(y, b)
            b = SIMD16<Float>(repeating: pb[4 * bCol])
            c40 = c40.addingProduct(x, b); c41 = c41.addingProduct(y, b)
            b = SIMD16<Float>(repeating: pb[col5])
            c50 = c50.addingProduct(x, b); c51 = c51.addingProduct(y, b)
            b = SIMD16<Float>(repeating: pb[d0])
            c60 = c60.addingProduct(x, b); c61 = c61.addingProduct(y, b)
            b = SIMD16<Float>(repeating: pb[d1])
            c70 = c70.addingProduct(x, b); c71 = c71.addingProduct(y, b)
            b = SIMD16<Float>(repeating: pb[d2])
            c80 = c80.addingProduct(x, b); c81 = c81.addingProduct(y, b)
            b = SIMD16<Float>(repeating: pb[d3])
            c90 = c90.addingProduct(x, b); c91 = c91.addingProduct(y, b)
            b = SIMD16<Float>(repeating: pb[d4])
            ca0 = ca0.addingProduct(x, b); ca1 = ca1.addingProduct(y, b)
            b = SIMD16<Float>(repeating: pb[d5])
            cb0 = cb0.addingProduct(x, b); cb1 = cb1.addingProduct(y, b)
            pa += 64
            pb += bRow
        }
        let lo = min(rows, 16), hi = rows - lo
        storeColumn(c00, c01, c, lo, hi, alpha, beta)
        if cols > 1 { storeColumn(c10, c11, c + ldc, lo, hi, alpha, beta) }
        if cols > 2 { storeColumn(c20, c21, c + 2 * ldc, lo, hi, alpha, beta) }
        if cols > 3 { storeColumn(c30, c31, c + 3 * ldc, lo, hi, alpha, beta) }
        if cols > 4 { storeColumn(c40, c41, c + 4 * ldc, lo, hi, alpha, beta) }
        if cols > 5 { storeColumn(c50, c51, c + 5 * ldc, lo, hi, alpha, beta) }
        if cols > 6 { storeColumn(c60, c61, c + 6 * ldc, lo, hi, alpha, beta) }
        if cols > 7 { storeColumn(c70, c71, c + 7 * ldc, lo, hi, alpha, beta) }
        if cols > 8 { storeColumn(c80, c81, c + 8 * ldc, lo, hi, alpha, beta) }
        if cols > 9 { storeColumn(c90, c91, c + 9 * ldc, lo, hi, alpha, beta) }
        if cols > 10 { storeColumn(ca0, ca1, c + 10 * ldc, lo, hi, alpha, beta) }
        if cols > 11 { storeColumn(cb0, cb1, c + 11 * ldc, lo, hi, alpha, beta) }
    }

    /// The body of `kernel16x12` and `kernel16x12Packed`.
    @inline(__always)
    static func loop16x12(
        kc: Int, ap: UnsafePointer<Float>, bp: UnsafePointer<Float>, bNext: Int, bRow: Int, bCol: Int,
        c: UnsafeMutablePointer<Float>, ldc: Int, rows: Int, cols: Int, alpha: Float, beta: Float
    ) {
        var c0 = SIMD16<Float>(), c1 = SIMD16<Float>(), c2 = SIMD16<Float>(), c3 = SIMD16<Float>()
        var c4 = SIMD16<Float>(), c5 = SIMD16<Float>(), c6 = SIMD16<Float>(), c7 = SIMD16<Float>()
        var c8 = SIMD16<Float>(), c9 = SIMD16<Float>(), ca = SIMD16<Float>(), cb = SIMD16<Float>()
        var pa = UnsafeRawPointer(ap)
        var pb = bp
        let col3 = 3 * bCol, col5 = 5 * bCol
        let d0 = bNext, d1 = bNext + bCol, d2 = bNext + 2 * bCol, d3 = bNext + col3, d4 = bNext + 4 * bCol, d5 = bNext + col5
        for _ in 0..<kc {
            let x = pa.loadUnaligned(as: SIMD16<Float>.self)
            c0 = c0.addingProduct(x, SIMD16<Float>(repeating: pb[0]))
            c1 = c1.addingProduct(x, SIMD16<Float>(repeating: pb[bCol]))
            c2 = c2.addingProduct(x, SIMD16<Float>(repeating: pb[2 * bCol]))
            c3 = c3.addingProduct(x, SIMD16<Float>(repeating: pb[col3]))
            c4 = c4.addingProduct(x, SIMD16<Float>(repeating: pb[4 * bCol]))
            c5 = c5.addingProduct(x, SIMD16<Float>(repeating: pb[col5]))
            c6 = c6.addingProduct(x, SIMD16<Float>(repeating: pb[d0]))
            c7 = c7.addingProduct(x, SIMD16<Float>(repeating: pb[d1]))
            c8 = c8.addingProduct(x, SIMD16<Float>(repeating: pb[d2]))
            c9 = c9.addingProduct(x, SIMD16<Float>(repeating: pb[d3]))
            ca = ca.addingProduct(x, SIMD16<Float>(repeating: pb[d4]))
            cb = cb.addingProduct(x, SIMD16<Float>(repeating: pb[d5]))
            pa += 64
            pb += bRow
        }
        let zero = SIMD16<Float>()
        storeColumn(c0, zero, c, rows, 0, alpha, beta)
        if cols > 1 { storeColumn(c1, zero, c + ldc, rows, 0, alpha, beta) }
        if cols > 2 { storeColumn(c2, zero, c + 2 * ldc, rows, 0, alpha, beta) }
        if cols > 3 { storeColumn(c3, zero, c + 3 * ldc, rows, 0, alpha, beta) }
        if cols > 4 { storeColumn(c4, zero, c + 4 * ldc, rows, 0, alpha, beta) }
        if cols > 5 { storeColumn(c5, zero, c + 5 * ldc, rows, 0, alpha, beta) }
        if cols > 6 { storeColumn(c6, zero, c + 6 * ldc, rows, 0, alpha, beta) }
        if cols > 7 { storeColumn(c7, zero, c + 7 * ldc, rows, 0, alpha, beta) }
        if cols > 8 { storeColumn(c8, zero, c + 8 * ldc, rows, 0, alpha, beta) }
        if cols > 9 { storeColumn(c9, zero, c + 9 * ldc, rows, 0, alpha, beta) }
        if cols > 10 { storeColumn(ca, zero, c + 10 * ldc, rows, 0, alpha, beta) }
        if cols > 11 { storeColumn(cb, zero, c + 11 * ldc, rows, 0, alpha, beta) }
    }
}

#endif
