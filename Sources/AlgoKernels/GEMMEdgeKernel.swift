// The edge of a product: the rows of C past its last full 16-row panel (m mod 16 of them: the one
// row of a 65-row product such as the unembedding W_u X with N_V = 65). A 16-row micro-kernel on
// them would mostly multiply padding (one useful row in 16 costs a whole panel, one in 8 half of
// one), so they get kernels that vectorise along another dimension and waste nothing:
//
// - op(B) with contiguous columns (B not transposed): dot products vectorised along k. Each entry of C
//   is summed as 8 chains (k-steps ≡ 0…7 mod 8 of the k-slice, in order) added in a fixed tree.
// - op(B) with contiguous rows (B transposed): vectorised along n, each entry one chain over k in order
//   (as in the 16×6 tile).
//
// Both read B where it is (never packed) and the edge rows of op(A) packed row by row. Every entry's
// arithmetic depends only on the shape, transB and kc, never on which tile, part, thread or vector
// unit computed it: the 512-bit path runs these same kernels, so results stay bit-identical across
// thread counts and vector units. Which kernel runs where: GEMMEdge.swift. Rationale and
// measurements: README.md ("The edge").

extension GEMM {
    /// Packs op(A)[i0..<i0+rows, p0..<p0+depth] row by row: `dst[r·stride + p]`, zero for
    /// `depth ≤ p < stride` (`stride` a multiple of 8, ≥ `depth`). op(A)[i, p] is `a[i + p·lda]`, or
    /// `a[p + i·lda]` when `trans`.
    static func packEdgeA(trans: Bool, a: UnsafePointer<Float>, lda: Int, i0: Int, rows: Int, p0: Int, depth: Int,
                          stride: Int, dst: UnsafeMutablePointer<Float>) {
        if trans {
            for r in 0..<rows { (dst + r * stride).update(from: a + p0 + (i0 + r) * lda, count: depth) }
        } else {
            for p in 0..<depth {
                let src = a + i0 + (p0 + p) * lda
                for r in 0..<rows { dst[r * stride + p] = src[r] }
            }
        }
        for r in 0..<rows {
            for p in depth..<stride { dst[r * stride + p] = 0 }
        }
    }

    /// The sum of a dot kernel's 8 chains, in a fixed order: ((0+4)+(2+6)) + ((1+5)+(3+7)).
    @inline(__always)
    static func chainSum(_ v: SIMD8<Float>) -> Float {
        let h = v.lowHalf + v.highHalf
        let q = h.lowHalf + h.highHalf
        return q[0] + q[1]
    }

    /// `c ← alpha · x + beta · c` (without reading c when `beta == 0`), rounded as `storeLanes` does.
    @inline(__always)
    static func storeEntry(_ x: Float, _ c: UnsafeMutablePointer<Float>, _ alpha: Float, _ beta: Float) {
        let r = alpha * x
        c.pointee = beta == 0 ? r : r.addingProduct(beta, c.pointee)
    }

    // MARK: Dot kernels (op(B) columns contiguous along k)

    /// Column `q` of a dot tile's B (`b + q·ldb`), or its last column `cols − 1` past it (read, not stored).
    @inline(__always)
    static func edgeColumn(_ b: UnsafePointer<Float>, _ ldb: Int, _ cols: Int, _ q: Int) -> UnsafePointer<Float> {
        b + min(q, cols - 1) * ldb
    }

    /// 8 floats at `p`.
    @inline(__always)
    static func edgeLoad(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
    }

    /// The first `count` (< 8) floats at `p`, zero after them (nothing past them is read).
    @inline(__always)
    static func edgeTail(_ p: UnsafePointer<Float>, _ count: Int) -> SIMD8<Float> {
        var t = SIMD8<Float>()
        for l in 0..<count { t[l] = p[l] }
        return t
    }

