import Testing
@testable import AlgoTensor

/// The composites (the definitions the fused kernels are held to) against finite differences in
/// Float64 (tolerances: see `GradCheck`).
@Suite struct CompositeGradientTests {
    static let shapes: [[Int]] = [[1, 1], [5, 1], [1, 4], [3, 4], [8, 3], [9, 2], [4, 3, 2]]

    @Test func softmaxColumns() {
        var rng = RandomGenerator(seed: 20)
        for s in Self.shapes {
            GradCheck.check([GradCheck.normal(s, &rng)]) { Composite.softmaxColumns($0[0]) }
        }
    }

    @Test func logSoftmaxColumns() {
        var rng = RandomGenerator(seed: 21)
        for s in Self.shapes {
            GradCheck.check([GradCheck.normal(s, &rng)]) { Composite.logSoftmaxColumns($0[0]) }
        }
    }

    /// Masked scores (a −∞ bias added, as Alg. 4 line 5), including a fully masked column:
    /// finite gradients, exact zeros where masked, and the fully masked column all 0.
    @Test func maskedSoftmax() {
        var rng = RandomGenerator(seed: 22)
        let s = GradCheck.normal([4, 3], &rng)
        let bias = Self.causalBias(rows: 4, cols: 3, fullyMaskedColumn: 2, dtype: .f64)
        GradCheck.check([s]) { Composite.softmaxColumns($0[0] + Variable(bias)) }
        GradCheck.check([s]) { v in
            // log-softmax is −∞ at masked entries (and everywhere in the fully masked column 2):
            // check finite entries only, through a pick from the first two columns.
            Composite.logSoftmaxColumns(v[0] + Variable(bias)).slice(lower: [0, 0], upper: [4, 2]).pick(rows: [0, 1])
        }
        let tape = Tape()
        let x = tape.parameter(s)
        let p = Composite.softmaxColumns(x + Variable(bias))
        let g = tape.gradients(of: p, wrt: [x], seed: Tensor.ones([4, 3], dtype: .f64) * 0.3)[0]
        #expect(g.doubles.allSatisfy { $0.isFinite })
        #expect(p.value[1, 0] == 0 && p.value[3, 1] == 0)               // masked: exactly 0
        #expect((0..<4).allSatisfy { p.value[$0, 2] == 0 })               // fully masked column: 0
        #expect((0..<4).allSatisfy { g[$0, 2] == 0 })
        #expect(abs(p.value[0, 0] - 1) < 1e-15)                           // a single allowed entry
    }

    /// −∞ above the diagonal (Mask[t_z, t_x] = [[t_z ≤ t_x]]) and a fully masked column.
    static func causalBias(rows: Int, cols: Int, fullyMaskedColumn: Int?, dtype: DType) -> Tensor {
        var b = Tensor.zeros([rows, cols], dtype: dtype)
        for t in 0..<cols { for z in 0..<rows where z > t || t == fullyMaskedColumn { b[z, t] = -.infinity } }
        return b
    }

    @Test func gelu() {
        var rng = RandomGenerator(seed: 23)
        for s in Self.shapes { GradCheck.check([GradCheck.normal(s, &rng) * 2]) { Composite.gelu($0[0]) } }
    }

