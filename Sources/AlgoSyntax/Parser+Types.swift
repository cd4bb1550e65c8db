import AlgoDiagnostics

// Types and sets after `∈`: `ℝ^{d_e×N_V}`, `V*`, `V ≅ [N_V]`, `(0, ∞)`, `{0,1}^{ℓ_z×ℓ_x}`, `Δ(V)`, `[ℓ_max]`, `ℕ`.
extension Parser {
    /// type = simple_type [ "≅" simple_type ] ;
    mutating func parseType() -> TypeExpr {
        guard enterNesting() else { return TypeExpr(.missing, errorSpan(tok)) }
        defer { nesting -= 1 }
        let start = index
        let lhs = parseSimpleType()
        guard tok.is(.congruent) else { return lhs }
        advance()
        let rhs = parseSimpleType()
        return TypeExpr(.congruent(lhs, rhs), spanFrom(start))
    }

    /// simple_type = type_atom { "*" | script } ;
    mutating func parseSimpleType() -> TypeExpr {
        let start = index
        var t = parseTypeAtom()
        var progress = LoopProgress()
        while progress.advanced(index) {
            if tok.is(.star) {
                advance()
                t = TypeExpr(.sequences(t), spanFrom(start))
            } else if isScriptStart(tok) && !tok.hasLeadingSpace && t.kind != .missing {
                let s = parseScript()
                t = TypeExpr(.power(t, dims: Parser.dimensions(s.value), script: s), spanFrom(start))
            } else {
                break
            }
        }
        return t
    }

    /// The factors of `×` in a shape: `d_e×N_V` → [d_e, N_V].
    static func dimensions(_ e: Expr) -> [Expr] {
        if case .binary(.times, let l, let r) = e.kind { return dimensions(l) + dimensions(r) }
        return [e]
    }

    /// type_atom = "ℝ" | "ℕ" | "[" expression "]" | "{" expression { "," expression } "}" | "(" expression "," expression ")" | name [ "(" type { "," type } ")" ] ;
    mutating func parseTypeAtom() -> TypeExpr {
        let start = index
        let t = tok
        switch t.kind {
        case .symbol(let symbol):
            switch symbol {
            case .reals:
                advance()
                return TypeExpr(.reals, t.span(source.path))
            case .naturals:
                advance()
                return TypeExpr(.naturals, t.span(source.path))
            case .leftBracket:
                advance()
                let e = parseExpression()
                expectClosing(.rightBracket, opener: t, what: "range")
                return TypeExpr(.range(e), spanFrom(start))
            case .leftBrace:
                advance()
                var items: [Expr] = []
                var progress = LoopProgress()
                while !tok.is(.rightBrace), !atLineEnd, progress.advanced(index) {
                    items.append(parseExpression())
                    if tok.is(.comma) { advance() } else { break }
                }
                expectClosing(.rightBrace, opener: t, what: "set")
                return TypeExpr(.finiteSet(items), spanFrom(start))
            case .leftParen:
                advance()
                let lo = parseExpression()
                var hi = Expr(.missing, errorSpan(tok))
                if tok.is(.comma) {
                    advance()
                    hi = parseExpression()
                } else {
                    report(.expectedToken, "expected `,` between the ends of the interval, found \(describe(tok))", at: tok,
                           label: "an open interval is written `(a, b)`")
                }
                expectClosing(.rightParen, opener: t, what: "interval")
                return TypeExpr(.interval(lo, hi), spanFrom(start))
            case .leftArrow, .elementOf, .times, .hadamard, .sqrt, .sum, .forAll, .not, .lessEqual, .greaterEqual,
                 .notEqual, .infinity, .nabla, .proportional, .equivalent, .cdot, .congruent, .ones, .transpose,
                 .minus, .emDash, .ellipsis, .upArrow, .plus, .slash, .star, .equals, .less, .greater, .rightParen,
                 .rightBracket, .rightBrace, .comma, .semicolon, .colon, .bar, .period, .underscore, .caret:
                break
            }
        case .identifier:
            guard !Parser.reservedWords.contains(t.value) else { break }
            let name = parseName()
            if tok.is(.leftParen) && !tok.hasLeadingSpace {
                let open = tok
                advance()
                var args: [TypeExpr] = []
                var progress = LoopProgress()
                while !tok.is(.rightParen), !atLineEnd, progress.advanced(index) {
                    args.append(parseType())
                    if tok.is(.comma) { advance() } else { break }
                }
                expectClosing(.rightParen, opener: open, what: "type argument list")
                return TypeExpr(.applied(name, args), spanFrom(start))
            }
            return TypeExpr(.named(name), spanFrom(start))
        case .unknown:
            reportUnexpected(t, "")
            advance()
            return TypeExpr(.missing, errorSpan(t))
        case .number, .lineNumber, .scriptWord, .superscriptDigits, .subscriptDigits, .blockComment, .newline, .endOfFile, .string:
            break
        }
        report(.expectedType, "expected a type or set after `∈`, found \(describe(t))", at: t,
               label: "like `ℝ^{d×ℓ}`, `V*`, `[N]`, `ℕ` or `(0, 1)`")
        return TypeExpr(.missing, errorSpan(t))
    }
}
