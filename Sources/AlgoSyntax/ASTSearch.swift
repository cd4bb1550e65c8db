/// Searching a syntax tree: whether an expression or a body holds something (a `∇`, a random
/// choice, a `sample` statement). Type expressions (`∈ ℝ^{d×ℓ}`, `[ℓ]`) are not searched.
extension Expr {
    /// Whether this expression or one inside it (operands, scripts, Σ bounds and body, call
    /// arguments and parameter bindings, indices, list elements) satisfies `p`.
    public func contains(where p: (Expr) -> Bool) -> Bool {
        if p(self) { return true }
        func any(_ es: [Expr]) -> Bool { es.contains { $0.contains(where: p) } }
        func scripts(_ ss: [Script]) -> Bool { ss.contains { $0.value.contains(where: p) } }
        switch kind {
        case .name(let n): return scripts(n.scripts)
        case .number, .text, .ones, .infinity, .ellipsis, .all, .missing: return false
        case .binary(_, let a, let b): return any([a, b])
        case .unary(_, let a), .transpose(let a), .iverson(let a), .membership(let a, _): return a.contains(where: p)
        case .scripted(let a, let ss): return a.contains(where: p) || scripts(ss)
        case .sum(let s): return s.body.contains(where: p) || scripts([s.lower, s.upper].compactMap { $0 })
        case .call(let c): return any(c.arguments) || c.parameters.contains { any([$0.value] + [$0.target].compactMap { $0 }) }
        case .index(let a, let i): return a.contains(where: p) || any(i)
        case .slice(let a, let b): return any([a, b].compactMap { $0 })
        case .list(let l, _), .tuple(let l), .set(let l): return any(l)
        case .setBuilder(_, _, let c): return c.contains(where: p)
        case .randomChoice(let o, let q): return any(o + q)
        }
    }
}

extension Statement {
    /// Whether this statement or one in its body satisfies `statement`, or one of their
    /// expressions (targets, values, conditions, loop bounds, a sample's weights) satisfies `expression`.
    public func contains(statement: (Statement) -> Bool = { _ in false }, expression: (Expr) -> Bool) -> Bool {
        if statement(self) { return true }
        func any(_ es: [Expr]) -> Bool { es.contains { $0.contains(where: expression) } }
        func body(_ b: [Statement]) -> Bool { b.contains { $0.contains(statement: statement, expression: expression) } }
        switch kind {
        case .assign(let t, _, let v): return any([t, v])
        case .returnValue(let t, let v): return any([v] + [t].compactMap { $0 })
        case .forLoop(let l):
            if case .counting(let bounds) = l.range, any(bounds) { return true }
            return body(l.body)
        case .forAll(_, let b): return body([b])
        case .ifThen(let i): return any([i.condition]) || body(i.body)
        case .whileLoop(let w): return any([w.condition]) || body(w.body)
        case .sample(let s): return any([s.target, s.weights] + [s.distribution].compactMap { $0 })
        case .comment, .error: return false
        }
    }
}
