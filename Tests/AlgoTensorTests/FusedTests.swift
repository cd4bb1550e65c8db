import Testing
@testable import AlgoTensor

/// Each fused kernel equals its composite, forward and backward, in Float32.
///
/// Tolerance `8·n·ε₃₂·max(1, max|composite|)` with n the column length (ε₃₂ = 2⁻²³): both sides evaluate
/// the same formula in f32 but sum the n entries of a column in different orders (≤ n·ε relative
/// each), and the fused exp is a polynomial within 2 ulp of libm's; 8× covers the sums that the
/// backward pass chains. A wrong kernel (a missing term, a wrong column) errs by O(1).
@Suite struct FusedTests {
    static let eps = Double(Float.ulpOfOne)
    static let shapes: [[Int]] = [[1, 1], [1, 3], [3, 2], [8, 3], [9, 4], [17, 2], [64, 3], [65, 5], [7, 2, 3]]

    /// Values and input cotangents of `f` at `x` for the output cotangent `g`.
    static func run(_ x: Tensor, _ g: Tensor, _ f: (Variable) -> Variable) -> (Tensor, Tensor) {
        let tape = Tape()
        let v = tape.parameter(x)
        let y = f(v)
        return (y.value, tape.gradients(of: y, wrt: [v], seed: g)[0])
    }

