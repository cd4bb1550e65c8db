import AlgoDiagnostics
import AlgoSyntax

/// Makes the typeset tree (`Math`) of expressions, types and names, as the paper sets them: the
/// precedence and parentheses of `ExprPrinter` (parentheses written in the source are kept), words
/// that are names upright (`Mask`, `d_attn`'s `attn`), algorithms and the paper's named functions in
/// typewriter (`DTransformer`, `layer_norm`, `GELU`), vectors and matrices in bold italic when the
/// checker says so.
public struct MathBuilder {
    /// The file the expressions come from (to see which parentheses were written).
    let source: SourceFile
    /// The note shown for a name occurrence (HTML only); nil leaves the name plain.
    var note: (Name) -> NameNote? = { _ in nil }
    /// Whether a name occurrence is a vector, matrix or sequence (set in bold italic).
    var isArray: (Name) -> Bool = { _ in false }
    /// The algorithms a name may link to (callees and `initialise(DTransformer)`).
    var algorithms: Set<String> = []

    /// Functions the paper sets in typewriter besides the algorithms (section "conventions" of
    /// ../shared/paper/formal-algorithms.md).
    static let typewriterFunctions: Set<String> = [Builtin.GELU.rawValue, Builtin.ReLU.rawValue, "layer_norm"]
    /// Functions the paper sets upright as mathematics: the other builtins of more than one letter
    /// (`softmax`, `exp`, `log`, `tanh`, `length`); the logistic `σ` is a letter, set italic. Every
    /// other callee (an algorithm, `GELU`, an experiment's built-in) is set in typewriter.
    static let mathematicalFunctions: Set<String> = Set(Builtin.allCases.map(\.rawValue).filter { $0.count > 1 && !typewriterFunctions.contains($0) })

    public init(source: SourceFile) { self.source = source }

    // MARK: - Names

    /// A name in a value position: a word (`Mask`, `bos_token`, `loss_after`) whole, or a base
    /// letter with its accents, primes and scripts (`X̃`, `t′`, `W^l_mlp2`).
    public func name(_ n: Name) -> Math {
        let m: Math
        if algorithms.contains(n.spelling) {
            m = .link(.identifier(n.spelling, .typewriter), target: n.spelling)
        } else if let word = Self.word(n) {
            let style: IdentifierStyle = word.hasSuffix("_token") || Self.typewriterFunctions.contains(word) ? .typewriter : .upright
            m = .identifier(word, style)
        } else {
            m = scripted(base(n.base, bold: isArray(n)), n.scripts)
        }
        if let note = note(n) { return .annotated(m, note) }
        return m
    }

    /// The callee of a call: one word in the paper's function style, linked when it is an algorithm.
    func callee(_ n: Name) -> Math {
        let word = n.spelling
        let style: IdentifierStyle = Self.mathematicalFunctions.contains(word) ? .upright : Builtin(rawValue: word) == .sigma ? .italic : .typewriter
        let m = Math.identifier(word, style)
        return algorithms.contains(word) ? .link(m, target: word) : m
    }

    /// The name as one word when it is one: a base of two or more letters whose scripts are all
    /// unbraced subscript words (`mask_token`, `loss_after`); nil for `W_q`, `d_attn`, `H_unigram`.
    static func word(_ n: Name) -> String? {
        let letters = n.base.unicodeScalars.filter { $0.properties.isAlphabetic && Accent.from($0) == nil }
        guard letters.count >= 2 else { return nil }
        guard n.scripts.allSatisfy({ $0.position == .sub && !$0.braced && $0.raw.allSatisfy { $0.isLetter || $0.isNumber } }) else {
            return nil
        }
        return n.spelling
    }

    /// A name's base: one letter with accents and primes (`X̃`, `θ̂`, `t′`), or an upright word.
    func base(_ base: String, bold: Bool) -> Math {
        var letters = ""
        var accents: [Accent] = []
        var primes = 0
        for ch in base {
            if ch == "′" || ch == "'" { primes += 1; continue }
            let scalars = String(ch).decomposedStringWithCanonicalMapping.unicodeScalars
            guard let first = scalars.first else { continue }
            letters.unicodeScalars.append(first)
            for s in scalars.dropFirst() { if let a = Accent.from(s) { accents.append(a) } }
        }
        var m: Math
        if letters.count == 1 {
            let symbol = letters.unicodeScalars.first.map { $0.value >= 0x1D400 } ?? false
            m = .identifier(letters, symbol ? .symbol : (bold ? .bold : .italic))
        } else {
            m = .identifier(letters, .upright)
        }
        for a in accents { m = .accent(m, a) }
        if primes > 0 { m = .scripts(m, sub: nil, sup: .op(String(repeating: "′", count: primes))) }
        return m
    }

