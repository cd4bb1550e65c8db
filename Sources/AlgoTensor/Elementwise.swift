import AlgoKernels

/// Element-wise unary operations. Each is a differentiable primitive (see `Primitive`).
public enum UnaryOp: Sendable, Hashable, CaseIterable {
    /// −x
    case neg
    /// eˣ
    case exp
    /// ln x
    case log
    /// √x
    case sqrt
    /// erf x = 2/√π ∫₀ˣ e^{−t²} dt (for the exact GELU of eq. 5)
    case erf
    /// tanh x (GPT-2's GELU approximation)
    case tanh
    /// the logistic σ(x) = 1/(1 + e⁻ˣ), computed without overflow for large |x|
    case sigmoid
}

/// Element-wise binary operations with broadcasting (shapes aligned at the first dimension).
public enum BinaryOp: Sendable, Hashable, CaseIterable {
    /// a + b
    case add
    /// a − b
    case sub
    /// a ⊙ b
    case mul
    /// a / b
    case div
    /// max(a, b) (ReLU is `max(x, 0)`)
    case max
}

/// Non-differentiable comparisons giving 0/1 masks (VJPs, composites, and masks such as
/// the paper's Iverson brackets `[[t_z ≤ t_x]]`).
public enum CompareOp: Sendable, Hashable, CaseIterable {
    /// a ≥ b
    case greaterEqual
    /// a < b
    case less
    /// a = b
    case equal
    /// a is finite (b ignored)
    case isFinite
}

// MARK: - Strided loops (rank ≤ 4)

/// Visits the rows (fibres along the first dimension) of `shape` in column-major order and calls
/// `row(o, ia, ib, n0, a0, b0)`: the linear output index of the row's first element, the storage
/// indices of its first element in two strided operands, the row length and the operands' strides
/// along it. Callers specialise the inner loop for unit and zero strides, so it vectorises.
///
/// With `parallelCost` > 0 (the work per element, in element operations) a large loop is split
/// over `Parallel.threads` threads (`Parallel.forRanges`): by whole rows, or, when there are fewer
/// rows than pieces (a `[d, 1]` reduction result, one long vector), by segments of rows; `row` is
/// then called with the segment's start and length. Callers that pass it compute each output
/// element independently of the others, so the split does not change results; the calls may run
/// concurrently and in any order.
@inline(__always)
func rows4(_ shape: [Int], _ sa: [Int], _ oa: Int, _ sb: [Int], _ ob: Int, parallelCost cost: Int = 0,
           _ row: (_ o: Int, _ ia: Int, _ ib: Int, _ n0: Int, _ a0: Int, _ b0: Int) -> Void) {
    let r = shape.count
    let n0 = r > 0 ? shape[0] : 1, n1 = r > 1 ? shape[1] : 1, n2 = r > 2 ? shape[2] : 1, n3 = r > 3 ? shape[3] : 1
    let a0 = r > 0 ? sa[0] : 0, a1 = r > 1 ? sa[1] : 0, a2 = r > 2 ? sa[2] : 0, a3 = r > 3 ? sa[3] : 0
    let b0 = r > 0 ? sb[0] : 0, b1 = r > 1 ? sb[1] : 0, b2 = r > 2 ? sb[2] : 0, b3 = r > 3 ? sb[3] : 0
    if n0 == 0 || n1 == 0 || n2 == 0 || n3 == 0 { return }
    let rows = n1 * n2 * n3
    if cost > 0 && Parallel.threads > 1 && rows * n0 * cost >= Parallel.minimumSplitWork {
        // Segments of at least 64 elements, enough of them for every thread to get several pieces.
        let pieces = Parallel.threads * 4
        let segments = rows >= pieces ? 1 : max(1, min(n0 / 64, (pieces + rows - 1) / rows))
        Parallel.forRanges(rows * segments, cost: n0 / segments * cost) { items in
            for item in items {
                let q = item / segments, s = item % segments
                let lo = n0 * s / segments, hi = n0 * (s + 1) / segments
                let i1 = q % n1, i23 = q / n1, i2 = i23 % n2, i3 = i23 / n2
                row(q * n0 + lo, oa + i1 * a1 + i2 * a2 + i3 * a3 + lo * a0, ob + i1 * b1 + i2 * b2 + i3 * b3 + lo * b0,
                    hi - lo, a0, b0)
            }
        }
        return
    }
    var o = 0
    for i3 in 0..<n3 {
        for i2 in 0..<n2 {
            for i1 in 0..<n1 {
                row(o, oa + i1 * a1 + i2 * a2 + i3 * a3, ob + i1 * b1 + i2 * b2 + i3 * b3, n0, a0, b0)
                o += n0
            }
        }
    }
}

