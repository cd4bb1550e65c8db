/// The composites, built from primitives only. These are the definitions; the fused kernels are
/// tested equal to them, forward and backward.
public enum Composite {
    /// Softmax of each column (eq. 2): `exp(x − m) / Σ exp(x − m)` with `m` the column max, held
    /// constant (softmax does not depend on it, so the gradient is exact).
    ///
    /// −∞ entries (masked scores, Alg. 4 line 5) give exactly 0 and a zero gradient. A column whose
    /// entries are all −∞ is defined to give 0 everywhere and a zero gradient (the paper's 0/0, erratum A9):
    /// the max is replaced by 0 where it is not finite, and a zero denominator by 1.
    public static func softmaxColumns(_ x: Variable) -> Variable {
        let (z, s) = shiftedExpSum(x)
        return z.exp() / s
    }

    /// log-softmax of each column: `(x − m) − log Σ exp(x − m)`. −∞ entries give −∞; an all-−∞
    /// column gives all −∞ and passes the cotangent through unchanged.
    public static func logSoftmaxColumns(_ x: Variable) -> Variable {
        let (z, s) = shiftedExpSum(x)
        return z - s.log()
    }

    /// `z = x − m` (m: finite column max, else 0) and the guarded column sums `Σ exp z` (0 → 1).
    static func shiftedExpSum(_ x: Variable) -> (Variable, Variable) {
        let m = x.value.reduce(.max, axis: 0)
        let mSafe = Tensor.select(m.compare(.isFinite, m), m, m.scalarLike(0))
        let z = x - Variable(mSafe)
        let s = z.exp().sum(axis: 0)
        let zero = s.value.compare(.equal, s.value.scalarLike(0))
        return (z, s + Variable(zero))
    }

    /// GELU(x) = x · Φ(x) = x · ½(1 + erf(x/√2)), exact (eq. 5), element-wise.
    public static func gelu(_ x: Variable) -> Variable {
        x * ((x * 0.70710678118654752).erf() + 1) * 0.5
    }

    /// ReLU(x) = max(x, 0) element-wise (used by Alg. 8, not defined in the paper). The gradient at 0 is 1.
    public static func relu(_ x: Variable) -> Variable { x.maximum(Variable(scalar: 0, dtype: x.dtype)) }

    /// Mean along `axis` (kept with size 1): `Σ x / n` (Alg. 6 line 1 along axis 0).
    public static func mean(_ x: Variable, axis: Int) -> Variable { x.sum(axis: axis) / Double(x.shape[axis]) }

    /// Population variance along `axis` (kept): `Σ (x − m)² / n` (Alg. 6 line 2).
    public static func variance(_ x: Variable, axis: Int) -> Variable {
        let c = x - mean(x, axis: axis)
        return mean(c * c, axis: axis)
    }

    /// `x^k` element-wise: repeated products for k ∈ {1, 2, 3, 4} (so `(e[i] − m)²` works for negative
    /// bases), `√x` for ½, otherwise `exp(k·log x)` (positive x only, as `p^{1/τ}` in Alg. 14).
    public static func pow(_ x: Variable, _ k: Double) -> Variable {
        switch k {
        case 0: return x * 0 + 1
        case 1: return x
        case 2: return x * x
        case 3: return x * x * x
        case 4: let s = x * x; return s * s
        case 0.5: return x.sqrt()
        default: return (x.log() * k).exp()
        }
    }

    /// `x` with the box `lower ..< upper` replaced by `value` (shape `upper − lower`): the functional
    /// form of an assignment such as `Z[:, t] ← layer_norm(Z[:, t])` or `S[t_z, t_x] ← −∞`, built from
    /// slices and concatenations along each axis where the box is not the whole extent, so its
    /// gradient flows to the untouched part of `x` and to `value`.
    public static func replacing(_ x: Variable, lower: [Int], upper: [Int], with value: Variable) -> Variable {
        precondition(lower.count == x.rank && upper.count == x.rank && value.shape == zip(lower, upper).map { $1 - $0 },
                     "replacing: box \(lower)..<\(upper) of \(Shape.describe(x.shape)) with \(Shape.describe(value.shape))")
        return replacing(x, lower, upper, value, axis: 0)
    }

