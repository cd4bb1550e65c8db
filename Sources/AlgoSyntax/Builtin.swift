/// The functions the paper takes as given, by their spelling: the one list the parser (which may
/// apply them without parentheses, `exp A[t_z, t_x]`, `log P(θ)[i, t]`), the checker (their types)
/// and the evaluator (their values) share.
public enum Builtin: String, Sendable, Equatable, CaseIterable {
    case exp, log, softmax, GELU, ReLU, length

    /// Applied to each entry of a number, vector or matrix (`GELU`, `ReLU`, `exp`, `log`); softmax
    /// normalises each column (eq. 2), `length` counts a sequence.
    public var isElementwise: Bool {
        switch self {
        case .exp, .log, .GELU, .ReLU: true
        case .softmax, .length: false
        }
    }
}
