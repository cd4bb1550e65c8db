import Testing
import AlgoKernels

/// One column (n = 1) runs as a matrix-vector product read in place (`GEMV.swift`), not through the
/// packed kernel: checked against the reference loops with the same rounding bound as every GEMM
/// (`GEMMCase.mismatch`), on row counts around its 64-row and 8-row blocks and depths around its
/// 16-wide dot products, each transpose, beta 0 (C starts as NaN), 1 and 0.5, padded leading dimensions.
@Suite struct GEMVTests {
    @Test(arguments: transposes)
    func oneColumnMatchesReference(transA: Bool, transB: Bool) {
        for m in [1, 7, 8, 63, 64, 65, 130, 385] {
            for k in [17, 64, 100, 384] where m * k >= GEMM.smallThreshold {
                for beta: Float in [0, 1, 0.5] {
                    let t = GEMMCase(transA: transA, transB: transB, m: m, n: 1, k: k, beta: beta)
                    let problem = t.mismatch(t.fast())
                    #expect(problem == nil, "m=\(m) k=\(k) beta=\(beta): \(problem ?? "")")
                }
            }
        }
    }
}
