import AlgoDiagnostics

// Expressions, by precedence from loosest to tightest:
// comparison (= ≠ < ≤ > ≥ ≡) < dimensions (×) < additive (+ −) < multiplicative (· ⊙ / juxtaposition)
// < prefix (− √ ¬ ∇, Σ, exp x) < postfix (index, call, ᵀ, scripts) < primary.
extension Parser {
    /// Functions that may be applied without parentheses: `exp A[t_z, t_x]`, `log P(θ)[i, t]`.
    static let knownFunctions: Set<String> = Set(Builtin.allCases.filter(\.appliesWithoutParentheses).map(\.rawValue))

    /// expression = comparison ;
    mutating func parseExpression() -> Expr {
        guard enterNesting() else { return Expr(.missing, errorSpan(tok)) }
        defer { nesting -= 1 }
        return parseComparison()
    }

    /// The comparison operators by their symbol.
    static let comparisonOperators: [Symbol: BinaryOperator] = [
        .equals: .equal, .notEqual: .notEqual, .less: .less, .lessEqual: .lessEqual, .greater: .greater,
        .greaterEqual: .greaterEqual, .equivalent: .equivalent,
    ]

    /// The prefix operators by their symbol.
    static let prefixOperators: [Symbol: UnaryOperator] = [.minus: .negate, .sqrt: .sqrt, .not: .not, .nabla: .gradient]

    /// comparison = dimensions [ ( "=" | "≠" | "<" | "≤" | ">" | "≥" | "≡" ) dimensions ] ;
    mutating func parseComparison() -> Expr {
        let start = index
        let lhs = parseDimensions()
        guard case .symbol(let symbol) = tok.kind, let op = Parser.comparisonOperators[symbol] else { return lhs }
        advance()
        let rhs = parseDimensions()
        return Expr(.binary(op, lhs, rhs), spanFrom(start))
    }

    /// dimensions = additive { "×" additive } ;
    mutating func parseDimensions() -> Expr {
        let start = index
        var lhs = parseAdditive()
        var progress = LoopProgress()
        while tok.is(.times), progress.advanced(index) {
            advance()
            let rhs = parseAdditive()
            lhs = Expr(.binary(.times, lhs, rhs), spanFrom(start))
        }
        return lhs
    }

    /// additive = multiplicative { ( "+" | "−" ) multiplicative } ;
    mutating func parseAdditive() -> Expr {
        let start = index
        var lhs = parseMultiplicative()
        var progress = LoopProgress()
        while tok.is(.plus) || tok.is(.minus), progress.advanced(index) {
            let op: BinaryOperator = tok.is(.plus) ? .add : .subtract
            advance()
            let rhs = parseMultiplicative()
            lhs = Expr(.binary(op, lhs, rhs), spanFrom(start))
        }
        return lhs
    }

    /// multiplicative = prefix { ( "·" | "⊙" | "/" ) prefix | prefix } ;
    mutating func parseMultiplicative() -> Expr {
        let start = index
        var lhs = parsePrefix()
        if lhs.kind == .ellipsis { return lhs }
        var progress = LoopProgress()
        while progress.advanced(index) {
            let op: BinaryOperator
            if tok.is(.cdot) { op = .multiply; advance() }
            else if tok.is(.hadamard) { op = .hadamard; advance() }
            else if tok.is(.slash) { op = .divide; advance() }
            else if startsJuxtaposedFactor(tok) { op = .juxtapose }
            else { break }
            let rhs = parsePrefix()
            lhs = Expr(.binary(op, lhs, rhs), spanFrom(start))
        }
        return lhs
    }

