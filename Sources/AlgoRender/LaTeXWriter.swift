import AlgoSyntax

/// Prints `Math` as LaTeX math (amsmath and amssymb only) and prose as LaTeX text that pdflatex
/// reads without a Unicode font setup. Characters with no LaTeX spelling are written `?` and
/// collected in `unknown` (the caller reports them as E0570).
public struct LaTeXWriter {
    /// Characters met that have no LaTeX spelling, in order.
    public var unknown: [Character] = []

    public init() {}

    // MARK: - Math

    public mutating func math(_ m: Math) -> String {
        switch m {
        case .identifier(let s, let style):
            let letters = identifierLetters(s)
            switch style {
            case .italic: return s.count == 1 ? letters : "\\mathit{" + letters + "}"
            case .bold: return "\\boldsymbol{" + letters + "}"
            case .upright: return "\\mathrm{" + letters + "}"
            case .typewriter: return "\\mathtt{" + letters + "}"
            case .boldUpright: return "\\mathbf{" + letters + "}"
            case .symbol: return s == "𝟏" ? "\\mathbf{1}" : letters
            }
        case .number(let s): return s
        case .op(let s): return op(s)
        case .text(let s): return "\\text{" + text(s) + "}"
        case .row(let items): return joined(items.map { math($0) })
        case .scripts(let base, let sub, let sup):
            var b = math(base)
            if needsGroup(base) { b = "{" + b + "}" }
            if let sub { b += "_{" + math(sub) + "}" }
            if let sup { b += "^{" + math(sup) + "}" }
            return b
        case .sqrt(let x): return "\\sqrt{" + math(x) + "}"
        case .accent(let x, let a): return "\\" + a.rawValue + "{" + math(x) + "}"
        case .bigOperator(_, let lower, let upper):
            var s = "\\sum"
            if let lower { s += "_{" + math(lower) + "}" }
            if let upper { s += "^{" + math(upper) + "}" }
            return s
        case .annotated(let x, _), .link(let x, _): return math(x)
        }
    }

    /// Joins LaTeX pieces, with a space only where a letter or command would run into a letter (`\ell X`).
    func joined(_ parts: [String]) -> String {
        var out = ""
        for p in parts where !p.isEmpty {
            if let first = p.first, first.isLetter, let last = out.last, last.isLetter { out += " " }
            out += p
        }
        return out
    }

    func endsWithCommand(_ s: String) -> Bool {
        guard let slash = s.lastIndex(of: "\\") else { return false }
        return s[s.index(after: slash)...].allSatisfy(\.isLetter)
    }

    /// Whether a script base must be grouped (`{W^{l}_{q}}^{\intercal}`: no double superscript).
    func needsGroup(_ m: Math) -> Bool {
        switch m {
        case .scripts, .row, .bigOperator: return true
        case .annotated(let x, _), .link(let x, _): return needsGroup(x)
        case .identifier, .number, .op, .text, .sqrt, .accent: return false
        }
    }

    static let operators: [String: String] = [
        "←": "\\gets", "∈": "\\in", "×": "\\times", "⊙": "\\odot", "·": "\\cdot", "−": "-", "≤": "\\le",
        "≥": "\\ge", "≠": "\\ne", "≡": "\\equiv", "≅": "\\cong", "∝": "\\propto", "¬": "\\neg", "∇": "\\nabla",
        "∞": "\\infty", "∀": "\\forall", "…": "\\dots", "⟦": "[\\![", "⟧": "]\\!]", "|": "\\mid", "{": "\\{",
        "}": "\\}", "ᵀ": "\\intercal", "′": "\\prime", "′′": "\\prime\\prime", "\u{2062}": "", "\u{2009}": "\\,", "*": "*",
        ",": ",", ";": ";", ":": ":", "?": "?", "(": "(", ")": ")", "[": "[", "]": "]", "/": "/", "=": "=",
        "<": "<", ">": ">", "+": "+",
    ]

    mutating func op(_ s: String) -> String {
        if let l = Self.operators[s] { return l }
        return identifierLetters(s)
    }