/// Visits every index of `shape` in column-major order and calls `body(o, ia, ib)` with the
/// linear output index and the storage indices into two strided operands (the slow, general loop).
/// `parallelCost` as for `rows4`.
@inline(__always)
func loop4(_ shape: [Int], _ sa: [Int], _ oa: Int, _ sb: [Int], _ ob: Int, parallelCost: Int = 0, _ body: (Int, Int, Int) -> Void) {
    rows4(shape, sa, oa, sb, ob, parallelCost: parallelCost) { o, ia, ib, n0, a0, b0 in
        // Wrapping arithmetic: indices stay far below overflow; no trap checks in the inner loop.
        for i0 in 0..<n0 { body(o &+ i0, ia &+ i0 &* a0, ib &+ i0 &* b0) }
    }
}

/// A scalar function of two elements, as a type. The element-wise loops are generic over it rather
/// than over a closure: generic code is specialised whole, the closures it hands to the kernel
/// threads (`Parallel.forRanges`) included, so each piece's inner loop calls `apply` inline and
/// vectorises. A closure parameter captured by those closures would be called per element.
protocol ElementFunction2 {
    static func apply<T: TensorScalar>(_ a: T, _ b: T) -> T
}

/// A scalar function of one element, as a type (see `ElementFunction2`).
protocol ElementFunction1 {
    static func apply<T: TensorScalar>(_ a: T) -> T
}

enum AddFunction: ElementFunction2 { @inline(__always) static func apply<T: TensorScalar>(_ a: T, _ b: T) -> T { a + b } }
enum SubFunction: ElementFunction2 { @inline(__always) static func apply<T: TensorScalar>(_ a: T, _ b: T) -> T { a - b } }
enum MulFunction: ElementFunction2 { @inline(__always) static func apply<T: TensorScalar>(_ a: T, _ b: T) -> T { a * b } }
enum DivFunction: ElementFunction2 { @inline(__always) static func apply<T: TensorScalar>(_ a: T, _ b: T) -> T { a / b } }
enum MaxFunction: ElementFunction2 { @inline(__always) static func apply<T: TensorScalar>(_ a: T, _ b: T) -> T { a < b ? b : a } }
enum GreaterEqualFunction: ElementFunction2 { @inline(__always) static func apply<T: TensorScalar>(_ a: T, _ b: T) -> T { a >= b ? 1 : 0 } }
enum LessFunction: ElementFunction2 { @inline(__always) static func apply<T: TensorScalar>(_ a: T, _ b: T) -> T { a < b ? 1 : 0 } }
enum EqualFunction: ElementFunction2 { @inline(__always) static func apply<T: TensorScalar>(_ a: T, _ b: T) -> T { a == b ? 1 : 0 } }
enum IsFiniteFunction: ElementFunction2 { @inline(__always) static func apply<T: TensorScalar>(_ a: T, _ b: T) -> T { a.isFinite ? 1 : 0 } }
enum NegFunction: ElementFunction1 { @inline(__always) static func apply<T: TensorScalar>(_ a: T) -> T { -a } }
enum ExpFunction: ElementFunction1 { @inline(__always) static func apply<T: TensorScalar>(_ a: T) -> T { T.exp_(a) } }
enum LogFunction: ElementFunction1 { @inline(__always) static func apply<T: TensorScalar>(_ a: T) -> T { T.log_(a) } }
enum SqrtFunction: ElementFunction1 { @inline(__always) static func apply<T: TensorScalar>(_ a: T) -> T { T.sqrt_(a) } }
enum ErfFunction: ElementFunction1 { @inline(__always) static func apply<T: TensorScalar>(_ a: T) -> T { T.erf_(a) } }
enum TanhFunction: ElementFunction1 { @inline(__always) static func apply<T: TensorScalar>(_ a: T) -> T { T.tanh_(a) } }
/// σ(x) = 1/(1 + e⁻ˣ) for x ≥ 0, eˣ/(1 + eˣ) below (no e⁻ˣ overflow for very negative x).
enum SigmoidFunction: ElementFunction1 {
    @inline(__always) static func apply<T: TensorScalar>(_ a: T) -> T {
        if a >= 0 { return 1 / (1 + T.exp_(-a)) }
        let e = T.exp_(a)
        return e / (1 + e)
    }
}

