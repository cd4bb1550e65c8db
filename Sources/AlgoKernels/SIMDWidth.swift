// Code written once for every vector width. This file is compiled into AlgoKernels (`SIMD8<Float>`,
// 256-bit) and, through the symlink Sources/AlgoKernelsAVX512/SIMDWidth.swift, into AlgoKernelsAVX512
// (`SIMD16<Float>`, 512-bit): generic, always inlined, so that each module specialises it for its
// own vectors with its own `-target-cpu` (a generic called across modules would be compiled with the
// caller's flags). Internal in both modules, so the two copies never clash.

/// `c[0..<count] ← alpha · v + beta · c` (without reading c when `beta == 0`); a vector store when
/// `count` is the whole vector. Both paths round the same way (`alpha · v` rounded, then one fused
/// multiply-add), so an element's value does not depend on whether it falls in an edge tile, nor on
/// the vector width: GEMM's results are bit-identical for every split of C and on either path.
@inline(__always)
func storeLanes<V: SIMD>(_ v: V, _ c: UnsafeMutablePointer<Float>, _ count: Int, _ alpha: Float, _ beta: Float) where V.Scalar == Float {
    let raw = UnsafeMutableRawPointer(c)
    if count == V.scalarCount {
        var r = alpha * v
        if beta != 0 { r = r.addingProduct(beta, raw.loadUnaligned(as: V.self)) }
        raw.storeBytes(of: r, as: V.self)
    } else {
        for l in 0..<count {
            let r = alpha * v[l]
            c[l] = beta == 0 ? r : r.addingProduct(beta, c[l])
        }
    }
}

/// Writes the first `lo` (≤ one vector) lanes of `v0`, then the first `hi` lanes of `v1` after them:
/// one column of a register tile two vectors high.
@inline(__always)
func storeColumn<V: SIMD>(_ v0: V, _ v1: V, _ c: UnsafeMutablePointer<Float>,
                          _ lo: Int, _ hi: Int, _ alpha: Float, _ beta: Float) where V.Scalar == Float {
    storeLanes(v0, c, lo, alpha, beta)
    if hi > 0 { storeLanes(v1, c + V.scalarCount, hi, alpha, beta) }
}

/// `iterations` rounds of 12 independent fused multiply-add chains on `V` (12 chains cover the
/// 4-cycle latency of two FMA pipes with room to spare), returning a value that depends on all of
/// them so that nothing is optimised away: 24 · `V.scalarCount` flops per round.
@inline(__always)
func fmaChains<V: SIMD>(_: V.Type, iterations: Int, x: Float, y: Float) -> Float where V.Scalar == Float {
    let a = V(repeating: x), b = V(repeating: y)
    var c0 = V(repeating: 0), c1 = c0 + 1, c2 = c0 + 2, c3 = c0 + 3
    var c4 = c0 + 4, c5 = c0 + 5, c6 = c0 + 6, c7 = c0 + 7
    var c8 = c0 + 8, c9 = c0 + 9, c10 = c0 + 10, c11 = c0 + 11
    for _ in 0..<iterations {
        c0 = c0.addingProduct(a, b); c1 = c1.addingProduct(a, b)
        c2 = c2.addingProduct(a, b); c3 = c3.addingProduct(a, b)
        c4 = c4.addingProduct(a, b); c5 = c5.addingProduct(a, b)
        c6 = c6.addingProduct(a, b); c7 = c7.addingProduct(a, b)
        c8 = c8.addingProduct(a, b); c9 = c9.addingProduct(a, b)
        c10 = c10.addingProduct(a, b); c11 = c11.addingProduct(a, b)
    }
    let s = ((c0 + c1) + (c2 + c3)) + ((c4 + c5) + (c6 + c7)) + ((c8 + c9) + (c10 + c11))
    return s.sum()
}
