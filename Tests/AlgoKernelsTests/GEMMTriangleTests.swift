import Testing
import AlgoKernels

/// `GEMM.sgemm(triangle:columns:…)` against the whole product `GEMM.sgemm` of the same operands:
/// the entries a triangle computes must be bit-identical to the whole product's (same kernel,
/// k-slices and order of every sum; for `.upperB`/`.lowerB` op(B) holds its zeros, which the whole
/// product adds as exact `+0`), entries it does not own must keep their sentinel, and columns outside
/// the range must be untouched. Small blockings make the shapes cross every k-slice, A block and
/// B slab boundary; the shapes are not multiples of the 16×6 tile.
@Suite("GEMM restricted to a triangle equals the whole product on its entries")
struct GEMMTriangleTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let triangle: GEMM.Triangle, transA: Bool, transB: Bool, m: Int, n: Int, k: Int, blocking: GEMM.Blocking
        var testDescription: String { "\(triangle) \(transA ? "Aᵀ" : "A")\(transB ? "Bᵀ" : "B") \(m)×\(k)·\(k)×\(n) kc=\(blocking.kc)" }
    }

    static let small = GEMM.Blocking(kc: 7, mc: 32, nc: 12, inPlaceRows: 16)
    static let cases: [Case] = [GEMM.Blocking.standard, small].flatMap { bl in
        [Case(triangle: .upperC, transA: true, transB: false, m: 53, n: 53, k: 19, blocking: bl),
         Case(triangle: .upperC, transA: false, transB: true, m: 100, n: 100, k: 40, blocking: bl),
         Case(triangle: .upperB, transA: false, transB: false, m: 24, n: 61, k: 61, blocking: bl),
         Case(triangle: .upperB, transA: true, transB: false, m: 7, n: 45, k: 45, blocking: bl),
         Case(triangle: .lowerB, transA: false, transB: true, m: 24, n: 61, k: 61, blocking: bl),
         Case(triangle: .lowerB, transA: true, transB: true, m: 17, n: 45, k: 50, blocking: bl)]
    } + [Case(triangle: .upperB, transA: false, transB: false, m: 64, n: 700, k: 700, blocking: .standard),
         Case(triangle: .lowerB, transA: false, transB: true, m: 64, n: 700, k: 700, blocking: .standard)]

    @Test("kept entries bit-identical to the whole product; others untouched", arguments: cases)
    func matchesWhole(_ c: Case) {
        var state: UInt64 = UInt64(c.m * 1000 + c.n * 10 + c.k)
        func next() -> Float {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int64(bitPattern: state) >> 40) / Float(1 << 23)
        }
        let lda = (c.transA ? c.k : c.m) + 1, ldb = (c.transB ? c.n : c.k) + 2, ldc = c.m + 3
        let a = (0..<(lda * (c.transA ? c.m : c.k))).map { _ in next() }
        var b = (0..<(ldb * (c.transB ? c.k : c.n))).map { _ in next() }
        // op(B)[p, j] at b[p + j·ldb], or b[j + p·ldb] transposed: zero where the triangle says so.
        for p in 0..<c.k {
            for j in 0..<c.n {
                let zero = (c.triangle == .upperB && p > j) || (c.triangle == .lowerB && p < j)
                if zero { b[c.transB ? j + p * ldb : p + j * ldb] = 0 }
            }
        }
        let sentinel: Float = 777
        var whole = [Float](repeating: sentinel, count: ldc * c.n)
        a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in whole.withUnsafeMutableBufferPointer { cp in
            GEMM.sgemm(transA: c.transA, transB: c.transB, m: c.m, n: c.n, k: c.k, alpha: 1, a: ap.baseAddress!, lda: lda,
                       b: bp.baseAddress!, ldb: ldb, beta: 0, c: cp.baseAddress!, ldc: ldc, blocking: c.blocking)
        } } }
        // Two column ranges, computed by two calls, as the attention kernels' work items do.
        let split = c.n / 3
        var part = [Float](repeating: sentinel, count: ldc * c.n)
        for cols in [split..<c.n, 0..<split] {
            a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in part.withUnsafeMutableBufferPointer { cp in
                GEMM.sgemm(triangle: c.triangle, columns: cols, transA: c.transA, transB: c.transB, m: c.m, n: c.n, k: c.k,
                           alpha: 1, a: ap.baseAddress!, lda: lda, b: bp.baseAddress!, ldb: ldb, beta: 0,
                           c: cp.baseAddress!, ldc: ldc, blocking: c.blocking)
            } } }
        }
        var mismatches = 0, computedBelow = 0
        for j in 0..<c.n {
            for i in 0..<ldc {
                let x = part[i + j * ldc], w = whole[i + j * ldc]
                if i >= c.m { if x != sentinel { mismatches += 1 }; continue }
                if c.triangle == .upperC && i > j {
                    // Below the diagonal: the whole product's value (in a tile on the diagonal) or untouched.
                    if x != sentinel { computedBelow += 1; if x != w { mismatches += 1 } }
                    continue
                }
                if x != w { mismatches += 1 }
            }
        }
        #expect(mismatches == 0, "\(mismatches) entries differ from the whole product or overwrote a skipped one")
        // Skipped: most of the strictly lower triangle (only tiles on the diagonal reach below it).
        if c.triangle == .upperC && c.m > 40 {
            #expect(computedBelow < c.m * (c.m - 1) / 4, "\(computedBelow) of \(c.m * (c.m - 1) / 2) entries below the diagonal were computed")
        }
    }
}
