/// One differentiable operation: its shape rule, forward and vector-Jacobian product side by side.
///
/// `vjp` receives the inputs, the output and the cotangent `g` (shape of the output) and returns one
/// cotangent per input. A cotangent may still have the broadcast (output) shape: the engine
/// (`Tape.gradients`) sums it back to the input's shape and accumulates, in one place. VJPs are written
/// with tensor operations, not raw kernels (the fused ops call their backward kernels).
public protocol PrimitiveRule {
    /// Output shape for the input shapes; a mismatch is a caller bug (precondition naming the op and shapes).
    func shape(_ inputs: [[Int]]) -> [Int]
    /// The value.
    func forward(_ inputs: [Tensor]) -> Tensor
    /// Cotangents of the inputs given the output cotangent `g`.
    func vjp(_ inputs: [Tensor], output: Tensor, cotangent g: Tensor) -> [Tensor]
    /// Whether `vjp` reads the output's values (else the tape keeps only its shape).
    var vjpReadsOutput: Bool { get }
    /// Whether `vjp` reads the output's values to give the cotangents of the inputs flagged in
    /// `recorded` (a quotient `a / b` reads it only for b's); default `vjpReadsOutput`.
    func vjpReadsOutput(recorded: [Bool]) -> Bool
    /// Whether `vjp` reads input `k`'s values to give the cotangents of the inputs flagged in
    /// `recorded` (the others are discarded); else the tape keeps only its shape.
    func vjpReadsInput(_ k: Int, recorded: [Bool]) -> Bool
    /// The value and its residuals: what the forward computes that the VJP reads besides the
    /// inputs and the output (layer norm's normalised columns and 1/σ), made only when `residuals`
    /// is true (the value is being recorded on a tape). Default: `forward`, no residuals.
    func forward(_ inputs: [Tensor], residuals: Bool) -> (value: Tensor, residuals: [Tensor])
    /// Cotangents of the inputs given the residuals too; only the inputs flagged in `needed` (those
    /// recorded on the tape) get a meaningful one, the others may be shape-only placeholders.
    /// Default: `vjp(_:output:cotangent:)`.
    func vjp(_ inputs: [Tensor], output: Tensor, residuals: [Tensor], cotangent g: Tensor, needed: [Bool]) -> [Tensor]
}

extension PrimitiveRule {
    /// Conservative default: the output is kept.
    public var vjpReadsOutput: Bool { true }
    /// Default: `vjpReadsOutput`, whatever is recorded.
    public func vjpReadsOutput(recorded: [Bool]) -> Bool { vjpReadsOutput }
    /// Conservative default: every input is kept.
    public func vjpReadsInput(_ k: Int, recorded: [Bool]) -> Bool { true }
    /// Default: no residuals.
    public func forward(_ inputs: [Tensor], residuals: Bool) -> (value: Tensor, residuals: [Tensor]) { (forward(inputs), []) }
    /// Default: the VJP without residuals, every cotangent computed.
    public func vjp(_ inputs: [Tensor], output: Tensor, residuals: [Tensor], cotangent g: Tensor, needed: [Bool]) -> [Tensor] {
        vjp(inputs, output: output, cotangent: g)
    }
}

