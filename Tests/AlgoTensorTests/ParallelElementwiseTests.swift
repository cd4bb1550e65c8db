import Foundation
import Testing
import AlgoKernels
@testable import AlgoTensor

/// Element-wise maps, copies, accumulation, reductions, `select` and the finiteness scan split
/// large tensors over the kernel threads (`Parallel.forRanges`, `rows4`'s `parallelCost`). Each
/// is checked on sizes above the split threshold against a plain per-element loop written here
/// (exact where the kernel does the same one rounding, within the summation bound for sums) and
/// for the same bits on 1, 2 and 3 threads. The shapes are the small model's (`[384, 256]`) and
/// ones that force the other split cases (one long row of output, strided views).
@Suite(.serialized) struct ParallelElementwiseTests {
    /// `body` on 1, 2 and 3 threads; the three results, each as bit patterns.
    static func onThreads(_ body: () -> Tensor) -> [[UInt32]] {
        let saved = Parallel.threads
        defer { Parallel.threads = saved }
        return [1, 2, 3].map { t in
            Parallel.threads = t
            return body().floats.map(\.bitPattern)
        }
    }

    static func expectSameOnAllThreadCounts(_ body: () -> Tensor, _ label: String) {
        let runs = onThreads(body)
        #expect(runs[0] == runs[1], "\(label): 1 and 2 threads differ")
        #expect(runs[0] == runs[2], "\(label): 1 and 3 threads differ")
    }

    static func random(_ shape: [Int], seed: UInt64) -> Tensor {
        var rng = RandomGenerator(seed: seed)
        return Tensor.normal(shape, using: &rng)
    }

    /// `W X + b 𝟏ᵀ`'s addition (a `[d]` bias broadcast over ℓ columns, strided path), a residual
    /// addition (contiguous path), a product with a transposed view and a quotient by a scalar:
    /// each element is the same single Float operation as the reference.
    @Test func binaryMapsMatchPerElementReference() {
        let x = Self.random([384, 256], seed: 1), y = Self.random([384, 256], seed: 2)
        let b = Self.random([384], seed: 3), z = Self.random([256, 384], seed: 4)
        let bias = x + b, residual = x + y, product = x * z.transposed, quotient = x / Tensor(scalar: 8)
        for i in stride(from: 0, to: 384, by: 7) {
            for j in stride(from: 0, to: 256, by: 5) {
                let xf = Float(x[i, j])
                #expect(Float(bias[i, j]) == xf + Float(b[i]))
                #expect(Float(residual[i, j]) == xf + Float(y[i, j]))
                #expect(Float(product[i, j]) == xf * Float(z[j, i]))
                #expect(Float(quotient[i, j]) == xf / 8)
            }
        }
        Self.expectSameOnAllThreadCounts({ x + b }, "bias add")
        Self.expectSameOnAllThreadCounts({ x + y }, "residual add")
        Self.expectSameOnAllThreadCounts({ x * z.transposed }, "product with a transposed view")
        Self.expectSameOnAllThreadCounts({ (x * z.transposed).unary(.exp) }, "exp")
        Self.expectSameOnAllThreadCounts({ x.compare(.less, y) }, "comparison")
        Self.expectSameOnAllThreadCounts({ x.transposed.unary(.neg) }, "negation of a transposed view")
        let e = x.unary(.exp)
        for i in stride(from: 0, to: x.count, by: 97) {
            #expect(e.storage.floats[i] == Foundation.exp(x.storage.floats[i]))
        }
    }

    /// Sums and maxima along either axis, including a `[70 000, 3]` sum along axis 1 (one output
    /// row, split into segments) and a `[3, 70 000]` one along axis 0 (the 65-row logits' shape
    /// turned around). Sums against Float64 within the bound of a Float32 sum of n terms,
    /// |error| ≤ n·u·Σ|x| with u = 2⁻²⁴; maxima exactly.
    @Test func reductionsMatchReferenceAndThreadCounts() {
        let cases: [([Int], Int)] = [([384, 256], 1), ([384, 256], 0), ([70_000, 3], 1), ([3, 70_000], 0), ([64, 256, 6], 2)]
        for (shape, axis) in cases {
            let x = Self.random(shape, seed: UInt64(shape.reduce(0, +) + axis))
            let label = "\(shape) axis \(axis)"
            Self.expectSameOnAllThreadCounts({ x.reduce(.sum, axis: axis) }, "sum \(label)")
            Self.expectSameOnAllThreadCounts({ x.reduce(.max, axis: axis) }, "max \(label)")
            let s = x.reduce(.sum, axis: axis), m = x.reduce(.max, axis: axis)
            let n = shape[axis], u = pow(2.0, -24.0)
            var idx = [Int](repeating: 0, count: shape.count)
            for o in stride(from: 0, to: s.count, by: 13) {
                // The multi-index of output element o (column-major, size 1 along axis).
                var rest = o
                for k in 0..<shape.count { let size = k == axis ? 1 : shape[k]; idx[k] = rest % size; rest /= size }
                var exact = 0.0, absSum = 0.0, largest = -Double.infinity
                for j in 0..<n {
                    idx[axis] = j
                    let v = x[idx]
                    exact += v; absSum += abs(v); largest = max(largest, v)
                }
                idx[axis] = 0
                #expect(abs(s[idx] - exact) <= Double(n) * u * absSum, "sum \(label) at \(idx)")
                #expect(m[idx] == largest, "max \(label) at \(idx)")
            }
        }
    }

