// Causal attention on one block (one head of one sequence), written once for every vector width.
// This file is compiled into AlgoKernels and, through the symlink
// Sources/AlgoKernelsAVX512/CausalBlocks.swift, into AlgoKernelsAVX512, each with its own
// `-target-cpu` and its own `CausalLanes` (`SIMD8<Float>` in CausalAttention.swift, `SIMD16<Float>`
// in CausalAttention512.swift). Not generic: on a concrete SIMD type the compiler uses the vector
// instructions for comparisons, selects and bit casts, which a generic `V: SIMD` turned into loops
// over lanes (the first version spent 15% of the tiny B = 8 step in its softmax). Internal in both
// modules. `CausalAttention` (CausalAttention.swift)
// states the contract; README.md beside it the design and measurements.

/// The layout of a block's weights A (ℓ×ℓ, 0 below the diagonal): column x holds its kept entries
/// `A[0...x, x]` followed by zeros up to a multiple of 16, at `offset(x)`. Vector loads and stores of
/// a column never leave it, whatever the vector width (8 or 16 lanes); about half of ℓ² floats.
enum CausalLayout {
    /// Floats of column x: `x + 1` rounded up to 16.
    @inline(__always)
    static func capacity(_ x: Int) -> Int { (x + 16) & ~15 }

    /// Where column x starts: Σ_{x′ < x} capacity(x′) = 16·(16·m(m+1)/2 + r(m+1)) for x = 16m + r.
    @inline(__always)
    static func offset(_ x: Int) -> Int {
        let m = x >> 4, r = x & 15
        return 16 * (8 * m * (m + 1) + r * (m + 1))
    }
}

/// Loads and stores of one vector at a float pointer.
@inline(__always)
func causalLoad(_ p: UnsafePointer<Float>) -> CausalLanes {
    UnsafeRawPointer(p).loadUnaligned(as: CausalLanes.self)
}

@inline(__always)
func causalStore(_ v: CausalLanes, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: CausalLanes.self)
}

/// Stores the first `count` lanes of v (all of them with one vector store when `count` ≥ the width).
@inline(__always)
func causalStoreFirst(_ v: CausalLanes, _ p: UnsafeMutablePointer<Float>, _ count: Int) {
    if count >= CausalLanes.scalarCount { causalStore(v, p) } else { for l in 0..<count { p[l] = v[l] } }
}

/// 0, 1, 2, … in the lanes.
@inline(__always)
func laneIndices() -> CausalLanes {
    var l = CausalLanes()
    for i in 0..<CausalLanes.scalarCount { l[i] = Float(i) }
    return l
}

/// eˣ on 8 lanes (Cephes `expf` scheme): n = round(x·log₂e) by the 1.5·2²³ trick, r = x − n·ln2 in two
/// parts, a degree-6 polynomial for eʳ, scaled by 2ⁿ built in the exponent bits. Relative error
/// ≤ 2 ulp on [−87.3, 88.3]; inputs above are clamped (finite overflow guard), inputs below −87.3
/// (including −∞) give exactly 0 so that −∞-masked scores vanish. `FusedMath.exp` is this function;
/// `expLanes` (beside `CausalLanes`) applies it to the module's vectors, a 512-bit one as two halves
/// (on `SIMD16<Float>` the compiler split the polynomial's FMAs into 128-bit pieces).
@_transparent @usableFromInline
func exp8(_ x: SIMD8<Float>) -> SIMD8<Float> {
    let lo = SIMD8<Float>(repeating: -87.3), hi = SIMD8<Float>(repeating: 88.3)
    var v = x.replacing(with: hi, where: x .> hi)
    let under = v .< lo
    v = v.replacing(with: lo, where: under)
    let magic = SIMD8<Float>(repeating: 12582912.0)
    let t = v * 1.44269504088896341 + magic
    let n = t - magic
    let r = v.addingProduct(n, SIMD8<Float>(repeating: -0.693359375)).addingProduct(n, SIMD8<Float>(repeating: 2.12194440e-4))
    let z = r * r
    var p = SIMD8<Float>(repeating: 1.9875691500e-4)
    p = SIMD8<Float>(repeating: 1.3981999507e-3).addingProduct(p, r)
    p = SIMD8<Float>(repeating: 8.3334519073e-3).addingProduct(p, r)
    p = SIMD8<Float>(repeating: 4.1665795894e-2).addingProduct(p, r)
    p = SIMD8<Float>(repeating: 1.6666665459e-1).addingProduct(p, r)
    p = SIMD8<Float>(repeating: 5.0000001201e-1).addingProduct(p, r)
    let e = r.addingProduct(p, z) + 1
    let ni = unsafeBitCast(t, to: SIMD8<Int32>.self) &- 0x4B40_0000
    let scale = unsafeBitCast((ni &+ 127) &<< 23, to: SIMD8<Float>.self)
    return (e * scale).replacing(with: 0, where: under)
}