/// The closed set of primitives the tape records. Everything else (softmax, GELU, ReLU,
/// log-softmax, mean, variance) is a composite of these; `fused` cases replace composites with one
/// kernel each, tested equal to the composite forward and backward.
public enum Primitive: Sendable, Hashable {
    /// Element-wise unary op.
    case unary(UnaryOp)
    /// Element-wise binary op with broadcasting.
    case binary(BinaryOp)
    /// Reduction along one axis, kept as size 1.
    case reduce(ReduceOp, axis: Int)
    /// Dimension permutation (transpose of a matrix is `[1, 0]`); a view.
    case permute([Int])
    /// Same elements, new shape (column-major order).
    case reshape([Int])
    /// Box `lower ..< upper` (0-based); a view.
    case slice(lower: [Int], upper: [Int])
    /// Join n inputs along an axis.
    case concat(axis: Int)
    /// Broadcast to a shape (dimensions aligned at the first); a view.
    case broadcast([Int])
    /// Select entries along an axis by index (columns of an embedding matrix).
    case gather(axis: Int, indices: [Int])
    /// One row per column of a matrix: `y[t] = x[indices[t], t]`.
    case pick(rows: [Int])
    /// Matrix product with optional transposes of either operand (rank 2, or rank 3 batched).
    case matmul(transposeA: Bool, transposeB: Bool)
    /// `op(A)·op(B) + b 𝟏ᵀ` (the affine maps of Alg. 4, 5, 10: `W X + b 𝟏ᵀ`): a matrix product
    /// whose C starts as the bias column repeated (one GEMM with β = 1, no separate addition).
    /// Inputs A, B, b with b `[m]`, `[m, 1]`, or `[m, 1, H]` for a rank-3 product.
    case matmulAddingColumn(transposeA: Bool, transposeB: Bool)
    /// A fused kernel standing for a composite (f32 only).
    case fused(FusedOp)
    /// Inputs `[K, Q, V]`: causally masked attention `V · softmax((KᵀQ)/divisor)` computing only the
    /// entries `t_z ≤ t_x`, within each sequence of lengths `segments` laid side by side (Alg. 4
    /// lines 4–6; `CausalRules.swift`). Its residual is the kept half of the weights.
    case causalAttention(divisor: Double, segments: [Int])

    /// The rule implementing this primitive. Exhaustive: a new case must be handled here.
    public var rule: any PrimitiveRule {
        switch self {
        case .unary(let op): return UnaryRule(op: op)
        case .binary(let op): return BinaryRule(op: op)
        case .reduce(let op, let axis): return ReduceRule(op: op, axis: axis)
        case .permute(let perm): return PermuteRule(perm: perm)
        case .reshape(let s): return ReshapeRule(target: s)
        case .slice(let lower, let upper): return SliceRule(lower: lower, upper: upper)
        case .concat(let axis): return ConcatRule(axis: axis)
        case .broadcast(let s): return BroadcastRule(target: s)
        case .gather(let axis, let indices): return GatherRule(axis: axis, indices: indices)
        case .pick(let rows): return PickRule(rows: rows)
        case .matmul(let ta, let tb): return MatmulRule(transposeA: ta, transposeB: tb)
        case .matmulAddingColumn(let ta, let tb): return MatmulAddingColumnRule(product: MatmulRule(transposeA: ta, transposeB: tb))
        case .fused(let op): return FusedRule(op: op)
        case .causalAttention(let divisor, let segments): return CausalAttentionRule(divisor: divisor, segments: segments)
        }
    }
}

// MARK: - Element-wise

/// `y = op(x)`.
struct UnaryRule: PrimitiveRule {
    let op: UnaryOp
    func shape(_ s: [[Int]]) -> [Int] { s[0] }
    func forward(_ x: [Tensor]) -> Tensor { x[0].unary(op) }
    var vjpReadsOutput: Bool { op == .exp || op == .sqrt || op == .tanh || op == .sigmoid }
    func vjpReadsInput(_ k: Int, recorded: [Bool]) -> Bool { op == .log || op == .erf }
    func vjp(_ x: [Tensor], output y: Tensor, cotangent g: Tensor) -> [Tensor] {
        switch op {
        case .neg: return [-g]
        case .exp: return [g * y]
        case .log: return [g / x[0]]
        case .sqrt: return [g / (y * 2)]
        case .erf:  // d erf/dx = 2/√π · e^{−x²}
            return [g * (-(x[0] * x[0])).unary(.exp) * 1.1283791670955126]
        case .tanh:  // d tanh/dx = 1 − tanh²x
            return [g * (y.scalarLike(1) - y * y)]
        case .sigmoid:  // dσ/dx = σ(1 − σ)
            return [g * (y * (y.scalarLike(1) - y))]
        }
    }
}

