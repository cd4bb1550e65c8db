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

    /// Fused layer norm keeps its residuals n̂ (`[d, n]`) and 1/σ (`[n]`), and γ (a parameter, not
    /// counted): not x, not its output. A quotient by a constant keeps the divisor, not its output.
    @Test func layerNormAndQuotientKeepTheirResidualsOnly() {
        var rng = RandomGenerator(seed: 9)
        let (d, n) = (16, 5)
        let tape = Tape()
        let X = tape.parameter(Tensor.normal([d, n], using: &rng))
        let γ = tape.parameter(Tensor.normal([d], using: &rng)), β = tape.parameter(Tensor.normal([d], using: &rng))
        let y = X.layerNormColumns(γ: γ, β: β, epsilon: 0)
        #expect(tape.savedBytes == (Fusion.enabled ? 4 * (d * n + n) : tape.savedBytes), "n̂ and 1/σ; got \(tape.savedBytes) B")
        let before = tape.savedBytes
        let q = y / 8  // x / constant: the output is not read by the VJP of x
        #expect(tape.savedBytes == before + 4, "the divisor only; got \(tape.savedBytes - before) B more")
        let grads = tape.gradients(of: q.sum(), wrt: [X, γ, β], releasing: true)
        #expect(tape.savedBytes == 0)
        #expect(grads.map(\.shape) == [[d, n], [d], [d]])
    }

    /// `Tensor.binary(_:reusing:_:)` writes into an operand nothing else holds (no new buffer) and
    /// never into one that is shared (whose holder keeps its values); the values are `binary`'s.
    @Test func binaryReusesOnlyUnsharedOperands() {
        var rng = RandomGenerator(seed: 13)
        let pool = BufferPool()
        BufferPool.$current.withValue(pool) {
            let θ = Tensor.normal([40, 30], using: &rng)
            let g = Tensor.normal([40, 30], using: &rng)
            let expected = (θ - g * 0.01).floats
            var a = θ, b = g * 0.01   // a shares θ's buffer; b is the only holder of its own
            let bStorage = ObjectIdentifier(b.storage)
            let fresh = pool.freshAllocations
            let r = Tensor.binary(.sub, reusing: &a, &b)
            #expect(ObjectIdentifier(r.storage) == bStorage)
            #expect(pool.freshAllocations == fresh)
            #expect(r.floats == expected)  // the same arithmetic, bit for bit
            #expect(θ.floats == a.floats)  // the shared operand was not written
            var c = θ, e = θ   // both shared: a fresh result
            let s = Tensor.binary(.add, reusing: &c, &e)
            #expect(ObjectIdentifier(s.storage) != ObjectIdentifier(θ.storage))
            #expect(s.floats == (θ + θ).floats)
        }
        pool.drain()
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
