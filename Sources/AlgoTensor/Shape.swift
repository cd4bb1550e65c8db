/// Shape helpers. Shapes are `[Int]`, column-major: the first dimension is contiguous, so for a
/// matrix `X ∈ ℝ^{d×ℓ}` (shape `[d, ℓ]`) each column `X[:, t]` is contiguous, as in the paper and BLAS.
/// Ranks 0…4 are supported (rank 3 batches heads or minibatches in the last dimension).
public enum Shape {
    /// The largest rank the runtime supports.
    public static let maxRank = 4

    /// Number of elements of `shape` (1 for rank 0). Never traps: a product that overflows is
    /// `Int.max` (no allocation of that size succeeds). Shapes from outside (flags, files) are
    /// validated with `checkedCount` before anything is allocated (AlgoEval's `SizeBudget`).
    @inlinable public static func count(_ shape: [Int]) -> Int {
        checkedCount(shape) ?? Int.max
    }

    /// Number of elements of `shape`, or nil when a dimension is negative or the product overflows.
    @inlinable public static func checkedCount(_ shape: [Int]) -> Int? {
        var n = 1
        for d in shape {
            guard d >= 0 else { return nil }
            let (p, o) = n.multipliedReportingOverflow(by: d)
            if o { return nil }
            n = p
        }
        return n
    }

    /// Column-major strides of a dense tensor: `[1, s0, s0·s1, …]`.
    public static func contiguousStrides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 0, count: shape.count)
        var s = 1
        for i in 0..<shape.count {
            strides[i] = s
            s *= shape[i]
        }
        return strides
    }

    /// `shape` padded with trailing 1s to `rank`.
    ///
    /// Broadcasting aligns shapes at the **first** dimension (column-major): a vector `b ∈ ℝ^{d}`
    /// is `[d, 1]` against a matrix `[d, ℓ]`, which is the paper's `b 𝟏ᵀ`; a scalar (rank 0) is all 1s.
    public static func padded(_ shape: [Int], to rank: Int) -> [Int] {
        precondition(shape.count <= rank, "Shape.padded: rank \(shape.count) > \(rank)")
        return shape + [Int](repeating: 1, count: rank - shape.count)
    }

    /// The broadcast shape of `a` and `b`: shapes aligned at the first dimension, missing trailing
    /// dimensions are 1, and each dimension pair must be equal or contain a 1.
    /// Returns nil when the shapes do not broadcast.
    public static func broadcast(_ a: [Int], _ b: [Int]) -> [Int]? {
        if a == b { return a }   // the common case, without allocating
        let r = max(a.count, b.count)
        var out = a.count >= b.count ? a : b
        for i in 0..<r {
            let x = i < a.count ? a[i] : 1, y = i < b.count ? b[i] : 1
            if x == y { out[i] = x }
            else if x == 1 { out[i] = y }
            else if y == 1 { out[i] = x }
            else { return nil }
        }
        return out
    }

    /// Whether `from` broadcasts to exactly `to` (the trailing-1 rule of `broadcast`).
    public static func broadcasts(_ from: [Int], to: [Int]) -> Bool {
        guard from.count <= to.count else { return false }
        for i in 0..<to.count {
            let p = i < from.count ? from[i] : 1
            if p != to[i] && p != 1 { return false }
        }
        return true
    }

    /// A readable form for preconditions: `[3×4]`, `[]` for scalars.
    public static func describe(_ shape: [Int]) -> String {
        "[" + shape.map(String.init).joined(separator: "×") + "]"
    }
}
