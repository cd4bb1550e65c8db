/// The fast SGEMM: packed, cache-blocked, register tiles of 16×6 `SIMD8<Float>` FMAs (or 32×12
/// `SIMD16<Float>` ones on a processor with AVX-512, `GEMM.unit`), on `Parallel.threads` threads.
/// Same contract as `GEMMReference.sgemm`.
public enum GEMM {
    /// Cache blocking: `kc` (depth of a packed panel), `mc` (rows of the packed A block, L2),
    /// `nc` (columns of the packed B block, L3), and how the operands are read and shared between
    /// threads. The values change speed only, never results… except that `kc` decides where partial
    /// sums are rounded to C, so results are bit-identical for any thread count and any other field,
    /// but not across different `kc`.
    public struct Blocking: Sendable, Equatable {
        /// Depth of a packed panel (k-steps per micro-kernel call), ≥ 1.
        public var kc: Int
        /// Rows of op(A) packed at once (rounded up to a multiple of 16), ≥ 1.
        public var mc: Int
        /// Columns of op(B) packed at once (rounded up to a multiple of 6), ≥ 1.
        public var nc: Int
        /// A thread whose block of C has at most this many rows (and at most `mc`) reads B in
        /// place instead of packing it, when B is not transposed: with few rows each element of B
        /// is used too few times to repay the copy. 0 = always pack.
        public var inPlaceRows: Int
        /// A block of C with at most this many rows (rounded down to a multiple of 16) packs all its
        /// rows of op(A) as one block (`mc` = its rows, kept in L2) and reads a non-transposed B in
        /// place: each element of B is then read once per k-slice, so copying it would only add a
        /// pass over B. 0 = off (blocks of `mc` rows, B packed above `inPlaceRows`).
        public var wholeRows: Int
        /// A parallel call packs the operand every part needs (A when C is cut along N, B along M)
        /// once, split between the threads, when it has at least this many floats; smaller ones (and
        /// all with `Int.max`) are packed whole by every thread into its own buffer.
        public var sharedPackingFloats: Int
        /// Whether a parallel call cuts C along M and lets every part read B in place, packing no
        /// shared operand, where `GEMM.readsSharedBInPlace` says so (B not transposed and small, few
        /// rows, long k).
        public var readsSharedBInPlace: Bool
        /// A blocking; the values are rounded up to the tile sizes (`wholeRows` down).
        public init(kc: Int, mc: Int, nc: Int, inPlaceRows: Int = 0, wholeRows: Int = 0,
                    sharedPackingFloats: Int = .max, readsSharedBInPlace: Bool = false) {
            self.kc = max(1, kc)
            self.mc = (max(1, mc) + 15) / 16 * 16
            self.nc = (max(1, nc) + 5) / 6 * 6
            self.inPlaceRows = max(0, inPlaceRows)
            self.wholeRows = max(0, wholeRows) / 16 * 16
            self.sharedPackingFloats = max(0, sharedPackingFloats)
            self.readsSharedBInPlace = readsSharedBInPlace
        }
        /// Tuned for Zen 3 (32 KB L1, 512 KB L2 per core): the A block 144×384 (216 KB) sits in L2,
        /// a B panel 384×6 (9 KB) in L1; each thread of a parallel call packs the shared operand whole.
        public static let smallL2 = Blocking(kc: 384, mc: 144, nc: 3072, inPlaceRows: 128)
        /// For an L2 of `l2Bytes` ≥ 1 MB per core (Zen 4: 1 MB; the Intel Xeon of issue 13: 2 MB): as
        /// `smallL2`, plus up to 60 % of the L2 as one block of whole rows (Zen 4: 400 rows of kc = 384,
        /// 600 KB), shared operands of 2¹⁹ floats (2 MB) or more packed once between the threads, and
        /// B read in place by the parts where `readsSharedBInPlace` says. Measured on Zen 4
        /// (Sources/AlgoKernels/README.md, "Long k, and packing shared between threads"); Zen 3 had
        /// measured per-thread packing faster, and its L2 holds 170 rows of kc = 384, so it keeps `smallL2`.
        public static func largeL2(_ l2Bytes: Int) -> Blocking {
            Blocking(kc: 384, mc: 144, nc: 3072, inPlaceRows: 128, wholeRows: l2Bytes * 6 / 10 / (384 * 4),
                     sharedPackingFloats: 1 << 19, readsSharedBInPlace: true)
        }
        /// This processor's: `largeL2` where the L2 per core is at least 1 MB, else `smallL2`.
        public static let standard: Blocking = {
            if let l2 = CacheSize.l2Bytes, l2 >= 1 << 20 { return largeL2(l2) }
            return smallL2
        }()
    }