    /// GELU(x) = x·Φ(x) at known points (Φ from tables; 1e-12: f64 erf is accurate to a few ulps).
    @Test func geluValues() {
        let x = Tensor(shape: [4], values: [-1, 0, 1, 2], dtype: .f64)
        let y = Composite.gelu(Variable(x)).value.doubles
        let expected = [-1 * 0.15865525393145707, 0, 0.8413447460685429, 2 * 0.9772498680518208]
        for i in 0..<4 { #expect(abs(y[i] - expected[i]) < 1e-12) }
    }

    @Test func relu() {
        var rng = RandomGenerator(seed: 24)
        for s in Self.shapes { GradCheck.check([GradCheck.normal(s, &rng)]) { Composite.relu($0[0]) } }
    }

    @Test func meanAndVariance() {
        var rng = RandomGenerator(seed: 25)
        for s in Self.shapes {
            for axis in 0..<s.count {
                GradCheck.check([GradCheck.normal(s, &rng)]) { Composite.mean($0[0], axis: axis) }
                GradCheck.check([GradCheck.normal(s, &rng)]) { Composite.variance($0[0], axis: axis) }
            }
        }
    }

    @Test func normalizeColumns() {
        var rng = RandomGenerator(seed: 26)
        for s in Self.shapes where s[0] > 1 {
            GradCheck.check([GradCheck.normal(s, &rng)]) { Composite.normalizeColumns($0[0], epsilon: 0) }
            GradCheck.check([GradCheck.normal(s, &rng)]) { Composite.normalizeColumns($0[0], epsilon: 1e-5) }
        }
    }

    /// Alg. 6 written out with γ, β on top of the normalisation, and the paper's MLP block (Alg. 9 line 7).
    @Test func layerNormAndMLP() {
        var rng = RandomGenerator(seed: 27)
        let x = GradCheck.normal([4, 3], &rng), gamma = GradCheck.normal([4], &rng), beta = GradCheck.normal([4], &rng)
        GradCheck.check([x, gamma, beta]) { v in Composite.layerNormColumns(v[0], γ: v[1], β: v[2], epsilon: 1e-5) }
        GradCheck.check([x, gamma, beta]) { v in Composite.layerNormColumns(v[0], γ: v[1], β: v[2], epsilon: 0) }
        let w1 = GradCheck.normal([5, 4], &rng), b1 = GradCheck.normal([5], &rng)
        let w2 = GradCheck.normal([4, 5], &rng), b2 = GradCheck.normal([4], &rng)
        GradCheck.check([x, w1, b1, w2, b2]) { v in
            v[0] + v[3].matmul(Composite.gelu(v[1].matmul(v[0]) + v[2])) + v[4]
        }
    }

    /// One attention head (Alg. 4) with a causal mask and the next-token loss (Alg. 13 line 5).
    @Test func attentionHeadLoss() {
        var rng = RandomGenerator(seed: 28)
        let d = 3, l = 4
        let x = GradCheck.normal([d, l], &rng)
        let wq = GradCheck.normal([2, d], &rng), wk = GradCheck.normal([2, d], &rng), wv = GradCheck.normal([d, d], &rng)
        let bias = Self.causalBias(rows: l, cols: l, fullyMaskedColumn: nil, dtype: .f64)
        GradCheck.check([x, wq, wk, wv]) { v in
            let q = v[1].matmul(v[0]), k = v[2].matmul(v[0]), vv = v[3].matmul(v[0])
            let s = k.matmul(q, transposeSelf: true) / 2.0.squareRoot() + Variable(bias)
            let out = vv.matmul(Composite.softmaxColumns(s))
            return -Composite.logSoftmaxColumns(out).slice(lower: [0, 0], upper: [d, l - 1]).pick(rows: [1, 2, 0]).sum()
        }
    }
}

extension CompositeGradientTests {
    @Test func power() {
        var rng = RandomGenerator(seed: 29)
        for k in [0.0, 1, 2, 3, 4] { GradCheck.check([GradCheck.normal([3, 2], &rng)]) { Composite.pow($0[0], k) } }
        for k in [0.5, 1 / 0.7, -1.5] { GradCheck.check([GradCheck.uniform([3, 2], 0.5, 2, &rng)]) { Composite.pow($0[0], k) } }
    }
}

extension CompositeGradientTests {
    /// Functional assignment into a box: values exact, gradients to both the rest and the new value.
    @Test func replacing() {
        var rng = RandomGenerator(seed: 35)
        let x = GradCheck.normal([4, 5, 2], &rng), v = GradCheck.normal([2, 1, 2], &rng)
        GradCheck.check([x, v]) { $0[0].replacing(lower: [1, 3, 0], upper: [3, 4, 2], with: $0[1]) * $0[0] }
        let m = GradCheck.normal([3, 4], &rng), c = GradCheck.normal([3], &rng)
        GradCheck.check([m, c]) { $0[0].replacingColumn(0, with: $0[1]) }
        GradCheck.check([m, c]) { $0[0].replacingColumn(3, with: $0[1].exp()) }
        let r = Variable(m).replacing(lower: [1, 2], upper: [2, 3], with: Variable(Tensor(repeating: -.infinity, shape: [1, 1], dtype: .f64)))
        #expect(r.value[1, 2] == -.infinity && r.value[0, 2] == m[0, 2] && r.value[2, 3] == m[2, 3])
    }
}