extension Tensor {
    /// `F` applied element-wise into a fresh dense tensor of `a.shape` (operands already broadcast
    /// to it), or into `destination`: a dense tensor of that shape, which may be one of the operands
    /// (each element is read before it is written, at the same index, by one thread). Large maps
    /// run on the kernel threads.
    static func map2<T: TensorScalar, F: ElementFunction2>(_ a: Tensor, _ b: Tensor, _ t: T.Type, into destination: Tensor? = nil,
                                                           _ f: F.Type) -> Tensor {
        let out = destination ?? Tensor(uninitializedShape: a.shape, dtype: a.dtype)
        let pa = T.pointer(a.storage), pb = T.pointer(b.storage), po = T.pointer(out.storage)
        let n = out.count
        if a.isContiguous && b.isContiguous {
            let qa = pa + a.offset, qb = pb + b.offset
            Parallel.forRanges(n) { r in
                let qo = po + r.lowerBound, qa = qa + r.lowerBound, qb = qb + r.lowerBound
                for i in 0..<r.count { qo[i] = F.apply(qa[i], qb[i]) }
            }
        } else {
            rows4(a.shape, a.strides, a.offset, b.strides, b.offset, parallelCost: 1) { o, ia, ib, n0, a0, b0 in
                let qo = po + o, qa = pa + ia, qb = pb + ib
                if a0 == 1 && b0 == 1 { for i in 0..<n0 { qo[i] = F.apply(qa[i], qb[i]) } }
                else if a0 == 1 && b0 == 0 { let bv = qb[0]; for i in 0..<n0 { qo[i] = F.apply(qa[i], bv) } }
                else if a0 == 0 && b0 == 1 { let av = qa[0]; for i in 0..<n0 { qo[i] = F.apply(av, qb[i]) } }
                else { for i in 0..<n0 { qo[i] = F.apply(qa[i * a0], qb[i * b0]) } }
            }
        }
        return out
    }

    /// `F` applied element-wise into a fresh dense tensor; large maps run on the kernel threads.
    static func map1<T: TensorScalar, F: ElementFunction1>(_ a: Tensor, _ t: T.Type, _ f: F.Type) -> Tensor {
        let out = Tensor(uninitializedShape: a.shape, dtype: a.dtype)
        let pa = T.pointer(a.storage), po = T.pointer(out.storage)
        let n = out.count
        if a.isContiguous {
            let qa = pa + a.offset
            Parallel.forRanges(n) { r in
                let qo = po + r.lowerBound, qa = qa + r.lowerBound
                for i in 0..<r.count { qo[i] = F.apply(qa[i]) }
            }
        } else {
            rows4(a.shape, a.strides, a.offset, a.strides, a.offset, parallelCost: 1) { o, ia, _, n0, a0, _ in
                let qo = po + o, qa = pa + ia
                if a0 == 1 { for i in 0..<n0 { qo[i] = F.apply(qa[i]) } }
                else { for i in 0..<n0 { qo[i] = F.apply(qa[i * a0]) } }
            }
        }
        return out
    }

    /// Copies (and converts) the elements of `src` (same shape, any layout) into dense `self`.
    mutating func assign(from src: Tensor) {
        precondition(src.shape == shape, "assign: \(Shape.describe(src.shape)) into \(Shape.describe(shape))")
        precondition(isContiguous && offset == 0, "assign: destination must be dense")
        let dst = storage
        switch (src.dtype, dtype) {
        case (.f32, .f32):
            let ps = src.storage.floats, pd = dst.floats
            if src.isContiguous {
                let qs = ps + src.offset
                Parallel.forRanges(count) { r in (pd + r.lowerBound).update(from: qs + r.lowerBound, count: r.count) }
            } else { Tensor.transfer(src, into: self, accumulate: false) }
        case (.f64, .f64):
            let ps = src.storage.doubles, pd = dst.doubles
            if src.isContiguous {
                let qs = ps + src.offset
                Parallel.forRanges(count) { r in (pd + r.lowerBound).update(from: qs + r.lowerBound, count: r.count) }
            } else { Tensor.transfer(src, into: self, accumulate: false) }
        case (.f32, .f64):
            let ps = src.storage.floats, pd = dst.doubles
            loop4(shape, src.strides, src.offset, src.strides, src.offset) { o, i, _ in pd[o] = Double(ps[i]) }
        case (.f64, .f32):
            let ps = src.storage.doubles, pd = dst.floats
            loop4(shape, src.strides, src.offset, src.strides, src.offset) { o, i, _ in pd[o] = Float(ps[i]) }
        }
    }

