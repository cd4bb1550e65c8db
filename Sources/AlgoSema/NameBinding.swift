import AlgoSyntax

/// What a name in an algorithm's body stands for, as the checker resolved it (recorded per span in
/// `CheckedAlgorithm.bindings`); the evaluator switches on it instead of searching.
public indirect enum NameBinding: Sendable, Equatable {
    /// A value held under its own spelling: an input, output, local, loop, `∀` or Σ variable, a real
    /// hyperparameter (`τ`, `η`), `Mask`, a function of θ, a parameter declared outside a collection,
    /// a collection itself (`θ`, `𝓦`).
    case value(String)
    /// A member of a parameter collection: the collection (`𝓦`, `θ`) and the member as written
    /// (`W_o`, `γ^1_l`; a group's index script takes its value at run time: `γ^1_2`, the
    /// checkpoint name).
    case member(collection: String, name: Name)
    /// A group's sub-collection (`𝓦^h_qkv` of `For h ∈ [H], 𝓦^h_qkv consisting of: | W^h_q …`
    /// inside `𝓦`): the members of `collection` of group h, keyed without h (`W_q`).
    case groupCollection(collection: String, name: Name)
    /// An element of a family given or built at run time (`e_t`, `Y^h`, `x_n`): the family's key
    /// (`NameBinding.familyKey`, `e_•`) and which script is the index.
    case familyElement(family: String, index: Int)
    /// A dimension or natural-number hyperparameter (`d_e`, `L`, `ℓ_max`) used as a number.
    case dimension(String)
    /// `mask_token`, `bos_token`, `eos_token`.
    case specialToken(SpecialToken)
    /// A number the notation names (`π`).
    case constant(Constant)
    /// `p^{1/τ}`: the base's binding and the exponent (the last script).
    case power(base: NameBinding, exponent: Expr)

    /// The key of a family: the name with the index script replaced by `•` (`e_•` for `e_t`, `γ^1_•`).
    public static func familyKey(_ base: String, _ scripts: [Script], index: Int) -> String {
        base + scripts.enumerated().map { k, s in k == index ? s.position.rawValue + "•" : ExprPrinter.print(s) }.joined()
    }
}

/// The numbers the notation names: `π` (GPT-2's tanh GELU, `√(2/π)`).
public enum Constant: String, Sendable, Equatable, CaseIterable {
    case pi = "π"

    public var value: Double {
        switch self {
        case .pi: Double.pi
        }
    }
}

/// The special tokens of the paper: with vocabulary size N_V, `mask_token` = N_V − 2, `bos_token` =
/// N_V − 1, `eos_token` = N_V (the convention of `Tokenizer`).
public enum SpecialToken: String, Sendable, Equatable, CaseIterable {
    case mask = "mask_token", bos = "bos_token", eos = "eos_token"

    /// The token id with `vocabulary` = N_V.
    public func value(vocabulary: Int) -> Int {
        switch self {
        case .mask: vocabulary - 2
        case .bos: vocabulary - 1
        case .eos: vocabulary
        }
    }
}