    /// The letters of an identifier in LaTeX: Greek and `ℓ` as commands, `𝓦` as `\mathcal{W}`,
    /// `ℝ` as `\mathbb{R}`, `_` escaped.
    mutating func identifierLetters(_ s: String) -> String {
        var out = ""
        for ch in s {
            if ch.isASCII, ch.isLetter || ch.isNumber {
                if endsWithCommand(out) { out += " " }
                out.append(ch)
                continue
            }
            if ch == "_" { out += "\\_"; continue }
            guard let l = Self.mathCharacter(ch) else { unknown.append(ch); out += "?"; continue }
            out += l
        }
        return out
    }

    /// The LaTeX math spelling of one non-ASCII character: Greek letters, `ℓ`, the notation's
    /// symbols, script and bold-script capitals, blackboard ℝ/ℕ, and letters with accents.
    static func mathCharacter(_ ch: Character) -> String? {
        let s = String(ch)
        if let l = Spellings.letters.first(where: { $0.unicode == s }) {
            if l.ascii.hasPrefix("\\mathcal") { return "\\boldsymbol{" + l.ascii + "}" }
            return l.ascii
        }
        if let o = operators[s], o.hasPrefix("\\") || o == "-" { return o }
        if let e = Spellings.symbols.first(where: { $0.unicode == s }), e.ascii.hasPrefix("\\") { return e.ascii }
        switch s {
        case "ℝ": return "\\mathbb{R}"
        case "ℕ": return "\\mathbb{N}"
        case "𝟏": return "\\mathbf{1}"
        case "≈": return "\\approx"
        case "±": return "\\pm"
        case "→": return "\\to"
        case "↑": return "\\uparrow"
        case "Σ", "∑": return "\\Sigma"
        default: break
        }
        if let v = ch.unicodeScalars.first?.value, ch.unicodeScalars.count == 1 {
            // Mathematical script capitals (𝒩, U+1D49C…) and bold script capitals (𝓦, U+1D4D0…).
            for start: UInt32 in [0x1D49C, 0x1D4D0] where v >= start && v < start + 26 {
                return "\\mathcal{" + String(Character(Unicode.Scalar(UInt8(65 + v - start)))) + "}"
            }
        }
        let scalars = Array(s.decomposedStringWithCanonicalMapping.unicodeScalars)
        if scalars.count >= 2, let accent = Accent.from(scalars[1]) {
            let base = Character(scalars[0])
            let inner = base.isASCII ? String(base) : (mathCharacter(base) ?? "?")
            if base.isASCII || mathCharacter(base) != nil { return "\\" + accent.rawValue + "{" + inner + "}" }
        }
        return nil
    }

    // MARK: - Text

    /// Prose as LaTeX text: specials escaped, `` `code` `` in typewriter, mathematical characters
    /// in `$…$`, typographic dashes and quotes as LaTeX ligatures.
    public mutating func text(_ s: String) -> String {
        var out = ""
        var inCode = false
        for ch in s {
            if ch == "`" {
                out += inCode ? "}" : "\\texttt{"
                inCode.toggle()
                continue
            }
            switch ch {
            case "\\": out += "\\textbackslash{}"
            case "{", "}", "$", "&", "%", "#", "_": out += "\\" + String(ch)
            case "^": out += "\\^{}"
            case "~": out += "\\~{}"
            case "<": out += "\\textless{}"
            case ">": out += "\\textgreater{}"
            case "|": out += "\\textbar{}"
            case "\"": out += "\\texttt{\"}"
            case "—": out += "---"
            case "–": out += "--"
            case "’", "‘": out += ch == "’" ? "'" : "`"
            case "“": out += "``"
            case "”": out += "''"
            case "…": out += "\\dots{}"
            case "§": out += "\\S{}"
            case "-" where out.hasSuffix("-"): out += "{}-"
            default:
                if ch.isASCII { out.append(ch); continue }
                if let d = Spellings.superscriptDigits[ch] { out += "\\textsuperscript{\(d)}"; continue }
                if ch == "⁻" { out += "\\textsuperscript{$-$}"; continue }
                if let d = Spellings.subscriptDigits[ch] { out += "$_{\(d)}$"; continue }
                if let m = Self.mathCharacter(ch) { out += "$" + m + "$"; continue }
                unknown.append(ch)
                out += "?"
            }
        }
        if inCode { out += "}" }
        return out
    }
}
