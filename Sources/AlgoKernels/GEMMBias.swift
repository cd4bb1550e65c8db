// A product plus a column broadcast over C's columns, `op(A)·op(B) + b 𝟏ᵀ` (the paper's
// `W X + b 𝟏ᵀ`), as one GEMM whose C starts as the bias.

extension GEMM {
    /// `C ← alpha · op(A) · op(B) + bias 𝟏ᵀ` (`bias`: m floats, `bias[i]` added to every column's row
    /// i): `sgemm` with β = 1 on a C that starts as the bias, the bits of filling C with the bias and
    /// then calling `sgemm(…, beta: 1, …)`. The fill is part of the product: each block of C is filled
    /// by the thread that computes it, just before its first k-slice, where it was a separate pass
    /// over the whole of C on the calling thread before the product (on two threads the lines then
    /// crossed between the cores' caches twice: written by the caller, then read and written by the
    /// thread of the part). C's old content is not read.
    public static func sgemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        addingColumn bias: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
              b: b, ldb: ldb, beta: 1, c: c, ldc: ldc, blocking: .standard, bias: bias)
    }

    /// `C[rows, cols] ← bias[rows] 𝟏ᵀ`.
    static func fill(_ c: UnsafeMutablePointer<Float>, ldc: Int, rows: Range<Int>, cols: Range<Int>, bias: UnsafePointer<Float>) {
        for j in cols {
            (c + rows.lowerBound + j * ldc).update(from: bias + rows.lowerBound, count: rows.count)
        }
    }
}