    /// Whether a token can start an expression.
    func startsExpression(_ t: Token) -> Bool {
        switch t.kind {
        case .identifier: return !Parser.reservedWords.contains(t.value)
        case .number, .string: return true
        case .symbol(let s):
            switch s {
            case .ones, .infinity, .ellipsis, .leftParen, .leftBracket, .leftBrace, .sqrt, .not, .nabla, .sum, .minus:
                return true
            case .leftArrow, .elementOf, .reals, .naturals, .times, .hadamard, .forAll, .lessEqual, .greaterEqual,
                 .notEqual, .proportional, .equivalent, .cdot, .congruent, .transpose, .emDash, .upArrow, .plus,
                 .slash, .star, .equals, .less, .greater, .rightParen, .rightBracket, .rightBrace, .comma,
                 .semicolon, .colon, .bar, .period, .underscore, .caret:
                return false
            }
        case .lineNumber, .scriptWord, .superscriptDigits, .subscriptDigits, .blockComment, .newline, .endOfFile, .unknown:
            return false
        }
    }

    /// Juxtaposition continues a product with any expression start except `−`, `. . .`, and `[[`
    /// (which opens a trailing claim).
    func startsJuxtaposedFactor(_ t: Token) -> Bool {
        if t.is(.minus) || t.is(.ellipsis) { return false }
        if t.is(.leftBracket), peek(1).is(.leftBracket), !peek(1).hasLeadingSpace, t.hasLeadingSpace { return false }
        return startsExpression(t)
    }

    /// prefix = ( "−" | "√" | "¬" | "∇" ) prefix | sum | application | postfix ;
    mutating func parsePrefix() -> Expr {
        guard enterNesting() else { return Expr(.missing, errorSpan(tok)) }
        defer { nesting -= 1 }
        let start = index
        if tok.is(.sum) { return parseSum() }
        guard case .symbol(let symbol) = tok.kind, let op = Parser.prefixOperators[symbol] else {
            if tok.kind == .identifier, Parser.knownFunctions.contains(tok.value),
               !(peek(1).is(.leftParen) && !peek(1).hasLeadingSpace),
               !isScriptStart(peek(1)) || peek(1).hasLeadingSpace,
               startsExpression(peek(1)), !peek(1).is(.minus) {
                return parseApplication()
            }
            return parsePostfix()
        }
        advance()
        let operand = parsePrefix()
        return Expr(.unary(op, operand), spanFrom(start))
    }

    /// application = IDENTIFIER prefix ;
    mutating func parseApplication() -> Expr {
        let start = index
        let callee = parseName()
        let operand = parsePrefix()
        return Expr(.call(Call(callee: callee, arguments: [operand], hasBar: false, parameters: [])), spanFrom(start))
    }

    /// sum = "Σ" { script } multiplicative ;
    mutating func parseSum() -> Expr {
        let start = index
        advance()
        var lower: Script? = nil
        var upper: Script? = nil
        var progress = LoopProgress()
        while isScriptStart(tok), !tok.hasLeadingSpace, progress.advanced(index) {
            let s = parseScript()
            switch s.position {
            case .sub: lower = s
            case .sup: upper = s
            }
        }
        let body = parseMultiplicative()
        return Expr(.sum(Sum(lower: lower, upper: upper, body: body)), spanFrom(start))
    }

    /// postfix = primary { index | call_arguments | "ᵀ" | script } ;
    mutating func parsePostfix() -> Expr {
        let start = index
        var e = parsePrimary()
        var progress = LoopProgress()
        while progress.advanced(index) {
            if tok.is(.leftBracket) && !tok.hasLeadingSpace && e.kind != .missing {
                let args = parseIndex()
                e = Expr(.index(e, args), spanFrom(start))
            } else if tok.is(.leftParen) && !tok.hasLeadingSpace, case .name(let n) = e.kind {
                let (args, hasBar, params) = parseCallArguments()
                e = Expr(.call(Call(callee: n, arguments: args, hasBar: hasBar, parameters: params)), spanFrom(start))
            } else if tok.is(.transpose) && !tok.hasLeadingSpace {
                advance()
                e = Expr(.transpose(e), spanFrom(start))
            } else if isScriptStart(tok) {
                if tok.hasLeadingSpace {
                    report(.detachedScript, "\(describe(tok)) is separated from what it decorates", at: tok,
                           label: "remove the space before the script")
                }
                var scripts: [Script] = []
                var inner = LoopProgress()
                while isScriptStart(tok), inner.advanced(index) { scripts.append(parseScript()) }
                if case .name(var n) = e.kind, !tok.hasLeadingSpace {
                    n.scripts += scripts
                    e = Expr(.name(n), spanFrom(start))
                } else {
                    e = Expr(.scripted(e, scripts), spanFrom(start))
                }
            } else {
                break
            }
        }
        return e
    }

