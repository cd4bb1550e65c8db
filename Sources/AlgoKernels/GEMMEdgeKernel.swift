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

    /// `C[0..<4, 0..<cols] ← alpha · A·B + beta · C` over `depth` k-steps: row r of A at
    /// `a + r·aStride` (zero-padded to a multiple of 8 k-steps), column q of op(B) at `b + q·ldb`
    /// (contiguous along k, `depth` of them readable), `cols ≤ 3`. Loop: 4 + 3 loads, 12 `vfmadd231ps`
    /// per 8 k-steps. Never inlined, so that the codegen test finds it.
    @inline(never)
    static func edgeDot4x3(depth: Int, a: UnsafePointer<Float>, aStride: Int, b: UnsafePointer<Float>, ldb: Int,
                           cols: Int, c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float, beta: Float) {
        edgeDotLoop(4, 3, depth: depth, a: a, aStride: aStride, b: b, ldb: ldb, cols: cols, c: c, ldc: ldc, alpha: alpha, beta: beta)
    }

    /// `edgeDot4x3` for 2 rows and `cols ≤ 6`.
    @inline(never)
    static func edgeDot2x6(depth: Int, a: UnsafePointer<Float>, aStride: Int, b: UnsafePointer<Float>, ldb: Int,
                           cols: Int, c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float, beta: Float) {
        edgeDotLoop(2, 6, depth: depth, a: a, aStride: aStride, b: b, ldb: ldb, cols: cols, c: c, ldc: ldc, alpha: alpha, beta: beta)
    }

    /// `edgeDot4x3` for 1 row and `cols ≤ 8` (8 chains of FMAs cover their latency; 12 column
    /// pointers would not fit the general registers).
    @inline(never)
    static func edgeDot1x8(depth: Int, a: UnsafePointer<Float>, aStride: Int, b: UnsafePointer<Float>, ldb: Int,
                            cols: Int, c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float, beta: Float) {
        edgeDotLoop(1, 8, depth: depth, a: a, aStride: aStride, b: b, ldb: ldb, cols: cols, c: c, ldc: ldc, alpha: alpha, beta: beta)
    }

    /// The body of the dot kernels: `R` rows × `C ≤ 8` columns, `R·C ≤ 12` accumulators (constants
    /// once inlined). Accumulator `q` is row `q / C`, column `q % C`; a column past `cols` reads
    /// column `cols − 1` and is not stored. The last `depth mod 8` k-steps are one more vector step
    /// whose lanes past `depth` are 0 in A (packed) and in B (copied): they add +0, which leaves
    /// every chain unchanged (a chain starts at +0 and so is never −0).
    @inline(__always)
    static func edgeDotLoop(_ R: Int, _ C: Int, depth: Int, a: UnsafePointer<Float>, aStride: Int,
                            b: UnsafePointer<Float>, ldb: Int, cols: Int,
                            c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float, beta: Float) {
        typealias V = SIMD8<Float>
        @inline(__always) func load(_ p: UnsafePointer<Float>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }
        @inline(__always) func column(_ q: Int) -> UnsafePointer<Float> { b + min(q, cols - 1) * ldb }
        let a0 = a, a1 = a + min(1, R - 1) * aStride, a2 = a + min(2, R - 1) * aStride, a3 = a + min(3, R - 1) * aStride
        let b0 = column(0), b1 = column(1), b2 = column(2), b3 = column(3), b4 = column(4), b5 = column(5)
        let b6 = column(6), b7 = column(7)
        var acc = EdgeAccumulators()
        /// One vector step at k-offset `off`, B's 8 k-steps of column q from `y(q)`.
        @inline(__always) func step(_ off: Int, _ y: (Int) -> V) {
            if R > C {   // the 4×3 tile
                acc.rows4x3(y(0), y(1), y(2)) { r in load([a0, a1, a2, a3][r] + off) }
                return
            }
            let x0 = load(a0 + off), x1 = R > 1 ? load(a1 + off) : x0
            let x2 = R > 2 ? load(a2 + off) : x0, x3 = R > 3 ? load(a3 + off) : x0
            acc.column(R, C, 0, y(0), x0, x1, x2, x3)
            if C > 1 { acc.column(R, C, 1, y(1), x0, x1, x2, x3) }
            if C > 2 { acc.column(R, C, 2, y(2), x0, x1, x2, x3) }
            if C > 3 { acc.column(R, C, 3, y(3), x0, x1, x2, x3) }
            if C > 4 { acc.column(R, C, 4, y(4), x0, x1, x2, x3) }
            if C > 5 { acc.column(R, C, 5, y(5), x0, x1, x2, x3) }
            if C > 6 { acc.column(R, C, 6, y(6), x0, x1, x2, x3) }
            if C > 7 { acc.column(R, C, 7, y(7), x0, x1, x2, x3) }
        }
        let full = depth / 8
        var off = 0
        for _ in 0..<full {
            step(off) { q in load((q == 0 ? b0 : q == 1 ? b1 : q == 2 ? b2 : q == 3 ? b3 : q == 4 ? b4 : q == 5 ? b5 : q == 6 ? b6 : b7) + off) }
            off += 8
        }
        let rest = depth - full * 8
        if rest > 0 {
            step(off) { q in
                var t = V()
                let p = (q == 0 ? b0 : q == 1 ? b1 : q == 2 ? b2 : q == 3 ? b3 : q == 4 ? b4 : q == 5 ? b5 : q == 6 ? b6 : b7) + off
                for l in 0..<rest { t[l] = p[l] }
                return t
            }
        }
        // Constant indices only (a loop over q would keep the accumulators in memory).
        @inline(__always) func put(_ q: Int, _ s: V) {
            if q < R * C && q % C < cols { storeEntry(chainSum(s), c + q / C + (q % C) * ldc, alpha, beta) }
        }
        put(0, acc.s0); put(1, acc.s1); put(2, acc.s2); put(3, acc.s3); put(4, acc.s4); put(5, acc.s5)
        put(6, acc.s6); put(7, acc.s7); put(8, acc.s8); put(9, acc.s9); put(10, acc.s10); put(11, acc.s11)
    }

    // MARK: Row kernels (op(B) rows contiguous along n)

    /// `C[0..<rows, from..<to] ← alpha · A·B + beta · C` over `depth` k-steps, computing columns
    /// 0..<24 of the window (3 vectors of 8): row r of A at `a + r·aStride` (rows past `rows` read
    /// row 0 and are not stored), op(B)[p, j] at `b[p·ldb + j]` for j < 24 (all readable); `c` is
    /// the window's C[0, 0]. Loop: 3 loads, 4 broadcasts, 12 `vfmadd231ps` per k-step.
    @inline(never)
    static func edgeRow4x3(depth: Int, a: UnsafePointer<Float>, aStride: Int, rows: Int, b: UnsafePointer<Float>, ldb: Int,
                           from: Int, to: Int, c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float, beta: Float) {
        edgeRowLoop(4, 3, depth: depth, a: a, aStride: aStride, rows: rows, b: b, ldb: ldb, from: from, to: to, c: c, ldc: ldc, alpha: alpha, beta: beta)
    }

    /// `edgeRow4x3` for 2 rows × 48 columns (6 vectors).
    @inline(never)
    static func edgeRow2x6(depth: Int, a: UnsafePointer<Float>, aStride: Int, rows: Int, b: UnsafePointer<Float>, ldb: Int,
                           from: Int, to: Int, c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float, beta: Float) {
        edgeRowLoop(2, 6, depth: depth, a: a, aStride: aStride, rows: rows, b: b, ldb: ldb, from: from, to: to, c: c, ldc: ldc, alpha: alpha, beta: beta)
    }

    /// `edgeRow4x3` for 1 row × 96 columns (12 vectors).
    @inline(never)
    static func edgeRow1x12(depth: Int, a: UnsafePointer<Float>, aStride: Int, rows: Int, b: UnsafePointer<Float>, ldb: Int,
                            from: Int, to: Int, c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float, beta: Float) {
        edgeRowLoop(1, 12, depth: depth, a: a, aStride: aStride, rows: rows, b: b, ldb: ldb, from: from, to: to, c: c, ldc: ldc, alpha: alpha, beta: beta)
    }

    /// The body of the row kernels: `R` rows × `W` vectors of 8 columns, `R·W = 12` accumulators;
    /// accumulator `q` is row `q / W`, columns `8·(q % W)…`. Each entry is one chain over k in order.
    @inline(__always)
    static func edgeRowLoop(_ R: Int, _ W: Int, depth: Int, a: UnsafePointer<Float>, aStride: Int, rows: Int,
                            b: UnsafePointer<Float>, ldb: Int, from: Int, to: Int,
                            c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float, beta: Float) {
        typealias V = SIMD8<Float>
        @inline(__always) func row(_ r: Int) -> UnsafePointer<Float> { a + (r < rows ? r : 0) * aStride }
        let a0 = row(0), a1 = row(1), a2 = row(2), a3 = row(3)
        var acc = EdgeAccumulators()
        var pb = UnsafeRawPointer(b)
        let rowBytes = ldb * 4
        for p in 0..<depth {
            @inline(__always) func y(_ v: Int) -> V { pb.loadUnaligned(fromByteOffset: 32 * v, as: V.self) }
            if R > W {   // the 4×3 tile
                acc.rows4x3(y(0), y(1), y(2)) { r in V(repeating: [a0, a1, a2, a3][r][p]) }
                pb += rowBytes
                continue
            }
            let x0 = V(repeating: a0[p]), x1 = R > 1 ? V(repeating: a1[p]) : x0
            let x2 = R > 2 ? V(repeating: a2[p]) : x0, x3 = R > 3 ? V(repeating: a3[p]) : x0
            acc.column(R, W, 0, y(0), x0, x1, x2, x3)
            if W > 1 { acc.column(R, W, 1, y(1), x0, x1, x2, x3) }
            if W > 2 { acc.column(R, W, 2, y(2), x0, x1, x2, x3) }
            if W > 3 { acc.column(R, W, 3, y(3), x0, x1, x2, x3) }
            if W > 4 { acc.column(R, W, 4, y(4), x0, x1, x2, x3) }
            if W > 5 { acc.column(R, W, 5, y(5), x0, x1, x2, x3) }
            if W > 6 { acc.column(R, W, 6, y(6), x0, x1, x2, x3) }
            if W > 7 { acc.column(R, W, 7, y(7), x0, x1, x2, x3) }
            if W > 8 { acc.column(R, W, 8, y(8), x0, x1, x2, x3) }
            if W > 9 { acc.column(R, W, 9, y(9), x0, x1, x2, x3) }
            if W > 10 { acc.column(R, W, 10, y(10), x0, x1, x2, x3) }
            if W > 11 { acc.column(R, W, 11, y(11), x0, x1, x2, x3) }
            pb += rowBytes
        }
        // Constant indices only (a loop over q would keep the accumulators in memory).
        @inline(__always) func put(_ q: Int, _ v: V) {
            let r = q / W, j0 = 8 * (q % W)
            let lo = max(0, from - j0), hi = min(8, to - j0)
            guard q < R * W && r < rows && lo < hi else { return }
            for l in lo..<hi {
                storeEntry(v[l], c + r + (j0 + l) * ldc, alpha, beta)
            }
        }
        put(0, acc.s0); put(1, acc.s1); put(2, acc.s2); put(3, acc.s3); put(4, acc.s4); put(5, acc.s5)
        put(6, acc.s6); put(7, acc.s7); put(8, acc.s8); put(9, acc.s9); put(10, acc.s10); put(11, acc.s11)
    }
}