/// `y = a op b` with broadcasting; cotangents come back in the output shape (the engine un-broadcasts).
struct BinaryRule: PrimitiveRule {
    let op: BinaryOp
    func shape(_ s: [[Int]]) -> [Int] {
        guard let r = Shape.broadcast(s[0], s[1]) else {
            preconditionFailure("\(op): shapes \(Shape.describe(s[0])) and \(Shape.describe(s[1])) do not broadcast")
        }
        return r
    }
    func forward(_ x: [Tensor]) -> Tensor { x[0].binary(op, x[1]) }
    var vjpReadsOutput: Bool { op == .div }
    /// `a / b` reads its output only for b's cotangent: a division by a constant (`S/√d_attn`,
    /// `Σ e[i]/d_e`) keeps nothing of its `[m, n]` result.
    func vjpReadsOutput(recorded: [Bool]) -> Bool { op == .div && recorded[1] }
    func vjpReadsInput(_ k: Int, recorded: [Bool]) -> Bool {
        switch op {
        case .add, .sub: return false
        case .mul: return recorded[1 - k]  // ∂(ab)/∂a reads b only
        case .max: return true
        case .div: return k == 1
        }
    }
    func vjp(_ x: [Tensor], output y: Tensor, cotangent g: Tensor) -> [Tensor] {
        let a = x[0], b = x[1]
        switch op {
        case .add: return [g, g]
        case .sub: return [g, -g]
        case .mul: return [g * b, g * a]
        case .div: return [g / b, -(g * y) / b]
        case .max:  // ties send the cotangent to `a`
            return [g * a.compare(.greaterEqual, b), g * a.compare(.less, b)]
        }
    }
    /// A quotient by a constant computes only `g / b` (its output was not kept).
    func vjp(_ x: [Tensor], output y: Tensor, residuals: [Tensor], cotangent g: Tensor, needed: [Bool]) -> [Tensor] {
        if op == .div && !needed[1] { return [g / x[1], Tape.placeholder(like: x[1])] }
        return vjp(x, output: y, cotangent: g)
    }
}

// MARK: - Reductions

/// `y = Σ_axis x` or `max_axis x`, size 1 along `axis`.
struct ReduceRule: PrimitiveRule {
    let op: ReduceOp
    let axis: Int
    func shape(_ s: [[Int]]) -> [Int] {
        precondition(axis >= 0 && axis < s[0].count, "\(op)(axis: \(axis)): shape \(Shape.describe(s[0]))")
        var r = s[0]; r[axis] = 1; return r
    }
    func forward(_ x: [Tensor]) -> Tensor { x[0].reduce(op, axis: axis) }
    var vjpReadsOutput: Bool { op == .max }
    func vjpReadsInput(_ k: Int, recorded: [Bool]) -> Bool { op == .max }
    func vjp(_ x: [Tensor], output y: Tensor, cotangent g: Tensor) -> [Tensor] {
        switch op {
        case .sum: return [g.broadcast(to: x[0].shape)]
        case .max:  // every maximal entry receives the full cotangent (ties are measure-zero in practice)
            return [g * x[0].compare(.equal, y)]
        }
    }
}

// MARK: - Movement

/// Dimension permutation.
struct PermuteRule: PrimitiveRule {
    let perm: [Int]
    func shape(_ s: [[Int]]) -> [Int] {
        precondition(perm.count == s[0].count && Set(perm) == Set(0..<perm.count),
                     "permute: \(perm) for shape \(Shape.describe(s[0]))")
        return perm.map { s[0][$0] }
    }
    func forward(_ x: [Tensor]) -> Tensor { x[0].permuted(perm) }
    var vjpReadsOutput: Bool { false }  // shapes only
    func vjpReadsInput(_ k: Int, recorded: [Bool]) -> Bool { false }
    func vjp(_ x: [Tensor], output y: Tensor, cotangent g: Tensor) -> [Tensor] {
        var inverse = [Int](repeating: 0, count: perm.count)
        for (i, p) in perm.enumerated() { inverse[p] = i }
        return [g.permuted(inverse)]
    }
}

/// New shape, same element order.
struct ReshapeRule: PrimitiveRule {
    let target: [Int]
    func shape(_ s: [[Int]]) -> [Int] {
        precondition(Shape.count(s[0]) == Shape.count(target), "reshape: \(Shape.describe(s[0])) to \(Shape.describe(target))")
        return target
    }
    func forward(_ x: [Tensor]) -> Tensor { x[0].reshaped(target) }
    var vjpReadsOutput: Bool { false }  // shapes only
    func vjpReadsInput(_ k: Int, recorded: [Bool]) -> Bool { false }
    func vjp(_ x: [Tensor], output y: Tensor, cotangent g: Tensor) -> [Tensor] { [g.reshaped(x[0].shape)] }
}

