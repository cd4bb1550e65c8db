import Foundation
import Testing
import AlgoKernels

/// The fused kernels against plain Double references, on awkward sizes (1, 7, 8, 9, 15, 16, 17, 63, 65):
/// SIMD bodies and scalar tails.
@Suite struct FusedKernelTests {
    static let sizes = [1, 7, 8, 9, 15, 16, 17, 63, 65]

    /// The vector exp stays within 2 ulp (relative 2·2⁻²³ ≈ 2.4e-7) of the Double exp on [−87, 88],
    /// gives exactly 0 at −∞ and below −87.3, and stays finite above 88.3.
    @Test func vectorExp() {
        var worst = 0.0
        var x: Float = -87
        while x < 88 {
            let v = SIMD8<Float>(x, x + 0.001, x + 0.002, x + 0.003, x + 0.004, x + 0.005, x + 0.006, x + 0.007)
            let e = FusedMath.exp(v)
            for l in 0..<8 {
                let ref = Foundation.exp(Double(v[l]))
                worst = max(worst, abs(Double(e[l]) - ref) / ref)
            }
            x += 0.0173
        }
        #expect(worst <= 2 * Double(Float.ulpOfOne), "worst relative error \(worst)")
        print("FusedMath.exp: worst relative error \(worst) = \(worst / Double(Float.ulpOfOne)) ulp")
        #expect(FusedMath.exp(-Float.infinity) == 0 && FusedMath.exp(-100) == 0)
        #expect(FusedMath.exp(Float(1000)).isFinite && FusedMath.exp(Float(0)) == 1)
    }

    /// Softmax and log-softmax of columns against Double; tolerance 4·n·ε₃₂ relative to 1 (values ≤ 1,
    /// f32 sums of n terms).
    @Test(arguments: sizes)
    func softmax(rows: Int) {
        let cols = 3
        let x = (0..<rows * cols).map { Float(sin(Double($0) * 1.7) * 4) }
        var y = [Float](repeating: .nan, count: x.count), ly = y
        FusedSoftmax.forward(x: x, y: &y, rows: rows, cols: cols)
        FusedSoftmax.logForward(x: x, y: &ly, rows: rows, cols: cols)
        let tol = 4 * Double(rows) * Double(Float.ulpOfOne)
        for j in 0..<cols {
            let col = x[(j * rows)..<((j + 1) * rows)].map(Double.init)
            let m = col.max()!
            let s = col.map { Foundation.exp($0 - m) }.reduce(0, +)
            for i in 0..<rows {
                let ref = Foundation.exp(col[i] - m) / s
                #expect(abs(Double(y[j * rows + i]) - ref) <= tol)
                #expect(abs(Double(ly[j * rows + i]) - Foundation.log(ref)) <= tol * max(1, abs(Foundation.log(ref))))
            }
        }
    }

    /// Column normalisation against Double: mean 0, variance 1 per column up to 4·n·ε₃₂.
    @Test(arguments: sizes.filter { $0 > 1 })
    func layerNorm(rows: Int) {
        let cols = 2
        let x = (0..<rows * cols).map { Float(cos(Double($0) * 0.9) * 3 + 1) }
        var y = [Float](repeating: .nan, count: x.count)
        FusedLayerNorm.forward(x: x, y: &y, rows: rows, cols: cols, epsilon: 0)
        for j in 0..<cols {
            let col = x[(j * rows)..<((j + 1) * rows)].map(Double.init)
            let m = col.reduce(0, +) / Double(rows)
            let v = col.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(rows)
            for i in 0..<rows {
                let ref = (col[i] - m) / v.squareRoot()
                #expect(abs(Double(y[j * rows + i]) - ref) <= 4 * Double(rows) * Double(Float.ulpOfOne) * max(1, abs(ref)))
            }
        }
    }

