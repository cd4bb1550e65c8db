// Causally masked attention on the kept half of the scores (Alg. 4 lines 4–6 with
// Mask[t_z, t_x] = [[t_z ≤ t_x]]), forward and backward, f32, for H heads at once.

/// The products and softmax of Algorithm 4, lines 4–6, when the mask is causal:
/// `S ← KᵀQ`, `S[t_z, t_x] ← −∞` for `t_z > t_x`, `Ṽ = V · softmax(S/c)` (c = √d_attn), with
/// `A = softmax(S/c)`, which is 0 below the diagonal. Only what the mask keeps is computed: the
/// tiles of KᵀQ on or above the diagonal (`GEMM.Triangle.upperC`), the softmax of each column over
/// its first t_x entries, `V·A` summing only the rows `t_z ≤ t_x` of column t_x (`.upperB`), and
/// the backward products likewise (`dV = dṼ·Aᵀ` and `dK = Q·dSᵀ` from the diagonal on, `.lowerB`;
/// `dA = Vᵀ dṼ` upper, `dQ = K·dS`). About half of the dense path's work.
///
/// Each entry is computed as the dense path computes it (the same micro-kernel, k-slices and order
/// of every sum, the softmax's 8-lane sums over the same lanes, the division by c as `S/c` does):
/// the skipped work is exactly what the dense path adds as `+0` or `exp(−∞) = 0`, so the values
/// equal the dense path's up to products the dense path computes with another kernel (its
/// smallest products, under `GEMM.smallThreshold`, use the reference loops).
///
/// Layout: a head's d×ℓ operand is an `Operand` (any BLAS layout); the weights `A` and their
/// cotangents are dense ℓ×ℓ per head, head h at `h·ℓ²`; the outputs `[r, ℓ]` per head at `h·r·ℓ`.
/// Work is shared between `Parallel.threads` threads by (head, block of columns), each product
/// computed on one thread, so results do not depend on the thread count.
public enum CausalAttention {
    /// One head's r×ℓ matrix M: `M[i, j]` at `base[i + j·ld]`, or `base[j + i·ld]` when `transposed`.
    public struct Operand: @unchecked Sendable {
        public var base: UnsafePointer<Float>
        public var ld: Int
        public var transposed: Bool
        public init(base: UnsafePointer<Float>, ld: Int, transposed: Bool) {
            self.base = base; self.ld = ld; self.transposed = transposed
        }
    }

    /// Columns per work item: a multiple of the 6-column tile and of the 16-row panel.
    public static let blockColumns = 96

    /// Work items (head, first column, end column), the costliest first: `growing` when an
    /// item's work grows with its columns (upper triangles), else shrinks (from the diagonal on).
    static func items(heads: Int, length n: Int, growing: Bool) -> [(head: Int, columns: Range<Int>)] {
        let blocks = (n + blockColumns - 1) / blockColumns
        var out: [(head: Int, columns: Range<Int>)] = []
        out.reserveCapacity(heads * blocks)
        for step in 0..<blocks {
            let b = growing ? blocks - 1 - step : step
            for h in 0..<heads { out.append((h, (b * blockColumns)..<min(n, (b + 1) * blockColumns))) }
        }
        return out
    }

    /// Runs the work items on the kernel threads, or in order on the calling thread when the whole
    /// job (`heads·ℓ²·d/2` multiply-adds, the kept half) is below `GEMM.parallelThreshold`, as a GEMM
    /// of that size would (the tiny model's heads: handing them to the other thread costs more than
    /// it saves). The items and their results are the same either way.
    static func forEach(_ count: Int, heads: Int, length n: Int, depth d: Int, _ body: (Int) -> Void) {
        if heads * n * n * d / 2 < GEMM.parallelThreshold {
            for i in 0..<count { body(i) }
        } else {
            Parallel.forEach(count, body)
        }
    }

