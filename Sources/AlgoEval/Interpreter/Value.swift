import AlgoDiagnostics
import AlgoSyntax
import AlgoTensor

/// A run-time value of the evaluator.
///
/// Vectors are rank-1 `Variable`s `[d]`, matrices rank 2 `[rows, cols]`, real scalars `[]` or `[1]`.
/// Inside a batched column loop a vector is `[d, B]` and a scalar `[1, B]` (B = the loop's range):
/// the tensor runtime's broadcasting (aligned at the first dimension) makes the same code right for
/// both (see `Evaluator` and the README section "algo run").
public enum Value {
    case tensor(Variable)
    /// A natural number: a dimension, a token id, a position, a loop index (1-based).
    case nat(Int)
    /// A real scalar hyperparameter or literal (`τ`, `1/τ`, `√d_attn`, `−∞`).
    case real(Double)
    case bool(Bool)
    /// A token sequence (`x ∈ V*`), 1-based ids.
    case tokens([Int])
    /// A parameter collection: member names (with bound indices substituted) → values.
    case collection(Collection)
    /// The Mask hyperparameter of Algorithms 4 and 5 (boxed, as `family` and `function`: a value is as
    /// large as its largest case, and these are rare next to tensors and numbers).
    indirect case mask(MaskValue)
    /// A loop or Σ index bound to all of 1…count at once (batched evaluation), along `axis`.
    case grid(count: Int, axis: Int)
    /// `𝟏` and `𝟏ᵀ`.
    case ones, onesT
    /// A family (`e_{1:T}` passed as an input, or a dataset `x_{1:N_data}` of token sequences).
    indirect case family(Family)
    /// A function of θ defined by `P(θ) ← …` or `loss(θ) = …` (evaluated when applied).
    indirect case function(FunctionValue)
    /// A finite set of positions (`T̃ ← {t ∈ [ℓ] : …}`), ascending, 1-based.
    case indexSet([Int])

    public var kindName: String {
        switch self {
        case .tensor(let v): return "a tensor of shape \(v.shape)"
        case .nat: return "a natural number"
        case .real: return "a real number"
        case .bool: return "a truth value"
        case .tokens: return "a token sequence"
        case .collection: return "a parameter collection"
        case .mask: return "a Mask"
        case .grid: return "an index over a range"
        case .ones, .onesT: return "𝟏"
        case .family: return "a family"
        case .function: return "a function of θ"
        case .indexSet: return "a set of positions"
        }
    }
}

/// A parameter collection (`θ`, `𝓦_2`, `𝓦^3_qkv`): ordered members.
public struct Collection {
    public var members: [(name: String, value: Value)] = []
    public init(_ members: [(name: String, value: Value)] = []) { self.members = members }
    public subscript(_ name: String) -> Value? { members.first { $0.name == name }?.value }
}

/// A function of parameters, `P(θ) ← DTransformer(x_n | θ)`: the body is evaluated in a copy of
/// the defining frame with the parameter names bound to the arguments (so it reads the frame's
/// values at application time, as the paper's notation means).
public struct FunctionValue {
    public let name: String
    public let parameters: [String]
    public let body: Expr
    let frame: Frame
    /// What the log of its value is (`Rules/LogSoftmax.swift`: `P(θ) ← softmax(Z)`, `P(θ) ← A(…)`), when the lowering found one.
    let logForm: LogForm?
}

/// A family `e_t`, `Y^h`: elements by index (1-based), or the columns of one matrix (batched).
public struct Family {
    /// Writing an element forgets `heads` (the elements no longer all come from it).
    public var elements: [Int: Value] = [:] { didSet { heads = nil } }
    /// When set, element t is column t of this matrix.
    public var columns: Variable?
    /// When set (head batching, `Evaluator+Heads`), element h is head h, `[:, :, h]`, of this
    /// `[d, n, H]` tensor: `[Y^1; …; Y^H]` is then its heads' rows stacked in one reshape
    /// (`Evaluator.list`) instead of H slices and a concatenation. While `elements` is empty the
    /// elements are sliced from it when read (`element`), not copied out ahead: MHAttention reads
    /// only the stack, and the H copies of `[d, n]` took 0.3 ms of the small model's forward.
    public var heads: Variable?
    public var count: Int {
        if let c = columns { return c.shape.count >= 2 ? c.shape[1] : 1 }
        if elements.isEmpty, let y = heads { return y.shape[2] }
        return elements.keys.max() ?? 0
    }
    public init(columns: Variable? = nil) { self.columns = columns }

    public func element(_ t: Int) -> Value? {
        if let c = columns {
            guard t >= 1, t <= count else { return nil }
            return .tensor(c.rank == 2 ? c.column(t - 1) : c)
        }
        if elements.isEmpty, let y = heads {
            guard t >= 1, t <= y.shape[2] else { return nil }
            return .tensor(y.slice(lower: [0, 0, t - 1], upper: [y.shape[0], y.shape[1], t]).reshaped([y.shape[0], y.shape[1]]))
        }
        return elements[t]
    }

    /// Copies the heads into `elements` (before one is written: the others must stay readable).
    public mutating func materializeHeads() {
        guard elements.isEmpty, let y = heads else { return }
        var all: [Int: Value] = [:]
        for h in 1...y.shape[2] { all[h] = element(h) }
        elements = all
        heads = y
    }
}

/// The Mask hyperparameter: a constant (`Mask ≡ 1`), a {0,1} matrix (from a checkpoint), or a rule
/// `Mask[t, t′] = [[t ≤ t′]]` evaluated in the caller's environment.
public enum MaskValue {
    case constant(Double)
    case matrix(Tensor)
    case rule(variables: [String], body: Expr, frame: Frame)
    /// `Mask[t_z, t_x] = [[t_z ≤ t_x]]` given on the command line (`--set Mask=causal`).
    case causal
}

/// A run-time error: a diagnostic at a source position.
public struct RuntimeError: Error {
    public var diagnostic: Diagnostic
    public init(_ code: DiagnosticCode, _ message: String, at span: Span, notes: [String] = []) {
        diagnostic = Diagnostic(code, message, at: span)
        diagnostic.notes = notes
    }
}

/// One activation of an algorithm: its variables, families and dimension values.
public final class Frame {
    let algorithm: LoadedAlgorithm
    /// Values by spelling, held in the algorithm's numbered slots (`SlotTable`).
    var vars: FrameVars
    var families: [String: Family] = [:]
    var dims: [String: Int] = [:]
    /// The caller asked for the log of what this activation returns (`log P(θ)[…]`'s callee):
    /// `return` gives its log (log-softmax for `return softmax(Z)`, `Rules/LogSoftmax.swift`).
    var logReturn = false
    /// H while the body of a head-batched call runs (`Evaluator+Heads`): rank-3 values carry the
    /// heads in their last dimension.
    var heads: Int? = nil
    /// The columns of several sequences side by side, or the new columns of a growing one, while a
    /// call proven column-wise in its sequence runs (`Evaluator+Sequences`); passed on to callees.
    var sequences: SequenceColumns? = nil
    /// Which invocation of its algorithm this frame is in that run (`SequenceProofFacts.contexts`).
    var sequenceContext = 0
    /// The iteration counts of the interpreted loops running in this frame, innermost last.
    var loopCounts: [Int] = []
    init(_ algorithm: LoadedAlgorithm) { self.algorithm = algorithm; vars = FrameVars(algorithm.slots) }

    func copy() -> Frame {
        let f = Frame(algorithm)
        f.vars = vars; f.families = families; f.dims = dims; f.loopCounts = loopCounts
        return f
    }
}
