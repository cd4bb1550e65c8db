import AlgoKernels

extension Tensor {
    /// A matrix view as BLAS sees it: base offset, leading dimension, and whether the view is the
    /// transpose of a column-major matrix. Nil when the strides fit neither layout (then copy).
    static func blasLayout(rows r: Int, cols c: Int, s0: Int, s1: Int) -> (ld: Int, transposed: Bool)? {
        if (s0 == 1 || r == 1) && (c == 1 || s1 >= max(1, r)) { return (c == 1 ? max(1, r) : s1, false) }
        if (s1 == 1 || c == 1) && (r == 1 || s0 >= max(1, c)) { return (r == 1 ? max(1, c) : s0, true) }
        return nil
    }

    /// `op(A)·op(B)` where `op(X) = Xᵀ` when the flag is set: the four transpose combinations of
    /// the paper's products (`W_q X`, `KᵀQ`, …). Rank 2: `[m,k]·[k,n] → [m,n]`; rank 3 batches the
    /// last dimension: `[m,k,b]·[k,n,b] → [m,n,b]` (transposes act on the first two dimensions).
    /// f32 runs through `GEMM.sgemm` with transposed views expressed as BLAS flags (no copies);
    /// f64 through a reference loop. Each output element is one dot product in `k` order,
    /// independent of the thread count.
    ///
    /// With `addingColumn` b (`[m]`, `[m, 1]`, or `[m, 1, H]` for rank 3) the result is
    /// `op(A)·op(B) + b 𝟏ᵀ`, computed as one product whose C starts as b repeated over the columns
    /// (β = 1): each entry is `b_i + Σₖ a_ik·b_kj` with the sum added to b_i as the k-blocks finish,
    /// where the product then an addition adds b_i last; the same up to rounding. In f32 the GEMM
    /// fills each block of C with b itself (`GEMM.sgemm(…, addingColumn:)`), with the same bits.
    public static func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false,
                              addingColumn bias: Tensor? = nil) -> Tensor {
        guard let oshape = matmulShape(a.shape, b.shape, transposeA: transposeA, transposeB: transposeB) else {
            preconditionFailure("matmul(transposeA: \(transposeA), transposeB: \(transposeB)): shapes \(Shape.describe(a.shape)) and \(Shape.describe(b.shape))")
        }
        precondition(a.dtype == b.dtype, "matmul: dtypes \(a.dtype) and \(b.dtype)")
        if let bias {
            precondition(isColumn(bias.shape, of: oshape) && bias.dtype == a.dtype,
                         "matmul + b𝟏ᵀ: bias \(bias.dtype)\(Shape.describe(bias.shape)) for a product \(a.dtype)\(Shape.describe(oshape))")
        }
        // f32: the bias as one dense column (`[m]`, or `[m·H]` with head h's rows at m·h), which the
        // GEMM copies into each block of C before adding the product to it.
        let column = a.dtype == .f32 ? bias?.contiguous() : nil
        return withExtendedLifetime(column) {
            let biasColumn = column.map { UnsafePointer($0.storage.floats + $0.offset) }
            if let stacked = stackedRowsProduct(a, b, transposeA: transposeA, transposeB: transposeB, oshape, addingColumn: biasColumn) {
                return stacked
            }
            let m = oshape[0], n = oshape[1], k = transposeA ? a.shape[0] : a.shape[1]
            let batch = a.rank == 3 ? a.shape[2] : 1
            if a.rank == 3 && b.rank == 2 && !transposeA && a.dtype == .f32 {
                // B shared by every batch entry: one product of the entries' rows stacked, `[m·H, k]·op(B)`,
                // returned as the view `[m, n, H]` of its row blocks.
                let c = Tensor(uninitializedShape: [m * batch, n], dtype: .f32), out = stackedView(c, rows: m)
                gemm32(stackedRows(a), b, false, transposeB, m * batch, n, k, c.storage.floats, bias: biasColumn)
                return out
            }
            var out = Tensor(uninitializedShape: oshape, dtype: a.dtype)
            if let bias, a.dtype == .f64 { out.assign(from: bias.reshaped(columnShape(oshape)).broadcast(to: oshape)) }
            for bi in 0..<batch {
                let am = a.rank == 3 ? a.sliceAt(axis: 2, bi, bi + 1) : a
                let bm = b.rank == 3 ? b.sliceAt(axis: 2, bi, bi + 1) : b
                let cOff = bi * m * n
                switch a.dtype {
                case .f32: gemm32(am, bm, transposeA, transposeB, m, n, k, out.storage.floats + cOff, bias: biasColumn.map { $0 + bi * m })
                case .f64: gemm64(am, bm, transposeA, transposeB, m, n, k, out.storage.doubles + cOff, accumulate: bias != nil)
                }
            }
            return out
        }
    }

    /// Whether a bias of shape `bias` is one column of a product of shape `product`: `[m]` or
    /// `[m, 1]` for `[m, n]`, `[m, 1, H]` for `[m, n, H]`.
    public static func isColumn(_ bias: [Int], of product: [Int]) -> Bool {
        if bias.count == 1 { return product.count == 2 && bias[0] == product[0] }
        return bias == columnShape(product)
    }

    /// `[m, 1]` or `[m, 1, H]`: one column of a product of shape `[m, n]` or `[m, n, H]`.
    static func columnShape(_ product: [Int]) -> [Int] {
        var s = product
        s[1] = 1
        return s
    }

    /// The entries of a batch `[m, n, H]` as the rows `[T_1; T_2; …; T_H]` of one `[m·H, n]` matrix:
    /// a view when `t` is laid out so (strides `[1, m·H, m]`, as `stackedRowsProduct` makes it),
    /// else a copy.
    static func stackedRows(_ t: Tensor) -> Tensor {
        let m = t.shape[0], n = t.shape[1], h = t.shape[2]
        if t.strides[0] == 1 || m == 1, t.strides[2] == m || h == 1, t.strides[1] == m * h || n == 1 {
            return Tensor(storage: t.storage, shape: [m * h, n], strides: [1, m * h], offset: t.offset)
        }
        let out = Tensor(uninitializedShape: [m * h, n], dtype: t.dtype)
        transfer(t, into: stackedView(out, rows: m), accumulate: false)
        return out
    }

    /// A dense `[m·H, n]` matrix `c` read as the batch `[m, n, H]` of its row blocks (strides `[1, m·H, m]`).
    static func stackedView(_ c: Tensor, rows m: Int) -> Tensor {
        let h = c.shape[0] / m
        return Tensor(storage: c.storage, shape: [m, c.shape[1], h], strides: [1, m * h, m], offset: c.offset)
    }

    /// `A_h·op(B)` for every h as one product when A `[m, k, H]` is laid out as the rows
    /// `[A_1; A_2; …; A_H]` (strides `[1, m·H, m]`, as the interpreter stacks attention heads) and B is
    /// the same matrix for every h (stride 0 along the batch): `[m·H, k]·op(B) → [m·H, n]`, returned
    /// as the view `[m, n, H]` with strides `[1, m·H, m]`. Nil for other layouts. Every entry is the
    /// same dot product as in the per-h loop.
    static func stackedRowsProduct(_ a: Tensor, _ b: Tensor, transposeA: Bool, transposeB: Bool, _ oshape: [Int],
                                   addingColumn bias: UnsafePointer<Float>? = nil) -> Tensor? {
        guard a.rank == 3, b.rank == 3, !transposeA, a.dtype == .f32, b.strides[2] == 0 else { return nil }
        let m = a.shape[0], k = a.shape[1], h = a.shape[2], n = oshape[1]
        guard m > 0, k > 0, n > 0, h > 1, a.strides[0] == 1, a.strides[2] == m, a.strides[1] == m * h else { return nil }
        let all = Tensor(storage: a.storage, shape: [m * h, k], strides: [1, m * h], offset: a.offset)
        let bm = b.sliceAt(axis: 2, 0, 1)
        let storage = Storage(count: m * h * n, dtype: .f32)
        let out = Tensor(storage: storage, shape: [m, n, h], strides: [1, m * h, m], offset: 0)
        gemm32(all, Tensor(storage: bm.storage, shape: [bm.shape[0], bm.shape[1]], strides: [bm.strides[0], bm.strides[1]], offset: bm.offset),
               false, transposeB, m * h, n, k, storage.floats, bias: bias)
        return out
    }

    /// The operands of one product `op(A)·op(B)`, as `matmul` takes them.
    typealias ProductOperands = (a: Tensor, b: Tensor, transposeA: Bool, transposeB: Bool)

    /// The multiply-adds (of each of the two) for which `productPair` runs two products side by
    /// side: from `GEMM.parallelThreshold` (below it a product stays on the calling thread, and two
    /// of them, 5–40 µs each, would not repay the hand-off) to 2²⁴ (above it a product split
    /// between the threads is left as it was, as the GEMM's own blocking for large shapes decides).
    /// The tiny model's B = 8 step (512 columns) has its gradients' products in this range (2²¹–2²³).
    static let pairedProducts = GEMM.parallelThreshold...(1 << 24)

    /// `op(A)·op(B)` and `op(C)·op(D)`, two independent f32 products of rank-2 operands, computed
    /// side by side (`Parallel.both`), each GEMM on one thread: a matrix product's gradient
    /// dA = G·op(B)ᵀ (dW, on a helper) and dB = op(A)ᵀ·G (dX, on the calling thread, whose next
    /// operations read it), with `alongside` (b's cotangent for `W X + b 𝟏ᵀ`) on whichever finishes
    /// first. Nil, computing nothing, on one thread, for another dtype or rank, or when a product's
    /// multiply-adds are outside `pairedProducts`. The outputs are allocated and operands that BLAS
    /// cannot read as they are copied on the calling thread first. Each entry is the same dot
    /// product as in `matmul` (a GEMM's result does not depend on its threads).
    static func productPair(_ first: ProductOperands, _ second: ProductOperands,
                            alongside: () -> Void = {}) -> (Tensor, Tensor)? {
        guard Parallel.threadsHere >= 2, let wp = PlannedProduct.work(first), let wq = PlannedProduct.work(second),
              pairedProducts.contains(wp.work), pairedProducts.contains(wq.work) else { return nil }
        let p = PlannedProduct(first, shape: wp.shape), q = PlannedProduct(second, shape: wq.shape)
        Parallel.both({ q.compute() }, between: alongside, { p.compute() })
        return (p.out, q.out)
    }

    /// An f32 product of rank-2 operands made ready on the calling thread (`productPair`): its
    /// output allocated, its operands in a layout BLAS reads (copied when not); `compute()` fills
    /// `out` on any thread.
    struct PlannedProduct {
        let out: Tensor
        let a: Tensor, b: Tensor
        let transposeA: Bool, transposeB: Bool
        let m: Int, n: Int, k: Int

        /// The output shape and multiply-adds of an f32 product of rank-2 operands; nil for others.
        static func work(_ o: ProductOperands) -> (shape: [Int], work: Int)? {
            guard o.a.rank == 2, o.b.rank == 2, o.a.dtype == .f32, o.b.dtype == .f32,
                  let shape = matmulShape(o.a.shape, o.b.shape, transposeA: o.transposeA, transposeB: o.transposeB) else { return nil }
            return (shape, shape[0] * shape[1] * (o.transposeA ? o.a.shape[0] : o.a.shape[1]))
        }

        init(_ o: ProductOperands, shape: [Int]) {
            func readable(_ t: Tensor) -> Tensor {
                blasLayout(rows: t.shape[0], cols: t.shape[1], s0: t.strides[0], s1: t.strides[1]) == nil ? t.copy() : t
            }
            (a, b, transposeA, transposeB) = (readable(o.a), readable(o.b), o.transposeA, o.transposeB)
            (m, n, k) = (shape[0], shape[1], o.transposeA ? o.a.shape[0] : o.a.shape[1])
            out = Tensor(uninitializedShape: shape, dtype: .f32)
        }

        func compute() { gemm32(a, b, transposeA, transposeB, m, n, k, out.storage.floats) }
    }

    /// Result shape of `matmul`, or nil when the inner dimensions or ranks disagree.
    /// A rank-3 A with a rank-2 B is a batch whose entries share B: `[m,k,b]·[k,n] → [m,n,b]`.
    public static func matmulShape(_ a: [Int], _ b: [Int], transposeA: Bool, transposeB: Bool) -> [Int]? {
        guard a.count == b.count || (a.count == 3 && b.count == 2), a.count == 2 || a.count == 3 else { return nil }
        if a.count == 3 && b.count == 3 && a[2] != b[2] { return nil }
        let m = transposeA ? a[1] : a[0], ka = transposeA ? a[0] : a[1]
        let kb = transposeB ? b[1] : b[0], n = transposeB ? b[0] : b[1]
        guard ka == kb else { return nil }
        return a.count == 3 ? [m, n, a[2]] : [m, n]
    }

    /// `C = op(A)·op(B)`, or `C = op(A)·op(B) + bias 𝟏ᵀ` (`bias`: m floats), for C dense `[m, n]`.
    fileprivate static func gemm32(_ a: Tensor, _ b: Tensor, _ ta: Bool, _ tb: Bool, _ m: Int, _ n: Int, _ k: Int,
                               _ c: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>? = nil) {
        if m == 0 || n == 0 { return }
        if k == 0 {
            if let bias { for j in 0..<n { (c + j * m).update(from: bias, count: m) } } else { c.update(repeating: 0, count: m * n) }
            return
        }
        var a = a, b = b
        var la = blasLayout(rows: a.shape[0], cols: a.shape[1], s0: a.strides[0], s1: a.strides[1])
        if la == nil { a = a.copy(); la = blasLayout(rows: a.shape[0], cols: a.shape[1], s0: a.strides[0], s1: a.strides[1]) }
        var lb = blasLayout(rows: b.shape[0], cols: b.shape[1], s0: b.strides[0], s1: b.strides[1])
        if lb == nil { b = b.copy(); lb = blasLayout(rows: b.shape[0], cols: b.shape[1], s0: b.strides[0], s1: b.strides[1]) }
        let pa = UnsafePointer(a.storage.floats + a.offset), pb = UnsafePointer(b.storage.floats + b.offset)
        if let bias {
            GEMM.sgemm(transA: ta != la!.transposed, transB: tb != lb!.transposed, m: m, n: n, k: k, alpha: 1,
                       a: pa, lda: la!.ld, b: pb, ldb: lb!.ld, addingColumn: bias, c: c, ldc: m)
        } else {
            GEMM.sgemm(transA: ta != la!.transposed, transB: tb != lb!.transposed, m: m, n: n, k: k, alpha: 1,
                       a: pa, lda: la!.ld, b: pb, ldb: lb!.ld, beta: 0, c: c, ldc: m)
        }
    }

    private static func gemm64(_ a: Tensor, _ b: Tensor, _ ta: Bool, _ tb: Bool, _ m: Int, _ n: Int, _ k: Int,
                               _ c: UnsafeMutablePointer<Double>, accumulate: Bool = false) {
        let pa = a.storage.doubles, pb = b.storage.doubles
        let (a0, a1) = ta ? (a.strides[1], a.strides[0]) : (a.strides[0], a.strides[1])
        let (b0, b1) = tb ? (b.strides[1], b.strides[0]) : (b.strides[0], b.strides[1])
        for j in 0..<n {
            for i in 0..<m {
                var acc = 0.0
                for p in 0..<k { acc += pa[a.offset + i * a0 + p * a1] * pb[b.offset + p * b0 + j * b1] }
                c[i + j * m] = accumulate ? c[i + j * m] + acc : acc
            }
        }
    }
}