    /// `base` with the scripts of a name or an expression: all subscripts below, all superscripts above.
    func scripted(_ base: Math, _ scripts: [Script]) -> Math {
        guard !scripts.isEmpty else { return base }
        let subs = scripts.filter { $0.position == .sub }.map(script)
        let sups = scripts.filter { $0.position == .sup }.map(script)
        func joined(_ ms: [Math]) -> Math? {
            ms.isEmpty ? nil : ms.count == 1 ? ms[0] : .row(Array(ms.map { [$0] }.joined(separator: [.op(",")])))
        }
        // A prime already set as a superscript (`t′^2`) shares the superscript.
        if case .scripts(let b, nil, let prime?) = base {
            return .scripts(b, sub: joined(subs), sup: .row([prime] + (joined(sups).map { [$0] } ?? [])))
        }
        return .scripts(base, sub: joined(subs), sup: joined(sups))
    }

    /// One script: a word upright (`mlp1`, `attn`), a letter italic, digits a number, `e/d` as
    /// written; a braced script is an expression (`{ℓ_z}`, `{1:N_data}`, `{d_e×N_V}`).
    func script(_ s: Script) -> Math {
        if s.braced { return expression(s.value, 0) }
        let raw = s.raw
        if raw.allSatisfy(\.isNumber) { return .number(raw) }
        if raw.contains("/") {
            let parts = raw.split(separator: "/").map { Math.identifier(String($0), $0.count == 1 ? .italic : .upright) }
            return .row(Array(parts.map { [$0] }.joined(separator: [.op("/")])))
        }
        if raw.count == 1 { return base(raw, bold: false) }
        return .identifier(raw, .upright)
    }

    // MARK: - Expressions

    /// The expression typeset; `context` is the precedence of the enclosing operator (0 at the top).
    public func expression(_ e: Expr, _ context: Int = 0) -> Math {
        if writtenInParentheses(e) { return parenthesised(core(e, 0)) }
        return core(e, context)
    }

    /// The expression without its outer parentheses, written or not (inside `√`, a script).
    func bare(_ e: Expr) -> Math { core(e, 0) }

    func parenthesised(_ m: Math) -> Math { .row([.op("("), m, .op(")")]) }

    func listed(_ items: [Math], _ separator: String = ",") -> [Math] {
        Array(items.map { [$0] }.joined(separator: [.op(separator)]))
    }

    func core(_ e: Expr, _ context: Int) -> Math {
        switch e.kind {
        case .name(let n): return name(n)
        case .number(let s): return .number(s)
        case .text(let s): return .text("\"" + s + "\"")
        case .ones: return .identifier("𝟏", .symbol)
        case .infinity: return .identifier("∞", .symbol)
        case .ellipsis: return .op("…")
        case .all: return .op(":")
        case .binary(let op, let l, let r):
            let p = ExprPrinter.precedence(op)
            // Juxtaposition is an invisible product; before a call (`W^l_mlp2 GELU(…)`) with a thin space.
            var symbol = op.rawValue
            if op == .juxtapose {
                if case .call = r.kind { symbol = "\u{2009}" } else { symbol = "\u{2062}" }
            }
            let m = Math.row([expression(l, p), .op(symbol), expression(r, p + 1)])
            return p < context ? parenthesised(m) : m
        case .unary(let op, let x):
            let m: Math
            switch op {
            case .sqrt: m = .sqrt(bare(x))
            case .negate, .not, .gradient: m = .row([.op(op.rawValue), expression(x, 5)])
            }
            // A prefix operator binds tighter than a product (`S/√d_attn`); only `−` after a factor
            // and any prefix before a postfix (`(√v)ᵀ`) need parentheses.
            return context > 5 || (op == .negate && context > 4) ? parenthesised(m) : m
        case .transpose(let x): return .scripts(expression(x, 6), sub: nil, sup: .op("ᵀ"))
        case .scripted(let x, let scripts): return scripted(expression(x, 6), scripts)
        case .sum(let s):
            let m = Math.row([.bigOperator("Σ", lower: s.lower.map(script), upper: s.upper.map(script)), expression(s.body, 4)])
            return context > 3 ? parenthesised(m) : m
        case .call(let c): return call(c, e)
        case .index(let x, let args):
            return .row([expression(x, 6), .op("[")] + listed(args.map { expression($0, 0) }) + [.op("]")])
        case .slice(let lo, let hi):
            return .row((lo.map { [expression($0, 1)] } ?? []) + [.op(":")] + (hi.map { [expression($0, 1)] } ?? []))
        case .list(let items, let sep):
            // `[e_1, e_2, . . . e_ℓ]`: the paper leaves out the comma after `. . .`; so does the source.
            var inside: [Math] = []
            for (i, item) in items.enumerated() {
                if i > 0 {
                    let previous = items[i - 1]
                    let written = previous.kind != .ellipsis
                        || source.utf8[min(previous.span.end, item.span.start)..<item.span.start].contains(UInt8(ascii: sep == .comma ? "," : ";"))
                    if written { inside.append(.op(sep.rawValue)) }
                }
                inside.append(expression(item, 0))
            }
            return .row([.op("[")] + inside + [.op("]")])
        case .iverson(let x): return .row([.op("⟦"), expression(x, 0), .op("⟧")])
        case .tuple(let items): return .row([.op("(")] + listed(items.map { expression($0, 0) }) + [.op(")")])
        case .set(let items): return .row([.op("{")] + listed(items.map { expression($0, 0) }) + [.op("}")])
        case .setBuilder(let v, let d, let c):
            return .row([.op("{"), name(v), .op("∈"), type(d), .op(":"), expression(c, 0), .op("}")])
        case .membership(let x, let t): return .row([expression(x, 1), .op("∈"), type(t)])
        case .randomChoice(let options, let ps):
            return .row(Array(options.map { [expression($0, 0)] }.joined(separator: [.text(" or ")])) + [.text(" randomly with probability ")]
                + Array(ps.map { [expression($0, 0)] }.joined(separator: [.text(" or ")])))
        case .missing: return .op("?")
        }
    }

