/// Every operator and punctuation symbol of `.algo`. Each has one canonical Unicode spelling (the
/// paper's) and one canonical ASCII spelling (LaTeX where LaTeX has one); `aliases` are accepted
/// on input too. `Grammar/README.md` lists this table and a test keeps the two in step.
public enum Symbol: String, Sendable, Hashable, CaseIterable {
    case leftArrow, elementOf, reals, naturals, times, hadamard, sqrt, sum, forAll, not
    case lessEqual, greaterEqual, notEqual, infinity, nabla, proportional, equivalent, cdot
    case congruent, ones, transpose, minus, emDash, ellipsis, upArrow
    case plus, slash, star, equals, less, greater, leftParen, rightParen, leftBracket, rightBracket
    case leftBrace, rightBrace, comma, semicolon, colon, bar, period, underscore, caret

    /// The canonical Unicode spelling (what `algo fmt` writes).
    public var unicode: String { Spellings.entry(self).unicode }
    /// The canonical ASCII spelling (what `algo fmt --ascii` writes).
    public var ascii: String { Spellings.entry(self).ascii }
}

/// One row of the spelling table.
public struct SpellingEntry: Sendable {
    /// The symbol.
    public let symbol: Symbol
    /// The canonical Unicode spelling.
    public let unicode: String
    /// The canonical ASCII spelling.
    public let ascii: String
    /// Other spellings the lexer accepts (Unicode look-alikes and LaTeX synonyms).
    public let aliases: [String]
    /// What the symbol means in `.algo`.
    public let meaning: String
}

/// A letter that has an ASCII spelling: Greek letters, `ℓ`, script capitals `𝓦`. Part of
/// identifiers (`\alpha_t` is `α_t`).
public struct LetterSpelling: Sendable {
    /// The canonical Unicode spelling.
    public let unicode: String
    /// The canonical ASCII spelling.
    public let ascii: String
}