/// The kept dot products: `T[z, x] = Σ_{i<d} Lᵀ[z, i]·R[i, x]` for z ≤ x, written to column x of T
/// (`CausalLayout`), for every x < n. `lt[i·ldt + z]` is L[i, z] (L transposed into rows, readable to
/// z < n rounded up to 16), `r[i + x·ldr]` is R[i, x]. Each entry is one chain of FMAs over i in
/// order. Lanes of a column past x up to the next multiple of the width get what the padded L gives.
/// Columns run in pairs (each vector of Lᵀ loaded once for both, up to 8 independent chains) inside
/// chunks of 4 vectors of z, so that a chunk of Lᵀ (d × 4 vectors) stays in L1 while every column
/// uses it. A pair computes the vectors its second column needs; the first stores only its own.
@inline(__always)
func keptDots(n: Int, d: Int, lt: UnsafePointer<Float>, ldt: Int,
              r: UnsafePointer<Float>, ldr: Int, t: UnsafeMutablePointer<Float>) {
    let w = CausalLanes.scalarCount
    var z0 = 0
    while z0 < n {
        var x = z0
        while x < n {
            let y = min(x + 1, n - 1)   // the pair's second column (x itself at the end)
            let cx = min(4, (x - z0) / w + 1), cy = min(4, (y - z0) / w + 1)
            let colX = t + CausalLayout.offset(x) + z0, colY = t + CausalLayout.offset(y) + z0
            let rx = r + x * ldr, ry = r + y * ldr
            var lp = lt + z0
            var a0 = CausalLanes(), a1 = CausalLanes(), a2 = CausalLanes(), a3 = CausalLanes()
            var b0 = CausalLanes(), b1 = CausalLanes(), b2 = CausalLanes(), b3 = CausalLanes()
            switch cy {
            case 4:
                for i in 0..<d {
                    let u = CausalLanes(repeating: rx[i]), v = CausalLanes(repeating: ry[i])
                    let l0 = causalLoad(lp), l1 = causalLoad(lp + w), l2 = causalLoad(lp + 2 * w), l3 = causalLoad(lp + 3 * w)
                    a0 = a0.addingProduct(l0, u); a1 = a1.addingProduct(l1, u); a2 = a2.addingProduct(l2, u); a3 = a3.addingProduct(l3, u)
                    b0 = b0.addingProduct(l0, v); b1 = b1.addingProduct(l1, v); b2 = b2.addingProduct(l2, v); b3 = b3.addingProduct(l3, v)
                    lp += ldt
                }
            case 3:
                for i in 0..<d {
                    let u = CausalLanes(repeating: rx[i]), v = CausalLanes(repeating: ry[i])
                    let l0 = causalLoad(lp), l1 = causalLoad(lp + w), l2 = causalLoad(lp + 2 * w)
                    a0 = a0.addingProduct(l0, u); a1 = a1.addingProduct(l1, u); a2 = a2.addingProduct(l2, u)
                    b0 = b0.addingProduct(l0, v); b1 = b1.addingProduct(l1, v); b2 = b2.addingProduct(l2, v)
                    lp += ldt
                }
            case 2:
                for i in 0..<d {
                    let u = CausalLanes(repeating: rx[i]), v = CausalLanes(repeating: ry[i])
                    let l0 = causalLoad(lp), l1 = causalLoad(lp + w)
                    a0 = a0.addingProduct(l0, u); a1 = a1.addingProduct(l1, u)
                    b0 = b0.addingProduct(l0, v); b1 = b1.addingProduct(l1, v)
                    lp += ldt
                }
            default:
                for i in 0..<d {
                    let l0 = causalLoad(lp)
                    a0 = a0.addingProduct(l0, CausalLanes(repeating: rx[i])); b0 = b0.addingProduct(l0, CausalLanes(repeating: ry[i]))
                    lp += ldt
                }
            }
            causalStore(a0, colX)
            if cx > 1 { causalStore(a1, colX + w) }
            if cx > 2 { causalStore(a2, colX + 2 * w) }
            if cx > 3 { causalStore(a3, colX + 3 * w) }
            if y > x {
                causalStore(b0, colY)
                if cy > 1 { causalStore(b1, colY + w) }
                if cy > 2 { causalStore(b2, colY + 2 * w) }
                if cy > 3 { causalStore(b3, colY + 3 * w) }
            }
            x += 2
        }
        z0 += 4 * w
    }
}