    /// Dense copies of strided views, the gradient accumulation `+=` (contiguous and strided
    /// operands) and `select`: exact copies and single additions.
    @Test func copiesAccumulationAndSelect() {
        let x = Self.random([384, 256], seed: 7), y = Self.random([256, 384], seed: 8)
        let t = y.transposed.copy()
        for i in stride(from: 0, to: 384, by: 11) { for j in stride(from: 0, to: 256, by: 3) { #expect(t[i, j] == y[j, i]) } }
        Self.expectSameOnAllThreadCounts({ y.transposed.copy() }, "copy of a transposed view")
        Self.expectSameOnAllThreadCounts({ x.copy() }, "dense copy")
        // The tape's accumulation: into the sum's own buffer when unique, else a fresh one.
        func accumulate(_ sum: inout Tensor, _ other: Tensor) { var o = other; sum = Tensor.binary(.add, reusing: &sum, &o) }
        var acc = x.copy()
        accumulate(&acc, y.transposed)
        accumulate(&acc, x)
        for i in stride(from: 0, to: 384, by: 11) {
            for j in stride(from: 0, to: 256, by: 3) { #expect(Float(acc[i, j]) == (Float(x[i, j]) + Float(y[j, i])) + Float(x[i, j])) }
        }
        Self.expectSameOnAllThreadCounts({ var a = x.copy(); accumulate(&a, y.transposed); accumulate(&a, x); return a }, "accumulation")
        let mask = x.compare(.less, Tensor(scalar: 0))
        let chosen = Tensor.select(mask, x, Tensor(scalar: -.infinity))
        for i in stride(from: 0, to: x.count, by: 31) {
            let v = x.storage.floats[i]
            #expect(chosen.storage.floats[i] == (v < 0 ? v : -Float.infinity))
        }
        Self.expectSameOnAllThreadCounts({ Tensor.select(mask, x, Tensor(scalar: -.infinity)) }, "select")
    }

    /// `[Y¹; …; Y^H]` (six `[64, 256]` heads along axis 0, copied side by side on the kernel
    /// threads) and columns joined along axis 1: every element lands where it belongs.
    @Test func concatenationOfManyParts() {
        let heads = (0..<6).map { Self.random([64, 256], seed: 20 + UInt64($0)) }
        let y = Tensor.concat(heads, axis: 0)
        #expect(y.shape == [384, 256])
        for h in 0..<6 { for i in stride(from: 0, to: 64, by: 5) { for j in stride(from: 0, to: 256, by: 9) { #expect(y[64 * h + i, j] == heads[h][i, j]) } } }
        Self.expectSameOnAllThreadCounts({ Tensor.concat(heads, axis: 0) }, "concat along axis 0")
        let columns = (0..<256).map { Self.random([384, 1], seed: 100 + UInt64($0)) }
        let x = Tensor.concat(columns, axis: 1)
        for j in stride(from: 0, to: 256, by: 7) { for i in stride(from: 0, to: 384, by: 11) { #expect(x[i, j] == columns[j][i, 0]) } }
        Self.expectSameOnAllThreadCounts({ Tensor.concat(columns, axis: 1) }, "concat along axis 1")
    }

    /// The finiteness scan, split into pieces, still finds a single NaN or ∞ wherever it is (first,
    /// a middle piece, the last element) and reports both kinds when both occur.
    @Test func finitenessScanFindsEveryPosition() {
        let saved = Parallel.threads
        defer { Parallel.threads = saved }
        for threads in [1, 2, 3] {
            Parallel.threads = threads
            let n = 100_003
            let clean = Self.random([n], seed: 9)
            #expect(clean.finiteness == Finiteness(hasNaN: false, hasInfinity: false))
            for at in [0, n / 2 + 1, n - 1] {
                var nan = clean.copy(), inf = clean.copy()
                nan[at] = .nan
                inf[at] = -.infinity
                #expect(nan.finiteness == Finiteness(hasNaN: true, hasInfinity: false), "NaN at \(at), \(threads) threads")
                #expect(inf.finiteness == Finiteness(hasNaN: false, hasInfinity: true), "∞ at \(at), \(threads) threads")
                var both = nan.copy()
                both[(at + n / 3) % n] = .infinity
                #expect(both.finiteness == Finiteness(hasNaN: true, hasInfinity: true), "both, \(threads) threads")
            }
        }
    }
}
