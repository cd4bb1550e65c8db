// The blocked SGEMM loop nest (Goto/BLIS order) over one block of C, on the calling thread.
#if arch(x86_64)
import AlgoKernelsAVX512
#endif

extension GEMM {
    /// The operands of one `sgemm` call; `run` computes any block of C from them.
    struct Problem {
        let transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float
        let a: UnsafePointer<Float>, lda: Int
        let b: UnsafePointer<Float>, ldb: Int
        let beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
        let blocking: Blocking
        /// The micro-kernels' vector unit, fixed for the whole call.
        var unit: VectorUnit = GEMM.unit
        /// op(A) packed whole by `runParallel` (k-slice at `pc · mPad`, 16-row panel at `i · kcNow`
        /// within it), or nil: `run` packs its own blocks of A.
        var sharedA: UnsafePointer<Float>? = nil
        /// op(B) packed whole (k-slice at `pc · nPad`, 6-column panel at `j · kcNow`), or nil.
        var sharedB: UnsafePointer<Float>? = nil
        var mPad = 0, nPad = 0
        /// The part of C computed (`Triangle`); `.none` for a whole product.
        var triangle: Triangle = .none
        /// A column (m floats) each block of C starts as, filled by `run` just before the block's
        /// first k-slice (`GEMMBias.swift`); nil: C as the caller left it. Only with β = 1, no triangle.
        var bias: UnsafePointer<Float>? = nil
        /// The first row of the edge: rows `edgeFrom..<m`, past the last full 16-row panel, are
        /// computed by the edge kernels (GEMMEdge.swift), the others by the 16-row micro-kernels.
        var edgeFrom: Int { m / mr * mr }