    /// primary = name | NUMBER | STRING | "𝟏" | "∞" | ". . ." | parenthesized | iverson | bracket_list | set_expression ;
    mutating func parsePrimary() -> Expr {
        let t = tok
        switch t.kind {
        case .identifier:
            if !Parser.reservedWords.contains(t.value) {
                let n = parseName()
                return Expr(.name(n), n.span)
            }
        case .number:
            advance()
            return Expr(.number(t.value), t.span(source.path))
        case .string:
            advance()
            return Expr(.text(t.value), t.span(source.path))
        case .symbol(let symbol):
            switch symbol {
            case .ones:
                advance()
                return Expr(.ones, t.span(source.path))
            case .infinity:
                advance()
                return Expr(.infinity, t.span(source.path))
            case .ellipsis:
                advance()
                return Expr(.ellipsis, t.span(source.path))
            case .leftParen:
                return parseParenthesized()
            case .leftBracket:
                if peek(1).is(.leftBracket) && !peek(1).hasLeadingSpace { return parseIverson() }
                return parseBracketList()
            case .leftBrace:
                return parseSetExpression()
            case .leftArrow, .elementOf, .reals, .naturals, .times, .hadamard, .sqrt, .sum, .forAll, .not,
                 .lessEqual, .greaterEqual, .notEqual, .nabla, .proportional, .equivalent, .cdot, .congruent,
                 .transpose, .minus, .emDash, .upArrow, .plus, .slash, .star, .equals, .less, .greater, .rightParen,
                 .rightBracket, .rightBrace, .comma, .semicolon, .colon, .bar, .period, .underscore, .caret:
                break
            }
        case .unknown:
            reportUnexpected(t, "")
            advance()
            return Expr(.missing, errorSpan(t))
        case .lineNumber, .scriptWord, .superscriptDigits, .subscriptDigits, .blockComment, .newline, .endOfFile:
            break
        }
        report(.expectedExpression, "expected an expression, found \(describe(t))", at: t)
        return Expr(.missing, errorSpan(t))
    }

    /// name = IDENTIFIER { script } ;
    mutating func parseName() -> Name {
        let start = index
        let base = tok.value
        advance()
        var scripts: [Script] = []
        var progress = LoopProgress()
        while isScriptStart(tok), !tok.hasLeadingSpace, progress.advanced(index) {
            scripts.append(parseScript())
        }
        return Name(base: base, scripts: scripts, span: spanFrom(start))
    }

    func isScriptStart(_ t: Token) -> Bool {
        t.is(.underscore) || t.is(.caret) || t.kind == .superscriptDigits || t.kind == .subscriptDigits
    }

    /// script = ( "_" | "^" ) ( SCRIPT_WORD | "{" script_content "}" ) | SUPERSCRIPT_DIGITS | SUBSCRIPT_DIGITS ;
    mutating func parseScript() -> Script {
        let start = index
        let t = tok
        if t.kind == .superscriptDigits || t.kind == .subscriptDigits {
            advance()
            let span = t.span(source.path)
            if t.value.hasPrefix("-") {   // `⁻⁵`: the superscript −5
                let magnitude = String(t.value.dropFirst())
                return Script(position: .sup, braced: true, raw: "−" + magnitude,
                              value: Expr(.unary(.negate, Expr(.number(magnitude), span)), span), span: span)
            }
            return Script(position: t.kind == .superscriptDigits ? .sup : .sub, braced: false, raw: t.value,
                          value: Expr(.number(t.value), span), span: span)
        }
        let position: ScriptPosition = t.is(.underscore) ? .sub : .sup
        advance()
        if tok.kind == .scriptWord {
            let w = tok
            advance()
            let span = w.span(source.path)
            let isNumber = w.value.allSatisfy(\.isASCIIDigit)
            let value = isNumber ? Expr(.number(w.value), span) : Expr(.name(Name(base: w.value, scripts: [], span: span)), span)
            return Script(position: position, braced: false, raw: w.value, value: value, span: spanFrom(start))
        }
        if tok.is(.leftBrace) && !tok.hasLeadingSpace {
            let open = tok
            advance()
            let value = parseScriptContent()
            expectClosing(.rightBrace, opener: open, what: "script")
            return Script(position: position, braced: true, raw: ExprPrinter.print(value), value: value, span: spanFrom(start))
        }
        report(.detachedScript, "expected a script right after \(describe(t)), found \(describe(tok))", at: tok,
               label: "write `\(t.text)x` or `\(t.text){…}` with no space")
        return Script(position: position, braced: false, raw: "", value: Expr(.missing, errorSpan(tok)), span: spanFrom(start))
    }