/// A box of the input; the VJP pads the cotangent with zeros.
struct SliceRule: PrimitiveRule {
    let lower: [Int], upper: [Int]
    func shape(_ s: [[Int]]) -> [Int] {
        precondition(lower.count == s[0].count && upper.count == s[0].count
                     && zip(zip(lower, upper), s[0]).allSatisfy { 0 <= $0.0 && $0.0 <= $0.1 && $0.1 <= $1 },
                     "slice: \(lower)..<\(upper) of shape \(Shape.describe(s[0]))")
        return zip(lower, upper).map { $1 - $0 }
    }
    func forward(_ x: [Tensor]) -> Tensor { x[0].slice(lower: lower, upper: upper) }
    var vjpReadsOutput: Bool { false }  // shapes only
    func vjpReadsInput(_ k: Int, recorded: [Bool]) -> Bool { false }
    func vjp(_ x: [Tensor], output y: Tensor, cotangent g: Tensor) -> [Tensor] { [g.padded(into: x[0].shape, at: lower)] }
}

/// Inputs joined along `axis`; the VJP slices the cotangent back apart.
struct ConcatRule: PrimitiveRule {
    let axis: Int
    func shape(_ s: [[Int]]) -> [Int] {
        var r = s[0]
        precondition(axis >= 0 && axis < r.count, "concat(axis: \(axis)): shape \(Shape.describe(r))")
        r[axis] = 0
        for t in s {
            var u = t; u[axis] = 0
            var v = s[0]; v[axis] = 0
            precondition(u == v, "concat(axis: \(axis)): shapes \(Shape.describe(s[0])) and \(Shape.describe(t))")
            r[axis] += t[axis]
        }
        return r
    }
    func forward(_ x: [Tensor]) -> Tensor { Tensor.concat(x, axis: axis) }
    var vjpReadsOutput: Bool { false }  // shapes only
    func vjpReadsInput(_ k: Int, recorded: [Bool]) -> Bool { false }
    func vjp(_ x: [Tensor], output y: Tensor, cotangent g: Tensor) -> [Tensor] {
        var at = 0
        return x.map { t in
            defer { at += t.shape[axis] }
            return g.sliceAt(axis: axis, at, at + t.shape[axis])
        }
    }
}

/// Explicit broadcast (`b 𝟏ᵀ`); the engine's un-broadcast is its VJP.
struct BroadcastRule: PrimitiveRule {
    let target: [Int]
    func shape(_ s: [[Int]]) -> [Int] {
        precondition(Shape.broadcasts(s[0], to: target), "broadcast: \(Shape.describe(s[0])) to \(Shape.describe(target))")
        return target
    }
    func forward(_ x: [Tensor]) -> Tensor { x[0].broadcast(to: target) }
    var vjpReadsOutput: Bool { false }  // shapes only
    func vjpReadsInput(_ k: Int, recorded: [Bool]) -> Bool { false }
    func vjp(_ x: [Tensor], output y: Tensor, cotangent g: Tensor) -> [Tensor] { [g] }
}

// MARK: - Gathers

/// `gather(axis:indices:)`; the VJP scatter-adds (repeated tokens accumulate).
struct GatherRule: PrimitiveRule {
    let axis: Int
    let indices: [Int]
    func shape(_ s: [[Int]]) -> [Int] {
        precondition(axis >= 0 && axis < s[0].count && indices.allSatisfy { $0 >= 0 && $0 < s[0][axis] },
                     "gather(axis: \(axis)): indices \(indices) for shape \(Shape.describe(s[0]))")
        var r = s[0]; r[axis] = indices.count; return r
    }
    func forward(_ x: [Tensor]) -> Tensor { x[0].gather(axis: axis, indices: indices) }
    var vjpReadsOutput: Bool { false }  // shapes only
    func vjpReadsInput(_ k: Int, recorded: [Bool]) -> Bool { false }
    func vjp(_ x: [Tensor], output y: Tensor, cotangent g: Tensor) -> [Tensor] {
        [g.scatterAdd(into: x[0].shape, axis: axis, indices: indices)]
    }
}

