import Testing
@testable import AlgoTensor

/// Every primitive against finite differences in Float64, on seeded random shapes including sizes 1,
/// odd sizes and broadcast dimensions (tolerances: see `GradCheck`).
@Suite struct PrimitiveGradientTests {
    @Test(arguments: UnaryOp.allCases)
    func unary(_ op: UnaryOp) {
        var rng = RandomGenerator(seed: 1)
        for rank in 0...3 {
            let s = GradCheck.shape(rank, &rng)
            // log and sqrt need positive inputs away from 0 (the derivative grows like 1/x).
            let x = (op == .log || op == .sqrt) ? GradCheck.uniform(s, 0.5, 2, &rng) : GradCheck.normal(s, &rng)
            GradCheck.check([x]) { $0[0].unary(op) }
        }
    }

    /// Shape pairs that exercise broadcasting aligned at the first dimension.
    static let broadcastPairs: [([Int], [Int])] = [
        ([3, 5], [3, 5]), ([3, 5], [3]), ([3], [3, 4]), ([1, 5], [4, 5]), ([4, 1], [1, 3]),
        ([3, 1, 2], [3, 4, 2]), ([], [2, 3]), ([2, 3], []), ([1], [1]), ([7], [1]), ([2, 3, 2, 2], [2, 1, 1, 2]),
    ]

    /// Random broadcast pairs: a random shape of rank 0…4, and a partner with random dimensions set to 1
    /// and random trailing dimensions dropped (either side may be the broadcast one).
    static func randomPairs(_ count: Int, _ rng: inout RandomGenerator) -> [([Int], [Int])] {
        (0..<count).map { _ in
            let full = GradCheck.shape(rng.int(below: 5), &rng)
            var partner = full.map { rng.uniform() < 0.4 ? 1 : $0 }
            partner.removeLast(rng.int(below: partner.count + 1))
            return rng.uniform() < 0.5 ? (full, partner) : (partner, full)
        }
    }

    @Test(arguments: BinaryOp.allCases)
    func binary(_ op: BinaryOp) {
        var rng = RandomGenerator(seed: 2)
        for (sa, sb) in Self.broadcastPairs + Self.randomPairs(12, &rng) {
            let a = GradCheck.normal(sa, &rng)
            // Division: denominators in ±[0.5, 2] keep 1/b² bounded.
            let b = op == .div ? GradCheck.uniform(sb, 0.5, 2, &rng) * GradCheck.sign(sb, &rng) : GradCheck.normal(sb, &rng)
            GradCheck.check([a, b]) { $0[0].binary(op, $0[1]) }
        }
    }

    @Test(arguments: ReduceOp.allCases)
    func reduce(_ op: ReduceOp) {
        var rng = RandomGenerator(seed: 3)
        for rank in 1...4 {
            let s = GradCheck.shape(rank, &rng)
            for axis in 0..<rank {
                GradCheck.check([GradCheck.normal(s, &rng)]) { $0[0].reduce(op, axis: axis) }
            }
        }
    }

    @Test func permute() {
        var rng = RandomGenerator(seed: 4)
        for perm in [[1, 0], [2, 0, 1], [1, 2, 0], [0, 2, 1], [3, 1, 0, 2]] {
            let x = GradCheck.normal(GradCheck.shape(perm.count, &rng), &rng)
            // Multiply by a weight so the permuted layout matters downstream.
            GradCheck.check([x]) { v in let p = v[0].permuted(perm); return p * p }
        }
    }

    @Test func reshape() {
        var rng = RandomGenerator(seed: 5)
        let x = GradCheck.normal([2, 3, 4], &rng)
        GradCheck.check([x]) { $0[0].reshaped([6, 4]) }
        GradCheck.check([x]) { $0[0].permuted([1, 0, 2]).reshaped([4, 6]) }  // reshape of a non-contiguous view
        GradCheck.check([GradCheck.normal([1], &rng)]) { $0[0].reshaped([]).reshaped([1, 1]).reshaped([1]) * $0[0] }
    }

    @Test func slice() {
        var rng = RandomGenerator(seed: 6)
        let x = GradCheck.normal([5, 4, 3], &rng)
        GradCheck.check([x]) { $0[0].slice(lower: [1, 0, 2], upper: [4, 3, 3]) }
        GradCheck.check([x]) { $0[0].slice(lower: [0, 1, 0], upper: [5, 1, 3]) }  // empty box
        let m = GradCheck.normal([3, 7], &rng)
        GradCheck.check([m]) { $0[0].column(4) }
        GradCheck.check([m]) { $0[0].transposed.slice(lower: [2, 1], upper: [5, 3]) }
    }