/// The accumulators of an edge kernel with `R` rows × `C` columns (or vectors of columns),
/// `R·C ≤ 12`: accumulator `q` takes row `q / C` times column `q % C`.
struct EdgeAccumulators {
    typealias V = SIMD8<Float>
    var s0 = V(), s1 = V(), s2 = V(), s3 = V(), s4 = V(), s5 = V()
    var s6 = V(), s7 = V(), s8 = V(), s9 = V(), s10 = V(), s11 = V()

    /// `s_q += x · y` (`q` a constant once inlined).
    @inline(__always)
    mutating func add(_ q: Int, _ x: V, _ y: V) {
        switch q {
        case 0: s0 = s0.addingProduct(x, y)
        case 1: s1 = s1.addingProduct(x, y)
        case 2: s2 = s2.addingProduct(x, y)
        case 3: s3 = s3.addingProduct(x, y)
        case 4: s4 = s4.addingProduct(x, y)
        case 5: s5 = s5.addingProduct(x, y)
        case 6: s6 = s6.addingProduct(x, y)
        case 7: s7 = s7.addingProduct(x, y)
        case 8: s8 = s8.addingProduct(x, y)
        case 9: s9 = s9.addingProduct(x, y)
        case 10: s10 = s10.addingProduct(x, y)
        default: s11 = s11.addingProduct(x, y)
        }
    }

