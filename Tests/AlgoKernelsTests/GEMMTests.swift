import Testing
import AlgoKernels

/// Matrices for one product with padded leading dimensions, and the comparison with the reference.
struct GEMMCase {
    let transA: Bool, transB: Bool, m: Int, n: Int, k: Int
    let alpha: Float, beta: Float
    let lda: Int, ldb: Int, ldc: Int
    var a: [Float], b: [Float], c0: [Float]

    /// Leading dimensions exceed the minimum by 3, 5 and 2; padding of C holds a sentinel that
    /// must survive; C starts as NaN when `beta == 0` (it must not be read).
    init(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1.5, beta: Float, seed: UInt64 = 1) {
        self.transA = transA; self.transB = transB; self.m = m; self.n = n; self.k = k
        self.alpha = alpha; self.beta = beta
        lda = (transA ? k : m) + 3
        ldb = (transB ? n : k) + 5
        let ldc = m + 2
        self.ldc = ldc
        var state = seed &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(m * 10_000 + n * 100 + k)
        func next() -> Float {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int64(bitPattern: state) >> 40) / Float(1 << 23)
        }
        a = (0..<(lda * (transA ? m : k))).map { _ in next() }
        b = (0..<(ldb * (transB ? k : n))).map { _ in next() }
        c0 = (0..<(ldc * n)).map { i in i % ldc >= m ? 12345 : (beta == 0 ? .nan : next()) }
    }

    /// C after `GEMM.sgemm` (on the current `Parallel.threads`) with the given blocking and vector unit.
    func fast(_ blocking: GEMM.Blocking = .standard, unit: VectorUnit = GEMM.unit) -> [Float] {
        var c = c0
        a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in c.withUnsafeMutableBufferPointer { cp in
            GEMM.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: ap.baseAddress!, lda: lda,
                       b: bp.baseAddress!, ldb: ldb, beta: beta, c: cp.baseAddress!, ldc: ldc, blocking: blocking, unit: unit)
        } } }
        return c
    }

    /// C on every vector unit this processor has (AlgoKernels' 256-bit kernels, and the 512-bit
    /// ones where the processor has AVX-512); nil, with an issue recorded, when two units disagree in
    /// any bit (both compute each entry by the same arithmetic).
    func fastOnEveryUnit(_ blocking: GEMM.Blocking = .standard) -> [Float]? {
        let results = VectorUnit.available.map { fast(blocking, unit: $0) }
        for (unit, r) in zip(VectorUnit.available, results).dropFirst() where !r.elementsEqual(results[0], by: { $0.bitPattern == $1.bitPattern }) {
            Issue.record("\(unit.bits)-bit kernels differ from the \(VectorUnit.available[0].bits)-bit ones: m=\(m) n=\(n) k=\(k) transA=\(transA) transB=\(transB)")
            return nil
        }
        return results.last
    }

    /// The first mismatch with the reference (`mismatch`) of C computed on every vector unit, or nil
    /// (also when the units disagree, which `fastOnEveryUnit` records as an issue).
    func problemOnEveryUnit(_ blocking: GEMM.Blocking = .standard) -> String? {
        guard let c = fastOnEveryUnit(blocking) else { return nil }
        return mismatch(c)
    }

    /// C after `GEMMReference.sgemm` on `a`, `b`, `c` (or on their absolute values).
    func reference(absolute: Bool = false) -> [Float] {
        let a = absolute ? self.a.map(abs) : self.a, b = absolute ? self.b.map(abs) : self.b
        var c = absolute ? c0.map { $0.isNaN ? 0 : abs($0) } : c0
        a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in c.withUnsafeMutableBufferPointer { cp in
            GEMMReference.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: absolute ? abs(alpha) : alpha,
                                a: ap.baseAddress!, lda: lda, b: bp.baseAddress!, ldb: ldb,
                                beta: absolute ? abs(beta) : beta, c: cp.baseAddress!, ldc: ldc)
        } } }
        return c
    }

    /// The first entry where `fast` and the reference differ by more than the rounding bound, or nil.
    /// Bound: each side is within (k+3)·u·(|alpha|·Σ|a·b| + |beta·c|) of the exact value (k roundings in
    /// the dot product, one each for alpha, beta and the final sum; u = 2⁻²⁴), so they are within twice that.
    func mismatch(_ got: [Float]) -> String? {
        let want = reference(), magnitude = reference(absolute: true)
        let u = Float.ulpOfOne / 2
        for j in 0..<n {
            for i in 0..<ldc {
                let e = i + j * ldc
                if i >= m {
                    if got[e] != 12345 { return "padding C[\(i), \(j)] overwritten" }
                    continue
                }
                let tolerance = 2 * Float(k + 3) * u * magnitude[e] * 1.001
                if !(abs(got[e] - want[e]) <= tolerance) {
                    return "C[\(i), \(j)] = \(got[e]), reference \(want[e]), tolerance \(tolerance)"
                }
            }
        }
        return nil
    }
}

