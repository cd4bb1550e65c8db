import AlgoDiagnostics
import AlgoSyntax

/// A program the shape checker accepted: every expression annotated with its type, every call with
/// its resolved callee and bound hyperparameters, every column loop marked. Only `ShapeChecker`
/// builds one (the initialiser is internal), and only a `CheckedProgram` will be evaluated by
/// `algo run`: "never run unchecked code" is enforced by the type system.
public struct CheckedProgram: Sendable {
    public let algorithms: [CheckedAlgorithm]
    init(algorithms: [CheckedAlgorithm]) { self.algorithms = algorithms }
}

/// A call after checking: which algorithm it runs and how the callee's dimensions are bound.
public struct ResolvedCall: Sendable {
    /// The callee's name (`MHAttention`) and the file that defines it.
    public let callee: String
    public let file: String
    /// A builtin (`softmax`, `GELU`, `length` …) rather than an algorithm.
    public let isBuiltin: Bool
    /// Callee dimension → its value in the caller (`d_x` → `d_e`, `H` → `H`).
    public let dimensions: [String: Dim]
    /// Inputs filled from a default (`Z = X`).
    public let defaulted: [String]
    /// Which of the paper's functions a builtin call applies (nil for an algorithm, a function of θ
    /// or an experiment's builtin).
    public internal(set) var builtin: Builtin? = nil
}

/// One checked algorithm.
public struct CheckedAlgorithm: Sendable {
    public let file: String
    public let syntax: Algorithm
    /// The type of every expression, by its span (the outermost expression with a span wins).
    public let types: [Span: SemType]
    /// Every call expression's resolution, by the call's span.
    public let calls: [Span: ResolvedCall]
    /// What every name expression the checker resolved stands for, by the name's span (jlox's
    /// resolver side table): the evaluator reads values through these and never resolves a name.
    public let bindings: [Span: NameBinding]
    /// The spans of `for t ∈ [ℓ] : X[:, t] ← …` loops whose iterations are independent column
    /// updates (the evaluator may batch them).
    public let columnLoops: [Span]
    /// The final type of every named value (inputs, parameters, locals, families).
    public let variables: [(name: String, type: SemType)]
}
