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
    /// `Composite.layerNormColumns(_:γ:β:epsilon:)` (Alg. 6 line 3 whole, per column), inputs x
    /// `[d, …]`, γ `[d]`, β `[d]`; kernel `FusedLayerNorm.affine…`. On a tape it keeps the
    /// normalised columns n̂ and 1/σ per column (residuals) and γ, not x.
    case layerNorm(epsilon: Double)
}

/// Forward and VJP of a fused op through its kernels (dense f32 only).
struct FusedRule: PrimitiveRule {
    let op: FusedOp

    func shape(_ s: [[Int]]) -> [Int] {
        if case .layerNorm = op {
            precondition(s.count == 3 && s[0].count >= 1 && s[1] == [s[0][0]] && s[2] == [s[0][0]],
                         "fused layerNorm: x \(Shape.describe(s[0])), γ \(s.count > 1 ? Shape.describe(s[1]) : "?"), β \(s.count > 2 ? Shape.describe(s[2]) : "?")")
        }
        return s[0]
    }

    static func geometry(_ t: Tensor) -> (rows: Int, cols: Int) {
        let rows = t.rank == 0 ? 1 : t.shape[0]
        return (rows, rows == 0 ? 0 : t.count / rows)
    }

    func forward(_ inputs: [Tensor]) -> Tensor { forward(inputs, residuals: false).value }

    func forward(_ inputs: [Tensor], residuals: Bool) -> (value: Tensor, residuals: [Tensor]) {
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
        case .layerNorm(let eps):
            let γ = inputs[1].contiguous(), β = inputs[2].contiguous()
            precondition(γ.dtype == .f32 && β.dtype == .f32, "fused layerNorm: γ \(γ.dtype), β \(β.dtype)")
            let n̂ = residuals ? Tensor(uninitializedShape: x.shape, dtype: .f32) : nil
            let r = residuals ? Tensor(uninitializedShape: [cols], dtype: .f32) : nil
            FusedLayerNorm.affineForward(x: px, gamma: γ.storage.floats + γ.offset, beta: β.storage.floats + β.offset, y: py,
                                         normalized: n̂?.storage.floats, rstd: r?.storage.floats,
                                         rows: rows, cols: cols, epsilon: Float(eps))
            return (y, [n̂, r].compactMap { $0 })
        }
        return (y, [])
    }

    /// Softmax and log-softmax differentiate from their output, GELU and the normalisation from
    /// their input (the kernel recomputes mean and 1/σ): the tape keeps only that one. Layer norm
    /// keeps neither: its residuals (n̂, 1/σ) and γ.
    var vjpReadsOutput: Bool {
        switch op {
        case .softmaxColumns, .logSoftmaxColumns: return true
        case .gelu, .normalizeColumns, .layerNorm: return false
        }
    }
    func vjpReadsInput(_ k: Int, recorded: [Bool]) -> Bool {
        if case .layerNorm = op { return k == 1 && recorded[0] }  // dx reads γ; dγ, dβ read n̂ only
        return !vjpReadsOutput
    }

    /// Layer norm: `[dx, dγ, dβ]` from the residuals (placeholders for what is not `needed`).
    func vjp(_ inputs: [Tensor], output: Tensor, residuals: [Tensor], cotangent: Tensor, needed: [Bool]) -> [Tensor] {
        guard case .layerNorm = op else { return vjp(inputs, output: output, cotangent: cotangent) }
        precondition(residuals.count == 2, "fused layerNorm: the VJP reads n̂ and 1/σ, recorded by forward(_:residuals: true)")
        let g = cotangent.contiguous(), n̂ = residuals[0], r = residuals[1]
        let (rows, cols) = FusedRule.geometry(n̂)
        let pg = UnsafePointer(g.storage.floats + g.offset), pn = UnsafePointer(n̂.storage.floats + n̂.offset)
        var dx = Tape.placeholder(like: n̂)
        if needed[0] {
            let γ = inputs[1].contiguous()
            dx = Tensor(uninitializedShape: n̂.shape, dtype: .f32)
            FusedLayerNorm.affineBackward(normalized: pn, rstd: r.storage.floats + r.offset, gamma: γ.storage.floats + γ.offset,
                                          dy: pg, dx: dx.storage.floats, rows: rows, cols: cols)
        }
        var dγ = Tape.placeholder(like: inputs[1]), dβ = Tape.placeholder(like: inputs[2])
        if needed[1] || needed[2] {
            dγ = Tensor(uninitializedShape: [rows], dtype: .f32)
            dβ = Tensor(uninitializedShape: [rows], dtype: .f32)
            FusedLayerNorm.affineParameterBackward(normalized: pn, dy: pg, dGamma: dγ.storage.floats, dBeta: dβ.storage.floats,
                                                   rows: rows, cols: cols)
        }
        return [dx, dγ, dβ]
    }

    func vjp(_ inputs: [Tensor], output: Tensor, cotangent: Tensor) -> [Tensor] {
        if case .layerNorm = op {
            preconditionFailure("fused layerNorm: the VJP reads its residuals (vjp(_:output:residuals:cotangent:needed:))")
        }
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
        case .layerNorm: break  // handled above
        }
        return [dx]
    }
}
