// Causal attention on one block (one head of one sequence), written once for every vector width.
// This file is compiled into AlgoKernels (`SIMD8<Float>`, 256-bit) and, through the symlink
// Sources/AlgoKernelsAVX512/CausalBlocks.swift, into AlgoKernelsAVX512 (`SIMD16<Float>`, 512-bit),
// as SIMDWidth.swift is: generic and always inlined, so each module specialises it for its own
// vectors with its own `-target-cpu`. Internal in both modules. `CausalAttention` (CausalAttention.swift)
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
func load<V: SIMD>(_: V.Type, _ p: UnsafePointer<Float>) -> V where V.Scalar == Float {
    UnsafeRawPointer(p).loadUnaligned(as: V.self)
}

@inline(__always)
func store<V: SIMD>(_ v: V, _ p: UnsafeMutablePointer<Float>) where V.Scalar == Float {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self)
}

/// Stores the first `count` lanes of v (all of them with one vector store when `count` ≥ the width).
@inline(__always)
func storeFirst<V: SIMD>(_ v: V, _ p: UnsafeMutablePointer<Float>, _ count: Int) where V.Scalar == Float {
    if count >= V.scalarCount { store(v, p) } else { for l in 0..<count { p[l] = v[l] } }
}

/// 0, 1, 2, … in the lanes.
@inline(__always)
func laneIndices<V: SIMD>(_: V.Type) -> V where V.Scalar == Float {
    var l = V()
    for i in 0..<V.scalarCount { l[i] = Float(i) }
    return l
}

/// eˣ on every lane: `FusedMath.exp`'s scheme (Cephes `expf`: n = round(x·log₂e) by the 1.5·2²³
/// trick, r = x − n·ln2 in two parts, a degree-6 polynomial, 2ⁿ built in the exponent bits) on any
/// width. Relative error ≤ 2 ulp on [−87.3, 88.3]; inputs above are clamped, inputs below −87.3
/// (including −∞) give exactly 0.
@inline(__always)
func expLanes<V: SIMD>(_ x: V) -> V where V.Scalar == Float {
    let lo = V(repeating: -87.3), hi = V(repeating: 88.3)
    var v = x.replacing(with: hi, where: x .> hi)
    let under = v .< lo
    v.replace(with: lo, where: under)
    let magic = V(repeating: 12582912.0)
    let t = v * V(repeating: 1.44269504088896341) + magic
    let n = t - magic
    let r = v.addingProduct(n, V(repeating: -0.693359375)).addingProduct(n, V(repeating: 2.12194440e-4))
    let z = r * r
    var p = V(repeating: 1.9875691500e-4)
    p = V(repeating: 1.3981999507e-3).addingProduct(p, r)
    p = V(repeating: 8.3334519073e-3).addingProduct(p, r)
    p = V(repeating: 4.1665795894e-2).addingProduct(p, r)
    p = V(repeating: 1.6666665459e-1).addingProduct(p, r)
    p = V(repeating: 5.0000001201e-1).addingProduct(p, r)
    let e = r.addingProduct(p, z) + 1
    let ni = unsafeBitCast(t, to: V.MaskStorage.self) &- V.MaskStorage(repeating: 0x4B40_0000)
    let scale = unsafeBitCast((ni &+ V.MaskStorage(repeating: 127)) &<< V.MaskStorage(repeating: 23), to: V.self)
    return (e * scale).replacing(with: 0, where: under)
}