    /// `C[0..<4, 0..<cols] ← alpha · A·B + beta · C` over `depth` k-steps: row r of A at
    /// `a + r·aStride` (zero-padded to a multiple of 8 k-steps), column q of op(B) at `b + q·ldb`
    /// (contiguous along k, `depth` of them readable), `cols ≤ 3`. Loop: 4 + 3 loads, 12 `vfmadd231ps`
    /// per 8 k-steps; the columns' vectors stay in registers while each row's is loaded. Each entry
    /// is 8 chains (k-steps ≡ 0…7 mod 8) summed by `chainSum`; the last `depth mod 8` k-steps are one
    /// more vector step whose lanes past `depth` are 0 in A (packed) and in B (`edgeTail`): they add
    /// +0, which leaves every chain unchanged (a chain starts at +0 and so is never −0). Never
    /// inlined, so that the codegen test finds it. (Written out per tile: generic helpers were not
    /// always inlined, and then the accumulators left the registers.)
    @inline(never)
    static func edgeDot4x3(depth: Int, a: UnsafePointer<Float>, aStride: Int, b: UnsafePointer<Float>, ldb: Int,
                           cols: Int, c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float, beta: Float) {
        let a0 = a, a1 = a + aStride, a2 = a + 2 * aStride, a3 = a + 3 * aStride
        let b0 = edgeColumn(b, ldb, cols, 0), b1 = edgeColumn(b, ldb, cols, 1), b2 = edgeColumn(b, ldb, cols, 2)
        var s0 = SIMD8<Float>(), s1 = SIMD8<Float>(), s2 = SIMD8<Float>(), s3 = SIMD8<Float>(), s4 = SIMD8<Float>(), s5 = SIMD8<Float>()
        var s6 = SIMD8<Float>(), s7 = SIMD8<Float>(), s8 = SIMD8<Float>(), s9 = SIMD8<Float>(), s10 = SIMD8<Float>(), s11 = SIMD8<Float>()
        var off = 0
        for _ in 0..<(depth / 8) {
            let y0 = edgeLoad(b0 + off), y1 = edgeLoad(b1 + off), y2 = edgeLoad(b2 + off)
            var x = edgeLoad(a0 + off)
            s0 = s0.addingProduct(x, y0); s1 = s1.addingProduct(x, y1); s2 = s2.addingProduct(x, y2)
            x = edgeLoad(a1 + off)
            s3 = s3.addingProduct(x, y0); s4 = s4.addingProduct(x, y1); s5 = s5.addingProduct(x, y2)
            x = edgeLoad(a2 + off)
            s6 = s6.addingProduct(x, y0); s7 = s7.addingProduct(x, y1); s8 = s8.addingProduct(x, y2)
            x = edgeLoad(a3 + off)
            s9 = s9.addingProduct(x, y0); s10 = s10.addingProduct(x, y1); s11 = s11.addingProduct(x, y2)
            off += 8
        }
        let rest = depth - off
        if rest > 0 {
            let y0 = edgeTail(b0 + off, rest), y1 = edgeTail(b1 + off, rest), y2 = edgeTail(b2 + off, rest)
            var x = edgeLoad(a0 + off)
            s0 = s0.addingProduct(x, y0); s1 = s1.addingProduct(x, y1); s2 = s2.addingProduct(x, y2)
            x = edgeLoad(a1 + off)
            s3 = s3.addingProduct(x, y0); s4 = s4.addingProduct(x, y1); s5 = s5.addingProduct(x, y2)
            x = edgeLoad(a2 + off)
            s6 = s6.addingProduct(x, y0); s7 = s7.addingProduct(x, y1); s8 = s8.addingProduct(x, y2)
            x = edgeLoad(a3 + off)
            s9 = s9.addingProduct(x, y0); s10 = s10.addingProduct(x, y1); s11 = s11.addingProduct(x, y2)
        }
        storeEntry(chainSum(s0), c, alpha, beta)
        if 1 < cols { storeEntry(chainSum(s1), c + 1 * ldc, alpha, beta) }
        if 2 < cols { storeEntry(chainSum(s2), c + 2 * ldc, alpha, beta) }
        storeEntry(chainSum(s3), c + 1, alpha, beta)
        if 1 < cols { storeEntry(chainSum(s4), c + 1 + 1 * ldc, alpha, beta) }
        if 2 < cols { storeEntry(chainSum(s5), c + 1 + 2 * ldc, alpha, beta) }
        storeEntry(chainSum(s6), c + 2, alpha, beta)
        if 1 < cols { storeEntry(chainSum(s7), c + 2 + 1 * ldc, alpha, beta) }
        if 2 < cols { storeEntry(chainSum(s8), c + 2 + 2 * ldc, alpha, beta) }
        storeEntry(chainSum(s9), c + 3, alpha, beta)
        if 1 < cols { storeEntry(chainSum(s10), c + 3 + 1 * ldc, alpha, beta) }
        if 2 < cols { storeEntry(chainSum(s11), c + 3 + 2 * ldc, alpha, beta) }
    }

