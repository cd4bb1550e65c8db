/// A typeset formula: the one tree both writers print (`LaTeXWriter` as LaTeX math, `MathMLWriter`
/// as MathML). `MathBuilder` makes it from the syntax tree; nothing here knows the notation's
/// grammar, only how the paper sets it.
public indirect enum Math: Sendable, Equatable {
    /// A letter or a name's base in the given style (`x`, `θ`, `Mask`, `layer_norm`).
    case identifier(String, IdentifierStyle)
    /// A number (`1`, `0.5`).
    case number(String)
    /// An operator or punctuation, its Unicode spelling (`←`, `∈`, `+`, `(`, `|`).
    case op(String)
    /// Words inside a formula (`or`, `randomly with probability`) or a quoted path.
    case text(String)
    /// Items set one after the other.
    case row([Math])
    /// A base with a subscript, a superscript or both (`W^{l}_{mlp2}`, `𝟏ᵀ`).
    case scripts(Math, sub: Math?, sup: Math?)
    /// `√x` with the radical over its operand.
    case sqrt(Math)
    /// An accent over a letter (`X̃`, `θ̂`).
    case accent(Math, Accent)
    /// A large operator with limits (`Σ_{i=1}^{d_e}`).
    case bigOperator(String, lower: Math?, upper: Math?)
    /// A name occurrence the HTML shows a note for (its shape, where it is bound).
    case annotated(Math, NameNote)
    /// A callee that links to its algorithm's box (`target` is the algorithm's name).
    case link(Math, target: String)
}

/// How an identifier is set.
public enum IdentifierStyle: String, Sendable, Equatable {
    /// Math italic: scalars and indices (`t`, `d`, `ℓ`, `θ`).
    case italic
    /// Bold italic: vectors, matrices and sequences, as the paper sets them (`𝑿`, `𝑾`).
    case bold
    /// Upright roman: words that are names (`Mask`, `Query`, `attn` in `d_attn`) and the paper's
    /// mathematical functions (`softmax`, `exp`, `log`, `length`).
    case upright
    /// Typewriter: algorithms and the paper's named functions and tokens (`DTransformer`,
    /// `layer_norm`, `GELU`, `bos_token`), as the paper sets them.
    case typewriter
    /// Bold upright: the first letter of a claim's label (`𝐐uery`), as the paper sets it.
    case boldUpright
    /// Blackboard bold or bold symbols that have their own glyph (`ℝ`, `ℕ`, `𝟏`, `𝓦`).
    case symbol
}

/// An accent over a base letter (the combining marks the notation accepts).
public enum Accent: String, Sendable, Equatable, CaseIterable {
    case tilde, hat, bar, dot, ddot, acute, grave, check, vec

    /// The combining mark in a name (`X` + U+0303 is `X̃`).
    var combining: Unicode.Scalar {
        switch self {
        case .tilde: "\u{303}"
        case .hat: "\u{302}"
        case .bar: "\u{304}"
        case .dot: "\u{307}"
        case .ddot: "\u{308}"
        case .acute: "\u{301}"
        case .grave: "\u{300}"
        case .check: "\u{30C}"
        case .vec: "\u{20D7}"
        }
    }

    /// The spacing character MathML sets over the base (`<mover accent="true">`).
    var mathML: String {
        switch self {
        case .tilde: "\u{2DC}"
        case .hat: "\u{2C6}"
        case .bar: "\u{AF}"
        case .dot: "\u{2D9}"
        case .ddot: "\u{A8}"
        case .acute: "\u{B4}"
        case .grave: "`"
        case .check: "\u{2C7}"
        case .vec: "\u{2192}"
        }
    }

    static func from(_ scalar: Unicode.Scalar) -> Accent? { allCases.first { $0.combining == scalar } }
}

/// What the HTML shows on hover or focus of a name: the shape the checker proved and where the name
/// is bound. Plain text (Unicode), and the shape typeset when it parses as a type.
public struct NameNote: Sendable, Equatable {
    /// The name as written (`X̃`, `W^l_mlp2`).
    public var name: String
    /// `ℝ^{d_e×ℓ}`, `ℕ`, `[ℓ]`, or nil when the checker gave none (a file that does not check).
    public var shape: String?
    /// The shape typeset (`ℝ` with the dimensions as superscript), when `shape` parses as a type.
    public var shapeMath: Math?
    /// `Input`, `Parameters`, `line 5`, `for loop, line 2` (nil when the name is not bound here:
    /// a dimension that only appears in types, a name of another algorithm).
    public var bound: String?
    /// The spoken/plain form: `X̃ ∈ ℝ^{d_e×ℓ}, bound at line 5`.
    public var plain: String {
        var s = name
        if let shape { s += " ∈ " + shape }
        if let bound { s += "; " + bound }
        return s
    }
}
