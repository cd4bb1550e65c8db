/// The reference SGEMM: plain loops, no blocking, the oracle every fast kernel is tested against.
///
/// Column-major, BLAS semantics: `C[m×n] ← alpha · op(A) · op(B) + beta · C`, where
/// `op(A)` is `m×k` (A stored `m×k` with leading dimension `lda ≥ m`, or `k×m` when `transA`),
/// `op(B)` is `k×n` (B stored `k×n`, `ldb ≥ k`, or `n×k` when `transB`), `ldc ≥ m`.
/// Element (i, j) of a column-major matrix with leading dimension `ld` is at `i + j·ld`.
/// `beta == 0` overwrites C without reading it (so NaN in C does not propagate).
public enum GEMMReference {
    public static func sgemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        for j in 0..<n {
            for i in 0..<m {
                var acc: Float = 0
                for p in 0..<k {
                    let av = transA ? a[p + i * lda] : a[i + p * lda]
                    let bv = transB ? b[j + p * ldb] : b[p + j * ldb]
                    acc += av * bv
                }
                let old = beta == 0 ? 0 : beta * c[i + j * ldc]
                c[i + j * ldc] = alpha * acc + old
            }
        }
    }
}
