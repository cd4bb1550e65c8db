// Packing of op(A) and op(B) blocks into the panel layouts the micro-kernel reads contiguously.
// The transposes are handled here, so no whole matrix is ever transposed or copied.

extension GEMM {
    /// Packs the block op(A)[i0..<i0+rows, p0..<p0+depth] into `rows/16` (rounded up) panels of
    /// 16×depth: `dst[panel·16·depth + p·16 + r]` = op(A)[i0 + panel·16 + r, p0 + p], zero past `rows`.
    /// op(A)[i, p] is `a[i + p·lda]`, or `a[p + i·lda]` when `trans`.
    static func packA(
        trans: Bool, a: UnsafePointer<Float>, lda: Int, i0: Int, rows: Int, p0: Int, depth: Int,
        dst: UnsafeMutablePointer<Float>
    ) {
        var panel = 0
        while panel * mr < rows {
            let r0 = i0 + panel * mr
            let live = min(mr, rows - panel * mr)
            let out = dst + panel * mr * depth
            if trans {
                packATransposed(a + p0 + r0 * lda, lda: lda, live: live, depth: depth, out: out)
            } else {
                packAStraight(a + r0 + p0 * lda, lda: lda, live: live, depth: depth, out: out)
            }
            panel += 1
        }
    }

    /// One 16-row panel from columns of A (each k-step is 16 contiguous floats of the source).
    @inline(__always)
    static func packAStraight(_ src: UnsafePointer<Float>, lda: Int, live: Int, depth: Int, out: UnsafeMutablePointer<Float>) {
        if live == mr {
            for p in 0..<depth {
                let s = UnsafeRawPointer(src + p * lda)
                let o = UnsafeMutableRawPointer(out + p * mr)
                o.storeBytes(of: s.loadUnaligned(as: SIMD8<Float>.self), as: SIMD8<Float>.self)
                o.storeBytes(of: s.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self), toByteOffset: 32, as: SIMD8<Float>.self)
            }
        } else {
            for p in 0..<depth {
                let s = src + p * lda
                let o = out + p * mr
                for r in 0..<live { o[r] = s[r] }
                for r in live..<mr { o[r] = 0 }
            }
        }
    }

    /// One 16-row panel from rows of Aᵀ's storage (each source row is contiguous along k):
    /// 8×8 blocks are transposed in registers.
    @inline(__always)
    static func packATransposed(_ src: UnsafePointer<Float>, lda: Int, live: Int, depth: Int, out: UnsafeMutablePointer<Float>) {
        var p = 0
        if live == mr {
            while p + 8 <= depth {
                transpose8x8(src + p, lda, out + p * mr, mr)
                transpose8x8(src + p + 8 * lda, lda, out + p * mr + 8, mr)
                p += 8
            }
        }
        while p < depth {
            let o = out + p * mr
            for r in 0..<live { o[r] = src[p + r * lda] }
            for r in live..<mr { o[r] = 0 }
            p += 1
        }
    }

    /// Packs op(B)[p0..<p0+depth, j0..<j0+cols] into `cols/6` (rounded up) panels of depth×6:
    /// `dst[panel·6·depth + p·6 + c]` = op(B)[p0 + p, j0 + panel·6 + c], zero past `cols`.
    /// op(B)[p, j] is `b[p + j·ldb]`, or `b[j + p·ldb]` when `trans`.
    static func packB(
        trans: Bool, b: UnsafePointer<Float>, ldb: Int, p0: Int, depth: Int, j0: Int, cols: Int,
        dst: UnsafeMutablePointer<Float>
    ) {
        var panel = 0
        while panel * nr < cols {
            let c0 = j0 + panel * nr
            let live = min(nr, cols - panel * nr)
            let out = dst + panel * nr * depth
            if trans {
                let src = b + c0 + p0 * ldb
                for p in 0..<depth {
                    let s = src + p * ldb, o = out + p * nr
                    for c in 0..<live { o[c] = s[c] }
                    for c in live..<nr { o[c] = 0 }
                }
            } else if live == nr {
                let s0 = b + p0 + c0 * ldb
                let s1 = s0 + ldb, s2 = s1 + ldb, s3 = s2 + ldb, s4 = s3 + ldb, s5 = s4 + ldb
                for p in 0..<depth {
                    let o = out + p * nr
                    o[0] = s0[p]; o[1] = s1[p]; o[2] = s2[p]; o[3] = s3[p]; o[4] = s4[p]; o[5] = s5[p]
                }
            } else {
                let src = b + p0 + c0 * ldb
                for p in 0..<depth {
                    let o = out + p * nr
                    for c in 0..<live { o[c] = src[p + c * ldb] }
                    for c in live..<nr { o[c] = 0 }
                }
            }
            panel += 1
        }
    }

    /// `dst[c + r·ldd]` = `src[c + r·lds]` transposed: reads 8 rows of 8 contiguous floats at
    /// `src + r·lds` and writes them as 8 columns, `dst[r + c·ldd]` = `src[c + r·lds]`.
    @inline(__always)
    static func transpose8x8(_ src: UnsafePointer<Float>, _ lds: Int, _ dst: UnsafeMutablePointer<Float>, _ ldd: Int) {
        let s = UnsafeRawPointer(src)
        let stride = lds * 4
        let r0 = s.loadUnaligned(as: SIMD8<Float>.self)
        let r1 = s.loadUnaligned(fromByteOffset: stride, as: SIMD8<Float>.self)
        let r2 = s.loadUnaligned(fromByteOffset: 2 * stride, as: SIMD8<Float>.self)
        let r3 = s.loadUnaligned(fromByteOffset: 3 * stride, as: SIMD8<Float>.self)
        let r4 = s.loadUnaligned(fromByteOffset: 4 * stride, as: SIMD8<Float>.self)
        let r5 = s.loadUnaligned(fromByteOffset: 5 * stride, as: SIMD8<Float>.self)
        let r6 = s.loadUnaligned(fromByteOffset: 6 * stride, as: SIMD8<Float>.self)
        let r7 = s.loadUnaligned(fromByteOffset: 7 * stride, as: SIMD8<Float>.self)
        for c in 0..<8 {
            let col = SIMD8<Float>(r0[c], r1[c], r2[c], r3[c], r4[c], r5[c], r6[c], r7[c])
            UnsafeMutableRawPointer(dst + c * ldd).storeBytes(of: col, as: SIMD8<Float>.self)
        }
    }
}