    /// `A[:, :, h] = softmax` of each column `t_x` over its kept entries `t_z ≤ t_x` of
    /// `(K_hᵀ Q_h)/divisor`, 0 below the diagonal. K_h and Q_h are d×ℓ; `a` holds ℓ×ℓ per head.
    public static func weights(keys: [Operand], queries: [Operand], d: Int, length n: Int, divisor: Float,
                               a: UnsafeMutablePointer<Float>) {
        let work = items(heads: keys.count, length: n, growing: true)
        forEach(work.count, heads: keys.count, length: n, depth: d) { i in
            let (h, cols) = work[i]
            let ah = a + h * n * n
            GEMM.sgemm(triangle: .upperC, columns: cols, transA: !keys[h].transposed, transB: queries[h].transposed,
                       m: n, n: n, k: d, alpha: 1, a: keys[h].base, lda: keys[h].ld, b: queries[h].base, ldb: queries[h].ld,
                       beta: 0, c: ah, ldc: n)
            for x in cols { softmaxKept(ah + x * n, kept: x + 1, n: n, divisor: divisor) }
        }
    }

    /// `Y_h = V_h · A_h` summing only `t_z ≤ t_x` (A upper triangular, as `weights` leaves it).
    /// V_h is dv×ℓ; `y` holds dv×ℓ per head.
    public static func product(values: [Operand], dv: Int, length n: Int, weights a: UnsafePointer<Float>,
                               y: UnsafeMutablePointer<Float>) {
        let work = items(heads: values.count, length: n, growing: true)
        forEach(work.count, heads: values.count, length: n, depth: dv) { i in
            let (h, cols) = work[i]
            GEMM.sgemm(triangle: .upperB, columns: cols, transA: values[h].transposed, transB: false,
                       m: dv, n: n, k: n, alpha: 1, a: values[h].base, lda: values[h].ld, b: a + h * n * n, ldb: n,
                       beta: 0, c: y + h * dv * n, ldc: dv)
        }
    }

    /// The VJP of `product` for the cotangent dY (dv×ℓ per head, dense): `dV_h = dY_h · A_hᵀ`
    /// (from the diagonal on) and `dA_h` = the upper triangle of `V_hᵀ dY_h`, 0 below.
    public static func productBackward(values: [Operand], dv: Int, length n: Int, weights a: UnsafePointer<Float>,
                                       dy: UnsafePointer<Float>, dValues: UnsafeMutablePointer<Float>,
                                       dWeights: UnsafeMutablePointer<Float>) {
        let heads = values.count
        let forV = items(heads: heads, length: n, growing: false), forA = items(heads: heads, length: n, growing: true)
        forEach(forV.count + forA.count, heads: heads, length: n, depth: 2 * dv) { i in
            if i < forA.count {
                let (h, cols) = forA[i]
                let da = dWeights + h * n * n
                GEMM.sgemm(triangle: .upperC, columns: cols, transA: !values[h].transposed, transB: false,
                           m: n, n: n, k: dv, alpha: 1, a: values[h].base, lda: values[h].ld, b: dy + h * dv * n, ldb: dv,
                           beta: 0, c: da, ldc: n)
                for x in cols { (da + x * n + x + 1).update(repeating: 0, count: n - x - 1) }
            } else {
                let (h, cols) = forV[i - forA.count]
                GEMM.sgemm(triangle: .lowerB, columns: cols, transA: false, transB: true,
                           m: dv, n: n, k: n, alpha: 1, a: dy + h * dv * n, lda: dv, b: a + h * n * n, ldb: n,
                           beta: 0, c: dValues + h * dv * n, ldc: dv)
            }
        }
    }