    /// `edgeDot4x3` for 2 rows and `cols ≤ 6`: the rows' vectors stay in registers, 2 + 6 loads and
    /// 12 FMAs per 8 k-steps.
    @inline(never)
    static func edgeDot2x6(depth: Int, a: UnsafePointer<Float>, aStride: Int, b: UnsafePointer<Float>, ldb: Int,
                           cols: Int, c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float, beta: Float) {
        let a0 = a, a1 = a + aStride
        let b0 = edgeColumn(b, ldb, cols, 0), b1 = edgeColumn(b, ldb, cols, 1), b2 = edgeColumn(b, ldb, cols, 2), b3 = edgeColumn(b, ldb, cols, 3)
        let b4 = edgeColumn(b, ldb, cols, 4), b5 = edgeColumn(b, ldb, cols, 5)
        var s0 = SIMD8<Float>(), s1 = SIMD8<Float>(), s2 = SIMD8<Float>(), s3 = SIMD8<Float>(), s4 = SIMD8<Float>(), s5 = SIMD8<Float>()
        var s6 = SIMD8<Float>(), s7 = SIMD8<Float>(), s8 = SIMD8<Float>(), s9 = SIMD8<Float>(), s10 = SIMD8<Float>(), s11 = SIMD8<Float>()
        var off = 0
        for _ in 0..<(depth / 8) {
            let x0 = edgeLoad(a0 + off), x1 = edgeLoad(a1 + off)
            var y = edgeLoad(b0 + off); s0 = s0.addingProduct(x0, y); s6 = s6.addingProduct(x1, y)
            y = edgeLoad(b1 + off); s1 = s1.addingProduct(x0, y); s7 = s7.addingProduct(x1, y)
            y = edgeLoad(b2 + off); s2 = s2.addingProduct(x0, y); s8 = s8.addingProduct(x1, y)
            y = edgeLoad(b3 + off); s3 = s3.addingProduct(x0, y); s9 = s9.addingProduct(x1, y)
            y = edgeLoad(b4 + off); s4 = s4.addingProduct(x0, y); s10 = s10.addingProduct(x1, y)
            y = edgeLoad(b5 + off); s5 = s5.addingProduct(x0, y); s11 = s11.addingProduct(x1, y)
            off += 8
        }
        let rest = depth - off
        if rest > 0 {
            let x0 = edgeLoad(a0 + off), x1 = edgeLoad(a1 + off)
            var y = edgeTail(b0 + off, rest); s0 = s0.addingProduct(x0, y); s6 = s6.addingProduct(x1, y)
            y = edgeTail(b1 + off, rest); s1 = s1.addingProduct(x0, y); s7 = s7.addingProduct(x1, y)
            y = edgeTail(b2 + off, rest); s2 = s2.addingProduct(x0, y); s8 = s8.addingProduct(x1, y)
            y = edgeTail(b3 + off, rest); s3 = s3.addingProduct(x0, y); s9 = s9.addingProduct(x1, y)
            y = edgeTail(b4 + off, rest); s4 = s4.addingProduct(x0, y); s10 = s10.addingProduct(x1, y)
            y = edgeTail(b5 + off, rest); s5 = s5.addingProduct(x0, y); s11 = s11.addingProduct(x1, y)
        }
        storeEntry(chainSum(s0), c, alpha, beta)
        if 1 < cols { storeEntry(chainSum(s1), c + 1 * ldc, alpha, beta) }
        if 2 < cols { storeEntry(chainSum(s2), c + 2 * ldc, alpha, beta) }
        if 3 < cols { storeEntry(chainSum(s3), c + 3 * ldc, alpha, beta) }
        if 4 < cols { storeEntry(chainSum(s4), c + 4 * ldc, alpha, beta) }
        if 5 < cols { storeEntry(chainSum(s5), c + 5 * ldc, alpha, beta) }
        storeEntry(chainSum(s6), c + 1, alpha, beta)
        if 1 < cols { storeEntry(chainSum(s7), c + 1 + 1 * ldc, alpha, beta) }
        if 2 < cols { storeEntry(chainSum(s8), c + 1 + 2 * ldc, alpha, beta) }
        if 3 < cols { storeEntry(chainSum(s9), c + 1 + 3 * ldc, alpha, beta) }
        if 4 < cols { storeEntry(chainSum(s10), c + 1 + 4 * ldc, alpha, beta) }
        if 5 < cols { storeEntry(chainSum(s11), c + 1 + 5 * ldc, alpha, beta) }
    }

