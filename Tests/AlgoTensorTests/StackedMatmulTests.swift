import Testing
@testable import AlgoTensor

/// The head-batched product (`Tensor.stackedRowsProduct`): A `[m, k, H]` laid out as the rows
/// `[A_1; …; A_H]` times a B shared by all heads is one GEMM `[m·H, k]·[k, n]`. Each entry is a
/// Float32 dot product like the per-head product's, but the GEMM may take another micro-kernel for
/// m·H rows than for m (so the rounding may differ): both are checked against the Float64 product
/// within the error bound of a Float32 dot product, |error| ≤ (k+2)·2⁻²⁴·Σₚ|a_ip·b_pj|. The
/// stacking the interpreter does (concat, reshape, permute, broadcast) is gradient-checked.
@Suite struct StackedMatmulTests {
    /// Heads stacked as the interpreter stacks `W^h_q`: `[W^1; …; W^H]` reshaped to `[m, H, k]`, permuted to `[m, k, H]`.
    static func stacked(_ heads: [Tensor]) -> Tensor {
        let m = heads[0].shape[0], k = heads[0].shape[1]
        return Tensor.concat(heads, axis: 0).reshaped([m, heads.count, k]).permuted([0, 2, 1])
    }

    @Test(arguments: [false, true])
    func matchesPerHeadProducts(transposeB: Bool) {
        var rng = RandomGenerator(seed: 7)
        // Sizes around the GEMM's register tile (16×6) and blocking, and one with k beyond a kc block.
        for (m, k, n, h) in [(5, 3, 4, 2), (16, 37, 6, 3), (64, 384, 40, 6), (17, 600, 33, 4)] {
            let heads = (0..<h).map { _ in Tensor.normal([m, k], dtype: .f32, using: &rng) }
            let a = Self.stacked(heads)
            #expect(a.strides == [1, m * h, m])
            let b2 = Tensor.normal(transposeB ? [n, k] : [k, n], dtype: .f32, using: &rng)
            let b = b2.reshaped(b2.shape + [1]).broadcast(to: b2.shape + [h])
            #expect(Tensor.stackedRowsProduct(a, b, transposeA: false, transposeB: transposeB, [m, n, h]) != nil)
            let c = Tensor.matmul(a, b, transposeB: transposeB)
            #expect(c.shape == [m, n, h])
            let b64 = b2.converted(to: .f64)
            for i in 0..<h {
                let exact = Tensor.matmul(heads[i].converted(to: .f64), b64, transposeB: transposeB).doubles
                let absA = heads[i].converted(to: .f64).doubles.map(abs), absB = b64.doubles.map(abs)
                let scale = Tensor.matmul(Tensor(shape: [m, k], values: absA, dtype: .f64), Tensor(shape: b2.shape, values: absB, dtype: .f64), transposeB: transposeB).doubles
                let stackedHead = c.slice(lower: [0, 0, i], upper: [m, n, i + 1]).doubles
                let perHead = Tensor.matmul(heads[i], b2, transposeB: transposeB).doubles
                for j in 0..<(m * n) {
                    let bound = Double(k + 2) * 0x1p-24 * scale[j]
                    #expect(abs(stackedHead[j] - exact[j]) <= bound, "\(m)×\(k)·\(k)×\(n), head \(i), entry \(j)")
                    #expect(abs(perHead[j] - exact[j]) <= bound)
                }
            }
        }
    }

    /// Other layouts take the per-batch loop (the fast path must not misread them).
    @Test func otherLayoutsAreNotStacked() {
        var rng = RandomGenerator(seed: 8)
        let dense = Tensor.normal([4, 3, 2], dtype: .f32, using: &rng)  // contiguous: A_h are blocks, not rows
        let b = Tensor.normal([3, 5], dtype: .f32, using: &rng).reshaped([3, 5, 1]).broadcast(to: [3, 5, 2])
        #expect(Tensor.stackedRowsProduct(dense, b, transposeA: false, transposeB: false, [4, 5, 2]) == nil)
        let c = Tensor.matmul(dense, b)
        for i in 0..<2 {
            let expected = Tensor.matmul(dense.slice(lower: [0, 0, i], upper: [4, 3, i + 1]).reshaped([4, 3]), b.slice(lower: [0, 0, 0], upper: [3, 5, 1]).reshaped([3, 5]))
            #expect(c.slice(lower: [0, 0, i], upper: [4, 5, i + 1]).floats == expected.floats)
        }
    }

    /// The stacking and the broadcast product differentiate like the per-head products (f64 finite differences).
    @Test func stackingGradient() {
        var rng = RandomGenerator(seed: 9)
        let w = (0..<3).map { _ in GradCheck.normal([2, 4], &rng) }
        let x = GradCheck.normal([4, 5], &rng)
        GradCheck.check(w + [x]) { v in
            let a = Variable.concat(Array(v[0..<3]), axis: 0).reshaped([2, 3, 4]).permuted([0, 2, 1])
            let b = v[3].reshaped([4, 5, 1]).broadcast(to: [4, 5, 3])
            return a.matmul(b)
        }
    }
}
