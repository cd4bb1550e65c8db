import Testing
import AlgoKernels

/// The edge kernels (GEMMEdge.swift): the rows of C past the last full 16-row panel. Checked
/// against `GEMMReference` with `GEMMCase.mismatch`'s bound, 2·(k+3)·u·(|alpha|·Σ|a·b| + |beta·c|):
/// an edge entry of the dot kernels (B not transposed) is 8 chains of ⌈k/8⌉ fused multiply-adds
/// added in a 3-level tree, of the row kernels (B transposed) one chain of k; either way a term
/// passes through at most k roundings (tree additions with a chain that is still +0 are exact),
/// plus alpha and the final fused multiply-add with beta·C: within (k+2)·u of the exact value, as
/// the reference is, hence the bound. Every case runs on every vector unit, which must agree bit for
/// bit (the 512-bit path uses the same edge kernels).
@Suite struct GEMMEdgeTests {
    /// Heights whose edge is 1…15 rows (and m < 16, all edge), so that every mix of 4-, 2- and
    /// 1-row tiles occurs; 65 is the unembedding's N_V.
    static let heights = [1, 2, 3, 4, 5, 7, 9, 15, 17, 18, 19, 21, 23, 31, 65, 79]
    /// Widths around the row kernels' windows (24, 48, 96 columns: below 24 the scalar chains; a
    /// width not a multiple of 8 shifts the last window) and the dot kernels' tiles (3, 6, 12).
    static let widths = [1, 3, 5, 13, 23, 24, 30, 47, 48, 50, 95, 96, 101, 131]
    /// Depths around the dot kernels' 8-step vectors (a tail of 1…7 steps, or none).
    static let depths = [1, 7, 8, 9, 15, 16, 17, 64, 65]

    @Test(arguments: transposes)
    func everyEdgeHeightWidthAndDepth(transA: Bool, transB: Bool) {
        for (i, m) in Self.heights.enumerated() {
            for (j, n) in Self.widths.enumerated() {
                let k = Self.depths[(i + 2 * j) % Self.depths.count]
                let beta: Float = [0, 0.5, 1][(i + j) % 3]
                let t = GEMMCase(transA: transA, transB: transB, m: m, n: n, k: k, beta: beta)
                let problem = t.problemOnEveryUnit()
                #expect(problem == nil, "m=\(m) n=\(n) k=\(k) beta=\(beta): \(problem ?? "")")
            }
        }
    }

    /// Small blockings: several k-slices (beta applied in the first only; the dot kernels' 8-step
    /// chains restart per slice, whose depth 7 or 9 leaves a tail), column slabs of 12 or 18 (the row
    /// kernels' windows reach past a slab's columns, which they read and must not write), A blocks of
    /// 32 rows, B packed or read in place.
    @Test(arguments: transposes)
    func edgeAcrossBlocks(transA: Bool, transB: Bool) {
        for (m, n, k) in [(65, 101, 30), (21, 50, 17), (7, 130, 23), (47, 26, 40)] {
            for blocking in [GEMM.Blocking(kc: 7, mc: 32, nc: 12, inPlaceRows: 0), GEMM.Blocking(kc: 9, mc: 48, nc: 18, inPlaceRows: 48)] {
                for beta: Float in [0, 0.5] {
                    let t = GEMMCase(transA: transA, transB: transB, m: m, n: n, k: k, beta: beta)
                    let problem = t.problemOnEveryUnit(blocking)
                    #expect(problem == nil, "m=\(m) n=\(n) k=\(k) beta=\(beta) \(blocking): \(problem ?? "")")
                }
            }
        }
    }

    /// Non-finite entries of A or B past the k-slice's end must not reach C: the dot kernels' last
    /// vector step copies only the slice's k-steps of B (a 0 · ∞ in its padding would make NaN).
    @Test(arguments: [false, true])
    func padsOfTheLastVectorStepReadNothingOutside(transB: Bool) {
        var t = GEMMCase(transA: false, transB: transB, m: 17, n: 30, k: 13, beta: 0)
        // B's padding rows (k ≤ p < ldb when not transposed) hold infinities.
        if !transB {
            for j in 0..<t.n { for p in t.k..<t.ldb { t.b[p + j * t.ldb] = .infinity } }
        }
        guard let c = t.fastOnEveryUnit() else { return }
        #expect(t.mismatch(c) == nil)
        #expect(!c.contains { $0.isNaN })
    }
}