    /// `edgeDot4x3` for 1 row and `cols ≤ 8`: 1 + 8 loads and 8 FMAs per 8 k-steps (8 chains of FMAs
    /// cover their latency; 12 column pointers would not fit the general registers).
    @inline(never)
    static func edgeDot1x8(depth: Int, a: UnsafePointer<Float>, aStride: Int, b: UnsafePointer<Float>, ldb: Int,
                           cols: Int, c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float, beta: Float) {
        let a0 = a
        let b0 = edgeColumn(b, ldb, cols, 0), b1 = edgeColumn(b, ldb, cols, 1), b2 = edgeColumn(b, ldb, cols, 2), b3 = edgeColumn(b, ldb, cols, 3)
        let b4 = edgeColumn(b, ldb, cols, 4), b5 = edgeColumn(b, ldb, cols, 5), b6 = edgeColumn(b, ldb, cols, 6), b7 = edgeColumn(b, ldb, cols, 7)
        var s0 = SIMD8<Float>(), s1 = SIMD8<Float>(), s2 = SIMD8<Float>(), s3 = SIMD8<Float>(), s4 = SIMD8<Float>(), s5 = SIMD8<Float>()
        var s6 = SIMD8<Float>(), s7 = SIMD8<Float>()
        var off = 0
        for _ in 0..<(depth / 8) {
            let x0 = edgeLoad(a0 + off)
            var y = edgeLoad(b0 + off); s0 = s0.addingProduct(x0, y)
            y = edgeLoad(b1 + off); s1 = s1.addingProduct(x0, y)
            y = edgeLoad(b2 + off); s2 = s2.addingProduct(x0, y)
            y = edgeLoad(b3 + off); s3 = s3.addingProduct(x0, y)
            y = edgeLoad(b4 + off); s4 = s4.addingProduct(x0, y)
            y = edgeLoad(b5 + off); s5 = s5.addingProduct(x0, y)
            y = edgeLoad(b6 + off); s6 = s6.addingProduct(x0, y)
            y = edgeLoad(b7 + off); s7 = s7.addingProduct(x0, y)
            off += 8
        }
        let rest = depth - off
        if rest > 0 {
            let x0 = edgeLoad(a0 + off)
            var y = edgeTail(b0 + off, rest); s0 = s0.addingProduct(x0, y)
            y = edgeTail(b1 + off, rest); s1 = s1.addingProduct(x0, y)
            y = edgeTail(b2 + off, rest); s2 = s2.addingProduct(x0, y)
            y = edgeTail(b3 + off, rest); s3 = s3.addingProduct(x0, y)
            y = edgeTail(b4 + off, rest); s4 = s4.addingProduct(x0, y)
            y = edgeTail(b5 + off, rest); s5 = s5.addingProduct(x0, y)
            y = edgeTail(b6 + off, rest); s6 = s6.addingProduct(x0, y)
            y = edgeTail(b7 + off, rest); s7 = s7.addingProduct(x0, y)
        }
        storeEntry(chainSum(s0), c, alpha, beta)
        if 1 < cols { storeEntry(chainSum(s1), c + 1 * ldc, alpha, beta) }
        if 2 < cols { storeEntry(chainSum(s2), c + 2 * ldc, alpha, beta) }
        if 3 < cols { storeEntry(chainSum(s3), c + 3 * ldc, alpha, beta) }
        if 4 < cols { storeEntry(chainSum(s4), c + 4 * ldc, alpha, beta) }
        if 5 < cols { storeEntry(chainSum(s5), c + 5 * ldc, alpha, beta) }
        if 6 < cols { storeEntry(chainSum(s6), c + 6 * ldc, alpha, beta) }
        if 7 < cols { storeEntry(chainSum(s7), c + 7 * ldc, alpha, beta) }
    }

    // MARK: Row kernels (op(B) rows contiguous along n)

    /// Lanes `l` of `v` with `from ≤ column + l < to` into row `row` of the window at `c`.
    @inline(__always)
    static func storeRowLanes(_ v: SIMD8<Float>, row: Int, column: Int, from: Int, to: Int,
                              c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float, beta: Float) {
        let lo = max(0, from - column), hi = min(8, to - column)
        if lo >= hi { return }
        for l in lo..<hi { storeEntry(v[l], c + row + (column + l) * ldc, alpha, beta) }
    }