    /// Products with fewer multiply-adds than this run on the calling thread only. 2²¹: every product
    /// of the tiny model (at most 256·64·64 = 2²⁰) stays on one thread. Measured on the tiny training
    /// step on 2 threads (15:53 UTC, load 5–6 on the 2 cores, alternating runs): with 2¹⁸ its median
    /// was 7.4–15.5 ms, with every product on one thread 6.9–7.6 ms (best runs alike, 2.8–3.3 ms);
    /// a hand-off to the other core costs more than half of a 10–20 µs product gains. Products of
    /// 256·64·256 = 2²² and up still split (`algo bench gemm`: faster on 2 threads).
    public static let parallelThreshold = 1 << 21
    /// Products with fewer multiply-adds than this use the reference loops (no packing).
    public static let smallThreshold = 2048

    /// Column-major SGEMM with BLAS semantics: `C[m×n] ← alpha · op(A) · op(B) + beta · C`.
    ///
    /// `op(A)` is `m×k`: A stored `m×k` with leading dimension `lda ≥ m`, or stored `k×m`
    /// (`lda ≥ k`) when `transA`. `op(B)` is `k×n`: B stored `k×n` (`ldb ≥ k`), or `n×k`
    /// (`ldb ≥ n`) when `transB`. `ldc ≥ m`. `beta == 0` overwrites C without reading it, so NaN
    /// in C does not propagate. A, B and C must not overlap. Runs on `Parallel.threads` threads;
    /// the result is bit-identical for every thread count (C is split by output blocks, never
    /// along k). Agrees with `GEMMReference.sgemm` to rounding (the order of the sum over k differs).
    public static func sgemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
              b: b, ldb: ldb, beta: beta, c: c, ldc: ldc, blocking: .standard)
    }

    /// `sgemm` with an explicit cache blocking (for tuning, and for tests that make small
    /// matrices cross every block boundary) and vector unit (default `GEMM.unit`; one the processor
    /// lacks is replaced by `GEMM.unit`). Same contract, and the same bits, as `sgemm` above.
    ///
    /// With `bias` (m floats; then `beta` must be 1) C's old content is not read: C starts as
    /// `bias 𝟏ᵀ` and the product is added to it, `C ← alpha · op(A) · op(B) + bias 𝟏ᵀ`, the same bits
    /// as filling C with the bias first and calling with β = 1 (`GEMMBias.swift`).
    public static func sgemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, blocking: Blocking, unit: VectorUnit = GEMM.unit,
        bias: UnsafePointer<Float>? = nil
    ) {
        precondition(m >= 0 && n >= 0 && k >= 0, "sgemm: negative size m=\(m) n=\(n) k=\(k)")
        precondition(ldc >= max(1, m), "sgemm: ldc=\(ldc) < m=\(m)")
        precondition(lda >= max(1, transA ? k : m), "sgemm: lda=\(lda) too small")
        precondition(ldb >= max(1, transB ? n : k), "sgemm: ldb=\(ldb) too small")
        precondition(bias == nil || beta == 1, "sgemm: a bias needs beta = 1, not \(beta)")
        if m == 0 || n == 0 { return }
        let work = m * n * k
        if let bias, k == 0 || n == 1 || work < smallThreshold {
            fill(c, ldc: ldc, rows: 0..<m, cols: 0..<n, bias: bias)   // the small paths: C filled first
        }
        if k == 0 { scale(m: m, n: n, beta: beta, c: c, ldc: ldc); return }
        if n == 1 && work >= smallThreshold {   // one column: read A once, unpacked (GEMV.swift)
            GEMV.sgemv(transA: transA, m: m, k: k, alpha: alpha, a: a, lda: lda, b: b, incb: transB ? ldb : 1, beta: beta, c: c)
            return
        }
        if work < smallThreshold {
            GEMMReference.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                                a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
            return
        }
        var problem = Problem(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                              b: b, ldb: ldb, beta: beta, c: c, ldc: ldc, blocking: blocking)
        problem.bias = bias
        if VectorUnit.available.contains(unit) { problem.unit = unit }
        let threads = work < parallelThreshold ? 1 : Parallel.threadsHere
        if threads <= 1 {
            problem.run(rows: 0..<m, cols: 0..<n)
        } else {
            runParallel(problem, m: m, n: n, threads: threads)
        }
    }

    /// `C ← beta · C` (zero when `beta == 0`, without reading C): the whole product when k = 0.
    static func scale(m: Int, n: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        for j in 0..<n {
            let col = c + j * ldc
            for i in 0..<m { col[i] = beta == 0 ? 0 : beta * col[i] }
        }
    }
}
