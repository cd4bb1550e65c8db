import Foundation
import Testing
@testable import AlgoTensor

/// `Tensor.denseBytes` (a checkpoint's tensor laid out once) and `hasSameBits(as:)` (the tied-weight
/// check of `algo convert`), against the definition: the elements in column-major order, one by one.
@Suite struct DenseBytesTests {
    /// The definition: every element by its index (the slow `subscript`), as its memory.
    static func expected(_ t: Tensor) -> [UInt8] {
        var out: [UInt8] = []
        var idx = [Int](repeating: 0, count: t.rank)
        for _ in 0..<t.count {
            switch t.dtype {
            case .f32: withUnsafeBytes(of: Float(t[idx]).bitPattern.littleEndian) { out += $0 }
            case .f64: withUnsafeBytes(of: t[idx].bitPattern.littleEndian) { out += $0 }
            }
            for k in 0..<t.rank { idx[k] += 1; if idx[k] < t.shape[k] { break }; idx[k] = 0 }
        }
        return out
    }

    static func filled(_ shape: [Int], _ dtype: DType) -> Tensor {
        let n = shape.reduce(1, *)
        // Distinct values with every bit of the mantissa in use, and a −0 and a subnormal.
        var values = (0..<n).map { Double($0) * 1.000_000_119 - Double(n) / 3 }
        if n > 2 { values[1] = -0.0; values[2] = 1e-40 }
        return Tensor(shape: shape, values: values, dtype: dtype)
    }

    @Test("dense tensors, transposes, slices with an offset and permuted rank-3/4 views, f32 and f64", arguments: [DType.f32, .f64])
    func viewsAsTheirElements(_ dtype: DType) {
        let m = Self.filled([7, 5], dtype)
        let t3 = Self.filled([3, 4, 5], dtype), t4 = Self.filled([2, 3, 4, 2], dtype)
        let cases: [Tensor] = [
            m, m.transposed, m.slice(lower: [2, 1], upper: [6, 5]), m.transposed.slice(lower: [1, 3], upper: [4, 6]),
            m.column(3), t3.permuted([2, 0, 1]), t3.slice(lower: [1, 0, 2], upper: [3, 4, 5]).permuted([1, 2, 0]),
            t4.permuted([3, 2, 1, 0]), Self.filled([0, 4], dtype), Tensor(scalar: 2.5, dtype: dtype),
        ]
        for t in cases {
            #expect(t.denseBytes == Self.expected(t), "\(t.shape) strides \(t.strides) offset \(t.offset)")
        }
    }

    @Test("hasSameBits: equal copies and views are the same; one changed element, −0 for +0, another shape or dtype are not")
    func sameBits() {
        let a = Self.filled([6, 4], .f32)
        #expect(a.hasSameBits(as: a.copy()))
        #expect(a.transposed.hasSameBits(as: a.transposed.copy()))   // strided: compared by layout
        var b = a.copy()
        b[3, 2] = b[3, 2] + 1
        #expect(!a.hasSameBits(as: b))
        var z = a.copy()
        z[1, 0] = 0   // element 1 of `filled` is −0: equal as numbers, not as bits
        #expect(z[1, 0] == a[1, 0] && !a.hasSameBits(as: z))
        #expect(!a.hasSameBits(as: a.transposed.copy()))
        #expect(!a.hasSameBits(as: a.converted(to: .f64)))
    }
}
