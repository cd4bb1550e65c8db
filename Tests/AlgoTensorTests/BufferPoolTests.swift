import Testing
@testable import AlgoTensor

/// A training step must not ask the system allocator for fresh memory once the pool is warm.
@Suite struct BufferPoolTests {
    /// One SGD step of a two-layer MLP with layer norm, GELU and a log-softmax loss (Alg. 9/13 shaped):
    /// forward, gradients, update. Returns the loss.
    static func step(_ params: inout [Tensor], x: Tensor, targets: [Int]) -> Double {
        let tape = Tape()
        let p = params.map { tape.parameter($0) }
        let (w1, b1, w2, b2) = (p[0], p[1], p[2], p[3])
        let h = (w1.matmul(Variable(x)) + b1).gelu().normalizeColumns(epsilon: 1e-5)
        let logits = w2.matmul(h) + b2
        let loss = -logits.logSoftmaxColumns().pick(rows: targets).sum()
        let grads = tape.gradients(of: loss, wrt: p)
        for i in params.indices { params[i] = params[i] - grads[i] * 0.01 }
        return loss.value.scalarValue
    }

    @Test func trainingStepStopsAllocating() {
        let pool = BufferPool()
        BufferPool.$current.withValue(pool) {
            var rng = RandomGenerator(seed: 40)
            var params = [Tensor.normal([16, 8], std: 0.3, using: &rng), Tensor.zeros([16]),
                          Tensor.normal([5, 16], std: 0.3, using: &rng), Tensor.zeros([5])]
            let x = Tensor.normal([8, 12], using: &rng)
            let targets = (0..<12).map { _ in rng.int(below: 5) }
            var fresh: [Int] = []
            var losses: [Double] = []
            for _ in 0..<6 {
                losses.append(Self.step(&params, x: x, targets: targets))
                fresh.append(pool.freshAllocations)
            }
            // After two warm-up steps every buffer comes from the pool.
            #expect(fresh[2] == fresh[5], "fresh allocations per step: \(fresh)")
            #expect(pool.reuses > 0)
            #expect(losses[5] < losses[0])  // and the steps do train
            print("BufferPool: fresh allocations after each step \(fresh); reuses \(pool.reuses)")
        }
        pool.drain()
        #expect(pool.pooledBytes == 0)
    }
}
