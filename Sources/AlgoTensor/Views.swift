/// Views: new shape/strides/offset over the same storage, no copying.
extension Tensor {
    /// Dimensions reordered: result dimension `i` is dimension `perm[i]` of `self`.
    public func permuted(_ perm: [Int]) -> Tensor {
        precondition(perm.count == rank && Set(perm) == Set(0..<rank),
                     "permute: \(perm) is not a permutation for shape \(Shape.describe(shape))")
        return Tensor(storage: storage, shape: perm.map { shape[$0] }, strides: perm.map { strides[$0] }, offset: offset)
    }

    /// Matrix transpose `Xᵀ` (rank 2; rank 1 `[n]` becomes `[1, n]`; rank 0 unchanged).
    public var transposed: Tensor {
        switch rank {
        case 0: return self
        case 1: return Tensor(storage: storage, shape: [1, shape[0]], strides: [0, strides[0]], offset: offset)
        case 2: return permuted([1, 0])
        default: preconditionFailure("transpose: rank \(rank) tensor \(Shape.describe(shape)); use permuted")
        }
    }

    /// The box `lower[k] ..< upper[k]` in every dimension (0-based, half-open), same rank.
    public func slice(lower: [Int], upper: [Int]) -> Tensor {
        precondition(lower.count == rank && upper.count == rank,
                     "slice: bounds \(lower)..<\(upper) for shape \(Shape.describe(shape))")
        var o = offset
        var sh = shape
        for k in 0..<rank {
            precondition(0 <= lower[k] && lower[k] <= upper[k] && upper[k] <= shape[k],
                         "slice: bounds \(lower)..<\(upper) outside shape \(Shape.describe(shape))")
            o += lower[k] * strides[k]
            sh[k] = upper[k] - lower[k]
        }
        return Tensor(storage: storage, shape: sh, strides: strides, offset: o)
    }

    /// Column `t` (0-based) of a matrix `[d, ℓ]`, as a vector `[d]` (`X[:, t]`, contiguous in a dense matrix).
    public func column(_ t: Int) -> Tensor {
        precondition(rank == 2 && t >= 0 && t < shape[1], "column: \(t) of shape \(Shape.describe(shape))")
        return Tensor(storage: storage, shape: [shape[0]], strides: [strides[0]], offset: offset + t * strides[1])
    }

    /// Row `i` (0-based) of a matrix `[d, ℓ]`, as a vector `[ℓ]` (strided).
    public func row(_ i: Int) -> Tensor {
        precondition(rank == 2 && i >= 0 && i < shape[0], "row: \(i) of shape \(Shape.describe(shape))")
        return Tensor(storage: storage, shape: [shape[1]], strides: [strides[1]], offset: offset + i * strides[0])
    }

    /// The same elements (column-major order) with another shape; a view when `self` is dense.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        precondition(Shape.count(newShape) == count,
                     "reshape: \(Shape.describe(shape)) to \(Shape.describe(newShape)) changes the element count")
        let c = contiguous()
        return Tensor(storage: c.storage, shape: newShape, strides: Shape.contiguousStrides(newShape), offset: c.offset)
    }

    /// A view of `self` broadcast to `target` (dimensions aligned at the first, stride 0 where expanded).
    public func broadcast(to target: [Int]) -> Tensor {
        if shape == target { return self }
        precondition(Shape.broadcasts(shape, to: target),
                     "broadcast: \(Shape.describe(shape)) does not broadcast to \(Shape.describe(target))")
        var st = [Int](repeating: 0, count: target.count)
        for k in 0..<target.count {
            st[k] = (k < rank && shape[k] == target[k]) ? strides[k] : 0
        }
        return Tensor(storage: storage, shape: target, strides: st, offset: offset)
    }
}
