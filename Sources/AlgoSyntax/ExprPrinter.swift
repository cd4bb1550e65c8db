/// Prints expressions and types in compact canonical Unicode (`d_e×N_V`, `1:N_data`, `ℓ−1`), with
/// parentheses only where precedence needs them. Used for the raw text of braced scripts, so
/// that both spellings of a file give the same `Script.raw`.
public enum ExprPrinter {
    /// The expression as compact canonical text.
    public static func print(_ e: Expr) -> String { print(e, 0) }

    public static func precedence(_ op: BinaryOperator) -> Int {
        switch op {
        case .equal, .notEqual, .less, .lessEqual, .greater, .greaterEqual, .equivalent: 1
        case .times: 2
        case .add, .subtract: 3
        case .multiply, .hadamard, .divide, .juxtapose: 4
        }
    }

    static func print(_ e: Expr, _ context: Int) -> String {
        switch e.kind {
        case .name(let n): return n.spelling
        case .number(let s): return s
        case .text(let s): return "\"" + s + "\""
        case .ones: return "𝟏"
        case .infinity: return "∞"
        case .ellipsis: return ". . ."
        case .all: return ":"
        case .binary(let op, let l, let r):
            let p = precedence(op)
            let sep = op == .juxtapose ? " " : op.rawValue
            let s = print(l, p) + sep + print(r, p + 1)
            return p < context ? "(" + s + ")" : s
        case .unary(let op, let x):
            let s = op.rawValue + print(x, 5)
            return context > 4 ? "(" + s + ")" : s
        case .transpose(let x): return print(x, 6) + "ᵀ"
        case .scripted(let x, let scripts): return print(x, 6) + scripts.map(print).joined()
        case .sum(let s):
            let text = "Σ" + [s.lower, s.upper].compactMap { $0 }.map(print).joined() + " " + print(s.body, 4)
            return context > 3 ? "(" + text + ")" : text
        case .call(let c):
            var inner = c.arguments.map { print($0, 0) }.joined(separator: ", ")
            if c.hasBar { inner += " | " + c.parameters.map(print).joined(separator: ", ") }
            return c.callee.spelling + "(" + inner + ")"
        case .index(let x, let args): return print(x, 6) + "[" + args.map { print($0, 0) }.joined(separator: ", ") + "]"
        case .slice(let lo, let hi): return (lo.map { print($0, 1) } ?? "") + ":" + (hi.map { print($0, 1) } ?? "")
        case .list(let items, let sep):
            return "[" + items.map { print($0, 0) }.joined(separator: sep == .comma ? ", " : "; ") + "]"
        case .iverson(let x): return "[[" + print(x, 0) + "]]"
        case .tuple(let items): return "(" + items.map { print($0, 0) }.joined(separator: ", ") + ")"
        case .set(let items): return "{" + items.map { print($0, 0) }.joined(separator: ", ") + "}"
        case .setBuilder(let v, let d, let c): return "{" + v.spelling + " ∈ " + print(d) + " : " + print(c, 0) + "}"
        case .membership(let x, let t): return print(x, 1) + "∈" + print(t)
        case .randomChoice(let options, let ps):
            return options.map { print($0, 0) }.joined(separator: " or ") + " randomly with probability "
                + ps.map { print($0, 0) }.joined(separator: " or ")
        case .missing: return "?"
        }
    }

    /// A script as written canonically: `_q`, `^{1/τ}`.
    public static func print(_ s: Script) -> String {
        s.position.rawValue + (s.braced ? "{" + s.raw + "}" : s.raw)
    }

    static func print(_ p: CallParameter) -> String {
        guard let t = p.target, let op = p.op else { return print(p.value, 0) }
        return print(t, 2) + " " + op.rawValue + " " + print(p.value, 2)
    }

    /// The type as compact canonical text.
    public static func print(_ t: TypeExpr) -> String {
        switch t.kind {
        case .reals: "ℝ"
        case .naturals: "ℕ"
        case .named(let n): n.spelling
        case .power(let b, _, let s): print(b) + print(s)
        case .sequences(let b): print(b) + "*"
        case .range(let e): "[" + print(e, 0) + "]"
        case .finiteSet(let items): "{" + items.map { print($0, 0) }.joined(separator: ",") + "}"
        case .interval(let a, let b): "(" + print(a, 0) + ", " + print(b, 0) + ")"
        case .applied(let n, let args): n.spelling + "(" + args.map(print).joined(separator: ", ") + ")"
        case .congruent(let a, let b): print(a) + " ≅ " + print(b)
        case .missing: "?"
        }
    }
}
