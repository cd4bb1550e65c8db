import Testing
@testable import AlgoTensor

/// `Tensor.finiteness` (the interpreter's NaN/∞ check of every assigned value) against the
/// element-by-element definition (`Double.isNaN`, `isInfinite` over `.doubles`).
@Suite struct FinitenessTests {
    static func reference(_ t: Tensor) -> Finiteness {
        let v = t.doubles
        return Finiteness(hasNaN: v.contains { $0.isNaN }, hasInfinity: v.contains { $0.isInfinite })
    }

    /// One special value at every position of lengths around the 8-lane blocks (body and tail),
    /// for both dtypes, and the largest finite values (exponent one below all ones) as non-hits.
    @Test(arguments: [DType.f32, .f64])
    func everyPositionAndLength(_ dtype: DType) {
        for n in [0, 1, 7, 8, 9, 16, 17, 31] {
            var base = [Double](repeating: 0, count: n)
            for i in 0..<n { base[i] = i % 3 == 0 ? (dtype == .f32 ? Double(Float.greatestFiniteMagnitude) : .greatestFiniteMagnitude) : Double(i) - 4.5 }
            let clean = Tensor(shape: [n], values: base, dtype: dtype)
            #expect(clean.finiteness == Finiteness(hasNaN: false, hasInfinity: false))
            for i in 0..<n {
                for special in [Double.nan, .infinity, -.infinity] {
                    var v = base
                    v[i] = special
                    let t = Tensor(shape: [n], values: v, dtype: dtype)
                    #expect(t.finiteness == Self.reference(t), "n \(n), position \(i), \(special)")
                }
            }
        }
    }

    /// Views (transposes, slices) are scanned over their own elements, not the whole storage.
    @Test func stridedViews() {
        var v = (0..<40).map { Double($0) }
        v[3] = .infinity  // row 3 of column 0 in a [10, 4] matrix
        let m = Tensor(shape: [10, 4], values: v)
        let t = m.transposed
        #expect(t.finiteness == Finiteness(hasNaN: false, hasInfinity: true))
        let away = m.slice(lower: [4, 0], upper: [10, 4])
        #expect(away.finiteness == Finiteness(hasNaN: false, hasInfinity: false))
        #expect(away.finiteness == Self.reference(away))
    }

    /// A permuted dense block (the head-stacked `[m, n, H]` view with strides `[1, m·H, m]`, a
    /// transpose) is scanned in place: every position found, for both dtypes; an offset block (one
    /// head's rows of a stacked matrix) is not dense and is copied, and sees only its own elements.
    @Test(arguments: [DType.f32, .f64])
    func denseBlocksInPlace(_ dtype: DType) {
        let (m, n, h) = (3, 5, 4)
        for i in 0..<(m * n * h) {
            var v = [Double](repeating: 1, count: m * n * h)
            v[i] = .nan
            let all = Tensor(shape: [m * h, n], values: v, dtype: dtype)
            let stacked = Tensor(storage: all.storage, shape: [m, n, h], strides: [1, m * h, m], offset: 0)
            #expect(stacked.isDenseBlock && !stacked.isContiguous)
            #expect(stacked.finiteness == Finiteness(hasNaN: true, hasInfinity: false), "position \(i)")
            #expect(all.transposed.isDenseBlock && all.transposed.finiteness == Self.reference(all))
            let head = all.slice(lower: [m, 0], upper: [2 * m, n])   // rows of head 2
            #expect(!head.isDenseBlock)
            #expect(head.finiteness == Self.reference(head), "position \(i)")
        }
        let broadcast = Tensor(shape: [2], values: [1, .infinity], dtype: dtype).reshaped([2, 1]).broadcast(to: [2, 3])
        #expect(!broadcast.isDenseBlock && broadcast.finiteness == Finiteness(hasNaN: false, hasInfinity: true))
    }
}