/// The spelling tables of the lexer and the formatter: one source of truth.
public enum Spellings {
    /// Every symbol, in the order `Grammar/README.md` lists them.
    public static let symbols: [SpellingEntry] = [
        SpellingEntry(symbol: .leftArrow, unicode: "←", ascii: "\\gets", aliases: ["<-", "\\leftarrow"], meaning: "assignment"),
        SpellingEntry(symbol: .elementOf, unicode: "∈", ascii: "\\in", aliases: [], meaning: "declaration, loop domain, membership"),
        SpellingEntry(symbol: .reals, unicode: "ℝ", ascii: "\\mathbb{R}", aliases: [], meaning: "the real numbers (`ℝ^{d×ℓ}`: matrices)"),
        SpellingEntry(symbol: .naturals, unicode: "ℕ", ascii: "\\mathbb{N}", aliases: [], meaning: "the natural numbers"),
        SpellingEntry(symbol: .times, unicode: "×", ascii: "\\times", aliases: [], meaning: "dimension product in shapes `ℝ^{d_e×N_V}`"),
        SpellingEntry(symbol: .hadamard, unicode: "⊙", ascii: "\\odot", aliases: [], meaning: "element-wise product"),
        SpellingEntry(symbol: .sqrt, unicode: "√", ascii: "\\sqrt", aliases: [], meaning: "square root (prefix)"),
        SpellingEntry(symbol: .sum, unicode: "Σ", ascii: "\\sum", aliases: ["∑", "\\Sigma"], meaning: "summation `Σ_{i=1}^{n} body`"),
        SpellingEntry(symbol: .forAll, unicode: "∀", ascii: "\\forall", aliases: [], meaning: "for every value of the index: `∀t : stmt`"),
        SpellingEntry(symbol: .not, unicode: "¬", ascii: "\\neg", aliases: ["\\lnot"], meaning: "logical negation"),
        SpellingEntry(symbol: .lessEqual, unicode: "≤", ascii: "\\le", aliases: ["<=", "\\leq"], meaning: "less than or equal"),
        SpellingEntry(symbol: .greaterEqual, unicode: "≥", ascii: "\\ge", aliases: [">=", "\\geq"], meaning: "greater than or equal"),
        SpellingEntry(symbol: .notEqual, unicode: "≠", ascii: "\\ne", aliases: ["!=", "\\neq"], meaning: "not equal"),
        SpellingEntry(symbol: .infinity, unicode: "∞", ascii: "\\infty", aliases: [], meaning: "infinity (`−∞`, `(0, ∞)`)"),
        SpellingEntry(symbol: .nabla, unicode: "∇", ascii: "\\nabla", aliases: [], meaning: "gradient `∇loss(θ)`"),
        SpellingEntry(symbol: .proportional, unicode: "∝", ascii: "\\propto", aliases: [], meaning: "proportional to (sampling `q ∝ p^{1/τ}`)"),
        SpellingEntry(symbol: .equivalent, unicode: "≡", ascii: "\\equiv", aliases: [], meaning: "binding of a hyperparameter `Mask ≡ 1`"),
        SpellingEntry(symbol: .cdot, unicode: "·", ascii: "\\cdot", aliases: ["⋅"], meaning: "product (matrix or scalar)"),
        SpellingEntry(symbol: .congruent, unicode: "≅", ascii: "\\cong", aliases: [], meaning: "identified with `V ≅ [N_V]`"),
        SpellingEntry(symbol: .ones, unicode: "𝟏", ascii: "\\mathbf{1}", aliases: [], meaning: "the all-ones column vector"),
        SpellingEntry(symbol: .transpose, unicode: "ᵀ", ascii: "^T", aliases: ["⊺", "\\intercal"], meaning: "transpose (postfix)"),
        SpellingEntry(symbol: .minus, unicode: "−", ascii: "-", aliases: [], meaning: "subtraction, negation"),
        SpellingEntry(symbol: .emDash, unicode: "—", ascii: "--", aliases: [], meaning: "starts the prose after a title signature"),
        SpellingEntry(symbol: .ellipsis, unicode: ". . .", ascii: "...", aliases: ["…", "\\dots", "\\ldots"], meaning: "elided elements `[e_1, e_2, . . . e_ℓ]`, `1, 2, . . . , L`"),
        SpellingEntry(symbol: .upArrow, unicode: "↑", ascii: "\\uparrow", aliases: [], meaning: "\"see above\" (prose only)"),
        SpellingEntry(symbol: .plus, unicode: "+", ascii: "+", aliases: [], meaning: "addition"),
        SpellingEntry(symbol: .slash, unicode: "/", ascii: "/", aliases: [], meaning: "division"),
        SpellingEntry(symbol: .star, unicode: "*", ascii: "*", aliases: [], meaning: "sequences over a set `V*`"),
        SpellingEntry(symbol: .equals, unicode: "=", ascii: "=", aliases: [], meaning: "definition, equality, named argument"),
        SpellingEntry(symbol: .less, unicode: "<", ascii: "<", aliases: [], meaning: "less than"),
        SpellingEntry(symbol: .greater, unicode: ">", ascii: ">", aliases: [], meaning: "greater than"),
        SpellingEntry(symbol: .leftParen, unicode: "(", ascii: "(", aliases: [], meaning: "grouping, call, tuple, open interval"),
        SpellingEntry(symbol: .rightParen, unicode: ")", ascii: ")", aliases: [], meaning: "closes `(`"),
        SpellingEntry(symbol: .leftBracket, unicode: "[", ascii: "[", aliases: [], meaning: "index (no space before), stacking, range `[ℓ]`; `[[` opens an Iverson bracket or a claim"),
        SpellingEntry(symbol: .rightBracket, unicode: "]", ascii: "]", aliases: [], meaning: "closes `[`"),
        SpellingEntry(symbol: .leftBrace, unicode: "{", ascii: "{", aliases: [], meaning: "set, set builder, dataset; braced script `_{…}`"),
        SpellingEntry(symbol: .rightBrace, unicode: "}", ascii: "}", aliases: [], meaning: "closes `{`"),
        SpellingEntry(symbol: .comma, unicode: ",", ascii: ",", aliases: [], meaning: "separator; before trailing prose"),
        SpellingEntry(symbol: .semicolon, unicode: ";", ascii: ";", aliases: [], meaning: "vertical stacking `[Y^1; Y^2]`"),
        SpellingEntry(symbol: .colon, unicode: ":", ascii: ":", aliases: [], meaning: "header label, one-line loop body, slice `a : b`, set builder"),
        SpellingEntry(symbol: .bar, unicode: "|", ascii: "|", aliases: [], meaning: "separates inputs from parameters; group member line"),
        SpellingEntry(symbol: .period, unicode: ".", ascii: ".", aliases: [], meaning: "ends a declaration line"),
        SpellingEntry(symbol: .underscore, unicode: "_", ascii: "_", aliases: [], meaning: "subscript `W_q`, `e_{ℓ_z}`"),
        SpellingEntry(symbol: .caret, unicode: "^", ascii: "^", aliases: [], meaning: "superscript `W^l_mlp1`, `p^{1/τ}`"),
    ]

