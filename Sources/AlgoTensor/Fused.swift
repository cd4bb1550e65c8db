import AlgoKernels

/// Switches fused kernels on or off for the automatic composites (`Variable.softmaxColumns()` …).
public enum Fusion {
    /// When true (default), f32 composites with a fused kernel use it; f64 always uses the composite.
    nonisolated(unsafe) public static var enabled = true
}

/// Composites that have a fused f32 kernel in `AlgoKernels`. "Columns" are the fibres along the
/// first dimension (for `[d, ℓ]`, the ℓ columns of length d; for `[d, ℓ, b]`, ℓ·b columns).
public enum FusedOp: Sendable, Hashable {
    /// `Composite.softmaxColumns` (eq. 2 with −∞ masking), kernel `FusedSoftmax.forward/backward`.
    case softmaxColumns
    /// `Composite.logSoftmaxColumns`, kernel `FusedSoftmax.logForward/logBackward`.
    case logSoftmaxColumns
    /// `Composite.gelu` (eq. 5, exact), kernel `FusedGELU`.
    case gelu
    /// `Composite.normalizeColumns(epsilon:)` ((x − m)/√(v + ε) per column, Alg. 6 without γ, β),
    /// kernel `FusedLayerNorm`.
    case normalizeColumns(epsilon: Double)
}

/// Forward and VJP of a fused op through its kernels (dense f32 only).
struct FusedRule: PrimitiveRule {
    let op: FusedOp

    func shape(_ s: [[Int]]) -> [Int] { s[0] }

    static func geometry(_ t: Tensor) -> (rows: Int, cols: Int) {
        let rows = t.rank == 0 ? 1 : t.shape[0]
        return (rows, rows == 0 ? 0 : t.count / rows)
    }

    func forward(_ inputs: [Tensor]) -> Tensor {
        let x = inputs[0].contiguous()
        precondition(x.dtype == .f32, "fused \(op): dtype \(x.dtype) (fused kernels are f32; use the composite)")
        let y = Tensor(uninitializedShape: x.shape, dtype: .f32)
        let px = UnsafePointer(x.storage.floats + x.offset), py = y.storage.floats
        let (rows, cols) = FusedRule.geometry(x)
        switch op {
        case .softmaxColumns: FusedSoftmax.forward(x: px, y: py, rows: rows, cols: cols)
        case .logSoftmaxColumns: FusedSoftmax.logForward(x: px, y: py, rows: rows, cols: cols)
        case .gelu: FusedGELU.forward(x: px, y: py, count: x.count)
        case .normalizeColumns(let eps): FusedLayerNorm.forward(x: px, y: py, rows: rows, cols: cols, epsilon: Float(eps))
        }
        return y
    }

    /// Softmax and log-softmax differentiate from their output, GELU and the normalisation from
    /// their input (the kernel recomputes mean and 1/σ): the tape keeps only that one.
    var vjpReadsOutput: Bool {
        switch op {
        case .softmaxColumns, .logSoftmaxColumns: return true
        case .gelu, .normalizeColumns: return false
        }
    }
    func vjpReadsInput(_ k: Int, recorded: [Bool]) -> Bool { !vjpReadsOutput }

    func vjp(_ inputs: [Tensor], output: Tensor, cotangent: Tensor) -> [Tensor] {
        let g = cotangent.contiguous()
        let dx = Tensor(uninitializedShape: inputs[0].shape, dtype: .f32)
        let pg = UnsafePointer(g.storage.floats + g.offset), pd = dx.storage.floats
        let (rows, cols) = FusedRule.geometry(inputs[0])
        // Only the value the tape kept is read (the other may be a shape-only placeholder).
        let kept = (vjpReadsOutput ? output : inputs[0]).contiguous()
        let pk = UnsafePointer(kept.storage.floats + kept.offset)
        switch op {
        case .softmaxColumns: FusedSoftmax.backward(y: pk, dy: pg, dx: pd, rows: rows, cols: cols)
        case .logSoftmaxColumns: FusedSoftmax.logBackward(y: pk, dy: pg, dx: pd, rows: rows, cols: cols)
        case .gelu: FusedGELU.backward(x: pk, dy: pg, dx: pd, count: dx.count)
        case .normalizeColumns(let eps): FusedLayerNorm.backward(x: pk, dy: pg, dx: pd, rows: rows, cols: cols, epsilon: Float(eps))
        }
        return [dx]
    }
}
