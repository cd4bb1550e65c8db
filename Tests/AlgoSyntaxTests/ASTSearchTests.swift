import AlgoSyntax
import Testing

/// `Expr.contains(where:)` and `Statement.contains(statement:expression:)` reach every place an
/// expression can stand: a Σ body inside a call argument, a call's parameter binding, a loop bound,
/// a condition, a `sample` statement.
struct ASTSearchTests {
    func body(_ lines: String) throws -> [Statement] {
        let (file, diagnostics) = Support.parse("Algorithm 1: y ← F(x)\n" + lines + "\n")
        #expect(diagnostics.isEmpty, "\(diagnostics.map(\.message))")
        return try #require(file.algorithms.first).body
    }

    static func gradient(_ e: Expr) -> Bool { if case .unary(.gradient, _) = e.kind { true } else { false } }
    static func random(_ e: Expr) -> Bool { if case .randomChoice = e.kind { true } else { false } }
    static func sample(_ s: Statement) -> Bool { if case .sample = s.kind { true } else { false } }

    @Test("finds a ∇ nested in a Σ in a call argument, and in a call's parameter binding")
    func nested() throws {
        let inCall = try body("1 y ← F(Σ_{t=1}^{ℓ} ∇loss(θ)[t] | W)")
        #expect(inCall.contains { $0.contains(expression: Self.gradient) })
        let inParameter = try body("1 y ← F(x | W = ∇loss(θ))")
        #expect(inParameter.contains { $0.contains(expression: Self.gradient) })
        #expect(!(try body("1 y ← F(Σ_{t=1}^{ℓ} x[t] | W)")).contains { $0.contains(expression: Self.gradient) })
    }

    @Test("searches loop bodies and bounds, conditions, random choices and sample statements")
    func statements() throws {
        let loop = try body("1 for i = 1, 2, . . . , N do\n2     if i > 1 then y ← a or b randomly with probability p or q\n3 end")
        #expect(loop.contains { $0.contains(expression: Self.random) })
        #expect(!loop.contains { $0.contains(statement: Self.sample, expression: Self.gradient) })
        let sampled = try body("1 sample a token y from q ∝ p^{1/τ}")
        #expect(sampled.contains { $0.contains(statement: Self.sample, expression: { _ in false }) })
    }

    func value(_ line: String) throws -> Expr {
        let b = try body(line)
        guard case .assign(_, _, let v) = try #require(b.first).kind else { Issue.record("not an assignment"); return Expr(.missing, b[0].span) }
        return v
    }

    @Test("mentions sees a variable inside a slice, a script, a Σ bound and a call's binding; mentions(base:) skips names' own scripts")
    func mentions() throws {
        let call = try value("1 y ← log F(x_n[1:t] | θ)[x_n[t+1], t]")
        #expect(call.mentions("t") && call.mentions("n") && call.mentions("x_n") && !call.mentions("ℓ"))
        let prefix = try value("1 y ← F(x[1:t])")
        #expect(prefix.mentions("t"), "the slice's end is read")
        #expect(prefix.mentionedNames == ["x", "t"])
        #expect(try value("1 y ← Σ_{i=1}^{ℓ} a[i]").mentions("ℓ"))
        #expect(try value("1 y ← F(x | Mask[t, t′] = [[t ≤ k]])").mentions("k"))
        let embedding = try value("1 y ← W_e[:, x[t]] + e_1")
        #expect(embedding.mentions(base: "e") && embedding.mentions(base: "W"))
        #expect(!(try value("1 y ← W_e[:, x[t]]")).mentions(base: "e"), "`W_e` is one name, not a read of e")
    }

    @Test("children lists every operand: a call's arguments, binding targets and values; an index's base and indices")
    func children() throws {
        let c = try value("1 y ← F(a, b | W, Mask = m)")
        guard case .call = c.kind else { Issue.record("not a call"); return }
        #expect(c.children.map { ExprPrinter.print($0) } == ["a", "b", "W", "Mask", "m"])
        let index = try value("1 y ← A[i, 1:t]").children
        #expect(index.count == 3 && index.prefix(2).map { ExprPrinter.print($0) } == ["A", "i"])
        guard case .slice(let a?, let b?) = index.last?.kind else { Issue.record("the slice is not the third child"); return }
        #expect(ExprPrinter.print(a) == "1" && ExprPrinter.print(b) == "t")
    }
}
