// Computing the edge rows of a block of C (the kernels and their arithmetic: GEMMEdgeKernel.swift).

extension GEMM.Problem {
    /// `C[rows, cols] ← alpha · op(A)[rows, p0..<p0+depth] · op(B)[p0..<p0+depth, cols] + betaNow · C`
    /// for edge rows (`rows` within `edgeFrom..<m`), with the rows of op(A) packed by `packEdgeA` at
    /// `aEdge` (row stride `stride`). Tiles of 4, then 2, then 1 rows.
    func edge(rows: Range<Int>, cols: Range<Int>, p0: Int, depth: Int, aEdge: UnsafePointer<Float>, stride: Int, betaNow: Float) {
        var i = rows.lowerBound
        while i < rows.upperBound {
            let left = rows.upperBound - i
            let ap = aEdge + (i - rows.lowerBound) * stride
            if !transB {
                let tileRows = left >= 4 ? 4 : left >= 2 ? 2 : 1, width = tileRows == 1 ? 8 : 12 / tileRows
                var j = cols.lowerBound
                while j < cols.upperBound {
                    let w = min(width, cols.upperBound - j), bp = b + p0 + j * ldb, cp = c + i + j * ldc
                    if tileRows == 4 {
                        GEMM.edgeDot4x3(depth: depth, a: ap, aStride: stride, b: bp, ldb: ldb, cols: w, c: cp, ldc: ldc, alpha: alpha, beta: betaNow)
                    } else if tileRows == 2 {
                        GEMM.edgeDot2x6(depth: depth, a: ap, aStride: stride, b: bp, ldb: ldb, cols: w, c: cp, ldc: ldc, alpha: alpha, beta: betaNow)
                    } else {
                        GEMM.edgeDot1x8(depth: depth, a: ap, aStride: stride, b: bp, ldb: ldb, cols: w, c: cp, ldc: ldc, alpha: alpha, beta: betaNow)
                    }
                    j += w
                }
                i += tileRows
                continue
            }
            // A window of 96/R columns must fit in op(B)'s n: with fewer columns, more rows per tile
            // (the spare rows repeat row 0 and are not stored); below 24 columns, scalar chains.
            var tileRows = left >= 4 ? 4 : left >= 2 ? 2 : 1
            while tileRows < 4 && n < 96 / tileRows { tileRows *= 2 }
            let live = min(tileRows, left), width = 96 / tileRows
            if n < width {
                edgeScalar(rows: i..<(i + live), cols: cols, p0: p0, depth: depth, a: ap, stride: stride, betaNow: betaNow)
            } else {
                // Windows from the left; the last one ends at the range's end (or at n), recomputing
                // a few columns of the one before it (each entry is its own chain: same bits).
                var j = cols.lowerBound
                while j < cols.upperBound {
                    let js = min(j, n - width)
                    let bp = b + js + p0 * ldb, cp = c + i + js * ldc
                    let from = j - js, to = min(cols.upperBound, js + width) - js
                    if tileRows == 4 {
                        GEMM.edgeRow4x3(depth: depth, a: ap, aStride: stride, rows: live, b: bp, ldb: ldb, from: from, to: to, c: cp, ldc: ldc, alpha: alpha, beta: betaNow)
                    } else if tileRows == 2 {
                        GEMM.edgeRow2x6(depth: depth, a: ap, aStride: stride, rows: live, b: bp, ldb: ldb, from: from, to: to, c: cp, ldc: ldc, alpha: alpha, beta: betaNow)
                    } else {
                        GEMM.edgeRow1x12(depth: depth, a: ap, aStride: stride, rows: live, b: bp, ldb: ldb, from: from, to: to, c: cp, ldc: ldc, alpha: alpha, beta: betaNow)
                    }
                    j = js + width
                }
            }
            i += live
        }
    }

    /// The row kernels' arithmetic one entry at a time (op(B) narrower than 24 columns): each entry
    /// one chain of fused multiply-adds over k in order.
    func edgeScalar(rows: Range<Int>, cols: Range<Int>, p0: Int, depth: Int, a: UnsafePointer<Float>, stride: Int, betaNow: Float) {
        for (r, i) in rows.enumerated() {
            for j in cols {
                var s: Float = 0
                for p in 0..<depth { s = s.addingProduct(a[r * stride + p], b[j + (p0 + p) * ldb]) }
                GEMM.storeEntry(s, c + i + j * ldc, alpha, betaNow)
            }
        }
    }
}