    /// The table row of a symbol.
    public static func entry(_ s: Symbol) -> SpellingEntry {
        // `symbols` lists every case (checked by a test); the fallback keeps this total.
        symbolsByCase[s] ?? SpellingEntry(symbol: s, unicode: s.rawValue, ascii: s.rawValue, aliases: [], meaning: "")
    }

    static let symbolsByCase: [Symbol: SpellingEntry] = Dictionary(symbols.map { ($0.symbol, $0) }, uniquingKeysWith: { a, _ in a })

    /// Backslash commands that spell a symbol: `\gets` → `.leftArrow` (braced ones included: `\mathbb{R}`).
    static let symbolMacros: [String: Symbol] = {
        var m: [String: Symbol] = [:]
        for e in symbols {
            for s in [e.ascii] + e.aliases where s.hasPrefix("\\") { m[s] = e.symbol }
        }
        return m
    }()

    /// Single Unicode characters and ASCII operators that spell a symbol (`←`, `<-`, `<=`, `(`).
    static let symbolTexts: [String: Symbol] = {
        var m: [String: Symbol] = [:]
        for e in symbols {
            for s in [e.unicode, e.ascii] + e.aliases where !s.hasPrefix("\\") && s != ". . ." { m[s] = e.symbol }
        }
        return m
    }()

    /// Greek letters and `ℓ` with their LaTeX names; part of identifiers.
    public static let letters: [LetterSpelling] = {
        let greek: [(String, String)] = [
            ("α", "alpha"), ("β", "beta"), ("γ", "gamma"), ("δ", "delta"), ("ε", "epsilon"), ("ζ", "zeta"),
            ("η", "eta"), ("θ", "theta"), ("ι", "iota"), ("κ", "kappa"), ("λ", "lambda"), ("μ", "mu"),
            ("ν", "nu"), ("ξ", "xi"), ("π", "pi"), ("ρ", "rho"), ("σ", "sigma"), ("τ", "tau"),
            ("υ", "upsilon"), ("φ", "phi"), ("χ", "chi"), ("ψ", "psi"), ("ω", "omega"),
            ("Γ", "Gamma"), ("Δ", "Delta"), ("Θ", "Theta"), ("Λ", "Lambda"), ("Ξ", "Xi"), ("Π", "Pi"),
            ("Φ", "Phi"), ("Ψ", "Psi"), ("Ω", "Omega"), ("ℓ", "ell"),
        ]
        var all = greek.map { LetterSpelling(unicode: $0.0, ascii: "\\" + $0.1) }
        // Script capitals: the paper's 𝓦 (MATHEMATICAL BOLD SCRIPT CAPITAL W) for `\mathcal{W}`.
        for (i, c) in "ABCDEFGHIJKLMNOPQRSTUVWXYZ".enumerated() {
            if let u = Unicode.Scalar(0x1D4D0 + i) {
                all.append(LetterSpelling(unicode: String(Character(u)), ascii: "\\mathcal{\(c)}"))
            }
        }
        return all
    }()

