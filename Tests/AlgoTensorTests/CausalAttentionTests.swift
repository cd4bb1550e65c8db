import Testing
@testable import AlgoTensor

/// `causalWeights` + `causalProduct` (the kept half only) against Alg. 4 lines 4–6 as the dense
/// path computes them: `S = KᵀQ` (whole), `S + bias` (−∞ below the diagonal), `S/c`,
/// `softmaxColumns`, `V·A`; forward and the gradients of K, Q, V, in Float32 and Float64, with one
/// head (rank 2) and H heads (rank 3, heads last, in the interpreter's stacked layout).
///
/// Tolerance: Float64 `1e-12·max|dense|`, the two sides differing only in the order of sums of at
/// most d + ℓ terms (≤ (d + ℓ)·ε₆₄ relative to the magnitudes, which the softmax weights in [0, 1]
/// keep within a small multiple of max|dense|). Float32 `4·(d + ℓ)·ε₃₂·max|dense|` by the same
/// argument: every kept entry is a chain of a d-term dot product, a softmax over ≤ ℓ terms and an
/// ℓ-term product (or their VJPs), and two orders of such a sum differ by ≤ 2·terms·ε relative to
/// the sum of magnitudes. In fact the f32 path reproduces the dense path's arithmetic (same GEMM
/// tiles and k-slices, same softmax lanes), so the observed difference is usually exactly 0; a
/// wrong triangle (a skipped kept entry, a missed diagonal) errs by O(max|dense|).
@Suite("causal attention on the kept half equals the dense masked lines")
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
    ] } + [Case(dtype: .f32, n: 517, heads: 2, d: 64, dv: 64)]  // crosses the GEMM's 384-step k-slice

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
        v.causalProduct(.causalWeights(keys: k, queries: q, divisor: c))
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

    @Test("the tape keeps A and nothing else of the ℓ×ℓ scores (K, Q, V are the leaves), no more than the dense path")
    func keepsOneScoreMatrix() {
        var rng = RandomGenerator(seed: 3)
        let c = Case(dtype: .f32, n: 64, heads: 2, d: 8, dv: 8)
        let k = Self.operand(c.d, c, &rng), q = Self.operand(c.d, c, &rng), v = Self.operand(c.dv, c, &rng)
        func kept(_ f: (Variable, Variable, Variable, Double) -> Variable) -> Int {
            let tape = Tape()
            _ = f(tape.parameter(k), tape.parameter(q), tape.parameter(v), 2)
            return tape.savedBytes
        }
        let scores = 64 * 64 * 2 * 4
        #expect(kept(Self.skipping) == scores, "skipping keeps \(kept(Self.skipping)) B")
        #expect(kept(Self.skipping) <= kept(Self.dense), "skipping \(kept(Self.skipping)) B, dense \(kept(Self.dense)) B")
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