let transposes = [(false, false), (true, false), (false, true), (true, true)]
let awkwardSizes = [1, 3, 15, 16, 17, 63, 64, 65]

@Suite struct GEMMTests {
    /// Every (m, n) pair of the awkward sizes, with k cycling through them too and beta through
    /// 0 (C is NaN), 1 and 0.5, alpha = 1.5, padded leading dimensions: a covering subset of all
    /// m × n × k combinations that stays fast in a debug build.
    @Test(arguments: transposes)
    func matchesReferenceOnAwkwardSizes(transA: Bool, transB: Bool) {
        for (i, m) in awkwardSizes.enumerated() {
            for (j, n) in awkwardSizes.enumerated() {
                let k = awkwardSizes[(i + 3 * j) % awkwardSizes.count]
                let beta: Float = [0, 1, 0.5][(i + j) % 3]
                let t = GEMMCase(transA: transA, transB: transB, m: m, n: n, k: k, beta: beta)
                let problem = t.problemOnEveryUnit()
                #expect(problem == nil, "m=\(m) n=\(n) k=\(k) beta=\(beta): \(problem ?? "")")
            }
        }
    }

    /// Every k of the awkward sizes for a few (m, n), so each k meets each transpose and beta.
    @Test(arguments: transposes)
    func matchesReferenceForEveryDepth(transA: Bool, transB: Bool) {
        for k in awkwardSizes {
            for (m, n) in [(17, 65), (65, 15), (64, 16)] {
                for beta: Float in [0, 1, 0.5] {
                    let t = GEMMCase(transA: transA, transB: transB, m: m, n: n, k: k, beta: beta)
                    let problem = t.problemOnEveryUnit()
                    #expect(problem == nil, "m=\(m) n=\(n) k=\(k) beta=\(beta): \(problem ?? "")")
                }
            }
        }
    }