        /// Computes `C[rows, cols]` completely: for each nc-wide slab of columns and each
        /// kc-deep slice of k (in order, so every element is summed the same way whatever
        /// block it is in), pack B, then for each mc-high slab of rows pack A and run the
        /// micro-kernel over the 16×6 tiles; then the edge rows (`edgeFrom..<m`) of the slab.
        /// The first k-slice applies `beta`, later ones add.
        func run(rows: Range<Int>, cols: Range<Int>) {
            if rows.isEmpty || cols.isEmpty { return }
            let main = rows.lowerBound..<max(rows.lowerBound, min(rows.upperBound, edgeFrom))
            let edgeRows = main.upperBound..<rows.upperBound
            let kc = min(blocking.kc, k)
            // Rows that fit the L2 as one block: each B panel is then used by all of them at once.
            let whole = main.count <= blocking.wholeRows
            let mc = whole ? main.count : min(blocking.mc, main.count)
            let nc = min(blocking.nc, (cols.count + nr - 1) / nr * nr)
            // Few rows: each element of B would be used too few times to repay packing it, so the
            // micro-kernel reads full 6-column panels of B where they are (six columns, each
            // contiguous along k; or, B transposed, six contiguous floats per k-step, a row apart);
            // only a ragged last panel is packed. A transposed B only up to 64 rows (4 panels):
            // measured on Zen 4 (2026-12-07), 64×256·256×256 dA = dC·Bᵀ 83 → 90 % of the peak on one
            // thread and 65×384·384×256's 82 → 86 %; on Zen 3 packing had measured faster with more rows.
            // A non-transposed B also for a whole block (`wholeRows`): B is read once per k-slice
            // either way, and copying it was 7 % of 384×1536·1536×2048 on one thread (Zen 4).
            let inPlace = sharedB == nil
                && (whole && !transB || main.count <= min(transB ? 64 : blocking.inPlaceRows, mc))
            let aSize = sharedA == nil ? (mc * kc + 15) / 16 * 16 : 0
            let bSize = main.isEmpty || sharedB != nil ? 0 : (inPlace ? nr : nc) * kc
            // The edge rows of op(A), packed row by row per k-slice (GEMMEdge.swift).
            let edgeStride = (kc + 7) / 8 * 8
            let aPack = Scratch.floats(aSize + bSize + edgeRows.count * edgeStride)
            let bPack = aPack + aSize, edgePack = bPack + bSize
            // The 512-bit kernels take two 6-column B panels at once (a 32×12 tile); the pair must
            // be of one kind (both packed, or both in place) and, for a triangle, cannot be (its
            // skipping is per 6-column tile).
            let pairs = unit == .bits512 && triangle == .none
            var jc = cols.lowerBound
            while jc < cols.upperBound {
                let ncNow = min(nc, cols.upperBound - jc)
                if let bias { GEMM.fill(c, ldc: ldc, rows: rows, cols: jc..<(jc + ncNow), bias: bias) }
                let fullCols = inPlace ? ncNow / nr * nr : ncNow
                // A triangle narrows the k-slices (always at the same multiples of kc, so every
                // element is summed as in the whole product) and the rows this slab needs.
                let (kFrom, kTo) = triangle.depths(columns: jc..<(jc + ncNow), k: k)
                let rowEnd = triangle.rowEnd(columns: jc..<(jc + ncNow), rows: rows)
                let firstSlice = kFrom / kc * kc
                var pc = firstSlice
                while pc < kTo {
                    let kcNow = min(kc, k - pc)
                    if sharedB != nil || main.isEmpty {
                        // Packed already.
                    } else if fullCols < ncNow {
                        packB(trans: transB, b: b, ldb: ldb, p0: pc, depth: kcNow, j0: jc + fullCols,
                              cols: ncNow - fullCols, dst: bPack)
                    } else if !inPlace {
                        packB(trans: transB, b: b, ldb: ldb, p0: pc, depth: kcNow, j0: jc, cols: ncNow, dst: bPack)
                    }
                    var ic = main.lowerBound
                    while ic < min(rowEnd, main.upperBound) {
                        let mcNow = min(mc, min(rowEnd, main.upperBound) - ic)
                        let aBlock: UnsafePointer<Float>
                        if let sharedA {
                            aBlock = sharedA + pc * mPad + ic * kcNow
                        } else {
                            packA(trans: transA, a: a, lda: lda, i0: ic, rows: mcNow, p0: pc, depth: kcNow, dst: aPack)
                            aBlock = UnsafePointer(aPack)
                        }
                        var jr = 0
                        while jr < ncNow {
                            // The B panel: shared, in place (op(B)[p, j] at b[p + j·ldb]) or packed by
                            // this thread; `bNext`: where the next panel starts, for a pair.
                            let bp: UnsafePointer<Float>, bRow: Int, bCol: Int, bNext: Int
                            if let sharedB {
                                bp = sharedB + pc * nPad + (jc + jr) * kcNow
                                (bRow, bCol, bNext) = (nr, 1, nr * kcNow)
                            } else if inPlace && jr < fullCols {
                                // op(B)[p, j] at b[p + j·ldb], or b[j + p·ldb] when transposed.
                                let (row, col) = transB ? (ldb, 1) : (1, ldb)
                                bp = b + pc * row + (jc + jr) * col
                                (bRow, bCol, bNext) = (row, col, jr + nr < fullCols ? nr * col : 0)
                            } else {
                                bp = UnsafePointer(bPack + (inPlace ? 0 : jr * kcNow))
                                (bRow, bCol, bNext) = (nr, 1, inPlace ? 0 : nr * kcNow)
                            }
                            let width = pairs && bNext != 0 && jr + nr < ncNow ? 2 * nr : nr
                            let colsNow = min(width, ncNow - jr)
                            // This tile's k-steps within the slice, its first slice (where beta
                            // applies) and its rows (all of them but for `.upperC`).
                            let t = triangle.tile(columns: (jc + jr)..<(jc + jr + colsNow), slice: pc, depth: kcNow, k: k, rows: rows)
                            if t.depth > 0 {
                                let cTile = c + ic + (jc + jr) * ldc, betaNow = t.first ? beta : 1
                                if pairs {
                                    panelColumn512(min(mcNow, t.rowEnd - ic), colsNow, kcNow, t.depth, aBlock + t.skip * mr,
                                                   bp + t.skip * bRow, width > nr ? bNext : 0, bRow, bCol, cTile, betaNow)
                                } else {
                                    panelColumn(min(mcNow, t.rowEnd - ic), colsNow, kcNow, t.depth, aBlock + t.skip * mr,
                                                bp + t.skip * bRow, bRow, bCol, cTile, betaNow)
                                }
                            }
                            jr += width
                        }
                        ic += mcNow
                    }
                    if rowEnd > edgeRows.lowerBound {
                        // The edge rows, for the slab's columns whose tiles need them (all but for
                        // `.upperC`, whose needs grow with the column), over the whole k-slice: as
                        // the whole product computes them (the steps a triangle skips multiply
                        // op(B)'s zeros), so a triangle's entries stay bit-identical to it.
                        var from = jc
                        while from < jc + ncNow
                                && triangle.rowEnd(columns: from..<min(from + nr, jc + ncNow), rows: rows) <= edgeRows.lowerBound {
                            from += nr
                        }
                        if from < jc + ncNow {
                            packEdgeA(trans: transA, a: a, lda: lda, i0: edgeRows.lowerBound, rows: edgeRows.count, p0: pc,
                                      depth: kcNow, stride: edgeStride, dst: edgePack)
                            edge(rows: edgeRows, cols: from..<(jc + ncNow), p0: pc, depth: kcNow, aEdge: edgePack,
                                 stride: edgeStride, betaNow: pc == firstSlice ? beta : 1)
                        }
                    }
                    pc += kcNow
                }
                jc += ncNow
            }
        }