/// The kept dot products: `T[z, x] = Σ_{i<d} Lᵀ[z, i]·R[i, x]` for z ≤ x, written to column x of T
/// (`CausalLayout`), for every x < n. `lt[i·ldt + z]` is L[i, z] (L transposed into rows, readable to
/// z < n rounded up to 16), `r[i + x·ldr]` is R[i, x]. Each entry is one chain of FMAs over i in
/// order. Lanes of a column past x up to the next multiple of the width get what the padded L gives.
/// Columns run inside chunks of 4 vectors of z, so that a chunk of Lᵀ (d × 4 vectors) stays in L1.
@inline(__always)
func keptDots<V: SIMD>(_: V.Type, n: Int, d: Int, lt: UnsafePointer<Float>, ldt: Int,
                       r: UnsafePointer<Float>, ldr: Int, t: UnsafeMutablePointer<Float>) where V.Scalar == Float {
    let w = V.scalarCount
    var z0 = 0
    while z0 < n {
        for x in z0..<n {
            let count = min(4, (x - z0) / w + 1)
            let col = t + CausalLayout.offset(x) + z0, rx = r + x * ldr
            var lp = lt + z0
            switch count {
            case 4:
                var a0 = V(), a1 = V(), a2 = V(), a3 = V()
                for i in 0..<d {
                    let b = V(repeating: rx[i])
                    a0 = a0.addingProduct(load(V.self, lp), b); a1 = a1.addingProduct(load(V.self, lp + w), b)
                    a2 = a2.addingProduct(load(V.self, lp + 2 * w), b); a3 = a3.addingProduct(load(V.self, lp + 3 * w), b)
                    lp += ldt
                }
                store(a0, col); store(a1, col + w); store(a2, col + 2 * w); store(a3, col + 3 * w)
            case 3:
                var a0 = V(), a1 = V(), a2 = V()
                for i in 0..<d {
                    let b = V(repeating: rx[i])
                    a0 = a0.addingProduct(load(V.self, lp), b); a1 = a1.addingProduct(load(V.self, lp + w), b)
                    a2 = a2.addingProduct(load(V.self, lp + 2 * w), b)
                    lp += ldt
                }
                store(a0, col); store(a1, col + w); store(a2, col + 2 * w)
            case 2:
                var a0 = V(), a1 = V()
                for i in 0..<d {
                    let b = V(repeating: rx[i])
                    a0 = a0.addingProduct(load(V.self, lp), b); a1 = a1.addingProduct(load(V.self, lp + w), b)
                    lp += ldt
                }
                store(a0, col); store(a1, col + w)
            default:
                var a0 = V()
                for i in 0..<d {
                    a0 = a0.addingProduct(load(V.self, lp), V(repeating: rx[i]))
                    lp += ldt
                }
                store(a0, col)
            }
        }
        z0 += 4 * w
    }
}

/// Column x of A in place (`CausalLayout`): its kept scores `s[0...x]` divided by `divisor`, then
/// softmax over them; the rest of the column (to its capacity) 0. Lanes past x are never read as
/// numbers (they may hold anything).
@inline(__always)
func softmaxKeptColumn<V: SIMD>(_ col: UnsafeMutablePointer<Float>, x: Int, divisor: Float, lanes: V) where V.Scalar == Float {
    let w = V.scalarCount, kept = x + 1, cap = CausalLayout.capacity(x)
    let c = V(repeating: divisor), minusInf = V(repeating: -.infinity)
    var mv = minusInf
    var z = 0
    while z < kept {
        var s = load(V.self, col + z) / c
        if z + w > kept { s.replace(with: minusInf, where: lanes .>= V(repeating: Float(kept - z))) }
        store(s, col + z)
        mv = mv.replacing(with: s, where: mv .< s)
        z += w
    }
    let m = V(repeating: mv.max())
    var sv = V()
    z = 0
    while z < kept {
        let e = expLanes(load(V.self, col + z) - m)
        store(e, col + z)
        sv += e
        z += w
    }
    let inv = V(repeating: 1 / sv.sum())
    z = 0
    while z < kept { store(load(V.self, col + z) * inv, col + z); z += w }
    while z < cap { store(V(), col + z); z += w }
}

/// Column x of dS in place over dA (`CausalLayout`): `dS = A ⊙ (dA − Σ_{z≤x} A⊙dA) / divisor` on the
/// kept entries, 0 to the column's capacity. A is 0 past x; dA's lanes there are not read as numbers.
@inline(__always)
func softmaxKeptBackwardColumn<V: SIMD>(_ a: UnsafePointer<Float>, _ g: UnsafeMutablePointer<Float>, x: Int, divisor: Float,
                                        lanes: V) where V.Scalar == Float {
    let w = V.scalarCount, kept = x + 1, cap = CausalLayout.capacity(x)
    var acc = V()
    var z = 0
    while z < kept {
        var gv = load(V.self, g + z)
        if z + w > kept { gv.replace(with: 0, where: lanes .>= V(repeating: Float(kept - z))) }
        acc = acc.addingProduct(load(V.self, a + z), gv)
        store(gv, g + z)
        z += w
    }
    let s = V(repeating: acc.sum()), c = V(repeating: divisor)
    z = 0
    while z < kept { store((load(V.self, a + z) * (load(V.self, g + z) - s)) / c, g + z); z += w }
    while z < cap { store(V(), g + z); z += w }
}

