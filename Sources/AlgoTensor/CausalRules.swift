import AlgoKernels
import Foundation

// The primitive of causally masked attention (Alg. 4 lines 4–6 with Mask[t_z, t_x] = [[t_z ≤ t_x]])
// that computes only the kept half, for every head of every sequence of a minibatch at once: f32
// through `CausalAttention` (AlgoKernels), f64 through loops over the same entries. Rank 2 (one
// head) or rank 3 with the heads last (as the interpreter batches them, `Evaluator+Heads`).

extension Variable {
    /// `Ṽ = V · softmax(S/divisor)` with `S = KᵀQ` masked causally within each sequence: column t_x
    /// of the weights is the softmax of its entries `t_z ≤ t_x` of the same sequence, the others 0
    /// (Alg. 4 lines 4–6; `divisor` is √d_attn). K, Q: `[d, ℓ]` or `[d, ℓ, H]`; V and Ṽ: `[d_v, ℓ]`
    /// or `[d_v, ℓ, H]`. `segments` are the lengths of the sequences laid side by side in the ℓ
    /// columns (nil: one sequence). The entries `t_z > t_x` are never computed. Equal to the dense
    /// composite (product, −∞ bias, division, `softmaxColumns`, product) per sequence to rounding;
    /// differentiable in K, Q and V. The tape keeps the kept half of the weights.
    public static func causalAttention(keys: Variable, queries: Variable, values: Variable, divisor: Double,
                                       segments: [Int]? = nil) -> Variable {
        .apply(.causalAttention(divisor: divisor, segments: segments ?? [keys.shape[1]]), [keys, queries, values])
    }
}

/// `[K, Q, V] → V · softmax_causal(KᵀQ / divisor)` per sequence (see `Variable.causalAttention`).
struct CausalAttentionRule: PrimitiveRule {
    let divisor: Double
    let segments: [Int]

    static func heads(_ s: [Int]) -> Int { s.count == 3 ? s[2] : 1 }

    func shape(_ s: [[Int]]) -> [Int] {
        let k = s[0], q = s[1], v = s[2]
        let ok = (k.count == 2 || k.count == 3) && k == q && v.count == k.count && v[1] == k[1]
            && Self.heads(v) == Self.heads(k) && segments.allSatisfy({ $0 >= 0 }) && segments.reduce(0, +) == k[1]
        precondition(ok, "causalAttention: shapes \(Shape.describe(k)), \(Shape.describe(q)), \(Shape.describe(v)), sequences \(segments)")
        return v
    }

    /// An f32 `[r, ℓ(, H)]` tensor as kernel heads, and the tensor they point into: `t` itself when
    /// its rows are adjacent (stride 1), else a dense copy (`kept` must stay alive while used).
    static func heads(_ t: Tensor) -> (kept: Tensor, heads: CausalAttention.Heads) {
        let b = t.strides[0] == 1 || t.shape[0] == 1 ? t : t.contiguous()
        let ld = b.shape[1] == 1 ? b.shape[0] : b.strides[1]
        return (b, CausalAttention.Heads(base: b.storage.floats + b.offset, ld: ld, headStride: b.rank == 3 ? b.strides[2] : 0))
    }

    func forward(_ x: [Tensor]) -> Tensor { forward(x, residuals: false).value }

    /// An uninitialised tensor of `t`'s shape and dtype, laid out as `t` when `t` is `[d, ℓ, H]` with
    /// its heads' rows stacked (strides `[1, d·H, d]`, as the head-batched products `W_q X + b_q 𝟏ᵀ`
    /// make Q, K and V), else dense. Ṽ in that layout makes `[Y^1; …; Y^H]` a view, not a copy, and
    /// dQ, dK, dV in it are the stacked rows `W_q`'s VJP multiplies (`Tensor.stackedRows`) without a
    /// copy. The kernels read and write any layout with adjacent rows: the values are the same.
    static func uninitialized(like t: Tensor) -> Tensor {
        if t.rank == 3, t.shape[0] > 1, t.shape[1] > 1, t.shape[2] > 1, t.strides == [1, t.shape[0] * t.shape[2], t.shape[0]] {
            return Tensor(storage: Storage(count: t.count, dtype: t.dtype), shape: t.shape, strides: t.strides, offset: 0)
        }
        return Tensor(uninitializedShape: t.shape, dtype: t.dtype)
    }