    /// GELU at known points: x·Φ(x) (Φ from tables), 4 ulp (erff and two roundings).
    @Test func gelu() {
        let x: [Float] = [-1, 0, 1, 2]
        var y = [Float](repeating: .nan, count: 4), d = y
        FusedGELU.forward(x: x, y: &y, count: 4)
        let ref = [-0.15865525393145707, 0, 0.8413447460685429, 1.9544997361036416]
        for i in 0..<4 { #expect(abs(Double(y[i]) - ref[i]) <= 4 * Double(Float.ulpOfOne) * max(1, abs(ref[i]))) }
        FusedGELU.backward(x: x, dy: [1, 1, 1, 1], dx: &d, count: 4)
        #expect(abs(d[1] - 0.5) <= Float.ulpOfOne)  // GELU′(0) = Φ(0) = ½
    }

    /// `FusedGELU.cdf` skips the branch no lane of a block needs: every element must come out the
    /// same whether its block of 8 is all |x| < √2, all beyond, or mixed (and so the same as
    /// computed alone, in a block padded with zeros). Bitwise, forward and backward.
    @Test func geluDoesNotDependOnNeighbours() {
        let small: [Float] = [0.3, -0.7, 1.2, -1.4, 0.01, -0.02, 1.41, -0.5]
        let large: [Float] = [1.5, -2, 3.7, -9.5, 12, -1.42, 2.5, -4]
        let mixed: [Float] = [0.3, -2, 1.2, -9.5, 0.01, -1.42, 1.41, -4]
        let xs = small + large + mixed
        var y = [Float](repeating: .nan, count: xs.count), d = y
        let dy = (0..<xs.count).map { Float(1 + $0 % 3) }
        FusedGELU.forward(x: xs, y: &y, count: xs.count)
        FusedGELU.backward(x: xs, dy: dy, dx: &d, count: xs.count)
        for i in xs.indices {
            var one: [Float] = [.nan], dOne: [Float] = [.nan]
            FusedGELU.forward(x: [xs[i]], y: &one, count: 1)
            FusedGELU.backward(x: [xs[i]], dy: [dy[i]], dx: &dOne, count: 1)
            #expect(y[i].bitPattern == one[0].bitPattern, "GELU(\(xs[i])) in its block \(y[i]), alone \(one[0])")
            #expect(d[i].bitPattern == dOne[0].bitPattern, "GELU′(\(xs[i])) in its block \(d[i]), alone \(dOne[0])")
        }
    }

    /// GELU and its derivative on a sweep of [−10, 10] against Double `erf` (accurate to ~1e-16):
    /// error ≤ 2 ulp of max(1, |value|) (the polynomial fits are within 1.1e-8, plus f32 rounding).
    @Test func geluSweep() {
        let xs = (0..<4001).map { Float(-10 + 0.005 * Double($0)) } + [1, -1, 0.999_999, 9.4, -9.4, 20, -20]
        var y = [Float](repeating: .nan, count: xs.count), d = y
        FusedGELU.forward(x: xs, y: &y, count: xs.count)
        FusedGELU.backward(x: xs, dy: [Float](repeating: 1, count: xs.count), dx: &d, count: xs.count)
        var worst = 0.0, worstD = 0.0
        for i in xs.indices {
            let x = Double(xs[i])
            let phi = 0.5 * erfc(-x / 2.0.squareRoot())
            let g = x * phi, dg = phi + x * Foundation.exp(-0.5 * x * x) / (2 * Double.pi).squareRoot()
            worst = max(worst, abs(Double(y[i]) - g) / max(1, abs(g)))
            worstD = max(worstD, abs(Double(d[i]) - dg) / max(1, abs(dg)))
        }
        #expect(worst <= 2 * Double(Float.ulpOfOne) && worstD <= 2 * Double(Float.ulpOfOne), "GELU \(worst), GELU′ \(worstD)")
        print("FusedGELU: worst error \(worst / Double(Float.ulpOfOne)) ulp, derivative \(worstD / Double(Float.ulpOfOne)) ulp")
    }
}