    /// A tiny blocking makes small matrices cross every kc, mc and nc boundary (several k-slices,
    /// so beta is applied once and later slices add), with ragged last blocks; B packed, B read in
    /// place (when the rows fit one mc block), and all rows as one block (`wholeRows` 48 or 64:
    /// more rows than `mc`, B read in place unless transposed). Every blocking with the same kc
    /// gives the same bits.
    @Test(arguments: transposes)
    func matchesReferenceAcrossBlocks(transA: Bool, transB: Bool) {
        for (m, n, k) in [(65, 63, 17), (17, 65, 64), (63, 17, 15), (33, 25, 50), (32, 31, 20)] {
            for beta: Float in [0, 0.5] {
                let t = GEMMCase(transA: transA, transB: transB, m: m, n: n, k: k, beta: beta)
                var first: [Float]? = nil
                for (inPlace, whole) in [(0, 0), (32, 0), (0, 48), (32, 64)] {
                    let blocking = GEMM.Blocking(kc: 7, mc: 32, nc: 12, inPlaceRows: inPlace, wholeRows: whole)
                    let label = "m=\(m) n=\(n) k=\(k) beta=\(beta) inPlaceRows=\(inPlace) wholeRows=\(whole)"
                    guard let c = t.fastOnEveryUnit(blocking) else { continue }
                    #expect(t.mismatch(c) == nil, "\(label): \(t.mismatch(c) ?? "")")
                    if let first { #expect(c.elementsEqual(first) { $0.bitPattern == $1.bitPattern }, "\(label): other bits") }
                    first = first ?? c
                }
            }
        }
    }

    /// `Blocking.largeL2`'s whole-row block is 60 % of the L2 at kc = 384, in 16-row panels: 400 rows
    /// on Zen 4's 1 MB, 816 on a 2 MB L2; `smallL2` (Zen 3) has none and packs per thread.
    @Test func blockingFollowsTheL2() {
        #expect(GEMM.Blocking.largeL2(1 << 20).wholeRows == 400)
        #expect(GEMM.Blocking.largeL2(2 << 20).wholeRows == 816)
        #expect(GEMM.Blocking.largeL2(1 << 20).sharedPackingFloats == 1 << 19)
        #expect(GEMM.Blocking.smallL2.wholeRows == 0 && GEMM.Blocking.smallL2.sharedPackingFloats == .max)
        #expect(!GEMM.Blocking.smallL2.readsSharedBInPlace)
        #expect(CacheSize.bytes("1024K") == 1 << 20 && CacheSize.bytes("2M") == 2 << 20 && CacheSize.bytes("512") == 512)
        #expect(CacheSize.bytes("") == nil && CacheSize.bytes("K") == nil && CacheSize.bytes("12Q") == nil && CacheSize.bytes("-1K") == nil)
        #expect(CacheSize.cpuCount("0") == 1 && CacheSize.cpuCount("0-3\n") == 4 && CacheSize.cpuCount("0-1,8-9") == 4 && CacheSize.cpuCount("2,4") == 2)
        #expect(CacheSize.cpuCount("") == nil && CacheSize.cpuCount("3-1") == nil && CacheSize.cpuCount("0-") == nil && CacheSize.cpuCount("a") == nil
                && CacheSize.cpuCount("0--2") == nil)
        if let l2 = CacheSize.l2Bytes { #expect(l2 >= 1 << 16, "L2 of \(l2) bytes") }
    }

    /// The 512-bit path's tile edges: pairs of 16-row panels (a second panel of ≤ 8 rows is left
    /// to the 8-row kernel: m = 24, 25, 40, 41), pairs of 6-column panels and a single last one
    /// (n = 11, 12, 13, 23, 25), with B packed and read in place and a blocking whose mc and nc
    /// split the pairs. Every unit must match the reference and give the same bits.
    @Test(arguments: transposes)
    func matchesReferenceAroundWideTiles(transA: Bool, transB: Bool) {
        for (m, n, k) in [(24, 11, 9), (25, 12, 20), (31, 13, 33), (33, 23, 8), (40, 25, 17), (41, 24, 5), (97, 37, 31)] {
            for blocking in [GEMM.Blocking.standard, GEMM.Blocking(kc: 9, mc: 48, nc: 18, inPlaceRows: 0),
                             GEMM.Blocking(kc: 384, mc: 144, nc: 3072, inPlaceRows: 144)] {
                let t = GEMMCase(transA: transA, transB: transB, m: m, n: n, k: k, beta: 0.5)
                let problem = t.problemOnEveryUnit(blocking)
                #expect(problem == nil, "m=\(m) n=\(n) k=\(k) \(blocking): \(problem ?? "")")
            }
        }
    }

    /// k = 0 leaves beta · C (zero for beta = 0, even over NaN); m or n = 0 touches nothing.
    @Test func degenerateSizes() {
        var c: [Float] = [.nan, 2, 4, 8]
        let one: [Float] = [1]
        one.withUnsafeBufferPointer { p in c.withUnsafeMutableBufferPointer { cp in
            GEMM.sgemm(transA: false, transB: false, m: 2, n: 2, k: 0, alpha: 1, a: p.baseAddress!, lda: 2,
                       b: p.baseAddress!, ldb: 1, beta: 0, c: cp.baseAddress!, ldc: 2)
        } }
        #expect(c == [0, 0, 0, 0])
        c = [1, 2, 4, 8]
        one.withUnsafeBufferPointer { p in c.withUnsafeMutableBufferPointer { cp in
            GEMM.sgemm(transA: false, transB: false, m: 2, n: 2, k: 0, alpha: 1, a: p.baseAddress!, lda: 2,
                       b: p.baseAddress!, ldb: 1, beta: 0.5, c: cp.baseAddress!, ldc: 2)
            GEMM.sgemm(transA: false, transB: false, m: 0, n: 2, k: 3, alpha: 1, a: p.baseAddress!, lda: 1,
                       b: p.baseAddress!, ldb: 3, beta: 0, c: cp.baseAddress!, ldc: 1)
        } }
        #expect(c == [0.5, 1, 2, 4])
    }
}