    /// The value and, always (the VJP reads it), the kept weights as the residual.
    func forward(_ x: [Tensor], residuals: Bool) -> (value: Tensor, residuals: [Tensor]) {
        let k = x[0], q = x[1], v = x[2], h = Self.heads(k.shape)
        let out = Self.uninitialized(like: v)
        switch k.dtype {
        case .f32:
            let a = Tensor(uninitializedShape: [h * CausalAttention.weightsCount(segments: segments)], dtype: .f32)
            let (kb, kh) = Self.heads(k), (qb, qh) = Self.heads(q), (vb, vh) = Self.heads(v), (_, yh) = Self.heads(out)
            withExtendedLifetime((kb, qb, vb)) {
                CausalAttention.forward(segments: segments, heads: h, d: k.shape[0], dv: v.shape[0], keys: kh, queries: qh, values: vh,
                                        divisor: Float(divisor), weights: a.storage.floats, output: yh)
            }
            return (out, residuals ? [a] : [])
        case .f64:
            let a = F64.weights(k, q, divisor: divisor, segments: segments)
            F64.product(v, a, segments: segments, into: out)
            return (out, residuals ? [a] : [])
        }
    }

    var vjpReadsOutput: Bool { false }

    func vjp(_ x: [Tensor], output: Tensor, cotangent g: Tensor) -> [Tensor] {
        preconditionFailure("causalAttention: the VJP reads its residual (vjp(_:output:residuals:cotangent:needed:))")
    }

    /// `[dK, dQ, dV]` from K, Q, V and the kept weights.
    func vjp(_ x: [Tensor], output: Tensor, residuals: [Tensor], cotangent g: Tensor, needed: [Bool]) -> [Tensor] {
        precondition(residuals.count == 1, "causalAttention: the VJP reads the weights, recorded by forward(_:residuals: true)")
        let k = x[0], q = x[1], v = x[2], a = residuals[0], h = Self.heads(k.shape)
        let dk = Self.uninitialized(like: k), dq = Self.uninitialized(like: q), dv = Self.uninitialized(like: v)
        switch k.dtype {
        case .f32:
            let (kb, kh) = Self.heads(k), (qb, qh) = Self.heads(q), (vb, vh) = Self.heads(v), (gb, gh) = Self.heads(g)
            withExtendedLifetime((kb, qb, vb, gb, a)) {
                CausalAttention.backward(segments: segments, heads: h, d: k.shape[0], dv: v.shape[0], keys: kh, queries: qh, values: vh,
                                         divisor: Float(divisor), weights: a.storage.floats, cotangent: gh,
                                         dKeys: Self.heads(dk).heads, dQueries: Self.heads(dq).heads, dValues: Self.heads(dv).heads)
            }
        case .f64:
            F64.backward(k, q, v, a, g, divisor: divisor, segments: segments, dk: dk, dq: dq, dv: dv)
        }
        return [dk, dq, dv]
    }

    /// The f64 path: loops over the kept entries of each (sequence, head) block. The weights are
    /// dense ℓ_s×ℓ_s per block (0 below the diagonal), heads outermost.
    enum F64 {
        /// Element (i, j) of head h, by strides.
        @inline(__always)
        static func at(_ t: Tensor, _ i: Int, _ j: Int, _ h: Int) -> Double {
            t.storage.doubles[t.offset + i * t.strides[0] + j * t.strides[1] + (t.rank == 3 ? h * t.strides[2] : 0)]
        }

        /// (first column, length, offset of the weights) of every block of head h.
        static func blocks(_ segments: [Int], head h: Int) -> [(c: Int, n: Int, a: Int)] {
            var out: [(c: Int, n: Int, a: Int)] = [], c = 0, a = h * segments.reduce(0) { $0 + $1 * $1 }
            for n in segments { out.append((c, n, a)); c += n; a += n * n }
            return out
        }