    /// The VJP of `weights` for the cotangent dA (upper triangular, ℓ×ℓ per head): the softmax's
    /// `dS = A ⊙ (dA − Σ_{t_z} A ⊙ dA) / divisor` on the kept entries (0 below, written to
    /// `dScores`, ℓ×ℓ per head), then `dQ_h = K_h · dS_h` and `dK_h = Q_h · dS_hᵀ` (d×ℓ per head).
    public static func weightsBackward(keys: [Operand], queries: [Operand], d: Int, length n: Int, divisor: Float,
                                       weights a: UnsafePointer<Float>, dWeights: UnsafePointer<Float>,
                                       dScores: UnsafeMutablePointer<Float>,
                                       dKeys: UnsafeMutablePointer<Float>, dQueries: UnsafeMutablePointer<Float>) {
        let heads = keys.count
        let up = items(heads: heads, length: n, growing: true)
        forEach(up.count, heads: heads, length: n, depth: d) { i in
            let (h, cols) = up[i]
            let off = h * n * n
            for x in cols {
                softmaxKeptBackward(a + off + x * n, dWeights + off + x * n, dScores + off + x * n, kept: x + 1, n: n, divisor: divisor)
            }
            GEMM.sgemm(triangle: .upperB, columns: cols, transA: keys[h].transposed, transB: false,
                       m: d, n: n, k: n, alpha: 1, a: keys[h].base, lda: keys[h].ld, b: dScores + off, ldb: n,
                       beta: 0, c: dQueries + h * d * n, ldc: d)
        }
        let down = items(heads: heads, length: n, growing: false)
        forEach(down.count, heads: heads, length: n, depth: d) { i in
            let (h, cols) = down[i]
            GEMM.sgemm(triangle: .lowerB, columns: cols, transA: queries[h].transposed, transB: true,
                       m: d, n: n, k: n, alpha: 1, a: queries[h].base, lda: queries[h].ld, b: dScores + h * n * n, ldb: n,
                       beta: 0, c: dKeys + h * d * n, ldc: d)
        }
    }

    /// One column of A in place: its first `kept` scores divided by `divisor`, softmax over them,
    /// 0 for the other `n − kept`. The softmax runs over the kept entries rounded up to 8 (the rest
    /// −∞), so that its 8-lane sums are those of `FusedSoftmax` over the whole masked column.
    @inline(__always)
    static func softmaxKept(_ col: UnsafeMutablePointer<Float>, kept: Int, n: Int, divisor: Float) {
        let span = min(n, (kept + 7) / 8 * 8)
        for i in 0..<kept { col[i] = col[i] / divisor }
        for i in kept..<span { col[i] = -.infinity }
        FusedSoftmax.column(col, col, span, log: false)
        (col + span).update(repeating: 0, count: n - span)
    }

    /// One column of dS: `y ⊙ (g − Σ y⊙g) / divisor` on the first `kept` entries, 0 below (g is not
    /// read there). The dot product runs over the kept entries rounded up to 8 with the others as 0,
    /// so that its 8-lane sums are those of `FusedSoftmax.backward` over the whole column.
    @inline(__always)
    static func softmaxKeptBackward(_ y: UnsafePointer<Float>, _ g: UnsafePointer<Float>, _ ds: UnsafeMutablePointer<Float>,
                                    kept: Int, n: Int, divisor: Float) {
        let span = min(n, (kept + 7) / 8 * 8)
        let lanes = SIMD8<Float>(0, 1, 2, 3, 4, 5, 6, 7)
        var acc = SIMD8<Float>.zero
        var i = 0
        while i + 8 <= span {
            var gv = UnsafeRawPointer(g + i).loadUnaligned(as: SIMD8<Float>.self)
            if i + 8 > kept { gv = gv.replacing(with: 0, where: lanes .>= SIMD8<Float>(repeating: Float(kept - i))) }
            acc += UnsafeRawPointer(y + i).loadUnaligned(as: SIMD8<Float>.self) * gv
            i += 8
        }
        var s = acc.sum()
        while i < kept { s += y[i] * g[i]; i += 1 }
        for i in 0..<kept { ds[i] = (y[i] * (g[i] - s)) / divisor }
        (ds + kept).update(repeating: 0, count: n - kept)
    }
}