/// `Y[:, x] = Σ_{z≤x} M[:, z]·T[z, x]` for every x < n (T upper triangular in `CausalLayout`): each
/// entry one FMA chain over z ascending. M is `rows` × n at `m[i + z·ldm]`, readable to `rows`
/// rounded up to the width; Y's first `rows` rows are written (`y[i + x·ldy]`). Register tiles of
/// 2 vectors of rows × 4 columns.
@inline(__always)
func upperProduct<V: SIMD>(_: V.Type, n: Int, rows: Int, m: UnsafePointer<Float>, ldm: Int, t: UnsafePointer<Float>,
                           y: UnsafeMutablePointer<Float>, ldy: Int) where V.Scalar == Float {
    let w = V.scalarCount
    var i0 = 0
    while i0 < rows {
        let two = i0 + w < rows, left = rows - i0
        var x0 = 0
        while x0 + 4 <= n {
            let t0 = t + CausalLayout.offset(x0), t1 = t + CausalLayout.offset(x0 + 1)
            let t2 = t + CausalLayout.offset(x0 + 2), t3 = t + CausalLayout.offset(x0 + 3)
            var c00 = V(), c10 = V(), c20 = V(), c30 = V(), c01 = V(), c11 = V(), c21 = V(), c31 = V()
            var mp = m + i0
            if two {
                for z in 0...x0 {
                    let u = load(V.self, mp), v = load(V.self, mp + w)
                    let b0 = V(repeating: t0[z]), b1 = V(repeating: t1[z]), b2 = V(repeating: t2[z]), b3 = V(repeating: t3[z])
                    c00 = c00.addingProduct(u, b0); c01 = c01.addingProduct(v, b0)
                    c10 = c10.addingProduct(u, b1); c11 = c11.addingProduct(v, b1)
                    c20 = c20.addingProduct(u, b2); c21 = c21.addingProduct(v, b2)
                    c30 = c30.addingProduct(u, b3); c31 = c31.addingProduct(v, b3)
                    mp += ldm
                }
            } else {
                for z in 0...x0 {
                    let u = load(V.self, mp)
                    c00 = c00.addingProduct(u, V(repeating: t0[z])); c10 = c10.addingProduct(u, V(repeating: t1[z]))
                    c20 = c20.addingProduct(u, V(repeating: t2[z])); c30 = c30.addingProduct(u, V(repeating: t3[z]))
                    mp += ldm
                }
            }
            // The last three z of the group: z = x0 + 1 for columns 1–3, x0 + 2 for 2–3, x0 + 3 for 3.
            for z in (x0 + 1)...(x0 + 3) {
                let u = load(V.self, mp), v = two ? load(V.self, mp + w) : V()
                if z <= x0 + 1 { let b = V(repeating: t1[z]); c10 = c10.addingProduct(u, b); if two { c11 = c11.addingProduct(v, b) } }
                if z <= x0 + 2 { let b = V(repeating: t2[z]); c20 = c20.addingProduct(u, b); if two { c21 = c21.addingProduct(v, b) } }
                let b = V(repeating: t3[z]); c30 = c30.addingProduct(u, b); if two { c31 = c31.addingProduct(v, b) }
                mp += ldm
            }
            let yp = y + i0 + x0 * ldy
            storeFirst(c00, yp, left); storeFirst(c10, yp + ldy, left); storeFirst(c20, yp + 2 * ldy, left); storeFirst(c30, yp + 3 * ldy, left)
            if two {
                storeFirst(c01, yp + w, left - w); storeFirst(c11, yp + ldy + w, left - w)
                storeFirst(c21, yp + 2 * ldy + w, left - w); storeFirst(c31, yp + 3 * ldy + w, left - w)
            }
            x0 += 4
        }
        for x in x0..<n {
            let tx = t + CausalLayout.offset(x)
            var c0 = V(), c1 = V()
            var mp = m + i0
            for z in 0...x {
                let b = V(repeating: tx[z])
                c0 = c0.addingProduct(load(V.self, mp), b)
                if two { c1 = c1.addingProduct(load(V.self, mp + w), b) }
                mp += ldm
            }
            storeFirst(c0, y + i0 + x * ldy, left)
            if two { storeFirst(c1, y + i0 + w + x * ldy, left - w) }
        }
        i0 += two ? 2 * w : w
    }
}

