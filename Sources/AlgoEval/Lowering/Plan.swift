import AlgoDiagnostics
import AlgoSema
import AlgoSyntax

/// What the lowering made of one checked algorithm: the lines as written, with the fused nodes the
/// rewrite rules put in place of some expressions, statements or the whole body. Each fused node
/// keeps the syntax it replaces as its fallback: when its run-time guard fails (a value of
/// another shape, Float64 for a Float32 kernel, a mask that is not causal) or its rule is
/// disabled, the evaluator runs that syntax as written. The evaluator only looks nodes up here; it
/// matches no syntax itself.
public struct AlgorithmPlan: Sendable {
    /// Fused expressions, by the span of the expression they replace.
    var expressions: [SpanKey: FusedExpression] = [:]
    /// Fused statements, by the span of the first statement they replace.
    var statements: [SpanKey: FusedStatement] = [:]
    /// The whole body as one fused operation, when a rule matched it.
    var algorithm: FusedAlgorithm? = nil
    /// Which rule matched where, in source order (`algo run --dump plan`).
    public internal(set) var fired: [(rule: RuleID, span: Span)] = []
    /// The first statement `algo run` cannot execute (`Lowering.firstUnsupported`), or nil: a
    /// load-time fact, reported (E0501) before anything runs.
    var unsupported: (message: String, span: Span)? = nil
}

/// A span's offsets, the key of plan nodes within one algorithm (one file): cheaper to hash than a
/// `Span`, which holds its file's path.
struct SpanKey: Hashable, Sendable {
    let start: Int, end: Int
    init(_ s: Span) { start = s.start; end = s.end }
}

/// A fused expression and the operands it reads (each a name: evaluating it again on the fallback is a lookup).
enum FusedExpression: Sendable {
    /// `W X + b 𝟏ᵀ` (`Rules/AffineBias.swift`).
    case affineBias(w: Expr, x: Expr, bias: Expr)
    /// `KᵀQ` (`Rules/TransposedProduct.swift`): the left factor without its transpose, and the right factor.
    case transposedProduct(k: Expr, q: Expr)
    /// `Σ_t A[i(t), j(t)]`, `Σ_t log P(θ)[i(t), j(t)]` (`Rules/PickedSum.swift`).
    case pickedSum(PickedSumForm)
    /// A Σ over sequences run as one call, or a call reusing its prefix (`Rules/SequenceBatching.swift`, `Rules/PrefixReuse.swift`).
    case sequences(SequenceForm)
    /// `log softmax(Z)`, `log P(θ)`, `log P(θ)[…]` at the `log` call (`Rules/LogSoftmax.swift`).
    case logSoftmax(LogForm)
    /// `Σ_{i=1}^{n} … e[i] …` as one sum over the rows (`Rules/RowSum.swift`): the summation variable.
    case rowSum(variable: String)
    /// A call of an algorithm memoised inside one application of a function of θ
    /// (`Rules/CallMemo.swift`): the names whose values key it.
    case callMemo(reads: [String])
    /// `θ − η · ∇F(θ)` (`Rules/SGDUpdate.swift`): θ and η (names or a number) and the `∇` expression.
    case sgdUpdate(theta: Expr, rate: Expr, gradient: Expr)
}

/// A fused run of statements.
enum FusedStatement: Sendable {
    /// Algorithm 4's lines 4–6 (`Rules/CausalAttention.swift`).
    case causalAttention(CausalAttentionForm)
    /// Algorithm 5's loop over the heads (`Rules/HeadBatching.swift`), at the loop.
    case headBatching(HeadBatchingForm)
    /// `return softmax(Z)`, `P(θ) ← softmax(Z)`, `P(θ) ← A(…)`: what the statement's value gives
    /// when its log is asked for (`Rules/LogSoftmax.swift`).
    case logSoftmaxReturn(LogForm)
    /// An inline `for t ∈ [ℓ] : …` run once with t bound to all of 1…ℓ (`Rules/ColumnLoop.swift`).
    case columnLoop
    /// `∀t_z, t_x, if C then S[t_z, t_x] ← c` as one masked select (`Rules/MaskedSelect.swift`).
    case maskedSelect(MaskedSelectForm)
    /// A loop over the sequences of a dataset whose call runs on a chunk of them at once
    /// (`Rules/SequenceBatching.swift`, `SequenceLoopBatchingRule`), at the loop.
    case sequenceLoop(SequenceBatchForm)
    /// `θ ← θ − η · ∇loss(θ)`, which keeps θ in an evaluation pass (`Rules/EvaluationUpdate.swift`).
    case evaluationUpdate(EvaluationUpdateForm)
    /// Adam's six update lines in an evaluation pass (`Rules/EvaluationAdam.swift`), at the first.
    case evaluationAdam(EvaluationAdamForm)
    /// Adam's five update lines after the gradient (`Rules/AdamStep.swift`), at the first.
    case adamStep(AdamStepForm)
}

/// A whole algorithm as one fused operation.
enum FusedAlgorithm: Sendable {
    /// Algorithm 6 (`Rules/LayerNorm.swift`).
    case layerNorm(LayerNormForm)
}
