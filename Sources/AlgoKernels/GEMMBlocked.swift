// The blocked SGEMM loop nest (Goto/BLIS order) over one block of C, on the calling thread.

extension GEMM {
    /// The operands of one `sgemm` call; `run` computes any block of C from them.
    struct Problem {
        let transA: Bool, transB: Bool, k: Int, alpha: Float
        let a: UnsafePointer<Float>, lda: Int
        let b: UnsafePointer<Float>, ldb: Int
        let beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
        let blocking: Blocking

        /// Computes `C[rows, cols]` completely: for each nc-wide slab of columns and each
        /// kc-deep slice of k (in order, so every element is summed the same way whatever
        /// block it is in), pack B, then for each mc-high slab of rows pack A and run the
        /// micro-kernel over the 16×6 tiles. The first k-slice applies `beta`, later ones add.
        func run(rows: Range<Int>, cols: Range<Int>) {
            if rows.isEmpty || cols.isEmpty { return }
            let kc = min(blocking.kc, k)
            let mc = min(blocking.mc, (rows.count + mr - 1) / mr * mr)
            let nc = min(blocking.nc, (cols.count + nr - 1) / nr * nr)
            let aPack = UnsafeMutablePointer<Float>.allocate(capacity: mc * kc)
            let bPack = UnsafeMutablePointer<Float>.allocate(capacity: nc * kc)
            defer { aPack.deallocate(); bPack.deallocate() }
            var jc = cols.lowerBound
            while jc < cols.upperBound {
                let ncNow = min(nc, cols.upperBound - jc)
                var pc = 0
                while pc < k {
                    let kcNow = min(kc, k - pc)
                    packB(trans: transB, b: b, ldb: ldb, p0: pc, depth: kcNow, j0: jc, cols: ncNow, dst: bPack)
                    let betaNow: Float = pc == 0 ? beta : 1
                    var ic = rows.lowerBound
                    while ic < rows.upperBound {
                        let mcNow = min(mc, rows.upperBound - ic)
                        packA(trans: transA, a: a, lda: lda, i0: ic, rows: mcNow, p0: pc, depth: kcNow, dst: aPack)
                        macroKernel(mcNow, ncNow, kcNow, aPack, bPack, c + ic + jc * ldc, betaNow)
                        ic += mcNow
                    }
                    pc += kcNow
                }
                jc += ncNow
            }
        }

        /// All tiles of one packed A block × one packed B block; B's 6-column panel stays in L1
        /// while A's panels stream from L2.
        @inline(__always)
        func macroKernel(_ mcNow: Int, _ ncNow: Int, _ kcNow: Int, _ aPack: UnsafePointer<Float>,
                         _ bPack: UnsafePointer<Float>, _ cBlock: UnsafeMutablePointer<Float>, _ betaNow: Float) {
            var jr = 0
            while jr < ncNow {
                let cols = min(nr, ncNow - jr)
                let bp = bPack + jr * kcNow
                var ir = 0
                while ir < mcNow {
                    kernel16x6(kc: kcNow, ap: aPack + ir * kcNow, bp: bp, c: cBlock + ir + jr * ldc, ldc: ldc,
                               rows: min(mr, mcNow - ir), cols: cols, alpha: alpha, beta: betaNow)
                    ir += mr
                }
                jr += nr
            }
        }
    }
}