/// `y[t] = x[rows[t], t]`.
struct PickRule: PrimitiveRule {
    let rows: [Int]
    func shape(_ s: [[Int]]) -> [Int] {
        precondition(s[0].count == 2 && rows.count == s[0][1] && rows.allSatisfy { $0 >= 0 && $0 < s[0][0] },
                     "pick: rows \(rows) for shape \(Shape.describe(s[0]))")
        return [rows.count]
    }
    func forward(_ x: [Tensor]) -> Tensor { x[0].pick(rows: rows) }
    var vjpReadsOutput: Bool { false }  // shapes only
    func vjpReadsInput(_ k: Int, recorded: [Bool]) -> Bool { false }
    func vjp(_ x: [Tensor], output y: Tensor, cotangent g: Tensor) -> [Tensor] { [g.unpick(rows: x[0].shape[0], indices: rows)] }
}

// MARK: - Matmul

/// `C = op(A) op(B)`. With `G` the cotangent of C:
/// AB: (G Bᵀ, Aᵀ G); AᵀB: (B Gᵀ, A G); ABᵀ: (G B, Gᵀ A); AᵀBᵀ: (Bᵀ Gᵀ, Gᵀ Aᵀ).
struct MatmulRule: PrimitiveRule {
    let transposeA: Bool, transposeB: Bool
    func shape(_ s: [[Int]]) -> [Int] {
        guard let r = Tensor.matmulShape(s[0], s[1], transposeA: transposeA, transposeB: transposeB) else {
            preconditionFailure("matmul(transposeA: \(transposeA), transposeB: \(transposeB)): shapes \(Shape.describe(s[0])) and \(Shape.describe(s[1]))")
        }
        return r
    }
    func forward(_ x: [Tensor]) -> Tensor { Tensor.matmul(x[0], x[1], transposeA: transposeA, transposeB: transposeB) }
    var vjpReadsOutput: Bool { false }
    /// dA reads B and dB reads A: an operand is kept only when the other one needs its cotangent.
    func vjpReadsInput(_ k: Int, recorded: [Bool]) -> Bool { recorded[1 - k] }
    func vjp(_ x: [Tensor], output y: Tensor, cotangent g: Tensor) -> [Tensor] {
        gradients(x, output: y, cotangent: g).cotangents
    }

    /// dA and dB; when they are computed side by side (`Tensor.productPair`), `alongsideDB` runs
    /// on the thread that finishes its product first and `paired` is true, else it is not run.
    func gradients(_ x: [Tensor], output y: Tensor, cotangent g: Tensor,
                   alongsideDB: () -> Void = {}) -> (cotangents: [Tensor], paired: Bool) {
        let a = x[0], b = x[1]
        if a.rank == 3 && b.rank == 2 { return sharedVJP(a, b, y, g, alongsideDB: alongsideDB) }
        let dA: Tensor.ProductOperands, dB: Tensor.ProductOperands
        switch (transposeA, transposeB) {
        case (false, false): (dA, dB) = ((g, b, false, true), (a, g, true, false))
        case (true, false): (dA, dB) = ((b, g, false, true), (a, g, false, false))
        case (false, true): (dA, dB) = ((g, b, false, false), (g, a, true, false))
        case (true, true): (dA, dB) = ((b, g, true, true), (g, a, true, true))
        }
        if let (da, db) = Tensor.productPair(dA, dB, alongside: alongsideDB) { return ([da, db], true) }
        return ([Tensor.matmul(dA.a, dA.b, transposeA: dA.transposeA, transposeB: dA.transposeB),
                 Tensor.matmul(dB.a, dB.b, transposeA: dB.transposeA, transposeB: dB.transposeB)], false)
    }
}

