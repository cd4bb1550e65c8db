import Testing
@testable import AlgoTensor

/// `op(A)·op(B) + b 𝟏ᵀ` as one product whose C starts as the bias column (β = 1). Values against
/// the Float64 `A·B + b 𝟏ᵀ` within the error bound of a Float32 dot product with one more term,
/// |error| ≤ (k+3)·2⁻²⁴·(Σₚ|a_ip·b_pj| + |b_i|), on rank 2 (all four transposes; sizes around the
/// 16×6 register tile, a k beyond one kc = 384 block, and the small model's 1536×384·384×256), the
/// head-stacked rank 3 (`stackedRowsProduct`) and the per-batch rank 3. Gradients by finite
/// differences in Float64 (`GradCheck`), for all three inputs.
@Suite struct MatmulAddingColumnTests {
    static func check(_ a: Tensor, _ b: Tensor, _ bias: Tensor, transposeA: Bool, transposeB: Bool, _ label: String) {
        let c = Tensor.matmul(a, b, transposeA: transposeA, transposeB: transposeB, addingColumn: bias)
        let a64 = a.converted(to: .f64), b64 = b.converted(to: .f64)
        let exact = Tensor.matmul(a64, b64, transposeA: transposeA, transposeB: transposeB)
        func abs(_ t: Tensor) -> Tensor { t.binary(.max, t.unary(.neg)) }
        let scale = Tensor.matmul(abs(a64), abs(b64), transposeA: transposeA, transposeB: transposeB)
        let k = transposeA ? a.shape[0] : a.shape[1]
        #expect(c.shape == exact.shape, "\(label)")
        let column = bias.converted(to: .f64).reshaped(Tensor.columnShape(exact.shape))
        let want = (exact + column).doubles, bound = (scale + abs(column)).doubles
        let got = c.doubles
        var worst = 0.0
        for j in want.indices {
            let err = Swift.abs(got[j] - want[j]), allowed = Double(k + 3) * 0x1p-24 * bound[j]
            worst = max(worst, err / max(allowed, .leastNormalMagnitude))
        }
        #expect(worst <= 1, "\(label): worst error \(worst) of the bound")
    }

    @Test func rank2MatchesFloat64() {
        var rng = RandomGenerator(seed: 21)
        for (m, k, n) in [(1, 1, 1), (5, 3, 4), (17, 37, 7), (65, 400, 13), (1536, 384, 256)] {
            for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
                if m * k * n > 10_000_000 && (ta || tb) { continue }  // the model's shape once is enough
                let a = Tensor.normal(ta ? [k, m] : [m, k], using: &rng), b = Tensor.normal(tb ? [n, k] : [k, n], using: &rng)
                let bias = Tensor.normal([m], using: &rng)
                Self.check(a, b, bias, transposeA: ta, transposeB: tb, "\(m)×\(k)·\(k)×\(n) ta=\(ta) tb=\(tb)")
                Self.check(a, b, bias.reshaped([m, 1]), transposeA: ta, transposeB: tb, "[m, 1] bias")
            }
        }
    }

    @Test func rank3StackedAndBatchedMatchFloat64() {
        var rng = RandomGenerator(seed: 22)
        let (m, k, n, h) = (64, 384, 40, 6)
        let heads = (0..<h).map { _ in Tensor.normal([m, k], using: &rng) }
        let stacked = StackedMatmulTests.stacked(heads)
        let x = Tensor.normal([k, n], using: &rng)
        let shared = x.reshaped([k, n, 1]).broadcast(to: [k, n, h])
        let bias = Tensor.normal([m * h], using: &rng).reshaped([m, 1, h])
        #expect(Tensor.stackedRowsProduct(stacked, shared, transposeA: false, transposeB: false, [m, n, h]) != nil)
        Self.check(stacked, shared, bias, transposeA: false, transposeB: false, "head-stacked")
        // A dense rank-3 A (not the stacked layout) takes the per-batch loop.
        let dense = stacked.copy()
        #expect(Tensor.stackedRowsProduct(dense, Tensor.normal([k, n, h], using: &rng), transposeA: false, transposeB: false, [m, n, h]) == nil)
        Self.check(dense, Tensor.normal([k, n, h], using: &rng), bias, transposeA: false, transposeB: false, "per batch")
    }

    @Test func gradients() {
        var rng = RandomGenerator(seed: 23)
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            let (m, k, n) = (3, 4, 5)
            let a = GradCheck.normal(ta ? [k, m] : [m, k], &rng), b = GradCheck.normal(tb ? [n, k] : [k, n], &rng)
            GradCheck.check([a, b, GradCheck.normal([m], &rng)]) { v in
                v[0].matmul(v[1], transposeSelf: ta, transposeOther: tb, addingColumn: v[2])
            }
        }
        let a = GradCheck.normal([2, 3, 4], &rng), b = GradCheck.normal([3, 5, 4], &rng)
        GradCheck.check([a, b, GradCheck.normal([2, 1, 4], &rng)]) { v in v[0].matmul(v[1], addingColumn: v[2]) }
    }
}
