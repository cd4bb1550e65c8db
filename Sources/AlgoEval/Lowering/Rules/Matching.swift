import AlgoSema
import AlgoSyntax

/// Small predicates the rules' matchers share.
enum Matching {
    static func isProduct(_ op: BinaryOperator) -> Bool { op == .juxtapose || op == .multiply || op == .times }
    static func isName(_ e: Expr) -> Bool { if case .name = e.kind { return true } else { return false } }
    /// Whether `e` is a number literal.
    static func isNumber(_ e: Expr) -> Bool { if case .number = e.kind { return true } else { return false } }
    /// The spelling of a name expression, through parentheses.
    static func name(_ x: Expr) -> String? {
        if case .name(let n) = unparenthesised(x).kind { return n.spelling }
        return nil
    }
    /// `(x)` → x.
    static func unparenthesised(_ x: Expr) -> Expr {
        if case .tuple(let items) = x.kind, items.count == 1 { return unparenthesised(items[0]) }
        return x
    }
    /// The variable of `Σ_{t=a}^{b}` and `Σ_t` (and, `overSets`, of `Σ_{t∈T̃}`), or nil.
    static func summationVariable(_ s: Sum, overSets: Bool) -> String? {
        guard let lower = s.lower else { return nil }
        switch lower.value.kind {
        case .binary(.equal, let v, _): return name(v)
        case .membership(let v, _): return overSets ? name(v) : nil
        case .name(let n): return n.spelling
        default: return nil
        }
    }
    /// Whether the checker typed `e` as a scalar.
    static func isScalar(_ e: Expr, _ a: CheckedAlgorithm) -> Bool { a.types[e.span]?.isScalar ?? false }
    /// Whether the name expression `e` is a value held under its own spelling (a local, an input).
    static func isValue(_ e: Expr, _ a: CheckedAlgorithm) -> Bool {
        if case .name(let n) = e.kind, a.bindings[e.span] == .value(n.spelling) { return true }
        return false
    }
}