    static func expectClose(_ a: Tensor, _ b: Tensor, n: Int, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let ad = a.doubles, bd = b.doubles
        #expect(a.shape == b.shape, sourceLocation: sourceLocation)
        var scale = 1.0
        for v in bd where v.isFinite { scale = max(scale, abs(v)) }
        let tol = 8 * Double(n) * eps * scale
        for i in 0..<ad.count {
            if ad[i] == bd[i] { continue }  // includes equal infinities
            #expect(abs(ad[i] - bd[i]) <= tol, "\(what) element \(i): fused \(ad[i]) vs composite \(bd[i]) (tol \(tol))",
                    sourceLocation: sourceLocation)
        }
    }

    static func compare(_ op: FusedOp, _ x: Tensor, _ g: Tensor, _ composite: (Variable) -> Variable,
                        sourceLocation: SourceLocation = #_sourceLocation) {
        let (yf, gf) = run(x, g) { Variable.apply(.fused(op), [$0]) }
        let (yc, gc) = run(x, g, composite)
        let n = x.rank == 0 ? 1 : x.shape[0]
        expectClose(yf, yc, n: n, "\(op) forward \(Shape.describe(x.shape))", sourceLocation: sourceLocation)
        expectClose(gf, gc, n: n, "\(op) backward \(Shape.describe(x.shape))", sourceLocation: sourceLocation)
    }

    @Test func softmax() {
        var rng = RandomGenerator(seed: 30)
        for s in Self.shapes {
            let x = Tensor.normal(s, std: 3, using: &rng), g = Tensor.normal(s, using: &rng)
            Self.compare(.softmaxColumns, x, g) { Composite.softmaxColumns($0) }
            Self.compare(.logSoftmaxColumns, x, g) { Composite.logSoftmaxColumns($0) }
        }
    }

    /// −∞ entries and a fully masked column: exact 0 (log: −∞), zero/finite gradients, equal to the composite.
    @Test func maskedSoftmax() {
        var rng = RandomGenerator(seed: 31)
        for rows in [1, 4, 9, 20] {
            let cols = 5
            let bias = CompositeGradientTests.causalBias(rows: rows, cols: cols, fullyMaskedColumn: 3, dtype: .f32)
            let x = Tensor.normal([rows, cols], using: &rng) + bias, g = Tensor.normal([rows, cols], using: &rng)
            Self.compare(.softmaxColumns, x, g) { Composite.softmaxColumns($0) }
            Self.compare(.logSoftmaxColumns, x, g) { Composite.logSoftmaxColumns($0) }
            let (y, dx) = Self.run(x, g) { $0.softmaxColumns() }
            for t in 0..<cols {
                for z in 0..<rows where z > t || t == 3 {
                    #expect(y[z, t] == 0 && dx[z, t] == 0)
                }
            }
            let (ly, ldx) = Self.run(x, g) { $0.logSoftmaxColumns() }
            #expect(ldx.doubles.allSatisfy { $0.isFinite })
            #expect((0..<rows).allSatisfy { ly[$0, 3] == -.infinity })
        }
    }

    @Test func gelu() {
        var rng = RandomGenerator(seed: 32)
        for s in Self.shapes + [[1000]] {
            let x = Tensor.normal(s, std: 3, using: &rng), g = Tensor.normal(s, using: &rng)
            Self.compare(.gelu, x, g) { Composite.gelu($0) }
        }
    }

    @Test(arguments: [0.0, 1e-5])
    func normalizeColumns(epsilon: Double) {
        var rng = RandomGenerator(seed: 33)
        for s in Self.shapes where s[0] > 1 {
            let x = Tensor.normal(s, mean: 0.5, std: 2, using: &rng), g = Tensor.normal(s, using: &rng)
            Self.compare(.normalizeColumns(epsilon: epsilon), x, g) { Composite.normalizeColumns($0, epsilon: epsilon) }
        }
    }

    /// Layer norm with γ and β (Alg. 6 line 3 whole) against its composite: the value and the
    /// cotangents of x, γ and β. dγ and dβ sum over the columns, so their n is the column count.
    @Test(arguments: [0.0, 1e-5])
    func layerNorm(epsilon: Double) {
        var rng = RandomGenerator(seed: 34)
        for s in Self.shapes + [[384, 40]] where s[0] > 1 {
            let d = s[0], cols = s.dropFirst().reduce(1, *)
            let x = Tensor.normal(s, mean: 0.5, std: 2, using: &rng), g = Tensor.normal(s, using: &rng)
            let γ = Tensor.normal([d], mean: 1, std: 0.5, using: &rng), β = Tensor.normal([d], using: &rng)
            func run(_ f: ([Variable]) -> Variable) -> [Tensor] {
                let tape = Tape()
                let v = [x, γ, β].map { tape.parameter($0) }
                let y = f(v)
                return [y.value] + tape.gradients(of: y, wrt: v, seed: g)
            }
            let fused = run { Variable.apply(.fused(.layerNorm(epsilon: epsilon)), $0) }
            let composite = run { Composite.layerNormColumns($0[0], γ: $0[1], β: $0[2], epsilon: epsilon) }
            let shape = Shape.describe(s)
            Self.expectClose(fused[0], composite[0], n: d, "layerNorm forward \(shape)")
            Self.expectClose(fused[1], composite[1], n: d, "layerNorm dx \(shape)")
            Self.expectClose(fused[2], composite[2], n: max(d, cols), "layerNorm dγ \(shape)")
            Self.expectClose(fused[3], composite[3], n: max(d, cols), "layerNorm dβ \(shape)")
        }
    }

    /// Only the inputs that are recorded get cotangents; x constant: dγ, dβ still right.
    @Test func layerNormConstantInput() {
        var rng = RandomGenerator(seed: 35)
        let x = Tensor.normal([9, 4], using: &rng), g = Tensor.normal([9, 4], using: &rng)
        let γ = Tensor.normal([9], using: &rng), β = Tensor.normal([9], using: &rng)
        func grads(_ f: (Variable, Variable, Variable) -> Variable) -> [Tensor] {
            let tape = Tape()
            let G = tape.parameter(γ), B = tape.parameter(β)
            return tape.gradients(of: f(Variable(x), G, B), wrt: [G, B], seed: g, releasing: true)
        }
        let fused = grads { .apply(.fused(.layerNorm(epsilon: 0)), [$0, $1, $2]) }
        let composite = grads { Composite.layerNormColumns($0, γ: $1, β: $2, epsilon: 0) }
        Self.expectClose(fused[0], composite[0], n: 9, "dγ")
        Self.expectClose(fused[1], composite[1], n: 9, "dβ")
    }

    /// The automatic entry points pick the fused kernel for f32 and the composite for f64.
    @Test func dispatch() {
        let tape = Tape()
        let a = tape.parameter(Tensor.ones([3, 2]))
        _ = a.softmaxColumns()
        #expect(tape.nodes.last?.primitive == .fused(.softmaxColumns) || !Fusion.enabled)
        let t64 = Tape()
        let b = t64.parameter(Tensor.ones([3, 2], dtype: .f64))
        _ = b.softmaxColumns()
        #expect(t64.nodes.last?.primitive == .binary(.div))
        let γ = Variable(Tensor.ones([3])), β = Variable(Tensor.zeros([3]))
        _ = a.layerNormColumns(γ: γ, β: β, epsilon: 0)
        #expect(tape.nodes.last?.primitive == .fused(.layerNorm(epsilon: 0)) || !Fusion.enabled)
        _ = b.layerNormColumns(γ: Variable(Tensor.ones([3], dtype: .f64)), β: Variable(Tensor.zeros([3], dtype: .f64)), epsilon: 0)
        #expect(t64.nodes.last?.primitive == .binary(.add))
    }
}