    /// `C[0..<rows, from..<to] ← alpha · A·B + beta · C` over `depth` k-steps, computing columns
    /// 0..<24 of the window (3 vectors of 8): row r of A at `a + r·aStride` (rows past `rows` read
    /// row 0 and are not stored), op(B)[p, j] at `b[p·ldb + j]` for j < 24 (all readable); `c` is
    /// the window's C[0, 0]. Each entry is one chain over k in order. Loop: 3 loads, 4 broadcasts,
    /// 12 `vfmadd231ps` per k-step.
    @inline(never)
    static func edgeRow4x3(depth: Int, a: UnsafePointer<Float>, aStride: Int, rows: Int, b: UnsafePointer<Float>, ldb: Int,
                           from: Int, to: Int, c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float, beta: Float) {
        let a0 = a, a1 = a + (1 < rows ? 1 : 0) * aStride, a2 = a + (2 < rows ? 2 : 0) * aStride, a3 = a + (3 < rows ? 3 : 0) * aStride
        var s0 = SIMD8<Float>(), s1 = SIMD8<Float>(), s2 = SIMD8<Float>(), s3 = SIMD8<Float>(), s4 = SIMD8<Float>(), s5 = SIMD8<Float>()
        var s6 = SIMD8<Float>(); var s7 = SIMD8<Float>(); var s8 = SIMD8<Float>(); var s9 = SIMD8<Float>(); var s10 = SIMD8<Float>(); var s11 = SIMD8<Float>()
        var pb = UnsafeRawPointer(b)
        let rowBytes = ldb * 4
        for p in 0..<depth {
            let y0 = pb.loadUnaligned(as: SIMD8<Float>.self), y1 = pb.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self), y2 = pb.loadUnaligned(fromByteOffset: 64, as: SIMD8<Float>.self)
            var x = SIMD8<Float>(repeating: a0[p]); s0 = s0.addingProduct(x, y0); s1 = s1.addingProduct(x, y1); s2 = s2.addingProduct(x, y2)
            x = SIMD8<Float>(repeating: a1[p]); s3 = s3.addingProduct(x, y0); s4 = s4.addingProduct(x, y1); s5 = s5.addingProduct(x, y2)
            x = SIMD8<Float>(repeating: a2[p]); s6 = s6.addingProduct(x, y0); s7 = s7.addingProduct(x, y1); s8 = s8.addingProduct(x, y2)
            x = SIMD8<Float>(repeating: a3[p]); s9 = s9.addingProduct(x, y0); s10 = s10.addingProduct(x, y1); s11 = s11.addingProduct(x, y2)
            pb += rowBytes
        }
        storeRowLanes(s0, row: 0, column: 0, from: from, to: to, c: c, ldc: ldc, alpha: alpha, beta: beta)
        storeRowLanes(s1, row: 0, column: 8, from: from, to: to, c: c, ldc: ldc, alpha: alpha, beta: beta)
        storeRowLanes(s2, row: 0, column: 16, from: from, to: to, c: c, ldc: ldc, alpha: alpha, beta: beta)
        if 1 < rows { storeRowLanes(s3, row: 1, column: 0, from: from, to: to, c: c, ldc: ldc, alpha: alpha, beta: beta) }
        if 1 < rows { storeRowLanes(s4, row: 1, column: 8, from: from, to: to, c: c, ldc: ldc, alpha: alpha, beta: beta) }
        if 1 < rows { storeRowLanes(s5, row: 1, column: 16, from: from, to: to, c: c, ldc: ldc, alpha: alpha, beta: beta) }
        if 2 < rows { storeRowLanes(s6, row: 2, column: 0, from: from, to: to, c: c, ldc: ldc, alpha: alpha, beta: beta) }
        if 2 < rows { storeRowLanes(s7, row: 2, column: 8, from: from, to: to, c: c, ldc: ldc, alpha: alpha, beta: beta) }
        if 2 < rows { storeRowLanes(s8, row: 2, column: 16, from: from, to: to, c: c, ldc: ldc, alpha: alpha, beta: beta) }
        if 3 < rows { storeRowLanes(s9, row: 3, column: 0, from: from, to: to, c: c, ldc: ldc, alpha: alpha, beta: beta) }
        if 3 < rows { storeRowLanes(s10, row: 3, column: 8, from: from, to: to, c: c, ldc: ldc, alpha: alpha, beta: beta) }
        if 3 < rows { storeRowLanes(s11, row: 3, column: 16, from: from, to: to, c: c, ldc: ldc, alpha: alpha, beta: beta) }
    }

    /// `edgeRow4x3` for 2 rows × 48 columns (6 vectors): 6 loads, 2 broadcasts, 12 FMAs per k-step.
    @inline(never)
    static func edgeRow2x6(depth: Int, a: UnsafePointer<Float>, aStride: Int, rows: Int, b: UnsafePointer<Float>, ldb: Int,
                           from: Int, to: Int, c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float, beta: Float) {
        let a0 = a, a1 = a + (1 < rows ? 1 : 0) * aStride
        var s0 = SIMD8<Float>(), s1 = SIMD8<Float>(), s2 = SIMD8<Float>(), s3 = SIMD8<Float>(), s4 = SIMD8<Float>(), s5 = SIMD8<Float>()
        var s6 = SIMD8<Float>(); var s7 = SIMD8<Float>(); var s8 = SIMD8<Float>(); var s9 = SIMD8<Float>(); var s10 = SIMD8<Float>(); var s11 = SIMD8<Float>()
        var pb = UnsafeRawPointer(b)
        let rowBytes = ldb * 4
        for p in 0..<depth {
            let x0 = SIMD8<Float>(repeating: a0[p]), x1 = SIMD8<Float>(repeating: a1[p])
            var y = pb.loadUnaligned(as: SIMD8<Float>.self); s0 = s0.addingProduct(x0, y); s6 = s6.addingProduct(x1, y)
            y = pb.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self); s1 = s1.addingProduct(x0, y); s7 = s7.addingProduct(x1, y)
            y = pb.loadUnaligned(fromByteOffset: 64, as: SIMD8<Float>.self); s2 = s2.addingProduct(x0, y); s8 = s8.addingProduct(x1, y)
            y = pb.loadUnaligned(fromByteOffset: 96, as: SIMD8<Float>.self); s3 = s3.addingProduct(x0, y); s9 = s9.addingProduct(x1, y)
            y = pb.loadUnaligned(fromByteOffset: 128, as: SIMD8<Float>.self); s4 = s4.addingProduct(x0, y); s10 = s10.addingProduct(x1, y)
            y = pb.loadUnaligned(fromByteOffset: 160, as: SIMD8<Float>.self); s5 = s5.addingProduct(x0, y); s11 = s11.addingProduct(x1, y)
            pb += rowBytes
        }
        storeRowLanes(s0, row: 0, column: 0, from: from, to: to, c: c, ldc: ldc, alpha: alpha, beta: beta)
        storeRowLanes(s1, row: 0, column: 8, from: from, to: to, c: c, ldc: ldc, alpha: alpha, beta: beta)
        storeRowLanes(s2, row: 0, column: 16, from: from, to: to, c: c, ldc: ldc, alpha: alpha, beta: beta)
        storeRowLanes(s3, row: 0, column: 24, from: from, to: to, c: c, ldc: ldc, alpha: alpha, beta: beta)
        storeRowLanes(s4, row: 0, column: 32, from: from, to: to, c: c, ldc: ldc, alpha: alpha, beta: beta)
        storeRowLanes(s5, row: 0, column: 40, from: from, to: to, c: c, ldc: ldc, alpha: alpha, beta: beta)
        if 1 < rows { storeRowLanes(s6, row: 1, column: 0, from: from, to: to, c: c, ldc: ldc, alpha: alpha, beta: beta) }
        if 1 < rows { storeRowLanes(s7, row: 1, column: 8, from: from, to: to, c: c, ldc: ldc, alpha: alpha, beta: beta) }
        if 1 < rows { storeRowLanes(s8, row: 1, column: 16, from: from, to: to, c: c, ldc: ldc, alpha: alpha, beta: beta) }
        if 1 < rows { storeRowLanes(s9, row: 1, column: 24, from: from, to: to, c: c, ldc: ldc, alpha: alpha, beta: beta) }
        if 1 < rows { storeRowLanes(s10, row: 1, column: 32, from: from, to: to, c: c, ldc: ldc, alpha: alpha, beta: beta) }
        if 1 < rows { storeRowLanes(s11, row: 1, column: 40, from: from, to: to, c: c, ldc: ldc, alpha: alpha, beta: beta) }
    }

    /// `edgeRow4x3` for 1 row × 96 columns (12 vectors): 12 loads, 1 broadcast, 12 FMAs per k-step.
    @inline(never)
    static func edgeRow1x12(depth: Int, a: UnsafePointer<Float>, aStride: Int, rows: Int, b: UnsafePointer<Float>, ldb: Int,
                           from: Int, to: Int, c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float, beta: Float) {
        let a0 = a
        var s0 = SIMD8<Float>(), s1 = SIMD8<Float>(), s2 = SIMD8<Float>(), s3 = SIMD8<Float>(), s4 = SIMD8<Float>(), s5 = SIMD8<Float>()
        var s6 = SIMD8<Float>(); var s7 = SIMD8<Float>(); var s8 = SIMD8<Float>(); var s9 = SIMD8<Float>(); var s10 = SIMD8<Float>(); var s11 = SIMD8<Float>()
        var pb = UnsafeRawPointer(b)
        let rowBytes = ldb * 4
        for p in 0..<depth {
            let x0 = SIMD8<Float>(repeating: a0[p])
            var y = pb.loadUnaligned(as: SIMD8<Float>.self); s0 = s0.addingProduct(x0, y)
            y = pb.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self); s1 = s1.addingProduct(x0, y)
            y = pb.loadUnaligned(fromByteOffset: 64, as: SIMD8<Float>.self); s2 = s2.addingProduct(x0, y)
            y = pb.loadUnaligned(fromByteOffset: 96, as: SIMD8<Float>.self); s3 = s3.addingProduct(x0, y)
            y = pb.loadUnaligned(fromByteOffset: 128, as: SIMD8<Float>.self); s4 = s4.addingProduct(x0, y)
            y = pb.loadUnaligned(fromByteOffset: 160, as: SIMD8<Float>.self); s5 = s5.addingProduct(x0, y)
            y = pb.loadUnaligned(fromByteOffset: 192, as: SIMD8<Float>.self); s6 = s6.addingProduct(x0, y)
            y = pb.loadUnaligned(fromByteOffset: 224, as: SIMD8<Float>.self); s7 = s7.addingProduct(x0, y)
            y = pb.loadUnaligned(fromByteOffset: 256, as: SIMD8<Float>.self); s8 = s8.addingProduct(x0, y)
            y = pb.loadUnaligned(fromByteOffset: 288, as: SIMD8<Float>.self); s9 = s9.addingProduct(x0, y)
            y = pb.loadUnaligned(fromByteOffset: 320, as: SIMD8<Float>.self); s10 = s10.addingProduct(x0, y)
            y = pb.loadUnaligned(fromByteOffset: 352, as: SIMD8<Float>.self); s11 = s11.addingProduct(x0, y)
            pb += rowBytes
        }
        storeRowLanes(s0, row: 0, column: 0, from: from, to: to, c: c, ldc: ldc, alpha: alpha, beta: beta)
        storeRowLanes(s1, row: 0, column: 8, from: from, to: to, c: c, ldc: ldc, alpha: alpha, beta: beta)
        storeRowLanes(s2, row: 0, column: 16, from: from, to: to, c: c, ldc: ldc, alpha: alpha, beta: beta)
        storeRowLanes(s3, row: 0, column: 24, from: from, to: to, c: c, ldc: ldc, alpha: alpha, beta: beta)
        storeRowLanes(s4, row: 0, column: 32, from: from, to: to, c: c, ldc: ldc, alpha: alpha, beta: beta)
        storeRowLanes(s5, row: 0, column: 40, from: from, to: to, c: c, ldc: ldc, alpha: alpha, beta: beta)
        storeRowLanes(s6, row: 0, column: 48, from: from, to: to, c: c, ldc: ldc, alpha: alpha, beta: beta)
        storeRowLanes(s7, row: 0, column: 56, from: from, to: to, c: c, ldc: ldc, alpha: alpha, beta: beta)
        storeRowLanes(s8, row: 0, column: 64, from: from, to: to, c: c, ldc: ldc, alpha: alpha, beta: beta)
        storeRowLanes(s9, row: 0, column: 72, from: from, to: to, c: c, ldc: ldc, alpha: alpha, beta: beta)
        storeRowLanes(s10, row: 0, column: 80, from: from, to: to, c: c, ldc: ldc, alpha: alpha, beta: beta)
        storeRowLanes(s11, row: 0, column: 88, from: from, to: to, c: c, ldc: ldc, alpha: alpha, beta: beta)
    }
}
