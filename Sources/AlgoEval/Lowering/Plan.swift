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
}

/// A fused run of statements.
enum FusedStatement: Sendable {
    /// Algorithm 4's lines 4–6 (`Rules/CausalAttention.swift`).
    case causalAttention(CausalAttentionForm)
    /// Algorithm 5's loop over the heads (`Rules/HeadBatching.swift`), at the loop.
    case headBatching(HeadBatchingForm)
}

/// A whole algorithm as one fused operation.
enum FusedAlgorithm: Sendable {
    /// Algorithm 6 (`Rules/LayerNorm.swift`).
    case layerNorm(LayerNormForm)
}
