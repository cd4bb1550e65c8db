/// An n-dimensional array (rank 0…4) of `Float` or `Double`, column-major.
///
/// Value semantics with copy on write: tensors share a `Storage` until one is mutated.
/// `shape`, `strides` (in elements) and `offset` describe a view, so transposes, columns, rows and
/// slices are views without copying; a stride of 0 is a broadcast dimension.
/// Element `(i₀, i₁, …)` is at `offset + Σ iₖ·strides[k]`.
public struct Tensor: @unchecked Sendable {
    /// Element type.
    public let dtype: DType
    /// Dimensions, first one contiguous in a dense tensor (`[d, ℓ]` for `X ∈ ℝ^{d×ℓ}`).
    public internal(set) var shape: [Int]
    /// Element strides per dimension (0 for a broadcast dimension).
    public internal(set) var strides: [Int]
    /// Index of element (0, 0, …) in `storage`.
    public internal(set) var offset: Int
    /// Shared memory.
    public internal(set) var storage: Storage

    /// A view over existing storage.
    init(storage: Storage, shape: [Int], strides: [Int], offset: Int) {
        precondition(shape.count <= Shape.maxRank, "Tensor: rank \(shape.count) > \(Shape.maxRank)")
        self.dtype = storage.dtype
        self.storage = storage
        self.shape = shape
        self.strides = strides
        self.offset = offset
    }

    /// A dense tensor with uninitialised contents (callers fill every element).
    init(uninitializedShape shape: [Int], dtype: DType) {
        self.init(storage: Storage(count: Shape.count(shape), dtype: dtype),
                  shape: shape, strides: Shape.contiguousStrides(shape), offset: 0)
    }

    /// A dense tensor filled with `value`.
    public init(repeating value: Double, shape: [Int], dtype: DType = .f32) {
        self.init(uninitializedShape: shape, dtype: dtype)
        let n = Shape.count(shape)
        switch dtype {
        case .f32: storage.floats.update(repeating: Float(value), count: n)
        case .f64: storage.doubles.update(repeating: value, count: n)
        }
    }

    /// Zeros of `shape`.
    public static func zeros(_ shape: [Int], dtype: DType = .f32) -> Tensor { Tensor(repeating: 0, shape: shape, dtype: dtype) }
    /// Ones of `shape`.
    public static func ones(_ shape: [Int], dtype: DType = .f32) -> Tensor { Tensor(repeating: 1, shape: shape, dtype: dtype) }
    /// A rank-0 tensor.
    public init(scalar: Double, dtype: DType = .f32) { self.init(repeating: scalar, shape: [], dtype: dtype) }

    /// An f32 tensor from elements in column-major order (`values.count == Π shape`).
    public init(shape: [Int], floats values: [Float]) {
        precondition(values.count == Shape.count(shape), "Tensor(shape:floats:): \(values.count) values for shape \(Shape.describe(shape))")
        self.init(uninitializedShape: shape, dtype: .f32)
        let p = storage.floats
        values.withUnsafeBufferPointer { b in if let base = b.baseAddress { p.update(from: base, count: b.count) } }
    }

    /// A tensor of `dtype` from elements in column-major order (`values.count == Π shape`).
    public init(shape: [Int], values: [Double], dtype: DType = .f32) {
        precondition(values.count == Shape.count(shape), "Tensor(shape:values:): \(values.count) values for shape \(Shape.describe(shape))")
        self.init(uninitializedShape: shape, dtype: dtype)
        switch dtype {
        case .f32: let p = storage.floats; for i in 0..<values.count { p[i] = Float(values[i]) }
        case .f64: let p = storage.doubles; for i in 0..<values.count { p[i] = values[i] }
        }
    }

    /// A dense tensor of `dtype` whose elements, in column-major order, are `next()`'s values one
    /// after another (rounded to `dtype`), written in place: no array of all of them first.
    public init(shape: [Int], dtype: DType, generating next: () -> Double) {
        self.init(uninitializedShape: shape, dtype: dtype)
        let n = Shape.count(shape)
        switch dtype {
        case .f32: let p = storage.floats; for i in 0..<n { p[i] = Float(next()) }
        case .f64: let p = storage.doubles; for i in 0..<n { p[i] = next() }
        }
    }

    // MARK: - Properties

    /// Number of dimensions.
    public var rank: Int { shape.count }
    /// Number of elements.
    public var count: Int { Shape.count(shape) }

    /// Whether the elements are dense in column-major order starting at `offset`
    /// (dimensions of size 1 may have any stride).
    public var isContiguous: Bool {
        var s = 1
        for i in 0..<shape.count where shape[i] != 1 {
            if strides[i] != s { return false }
            s *= shape[i]
        }
        return true
    }

    /// Storage index of a multi-index.
    @inline(__always) func storageIndex(_ idx: [Int]) -> Int {
        precondition(idx.count == rank, "Tensor index: \(idx.count) indices for shape \(Shape.describe(shape))")
        var o = offset
        for k in 0..<idx.count {
            precondition(idx[k] >= 0 && idx[k] < shape[k], "Tensor index \(idx) out of shape \(Shape.describe(shape))")
            o += idx[k] * strides[k]
        }
        return o
    }