    /// `\alpha` → `α`, `\mathcal{W}` → `𝓦`.
    static let letterMacros: [String: String] = Dictionary(letters.map { ($0.ascii, $0.unicode) }, uniquingKeysWith: { a, _ in a })
    /// `α` → `\alpha`.
    static let letterASCII: [String: String] = Dictionary(letters.map { ($0.unicode, $0.ascii) }, uniquingKeysWith: { a, _ in a })

    /// Accents written over one letter: `\tilde{X}` → X + U+0303 (NFC-composed where Unicode can).
    public static let accents: [(ascii: String, combining: Unicode.Scalar, meaning: String)] = [
        ("\\tilde", "\u{303}", "tilde `x̃`"), ("\\hat", "\u{302}", "hat `ê`"), ("\\bar", "\u{304}", "bar `x̄`"),
        ("\\dot", "\u{307}", "dot `ẋ`"), ("\\ddot", "\u{308}", "two dots `ẍ`"), ("\\acute", "\u{301}", "acute"),
        ("\\grave", "\u{300}", "grave"), ("\\check", "\u{30C}", "check"), ("\\vec", "\u{20D7}", "arrow `v⃗`"),
    ]
    static let accentMacros: [String: Unicode.Scalar] = Dictionary(accents.map { ($0.ascii, $0.combining) }, uniquingKeysWith: { a, _ in a })
    static let accentASCII: [Unicode.Scalar: String] = Dictionary(accents.map { ($0.combining, $0.ascii) }, uniquingKeysWith: { a, _ in a })

    /// Unicode superscript and subscript digits and the ASCII digit each stands for.
    public static let superscriptDigits: [Character: Character] = [
        "⁰": "0", "¹": "1", "²": "2", "³": "3", "⁴": "4", "⁵": "5", "⁶": "6", "⁷": "7", "⁸": "8", "⁹": "9",
    ]
    /// Unicode subscript digits and the ASCII digit each stands for.
    public static let subscriptDigits: [Character: Character] = [
        "₀": "0", "₁": "1", "₂": "2", "₃": "3", "₄": "4", "₅": "5", "₆": "6", "₇": "7", "₈": "8", "₉": "9",
    ]

    /// The prime mark of `t′`; ASCII `'`.
    public static let prime: Character = "′"

    /// The ASCII spelling of an identifier or script word (canonical Unicode, NFC):
    /// `x̃` → `\tilde{x}`, `θ̂` → `\hat{\theta}`, `t′` → `t'`, `𝓦` → `\mathcal{W}`. A letter command
    /// followed by an ASCII letter gets `{}` so that the two stay apart (`ℓx` → `\ell{}x`).
    public static func asciiIdentifier(_ s: String) -> String {
        var out = ""
        var pendingCommand = false
        for ch in s {
            let decomposed = String(ch).decomposedForAccents()
            guard let baseScalar = decomposed.first else { continue }
            var piece: String
            let base = String(Character(baseScalar))
            if ch == prime || ch == "'" {
                piece = "'"
            } else if let a = letterASCII[base] {
                piece = a
            } else {
                piece = base
            }
            var accents = decomposed.dropFirst()
            var hasUnknownMark = false
            for m in accents where accentASCII[m] == nil { hasUnknownMark = true }
            if hasUnknownMark {
                piece = String(ch)
                accents = []
            }
            for m in accents {
                if let a = accentASCII[m] { piece = a + "{" + piece + "}" }
            }
            if pendingCommand, let f = piece.unicodeScalars.first, f.properties.isAlphabetic, f.isASCII {
                out += "{}"
            }
            out += piece
            pendingCommand = piece.hasPrefix("\\") && !piece.hasSuffix("}")
        }
        return out
    }
}

extension String {
    /// Canonical decomposition (NFD) as scalars: base letter first, then combining marks.
    func decomposedForAccents() -> [Unicode.Scalar] {
        Array(self.decomposedNFD.unicodeScalars)
    }
}
