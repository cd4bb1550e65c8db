// The blocked SGEMM loop nest (Goto/BLIS order) over one block of C, on the calling thread.
#if arch(x86_64)
import AlgoKernelsAVX512
#endif

extension GEMM {
    /// The operands of one `sgemm` call; `run` computes any block of C from them.
    struct Problem {
        let transA: Bool, transB: Bool, k: Int, alpha: Float
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

        /// Computes `C[rows, cols]` completely: for each nc-wide slab of columns and each
        /// kc-deep slice of k (in order, so every element is summed the same way whatever
        /// block it is in), pack B, then for each mc-high slab of rows pack A and run the
        /// micro-kernel over the 16×6 tiles. The first k-slice applies `beta`, later ones add.
        func run(rows: Range<Int>, cols: Range<Int>) {
            if rows.isEmpty || cols.isEmpty { return }
            let kc = min(blocking.kc, k)
            let mc = min(blocking.mc, (rows.count + mr - 1) / mr * mr)
            let nc = min(blocking.nc, (cols.count + nr - 1) / nr * nr)
            // Few rows: each element of B would be used too few times to repay packing it, so the
            // micro-kernel reads full 6-column panels of B where they are (six columns, each
            // contiguous along k); only a ragged last panel is packed. Not for a transposed B,
            // whose k-steps lie a row apart: there packing measured faster.
            let inPlace = sharedB == nil && !transB && rows.count <= min(blocking.inPlaceRows, mc)
            let aSize = sharedA == nil ? (mc * kc + 15) / 16 * 16 : 0
            let aPack = Scratch.floats(aSize + (sharedB != nil ? 0 : inPlace ? nr : nc) * kc)
            let bPack = aPack + aSize
            // The 512-bit kernels take two 6-column B panels at once (a 32×12 tile); the pair must
            // be of one kind (both packed, or both in place) and, for a triangle, cannot be (its
            // skipping is per 6-column tile).
            let pairs = unit == .bits512 && triangle == .none
            var jc = cols.lowerBound
            while jc < cols.upperBound {
                let ncNow = min(nc, cols.upperBound - jc)
                let fullCols = inPlace ? ncNow / nr * nr : ncNow
                // A triangle narrows the k-slices (always at the same multiples of kc, so every
                // element is summed as in the whole product) and the rows this slab needs.
                let (kFrom, kTo) = triangle.depths(columns: jc..<(jc + ncNow), k: k)
                let rowEnd = triangle.rowEnd(columns: jc..<(jc + ncNow), rows: rows)
                var pc = kFrom / kc * kc
                while pc < kTo {
                    let kcNow = min(kc, k - pc)
                    if sharedB != nil {
                        // Packed already.
                    } else if fullCols < ncNow {
                        packB(trans: transB, b: b, ldb: ldb, p0: pc, depth: kcNow, j0: jc + fullCols,
                              cols: ncNow - fullCols, dst: bPack)
                    } else if !inPlace {
                        packB(trans: transB, b: b, ldb: ldb, p0: pc, depth: kcNow, j0: jc, cols: ncNow, dst: bPack)
                    }
                    var ic = rows.lowerBound
                    while ic < rowEnd {
                        let mcNow = min(mc, rowEnd - ic)
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
                                bp = b + pc + (jc + jr) * ldb
                                (bRow, bCol, bNext) = (1, ldb, jr + nr < fullCols ? nr * ldb : 0)
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
                    pc += kcNow
                }
                jc += ncNow
            }
        }

        /// One column of tiles: every 16-row panel of the packed A block times one 6-column B
        /// panel, which stays in L1 while A's panels stream from L2.
        /// `depth` (≤ `kcNow`) k-steps from `aPack` and `bp`, which point at the tile's first k-step
        /// (`kcNow` is the slice's depth, the stride between packed A panels).
        @inline(__always)
        func panelColumn(_ mcNow: Int, _ cols: Int, _ kcNow: Int, _ depth: Int, _ aPack: UnsafePointer<Float>,
                         _ bp: UnsafePointer<Float>, _ bRow: Int, _ bCol: Int,
                         _ cPanel: UnsafeMutablePointer<Float>, _ betaNow: Float) {
            var ir = 0
            while ir < mcNow {
                let rows = min(mr, mcNow - ir), ap = aPack + ir * kcNow, c = cPanel + ir
                switch (rows > 8, bRow == nr && bCol == 1) {
                case (true, true):
                    kernel16x6Packed(kc: depth, ap: ap, bp: bp, c: c, ldc: ldc, rows: rows, cols: cols, alpha: alpha, beta: betaNow)
                case (true, false):
                    kernel16x6(kc: depth, ap: ap, bp: bp, bRow: bRow, bCol: bCol, c: c, ldc: ldc,
                               rows: rows, cols: cols, alpha: alpha, beta: betaNow)
                case (false, true):
                    kernel8x6Packed(kc: depth, ap: ap, bp: bp, c: c, ldc: ldc, rows: rows, cols: cols, alpha: alpha, beta: betaNow)
                case (false, false):
                    kernel8x6(kc: depth, ap: ap, bp: bp, bRow: bRow, bCol: bCol, c: c, ldc: ldc,
                              rows: rows, cols: cols, alpha: alpha, beta: betaNow)
                }
                ir += mr
            }
        }

        /// `panelColumn` on the 512-bit kernels: pairs of 16-row A panels (a 32-row tile) times one
        /// or two 6-column B panels (`bNext` 0: one; `cols ≤ 12`), the last odd panel alone, and a
        /// last panel of at most 8 rows by the 256-bit `kernel8x6`. Every entry is computed by the same
        /// arithmetic as on the 256-bit path, so the two paths give bit-identical results.
        @inline(__always)
        func panelColumn512(_ mcNow: Int, _ cols: Int, _ kcNow: Int, _ depth: Int, _ aPack: UnsafePointer<Float>,
                            _ bp: UnsafePointer<Float>, _ bNext: Int, _ bRow: Int, _ bCol: Int,
                            _ cPanel: UnsafeMutablePointer<Float>, _ betaNow: Float) {
            #if arch(x86_64)
            let packed = bRow == nr && bCol == 1
            var ir = 0
            while ir < mcNow {
                // A pair when the second panel has more than 8 rows (one of at most 8 rows is
                // the ragged last panel, below).
                let left = mcNow - ir, ap = aPack + ir * kcNow, c = cPanel + ir
                let rows = left > mr + 8 ? min(2 * mr, left) : min(mr, left)
                if rows <= 8 {
                    // The ragged last panel: the 256-bit parity-split kernel, as on the 256-bit path
                    // (so both paths give the same bits), once per B panel.
                    panelColumn(rows, min(cols, nr), kcNow, depth, ap, bp, bRow, bCol, c, betaNow)
                    if cols > nr {
                        panelColumn(rows, cols - nr, kcNow, depth, ap, bp + bNext, bRow, bCol, c + nr * ldc, betaNow)
                    }
                    break
                }
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
