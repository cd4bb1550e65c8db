import AlgoKernels
import Foundation

// The two primitives of causally masked attention (Alg. 4 lines 4–6 with Mask[t_z, t_x] =
// [[t_z ≤ t_x]]) that compute only the kept half: f32 through `CausalAttention` (GEMM tiles on one
// side of the diagonal), f64 through loops over the same entries. Rank 2 (one head) or rank 3
// with the heads last (as the interpreter batches them, `Evaluator+Heads`).

extension Variable {
    /// `A = softmax(S/divisor)` per column with `S = KᵀQ` masked causally: column t_x is the
    /// softmax of its entries `t_z ≤ t_x`, the others are 0 (Alg. 4 lines 4–6 up to the product
    /// with V; `divisor` is √d_attn). K, Q: `[d, ℓ]` or `[d, ℓ, H]`; A: `[ℓ, ℓ]` or `[ℓ, ℓ, H]`.
    /// The entries `t_z > t_x` of KᵀQ are never computed. Equal to the dense composite (product,
    /// −∞ bias, division, `softmaxColumns`) to rounding; differentiable in K and Q.
    public static func causalWeights(keys: Variable, queries: Variable, divisor: Double) -> Variable {
        .apply(.causalWeights(divisor: divisor), [keys, queries])
    }

    /// `V · A` for weights A that are 0 below the diagonal (as `causalWeights` makes them): the
    /// product of Alg. 4 line 6, summing for column t_x only the rows `t_z ≤ t_x` (A's entries below
    /// the diagonal must be 0; they are not read as such everywhere, f32 tiles on the diagonal read
    /// them). The gradient with respect to A is that of its upper triangle (0 below: those entries
    /// are structurally 0). V: `[d_v, ℓ]` or `[d_v, ℓ, H]`; A: `[ℓ, ℓ(, H)]`; result `[d_v, ℓ(, H)]`.
    public func causalProduct(_ weights: Variable) -> Variable {
        .apply(.causalProduct, [self, weights])
    }
}

/// Shapes of the causal primitives: `[r, ℓ]` / `[r, ℓ, H]` operands with one ℓ and one H.
enum CausalShapes {
    static func heads(_ s: [Int]) -> Int { s.count == 3 ? s[2] : 1 }

    static func check(_ what: String, _ a: [Int], _ b: [Int], square: Bool) {
        let ok = (a.count == 2 || a.count == 3) && a.count == b.count && heads(a) == heads(b)
            && (square ? b[0] == b[1] && a[1] == b[0] : a[0] == b[0] && a[1] == b[1])
        precondition(ok, "\(what): shapes \(Shape.describe(a)) and \(Shape.describe(b))")
    }

    /// The heads of an f32 `[r, ℓ(, H)]` tensor as BLAS operands, and the tensor they point into:
    /// `t` itself when each head is a BLAS matrix, else a dense copy (`kept` must stay alive while
    /// the operands are used).
    static func operands(_ t: Tensor, heads: Int) -> (kept: Tensor, heads: [CausalAttention.Operand]) {
        let b = Tensor.blasLayout(rows: t.shape[0], cols: t.shape[1], s0: t.strides[0], s1: t.strides[1]) != nil ? t : t.contiguous()
        let l = Tensor.blasLayout(rows: b.shape[0], cols: b.shape[1], s0: b.strides[0], s1: b.strides[1])!
        let base = b.storage.floats + b.offset
        return (b, (0..<heads).map { h in
            CausalAttention.Operand(base: UnsafePointer(base + (b.rank == 3 ? h * b.strides[2] : 0)), ld: l.ld, transposed: l.transposed)
        })
    }

    /// Element (i, j) of head h of an f64 tensor, by strides.
    @inline(__always)
    static func at(_ t: Tensor, _ i: Int, _ j: Int, _ h: Int) -> Double {
        t.storage.doubles[t.offset + i * t.strides[0] + j * t.strides[1] + (t.rank == 3 ? h * t.strides[2] : 0)]
    }
}

/// `[K, Q] → A`, the causal attention weights (see `Variable.causalWeights`).
struct CausalWeightsRule: PrimitiveRule {
    let divisor: Double

    func shape(_ s: [[Int]]) -> [Int] {
        CausalShapes.check("causalWeights", s[0], s[1], square: false)
        return s[0].count == 3 ? [s[0][1], s[0][1], s[0][2]] : [s[0][1], s[0][1]]
    }

    func forward(_ x: [Tensor]) -> Tensor {
        let k = x[0], q = x[1], d = k.shape[0], n = k.shape[1], heads = CausalShapes.heads(k.shape)
        let out = Tensor(uninitializedShape: shape([k.shape, q.shape]), dtype: k.dtype)
        switch k.dtype {
        case .f32:
            let (kb, keys) = CausalShapes.operands(k, heads: heads), (qb, queries) = CausalShapes.operands(q, heads: heads)
            withExtendedLifetime((kb, qb)) {
                CausalAttention.weights(keys: keys, queries: queries,
                                        d: d, length: n, divisor: Float(divisor), a: out.storage.floats)
            }
        case .f64:
            let a = out.storage.doubles
            for h in 0..<heads {
                for x in 0..<n {
                    let col = a + h * n * n + x * n
                    var m = -Double.infinity
                    for z in 0...x {
                        var s = 0.0
                        for i in 0..<d { s += CausalShapes.at(k, i, z, h) * CausalShapes.at(q, i, x, h) }
                        col[z] = s / divisor
                        m = Swift.max(m, col[z])
                    }
                    var sum = 0.0
                    for z in 0...x { col[z] = Foundation.exp(col[z] - m); sum += col[z] }
                    for z in 0...x { col[z] /= sum }
                    for z in (x + 1)..<n { col[z] = 0 }
                }
            }
        }
        return out
    }

