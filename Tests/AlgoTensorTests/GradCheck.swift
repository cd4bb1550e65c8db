import Testing
@testable import AlgoTensor

/// Finite-difference gradient checks in Float64.
///
/// The function's output is projected on a random direction `w` (seeded), so one reverse pass checks
/// the full vector-Jacobian product: analytic `∂(w·f)/∂x` from the tape against central differences
/// `(L(x + h) − L(x − h)) / 2h` for every input element.
///
/// Step `h = 1e-6·max(1, |x|)`: truncation error is O(h²·f‴) ≈ 1e-12, rounding error ≈ ε·|L|/h ≈
/// 1e-10·|L|; both are far below the tolerance. Tolerance `1e-6·max(1, |numeric|)`: 10⁴× the
/// expected error for |L| ≲ 10, yet any wrong VJP (a missing factor, a wrong transpose, a lost
/// accumulation) errs by O(1) relative.
enum GradCheck {
    static let step = 1e-6
    static let tolerance = 1e-6

    static func check(_ inputs: [Tensor], tolerance: Double = GradCheck.tolerance,
                      sourceLocation: SourceLocation = #_sourceLocation,
                      _ f: ([Variable]) -> Variable) {
        let results = GradientCheck.compare(inputs, step: step, f)
        for (i, (a, n)) in results.enumerated() {
            #expect(a.count == inputs[i].count, "gradient size", sourceLocation: sourceLocation)
            for j in a.indices {
                #expect(abs(a[j] - n[j]) <= tolerance * max(1, abs(n[j])),
                        "input \(i) \(Shape.describe(inputs[i].shape)) element \(j): analytic \(a[j]) vs numeric \(n[j])",
                        sourceLocation: sourceLocation)
            }
        }
    }

    /// A random shape of `rank` with dimensions in 1…5 (so sizes 1 and odd sizes occur).
    static func shape(_ rank: Int, _ rng: inout RandomGenerator) -> [Int] {
        (0..<rank).map { _ in 1 + rng.int(below: 5) }
    }

    /// 𝒩(0, 1) values in f64.
    static func normal(_ shape: [Int], _ rng: inout RandomGenerator) -> Tensor {
        Tensor.normal(shape, dtype: .f64, using: &rng)
    }

    /// Values in [lo, hi) in f64.
    static func uniform(_ shape: [Int], _ lo: Double, _ hi: Double, _ rng: inout RandomGenerator) -> Tensor {
        Tensor.uniform(shape, lo, hi, dtype: .f64, using: &rng)
    }
}