/// Column x of A in place (`CausalLayout`): its kept scores `s[0...x]` divided by `divisor`, then
/// softmax over them; the rest of the column (to its capacity) 0. Lanes past x are never read as
/// numbers (they may hold anything). Three passes over the column (it is in L1). Σ eˢ is summed as
/// `FusedSoftmax.column` sums the dense masked column of length n: 8-lane partial sums over the rows
/// below n rounded down to 8 (vector after vector, the stdlib's `SIMD8.sum()`), then the rows from
/// there one by one; the masked entries add exact zeros. So the weights are the dense path's bits
/// wherever the scores are (the rule on and off agree to the scores' rounding only).
@inline(__always)
func softmaxKeptColumn(_ col: UnsafeMutablePointer<Float>, x: Int, n: Int, divisor: Float, lanes: CausalLanes) {
    let w = CausalLanes.scalarCount, kept = x + 1, cap = CausalLayout.capacity(x)
    let c = CausalLanes(repeating: divisor), minusInf = CausalLanes(repeating: -.infinity)
    var mv = minusInf
    var z = 0
    while z < kept {
        var s = causalLoad(col + z) / c
        if z + w > kept { s.replace(with: minusInf, where: lanes .>= CausalLanes(repeating: Float(kept - z))) }
        causalStore(s, col + z)
        mv = pairMax(mv, s)
        z += w
    }
    let m = CausalLanes(repeating: lanesMax(mv))
    let vectorRows = min(n & ~7, (kept + 7) & ~7)   // past x the dense column adds exact zeros
    var sv = SIMD8<Float>()
    z = 0
    while z < kept {
        let e = expLanes(causalLoad(col + z) - m)
        causalStore(e, col + z)
        z += w
    }
    z = 0
    while z < vectorRows {
        sv += UnsafeRawPointer(col + z).loadUnaligned(as: SIMD8<Float>.self)
        z += 8
    }
    var total = sv.sum()
    while z < kept { total += col[z]; z += 1 }
    let inv = CausalLanes(repeating: 1 / total)
    z = 0
    while z < kept { causalStore(causalLoad(col + z) * inv, col + z); z += w }
    while z < cap { causalStore(CausalLanes(), col + z); z += w }
}

/// The larger of each pair of lanes.
@inline(__always)
func pairMax(_ a: CausalLanes, _ b: CausalLanes) -> CausalLanes { a.replacing(with: b, where: a .< b) }

