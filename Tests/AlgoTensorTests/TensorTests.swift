import Testing
@testable import AlgoTensor

/// Layout, views, copy on write, broadcasting and the matmul against hand-computed products.
/// Values here are small integers, exact in Float32, so equality is exact.
@Suite struct TensorTests {
    /// `[[1 2 3] [4 5 6]]` (2×3) in column-major order.
    static let m23 = Tensor(shape: [2, 3], floats: [1, 4, 2, 5, 3, 6])

    @Test func columnMajorLayout() {
        let m = Self.m23
        #expect(m[0, 1] == 2 && m[1, 0] == 4 && m[1, 2] == 6)
        #expect(m.strides == [1, 2] && m.isContiguous)
        #expect(m.column(1).floats == [2, 5])
        #expect(m.row(1).floats == [4, 5, 6])
    }

    @Test func viewsShareStorage() {
        let m = Self.m23
        let t = m.transposed
        #expect(t.storage === m.storage && t.shape == [3, 2] && !t.isContiguous)
        #expect(t[2, 1] == 6 && t.floats == [1, 2, 3, 4, 5, 6])
        let s = m.slice(lower: [0, 1], upper: [2, 3])
        #expect(s.storage === m.storage && s.floats == [2, 5, 3, 6] && s.isContiguous)
        let p = Tensor(shape: [2, 3, 2], floats: (0..<12).map(Float.init)).permuted([2, 0, 1])
        #expect(p.shape == [2, 2, 3] && p[1, 0, 2] == 10)
        let b = Tensor(shape: [2], floats: [7, 8]).broadcast(to: [2, 3])
        #expect(b.strides == [1, 0] && b.floats == [7, 8, 7, 8, 7, 8])
    }

    @Test func copyOnWrite() {
        let a = Self.m23
        var b = a
        b[0, 0] = 100
        #expect(a[0, 0] == 1 && b[0, 0] == 100 && a.storage !== b.storage)
        var c = a.transposed
        c[0, 1] = -1   // writes a dense copy, never the shared storage
        #expect(a[1, 0] == 4 && c[0, 1] == -1)
    }

    @Test func broadcastingAlignsFirstDimension() {
        #expect(Shape.broadcast([3, 4], [3]) == [3, 4])     // b 𝟏ᵀ
        #expect(Shape.broadcast([3, 4], [1, 4]) == [3, 4])
        #expect(Shape.broadcast([], [2, 2]) == [2, 2])
        #expect(Shape.broadcast([3, 4], [4]) == nil)
        let bias = Tensor(shape: [2], floats: [10, 20])
        #expect((Self.m23 + bias).floats == [11, 24, 12, 25, 13, 26])
        let sums = Self.m23.reduce(.sum, axis: 0)
        #expect(sums.shape == [1, 3] && sums.floats == [5, 7, 9])
        #expect(Self.m23.reduce(.max, axis: 1).floats == [3, 6])
        #expect((Self.m23 + bias).sumToShape([2]).floats == [36, 75])
        #expect(Self.m23.sumAll().shape == [] && Self.m23.sumAll().scalarValue == 21)
    }

    @Test(arguments: [DType.f32, .f64])
    func matmulAllTransposes(dtype: DType) {
        let a = Self.m23.converted(to: dtype)                               // 2×3
        let b = Tensor(shape: [3, 2], values: [1, 0, 1, 0, 1, 1], dtype: dtype)  // [[1 0] [0 1] [1 1]]
        let expected: [Double] = [4, 10, 5, 11]                                // [[4 5] [10 11]]
        #expect(Tensor.matmul(a, b).doubles == expected)
        #expect(Tensor.matmul(a.transposed.contiguous(), b, transposeA: true).doubles == expected)
        #expect(Tensor.matmul(a, b.transposed.contiguous(), transposeB: true).doubles == expected)
        #expect(Tensor.matmul(a.transposed.contiguous(), b.transposed.contiguous(), transposeA: true, transposeB: true).doubles == expected)
        #expect(Tensor.matmul(a.transposed, b.transposed, transposeA: true, transposeB: true).doubles == expected)  // views
        #expect(Tensor.matmul(b, a).shape == [3, 3])
        let batched = Tensor.matmul(Tensor.concat([a.reshaped([2, 3, 1]), (a * 2).reshaped([2, 3, 1])], axis: 2),
                                    Tensor.concat([b.reshaped([3, 2, 1]), b.reshaped([3, 2, 1])], axis: 2))
        #expect(batched.doubles == expected + expected.map { $0 * 2 })
    }

    @Test func gatherAndPick() {
        let w = Self.m23
        #expect(w.gather(axis: 1, indices: [2, 0, 2]).floats == [3, 6, 1, 4, 3, 6])
        #expect(w.pick(rows: [1, 0, 1]).floats == [4, 2, 6])
        #expect(Tensor.concat([w, w.column(0).reshaped([2, 1])], axis: 1).floats == [1, 4, 2, 5, 3, 6, 1, 4])
        #expect(Tensor(shape: [2, 1], floats: [1, 1]).scatterAdd(into: [2, 3], axis: 1, indices: [2]).floats == [0, 0, 0, 0, 1, 1])
    }