    /// dK and dQ read Q and K; the softmax's VJP reads A.
    func vjp(_ x: [Tensor], output a: Tensor, cotangent g: Tensor) -> [Tensor] {
        let k = x[0], q = x[1], d = k.shape[0], n = k.shape[1], heads = CausalShapes.heads(k.shape)
        let dk = Tensor(uninitializedShape: k.shape, dtype: k.dtype), dq = Tensor(uninitializedShape: q.shape, dtype: q.dtype)
        let ac = a.contiguous(), gc = g.contiguous()
        switch k.dtype {
        case .f32:
            let (kb, keys) = CausalShapes.operands(k, heads: heads), (qb, queries) = CausalShapes.operands(q, heads: heads)
            let ds = Tensor(uninitializedShape: a.shape, dtype: .f32)
            withExtendedLifetime((kb, qb, ac, gc)) {
                CausalAttention.weightsBackward(
                    keys: keys, queries: queries,
                    d: d, length: n, divisor: Float(divisor),
                    weights: UnsafePointer(ac.storage.floats + ac.offset), dWeights: UnsafePointer(gc.storage.floats + gc.offset),
                    dScores: ds.storage.floats, dKeys: dk.storage.floats, dQueries: dq.storage.floats)
            }
        case .f64:
            let pa = ac.storage.doubles + ac.offset, pg = gc.storage.doubles + gc.offset
            let pk = dk.storage.doubles, pq = dq.storage.doubles
            pk.update(repeating: 0, count: dk.count)
            pq.update(repeating: 0, count: dq.count)
            for h in 0..<heads {
                for x in 0..<n {
                    let ya = pa + h * n * n + x * n, yg = pg + h * n * n + x * n
                    var s = 0.0
                    for z in 0...x { s += ya[z] * yg[z] }
                    for z in 0...x {
                        let dsz = ya[z] * (yg[z] - s) / divisor   // ∂/∂S[z, x]
                        for i in 0..<d {
                            pq[h * d * n + x * d + i] += CausalShapes.at(k, i, z, h) * dsz
                            pk[h * d * n + z * d + i] += CausalShapes.at(q, i, x, h) * dsz
                        }
                    }
                }
            }
        }
        return [dk, dq]
    }
}

/// `[V, A] → V · A` for A upper triangular (see `Variable.causalProduct`).
struct CausalProductRule: PrimitiveRule {
    func shape(_ s: [[Int]]) -> [Int] {
        CausalShapes.check("causalProduct", s[0], s[1], square: true)
        return s[0]
    }

    func forward(_ x: [Tensor]) -> Tensor {
        let v = x[0], a = x[1].contiguous(), dv = v.shape[0], n = v.shape[1], heads = CausalShapes.heads(v.shape)
        let out = Tensor(uninitializedShape: v.shape, dtype: v.dtype)
        switch v.dtype {
        case .f32:
            let (vb, values) = CausalShapes.operands(v, heads: heads)
            withExtendedLifetime((vb, a)) {
                CausalAttention.product(values: values, dv: dv, length: n,
                                        weights: UnsafePointer(a.storage.floats + a.offset), y: out.storage.floats)
            }
        case .f64:
            let pa = a.storage.doubles + a.offset, py = out.storage.doubles
            for h in 0..<heads {
                for x in 0..<n {
                    for i in 0..<dv {
                        var s = 0.0
                        for z in 0...x { s += CausalShapes.at(v, i, z, h) * pa[h * n * n + x * n + z] }
                        py[h * dv * n + x * dv + i] = s
                    }
                }
            }
        }
        return out
    }

    var vjpReadsOutput: Bool { false }

    /// `dV = dY · Aᵀ` (from the diagonal on), `dA` = the upper triangle of `Vᵀ dY`, 0 below.
    func vjp(_ x: [Tensor], output y: Tensor, cotangent g: Tensor) -> [Tensor] {
        let v = x[0], a = x[1].contiguous(), gc = g.contiguous(), dv = v.shape[0], n = v.shape[1], heads = CausalShapes.heads(v.shape)
        let dV = Tensor(uninitializedShape: v.shape, dtype: v.dtype), dA = Tensor(uninitializedShape: a.shape, dtype: a.dtype)
        switch v.dtype {
        case .f32:
            let (vb, values) = CausalShapes.operands(v, heads: heads)
            withExtendedLifetime((vb, a, gc)) {
                CausalAttention.productBackward(values: values, dv: dv, length: n,
                                                weights: UnsafePointer(a.storage.floats + a.offset),
                                                dy: UnsafePointer(gc.storage.floats + gc.offset),
                                                dValues: dV.storage.floats, dWeights: dA.storage.floats)
            }
        case .f64:
            let pa = a.storage.doubles + a.offset, pg = gc.storage.doubles + gc.offset
            let pv = dV.storage.doubles, pd = dA.storage.doubles
            for h in 0..<heads {
                for z in 0..<n {
                    for i in 0..<dv {
                        var s = 0.0
                        for x in z..<n { s += pg[h * dv * n + x * dv + i] * pa[h * n * n + x * n + z] }
                        pv[h * dv * n + z * dv + i] = s
                    }
                }
                for x in 0..<n {
                    for z in 0..<n {
                        var s = 0.0
                        if z <= x { for i in 0..<dv { s += CausalShapes.at(v, i, z, h) * pg[h * dv * n + x * dv + i] } }
                        pd[h * n * n + x * n + z] = s
                    }
                }
            }
        }
        return [dV, dA]
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
