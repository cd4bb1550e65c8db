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
        if !trans {
            // Full panels in groups of 4, k-step by k-step: each column of A is read as a contiguous
            // run of 64 rows, where a panel at a time read 64 bytes per column, `lda` apart (with
            // lda = 1024 each of them in the same L1 set: 4 KB aliasing). Measured on Zen 4, packing
            // all of A in 384-deep slices (one thread, CPU time): 1024×1024 0.37 → 0.14 ms, 2304×768
            // in 144-row blocks 0.28 → 0.26 ms, 384×1536 and 1536×2048 (from memory) unchanged. All
            // panels of a block at once was 2.5 times slower on 384-row blocks: 24 output streams
            // 24 KB apart, the same L1 sets again.
            let full = rows / mr
            while panel < full {
                let group = min(4, full - panel)
                for p in 0..<depth {
                    let s = UnsafeRawPointer(a + i0 + panel * mr + (p0 + p) * lda)
                    let o = UnsafeMutableRawPointer(dst + panel * mr * depth + p * mr)
                    for q in 0..<group {
                        let from = q * mr * 4, to = q * mr * depth * 4
                        o.storeBytes(of: s.loadUnaligned(fromByteOffset: from, as: SIMD8<Float>.self), toByteOffset: to, as: SIMD8<Float>.self)
                        o.storeBytes(of: s.loadUnaligned(fromByteOffset: from + 32, as: SIMD8<Float>.self), toByteOffset: to + 32,
                                     as: SIMD8<Float>.self)
                    }
                }
                panel += group
            }
        }
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

    /// The last, partial panel (`live` < 16 rows) from columns of A, zero past `live` (the full
    /// panels are copied in groups by `packA`).
    @inline(__always)
    static func packAStraight(_ src: UnsafePointer<Float>, lda: Int, live: Int, depth: Int, out: UnsafeMutablePointer<Float>) {
        for p in 0..<depth {
            let s = src + p * lda
            let o = out + p * mr
            for r in 0..<live { o[r] = s[r] }
            for r in live..<mr { o[r] = 0 }
        }
    }

    /// One 16-row panel from rows of Aᵀ's storage (each source row is contiguous along k):
    /// 8×8 blocks are transposed in registers.
    @inline(__always)
    static func packATransposed(_ src: UnsafePointer<Float>, lda: Int, live: Int, depth: Int, out: UnsafeMutablePointer<Float>) {
        var p = 0
        if live == mr {
            // 16 k-steps at a time, so that each source cache line is used whole before moving on.
            while p + 16 <= depth {
                transpose8x8(src + p, lda, out + p * mr, mr)
                transpose8x8(src + p + 8, lda, out + (p + 8) * mr, mr)
                transpose8x8(src + p + 8 * lda, lda, out + p * mr + 8, mr)
                transpose8x8(src + p + 8 + 8 * lda, lda, out + (p + 8) * mr + 8, mr)
                p += 16
            }
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
    /// op(B)[p, j] is `b[p + j·ldb]`, or `b[j + p·ldb]` when `trans`. Writes only the packed
    /// panels (so threads may pack disjoint panels of one buffer at once).
    static func packB(
        trans: Bool, b: UnsafePointer<Float>, ldb: Int, p0: Int, depth: Int, j0: Int, cols: Int,
        dst: UnsafeMutablePointer<Float>
    ) {
        var panel = 0
        while panel * nr < cols {
            let c0 = j0 + panel * nr
            let live = min(nr, cols - panel * nr)
            let out = dst + panel * nr * depth
            if trans && live == nr {
                // Each k-step's 6 values are contiguous: a 4-float and a 2-float copy.
                let src = UnsafeRawPointer(b + c0 + p0 * ldb)
                let o = UnsafeMutableRawPointer(out)
                for p in 0..<depth {
                    let s = src + p * ldb * 4
                    o.storeBytes(of: s.loadUnaligned(as: SIMD4<Float>.self), toByteOffset: p * 24, as: SIMD4<Float>.self)
                    o.storeBytes(of: s.loadUnaligned(fromByteOffset: 16, as: SIMD2<Float>.self), toByteOffset: p * 24 + 16, as: SIMD2<Float>.self)
                }
            } else if trans {
                let src = b + c0 + p0 * ldb
                for p in 0..<depth {
                    let s = src + p * ldb, o = out + p * nr
                    for c in 0..<live { o[c] = s[c] }
                    for c in live..<nr { o[c] = 0 }
                }
            } else if live == nr {
                // Six columns, contiguous along k: 8×8 transposes (two rows repeated) whose
                // 8-float outputs, stored 6 apart in order, overwrite each other's tails. Each
                // clobbers 2 floats past its 8 k-steps, so the panel's last k-steps are copied
                // one by one: nothing is written outside the panel.
                let s0 = b + p0 + c0 * ldb
                var p = 0
                while p + 8 < depth {
                    transposeSixColumns(s0 + p, ldb, out + p * nr)
                    p += 8
                }
                let s1 = s0 + ldb, s2 = s1 + ldb, s3 = s2 + ldb, s4 = s3 + ldb, s5 = s4 + ldb
                while p < depth {
                    let o = out + p * nr
                    o[0] = s0[p]; o[1] = s1[p]; o[2] = s2[p]; o[3] = s3[p]; o[4] = s4[p]; o[5] = s5[p]
                    p += 1
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

    /// 8 k-steps of six columns (`src + c·ld`, contiguous along k) written as 8 rows of 6 at
    /// `dst`, plus 2 clobbered floats after them.
    @inline(__always)
    static func transposeSixColumns(_ src: UnsafePointer<Float>, _ ld: Int, _ dst: UnsafeMutablePointer<Float>) {
        let s = UnsafeRawPointer(src)
        let stride = ld * 4
        let r4 = s.loadUnaligned(fromByteOffset: 4 * stride, as: SIMD8<Float>.self)
        let r5 = s.loadUnaligned(fromByteOffset: 5 * stride, as: SIMD8<Float>.self)
        let c = transpose8(
            s.loadUnaligned(as: SIMD8<Float>.self),
            s.loadUnaligned(fromByteOffset: stride, as: SIMD8<Float>.self),
            s.loadUnaligned(fromByteOffset: 2 * stride, as: SIMD8<Float>.self),
            s.loadUnaligned(fromByteOffset: 3 * stride, as: SIMD8<Float>.self),
            r4, r5, r4, r5)
        let d = UnsafeMutableRawPointer(dst)
        d.storeBytes(of: c.0, as: SIMD8<Float>.self)
        d.storeBytes(of: c.1, toByteOffset: 24, as: SIMD8<Float>.self)
        d.storeBytes(of: c.2, toByteOffset: 48, as: SIMD8<Float>.self)
        d.storeBytes(of: c.3, toByteOffset: 72, as: SIMD8<Float>.self)
        d.storeBytes(of: c.4, toByteOffset: 96, as: SIMD8<Float>.self)
        d.storeBytes(of: c.5, toByteOffset: 120, as: SIMD8<Float>.self)
        d.storeBytes(of: c.6, toByteOffset: 144, as: SIMD8<Float>.self)
        d.storeBytes(of: c.7, toByteOffset: 168, as: SIMD8<Float>.self)
    }

    /// The 8×8 transpose of rows `r0…r7`: returns the columns, `(c0…c7)` with `cq[i]` = `ri[q]`.
    /// Three rounds of two-source shuffles (unpack, shuffle, 128-bit permute), as in the classic
    /// AVX transpose: 24 shuffle instructions for 64 floats.
    @inline(__always)
    static func transpose8(
        _ r0: SIMD8<Float>, _ r1: SIMD8<Float>, _ r2: SIMD8<Float>, _ r3: SIMD8<Float>,
        _ r4: SIMD8<Float>, _ r5: SIMD8<Float>, _ r6: SIMD8<Float>, _ r7: SIMD8<Float>
    ) -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
        @inline(__always) func unpackLo(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> {
            SIMD8(a[0], b[0], a[1], b[1], a[4], b[4], a[5], b[5])
        }
        @inline(__always) func unpackHi(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> {
            SIMD8(a[2], b[2], a[3], b[3], a[6], b[6], a[7], b[7])
        }
        @inline(__always) func shuffleLo(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> {
            SIMD8(a[0], a[1], b[0], b[1], a[4], a[5], b[4], b[5])
        }
        @inline(__always) func shuffleHi(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> {
            SIMD8(a[2], a[3], b[2], b[3], a[6], a[7], b[6], b[7])
        }
        let t0 = unpackLo(r0, r1), t1 = unpackHi(r0, r1), t2 = unpackLo(r2, r3), t3 = unpackHi(r2, r3)
        let t4 = unpackLo(r4, r5), t5 = unpackHi(r4, r5), t6 = unpackLo(r6, r7), t7 = unpackHi(r6, r7)
        let u0 = shuffleLo(t0, t2), u1 = shuffleHi(t0, t2), u2 = shuffleLo(t1, t3), u3 = shuffleHi(t1, t3)
        let u4 = shuffleLo(t4, t6), u5 = shuffleHi(t4, t6), u6 = shuffleLo(t5, t7), u7 = shuffleHi(t5, t7)
        return (SIMD8(lowHalf: u0.lowHalf, highHalf: u4.lowHalf), SIMD8(lowHalf: u1.lowHalf, highHalf: u5.lowHalf),
                SIMD8(lowHalf: u2.lowHalf, highHalf: u6.lowHalf), SIMD8(lowHalf: u3.lowHalf, highHalf: u7.lowHalf),
                SIMD8(lowHalf: u0.highHalf, highHalf: u4.highHalf), SIMD8(lowHalf: u1.highHalf, highHalf: u5.highHalf),
                SIMD8(lowHalf: u2.highHalf, highHalf: u6.highHalf), SIMD8(lowHalf: u3.highHalf, highHalf: u7.highHalf))
    }

    /// Reads 8 rows of 8 contiguous floats at `src + r·lds` and writes their transpose, column q
    /// (8 floats) at `dst + q·ldd`, q = 0…7 in order (so with `ldd` < 8 later columns overwrite
    /// the tail of earlier ones, and 8 − ldd floats past `dst + 7·ldd + ldd` are clobbered).
    @inline(__always)
    static func transpose8x8(_ src: UnsafePointer<Float>, _ lds: Int, _ dst: UnsafeMutablePointer<Float>, _ ldd: Int) {
        let s = UnsafeRawPointer(src)
        let stride = lds * 4
        let c = transpose8(
            s.loadUnaligned(as: SIMD8<Float>.self),
            s.loadUnaligned(fromByteOffset: stride, as: SIMD8<Float>.self),
            s.loadUnaligned(fromByteOffset: 2 * stride, as: SIMD8<Float>.self),
            s.loadUnaligned(fromByteOffset: 3 * stride, as: SIMD8<Float>.self),
            s.loadUnaligned(fromByteOffset: 4 * stride, as: SIMD8<Float>.self),
            s.loadUnaligned(fromByteOffset: 5 * stride, as: SIMD8<Float>.self),
            s.loadUnaligned(fromByteOffset: 6 * stride, as: SIMD8<Float>.self),
            s.loadUnaligned(fromByteOffset: 7 * stride, as: SIMD8<Float>.self))
        let d = UnsafeMutableRawPointer(dst)
        let step = ldd * 4
        d.storeBytes(of: c.0, as: SIMD8<Float>.self)
        d.storeBytes(of: c.1, toByteOffset: step, as: SIMD8<Float>.self)
        d.storeBytes(of: c.2, toByteOffset: 2 * step, as: SIMD8<Float>.self)
        d.storeBytes(of: c.3, toByteOffset: 3 * step, as: SIMD8<Float>.self)
        d.storeBytes(of: c.4, toByteOffset: 4 * step, as: SIMD8<Float>.self)
        d.storeBytes(of: c.5, toByteOffset: 5 * step, as: SIMD8<Float>.self)
        d.storeBytes(of: c.6, toByteOffset: 6 * step, as: SIMD8<Float>.self)
        d.storeBytes(of: c.7, toByteOffset: 7 * step, as: SIMD8<Float>.self)
    }
}