    // MARK: - Forward kernels of the element-wise primitives

    /// `op` applied to every element.
    public func unary(_ op: UnaryOp) -> Tensor {
        switch dtype {
        case .f32: return Tensor.unaryKernel(self, op, Float.self)
        case .f64: return Tensor.unaryKernel(self, op, Double.self)
        }
    }

    static func unaryKernel<T: TensorScalar>(_ a: Tensor, _ op: UnaryOp, _ t: T.Type) -> Tensor {
        switch op {
        case .neg: return map1(a, t, NegFunction.self)
        case .exp: return map1(a, t, ExpFunction.self)
        case .log: return map1(a, t, LogFunction.self)
        case .sqrt: return map1(a, t, SqrtFunction.self)
        case .erf: return map1(a, t, ErfFunction.self)
        case .tanh: return map1(a, t, TanhFunction.self)
        case .sigmoid: return map1(a, t, SigmoidFunction.self)
        }
    }

    /// `self op other`, broadcasting both to `Shape.broadcast(self.shape, other.shape)`.
    public func binary(_ op: BinaryOp, _ other: Tensor) -> Tensor {
        precondition(dtype == other.dtype, "\(op): dtypes \(dtype) and \(other.dtype) differ")
        guard let s = Shape.broadcast(shape, other.shape) else {
            preconditionFailure("\(op): shapes \(Shape.describe(shape)) and \(Shape.describe(other.shape)) do not broadcast")
        }
        let a = shape == s ? self : broadcast(to: s), b = other.shape == s ? other : other.broadcast(to: s)
        switch dtype {
        case .f32: return Tensor.binaryKernel(a, b, op, Float.self)
        case .f64: return Tensor.binaryKernel(a, b, op, Double.self)
        }
    }

    static func binaryKernel<T: TensorScalar>(_ a: Tensor, _ b: Tensor, _ op: BinaryOp, _ t: T.Type, into d: Tensor? = nil) -> Tensor {
        switch op {
        case .add: return map2(a, b, t, into: d, AddFunction.self)
        case .sub: return map2(a, b, t, into: d, SubFunction.self)
        case .mul: return map2(a, b, t, into: d, MulFunction.self)
        case .div: return map2(a, b, t, into: d, DivFunction.self)
        case .max: return map2(a, b, t, into: d, MaxFunction.self)
        }
    }

    /// `a op b` (the values of `binary`), written into the buffer of `a`, else of `b`, when that
    /// operand is dense, has the result's shape and its storage is referenced by nothing else
    /// (`isKnownUniquelyReferenced`: the caller has given up every other reference); otherwise
    /// into a fresh buffer. For updates such as `θ − η·g` on a gradient nothing else holds.
    public static func binary(_ op: BinaryOp, reusing a: inout Tensor, _ b: inout Tensor) -> Tensor {
        guard a.dtype == b.dtype, let s = Shape.broadcast(a.shape, b.shape) else { return a.binary(op, b) }  // its precondition
        func reusable(_ t: inout Tensor) -> Bool {
            t.shape == s && t.offset == 0 && t.isContiguous && t.storage.count == t.count && isKnownUniquelyReferenced(&t.storage)
        }
        let destination: Tensor
        if reusable(&a) { destination = a } else if reusable(&b) { destination = b } else { return a.binary(op, b) }
        let x = a.shape == s ? a : a.broadcast(to: s), y = b.shape == s ? b : b.broadcast(to: s)
        switch a.dtype {
        case .f32: return binaryKernel(x, y, op, Float.self, into: destination)
        case .f64: return binaryKernel(x, y, op, Double.self, into: destination)
        }
    }