    /// One element (0-based indices), as Double. Slow path for tests and small glue code.
    public subscript(_ idx: Int...) -> Double {
        get { self[idx] }
        set { self[idx] = newValue }
    }

    /// One element (0-based indices), as Double.
    public subscript(_ idx: [Int]) -> Double {
        get {
            let o = storageIndex(idx)
            switch dtype {
            case .f32: return Double(storage.floats[o])
            case .f64: return storage.doubles[o]
            }
        }
        set {
            makeUniqueContiguous()
            let o = storageIndex(idx)
            switch dtype {
            case .f32: storage.floats[o] = Float(newValue)
            case .f64: storage.doubles[o] = newValue
            }
        }
    }

    /// The value of a one-element tensor.
    public var scalarValue: Double {
        precondition(count == 1, "Tensor.scalarValue: shape \(Shape.describe(shape)) has \(count) elements")
        return self[[Int](repeating: 0, count: rank)]
    }

    /// All elements in column-major order, as Double.
    public var doubles: [Double] {
        let c = contiguous()
        switch dtype {
        case .f32: return (0..<c.count).map { Double(c.storage.floats[c.offset + $0]) }
        case .f64: return (0..<c.count).map { c.storage.doubles[c.offset + $0] }
        }
    }

    /// All elements in column-major order, as Float.
    public var floats: [Float] {
        let c = contiguous()
        switch dtype {
        case .f32: return Array(UnsafeBufferPointer(start: c.storage.floats + c.offset, count: c.count))
        case .f64: return (0..<c.count).map { Float(c.storage.doubles[c.offset + $0]) }
        }
    }

    /// The bytes of the elements where they are, when the tensor is dense (column-major from `offset`).
    private var denseMemory: UnsafeRawBufferPointer? {
        guard isContiguous else { return nil }
        let base = dtype == .f32 ? UnsafeRawPointer(storage.floats) : UnsafeRawPointer(storage.doubles)
        return UnsafeRawBufferPointer(start: base + offset * dtype.byteSize, count: count * dtype.byteSize)
    }

    /// All elements in column-major order as the bytes of their memory (little-endian floats on
    /// every platform `algo` builds for), laid out once: no dense copy of a strided view first (a
    /// checkpoint's tensor as it is written, `Checkpoint.entry`).
    public var denseBytes: [UInt8] {
        if let memory = denseMemory { return Array(memory) }
        return [UInt8](unsafeUninitializedCapacity: count * dtype.byteSize) { out, n in
            guard let dst = UnsafeMutableRawPointer(out.baseAddress) else { n = 0; return }
            let dense = Shape.contiguousStrides(shape)
            switch dtype {
            case .f32:
                let ps = storage.floats
                rows4(shape, dense, 0, strides, offset) { o, _, i, n0, _, s0 in
                    for k in 0..<n0 { dst.storeBytes(of: ps[i + k * s0], toByteOffset: (o + k) * 4, as: Float.self) }
                }
            case .f64:
                let ps = storage.doubles
                rows4(shape, dense, 0, strides, offset) { o, _, i, n0, _, s0 in
                    for k in 0..<n0 { dst.storeBytes(of: ps[i + k * s0], toByteOffset: (o + k) * 8, as: Double.self) }
                }
            }
            n = count * dtype.byteSize
        }
    }

    /// Whether `other` has the same dtype, shape and elements bit for bit (a tied weight stored
    /// twice), compared in place when both are dense.
    public func hasSameBits(as other: Tensor) -> Bool {
        guard dtype == other.dtype, shape == other.shape else { return false }
        guard let mine = denseMemory, let theirs = other.denseMemory else { return denseBytes == other.denseBytes }
        return mine.elementsEqual(theirs)
    }

    // MARK: - Copy on write

    /// A dense copy (always fresh storage).
    public func copy() -> Tensor {
        var out = Tensor(uninitializedShape: shape, dtype: dtype)
        out.assign(from: self)
        return out
    }

    /// `self` if it is dense, otherwise a dense copy.
    public func contiguous() -> Tensor { isContiguous ? self : copy() }

    /// Makes `storage` unique and the layout dense (copying if needed) before a mutation.
    mutating func makeUniqueContiguous() {
        if !isKnownUniquelyReferenced(&storage) || !isContiguous || offset != 0 || storage.count != count {
            self = copy()
        }
    }

    /// Converts to `dtype` (a copy, or `self` when the type already matches).
    public func converted(to dtype: DType) -> Tensor {
        if dtype == self.dtype { return self }
        var out = Tensor(uninitializedShape: shape, dtype: dtype)
        out.assign(from: self)
        return out
    }
}

extension Tensor: CustomStringConvertible {
    /// `f32[2×3] [1, 2, …]` (column-major element order; at most 16 elements shown).
    public var description: String {
        let vs = doubles
        let shown = vs.prefix(16).map { String($0) }.joined(separator: ", ")
        return "\(dtype)\(Shape.describe(shape)) [\(shown)\(vs.count > 16 ? ", …" : "")]"
    }
}
