// Products restricted to a triangle: the matrix products of causally masked attention (Alg. 4 with
// Mask[t_z, t_x] = [[t_z ≤ t_x]]), where half of the scores are −∞ and half of the weights 0.

extension GEMM {
    /// Which part of `C ← op(A)·op(B)` a product computes. Indices are those of the whole product
    /// (row i and column j of C, step p of the sum), whatever block of C a call computes.
    ///
    /// The skipping is by 16×6 tile of C and by k-step of a tile: the tiles a triangle needs are
    /// computed exactly as in the whole product (same kernel, same k-slices, same order of the
    /// sum, so each entry is bit-identical to the whole product's, given op(B)'s zeros), the others
    /// are not touched.
    public enum Triangle: Sendable, Equatable {
        /// The whole product.
        case none
        /// Only `C[i, j]` with `i ≤ j` (the kept scores `KᵀQ`, `Vᵀ dṼ`): tiles wholly below the
        /// diagonal are neither computed nor written; entries below the diagonal inside the tiles
        /// that are computed hold their product values.
        case upperC
        /// `op(B)[p, j] = 0` for `p > j` (op(B) upper triangular: `V·A`, `K·dS`): column j sums
        /// over `p ≤ j` only (per tile: `p` below the tile's last column).
        case upperB
        /// `op(B)[p, j] = 0` for `p < j` (op(B) lower triangular: `dṼ·Aᵀ`, `Q·dSᵀ`): column j sums
        /// over `p ≥ j` only (per tile: from the tile's first column). Requires `n ≤ k`, so that every column has a step.
        case lowerB

        /// The k-steps a slab of columns needs: `kFrom..<kTo`.
        func depths(columns: Range<Int>, k: Int) -> (Int, Int) {
            switch self {
            case .none, .upperC: return (0, k)
            case .upperB: return (0, min(k, columns.upperBound))
            case .lowerB: return (min(k, columns.lowerBound), k)
            }
        }

        /// The end of the rows of C that columns `columns` need, whole 16-row panels from
        /// `rows.lowerBound` (so the panels are those of the whole product).
        func rowEnd(columns: Range<Int>, rows: Range<Int>) -> Int {
            guard self == .upperC else { return rows.upperBound }
            let needed = max(0, columns.upperBound - rows.lowerBound)
            return min(rows.upperBound, rows.lowerBound + (needed + mr - 1) / mr * mr)
        }

        /// One 6-column tile's work in the k-slice `slice..<slice + depth`: `skip` steps from the
        /// slice's start, then `depth` steps (0: nothing to do in this slice); `first` when this is
        /// the first slice the tile sums (where `beta` applies); the end of the rows it needs.
        struct Tile {
            var skip = 0
            var depth: Int
            var first: Bool
            var rowEnd: Int
        }

        func tile(columns: Range<Int>, slice pc: Int, depth kcNow: Int, k: Int, rows: Range<Int>) -> Tile {
            switch self {
            case .none:
                return Tile(depth: kcNow, first: pc == 0, rowEnd: rows.upperBound)
            case .upperC:
                return Tile(depth: kcNow, first: pc == 0, rowEnd: rowEnd(columns: columns, rows: rows))
            case .upperB:
                return Tile(depth: min(kcNow, min(k, columns.upperBound) - pc), first: pc == 0, rowEnd: rows.upperBound)
            case .lowerB:
                let start = columns.lowerBound
                if start >= pc + kcNow { return Tile(depth: 0, first: false, rowEnd: rows.upperBound) }
                let skip = max(start, pc) - pc
                return Tile(skip: skip, depth: kcNow - skip, first: pc <= start, rowEnd: rows.upperBound)
            }
        }
    }

    /// The columns `columns` of `C ← alpha · op(A) · op(B) + beta · C` restricted to `triangle`, on
    /// the calling thread only (for callers that share work between threads themselves, e.g. one
    /// item per head and block of columns). Same operands and layouts as `sgemm`; C's columns
    /// outside `columns`, and for `.upperC` its tiles below the diagonal, are not written. For
    /// `.upperB` / `.lowerB` op(B) must hold its zeros (the sum skips them, it does not check them).
    public static func sgemm(
        triangle: Triangle, columns: Range<Int>, transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, blocking: Blocking = .standard
    ) {
        precondition(m >= 0 && n >= 0 && k >= 0, "sgemm(triangle:): negative size m=\(m) n=\(n) k=\(k)")
        precondition(columns.lowerBound >= 0 && columns.upperBound <= n, "sgemm(triangle:): columns \(columns) of \(n)")
        precondition(triangle != .lowerB || n <= k, "sgemm(triangle: .lowerB): n=\(n) > k=\(k)")
        precondition(ldc >= max(1, m), "sgemm: ldc=\(ldc) < m=\(m)")
        precondition(lda >= max(1, transA ? k : m), "sgemm: lda=\(lda) too small")
        precondition(ldb >= max(1, transB ? n : k), "sgemm: ldb=\(ldb) too small")
        if m == 0 || columns.isEmpty { return }
        if k == 0 {
            scale(m: m, n: columns.count, beta: beta, c: c + columns.lowerBound * ldc, ldc: ldc)
            return
        }
        var problem = Problem(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                              b: b, ldb: ldb, beta: beta, c: c, ldc: ldc, blocking: blocking)
        problem.triangle = triangle
        problem.run(rows: 0..<m, cols: columns)
    }
}
