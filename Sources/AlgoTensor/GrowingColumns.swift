/// A tensor `[d, n]` or `[d, n, H]` that grows along its columns (axis 1) without copying what it
/// holds: a buffer of `capacity ≥ n` columns, whose first n are the value. Appending c columns
/// writes them after the n held (amortised O(c): when the buffer is full, a new one of twice the
/// capacity takes the n columns once). Column-major, so the first n columns of `[d, capacity]`
/// (of each head of `[d, capacity, H]`) are a dense matrix with leading dimension d: the view
/// `value` is an operand of the GEMM as it is.
///
/// Decoding that reuses its prefix (`AlgoEval`'s KV cache, the growing P) appends one column per
/// token: by concatenation that copies the whole prefix each time (O(ℓ²) bytes over ℓ tokens).
/// Views handed out before an append stay valid and unchanged: an append only writes columns no
/// view covers, or moves to a new buffer.
public struct GrowingColumns: Sendable {
    private var buffer: Tensor
    /// The number of columns held.
    public private(set) var count: Int

    /// Holds `first` (`[d, n]` or `[d, n, H]`) in a buffer of at least `capacity` columns.
    public init(_ first: Tensor, capacity: Int) {
        precondition(first.rank == 2 || first.rank == 3, "GrowingColumns: rank \(first.rank)")
        var shape = first.shape
        shape[1] = max(capacity, first.shape[1], 1)
        buffer = Tensor(uninitializedShape: shape, dtype: first.dtype)
        count = first.shape[1]
        if count > 0 { Tensor.transfer(first, into: buffer.sliceAt(axis: 1, 0, count), accumulate: false) }
    }

    /// The columns held: a view of the buffer (no copy).
    public var value: Tensor { buffer.sliceAt(axis: 1, 0, count) }

    /// The columns of the buffer allocated, held or not.
    public var capacity: Int { buffer.shape[1] }

    /// Appends the columns of `x` (the same rows, heads and dtype) and returns the new value.
    public mutating func append(_ x: Tensor) -> Tensor {
        var rest = x.shape, held = buffer.shape
        rest[1] = 0; held[1] = 0
        precondition(x.rank == buffer.rank && rest == held && x.dtype == buffer.dtype,
                     "GrowingColumns.append: \(Shape.describe(x.shape)) to \(Shape.describe(buffer.shape))")
        let c = x.shape[1]
        if count + c > capacity {
            var shape = buffer.shape
            shape[1] = max(2 * capacity, count + c)
            let larger = Tensor(uninitializedShape: shape, dtype: buffer.dtype)
            if count > 0 { Tensor.transfer(value, into: larger.sliceAt(axis: 1, 0, count), accumulate: false) }
            buffer = larger
        }
        if c > 0 { Tensor.transfer(x, into: buffer.sliceAt(axis: 1, count, count + c), accumulate: false) }
        count += c
        return value
    }
}