        /// One column of tiles: every 16-row panel of the packed A block times one 6-column B
        /// panel, which stays in L1 while A's panels stream from L2. `mcNow` is a multiple of 16
        /// (the rows past the last full panel are the edge's).
        /// `depth` (≤ `kcNow`) k-steps from `aPack` and `bp`, which point at the tile's first k-step
        /// (`kcNow` is the slice's depth, the stride between packed A panels).
        @inline(__always)
        func panelColumn(_ mcNow: Int, _ cols: Int, _ kcNow: Int, _ depth: Int, _ aPack: UnsafePointer<Float>,
                         _ bp: UnsafePointer<Float>, _ bRow: Int, _ bCol: Int,
                         _ cPanel: UnsafeMutablePointer<Float>, _ betaNow: Float) {
            var ir = 0
            while ir < mcNow {
                let rows = min(mr, mcNow - ir), ap = aPack + ir * kcNow, c = cPanel + ir
                if bRow == nr && bCol == 1 {
                    kernel16x6Packed(kc: depth, ap: ap, bp: bp, c: c, ldc: ldc, rows: rows, cols: cols, alpha: alpha, beta: betaNow)
                } else {
                    kernel16x6(kc: depth, ap: ap, bp: bp, bRow: bRow, bCol: bCol, c: c, ldc: ldc,
                               rows: rows, cols: cols, alpha: alpha, beta: betaNow)
                }
                ir += mr
            }
        }

        /// `panelColumn` on the 512-bit kernels: pairs of 16-row A panels (a 32-row tile) times one
        /// or two 6-column B panels (`bNext` 0: one; `cols ≤ 12`), and the last odd panel alone. Every
        /// entry is computed by the same arithmetic as on the 256-bit path (and the edge rows by the
        /// same edge kernels), so the two paths give bit-identical results.
        @inline(__always)
        func panelColumn512(_ mcNow: Int, _ cols: Int, _ kcNow: Int, _ depth: Int, _ aPack: UnsafePointer<Float>,
                            _ bp: UnsafePointer<Float>, _ bNext: Int, _ bRow: Int, _ bCol: Int,
                            _ cPanel: UnsafeMutablePointer<Float>, _ betaNow: Float) {
            #if arch(x86_64)
            if bNext == 0 {
                // A lone 6-column panel (the last of an odd count, N mod 12 ≤ 6): the 12-column tile
                // would compute its columns twice; the 16×6 tile computes them once, with the same bits.
                panelColumn(mcNow, cols, kcNow, depth, aPack, bp, bRow, bCol, cPanel, betaNow)
                return
            }
            let packed = bRow == nr && bCol == 1
            var ir = 0
            while ir < mcNow {
                let left = mcNow - ir, ap = aPack + ir * kcNow, c = cPanel + ir
                let rows = min(2 * mr, left)
                switch (rows > mr, packed) {
                case (true, true):
                    GEMMKernel512.kernel32x12Packed(kc: depth, ap: ap, aNext: mr * kcNow, bp: bp, bNext: bNext, c: c, ldc: ldc,
                                                    rows: rows, cols: cols, alpha: alpha, beta: betaNow)
                case (true, false):
                    GEMMKernel512.kernel32x12(kc: depth, ap: ap, aNext: mr * kcNow, bp: bp, bNext: bNext, bRow: bRow, bCol: bCol,
                                              c: c, ldc: ldc, rows: rows, cols: cols, alpha: alpha, beta: betaNow)
                case (false, true):
                    GEMMKernel512.kernel16x12Packed(kc: depth, ap: ap, bp: bp, bNext: bNext, c: c, ldc: ldc,
                                                    rows: rows, cols: cols, alpha: alpha, beta: betaNow)
                case (false, false):
                    GEMMKernel512.kernel16x12(kc: depth, ap: ap, bp: bp, bNext: bNext, bRow: bRow, bCol: bCol,
                                              c: c, ldc: ldc, rows: rows, cols: cols, alpha: alpha, beta: betaNow)
                }
                ir += rows > mr ? 2 * mr : mr
            }
            #else
            panelColumn(mcNow, cols, kcNow, depth, aPack, bp, bRow, bCol, cPanel, betaNow)
            #endif
        }
    }
}