    private static func replacing(_ x: Variable, _ lower: [Int], _ upper: [Int], _ value: Variable, axis: Int) -> Variable {
        if axis == x.rank { return value }
        if lower[axis] == 0 && upper[axis] == x.shape[axis] {
            return replacing(x, lower, upper, value, axis: axis + 1)
        }
        func band(_ lo: Int, _ hi: Int) -> Variable {
            var l = [Int](repeating: 0, count: x.rank), u = x.shape
            l[axis] = lo; u[axis] = hi
            return x.slice(lower: l, upper: u)
        }
        let middle = replacing(band(lower[axis], upper[axis]), lower.enumerated().map { $0 == axis ? 0 : $1 },
                               upper.enumerated().map { $0 == axis ? upper[axis] - lower[axis] : $1 }, value, axis: axis + 1)
        var parts: [Variable] = []
        if lower[axis] > 0 { parts.append(band(0, lower[axis])) }
        parts.append(middle)
        if upper[axis] < x.shape[axis] { parts.append(band(upper[axis], x.shape[axis])) }
        return parts.count == 1 ? parts[0] : Variable.concat(parts, axis: axis)
    }

    /// `(x − m)/√(v + ε)` per column (Alg. 6 line 3 before γ, β). ε = 0 is the paper's definition
    /// (a constant column then divides by zero, erratum A3).
    public static func normalizeColumns(_ x: Variable, epsilon: Double) -> Variable {
        let c = x - mean(x, axis: 0)
        let v = mean(c * c, axis: 0)
        return c / (v + epsilon).sqrt()
    }

    /// Layer norm of each column (Alg. 6): `normalizeColumns(x) ⊙ γ + β`, x `[d, …]`, γ and β `[d]`
    /// (broadcast over the columns). ε = 0 is the paper's definition.
    public static func layerNormColumns(_ x: Variable, γ: Variable, β: Variable, epsilon: Double) -> Variable {
        normalizeColumns(x, epsilon: epsilon) * γ + β
    }
}

extension Variable {
    /// Softmax of each column (eq. 2), with −∞ masking; fused kernel for f32 when `Fusion.enabled`.
    public func softmaxColumns() -> Variable {
        dtype == .f32 && Fusion.enabled ? .apply(.fused(.softmaxColumns), [self]) : Composite.softmaxColumns(self)
    }
    /// log-softmax of each column; fused for f32 when `Fusion.enabled`.
    public func logSoftmaxColumns() -> Variable {
        dtype == .f32 && Fusion.enabled ? .apply(.fused(.logSoftmaxColumns), [self]) : Composite.logSoftmaxColumns(self)
    }
    /// Exact GELU (eq. 5); fused for f32 when `Fusion.enabled`.
    public func gelu() -> Variable {
        dtype == .f32 && Fusion.enabled ? .apply(.fused(.gelu), [self]) : Composite.gelu(self)
    }
    /// ReLU = max(x, 0).
    public func relu() -> Variable { Composite.relu(self) }
    /// `self` with the box `lower ..< upper` replaced by `value` (see `Composite.replacing`).
    public func replacing(lower: [Int], upper: [Int], with value: Variable) -> Variable {
        Composite.replacing(self, lower: lower, upper: upper, with: value)
    }
    /// `self` with column `t` replaced by the vector `value` (`X[:, t] ← v`).
    public func replacingColumn(_ t: Int, with value: Variable) -> Variable {
        precondition(rank == 2, "replacingColumn: shape \(Shape.describe(shape))")
        return replacing(lower: [0, t], upper: [shape[0], t + 1], with: value.reshaped([shape[0], 1]))
    }
    /// `x^k` element-wise (see `Composite.pow`).
    public func pow(_ k: Double) -> Variable { Composite.pow(self, k) }
    /// The value as a constant: no gradient flows back through it.
    public var detached: Variable { Variable(value) }
    /// Mean along `axis` (kept).
    public func mean(axis: Int) -> Variable { Composite.mean(self, axis: axis) }
    /// Population variance along `axis` (kept).
    public func variance(axis: Int) -> Variable { Composite.variance(self, axis: axis) }
    /// `(x − m)/√(v + ε)` per column; fused for f32 when `Fusion.enabled`.
    public func normalizeColumns(epsilon: Double) -> Variable {
        dtype == .f32 && Fusion.enabled ? .apply(.fused(.normalizeColumns(epsilon: epsilon)), [self])
                                        : Composite.normalizeColumns(self, epsilon: epsilon)
    }
    /// Layer norm of each column (Alg. 6), `self` `[d, …]`, γ and β `[d]`; one fused node for f32
    /// when `Fusion.enabled` (it keeps n̂ and 1/σ for the VJP, not `self`).
    public func layerNormColumns(γ: Variable, β: Variable, epsilon: Double) -> Variable {
        dtype == .f32 && γ.dtype == .f32 && β.dtype == .f32 && Fusion.enabled
            ? .apply(.fused(.layerNorm(epsilon: epsilon)), [self, γ, β])
            : Composite.layerNormColumns(self, γ: γ, β: β, epsilon: epsilon)
    }
}
