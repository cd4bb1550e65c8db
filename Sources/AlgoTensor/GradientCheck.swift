/// Finite-difference checking of the tape's gradients, in Float64: for tests, and for a command that
/// checks an algorithm's gradients end to end.
public enum GradientCheck {
    /// Analytic and numeric vector-Jacobian products of `f` at `inputs` (converted to f64).
    ///
    /// The output is projected on `direction` (same shape as the output; a seeded 𝒩(0, 1) tensor when
    /// nil), so one reverse pass gives `∂(w·f)/∂x` for every input; the numeric side is the central
    /// difference `(L(x + h) − L(x − h)) / 2h` with `h = step·max(1, |x|)` per element. Returns, per
    /// input, both in column-major order. Costs 2 evaluations of `f` per input element: small sizes only.
    public static func compare(_ inputs: [Tensor], step: Double = 1e-6, direction: Tensor? = nil,
                               _ f: ([Variable]) -> Variable) -> [(analytic: [Double], numeric: [Double])] {
        let xs = inputs.map { $0.converted(to: .f64) }
        let tape = Tape()
        let leaves = xs.map { tape.parameter($0) }
        let out = f(leaves)
        var rng = RandomGenerator(seed: 0xC0FFEE)
        let w = direction?.converted(to: .f64) ?? Tensor.normal(out.shape, dtype: .f64, using: &rng)
        precondition(w.shape == out.shape, "GradientCheck: direction \(Shape.describe(w.shape)) for output \(Shape.describe(out.shape))")
        let analytic = tape.gradients(of: out, wrt: leaves, seed: w)
        let wd = w.doubles
        func loss(_ ts: [Tensor]) -> Double {
            let o = f(ts.map { Variable($0) }).value.doubles
            var s = 0.0
            for i in 0..<o.count { s += o[i] * wd[i] }
            return s
        }
        return xs.indices.map { i in
            let numeric = centralDifferences(xs[i], step: step) { t in
                var ts = xs
                ts[i] = t
                return loss(ts)
            }
            return (analytic[i].doubles, numeric)
        }
    }

    /// `(L(x + h eⱼ) − L(x − h eⱼ)) / 2h` for every element j of `x` (column-major order), or for the
    /// elements `indices` in that order, in Float64, with `h = step·max(1, |xⱼ|)`: the one
    /// finite-difference rule of the project (tape tests, and `algo gradcheck` through the
    /// interpreter). Error: truncation h²|L‴|/6 plus rounding ≈ ε|L|/h. Costs 2 evaluations of
    /// `loss` per element.
    public static func centralDifferences(_ x: Tensor, step: Double, indices: [Int]? = nil, _ loss: (Tensor) throws -> Double) rethrows -> [Double] {
        let base = x.converted(to: .f64).doubles
        return try (indices ?? Array(base.indices)).map { j in
            let h = step * max(1, abs(base[j]))
            var up = base, down = base
            up[j] += h
            down[j] -= h
            return (try loss(Tensor(shape: x.shape, values: up, dtype: .f64)) - (try loss(Tensor(shape: x.shape, values: down, dtype: .f64)))) / (2 * h)
        }
    }

    /// `|a − n| / max(|a|, |n|, floor)`: the relative error of an analytic against a numeric
    /// derivative, absolute below `floor` (NaN when either is NaN).
    public static func relativeError(_ a: Double, _ n: Double, floor: Double) -> Double {
        if a.isNaN || n.isNaN { return .nan }
        return abs(a - n) / max(abs(a), abs(n), floor)
    }

    /// The largest `relativeError(analytic, numeric, floor: 1)` over all inputs and elements
    /// (NaN when any side is NaN).
    public static func maxError(_ inputs: [Tensor], step: Double = 1e-6, _ f: ([Variable]) -> Variable) -> Double {
        var worst = 0.0
        for (a, n) in compare(inputs, step: step, f) {
            for j in a.indices {
                let e = relativeError(a[j], n[j], floor: 1)
                if e.isNaN { return .nan }
                worst = max(worst, e)
            }
        }
        return worst
    }
}
