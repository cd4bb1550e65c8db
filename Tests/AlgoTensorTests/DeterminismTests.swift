import Testing
import AlgoKernels
@testable import AlgoTensor

/// The same inputs give the same bits with any number of threads (1, 2, 3, 4, 8, more than this
/// machine's cores too): kernels split work by output columns, never along a reduction.
@Suite(.serialized) struct DeterminismTests {
    static func forwardBackward() -> [[Float]] {
        var rng = RandomGenerator(seed: 50)
        // Sizes above the fused kernels' parallel threshold (32 768 elements).
        let x = Tensor.normal([16, 400], using: &rng)
        let w = Tensor.normal([128, 16], std: 0.3, using: &rng)
        let bias = CompositeGradientTests.causalBias(rows: 128, cols: 400, fullyMaskedColumn: 7, dtype: .f32)
        let tape = Tape()
        let pw = tape.parameter(w), px = tape.parameter(x)
        let h = pw.matmul(px).gelu().normalizeColumns(epsilon: 1e-5)
        let p = (h + Variable(bias)).softmaxColumns()
        let q = h.logSoftmaxColumns()
        let loss = (p * q).sum()
        let g = tape.gradients(of: loss, wrt: [pw, px])
        return [p.value.floats, q.value.floats, g[0].floats, g[1].floats]
    }

    @Test func everyThreadCountAgrees() {
        let saved = Parallel.threads
        defer { Parallel.threads = saved }
        Parallel.threads = 1
        let one = Self.forwardBackward()
        for threads in [2, 3, 4, 8] {
            Parallel.threads = threads
            let other = Self.forwardBackward()
            for i in one.indices {
                #expect(one[i].map(\.bitPattern) == other[i].map(\.bitPattern), "output \(i) differs between 1 and \(threads) threads")
            }
        }
    }
}
