import AlgoTensor
import Foundation

/// One parameter tensor of θ checked element by element: ∇loss(θ) (the interpreter's reverse mode)
/// against central differences of loss(θ).
public struct GradientCheckResult: Sendable {
    /// The checkpoint name (`algo params`), e.g. `W_e`, `𝓦_1.W^1_q`.
    public let name: String
    public let shape: [Int]
    /// How many elements were compared (all, unless `check(elements:)` sampled them).
    public let compared: Int
    /// The largest relative error `|g − g_fd| / max(|g|, |g_fd|, floor)` over the tensor's elements
    /// (NaN when a side is NaN).
    public let maxError: Double
    /// 1-based (row, column) of the element with the largest error (one index for a vector).
    public let index: [Int]
    /// ∇loss(θ) and the central difference at that element.
    public let gradient: Double
    public let finiteDifference: Double
    /// The largest |g| of the tensor (how far from zero the gradients being compared are).
    public let largestGradient: Double
    public let passed: Bool
}

extension GradientCheckProblem {
    /// Central-difference step: `h = step·max(1, |θ_i|)` (`AlgoTensor.GradientCheck.centralDifferences`).
    /// Error model of `g_fd` in Float64: truncation h²|L‴|/6 ≈ 2·10⁻¹¹|L‴| plus rounding ≈ κε|L|/h
    /// (ε = 2.2·10⁻¹⁶, κ the error growth of one evaluation of the loss, |L| ≈ 5–20 here) ≈ 10⁻¹⁰κ; the
    /// two balance near h = (3ε|L|/|L‴|)^{1/3} ≈ 10⁻⁵.
    public static let step = 1e-5
    /// Gradients smaller than `floor` are compared absolutely: an element whose gradient vanishes
    /// (a column of W_e for a token not in the sequence) is within |g − g_fd| ≤ 10⁻⁹.
    public static let floor = 1e-3
    /// The pass mark of the relative error. The error model above bounds |g − g_fd| by about 10⁻⁹ at
    /// |g| ≥ 10⁻³, a relative 10⁻⁶ at the floor and far less for larger gradients (measured on every
    /// training file and model, seeds 0–5: ≤ 2·10⁻⁷); a wrong rule (a missing term, a transposed or
    /// un-broadcast cotangent, a GELU VJP off by 10⁻³) gives relative errors from 10⁻⁴ to 1. 10⁻⁵ lies
    /// between the two: 50 times the largest observed, 10 times below the smallest wrong one measured.
    public static let tolerance = 1e-5

    /// Checks every element of every tensor of θ (2 runs of the algorithm per element), or, with
    /// `elements`, that many per tensor drawn from `seed` (quicker, for tests of other things).
    /// `progress` is told each tensor's name before it is checked. Throws E0531 when loss(θ) does not
    /// depend on θ at all (every gradient and every difference exactly 0: nothing was masked).
    public func check(step: Double = Self.step, tolerance: Double = Self.tolerance, floor: Double = Self.floor, elements: Int? = nil,
                      progress: (String) -> Void = { _ in }) throws -> (loss: Double, results: [GradientCheckResult]) {
        let θ = self.θ
        let (l, g) = try gradient(θ)
        var results: [GradientCheckResult] = []
        var anyNonZero = false
        var rng = RandomGenerator(seed: seed &+ 0x9C)
        for (name, t) in parameters {
            progress(name)
            let all = (g[name] ?? Tensor.zeros(t.shape, dtype: .f64)).doubles
            let indices = elements.map { k in (0..<min(k, t.count)).map { _ in Int(rng.next() % UInt64(t.count)) } } ?? Array(all.indices)
            let analytic = indices.map { all[$0] }
            let numeric = try GradientCheck.centralDifferences(t, step: step, indices: indices) { x in
                var θx = θ
                θx[name] = x
                return try loss(θx)
            }
            var worst = 0.0, at = 0
            for k in analytic.indices {
                let e = GradientCheck.relativeError(analytic[k], numeric[k], floor: floor)
                if e.isNaN { worst = .nan; at = k; break }
                if e > worst { worst = e; at = k }
            }
            if all.contains(where: { $0 != 0 }) || numeric.contains(where: { $0 != 0 }) { anyNonZero = true }
            let j = indices[at]
            let index = t.shape.count >= 2 ? [j % t.shape[0] + 1, j / t.shape[0] + 1] : [j + 1]
            results.append(GradientCheckResult(name: name, shape: t.shape, compared: indices.count, maxError: worst, index: index, gradient: analytic[at],
                                               finiteDifference: numeric[at], largestGradient: all.map(abs).max() ?? 0,
                                               passed: !worst.isNaN && worst <= tolerance))
        }
        guard anyNonZero else {
            throw RuntimeError(.degenerateLoss, "loss(θ) = \(l) does not depend on θ at this dataset element (every gradient and every difference is 0)\(reals["p_mask"] != nil ? ": the draw of seed \(seed) masked no position" : "")",
                               at: program.target.syntax.title.span,
                               notes: reals["p_mask"] != nil ? ["another `--seed` or a larger `--set p_mask=…` masks some position"] : [])
        }
        return (l, results)
    }
}