    /// script_content = ":" [ expression ] | expression [ ":" [ expression ] | "∈" type ] ;
    mutating func parseScriptContent() -> Expr {
        let start = index
        if tok.is(.colon) {
            advance()
            let hi: Expr? = tok.is(.rightBrace) ? nil : parseExpression()
            return Expr(.slice(nil, hi), spanFrom(start))
        }
        let e = parseExpression()
        if tok.is(.colon) {
            advance()
            let hi: Expr? = tok.is(.rightBrace) ? nil : parseExpression()
            return Expr(.slice(e, hi), spanFrom(start))
        }
        if tok.is(.elementOf) {
            advance()
            let type = parseType()
            return Expr(.membership(e, type), spanFrom(start))
        }
        return e
    }

    /// index = "[" index_argument { "," index_argument } "]" ;
    mutating func parseIndex() -> [Expr] {
        let open = tok
        advance()
        var args: [Expr] = []
        var progress = LoopProgress()
        while !tok.is(.rightBracket), !atLineEnd, progress.advanced(index) {
            args.append(parseIndexArgument())
            if tok.is(.comma) { advance() } else { break }
        }
        expectClosing(.rightBracket, opener: open, what: "index")
        return args
    }

    /// index_argument = ":" [ expression ] | expression [ ":" [ expression ] ] ;
    mutating func parseIndexArgument() -> Expr {
        let start = index
        if tok.is(.colon) {
            let colon = tok
            advance()
            if tok.is(.comma) || tok.is(.rightBracket) { return Expr(.all, colon.span(source.path)) }
            let hi = parseExpression()
            return Expr(.slice(nil, hi), spanFrom(start))
        }
        let e = parseExpression()
        guard tok.is(.colon) else { return e }
        advance()
        if tok.is(.comma) || tok.is(.rightBracket) { return Expr(.slice(e, nil), spanFrom(start)) }
        let hi = parseExpression()
        return Expr(.slice(e, hi), spanFrom(start))
    }

    /// call_arguments = "(" [ expression { "," expression } ] [ "|" [ call_parameter { "," call_parameter } ] ] ")" ;
    mutating func parseCallArguments() -> ([Expr], Bool, [CallParameter]) {
        let open = tok
        advance()
        var args: [Expr] = []
        var params: [CallParameter] = []
        var hasBar = false
        var progress = LoopProgress()
        while !tok.is(.rightParen), !atLineEnd, progress.advanced(index) {
            if tok.is(.bar) && !hasBar {
                hasBar = true
                advance()
                continue
            }
            if hasBar { params.append(parseCallParameter()) } else { args.append(parseExpression()) }
            if tok.is(.comma) { advance() } else if !tok.is(.bar) { break }
        }
        expectClosing(.rightParen, opener: open, what: "call")
        return (args, hasBar, params)
    }

    /// call_parameter = expression ;
    mutating func parseCallParameter() -> CallParameter {
        let start = index
        let e = parseExpression()
        if case .binary(let op, let lhs, let rhs) = e.kind, op == .equivalent || op == .equal {
            return CallParameter(target: lhs, op: op, value: rhs, span: spanFrom(start))
        }
        return CallParameter(target: nil, op: nil, value: e, span: spanFrom(start))
    }

