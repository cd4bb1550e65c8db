import AlgoKernels
import Testing
@testable import AlgoTensor

/// The causal-attention primitive writes Ṽ, dK, dQ and dV in its operands' layout when they are the
/// interpreter's head-stacked `[r, ℓ, H]` (strides `[1, r·H, r]`), so that `[Y^1; …; Y^H]` is a view
/// of Ṽ and the head-batched products' VJPs read dQ, dK, dV as stacked rows without a copy. The
/// layout changes where values are stored, not what they are: bit for bit equal to the same call
/// on dense copies of the operands (the kernels read both layouts).
@Suite struct CausalLayoutTests {
    static func stacked(_ r: Int, _ n: Int, _ h: Int, _ rng: inout RandomGenerator) -> Tensor {
        Tensor.normal([r * h, n], using: &rng).reshaped([r, h, n]).permuted([0, 2, 1])
    }

    /// Ṽ, then dK, dQ, dV for the cotangent `seed`, as the primitive returns them to the tape (the
    /// tape hands its leaves contiguous copies; inside a step they go to the next VJP as they are).
    static func run(_ k: Tensor, _ q: Tensor, _ v: Tensor, _ seed: Tensor, _ segments: [Int]) -> [Tensor] {
        let rule = CausalAttentionRule(divisor: 4, segments: segments)
        let (y, weights) = rule.forward([k, q, v], residuals: true)
        return [y] + rule.vjp([k, q, v], output: y, residuals: weights, cotangent: seed, needed: [true, true, true])
    }

    @Test func outputsFollowTheStackedLayoutWithTheSameBits() {
        var rng = RandomGenerator(seed: 41)
        let (d, h, segments) = (16, 4, [64, 64, 17, 40])
        let n = segments.reduce(0, +)
        let k = Self.stacked(d, n, h, &rng), q = Self.stacked(d, n, h, &rng), v = Self.stacked(d, n, h, &rng)
        #expect(k.strides == [1, d * h, d])
        let seed = Tensor.normal([d, n, h], using: &rng)
        let inStacked = Self.run(k, q, v, seed, segments)
        let inDense = Self.run(k.copy(), q.copy(), v.copy(), seed, segments)
        for (name, (s, dense)) in zip(["Ṽ", "dK", "dQ", "dV"], zip(inStacked, inDense)) {
            #expect(s.strides == [1, d * h, d], "\(name) in the stacked layout")
            #expect(dense.strides == [1, d, d * n], "\(name) dense for dense operands")
            #expect(s.floats.map(\.bitPattern) == dense.floats.map(\.bitPattern), "\(name): same bits in either layout")
        }
        // `[Y^1; …; Y^H]` (Evaluator.list): a view of Ṽ's storage, not a copy.
        let y = inStacked[0], rows = y.permuted([0, 2, 1]).reshaped([d * h, n])
        #expect(rows.storage === y.storage)
        let yv = y.doubles, rv = rows.doubles   // column-major: y[i, j, hd] at i + d·j + d·n·hd
        var misplaced = 0
        for hd in 0..<h { for j in 0..<n { for i in 0..<d where rv[i + d * hd + d * h * j] != yv[i + d * j + d * n * hd] { misplaced += 1 } } }
        #expect(misplaced == 0, "row d·(h−1) + i of [Y^1; …; Y^H] is Y^h's row i")
    }
}
