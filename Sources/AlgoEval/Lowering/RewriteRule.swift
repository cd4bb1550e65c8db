import AlgoSema
import AlgoSyntax

/// The rewrite rules of the lowering (`Lowering.swift`), one file each in `Rules/`: a fast path for
/// lines of the paper, matched once per algorithm at load time. `RunOptions.disabledRules` turns
/// any of them off (`algo run --rules`); the lines then run as written.
public enum RuleID: String, Sendable, Hashable, CaseIterable, Comparable {
    /// `W X + b 𝟏ᵀ` as one product whose C starts as the bias column (GEMM with β = 1).
    case affineBias = "affine-bias"
    /// `KᵀQ` without materialising Kᵀ (a transposed BLAS operand).
    case transposedProduct = "transposed-product"
    /// Algorithm 4's lines 4–6 with a causal mask: only the kept half of the scores.
    case causalAttention = "causal-attention"
    /// A callee that is the paper's Algorithm 6 as one fused layer norm.
    case layerNorm = "layer-norm"
    /// `Σ_t A[i(t), j(t)]` (the training losses) as one pick of the entries and one sum.
    case pickedSum = "picked-sum"
    /// Algorithm 5's loop over the heads as one call on stacked parameters.
    case headBatching = "head-batching"
    /// A Σ over sequences calling a transformer on each (a minibatch) as one call on their columns side by side.
    case sequenceBatching = "sequence-batching"
    /// Decoding that reuses the prefix: each new call on a longer x computes only the new columns (a KV cache).
    case prefixReuse = "prefix-reuse"
    /// `log softmax(Z)`, `log P(θ)[…]` and a callee's `return softmax(Z)` under a log as log-softmax.
    case logSoftmax = "log-softmax"
    /// An inline loop over the columns run once on all of them.
    case columnLoop = "column-loop"
    /// `∀t_z, t_x, if C then S[t_z, t_x] ← c` as one masked select over the index grid.
    case maskedSelect = "masked-select"
    /// `Σ_{i=1}^{n} … e[i] …` as one sum over the rows.
    case rowSum = "row-sum"
    /// A call of an algorithm inside a function of θ evaluated once per distinct key.
    case callMemo = "call-memo"
    /// `θ − η · ∇loss(θ)` as one pass per member of θ, into the gradient's buffer.
    case sgdUpdate = "sgd-update"
    /// `θ ← θ − η · ∇loss(θ)` in an evaluation pass (zero gradients) keeps θ's members, no arithmetic.
    case evaluationUpdate = "evaluation-update"
    /// Adam's update (`g ← ∇loss(θ)` … `θ ← θ − η m̂/(√v̂ + ε)`) in an evaluation pass: zeros assigned, θ kept, no arithmetic.
    case evaluationAdam = "evaluation-adam"
    /// Adam's five update lines (`m ← β_1 m + (1 − β_1) g` … `θ ← θ − η m̂/(√v̂ + ε)`) as one pass per member of θ, the same bits.
    case adamStep = "adam-step"

    public static func < (a: RuleID, b: RuleID) -> Bool { a.rawValue < b.rawValue }

    /// `all`, `none`, or a comma-separated list of rule names to turn off, each written `-NAME`
    /// (`-causal-attention,-layer-norm`): the set of rules disabled; nil for a word that is none of these.
    public static func disabled(by text: String) -> Set<RuleID>? {
        switch text {
        case "all": return []
        case "none": return Set(allCases)
        default:
            var out: Set<RuleID> = []
            for item in text.split(separator: ",") {
                guard item.hasPrefix("-"), let r = RuleID(rawValue: String(item.dropFirst())) else { return nil }
                out.insert(r)
            }
            return out.isEmpty ? nil : out
        }
    }
}

/// A rule matching one expression (`W X + b 𝟏ᵀ`, `KᵀQ`): the fused node that replaces it, or nil.
/// A match proves only the syntactic form; the node's executor checks the values (shapes, dtype)
/// and runs the expression as written when they do not fit: the fused node carries its fallback.
protocol ExpressionRule: Sendable {
    var id: RuleID { get }
    func match(_ e: Expr, in a: CheckedAlgorithm) -> FusedExpression?
}

/// A rule matching a run of statements starting at `body[i]` (Algorithm 4's lines 4–6).
protocol StatementRule: Sendable {
    var id: RuleID { get }
    func match(_ body: [Statement], at i: Int, in a: CheckedAlgorithm) -> FusedStatement?
}

/// A rule matching a whole algorithm (Algorithm 6 as a callee).
protocol AlgorithmRule: Sendable {
    var id: RuleID { get }
    func match(_ a: CheckedAlgorithm) -> FusedAlgorithm?
}