extension MatmulRule {
    /// The VJP of a batch `[m, k, H]` whose entries share B (`op(B)` `[k, n]`): dA_h = g_h·op(B)ᵀ
    /// and dB = Σ_h (the cotangent of B in entry h). Without a transposed A (f32), each as one
    /// product of the entries' rows stacked (`Tensor.stackedRows`): `dA = G·op(B)ᵀ` with
    /// G = [g_1; …; g_H], and `dB = AᵀG` (`GᵀA` for a transposed B), whose sum over the stacked
    /// rows is the sum over h; every entry a dot product over the rows of all heads in order.
    /// Otherwise B is broadcast over the batch and its cotangents summed.
    func sharedVJP(_ a: Tensor, _ b: Tensor, _ y: Tensor, _ g: Tensor,
                   alongsideDB: () -> Void = {}) -> (cotangents: [Tensor], paired: Bool) {
        let m = a.shape[0]
        guard !transposeA, a.dtype == .f32 else {
            let shape3 = [b.shape[0], b.shape[1], 1]
            let r = vjp([a, b.reshaped(shape3).broadcast(to: [b.shape[0], b.shape[1], a.shape[2]])], output: y, cotangent: g)
            return ([r[0], r[1].sumToShape(shape3).reshaped(b.shape)], false)
        }
        let gAll = Tensor.stackedRows(g), aAll = Tensor.stackedRows(a)
        let dA: Tensor.ProductOperands = (gAll, b, false, !transposeB)
        let dB: Tensor.ProductOperands = transposeB ? (gAll, aAll, true, false) : (aAll, gAll, true, false)
        if let (da, db) = Tensor.productPair(dA, dB, alongside: alongsideDB) {
            return ([Tensor.stackedView(da, rows: m), db], true)
        }
        return ([Tensor.stackedView(Tensor.matmul(dA.a, dA.b, transposeB: dA.transposeB), rows: m),
                 Tensor.matmul(dB.a, dB.b, transposeA: true)], false)
    }
}

/// `y = op(A)·op(B) + b 𝟏ᵀ`: the product's rule for A and B; b's cotangent is the cotangent itself,
/// which the engine sums over the columns back to b's shape (`sumToShape`), as for `A·B + b` written
/// as two primitives.
struct MatmulAddingColumnRule: PrimitiveRule {
    let product: MatmulRule
    func shape(_ s: [[Int]]) -> [Int] {
        let r = product.shape(s)
        precondition(Tensor.isColumn(s[2], of: r), "matmul + b𝟏ᵀ: bias \(Shape.describe(s[2])) for a product \(Shape.describe(r))")
        return r
    }
    func forward(_ x: [Tensor]) -> Tensor {
        Tensor.matmul(x[0], x[1], transposeA: product.transposeA, transposeB: product.transposeB, addingColumn: x[2])
    }
    var vjpReadsOutput: Bool { false }
    func vjpReadsInput(_ k: Int, recorded: [Bool]) -> Bool { k < 2 && recorded[1 - k] }
    /// When dA and dB run side by side (`Tensor.productPair`), b's cotangent is summed to b's shape
    /// there, on whichever thread finishes first (the same `sumToShape` the engine would run, so the
    /// same bits).
    func vjp(_ x: [Tensor], output y: Tensor, cotangent g: Tensor) -> [Tensor] {
        let biasShape = x[2].shape
        var db: Tensor? = nil
        let (products, paired) = product.gradients([x[0], x[1]], output: y, cotangent: g, alongsideDB: { db = g.sumToShape(biasShape) })
        return products + [paired ? db! : g]
    }
}

extension Primitive: CustomStringConvertible {
    /// A short name for traces and dumps: `mul`, `sum(axis: 0)`, `matmul(Aᵀ B)`, `fused softmaxColumns`.
    public var description: String {
        switch self {
        case .unary(let op): return "\(op)"
        case .binary(let op): return "\(op)"
        case .reduce(let op, let axis): return "\(op)(axis: \(axis))"
        case .permute(let perm): return "permute\(perm)"
        case .reshape(let s): return "reshape\(Shape.describe(s))"
        case .slice(let lower, let upper): return "slice\(lower)..<\(upper)"
        case .concat(let axis): return "concat(axis: \(axis))"
        case .broadcast(let s): return "broadcast\(Shape.describe(s))"
        case .gather(let axis, let indices): return "gather(axis: \(axis), \(indices.count) indices)"
        case .pick(let rows): return "pick(\(rows.count) rows)"
        case .matmul(let ta, let tb): return "matmul(\(ta ? "Aᵀ" : "A") \(tb ? "Bᵀ" : "B"))"
        case .matmulAddingColumn(let ta, let tb): return "matmul(\(ta ? "Aᵀ" : "A") \(tb ? "Bᵀ" : "B") + b𝟏ᵀ)"
        case .fused(let op): return "fused \(op)"
        case .causalAttention(let divisor, let segments): return "causalAttention(÷\(divisor), \(segments.count) sequences)"
        }
    }
}
