import Testing
@testable import AlgoKernels

/// `GEMM.sgemm(…, addingColumn:)`: each block of C filled with the bias by the thread that computes
/// it, just before its first k-slice. Its contract is the bits of filling the whole of C with the
/// bias first and calling `sgemm` with β = 1, which is what `Tensor.matmul(…, addingColumn:)` did
/// before; checked bit for bit on every path of `sgemm` (the reference loops below 2,048
/// multiply-adds, the one-column GEMV, k = 0, the blocked product on one thread, cut along N and
/// along M on 2 and 3 threads, edge rows, several k-slices and column slabs with a small blocking,
/// every vector unit), with C's old content NaN (it must not be read) and the padding rows of C
/// kept. Equal bits to that path mean the values are as right as `GEMMTests` shows it to be.
@Suite(.serialized) struct GEMMBiasTests: SetsThreads {
    /// C from the bias path (`fused`), and from C filled with the bias then β = 1 (`filled`).
    func both(_ t: GEMMCase, _ bias: [Float], blocking: GEMM.Blocking = .standard, unit: VectorUnit = GEMM.unit) -> (fused: [Float], filled: [Float]) {
        var fused = t.c0.map { i -> Float in i == 12345 ? 12345 : .nan }, filled = t.c0
        for j in 0..<t.n { for i in 0..<t.m { filled[i + j * t.ldc] = bias[i] } }
        t.a.withUnsafeBufferPointer { ap in t.b.withUnsafeBufferPointer { bp in bias.withUnsafeBufferPointer { bias in
            fused.withUnsafeMutableBufferPointer { cp in
                GEMM.sgemm(transA: t.transA, transB: t.transB, m: t.m, n: t.n, k: t.k, alpha: t.alpha, a: ap.baseAddress!, lda: t.lda,
                           b: bp.baseAddress!, ldb: t.ldb, beta: 1, c: cp.baseAddress!, ldc: t.ldc, blocking: blocking, unit: unit,
                           bias: bias.baseAddress!)
            }
            filled.withUnsafeMutableBufferPointer { cp in
                GEMM.sgemm(transA: t.transA, transB: t.transB, m: t.m, n: t.n, k: t.k, alpha: t.alpha, a: ap.baseAddress!, lda: t.lda,
                           b: bp.baseAddress!, ldb: t.ldb, beta: 1, c: cp.baseAddress!, ldc: t.ldc, blocking: blocking, unit: unit)
            }
        } } }
        return (fused, filled)
    }

    /// How many entries differ in their bit patterns.
    static func differing(_ x: [Float], _ y: [Float]) -> Int { zip(x, y).filter { $0.bitPattern != $1.bitPattern }.count }

    static func bias(_ m: Int) -> [Float] { (0..<m).map { Float($0 % 7) * 0.375 - 1.1 } }

    @Test(arguments: transposes)
    func everyPathGivesTheBitsOfTheFilledProduct(transA: Bool, transB: Bool) {
        // (m, n, k): reference loops, one column, k = 0, blocked on one thread with edge rows, then
        // split: cut along N (65 rows: the edge in every part), along M (N narrow), the B = 8 shape.
        let shapes = [(5, 7, 9), (70, 1, 50), (33, 20, 0), (53, 40, 70), (65, 260, 130), (257, 101, 90), (64, 512, 64)]
        for (m, n, k) in shapes {
            let t = GEMMCase(transA: transA, transB: transB, m: m, n: n, k: k, beta: 1)
            let bias = Self.bias(m)
            for threads in [1, 2, 3] {
                for unit in VectorUnit.available {
                    let (fused, filled) = with(threads: threads) { both(t, bias, unit: unit) }
                    #expect(Self.differing(fused, filled) == 0, "m=\(m) n=\(n) k=\(k) \(threads) threads \(unit.bits)-bit")
                }
                // Several k-slices (the bias only before the first), column slabs, B packed or in place.
                for inPlace in [0, 64] {
                    let small = GEMM.Blocking(kc: 16, mc: 32, nc: 12, inPlaceRows: inPlace)
                    let (fused, filled) = with(threads: threads) { both(t, bias, blocking: small) }
                    #expect(Self.differing(fused, filled) == 0, "m=\(m) n=\(n) k=\(k) \(threads) threads, small blocking")
                }
            }
        }
    }

    /// The public entry (standard blocking) is the same product, and the bias really is added.
    @Test func publicEntryAddsTheBias() {
        let t = GEMMCase(transA: false, transB: false, m: 40, n: 30, k: 20, alpha: 1, beta: 1)
        let bias = Self.bias(40)
        var c = t.c0.map { $0 == 12345 ? 12345 : Float.nan }, plain = t.c0
        t.a.withUnsafeBufferPointer { ap in t.b.withUnsafeBufferPointer { bp in bias.withUnsafeBufferPointer { bias in
            c.withUnsafeMutableBufferPointer { cp in
                GEMM.sgemm(transA: false, transB: false, m: 40, n: 30, k: 20, alpha: 1, a: ap.baseAddress!, lda: t.lda,
                           b: bp.baseAddress!, ldb: t.ldb, addingColumn: bias.baseAddress!, c: cp.baseAddress!, ldc: t.ldc)
            }
            plain.withUnsafeMutableBufferPointer { cp in
                GEMM.sgemm(transA: false, transB: false, m: 40, n: 30, k: 20, alpha: 1, a: ap.baseAddress!, lda: t.lda,
                           b: bp.baseAddress!, ldb: t.ldb, beta: 0, c: cp.baseAddress!, ldc: t.ldc)
            }
        } } }
        let filled = both(t, bias).filled
        #expect(zip(c, filled).filter { $0.bitPattern != $1.bitPattern }.isEmpty, "the bits of C filled with the bias, then β = 1")
        // Against the product alone: c − bias is the product to within the rounding of one addition.
        for j in 0..<30 {
            for i in 0..<40 {
                let got = c[i + j * t.ldc], want = plain[i + j * t.ldc] + bias[i]
                #expect(got == want, "(\(i), \(j)): \(got) vs \(want)")
            }
        }
    }
}
