/// Prints `Math` as MathML Core (what current browsers lay out natively) and as plain Unicode text
/// (the `alttext` screen readers and copy-paste get). A name with a note becomes a focusable
/// `<mrow class="nm">` whose tip (shape, binding) CSS shows on hover and focus.
public enum MathMLWriter {
    /// One `<math>` element; `alt` is the formula as text.
    public static func element(_ m: Math, display: Bool = false) -> String {
        "<math" + (display ? " display=\"block\"" : "") + " alttext=\"" + escape(plain(m)) + "\">" + node(m) + "</math>"
    }

    /// A formula as HTML: `<math>` elements, with each call of an algorithm at the formula's top level
    /// taken out as a link (`<a href>` cannot be inside MathML).
    public static func inline(_ m: Math, href: (String) -> String?) -> String {
        var out = ""
        var pending: [Math] = []
        func flush() {
            guard !pending.isEmpty else { return }
            out += element(pending.count == 1 ? pending[0] : .row(pending))
            pending = []
        }
        for piece in flatten(m) {
            if case .link(let x, let target) = piece, let url = href(target) {
                flush()
                out += "<a class=\"call\" href=\"" + escape(url) + "\">" + element(x) + "</a>"
            } else {
                pending.append(piece)
            }
        }
        flush()
        return out
    }

    /// The top-level pieces of a formula: nested rows opened.
    static func flatten(_ m: Math) -> [Math] {
        guard case .row(let items) = m else { return [m] }
        // A prefix operator's row stays whole, so that `−∞` keeps `−` a prefix.
        if case .op(let first)? = items.first, ["−", "¬", "∇"].contains(first) { return [m] }
        return items.flatMap(flatten)
    }

    static func node(_ m: Math) -> String {
        switch m {
        case .identifier(let s, let style):
            let text = escape(s)
            switch style {
            case .italic: return s.count == 1 ? "<mi>" + text + "</mi>" : "<mi class=\"it\">" + text + "</mi>"
            case .bold: return "<mi class=\"b\">" + text + "</mi>"
            case .upright: return s.count == 1 ? "<mi mathvariant=\"normal\">" + text + "</mi>" : "<mi>" + text + "</mi>"
            case .typewriter: return "<mi class=\"tt\">" + text + "</mi>"
            case .boldUpright: return "<mi mathvariant=\"normal\" class=\"b\">" + text + "</mi>"
            case .symbol: return s == "𝟏" ? "<mn class=\"b\">1</mn>" : "<mi mathvariant=\"normal\">" + text + "</mi>"
            }
        case .number(let s): return "<mn>" + escape(s) + "</mn>"
        case .op(let s):
            switch s {
            case "\u{2062}": return "<mo>&#x2062;</mo>"
            case "\u{2009}": return "<mo>&#x2062;</mo><mspace width=\"0.1667em\"></mspace>"
            case "ᵀ": return "<mo>⊺</mo>"
            case ",", ";": return "<mo>" + s + "</mo>"
            case "/": return "<mo lspace=\"0.1em\" rspace=\"0.1em\">/</mo>"
            case "|": return "<mo stretchy=\"false\" lspace=\"0.2em\" rspace=\"0.2em\">|</mo>"
            case "(", ")", "[", "]", "{", "}", "⟦", "⟧": return "<mo stretchy=\"false\">" + s + "</mo>"
            default: return "<mo>" + escape(s) + "</mo>"
            }
        case .text(let s): return "<mtext>" + escape(s) + "</mtext>"
        case .row(let items): return "<mrow>" + items.map(node).joined() + "</mrow>"
        case .scripts(let base, let sub, let sup):
            switch (sub, sup) {
            case (let b?, let p?): return "<msubsup>" + node(base) + node(b) + node(p) + "</msubsup>"
            case (let b?, nil): return "<msub>" + node(base) + node(b) + "</msub>"
            case (nil, let p?): return "<msup>" + node(base) + node(p) + "</msup>"
            case (nil, nil): return node(base)
            }
        case .sqrt(let x): return "<msqrt>" + node(x) + "</msqrt>"
        case .accent(let x, let a): return "<mover accent=\"true\">" + node(x) + "<mo>" + a.mathML + "</mo></mover>"
        case .bigOperator(let s, let lower, let upper):
            let op = Math.op(s == "Σ" ? "∑" : s)
            return node(.scripts(op, sub: lower, sup: upper))
        case .link(let x, _): return node(x)
        case .annotated(let x, let note):
            var tip: [Math] = [x]
            if let shape = note.shapeMath { tip += [.op("∈"), shape] } else if let shape = note.shape { tip += [.text(" ∈ " + shape)] }
            if let bound = note.bound { tip.append(.text(" — " + bound)) }
            return "<mrow class=\"nm\" tabindex=\"0\" aria-label=\"" + escape(note.plain) + "\">" + node(x)
                + "<mrow class=\"tip\" aria-hidden=\"true\">" + node(.row(tip)) + "</mrow></mrow>"
        }
    }

    /// The formula as Unicode text in the notation (`W^l_mlp2`, `X̃[:, t]`), for `alttext`.
    public static func plain(_ m: Math) -> String {
        switch m {
        case .identifier(let s, _): return s
        case .number(let s): return s
        case .op(let s):
            switch s {
            case "\u{2062}", "\u{2009}": return " "
            case ",", ";": return s + " "
            case "←", "∈", "=", "+", "·", "⊙", "≤", "≥", "≠", "≡", "∝", "≅", "|": return " " + s + " "
            case "⟦": return "[["
            case "⟧": return "]]"
            default: return s
            }
        case .text(let s): return s
        case .row(let items): return items.map(plain).joined()
        case .scripts(let base, let sub, let sup):
            // The notation's order: superscript first (`W^l_mlp2`, `γ^1_l`).
            var s = plain(base)
            if let sup {
                let p = plain(sup)
                s += p == "ᵀ" || p.allSatisfy({ $0 == "′" }) || p == "*" ? p : "^" + group(p)
            }
            if let sub { s += "_" + group(plain(sub)) }
            return s
        case .sqrt(let x): return "√" + plain(x)
        case .accent(let x, let a): return (plain(x) + String(Character(a.combining))).precomposedStringWithCanonicalMapping
        case .bigOperator(let s, let lower, let upper):
            return s + (lower.map { "_" + group(plain($0)) } ?? "") + (upper.map { "^" + group(plain($0)) } ?? "") + " "
        case .annotated(let x, _), .link(let x, _): return plain(x)
        }
    }

    static func group(_ s: String) -> String {
        s.count == 1 || s.allSatisfy({ $0.isLetter || $0.isNumber }) ? s : "{" + s + "}"
    }

    /// Escapes text for HTML and attribute values.
    public static func escape(_ s: String) -> String {
        var out = ""
        for ch in s {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(ch)
            }
        }
        return out
    }
}
