import Foundation

/// Fused exact GELU (eq. 5): `GELU(x) = x · Φ(x) = x · ½(1 + erf(x/√2))`, and its derivative
/// `Φ(x) + x · φ(x)` with `φ(x) = e^{−x²/2}/√(2π)`. One pass each; `erf` is libm's `erff` (exact to
/// float precision, no tanh approximation).
public enum FusedGELU {
    /// `y[i] = GELU(x[i])` for `i < count`. `x` and `y` may alias.
    public static func forward(x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, count: Int) {
        FusedMath.forColumns(count, perColumn: 1) { range in
            for i in range {
                let v = x[i]
                y[i] = v * (0.5 * (1 + Foundation.erf(v * 0.70710678118654752)))
            }
        }
    }

    /// `dx[i] = dy[i] · (Φ(x[i]) + x[i]·φ(x[i]))`. `dx` may alias `dy`.
    public static func backward(x: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, count: Int) {
        FusedMath.forColumns(count, perColumn: 1) { range in
            for i in range {
                let v = x[i]
                let cdf = 0.5 * (1 + Foundation.erf(v * 0.70710678118654752))
                let pdf = Foundation.exp(-0.5 * v * v) * 0.39894228040143268
                dx[i] = dy[i] * (cdf + v * pdf)
            }
        }
    }
}