/// Column x of dS in place over dA (`CausalLayout`): `dS = A ⊙ (dA − Σ_{z≤x} A⊙dA) / divisor` on the
/// kept entries, 0 to the column's capacity. A is 0 past x; dA's lanes there are set to 0 first. The
/// Σ is summed as `FusedSoftmax.backward` sums it over the dense column of length n (8-lane products
/// and sums, not fused, over the rows below n rounded down to 8, then the rest one by one).
@inline(__always)
func softmaxKeptBackwardColumn(_ a: UnsafePointer<Float>, _ g: UnsafeMutablePointer<Float>, x: Int, n: Int, divisor: Float,
                               lanes: CausalLanes) {
    let w = CausalLanes.scalarCount, kept = x + 1, cap = CausalLayout.capacity(x)
    var z = 0
    while z < cap {
        var gv = causalLoad(g + z)
        if z + w > kept { gv.replace(with: 0, where: lanes .>= CausalLanes(repeating: Float(kept - z))) }
        causalStore(gv, g + z)
        z += w
    }
    let vectorRows = min(n & ~7, (kept + 7) & ~7)   // past x the dense column adds exact zeros
    var acc = SIMD8<Float>()
    z = 0
    while z < vectorRows {
        acc += UnsafeRawPointer(a + z).loadUnaligned(as: SIMD8<Float>.self) * UnsafeRawPointer(g + z).loadUnaligned(as: SIMD8<Float>.self)
        z += 8
    }
    var total = acc.sum()
    while z < kept { total += a[z] * g[z]; z += 1 }
    let s = CausalLanes(repeating: total), c = CausalLanes(repeating: divisor)
    z = 0
    while z < kept { causalStore((causalLoad(a + z) * (causalLoad(g + z) - s)) / c, g + z); z += w }
    while z < cap { causalStore(CausalLanes(), g + z); z += w }
}

/// Stores a register tile of 4 columns (`cj0` rows 0..<w, `cj1` rows w..<2w when `two`) at y
/// (`ldy`), the first `rows` rows of each column.
@inline(__always)
func storeTile(_ c00: CausalLanes, _ c10: CausalLanes, _ c20: CausalLanes, _ c30: CausalLanes,
               _ c01: CausalLanes, _ c11: CausalLanes, _ c21: CausalLanes, _ c31: CausalLanes,
               _ y: UnsafeMutablePointer<Float>, _ ldy: Int, _ rows: Int, _ two: Bool) {
    let w = CausalLanes.scalarCount
    causalStoreFirst(c00, y, rows); causalStoreFirst(c10, y + ldy, rows)
    causalStoreFirst(c20, y + 2 * ldy, rows); causalStoreFirst(c30, y + 3 * ldy, rows)
    if two {
        causalStoreFirst(c01, y + w, rows - w); causalStoreFirst(c11, y + ldy + w, rows - w)
        causalStoreFirst(c21, y + 2 * ldy + w, rows - w); causalStoreFirst(c31, y + 3 * ldy + w, rows - w)
    }
}

