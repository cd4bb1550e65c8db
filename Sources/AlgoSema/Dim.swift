/// A size variable of the dimension algebra: a declared dimension (`d_e`, `ℓ_x`, `N_V`), an opaque
/// size term taken as a variable (`length(x)`), or an unknown the checker introduces and solves by
/// unification (the length of `𝟏` in `b_q 𝟏ᵀ`, the shape of an undeclared `X̃`).
public enum DimVar: Hashable, Comparable, Sendable, CustomStringConvertible {
    case named(String)
    case unknown(Int)

    public var description: String {
        switch self {
        case .named(let n): n
        case .unknown(let i): "?\(i)"
        }
    }

    public var isUnknown: Bool {
        switch self {
        case .named: false
        case .unknown: true
        }
    }
}

/// A product of variables with positive exponents, kept sorted so that equal monomials are equal
/// values. The empty monomial is the constant 1.
public struct Monomial: Hashable, Comparable, Sendable {
    /// (variable, exponent ≥ 1), sorted by variable.
    public let factors: [(DimVar, Int)]

    public init(_ factors: [(DimVar, Int)]) {
        var merged: [DimVar: Int] = [:]
        for (v, e) in factors where e != 0 { merged[v, default: 0] &+= e }
        self.factors = merged.filter { $0.value != 0 }.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    public static let one = Monomial([])

    public var degree: Int { factors.reduce(0) { $0 &+ $1.1 } }

    public static func * (a: Monomial, b: Monomial) -> Monomial { Monomial(a.factors + b.factors) }

    public static func == (a: Monomial, b: Monomial) -> Bool {
        a.factors.count == b.factors.count && zip(a.factors, b.factors).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
    }

    public func hash(into h: inout Hasher) {
        for (v, e) in factors { h.combine(v); h.combine(e) }
    }

    /// Higher degree first, then by variables: the order terms are printed in (`H·d_mid + 1`).
    public static func < (a: Monomial, b: Monomial) -> Bool {
        if a.degree != b.degree { return a.degree > b.degree }
        for (x, y) in zip(a.factors, b.factors) {
            if x.0 != y.0 { return x.0 < y.0 }
            if x.1 != y.1 { return x.1 > y.1 }
        }
        return a.factors.count < b.factors.count
    }

    func contains(_ v: DimVar) -> Bool { factors.contains { $0.0 == v } }
}

/// A dimension: a polynomial with integer coefficients over size variables, in canonical form
/// (no zero terms, terms sorted), so that structural equality is mathematical equality:
/// `H·d_mid`, `ℓ − 1`, `ℓ_x + ℓ_z`, `d_e`. (ARCHITECTURE.md example 5.)
public struct Dim: Hashable, Sendable, CustomStringConvertible {
    /// (monomial, coefficient ≠ 0), sorted by monomial.
    public let terms: [(Monomial, Int)]

    public init(terms: [(Monomial, Int)]) {
        var sum: [Monomial: Int] = [:]
        for (m, c) in terms where c != 0 { sum[m, default: 0] &+= c }
        self.terms = sum.filter { $0.value != 0 }.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    public init(_ constant: Int) { self.init(terms: [(.one, constant)]) }
    public init(_ v: DimVar) { self.init(terms: [(Monomial([(v, 1)]), 1)]) }
    public static func named(_ name: String) -> Dim { Dim(.named(name)) }
    public static func unknown(_ id: Int) -> Dim { Dim(.unknown(id)) }

    public static let zero = Dim(0)
    public static let one = Dim(1)

    public static func + (a: Dim, b: Dim) -> Dim { Dim(terms: a.terms + b.terms) }
    public static prefix func - (a: Dim) -> Dim { Dim(terms: a.terms.map { ($0.0, 0 &- $0.1) }) }
    public static func - (a: Dim, b: Dim) -> Dim { a + (-b) }
    public static func * (a: Dim, b: Dim) -> Dim {
        var t: [(Monomial, Int)] = []
        for (ma, ca) in a.terms { for (mb, cb) in b.terms { t.append((ma * mb, ca &* cb)) } }
        return Dim(terms: t)
    }

    public static func == (a: Dim, b: Dim) -> Bool {
        a.terms.count == b.terms.count && zip(a.terms, b.terms).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
    }

    public func hash(into h: inout Hasher) {
        for (m, c) in terms { h.combine(m); h.combine(c) }
    }

    /// The integer value when the dimension has no variables.
    public var constant: Int? {
        if terms.isEmpty { return 0 }
        if terms.count == 1, terms[0].0 == .one { return terms[0].1 }
        return nil
    }

    /// Every variable that occurs.
    public var variables: Set<DimVar> { Set(terms.flatMap { $0.0.factors.map(\.0) }) }
    public var hasUnknowns: Bool {
        for (m, _) in terms { for (v, _) in m.factors where v.isUnknown { return true } }
        return false
    }

    /// The value under `bindings` (name → size), or nil when a variable is unbound or an
    /// intermediate overflows.
    public func evaluate(_ bindings: (DimVar) -> Int?) -> Int? {
        var total = 0
        for (m, c) in terms {
            var value = c
            for (v, e) in m.factors {
                guard let x = bindings(v) else { return nil }
                for _ in 0..<e {
                    let (p, o) = value.multipliedReportingOverflow(by: x)
                    if o { return nil }
                    value = p
                }
            }
            let (s, o) = total.addingReportingOverflow(value)
            if o { return nil }
            total = s
        }
        return total
    }

    /// Replaces variables by dimensions (`substitute { $0 == .unknown(3) ? .named("ℓ") : nil }`).
    public func substitute(_ f: (DimVar) -> Dim?) -> Dim {
        var any = false
        for (m, _) in terms where !any { for (v, _) in m.factors where f(v) != nil { any = true; break } }
        if !any { return self }
        var result = Dim.zero
        for (m, c) in terms {
            var term = Dim(c)
            for (v, e) in m.factors {
                let d = f(v) ?? Dim(v)
                for _ in 0..<e { term = term * d }
            }
            result = result + term
        }
        return result
    }

    /// In the paper's notation: `H·d_mid`, `ℓ − 1`, `2·d_e`, `d_e²`; `−` is U+2212.
    public var description: String {
        if terms.isEmpty { return "0" }
        var s = ""
        for (i, (m, c)) in terms.enumerated() {
            let magnitude = c.magnitude
            if i == 0 { if c < 0 { s += "−" } } else { s += c < 0 ? " − " : " + " }
            let body = m.factors.map { v, e in v.description + (e == 1 ? "" : Dim.superscript(e)) }.joined(separator: "·")
            if body.isEmpty { s += String(magnitude) }
            else if magnitude == 1 { s += body }
            else { s += "\(magnitude)·\(body)" }
        }
        return s
    }

    static func superscript(_ n: Int) -> String {
        let digits: [Character] = ["⁰", "¹", "²", "³", "⁴", "⁵", "⁶", "⁷", "⁸", "⁹"]
        return String(String(n).compactMap { $0.wholeNumberValue.map { digits[$0] } })
    }
}
