import AlgoKernels
import Testing
@testable import AlgoTensor

/// `causalAttention` (the kept half only) against Alg. 4 lines 4–6 as the dense
/// path computes them: `S = KᵀQ` (whole), `S + bias` (−∞ below the diagonal), `S/c`,
/// `softmaxColumns`, `V·A`; forward and the gradients of K, Q, V, in Float32 and Float64, with one
/// head (rank 2) and H heads (rank 3, heads last, in the interpreter's stacked layout).
///
/// Tolerance: Float64 `1e-12·max|dense|`, the two sides differing only in the order of sums of at
/// most d + ℓ terms (≤ (d + ℓ)·ε₆₄ relative to the magnitudes, which the softmax weights in [0, 1]
/// keep within a small multiple of max|dense|). Float32 `4·(d + ℓ)·ε₃₂·max|dense|` by the same
/// argument: every kept entry is a chain of a d-term dot product, a softmax over ≤ ℓ terms and an
/// ℓ-term product (or their VJPs), and two orders of such a sum differ by ≤ 2·terms·ε relative to
/// the sum of magnitudes. The f32 kernels (CausalBlocks.swift) sum each dot product in the same
/// order as GEMM's micro-kernels and the softmax's sums in `FusedSoftmax`'s order, but V·A and the
/// backward products use 4-column tiles where GEMM's small products use its reference loops, so the
/// two differ by a few ulps; a wrong triangle (a skipped kept entry, a missed diagonal, a column of
/// another sequence) errs by O(max|dense|).
/// Serialized: some tests set `CausalAttention.unit` and `Parallel.threads`.
@Suite("causal attention on the kept half equals the dense masked lines", .serialized)
struct CausalAttentionTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let dtype: DType, n: Int, heads: Int?, d: Int, dv: Int
        var testDescription: String { "\(dtype) ℓ=\(n) H=\(heads.map(String.init) ?? "– (rank 2)") d=\(d) d_v=\(dv)" }
    }

    static let cases: [Case] = [DType.f32, .f64].flatMap { t in [
        Case(dtype: t, n: 1, heads: nil, d: 4, dv: 3),
        Case(dtype: t, n: 1, heads: 3, d: 4, dv: 3),
        Case(dtype: t, n: 13, heads: nil, d: 5, dv: 7),
        Case(dtype: t, n: 37, heads: 1, d: 16, dv: 16),
        Case(dtype: t, n: 100, heads: 3, d: 16, dv: 8),       // not a multiple of the 96-column items, 16-row panels or 6-column tiles
        Case(dtype: t, n: 203, heads: 2, d: 64, dv: 64),
        Case(dtype: t, n: 64, heads: 4, d: 16, dv: 16),       // the tiny model's heads
    ] } + [Case(dtype: .f32, n: 517, heads: 2, d: 64, dv: 64)]  // long columns: many chunks of z

    /// Operands in the interpreter's head-batched layout: `[r, ℓ, H]` with strides `[1, r·H, r]`
    /// (the rows `[M_1; M_2; …]`), or `[r, ℓ]`.
    static func operand(_ r: Int, _ c: Case, _ rng: inout RandomGenerator) -> Tensor {
        guard let h = c.heads else { return Tensor.normal([r, c.n], dtype: c.dtype, using: &rng) }
        let all = Tensor.normal([r * h, c.n], dtype: c.dtype, using: &rng)
        return all.reshaped([r, h, c.n]).permuted([0, 2, 1])
    }

    /// Alg. 4 lines 4–6 as the dense path runs them.
    static func dense(_ k: Variable, _ q: Variable, _ v: Variable, _ c: Double) -> Variable {
        let s = k.matmul(q, transposeSelf: true)
        let n = s.shape[0]
        let below = Tensor(shape: [n, n], values: (0..<(n * n)).map { i in i % n > i / n ? 1 : 0 }, dtype: s.dtype)
        let bias = Tensor.select(below, Tensor(scalar: -.infinity, dtype: s.dtype), Tensor(scalar: 0, dtype: s.dtype))
        let a = ((s + Variable(bias)) / c).softmaxColumns()
        return v.matmul(a)
    }

    static func skipping(_ k: Variable, _ q: Variable, _ v: Variable, _ c: Double) -> Variable {
        .causalAttention(keys: k, queries: q, values: v, divisor: c)
    }

    /// Ṽ and the gradients of Σ Ṽ ⊙ R (R random) with respect to K, Q, V.
    static func run(_ f: (Variable, Variable, Variable, Double) -> Variable, _ k: Tensor, _ q: Tensor, _ v: Tensor, _ r: Tensor, _ c: Double) -> [Tensor] {
        let tape = Tape()
        let kv = tape.parameter(k), qv = tape.parameter(q), vv = tape.parameter(v)
        let y = f(kv, qv, vv, c)
        return [y.value] + tape.gradients(of: y, wrt: [kv, qv, vv], seed: r)
    }

    @Test("forward, dK, dQ, dV equal the dense path's", arguments: cases)
    func equalsDense(_ c: Case) {
        var rng = RandomGenerator(seed: UInt64(c.n * 31 + (c.heads ?? 0)))
        let k = Self.operand(c.d, c, &rng), q = Self.operand(c.d, c, &rng), v = Self.operand(c.dv, c, &rng)
        let r = Tensor.normal(v.shape, dtype: c.dtype, using: &rng)
        let divisor = Double(c.d).squareRoot()
        let want = Self.run(Self.dense, k, q, v, r, divisor), got = Self.run(Self.skipping, k, q, v, r, divisor)
        let eps = c.dtype == .f32 ? 4 * Double(c.d + c.n) * Double(Float.ulpOfOne) : 1e-12
        for (name, (g, w)) in zip(["Ṽ", "dK", "dQ", "dV"], zip(got, want)) {
            #expect(g.shape == w.shape, "\(name)")
            let gd = g.doubles, wd = w.doubles
            let scale = max(1e-30, wd.map(abs).max() ?? 0)
            let worst = zip(gd, wd).map { abs($0 - $1) }.max() ?? 0
            #expect(worst <= eps * scale, "\(name): max |skipping − dense| = \(worst), tolerance \(eps * scale)")
        }
    }

    /// Sequences of these lengths side by side (a minibatch as the interpreter lays it out).
    static let minibatches: [[Int]] = [[64, 64, 64, 64, 64, 64, 64, 64], [1, 17, 5, 40], [33], [16, 1, 1, 31, 2]]

    /// The dense lines run on each sequence alone (its columns sliced out), the outputs side by side.
    static func densePerSequence(_ segments: [Int]) -> (Variable, Variable, Variable, Double) -> Variable {
        { k, q, v, c in
            var start = 0, outs: [Variable] = []
            for n in segments {
                func cols(_ x: Variable) -> Variable {
                    x.rank == 2 ? x.slice(lower: [0, start], upper: [x.shape[0], start + n])
                        : x.slice(lower: [0, start, 0], upper: [x.shape[0], start + n, x.shape[2]])
                }
                outs.append(dense(cols(k), cols(q), cols(v), c))
                start += n
            }
            return outs.count == 1 ? outs[0] : Variable.concat(outs, axis: 1)
        }
    }

    /// Ṽ, dK, dQ, dV of `got` within `eps·max|want|` of `want`'s.
    static func expectClose(_ got: [Tensor], _ want: [Tensor], eps: Double, _ what: String) {
        for (name, (g, w)) in zip(["Ṽ", "dK", "dQ", "dV"], zip(got, want)) {
            #expect(g.shape == w.shape, "\(what) \(name)")
            let scale = max(1e-30, w.doubles.map(abs).max() ?? 0)
            let worst = zip(g.doubles, w.doubles).map { abs($0 - $1) }.max() ?? 0
            #expect(worst <= eps * scale, "\(what) \(name): max |skipping − dense| = \(worst), tolerance \(eps * scale)")
        }
    }

    @Test("a minibatch: attention within each sequence, all of them in one call, equals the dense lines per sequence",
          arguments: [DType.f32, .f64], minibatches)
    func minibatch(_ dtype: DType, _ segments: [Int]) {
        var rng = RandomGenerator(seed: UInt64(segments.reduce(7, +)))
        let c = Case(dtype: dtype, n: segments.reduce(0, +), heads: 3, d: 16, dv: 12)
        let k = Self.operand(c.d, c, &rng), q = Self.operand(c.d, c, &rng), v = Self.operand(c.dv, c, &rng)
        let r = Tensor.normal(v.shape, dtype: dtype, using: &rng)
        let want = Self.run(Self.densePerSequence(segments), k, q, v, r, 4)
        let got = Self.run({ .causalAttention(keys: $0, queries: $1, values: $2, divisor: $3, segments: segments) }, k, q, v, r, 4)
        // As `equalsDense`, with the longest sequence as ℓ.
        let eps = dtype == .f32 ? 4 * Double(c.d + segments.max()!) * Double(Float.ulpOfOne) : 1e-12
        Self.expectClose(got, want, eps: eps, "\(dtype) \(segments)")
    }

    @Test("every vector unit and thread count gives the dense lines' values; threads do not change a bit")
    func unitsAndThreads() {
        var rng = RandomGenerator(seed: 11)
        let segments = [64, 64, 64, 64, 30, 64, 64, 64]
        let c = Case(dtype: .f32, n: segments.reduce(0, +), heads: 4, d: 16, dv: 16)
        let k = Self.operand(c.d, c, &rng), q = Self.operand(c.d, c, &rng), v = Self.operand(c.dv, c, &rng)
        let r = Tensor.normal(v.shape, dtype: .f32, using: &rng)
        let want = Self.run(Self.densePerSequence(segments), k, q, v, r, 4)
        let savedUnit = CausalAttention.unit, savedThreads = Parallel.threads
        defer { CausalAttention.unit = savedUnit; Parallel.threads = savedThreads }
        for unit in VectorUnit.available {
            CausalAttention.unit = unit
            var byThreads: [[Tensor]] = []
            for threads in [1, 2] {
                Parallel.threads = threads
                let got = Self.run({ .causalAttention(keys: $0, queries: $1, values: $2, divisor: $3, segments: segments) }, k, q, v, r, 4)
                Self.expectClose(got, want, eps: 4 * Double(16 + 64) * Double(Float.ulpOfOne), "\(unit.name), \(threads) threads")
                byThreads.append(got)
            }
            for (a, b) in zip(byThreads[0], byThreads[1]) { #expect(a.doubles == b.doubles, "\(unit.name): 1 and 2 threads differ") }
        }
    }

    @Test("Float32 skipping path against the Float64 dense path (an independent reference)")
    func f32AgainstF64() {
        var rng = RandomGenerator(seed: 5)
        let c = Case(dtype: .f64, n: 150, heads: 3, d: 32, dv: 16)
        let k = Self.operand(c.d, c, &rng), q = Self.operand(c.d, c, &rng), v = Self.operand(c.dv, c, &rng)
        let r = Tensor.normal(v.shape, dtype: .f64, using: &rng)
        let want = Self.run(Self.dense, k, q, v, r, Double(c.d).squareRoot())
        let got = Self.run(Self.skipping, k.converted(to: .f32), q.converted(to: .f32), v.converted(to: .f32), r.converted(to: .f32),
                           Double(c.d).squareRoot())
        // f32 inputs are the f64 ones rounded (relative 2⁻²⁴), which the scores (|s|/√d up to ≈ 5)
        // amplify through exp into a relative error of a few 10⁻⁶ in A; plus the f32 sums as above.
        for (name, (g, w)) in zip(["Ṽ", "dK", "dQ", "dV"], zip(got, want)) {
            let scale = w.doubles.map(abs).max() ?? 1
            let worst = zip(g.doubles, w.doubles).map { abs($0 - $1) }.max() ?? 0
            #expect(worst <= 1e-4 * scale, "\(name): max |f32 − f64| = \(worst) (scale \(scale))")
        }
    }

    @Test("the tape keeps the kept half of A and nothing else of the ℓ×ℓ scores (K, Q, V are the leaves), less than the dense path")
    func keepsOneScoreMatrix() {
        var rng = RandomGenerator(seed: 3)
        let c = Case(dtype: .f32, n: 64, heads: 2, d: 8, dv: 8)
        let k = Self.operand(c.d, c, &rng), q = Self.operand(c.d, c, &rng), v = Self.operand(c.dv, c, &rng)
        func kept(_ f: (Variable, Variable, Variable, Double) -> Variable) -> Int {
            let tape = Tape()
            _ = f(tape.parameter(k), tape.parameter(q), tape.parameter(v), 2)
            return tape.savedBytes
        }
        // Column x keeps x + 1 entries rounded up to 16: 2,560 floats of ℓ² = 4,096 per head.
        let half = CausalAttention.weightsCount(segments: [64]) * 2 * 4
        #expect(half == 2560 * 2 * 4)
        #expect(kept(Self.skipping) == half, "skipping keeps \(kept(Self.skipping)) B")
        #expect(kept(Self.skipping) < kept(Self.dense), "skipping \(kept(Self.skipping)) B, dense \(kept(Self.dense)) B")
    }

    @Test("the mask test: 1 exactly below the diagonal")
    func strictlyLowerIndicator() {
        let n = 5
        let lower = Tensor(shape: [n, n], values: (0..<(n * n)).map { i in i % n > i / n ? 1 : 0 })
        #expect(lower.isStrictlyLowerIndicator(n))
        #expect(!lower.permuted([1, 0]).isStrictlyLowerIndicator(n))   // anti-causal
        var oneOff = lower; oneOff[4, 0] = 0
        #expect(!oneOff.isStrictlyLowerIndicator(n))
        var diagonal = lower; diagonal[2, 2] = 1
        #expect(!diagonal.isStrictlyLowerIndicator(n))
        #expect(!Tensor(scalar: 0).isStrictlyLowerIndicator(n))       // Mask ≡ 1: nothing masked
        #expect(Tensor(scalar: 0).isStrictlyLowerIndicator(1))        // ℓ = 1: causal and full coincide
        #expect(!lower.isStrictlyLowerIndicator(4))
    }
}