/// `Y[:, x] = Σ_{z≤x} M[:, z]·T[z, x]` for every x < n (T upper triangular in `CausalLayout`): each
/// entry one FMA chain over z ascending. M is `rows` × n at `m[i + z·ldm]`, readable to `rows`
/// rounded up to the width; Y's first `rows` rows are written (`y[i + x·ldy]`). Register tiles of
/// 2 vectors of rows × 4 columns.
@inline(__always)
func upperProduct(n: Int, rows: Int, m: UnsafePointer<Float>, ldm: Int, t: UnsafePointer<Float>,
                  y: UnsafeMutablePointer<Float>, ldy: Int) {
    let w = CausalLanes.scalarCount
    var i0 = 0
    while i0 < rows {
        let two = i0 + w < rows, left = rows - i0
        var x0 = 0
        while x0 + 4 <= n {
            let t0 = t + CausalLayout.offset(x0), t1 = t + CausalLayout.offset(x0 + 1)
            let t2 = t + CausalLayout.offset(x0 + 2), t3 = t + CausalLayout.offset(x0 + 3)
            var c00 = CausalLanes(), c10 = CausalLanes(), c20 = CausalLanes(), c30 = CausalLanes(), c01 = CausalLanes(), c11 = CausalLanes(), c21 = CausalLanes(), c31 = CausalLanes()
            var mp = m + i0
            if two {
                for z in 0...x0 {
                    let u = causalLoad(mp), v = causalLoad(mp + w)
                    let b0 = CausalLanes(repeating: t0[z]), b1 = CausalLanes(repeating: t1[z]), b2 = CausalLanes(repeating: t2[z]), b3 = CausalLanes(repeating: t3[z])
                    c00 = c00.addingProduct(u, b0); c01 = c01.addingProduct(v, b0)
                    c10 = c10.addingProduct(u, b1); c11 = c11.addingProduct(v, b1)
                    c20 = c20.addingProduct(u, b2); c21 = c21.addingProduct(v, b2)
                    c30 = c30.addingProduct(u, b3); c31 = c31.addingProduct(v, b3)
                    mp += ldm
                }
            } else {
                for z in 0...x0 {
                    let u = causalLoad(mp)
                    c00 = c00.addingProduct(u, CausalLanes(repeating: t0[z])); c10 = c10.addingProduct(u, CausalLanes(repeating: t1[z]))
                    c20 = c20.addingProduct(u, CausalLanes(repeating: t2[z])); c30 = c30.addingProduct(u, CausalLanes(repeating: t3[z]))
                    mp += ldm
                }
            }
            // The last three z of the group: z = x0 + 1 for columns 1–3, x0 + 2 for 2–3, x0 + 3 for 3.
            for z in (x0 + 1)...(x0 + 3) {
                let u = causalLoad(mp), v = two ? causalLoad(mp + w) : CausalLanes()
                if z <= x0 + 1 { let b = CausalLanes(repeating: t1[z]); c10 = c10.addingProduct(u, b); if two { c11 = c11.addingProduct(v, b) } }
                if z <= x0 + 2 { let b = CausalLanes(repeating: t2[z]); c20 = c20.addingProduct(u, b); if two { c21 = c21.addingProduct(v, b) } }
                let b = CausalLanes(repeating: t3[z]); c30 = c30.addingProduct(u, b); if two { c31 = c31.addingProduct(v, b) }
                mp += ldm
            }
            storeTile(c00, c10, c20, c30, c01, c11, c21, c31, y + i0 + x0 * ldy, ldy, left, two)
            x0 += 4
        }
        for x in x0..<n {
            let tx = t + CausalLayout.offset(x)
            var c0 = CausalLanes(), c1 = CausalLanes()
            var mp = m + i0
            for z in 0...x {
                let b = CausalLanes(repeating: tx[z])
                c0 = c0.addingProduct(causalLoad(mp), b)
                if two { c1 = c1.addingProduct(causalLoad(mp + w), b) }
                mp += ldm
            }
            causalStoreFirst(c0, y + i0 + x * ldy, left)
            if two { causalStoreFirst(c1, y + i0 + w + x * ldy, left - w) }
        }
        i0 += two ? 2 * w : w
    }
}