/// `Y[:, z] = Σ_{x≥z} M[:, x]·T[z, x]` for every z < n (T upper triangular in `CausalLayout`): each
/// entry one FMA chain over x ascending. M, Y and the tiles as in `upperProduct`.
@inline(__always)
func lowerProduct<V: SIMD>(_: V.Type, n: Int, rows: Int, m: UnsafePointer<Float>, ldm: Int, t: UnsafePointer<Float>,
                           y: UnsafeMutablePointer<Float>, ldy: Int) where V.Scalar == Float {
    let w = V.scalarCount
    var i0 = 0
    while i0 < rows {
        let two = i0 + w < rows, left = rows - i0
        var z0 = 0
        while z0 + 4 <= n {
            var c00 = V(), c10 = V(), c20 = V(), c30 = V(), c01 = V(), c11 = V(), c21 = V(), c31 = V()
            // The first three x of the group: x = z0 for row 0, z0 + 1 for rows 0–1, z0 + 2 for rows 0–2.
            for x in z0...(z0 + 2) {
                let tx = t + CausalLayout.offset(x) + z0, mp = m + i0 + x * ldm
                let u = load(V.self, mp), v = two ? load(V.self, mp + w) : V()
                let b0 = V(repeating: tx[0]); c00 = c00.addingProduct(u, b0); if two { c01 = c01.addingProduct(v, b0) }
                if x >= z0 + 1 { let b = V(repeating: tx[1]); c10 = c10.addingProduct(u, b); if two { c11 = c11.addingProduct(v, b) } }
                if x >= z0 + 2 { let b = V(repeating: tx[2]); c20 = c20.addingProduct(u, b); if two { c21 = c21.addingProduct(v, b) } }
            }
            var mp = m + i0 + (z0 + 3) * ldm
            if two {
                for x in (z0 + 3)..<n {
                    let tx = t + CausalLayout.offset(x) + z0
                    let u = load(V.self, mp), v = load(V.self, mp + w)
                    let b0 = V(repeating: tx[0]), b1 = V(repeating: tx[1]), b2 = V(repeating: tx[2]), b3 = V(repeating: tx[3])
                    c00 = c00.addingProduct(u, b0); c01 = c01.addingProduct(v, b0)
                    c10 = c10.addingProduct(u, b1); c11 = c11.addingProduct(v, b1)
                    c20 = c20.addingProduct(u, b2); c21 = c21.addingProduct(v, b2)
                    c30 = c30.addingProduct(u, b3); c31 = c31.addingProduct(v, b3)
                    mp += ldm
                }
            } else {
                for x in (z0 + 3)..<n {
                    let tx = t + CausalLayout.offset(x) + z0
                    let u = load(V.self, mp)
                    c00 = c00.addingProduct(u, V(repeating: tx[0])); c10 = c10.addingProduct(u, V(repeating: tx[1]))
                    c20 = c20.addingProduct(u, V(repeating: tx[2])); c30 = c30.addingProduct(u, V(repeating: tx[3]))
                    mp += ldm
                }
            }
            let yp = y + i0 + z0 * ldy
            storeFirst(c00, yp, left); storeFirst(c10, yp + ldy, left); storeFirst(c20, yp + 2 * ldy, left); storeFirst(c30, yp + 3 * ldy, left)
            if two {
                storeFirst(c01, yp + w, left - w); storeFirst(c11, yp + ldy + w, left - w)
                storeFirst(c21, yp + 2 * ldy + w, left - w); storeFirst(c31, yp + 3 * ldy + w, left - w)
            }
            z0 += 4
        }
        for z in z0..<n {
            var c0 = V(), c1 = V()
            for x in z..<n {
                let b = V(repeating: t[CausalLayout.offset(x) + z]), mp = m + i0 + x * ldm
                c0 = c0.addingProduct(load(V.self, mp), b)
                if two { c1 = c1.addingProduct(load(V.self, mp + w), b) }
            }
            storeFirst(c0, y + i0 + z * ldy, left)
            if two { storeFirst(c1, y + i0 + w + z * ldy, left - w) }
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
    let padded = (n + 15) & ~15, rows = (max(d, dv) + 15) & ~15
    return max(d, dv) * padded + CausalLayout.offset(n) + 3 * rows * n
}

/// One block forward: `A = softmax(KᵀQ / divisor)` on the kept half into `a` (`CausalLayout`), then
/// `Y = V·A` into y. K and Q are d×n, V dv×n, Y dv×n (`p[i + j·ld]`).
@inline(__always)
func causalBlockForward<V: SIMD>(_: V.Type, n: Int, d: Int, dv: Int,
                                 k: UnsafePointer<Float>, ldk: Int, q: UnsafePointer<Float>, ldq: Int,
                                 v: UnsafePointer<Float>, ldv: Int, divisor: Float,
                                 a: UnsafeMutablePointer<Float>, y: UnsafeMutablePointer<Float>, ldy: Int,
                                 scratch: UnsafeMutablePointer<Float>) where V.Scalar == Float {
    let w = V.scalarCount, lanes = laneIndices(V.self), ldt = (n + 15) & ~15
    packTransposed(rows: d, n: n, src: k, lds: ldk, dst: scratch, ldd: ldt)
    keptDots(V.self, n: n, d: d, lt: scratch, ldt: ldt, r: q, ldr: ldq, t: a)
    for x in 0..<n { softmaxKeptColumn(a + CausalLayout.offset(x), x: x, divisor: divisor, lanes: lanes) }
    let pads = scratch + max(d, dv) * ldt + CausalLayout.offset(n)
    let (vp, ldvp) = paddedRows(rows: dv, n: n, w: w, src: v, lds: ldv, scratch: pads)
    upperProduct(V.self, n: n, rows: dv, m: vp, ldm: ldvp, t: a, y: y, ldy: ldy)
}

/// One block backward, for the cotangent G of Y (dv×n): `dA = VᵀG` on the kept half, the softmax's
/// `dS`, then `dV = G·Aᵀ`, `dQ = K·dS`, `dK = Q·dSᵀ`, each on the kept half.
@inline(__always)
func causalBlockBackward<V: SIMD>(_: V.Type, n: Int, d: Int, dv: Int,
                                  k: UnsafePointer<Float>, ldk: Int, q: UnsafePointer<Float>, ldq: Int,
                                  v: UnsafePointer<Float>, ldv: Int, divisor: Float, a: UnsafePointer<Float>,
                                  g: UnsafePointer<Float>, ldg: Int,
                                  dk: UnsafeMutablePointer<Float>, lddk: Int, dq: UnsafeMutablePointer<Float>, lddq: Int,
                                  dvOut: UnsafeMutablePointer<Float>, lddv: Int,
                                  scratch: UnsafeMutablePointer<Float>) where V.Scalar == Float {
    let w = V.scalarCount, lanes = laneIndices(V.self), ldt = (n + 15) & ~15
    let ds = scratch + max(d, dv) * ldt, pads = ds + CausalLayout.offset(n)
    packTransposed(rows: dv, n: n, src: v, lds: ldv, dst: scratch, ldd: ldt)
    keptDots(V.self, n: n, d: dv, lt: scratch, ldt: ldt, r: g, ldr: ldg, t: ds)
    for x in 0..<n {
        let o = CausalLayout.offset(x)
        softmaxKeptBackwardColumn(a + o, ds + o, x: x, divisor: divisor, lanes: lanes)
    }
    let rows = (max(d, dv) + 15) & ~15
    let (gp, ldgp) = paddedRows(rows: dv, n: n, w: w, src: g, lds: ldg, scratch: pads)
    lowerProduct(V.self, n: n, rows: dv, m: gp, ldm: ldgp, t: a, y: dvOut, ldy: lddv)
    let (kp, ldkp) = paddedRows(rows: d, n: n, w: w, src: k, lds: ldk, scratch: pads + rows * n)
    upperProduct(V.self, n: n, rows: d, m: kp, ldm: ldkp, t: ds, y: dq, ldy: lddq)
    let (qp, ldqp) = paddedRows(rows: d, n: n, w: w, src: q, lds: ldq, scratch: pads + 2 * rows * n)
    lowerProduct(V.self, n: n, rows: d, m: qp, ldm: ldqp, t: ds, y: dk, ldy: lddk)
}
