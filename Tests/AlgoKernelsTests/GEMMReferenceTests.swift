import Testing
import AlgoKernels

@Suite struct GEMMReferenceTests {
    /// A hand-computed 2×3 · 3×2 product in every transpose combination (exact in Float32: small integers).
    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
    func smallProduct(transA: Bool, transB: Bool) {
        // A = [1 2 3; 4 5 6] (2×3), B = [1 0; 0 1; 1 1] (3×2), A·B = [4 5; 10 11].
        let aRows: [[Float]] = [[1, 2, 3], [4, 5, 6]]
        let bRows: [[Float]] = [[1, 0], [0, 1], [1, 1]]
        func colMajor(_ rows: [[Float]], transposed: Bool) -> [Float] {
            let r = rows.count, c = rows[0].count
            var out = [Float]()
            if transposed { for i in 0..<r { for j in 0..<c { out.append(rows[i][j]) } } } // stores rowsᵀ column-major
            else { for j in 0..<c { for i in 0..<r { out.append(rows[i][j]) } } }
            return out
        }
        let a = colMajor(aRows, transposed: transA), b = colMajor(bRows, transposed: transB)
        var c = [Float](repeating: .nan, count: 4)
        a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in c.withUnsafeMutableBufferPointer { cp in
            GEMMReference.sgemm(transA: transA, transB: transB, m: 2, n: 2, k: 3, alpha: 1,
                                a: ap.baseAddress!, lda: transA ? 3 : 2, b: bp.baseAddress!, ldb: transB ? 2 : 3,
                                beta: 0, c: cp.baseAddress!, ldc: 2)
        } } }
        #expect(c == [4, 10, 5, 11])
    }
}