/// `Y[:, z] = Σ_{x≥z} M[:, x]·T[z, x]` for every z < n (T upper triangular in `CausalLayout`): each
/// entry one FMA chain over x ascending. M, Y and the tiles as in `upperProduct`.
@inline(__always)
func lowerProduct(n: Int, rows: Int, m: UnsafePointer<Float>, ldm: Int, t: UnsafePointer<Float>,
                  y: UnsafeMutablePointer<Float>, ldy: Int) {
    let w = CausalLanes.scalarCount
    var i0 = 0
    while i0 < rows {
        let two = i0 + w < rows, left = rows - i0
        var z0 = 0
        while z0 + 4 <= n {
            var c00 = CausalLanes(), c10 = CausalLanes(), c20 = CausalLanes(), c30 = CausalLanes(), c01 = CausalLanes(), c11 = CausalLanes(), c21 = CausalLanes(), c31 = CausalLanes()
            // The first three x of the group: x = z0 for row 0, z0 + 1 for rows 0–1, z0 + 2 for rows 0–2.
            for x in z0...(z0 + 2) {
                let tx = t + CausalLayout.offset(x) + z0, mp = m + i0 + x * ldm
                let u = causalLoad(mp), v = two ? causalLoad(mp + w) : CausalLanes()
                let b0 = CausalLanes(repeating: tx[0]); c00 = c00.addingProduct(u, b0); if two { c01 = c01.addingProduct(v, b0) }
                if x >= z0 + 1 { let b = CausalLanes(repeating: tx[1]); c10 = c10.addingProduct(u, b); if two { c11 = c11.addingProduct(v, b) } }
                if x >= z0 + 2 { let b = CausalLanes(repeating: tx[2]); c20 = c20.addingProduct(u, b); if two { c21 = c21.addingProduct(v, b) } }
            }
            var mp = m + i0 + (z0 + 3) * ldm
            if two {
                for x in (z0 + 3)..<n {
                    let tx = t + CausalLayout.offset(x) + z0
                    let u = causalLoad(mp), v = causalLoad(mp + w)
                    let b0 = CausalLanes(repeating: tx[0]), b1 = CausalLanes(repeating: tx[1]), b2 = CausalLanes(repeating: tx[2]), b3 = CausalLanes(repeating: tx[3])
                    c00 = c00.addingProduct(u, b0); c01 = c01.addingProduct(v, b0)
                    c10 = c10.addingProduct(u, b1); c11 = c11.addingProduct(v, b1)
                    c20 = c20.addingProduct(u, b2); c21 = c21.addingProduct(v, b2)
                    c30 = c30.addingProduct(u, b3); c31 = c31.addingProduct(v, b3)
                    mp += ldm
                }
            } else {
                for x in (z0 + 3)..<n {
                    let tx = t + CausalLayout.offset(x) + z0
                    let u = causalLoad(mp)
                    c00 = c00.addingProduct(u, CausalLanes(repeating: tx[0])); c10 = c10.addingProduct(u, CausalLanes(repeating: tx[1]))
                    c20 = c20.addingProduct(u, CausalLanes(repeating: tx[2])); c30 = c30.addingProduct(u, CausalLanes(repeating: tx[3]))
                    mp += ldm
                }
            }
            storeTile(c00, c10, c20, c30, c01, c11, c21, c31, y + i0 + z0 * ldy, ldy, left, two)
            z0 += 4
        }
        for z in z0..<n {
            var c0 = CausalLanes(), c1 = CausalLanes()
            for x in z..<n {
                let b = CausalLanes(repeating: t[CausalLayout.offset(x) + z]), mp = m + i0 + x * ldm
                c0 = c0.addingProduct(causalLoad(mp), b)
                if two { c1 = c1.addingProduct(causalLoad(mp + w), b) }
            }
            causalStoreFirst(c0, y + i0 + z * ldy, left)
            if two { causalStoreFirst(c1, y + i0 + w + z * ldy, left - w) }
        }
        i0 += two ? 2 * w : w
    }
}

/// `dst[i·ldd + z] = src[i + z·lds]` for i < rows, z < n, and 0 for n ≤ z < n rounded up to 16:
/// a matrix transposed into rows for `keptDots`.
@inline(__always)
func packTransposed(rows: Int, n: Int, src: UnsafePointer<Float>, lds: Int, dst: UnsafeMutablePointer<Float>, ldd: Int) {
    let padded = (n + 15) & ~15
    for i in 0..<rows {
        let row = dst + i * ldd
        for z in 0..<n { row[z] = src[i + z * lds] }
        for z in n..<padded { row[z] = 0 }
    }
}

/// M (`rows` × n, `src[i + z·lds]`) readable by whole vectors of `w` rows: M itself when `rows` is a
/// multiple of w, else a copy with zero rows up to it in `scratch`. Returns the base and ld.
@inline(__always)
func paddedRows(rows: Int, n: Int, w: Int, src: UnsafePointer<Float>, lds: Int,
                scratch: UnsafeMutablePointer<Float>) -> (UnsafePointer<Float>, Int) {
    if rows % w == 0 { return (src, lds) }
    let padded = (rows + w - 1) / w * w
    for z in 0..<n {
        let col = scratch + z * padded
        for i in 0..<rows { col[i] = src[i + z * lds] }
        for i in rows..<padded { col[i] = 0 }
    }
    return (UnsafePointer(scratch), padded)
}

/// Floats of scratch one block needs (`causalBlockForward`, `causalBlockBackward`), for any width ≤ 16.
@inline(__always)
func causalBlockScratch(n: Int, d: Int, dv: Int) -> Int {
    let rows = (max(d, dv) + 15) & ~15
    return max(d, dv) * transposedStride(n) + CausalLayout.offset(n) + 3 * rows * n
}

/// The row stride of the transposed operand `keptDots` reads (`packTransposed`): n rounded up to
/// 16, plus 16. Without the 16 the stride of ℓ = 256 is 1 KB, so the d rows of a chunk (4 vectors,
/// 4 cache lines per row) fell into 16 of the L1's 64 sets, 16 lines per set for 8 ways, and were
/// evicted while every column reread them: at 17 lines the rows spread over all the sets.
@inline(__always)
func transposedStride(_ n: Int) -> Int { ((n + 15) & ~15) + 16 }