        static func weights(_ k: Tensor, _ q: Tensor, divisor: Double, segments: [Int]) -> Tensor {
            let h = CausalAttentionRule.heads(k.shape), d = k.shape[0]
            let out = Tensor(uninitializedShape: [h * segments.reduce(0) { $0 + $1 * $1 }], dtype: .f64)
            let a = out.storage.doubles
            for hd in 0..<h {
                for b in blocks(segments, head: hd) {
                    for x in 0..<b.n {
                        let col = a + b.a + x * b.n
                        var m = -Double.infinity
                        for z in 0...x {
                            var s = 0.0
                            for i in 0..<d { s += at(k, i, b.c + z, hd) * at(q, i, b.c + x, hd) }
                            col[z] = s / divisor
                            m = Swift.max(m, col[z])
                        }
                        var sum = 0.0
                        for z in 0...x { col[z] = Foundation.exp(col[z] - m); sum += col[z] }
                        for z in 0...x { col[z] /= sum }
                        for z in (x + 1)..<b.n { col[z] = 0 }
                    }
                }
            }
            return out
        }

        static func product(_ v: Tensor, _ a: Tensor, segments: [Int], into y: Tensor) {
            let h = CausalAttentionRule.heads(v.shape), dv = v.shape[0], pa = a.storage.doubles, py = y.storage.doubles
            for hd in 0..<h {
                for b in blocks(segments, head: hd) {
                    for x in 0..<b.n {
                        for i in 0..<dv {
                            var s = 0.0
                            for z in 0...x { s += at(v, i, b.c + z, hd) * pa[b.a + x * b.n + z] }
                            py[y.offset + i * y.strides[0] + (b.c + x) * y.strides[1] + (y.rank == 3 ? hd * y.strides[2] : 0)] = s
                        }
                    }
                }
            }
        }

        static func backward(_ k: Tensor, _ q: Tensor, _ v: Tensor, _ a: Tensor, _ g: Tensor, divisor: Double, segments: [Int],
                             dk: Tensor, dq: Tensor, dv: Tensor) {
            let h = CausalAttentionRule.heads(k.shape), d = k.shape[0], r = v.shape[0], pa = a.storage.doubles
            for t in [dk, dq, dv] { t.storage.doubles.update(repeating: 0, count: t.count) }
            func index(_ t: Tensor, _ i: Int, _ j: Int, _ hd: Int) -> Int {
                t.offset + i * t.strides[0] + j * t.strides[1] + (t.rank == 3 ? hd * t.strides[2] : 0)
            }
            let pk = dk.storage.doubles, pq = dq.storage.doubles, pv = dv.storage.doubles
            for hd in 0..<h {
                for b in blocks(segments, head: hd) {
                    for x in 0..<b.n {
                        let col = pa + b.a + x * b.n
                        // dA[z, x] = Σ_i V[i, z]·G[i, x] (kept z), then the softmax's VJP.
                        var da = [Double](repeating: 0, count: x + 1)
                        for z in 0...x { for i in 0..<r { da[z] += at(v, i, b.c + z, hd) * at(g, i, b.c + x, hd) } }
                        var s = 0.0
                        for z in 0...x { s += col[z] * da[z] }
                        for z in 0...x {
                            for i in 0..<r { pv[index(dv, i, b.c + z, hd)] += at(g, i, b.c + x, hd) * col[z] }
                            let ds = col[z] * (da[z] - s) / divisor   // ∂/∂S[z, x]
                            for i in 0..<d {
                                pq[index(dq, i, b.c + x, hd)] += at(k, i, b.c + z, hd) * ds
                                pk[index(dk, i, b.c + z, hd)] += at(q, i, b.c + x, hd) * ds
                            }
                        }
                    }
                }
            }
        }
    }
}

extension Tensor {
    /// Whether this 0/1 value, broadcast to n×n, is 1 exactly at the entries below the diagonal
    /// (row > column) and 0 elsewhere: the condition `¬Mask[t_z, t_x]` of a causal mask
    /// `Mask[t, t′] = [[t ≤ t′]]` (Alg. 4 line 5, Alg. 10 line 6). False when it does not broadcast.
    public func isStrictlyLowerIndicator(_ n: Int) -> Bool {
        guard rank <= 2, Shape.broadcasts(shape, to: [n, n]) else { return false }
        let t = broadcast(to: [n, n])
        func check<T: TensorScalar>(_ p: UnsafeMutablePointer<T>) -> Bool {
            for x in 0..<n {
                let col = p + t.offset + x * t.strides[1]
                for z in 0..<n where col[z * t.strides[0]] != (z > x ? 1 : 0) { return false }
            }
            return true
        }
        switch dtype {
        case .f32: return check(storage.floats)
        case .f64: return check(storage.doubles)
        }
    }
}
