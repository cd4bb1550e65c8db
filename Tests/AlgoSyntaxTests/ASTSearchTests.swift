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
}