    @Test func concat() {
        var rng = RandomGenerator(seed: 7)
        let a = GradCheck.normal([2, 3], &rng), b = GradCheck.normal([1, 3], &rng), c = GradCheck.normal([4, 3], &rng)
        GradCheck.check([a, b, c]) { Variable.concat($0, axis: 0) }
        let d = GradCheck.normal([2, 1], &rng), e = GradCheck.normal([2, 5], &rng)
        GradCheck.check([a, d, e]) { Variable.concat($0, axis: 1) }
        // The same input twice: gradients must accumulate.
        GradCheck.check([a]) { Variable.concat([$0[0], $0[0]], axis: 1) }
        let v = GradCheck.normal([3], &rng), w = GradCheck.normal([3], &rng)
        GradCheck.check([v, w]) { Variable.stackColumns($0) }
    }

    @Test func broadcast() {
        var rng = RandomGenerator(seed: 8)
        GradCheck.check([GradCheck.normal([3], &rng)]) { $0[0].broadcast(to: [3, 4]) }       // b 𝟏ᵀ
        GradCheck.check([GradCheck.normal([1, 4], &rng)]) { $0[0].broadcast(to: [3, 4, 2]) }
        GradCheck.check([GradCheck.normal([], &rng)]) { $0[0].broadcast(to: [2, 2]) }
    }

    @Test func gather() {
        var rng = RandomGenerator(seed: 9)
        let w = GradCheck.normal([4, 6], &rng)
        GradCheck.check([w]) { $0[0].gather(axis: 1, indices: [5, 0, 2, 0, 5]) }  // repeated tokens
        GradCheck.check([w]) { $0[0].gather(axis: 0, indices: [3, 3, 1]) }
        GradCheck.check([GradCheck.normal([2, 3, 4], &rng)]) { $0[0].gather(axis: 2, indices: [1]) }
    }

    @Test func pick() {
        var rng = RandomGenerator(seed: 10)
        let p = GradCheck.normal([5, 4], &rng)
        GradCheck.check([p]) { $0[0].pick(rows: [4, 0, 0, 2]) }
        GradCheck.check([GradCheck.normal([1, 1], &rng)]) { $0[0].pick(rows: [0]) }
    }

    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
    func matmul(transposeA: Bool, transposeB: Bool) {
        var rng = RandomGenerator(seed: 11)
        for (m, k, n) in [(3, 4, 5), (1, 1, 1), (1, 3, 1), (5, 1, 2), (2, 7, 1)] {
            let a = GradCheck.normal(transposeA ? [k, m] : [m, k], &rng)
            let b = GradCheck.normal(transposeB ? [n, k] : [k, n], &rng)
            GradCheck.check([a, b]) { $0[0].matmul($0[1], transposeSelf: transposeA, transposeOther: transposeB) }
            // Batched (rank 3, batch in the last dimension).
            let a3 = GradCheck.normal((transposeA ? [k, m] : [m, k]) + [3], &rng)
            let b3 = GradCheck.normal((transposeB ? [n, k] : [k, n]) + [3], &rng)
            GradCheck.check([a3, b3]) { $0[0].matmul($0[1], transposeSelf: transposeA, transposeOther: transposeB) }
        }
    }

    /// Views as matmul operands (transposed views become BLAS flags, slices become leading dimensions).
    @Test func matmulOfViews() {
        var rng = RandomGenerator(seed: 12)
        let a = GradCheck.normal([4, 3], &rng), b = GradCheck.normal([5, 4], &rng)
        GradCheck.check([a, b]) { v in v[0].transposed.matmul(v[1].transposed) }  // (3×4)·(4×5)
        GradCheck.check([a, b]) { v in v[1].slice(lower: [1, 0], upper: [4, 4]).matmul(v[0]) }  // (3×4)·(4×3)
        GradCheck.check([a, GradCheck.normal([3], &rng)]) { v in v[0].matmul(v[1]) }  // matrix · vector
    }
}

extension GradCheck {
    /// ±1 entries.
    static func sign(_ shape: [Int], _ rng: inout RandomGenerator) -> Tensor {
        Tensor(shape: shape, values: (0..<Shape.count(shape)).map { _ in rng.uniform() < 0.5 ? -1 : 1 }, dtype: .f64)
    }
}