    /// One step of the 4×3 tile: the three columns' vectors stay in registers while each row's is
    /// loaded once (`x(r)`), 12 accumulators + 3 + 1 registers.
    @inline(__always)
    mutating func rows4x3(_ y0: V, _ y1: V, _ y2: V, _ x: (Int) -> V) {
        var r = x(0)
        s0 = s0.addingProduct(r, y0); s1 = s1.addingProduct(r, y1); s2 = s2.addingProduct(r, y2)
        r = x(1)
        s3 = s3.addingProduct(r, y0); s4 = s4.addingProduct(r, y1); s5 = s5.addingProduct(r, y2)
        r = x(2)
        s6 = s6.addingProduct(r, y0); s7 = s7.addingProduct(r, y1); s8 = s8.addingProduct(r, y2)
        r = x(3)
        s9 = s9.addingProduct(r, y0); s10 = s10.addingProduct(r, y1); s11 = s11.addingProduct(r, y2)
    }

    /// Column (or vector) `j` of one step: `s_{r·C + j} += x_r · y` for every row r < R.
    @inline(__always)
    mutating func column(_ R: Int, _ C: Int, _ j: Int, _ y: V, _ x0: V, _ x1: V, _ x2: V, _ x3: V) {
        add(j, x0, y)
        if R > 1 { add(C + j, x1, y) }
        if R > 2 { add(2 * C + j, x2, y) }
        if R > 3 { add(3 * C + j, x3, y) }
    }
}
