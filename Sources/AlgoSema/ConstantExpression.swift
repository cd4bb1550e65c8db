import AlgoSyntax
import Foundation

/// The value of a constant real expression in a header (`ε = 10⁻⁵`, `β_2 = 0.999`, `c = √(2/π)`):
/// numbers, `π`, parentheses, `−`, `√`, `+`, `−`, `·`, `/`, juxtaposition and powers `10^{−5}`.
/// Nil for anything else (a name, a call): a default must not depend on other values.
public enum ConstantExpression {
    public static func value(_ e: Expr) -> Double? {
        switch e.kind {
        case .number(let s): return Double(s)
        case .name(let n): return Constant(rawValue: n.spelling)?.value
        case .tuple(let items) where items.count == 1: return value(items[0])
        case .unary(.negate, let x): return value(x).map { -$0 }
        case .unary(.sqrt, let x): return value(x).map { $0.squareRoot() }
        case .binary(let op, let a, let b):
            guard let x = value(a), let y = value(b) else { return nil }
            switch op {
            case .add: return x + y
            case .subtract: return x - y
            case .multiply, .juxtapose, .times: return x * y
            case .divide: return x / y
            case .hadamard, .equal, .notEqual, .less, .lessEqual, .greater, .greaterEqual, .equivalent: return nil
            }
        case .scripted(let base, let scripts):
            guard scripts.count == 1, scripts[0].position == .sup, let x = value(base), let k = value(scripts[0].value) else { return nil }
            return Foundation.pow(x, k)
        default: return nil
        }
    }

    /// Whether `e` is a whole-number literal (`3`): in a header that is a dimension, not a real.
    public static func isWholeNumber(_ e: Expr) -> Bool {
        if case .number(let s) = e.kind { return !s.contains(".") }
        return false
    }
}
