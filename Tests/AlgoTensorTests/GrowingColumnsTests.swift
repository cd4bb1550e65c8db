import Testing
@testable import AlgoTensor

/// `GrowingColumns`: appending columns gives exactly what concatenation gives (a copy, no
/// arithmetic: equality is exact), views handed out before later appends are unchanged (an append
/// writes only columns no view covers, or moves to a new buffer), and the buffer grows by doubling
/// (a few reallocations over many single-column appends, not one per column).
@Suite struct GrowingColumnsTests {
    static func tensor(_ shape: [Int], seed: UInt64) -> Tensor {
        var g = RandomGenerator(seed: seed)
        return Tensor(shape: shape, values: (0..<Shape.count(shape)).map { _ in g.uniform(-1, 1) }, dtype: .f32)
    }

    @Test("appending columns equals concatenation; earlier views stay as they were", arguments: [[3, 2], [3, 2, 4]])
    func appendEqualsConcat(_ shape: [Int]) {
        var g = GrowingColumns(Self.tensor(shape, seed: 1), capacity: 3)
        var expected = Self.tensor(shape, seed: 1)
        var views: [(Tensor, [Double])] = []
        var reallocations = 0, capacity = g.capacity
        for k in 0..<40 {
            var s = shape
            s[1] = k % 3 == 0 ? 2 : 1
            let x = Self.tensor(s, seed: UInt64(10 + k))
            let v = g.append(x)
            expected = Tensor.concat([expected, x], axis: 1)
            #expect(v.shape == expected.shape)
            #expect(v.contiguous().doubles == expected.doubles)
            views.append((v, expected.doubles))
            if g.capacity != capacity { reallocations += 1; capacity = g.capacity }
        }
        for (v, values) in views { #expect(v.contiguous().doubles == values) }
        #expect(g.count == expected.shape[1])
        // 2 + 54 columns from a capacity of 3: 3 → 6 → 12 → 24 → 48 → 96.
        #expect(reallocations <= 5, "\(reallocations) reallocations")
    }

    @Test("a [d, n] view of the buffer is an operand of the product as it is")
    func viewIsGEMMOperand() {
        var g = GrowingColumns(Self.tensor([4, 3], seed: 2), capacity: 8)
        let k = g.append(Self.tensor([4, 2], seed: 3))
        let q = Self.tensor([4, 1], seed: 4)
        let viaView = Tensor.matmul(k, q, transposeA: true), viaCopy = Tensor.matmul(k.copy(), q, transposeA: true)
        #expect(viaView.doubles == viaCopy.doubles)
    }
}