    /// parenthesized = "(" expression { "," expression } ")" ;
    mutating func parseParenthesized() -> Expr {
        let start = index
        let open = tok
        advance()
        var items: [Expr] = [parseExpression()]
        var progress = LoopProgress()
        while tok.is(.comma), progress.advanced(index) {
            advance()
            items.append(parseExpression())
        }
        expectClosing(.rightParen, opener: open, what: "parenthesis")
        if items.count == 1 {
            var e = items[0]
            e.span = spanFrom(start)
            return e
        }
        return Expr(.tuple(items), spanFrom(start))
    }

    /// bracket_list = "[" [ expression { ( "," | ";" ) expression | expression } ] "]" ;
    mutating func parseBracketList() -> Expr {
        let start = index
        let open = tok
        advance()
        var items: [Expr] = []
        var separator: ListSeparator? = nil
        var progress = LoopProgress()
        while !tok.is(.rightBracket), !atLineEnd, progress.advanced(index) {
            let e = parseExpression()
            items.append(e)
            if tok.is(.comma) || tok.is(.semicolon) {
                if separator == nil { separator = tok.is(.comma) ? .comma : .semicolon }
                advance()
                continue
            }
            if e.kind == .ellipsis, startsExpression(tok) { continue }
            break
        }
        expectClosing(.rightBracket, opener: open, what: "list")
        return Expr(.list(items, separator ?? .comma), spanFrom(start))
    }

    /// iverson = "[" "[" expression "]" "]" ;
    mutating func parseIverson() -> Expr {
        let start = index
        let open = tok
        advance()
        advance()
        let e = parseExpression()
        if tok.is(.rightBracket) && peek(1).is(.rightBracket) && !peek(1).hasLeadingSpace {
            advance()
            advance()
        } else {
            report(.unclosedDelimiter, "expected `]]` to close the Iverson bracket, found \(describe(tok))", at: tok,
                   labels: [.init(open.span(source.path), "Iverson bracket opened here")])
        }
        return Expr(.iverson(e), spanFrom(start))
    }

    /// set_expression = "{" ( name "∈" type ":" expression | [ expression { "," expression } ] ) "}" ;
    mutating func parseSetExpression() -> Expr {
        let start = index
        let open = tok
        advance()
        let (isBuilder, _) = speculate { p -> Bool in
            guard p.tok.kind == .identifier else { return false }
            _ = p.parseName()
            return p.tok.is(.elementOf)
        }
        if isBuilder {
            let variable = parseName()
            advance()  // ∈
            let domain = parseType()
            var condition = Expr(.missing, errorSpan(tok))
            if tok.is(.colon) {
                advance()
                condition = parseExpression()
            } else {
                report(.expectedToken, "expected `:` and a condition in the set builder, found \(describe(tok))", at: tok)
            }
            expectClosing(.rightBrace, opener: open, what: "set")
            return Expr(.setBuilder(variable: variable, domain: domain, condition: condition), spanFrom(start))
        }
        var items: [Expr] = []
        var progress = LoopProgress()
        while !tok.is(.rightBrace), !atLineEnd, progress.advanced(index) {
            items.append(parseExpression())
            if tok.is(.comma) { advance() } else { break }
        }
        expectClosing(.rightBrace, opener: open, what: "set")
        return Expr(.set(items), spanFrom(start))
    }

    /// Consumes the closing delimiter or reports it missing, pointing at the opener.
    mutating func expectClosing(_ closer: Symbol, opener: Token, what: String) {
        if tok.is(closer) {
            advance()
            return
        }
        if tok.kind == .unknown {
            reportUnexpected(tok, "")
            return
        }
        report(.unclosedDelimiter, "expected `\(closer.unicode)` to close the \(what), found \(describe(tok))", at: tok,
               labels: [.init(opener.span(source.path), "\(what) opened here")])
    }
}
