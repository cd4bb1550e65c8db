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

    /// |t| entry by entry, f64 (the scale of a dot product's error bound).
    static func absolute(_ t: Tensor) -> Tensor { Tensor(shape: t.shape, values: t.doubles.map(abs), dtype: .f64) }

    /// B given once as a matrix (`[m, k, H]·[k, n]`, as `W^h_q X` runs): the same products as B
    /// broadcast over the heads, forward and backward. Forward: one GEMM of the stacked rows, so each
    /// entry is the same kind of Float32 dot product as the broadcast path's (bound as above).
    /// Backward: dA = G·op(B)ᵀ and dB = Σ_h (A_hᵀ g_h) as one GEMM over the m·H stacked rows, so dB
    /// sums over heads in the GEMM's order instead of the per-head products then a sum: both checked
    /// against the Float64 VJP of the broadcast form within the bound of a Float32 dot product over
    /// its whole length (k' = m·H terms for dB, n for dA): |error| ≤ (k'+2)·2⁻²⁴·Σ|terms|.
    @Test(arguments: [false, true])
    func sharedOperandMatchesBroadcast(transposeB: Bool) {
        var rng = RandomGenerator(seed: 11)
        for (m, k, n, h) in [(5, 3, 4, 2), (16, 64, 70, 4), (17, 33, 9, 3)] {
            let heads = (0..<h).map { _ in Tensor.normal([m, k], dtype: .f32, using: &rng) }
            for dense in [false, true] {
                // The interpreter's stacked layout, and a contiguous one (copied to stacked rows).
                let a = dense ? Self.stacked(heads).contiguous() : Self.stacked(heads)
                let b2 = Tensor.normal(transposeB ? [n, k] : [k, n], dtype: .f32, using: &rng)
                let b3 = b2.reshaped(b2.shape + [1]).broadcast(to: b2.shape + [h])
                let bias = Tensor.normal([m, 1, h], dtype: .f32, using: &rng)
                let c = Tensor.matmul(a, b2, transposeB: transposeB, addingColumn: bias)
                let reference = Tensor.matmul(a, b3, transposeB: transposeB, addingColumn: bias)
                #expect(c.shape == [m, n, h])
                let exact = Tensor.matmul(a.converted(to: .f64), b3.converted(to: .f64), transposeB: transposeB,
                                          addingColumn: bias.converted(to: .f64)).doubles
                let scale = Tensor.matmul(Self.absolute(a.converted(to: .f64)), Self.absolute(b3.converted(to: .f64)), transposeB: transposeB,
                                          addingColumn: Self.absolute(bias.converted(to: .f64))).doubles
                let got = c.doubles, ref = reference.doubles
                for j in got.indices {
                    let bound = Double(k + 3) * 0x1p-24 * scale[j]
                    #expect(abs(got[j] - exact[j]) <= bound && abs(ref[j] - exact[j]) <= bound, "forward \(m)×\(k)×\(n)×\(h), entry \(j)")
                }
                // Backward through the rule, against the broadcast form's VJP in Float64.
                let g = Tensor.normal([m, n, h], dtype: .f32, using: &rng)
                let rule = MatmulRule(transposeA: false, transposeB: transposeB)
                let fast = rule.vjp([a, b2], output: c, cotangent: g)
                let slow = rule.vjp([a.converted(to: .f64), b3.converted(to: .f64)], output: c.converted(to: .f64), cotangent: g.converted(to: .f64))
                let slowAbs = rule.vjp([Self.absolute(a.converted(to: .f64)), Self.absolute(b3.converted(to: .f64))], output: c.converted(to: .f64),
                                       cotangent: Self.absolute(g.converted(to: .f64)))
                #expect(fast[0].shape == a.shape && fast[1].shape == b2.shape)
                let dA = fast[0].doubles, dAExact = slow[0].doubles, dAScale = slowAbs[0].doubles
                for j in dA.indices {
                    #expect(abs(dA[j] - dAExact[j]) <= Double(n + 2) * 0x1p-24 * dAScale[j], "dA \(m)×\(k)×\(n)×\(h), entry \(j)")
                }
                let dB = fast[1].doubles, dBExact = slow[1].sumToShape(b2.shape + [1]).doubles, dBScale = slowAbs[1].sumToShape(b2.shape + [1]).doubles
                for j in dB.indices {
                    #expect(abs(dB[j] - dBExact[j]) <= Double(m * h + 2) * 0x1p-24 * dBScale[j], "dB \(m)×\(k)×\(n)×\(h), entry \(j)")
                }
            }
        }
    }

    /// The shared-operand product differentiates like the per-head products (f64 finite differences;
    /// f64 takes the broadcast path, which the test above ties to the f32 one).
    @Test func sharedOperandGradient() {
        var rng = RandomGenerator(seed: 12)
        let w = (0..<3).map { _ in GradCheck.normal([2, 4], &rng) }
        let x = GradCheck.normal([4, 5], &rng), b = GradCheck.normal([2, 1, 3], &rng)
        GradCheck.check(w + [x, b]) { v in
            let a = Variable.concat(Array(v[0..<3]), axis: 0).reshaped([2, 3, 4]).permuted([0, 2, 1])
            return a.matmul(v[3], addingColumn: v[4])
        }
    }
}
