import Testing
import AlgoKernels
@testable import AlgoTensor

/// A matrix product's gradient dA = G·op(B)ᵀ, dB = op(A)ᵀ·G computed side by side on two threads
/// (`Tensor.productPair`, `Parallel.both`), each GEMM on one thread, for products whose
/// multiply-adds are in `Tensor.pairedProducts`: the gradients are bit-identical to those of one
/// thread (where the products run one after the other), for every transposition, `W X + b 𝟏ᵀ`
/// (b's cotangent summed alongside) and the head-stacked rank-3 product.
@Suite(.serialized) struct ProductPairTests {
    func with<T>(threads: Int, _ body: () -> T) -> T {
        let saved = (Parallel.threads, Parallel.adapts)
        Parallel.threads = threads
        Parallel.adapts = false  // a pair asked for runs as one even while another process is busy
        defer { (Parallel.threads, Parallel.adapts) = saved }
        return body()
    }

    /// The gradients of Σ (op(A)·op(B) [+ b 𝟏ᵀ]) ⊙ R for a fixed random R, as bit patterns.
    static func gradients(_ a: Tensor, _ b: Tensor, bias: Tensor?, transposeA: Bool, transposeB: Bool, weights r: Tensor) -> [[UInt32]] {
        let tape = Tape()
        let pa = tape.parameter(a), pb = tape.parameter(b)
        let pbias = bias.map { tape.parameter($0) }
        let y = pbias.map { pa.matmul(pb, transposeSelf: transposeA, transposeOther: transposeB, addingColumn: $0) }
            ?? pa.matmul(pb, transposeSelf: transposeA, transposeOther: transposeB)
        let loss = (y * Variable(r)).sum()
        let g = tape.gradients(of: loss, wrt: [pa, pb] + (pbias.map { [$0] } ?? []))
        return g.map { $0.floats.map(\.bitPattern) }
    }

    @Test func twoThreadsGiveTheBitsOfOne() {
        var rng = RandomGenerator(seed: 77)
        // The tiny model's B = 8 shapes: W [64, 64]·X [64, 512] (2²¹ multiply-adds, the least that
        // pairs) and the MLP's [256, 64]·[64, 512] (2²³); one below the range stays as it was.
        for (m, k, n) in [(64, 64, 512), (256, 64, 512), (64, 256, 512), (32, 64, 64)] {
            for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
                let a = Tensor.normal(ta ? [k, m] : [m, k], using: &rng), b = Tensor.normal(tb ? [n, k] : [k, n], using: &rng)
                let r = Tensor.normal([m, n], using: &rng), bias = Tensor.normal([m], using: &rng)
                for withBias in [false, true] {
                    let one = with(threads: 1) { Self.gradients(a, b, bias: withBias ? bias : nil, transposeA: ta, transposeB: tb, weights: r) }
                    let two = with(threads: 2) { Self.gradients(a, b, bias: withBias ? bias : nil, transposeA: ta, transposeB: tb, weights: r) }
                    #expect(one == two, "\(m)×\(k)·\(k)×\(n) ta=\(ta) tb=\(tb) bias=\(withBias)")
                }
            }
        }
    }

    /// The heads' product `W_q X` as a batch sharing X (`[16, 64, 4]·[64, 512]`, rank 3, with the
    /// stacked bias `[16, 1, 4]`): `MatmulRule.sharedVJP` pairs its two products.
    @Test func stackedHeadsGiveTheBitsOfOne() {
        var rng = RandomGenerator(seed: 78)
        let h = 4, d = 16, dx = 64, n = 512
        let stacked = Tensor.normal([d * h, dx], using: &rng)
        let w = Tensor(storage: stacked.storage, shape: [d, dx, h], strides: [1, d * h, d], offset: 0)
        let x = Tensor.normal([dx, n], using: &rng), r = Tensor.normal([d, n, h], using: &rng)
        let bias = Tensor.normal([d, 1, h], using: &rng)
        for withBias in [false, true] {
            let run = { Self.gradients(w, x, bias: withBias ? bias : nil, transposeA: false, transposeB: false, weights: r) }
            let one = with(threads: 1, run), two = with(threads: 2, run)
            #expect(one == two, "stacked heads, bias=\(withBias)")
        }
    }

    /// Which products pair: both in `pairedProducts`, f32, rank 2, two threads; and the pair's
    /// results are `matmul`'s bits.
    @Test func pairsOnlyInItsRange() {
        var rng = RandomGenerator(seed: 79)
        let g = Tensor.normal([64, 512], using: &rng), x = Tensor.normal([64, 512], using: &rng), w = Tensor.normal([64, 64], using: &rng)
        let dA: Tensor.ProductOperands = (g, x, false, true), dB: Tensor.ProductOperands = (w, g, true, false)
        var ran = false
        let pair = with(threads: 2) { Tensor.productPair(dA, dB, alongside: { ran = true }) }
        #expect(pair != nil && ran)
        if let (da, db) = pair {
            #expect(da.floats.map(\.bitPattern) == Tensor.matmul(g, x, transposeB: true).floats.map(\.bitPattern))
            #expect(db.floats.map(\.bitPattern) == Tensor.matmul(w, g, transposeA: true).floats.map(\.bitPattern))
        }
        #expect(with(threads: 1) { Tensor.productPair(dA, dB) } == nil)
        // The VJP of W X takes the pair on two threads, not on one.
        let rule = MatmulRule(transposeA: false, transposeB: false), y = Tensor.matmul(w, x)
        #expect(with(threads: 2) { rule.gradients([w, x], output: y, cotangent: g).paired })
        #expect(!with(threads: 1) { rule.gradients([w, x], output: y, cotangent: g).paired })
        let small = Tensor.normal([64, 64], using: &rng)   // 64·64·64 = 2¹⁸: below the range
        #expect(with(threads: 2) { Tensor.productPair((small, small, false, false), dB) } == nil)
        #expect(with(threads: 2) { Tensor.productPair(dA, (g.converted(to: .f64), x.converted(to: .f64), false, true)) } == nil)
    }
}