/// One block forward: `A = softmax(KᵀQ / divisor)` on the kept half into `a` (`CausalLayout`), then
/// `Y = CausalLanes·A` into y. K and Q are d×n, CausalLanes dv×n, Y dv×n (`p[i + j·ld]`).
@inline(__always)
func causalBlockForward(n: Int, d: Int, dv: Int,
                        k: UnsafePointer<Float>, ldk: Int, q: UnsafePointer<Float>, ldq: Int,
                        v: UnsafePointer<Float>, ldv: Int, divisor: Float,
                        a: UnsafeMutablePointer<Float>, y: UnsafeMutablePointer<Float>, ldy: Int,
                        scratch: UnsafeMutablePointer<Float>) {
    let w = CausalLanes.scalarCount, lanes = laneIndices(), ldt = transposedStride(n)
    packTransposed(rows: d, n: n, src: k, lds: ldk, dst: scratch, ldd: ldt)
    keptDots(n: n, d: d, lt: scratch, ldt: ldt, r: q, ldr: ldq, t: a)
    for x in 0..<n { softmaxKeptColumn(a + CausalLayout.offset(x), x: x, n: n, divisor: divisor, lanes: lanes) }
    let pads = scratch + max(d, dv) * ldt + CausalLayout.offset(n)
    let (vp, ldvp) = paddedRows(rows: dv, n: n, w: w, src: v, lds: ldv, scratch: pads)
    upperProduct(n: n, rows: dv, m: vp, ldm: ldvp, t: a, y: y, ldy: ldy)
}

/// One block backward, for the cotangent G of Y (dv×n): `dA = VᵀG` on the kept half, the softmax's
/// `dS`, then `dV = G·Aᵀ`, `dQ = K·dS`, `dK = Q·dSᵀ`, each on the kept half.
@inline(__always)
func causalBlockBackward(n: Int, d: Int, dv: Int,
                         k: UnsafePointer<Float>, ldk: Int, q: UnsafePointer<Float>, ldq: Int,
                         v: UnsafePointer<Float>, ldv: Int, divisor: Float, a: UnsafePointer<Float>,
                         g: UnsafePointer<Float>, ldg: Int,
                         dk: UnsafeMutablePointer<Float>, lddk: Int, dq: UnsafeMutablePointer<Float>, lddq: Int,
                         dvOut: UnsafeMutablePointer<Float>, lddv: Int,
                         scratch: UnsafeMutablePointer<Float>) {
    let w = CausalLanes.scalarCount, lanes = laneIndices(), ldt = transposedStride(n)
    let ds = scratch + max(d, dv) * ldt, pads = ds + CausalLayout.offset(n)
    packTransposed(rows: dv, n: n, src: v, lds: ldv, dst: scratch, ldd: ldt)
    keptDots(n: n, d: dv, lt: scratch, ldt: ldt, r: g, ldr: ldg, t: ds)
    for x in 0..<n {
        let o = CausalLayout.offset(x)
        softmaxKeptBackwardColumn(a + o, ds + o, x: x, n: n, divisor: divisor, lanes: lanes)
    }
    let rows = (max(d, dv) + 15) & ~15
    let (gp, ldgp) = paddedRows(rows: dv, n: n, w: w, src: g, lds: ldg, scratch: pads)
    lowerProduct(n: n, rows: dv, m: gp, ldm: ldgp, t: a, y: dvOut, ldy: lddv)
    let (kp, ldkp) = paddedRows(rows: d, n: n, w: w, src: k, lds: ldk, scratch: pads + rows * n)
    upperProduct(n: n, rows: d, m: kp, ldm: ldkp, t: ds, y: dq, ldy: lddq)
    let (qp, ldqp) = paddedRows(rows: d, n: n, w: w, src: q, lds: ldq, scratch: pads + 2 * rows * n)
    lowerProduct(n: n, rows: d, m: qp, ldm: ldqp, t: ds, y: dk, ldy: lddk)
}