    /// `f(args | params)`, or `exp A[t_z, t_x]` as written without parentheses.
    func call(_ c: Call, _ e: Expr) -> Math {
        let f = callee(c.callee)
        guard byte(at: c.callee.span.end) == UInt8(ascii: "(") else {
            return .row([f] + c.arguments.map { expression($0, 5) })
        }
        var inside = listed(c.arguments.map { expression($0, 0) })
        if c.hasBar {
            inside.append(.op("|"))
            inside += listed(c.parameters.map { p in
                guard let t = p.target, let op = p.op else { return expression(p.value, 0) }
                return .row([expression(t, 2), .op(op.rawValue), expression(p.value, 2)])
            })
        }
        return .row([f, .op("(")] + inside + [.op(")")])
    }

    /// Whether the expression's own span is one pair of parentheses written in the source around it
    /// (`(e − m)` in `(e − m)/√v`); a tuple's parentheses belong to the tuple.
    func writtenInParentheses(_ e: Expr) -> Bool {
        if case .tuple = e.kind { return false }
        guard e.span.end - e.span.start >= 2, byte(at: e.span.start) == UInt8(ascii: "("),
              byte(at: e.span.end - 1) == UInt8(ascii: ")") else { return false }
        var depth = 0
        for i in e.span.start..<e.span.end {
            switch source.utf8[i] {
            case UInt8(ascii: "("): depth += 1
            case UInt8(ascii: ")"):
                depth -= 1
                if depth == 0 { return i == e.span.end - 1 }
            default: break
            }
        }
        return false
    }

    func byte(at offset: Int) -> UInt8? {
        offset >= 0 && offset < source.utf8.count ? source.utf8[offset] : nil
    }

    // MARK: - Types

    /// A type or set after `∈`: `ℝ^{d_e×N_V}`, `V*`, `[L]`, `{0,1}^{ℓ_z×ℓ_x}`, `(0, 1)`.
    public func type(_ t: TypeExpr) -> Math {
        switch t.kind {
        case .reals: return .identifier("ℝ", .symbol)
        case .naturals: return .identifier("ℕ", .symbol)
        case .named(let n): return name(n)
        case .power(let b, _, let s): return .scripts(type(b), sub: nil, sup: expression(s.value, 0))
        case .sequences(let b): return .scripts(type(b), sub: nil, sup: .op("*"))
        case .range(let e): return .row([.op("["), expression(e, 0), .op("]")])
        case .finiteSet(let items): return .row([.op("{")] + listed(items.map { expression($0, 0) }) + [.op("}")])
        case .interval(let a, let b): return .row([.op("("), expression(a, 0), .op(","), expression(b, 0), .op(")")])
        case .applied(let n, let args):
            return .row([name(n), .op("(")] + listed(args.map(type)) + [.op(")")])
        case .congruent(let a, let b): return .row([type(a), .op("≅"), type(b)])
        case .missing: return .op("?")
        }
    }
}
