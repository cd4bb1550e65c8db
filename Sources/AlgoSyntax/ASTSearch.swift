/// The one walker over syntax trees: `Expr.children` lists the expressions directly inside an
/// expression, `Statement.expressions`/`substatements` what a statement holds, and every search
/// (`contains`, `first`, `mentions`) is written on them, so that an analysis (the call memo's key,
/// training detection, batching, the fast paths' matchers) sees every place an expression can stand.
extension Expr {
    /// The expressions directly inside this one, in source order: operands, a name's scripts, Σ's
    /// bounds and body, a call's arguments and its parameters (binding targets and values), indices,
    /// slice ends, list elements, the condition of a set builder and the bound of a `[n]` domain
    /// (`{t ∈ [ℓ] : …}`, `t ∈ [ℓ]`). Other type expressions (`∈ ℝ^{d×ℓ}`) are not expressions.
    public var children: [Expr] {
        func scripts(_ ss: [Script]) -> [Expr] { ss.map(\.value) }
        func bound(_ t: TypeExpr) -> [Expr] { if case .range(let e) = t.kind { [e] } else { [] } }
        switch kind {
        case .name(let n): return scripts(n.scripts)
        case .number, .text, .ones, .infinity, .ellipsis, .all, .missing: return []
        case .binary(_, let a, let b): return [a, b]
        case .unary(_, let a), .transpose(let a), .iverson(let a): return [a]
        case .membership(let a, let t): return [a] + bound(t)
        case .scripted(let a, let ss): return [a] + scripts(ss)
        case .sum(let s): return scripts([s.lower, s.upper].compactMap { $0 }) + [s.body]
        case .call(let c): return c.arguments + c.parameters.flatMap { [$0.target].compactMap { $0 } + [$0.value] }
        case .index(let a, let i): return [a] + i
        case .slice(let a, let b): return [a, b].compactMap { $0 }
        case .list(let l, _), .tuple(let l), .set(let l): return l
        case .setBuilder(_, let d, let c): return bound(d) + [c]
        case .randomChoice(let o, let q): return o + q
        }
    }

    /// The first value `transform` gives, trying this expression and then every expression inside
    /// it in source order (pre-order over `children`); nil when it gives none. With
    /// `intoNameScripts: false` the scripts of names are not entered (`W_e`'s `e` is part of the
    /// name, not a read of `e`); those of Σ, of a power and of other expressions still are.
    public func first<T>(intoNameScripts: Bool = true, _ transform: (Expr) throws -> T?) rethrows -> T? {
        if let r = try transform(self) { return r }
        if !intoNameScripts, case .name = kind { return nil }
        for c in children { if let r = try c.first(intoNameScripts: intoNameScripts, transform) { return r } }
        return nil
    }

    /// Whether this expression or one inside it (see `children`) satisfies `p`.
    public func contains(intoNameScripts: Bool = true, where p: (Expr) throws -> Bool) rethrows -> Bool {
        try first(intoNameScripts: intoNameScripts) { try p($0) ? true : nil } ?? false
    }

    /// The spellings of every name read in this expression, scripts included (`x_n[1:t]` reads
    /// `x_n`, `n` and `t`): what its value can depend on.
    public var mentionedNames: Set<String> {
        var out: Set<String> = []
        _ = first { x -> Bool? in
            if case .name(let n) = x.kind { out.insert(n.spelling) }
            return nil
        }
        return out
    }

    /// Whether the name spelled `spelling` (`t`, `x_n`, `ℓ`) is read anywhere in this expression,
    /// a script included (`x_n[1:t]` mentions `x_n`, `n`, `1` is a number, and `t`): the variables a
    /// value depends on.
    public func mentions(_ spelling: String) -> Bool {
        contains { if case .name(let n) = $0.kind { n.spelling == spelling } else { false } }
    }

    /// Whether a name with base `base` is read (`e_t`, `e_1` for `e`), not counting names inside the
    /// scripts of names (`W_e` does not read `e`).
    public func mentions(base: String) -> Bool {
        contains(intoNameScripts: false) { if case .name(let n) = $0.kind { n.base == base } else { false } }
    }
}

extension Statement {
    /// The expressions this statement holds itself: an assignment's target and value, a return's
    /// value and name, a counting loop's bounds, a condition, a sample's target, distribution and
    /// weights (not those of the statements in its body: see `substatements`).
    public var expressions: [Expr] {
        switch kind {
        case .assign(let t, _, let v): return [t, v]
        case .returnValue(let t, let v): return [t].compactMap { $0 } + [v]
        case .forLoop(let l):
            if case .counting(let bounds) = l.range { return bounds }
            if case .domain(let d) = l.range, case .range(let e) = d.kind { return [e] }
            return []
        case .forAll: return []
        case .ifThen(let i): return [i.condition]
        case .whileLoop(let w): return [w.condition]
        case .sample(let s): return [s.target] + [s.distribution].compactMap { $0 } + [s.weights]
        case .comment, .error: return []
        }
    }

    /// The statements directly in this one's body (a loop's, an `if`'s, a `∀`'s).
    public var substatements: [Statement] {
        switch kind {
        case .forLoop(let l): return l.body
        case .forAll(_, let b): return [b]
        case .ifThen(let i): return i.body
        case .whileLoop(let w): return w.body
        case .assign, .returnValue, .sample, .comment, .error: return []
        }
    }

    /// The first value `transform` gives for an expression of this statement or of one in its body
    /// (statements in order, each statement's expressions before its body's).
    public func firstExpression<T>(_ transform: (Expr) throws -> T?) rethrows -> T? {
        for e in expressions { if let r = try e.first(transform) { return r } }
        for s in substatements { if let r = try s.firstExpression(transform) { return r } }
        return nil
    }

    /// Whether this statement or one in its body satisfies `statement`, or one of their
    /// expressions (targets, values, conditions, loop bounds, a sample's weights) satisfies `expression`.
    public func contains(statement: (Statement) -> Bool = { _ in false }, expression: (Expr) -> Bool) -> Bool {
        if statement(self) { return true }
        if expressions.contains(where: { $0.contains(where: expression) }) { return true }
        return substatements.contains { $0.contains(statement: statement, expression: expression) }
    }
}