    /// A 0/1 mask of `self op other` (broadcasting); `isFinite` ignores `other`. Not differentiable.
    public func compare(_ op: CompareOp, _ other: Tensor) -> Tensor {
        guard let s = Shape.broadcast(shape, other.shape) else {
            preconditionFailure("compare: shapes \(Shape.describe(shape)) and \(Shape.describe(other.shape)) do not broadcast")
        }
        let a = broadcast(to: s), b = other.broadcast(to: s)
        func run<T: TensorScalar>(_ t: T.Type) -> Tensor {
            switch op {
            case .greaterEqual: return Tensor.map2(a, b, t, GreaterEqualFunction.self)
            case .less: return Tensor.map2(a, b, t, LessFunction.self)
            case .equal: return Tensor.map2(a, b, t, EqualFunction.self)
            case .isFinite: return Tensor.map2(a, b, t, IsFiniteFunction.self)
            }
        }
        switch dtype {
        case .f32: return run(Float.self)
        case .f64: return run(Double.self)
        }
    }

    /// `self += alpha · other` in place (same shape and dtype; storage reused when uniquely held):
    /// the SGD update `θ ← θ − η·∇loss(θ)` of Alg. 11–13 is `θ.add(grad, scaledBy: -η)`.
    public mutating func add(_ other: Tensor, scaledBy alpha: Double) {
        precondition(shape == other.shape && dtype == other.dtype,
                     "add(scaledBy:): \(Shape.describe(shape)) += \(Shape.describe(other.shape))")
        makeUniqueContiguous()
        func run<T: TensorScalar>(_ t: T.Type) {
            let p = T.pointer(storage), q = T.pointer(other.storage), a = T(alpha)
            rows4(shape, other.strides, other.offset, other.strides, other.offset) { o, i, _, n0, s0, _ in
                let po = p + o, qi = q + i  // rebased: unchecked pointer arithmetic in the loop, so it vectorises
                if s0 == 1 { for k in 0..<n0 { po[k] += a * qi[k] } }
                else { for k in 0..<n0 { po[k] += a * qi[k * s0] } }
            }
        }
        switch dtype {
        case .f32: run(Float.self)
        case .f64: run(Double.self)
        }
    }

    /// A rank-0 tensor of this dtype.
    func scalarLike(_ v: Double) -> Tensor { Tensor(scalar: v, dtype: dtype) }
}

extension Tensor {
    /// `mask ? a : b` element-wise for a 0/1 mask (broadcasting); not differentiable (constants such
    /// as the −∞ bias of a Mask: `select(mask, zeros, −∞)`).
    public static func select(_ mask: Tensor, _ a: Tensor, _ b: Tensor) -> Tensor {
        guard let s1 = Shape.broadcast(mask.shape, a.shape), let s = Shape.broadcast(s1, b.shape) else {
            preconditionFailure("select: shapes \(Shape.describe(mask.shape)), \(Shape.describe(a.shape)), \(Shape.describe(b.shape))")
        }
        let out = Tensor(uninitializedShape: s, dtype: b.dtype)
        let m = mask.broadcast(to: s).contiguous(), x = a.broadcast(to: s).contiguous(), y = b.broadcast(to: s).contiguous()
        func run<T: TensorScalar>(_ t: T.Type) {
            let pm = T.pointer(m.storage) + m.offset, px = T.pointer(x.storage) + x.offset
            let py = T.pointer(y.storage) + y.offset, po = T.pointer(out.storage)
            Parallel.forRanges(out.count) { r in
                let qo = po + r.lowerBound, qm = pm + r.lowerBound, qx = px + r.lowerBound, qy = py + r.lowerBound
                for i in 0..<r.count { qo[i] = qm[i] != 0 ? qx[i] : qy[i] }
            }
        }
        switch out.dtype {
        case .f32: run(Float.self)
        case .f64: run(Double.self)
        }
        return out
    }
}

// MARK: - Operators on plain tensors (used by VJPs and inference code)

extension Tensor {
    /// Element-wise sum with broadcasting.
    public static func + (a: Tensor, b: Tensor) -> Tensor { a.binary(.add, b) }
    /// Element-wise difference with broadcasting.
    public static func - (a: Tensor, b: Tensor) -> Tensor { a.binary(.sub, b) }
    /// Element-wise (Hadamard) product ⊙ with broadcasting.
    public static func * (a: Tensor, b: Tensor) -> Tensor { a.binary(.mul, b) }
    /// Element-wise quotient with broadcasting.
    public static func / (a: Tensor, b: Tensor) -> Tensor { a.binary(.div, b) }
    /// Negation.
    public static prefix func - (a: Tensor) -> Tensor { a.unary(.neg) }
    /// Tensor times a scalar.
    public static func * (a: Tensor, s: Double) -> Tensor { a.binary(.mul, a.scalarLike(s)) }
}
