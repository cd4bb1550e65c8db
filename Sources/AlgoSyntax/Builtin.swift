/// The functions the paper takes as given, by their spelling: the one list the parser (which may
/// apply them without parentheses, `exp A[t_z, t_x]`, `log P(θ)[i, t]`), the checker (their types)
/// and the evaluator (their values) share. `tanh` and the logistic `σ` are the real models' (GPT-2's
/// tanh GELU, gates; `Algorithms/GPT2`).
public enum Builtin: String, Sendable, Equatable, CaseIterable {
    case exp, log, tanh, softmax, GELU, ReLU, length
    /// The logistic σ(x) = 1/(1 + e⁻ˣ).
    case sigma = "σ"

    /// Applied to each entry of a number, vector or matrix (`GELU`, `ReLU`, `exp`, `log`, `tanh`,
    /// `σ`); softmax normalises each column (eq. 2), `length` counts a sequence.
    public var isElementwise: Bool {
        switch self {
        case .exp, .log, .tanh, .sigma, .GELU, .ReLU: true
        case .softmax, .length: false
        }
    }

    /// Whether the name is the builtin only where the algorithm declares no name of that spelling:
    /// `σ` is also the paper's usual standard deviation, so a declared `σ` (or a function `σ`) is
    /// that declaration; the other spellings are always the builtin.
    public var yieldsToDeclarations: Bool {
        switch self {
        case .sigma: true
        case .exp, .log, .tanh, .softmax, .GELU, .ReLU, .length: false
        }
    }

    /// Whether it may be applied without parentheses (`exp A[t_z, t_x]`): every builtin but `σ`,
    /// which is written `σ(x)` so that a σ that names a value still reads as one (`σ x` is a product).
    public var appliesWithoutParentheses: Bool { !yieldsToDeclarations }
}