    /// Gather and scatter-add (copies of dense blocks) against the element-by-element definition on
    /// a rank-3 tensor along every axis, from a dense and a permuted source, with repeated indices
    /// (whose scatter-added entries sum in the order of the indices: here exactly, small integers).
    @Test(arguments: [DType.f32, .f64])
    func gatherAndScatterAlongEveryAxis(_ dtype: DType) {
        let shape = [3, 4, 5]
        let dense = Tensor(shape: shape, values: (0..<60).map { Double($0) }, dtype: dtype)
        let permuted = Tensor(shape: [4, 3, 5], values: (0..<60).map { Double($0 * 7 % 61) }, dtype: dtype).permuted([1, 0, 2])
        for source in [dense, permuted] {
            for axis in 0..<3 {
                let indices = [shape[axis] - 1, 0, shape[axis] - 1, 1]
                let g = source.gather(axis: axis, indices: indices)
                var scattered = [Double](repeating: 0, count: 60)
                for a in 0..<g.shape[0] { for b in 0..<g.shape[1] { for c in 0..<g.shape[2] {
                    var at = [a, b, c]
                    at[axis] = indices[at[axis]]
                    #expect(g[a, b, c] == source[at])
                    scattered[at[0] + 3 * at[1] + 12 * at[2]] += g[a, b, c]
                } } }
                #expect(g.scatterAdd(into: shape, axis: axis, indices: indices).doubles == scattered)
                #expect(g.permuted([2, 1, 0]).contiguous().permuted([2, 1, 0]).scatterAdd(into: shape, axis: axis, indices: indices).doubles == scattered)
            }
        }
    }

    @Test func dtypeConversion() {
        let d = Self.m23.converted(to: .f64)
        #expect(d.dtype == .f64 && d.doubles == [1, 4, 2, 5, 3, 6])
        #expect(d.converted(to: .f32).floats == Self.m23.floats)
    }
}

extension TensorTests {
    /// The in-place SGD update and the public mask helpers (exact small-integer arithmetic).
    @Test func updateAndMasks() {
        var theta = Tensor(shape: [3], floats: [1, 2, 3])
        let before = theta
        theta.add(Tensor(shape: [3], floats: [2, 2, 2]), scaledBy: -0.5)
        #expect(theta.floats == [0, 1, 2] && before.floats == [1, 2, 3])  // copy on write kept `before`
        let positions = Tensor(shape: [3], floats: [0, 1, 2])
        // [[t_z > t_x]] with t_z the row and t_x the column: the entries a causal mask removes.
        let future = positions.reshaped([1, 3]).compare(.less, positions)
        let bias = Tensor.select(future, Tensor(scalar: -.infinity), Tensor(scalar: 0))
        #expect(future.shape == [3, 3])
        #expect(bias[1, 0] == -.infinity && bias[2, 1] == -.infinity && bias[0, 1] == 0 && bias[2, 2] == 0)
        #expect(Tensor(shape: [20], floats: (0..<20).map(Float.init)).reduce(.sum, axis: 0).scalarValue == 190)
    }
}

extension TensorTests {
    @Test func argmax() {
        #expect(Self.m23.argmaxColumns() == [1, 1, 1])
        #expect(Tensor(shape: [3, 2], floats: [0, 5, 5, -.infinity, -.infinity, -.infinity]).argmaxColumns() == [1, 0])
        #expect(Tensor(shape: [3], floats: [1, 3, 2]).argmaxColumns() == [1])
    }
}

extension TensorTests {
    /// f32 matmul (through `GEMM.sgemm`, with views expressed as flags and leading dimensions) against the
    /// f64 reference loop on awkward sizes, every transpose combination, dense operands, transposed views
    /// and column slices (leading dimension > rows). Tolerance: the dot-product error bound
    /// `2·k·ε₃₂·Σ|a||b|` per element (k products rounded and summed in f32, inputs exact in both types).
    @Test func matmulMatchesReference() {
        var rng = RandomGenerator(seed: 60)
        let eps = Double(Float.ulpOfOne)
        for (m, k, n) in [(1, 1, 1), (15, 16, 17), (17, 1, 3), (1, 33, 2), (16, 15, 1)] {
            for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
                // Wider parents than needed: the operand is a column slice with ld > rows.
                let aRows = ta ? k : m, aCols = ta ? m : k, bRows = tb ? n : k, bCols = tb ? k : n
                let aParent = Tensor.normal([aRows + 3, aCols + 2], using: &rng)
                let bParent = Tensor.normal([bRows + 1, bCols], using: &rng)
                let a = aParent.slice(lower: [2, 1], upper: [2 + aRows, 1 + aCols])
                let b = bParent.slice(lower: [1, 0], upper: [1 + bRows, bCols])
                let a64 = a.converted(to: .f64), b64 = b.converted(to: .f64)
                let ref = Tensor.matmul(a64, b64, transposeA: ta, transposeB: tb).doubles
                let absRef = Tensor.matmul(a64.binary(.max, -a64), b64.binary(.max, -b64), transposeA: ta, transposeB: tb).doubles
                let dense = a.contiguous(), denseB = b.contiguous()
                let results = [
                    Tensor.matmul(a, b, transposeA: ta, transposeB: tb),                            // slices: ld > rows
                    Tensor.matmul(dense, denseB, transposeA: ta, transposeB: tb),                   // dense
                    Tensor.matmul(dense.transposed, denseB.transposed, transposeA: !ta, transposeB: !tb),  // transposed views: flags
                ]
                for c in results.map(\.doubles) {
                    for i in c.indices {
                        #expect(abs(c[i] - ref[i]) <= 2 * Double(k) * eps * absRef[i] + 1e-30,
                                "\(m)×\(k)×\(n) transposes \(ta),\(tb): element \(i)")
                    }
                }
            }
        }
    }
}
