import Testing
@testable import AlgoTensor

/// The engine's cross-cutting rules: accumulation, un-broadcasting, reverse order, constants,
/// inference without a tape.
@Suite struct TapeTests {
    /// y = x·x + x: the two uses of x accumulate (dy/dx = 2x + 1). Exact in f64.
    @Test func accumulation() {
        let tape = Tape()
        let x = tape.parameter(Tensor(shape: [3], values: [1, 2, 3], dtype: .f64))
        let y = (x * x + x).sum()
        #expect(tape.gradients(of: y, wrt: [x])[0].doubles == [3, 5, 7])
    }

    /// z = X + b 𝟏ᵀ: ∂Σz/∂b sums over columns (un-broadcast in the engine); a scalar operand sums everything.
    @Test func unbroadcast() {
        let tape = Tape()
        let x = tape.parameter(Tensor.ones([2, 3], dtype: .f64))
        let b = tape.parameter(Tensor(shape: [2], values: [1, 2], dtype: .f64))
        let s = tape.parameter(Tensor(scalar: 2, dtype: .f64))
        let z = ((x + b) * s).sum()
        let g = tape.gradients(of: z, wrt: [x, b, s])
        #expect(g[0].doubles == [2, 2, 2, 2, 2, 2])
        #expect(g[1].shape == [2] && g[1].doubles == [6, 6])
        #expect(g[2].shape == [] && g[2].scalarValue == 6 + 9)
    }

    @Test func unrelatedLeafAndConstants() {
        let tape = Tape()
        let a = tape.parameter(Tensor(scalar: 3, dtype: .f64))
        let unused = tape.parameter(Tensor.ones([2], dtype: .f64))
        let c = Variable(Tensor(scalar: 5, dtype: .f64))
        let y = a * c
        let g = tape.gradients(of: y, wrt: [a, unused])
        #expect(g[0].scalarValue == 5 && g[1].doubles == [0, 0])
        // Values that do not depend on a parameter are not recorded.
        let before = tape.count
        _ = (c * c).exp()
        #expect(tape.count == before)
    }

    /// The same code runs without a tape: values only.
    @Test func inferenceWithoutTape() {
        let x = Variable(Tensor(shape: [2, 2], floats: [0, 0, 1, 3]))
        let p = x.softmaxColumns()
        #expect(p.tape == nil)
        #expect(abs(p.value[0, 0] - 0.5) < 1e-7)
        #expect(abs(p.value[1, 1] - 0.8807970779778823) < 1e-6)  // σ(2); f32 relative 1e-6
    }

    /// Gradients can be requested twice from one tape (nothing is consumed).
    @Test func repeatable() {
        let tape = Tape()
        let x = tape.parameter(Tensor(shape: [2], values: [1, 2], dtype: .f64))
        let y = (x * x).sum()
        #expect(tape.gradients(of: y, wrt: [x])[0].doubles == tape.gradients(of: y, wrt: [x])[0].doubles)
    }
}

extension TapeTests {
    /// The public checker accepts a correct gradient and catches a wrong one: `detached` hides a
    /// dependence from the tape, so the analytic gradient of x·x misses half (relative error ~1/2).
    @Test func gradientCheckUtility() {
        var rng = RandomGenerator(seed: 70)
        let x = Tensor.normal([3, 2], dtype: .f64, using: &rng) + Tensor(scalar: 3, dtype: .f64)
        #expect(GradientCheck.maxError([x]) { $0[0] * $0[0] } < 1e-6)
        #expect(GradientCheck.maxError([x]) { $0[0].detached * $0[0] } > 0.1)
    }
}

extension TapeTests {
    @Test func dump() {
        let tape = Tape()
        let w = tape.parameter(Tensor.ones([2, 3]))
        _ = w.matmul(Variable(Tensor.ones([3, 4]))).softmaxColumns()
        let lines = tape.dump().split(separator: "\n")
        #expect(lines.first == "%0 = param f32[2×3]")
        #expect(lines.dropFirst().first == "%1 = matmul(A B)(%0, const) f32[2×4]")
        #expect(lines.count == 3)
    }
}
