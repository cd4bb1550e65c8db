/// The primitives as operations on `Variable` (each is one `Variable.apply`).
extension Variable {
    // MARK: Element-wise

    /// `op` element-wise.
    public func unary(_ op: UnaryOp) -> Variable { .apply(.unary(op), [self]) }
    /// `self op other` with broadcasting (shapes aligned at the first dimension).
    public func binary(_ op: BinaryOp, _ other: Variable) -> Variable { .apply(.binary(op), [self, other]) }

    /// `a op b` for constants, into the buffer of an operand the caller gives up (`consume`) when
    /// nothing else holds it (`Tensor.binary(_:reusing:_:)`), else like `a.binary(op, b)`. An
    /// operand recorded on a tape is never overwritten (it goes through `apply`).
    public static func binary(_ op: BinaryOp, consuming a: consuming Variable, _ b: consuming Variable) -> Variable {
        guard a.tape == nil, b.tape == nil else { return a.binary(op, b) }
        var x = a.value, y = b.value
        _ = consume a
        _ = consume b
        return Variable(Tensor.binary(op, reusing: &x, &y))
    }

    /// eˣ
    public func exp() -> Variable { unary(.exp) }
    /// ln x
    public func log() -> Variable { unary(.log) }
    /// √x
    public func sqrt() -> Variable { unary(.sqrt) }
    /// erf x
    public func erf() -> Variable { unary(.erf) }
    /// tanh x
    public func tanh() -> Variable { unary(.tanh) }
    /// σ(x) = 1/(1 + e⁻ˣ), the logistic function
    public func sigmoid() -> Variable { unary(.sigmoid) }
    /// max(self, other) element-wise.
    public func maximum(_ other: Variable) -> Variable { binary(.max, other) }

    /// Sum with broadcasting.
    public static func + (a: Variable, b: Variable) -> Variable { a.binary(.add, b) }
    /// Difference with broadcasting.
    public static func - (a: Variable, b: Variable) -> Variable { a.binary(.sub, b) }
    /// Hadamard product ⊙ with broadcasting.
    public static func * (a: Variable, b: Variable) -> Variable { a.binary(.mul, b) }
    /// Quotient with broadcasting.
    public static func / (a: Variable, b: Variable) -> Variable { a.binary(.div, b) }
    /// Negation.
    public static prefix func - (a: Variable) -> Variable { a.unary(.neg) }
    /// Plus a scalar.
    public static func + (a: Variable, s: Double) -> Variable { a + Variable(scalar: s, dtype: a.dtype) }
    /// Minus a scalar.
    public static func - (a: Variable, s: Double) -> Variable { a - Variable(scalar: s, dtype: a.dtype) }
    /// Times a scalar.
    public static func * (a: Variable, s: Double) -> Variable { a * Variable(scalar: s, dtype: a.dtype) }
    /// Divided by a scalar.
    public static func / (a: Variable, s: Double) -> Variable { a / Variable(scalar: s, dtype: a.dtype) }

    // MARK: Reductions

    /// `op` along `axis` (kept with size 1).
    public func reduce(_ op: ReduceOp, axis: Int) -> Variable { .apply(.reduce(op, axis: axis), [self]) }
    /// Σ along `axis` (kept with size 1).
    public func sum(axis: Int) -> Variable { .apply(.reduce(.sum, axis: axis), [self]) }
    /// max along `axis` (kept with size 1).
    public func max(axis: Int) -> Variable { .apply(.reduce(.max, axis: axis), [self]) }
    /// Σ of all elements, rank 0.
    public func sum() -> Variable {
        var v = self
        for k in 0..<rank where v.shape[k] != 1 { v = v.sum(axis: k) }
        return v.reshaped([])
    }

    /// Number of dimensions.
    public var rank: Int { value.rank }

    // MARK: Movement

    /// Dimension permutation (a view).
    public func permuted(_ perm: [Int]) -> Variable { .apply(.permute(perm), [self]) }
    /// Matrix transpose `Xᵀ` (rank 2; a rank-1 `[n]` becomes the row `[1, n]`).
    public var transposed: Variable {
        switch rank {
        case 0: return self
        case 1: return reshaped([shape[0], 1]).permuted([1, 0])
        default: return permuted([1, 0])
        }
    }
    /// Same elements, new shape.
    public func reshaped(_ s: [Int]) -> Variable { s == shape ? self : .apply(.reshape(s), [self]) }
    /// Box `lower ..< upper` (0-based, half-open).
    public func slice(lower: [Int], upper: [Int]) -> Variable { .apply(.slice(lower: lower, upper: upper), [self]) }
    /// Column `t` (0-based) of a matrix, as a vector `[d]` (`X[:, t]`).
    public func column(_ t: Int) -> Variable {
        precondition(rank == 2, "column: shape \(Shape.describe(shape))")
        return slice(lower: [0, t], upper: [shape[0], t + 1]).reshaped([shape[0]])
    }
    /// Broadcast to `target` (`b 𝟏ᵀ` is `b.broadcast(to: [d, ℓ])`).
    public func broadcast(to target: [Int]) -> Variable { shape == target ? self : .apply(.broadcast(target), [self]) }
    /// Join along `axis`: `[Y¹; Y²; …]` is axis 0.
    public static func concat(_ parts: [Variable], axis: Int) -> Variable { .apply(.concat(axis: axis), parts) }
    /// Vectors `[d]` side by side as the columns of `[d, n]` (`[e₁, e₂, …, e_ℓ]`).
    public static func stackColumns(_ columns: [Variable]) -> Variable {
        concat(columns.map { $0.rank == 1 ? $0.reshaped([$0.shape[0], 1]) : $0 }, axis: 1)
    }

    // MARK: Gathers

    /// Entries `indices` (0-based) along `axis`; `gather(axis: 1, …)` picks columns `W_e[:, x[t]]`.
    public func gather(axis: Int, indices: [Int]) -> Variable { .apply(.gather(axis: axis, indices: indices), [self]) }
    /// `y[t] = self[rows[t], t]` for a matrix (0-based), shape `[ℓ]`.
    public func pick(rows: [Int]) -> Variable { .apply(.pick(rows: rows), [self]) }

    // MARK: Matmul

    /// `op(self)·op(other)`; rank 2, or rank 3 batched in the last dimension. A rank-1 `other` is a
    /// column vector: `W e` of `[m, k]` and `[k]` gives `[m]`.
    public func matmul(_ other: Variable, transposeSelf: Bool = false, transposeOther: Bool = false) -> Variable {
        if other.rank == 1 && rank == 2 && !transposeOther {
            let m = transposeSelf ? shape[1] : shape[0]
            return matmul(other.reshaped([other.shape[0], 1]), transposeSelf: transposeSelf).reshaped([m])
        }
        return .apply(.matmul(transposeA: transposeSelf, transposeB: transposeOther), [self, other])
    }

    /// `op(self)·op(other) + b 𝟏ᵀ` as one primitive (one GEMM whose C starts as the bias column
    /// repeated): b is `[m]` or `[m, 1]`, or `[m, 1, H]` for a rank-3 product. Equal to
    /// `matmul(other) + bias` up to rounding (the bias enters the sum first instead of last).
    public func matmul(_ other: Variable, transposeSelf: Bool = false, transposeOther: Bool = false, addingColumn bias: Variable) -> Variable {
        .apply(.matmulAddingColumn(transposeA: transposeSelf, transposeB: transposeOther), [self, other, bias])
    }
}
