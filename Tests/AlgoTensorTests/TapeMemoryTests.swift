import Testing
@testable import AlgoTensor

/// What the tape keeps alive: only the values the VJPs read, and nothing once a releasing backward
/// pass has run. Byte counts are exact (f32, 4 bytes per element), not bounds with slack.
@Suite struct TapeMemoryTests {
    /// Y = W·X (X constant), Z = 2·Y, S = softmax(Z), loss = Σ S⊙C. dW = dY·Xᵀ reads X, not W;
    /// the scale's VJP reads the constant 2, not Y; softmax's reads S; S⊙C's reads C (a constant),
    /// not S. So the tape keeps exactly X, the scalar 2, S and C (each once): not Y, Z or W's copy.
    @Test func keepsOnlyWhatEachVJPReads() {
        var rng = RandomGenerator(seed: 7)
        let (n, m) = (24, 10)
        let w = Tensor.normal([n, n], std: 0.2, using: &rng), x = Tensor.normal([n, m], using: &rng)
        let c = Tensor.normal([n, m], using: &rng)
        let tape = Tape()
        let W = tape.parameter(w)
        let S = (W.matmul(Variable(x)) * 2).softmaxColumns()
        let loss = (S * Variable(c)).sum()
        let scalarBytes = 4  // the constant 2, a rank-0 f32 tensor
        #expect(tape.savedBytes == 4 * (n * m) * 3 + scalarBytes, "X, S, C and the scalar; got \(tape.savedBytes) B")
        let kept = tape.gradients(of: loss, wrt: [W])[0]
        #expect(tape.savedBytes == 4 * (n * m) * 3 + scalarBytes)  // a non-releasing pass keeps them
        let released = tape.gradients(of: loss, wrt: [W], releasing: true)[0]
        #expect(tape.savedBytes == 0)
        #expect(released.floats == kept.floats)  // the same arithmetic, bit for bit
    }

    /// The placeholders are right where it matters: gradients through every rule that drops a value
    /// equal finite differences (the project's Float64 rule, `GradientCheck`).
    @Test func droppedValuesDoNotChangeGradients() {
        var rng = RandomGenerator(seed: 11)
        let a = Tensor.normal([5, 4], using: &rng).converted(to: .f64)
        let b = Tensor.normal([4, 3], using: &rng).converted(to: .f64)
        let k = Tensor.normal([5, 3], using: &rng).converted(to: .f64)
        // Float64 central differences, h = 10⁻⁶·max(1, |x|): truncation and rounding ≈ 10⁻¹⁰; 10⁻⁶ is the project's tape tolerance.
        let error = GradientCheck.maxError([a, b]) { v in
            let y = v[0].matmul(v[1]) * Variable(k)  // matmul keeps both operands, mul by a constant keeps only k
            let z = (y + Variable(k)).softmaxColumns() / (y.exp() + 1)  // add keeps nothing, exp its output, div b and y
            return z.log().reshaped([15]).sum() + (v[0] - v[0] * 2).sum()
        }
        #expect(error < 1e-6, "max relative error \(error)")
    }

    /// Size classes waste less than a quarter above 4 KiB, and the pool's live count returns to
    /// where it was when the tensors die.
    @Test func sizeClassesAndLiveBytes() {
        for bytes in [4097, 5000, 589_824, 1_572_864, 2_359_296, 9_437_184] {
            let c = BufferPool.sizeClass(bytes)
            #expect(c >= bytes && Double(c) < 1.25 * Double(bytes), "\(bytes) → \(c)")
        }
        #expect(BufferPool.sizeClass(2_359_296) == 2_621_440)  // 384×1536 f32: 2.5 MiB, not 4 MiB
        let pool = BufferPool()
        BufferPool.$current.withValue(pool) {
            do {
                let t = Tensor.zeros([384, 1536])
                #expect(pool.liveBytes == BufferPool.sizeClass(4 * 384 * 1536))
                _ = t
            }
            #expect(pool.liveBytes == 0)
            #expect(pool.peakLiveBytes == 2_621_440)
        }
        pool.drain()
    }
}
