import AlgoDiagnostics

/// Where a block of body lines ends.
enum BlockEnd: Equatable {
    /// The algorithm's body: at the next title or the end of the file.
    case top
    /// A `do`/`then` block: at its `end` line.
    case doEnd
    /// `For h ∈ [H]:` block: at the first line indented no deeper than `column`.
    case indented(column: Int)
}

// Body lines and statements.
extension Parser {
    /// Words that end an expression; they are never names in code.
    static let reservedWords: Set<String> = [
        "do", "then", "or", "from", "end", "if", "for", "For", "while", "return", "sample", "randomly",
        "with", "probability",
    ]

    /// block = { body_line } ;
    mutating func parseBlock(_ end: BlockEnd) -> [Statement] {
        var statements: [Statement] = []
        var misplacedHeaderRun = false
        var progress = LoopProgress()
        while progress.advanced(index) {
            skipBlankLines()
            if atEnd || atTitle { break }
            let first = tok.kind == .lineNumber ? peek(1) : tok
            if first.isWord("end") {
                if end != .top { break }
                report(.unexpectedEnd, "`end` without an open block", at: first, label: "no `do` or `then` block is open here")
                skipLine()
                continue
            }
            if case .indented(let column) = end, first.column <= column { break }
            if end == .top && atHeaderKeyword {
                // One error for a run of misplaced header lines, and none while the body so far is only
                // broken lines: a header line whose label broke started the body early, and the header
                // lines after it are where they belong.
                if !misplacedHeaderRun, statements.contains(where: \.isParsedCode) {
                    report(.headerAfterBody, "header line after the body has started", at: tok,
                           label: "`\(tok.value):` lines go between the title and the first body line")
                }
                misplacedHeaderRun = true
                _ = parseHeaderLine()
                continue
            }
            misplacedHeaderRun = false
            if tok.kind != .lineNumber, tok.is(.bar) || (tok.column > 1 && atTypedDeclaration()) {
                if statements.contains(where: \.isErrorLine) && !statements.contains(where: \.isParsedCode) {
                    // The header broke (its label or a member's name lost) and the body started early:
                    // its remaining member lines are read as members, the break already reported.
                    var members = LoopProgress()
                    while members.advanced(index) {
                        skipBlankLines()
                        guard atCollectionMemberLine else { break }
                        _ = parseCollectionMember()
                    }
                } else {
                    skipOrphanMemberLines()
                }
                continue
            }
            statements.append(parseBodyLine())
        }
        return statements
    }

    /// body_line = [ LINE_NUMBER ] ( comment_line | statement NEWLINE ) ;
    mutating func parseBodyLine() -> Statement {
        let start = index
        var number: String? = nil
        if tok.kind == .lineNumber {
            number = tok.text
            advance()
        }
        lineIndent = tok.column
        var statement: Statement
        if skipOverlongLine() {
            statement = Statement(kind: .error, span: spanFrom(start))
            expectLineEnd()
        } else if tok.kind == .blockComment {
            let c = parseCommentLine()
            statement = Statement(kind: .comment(c.text), span: c.span)
        } else {
            let statementStart = index
            statement = parseStatement()
            if statement.isErrorLine, atLineEnd, index > 0, tokens[index - 1].isWord("do") || tokens[index - 1].isWord("then") {
                // A broken line that opens a block (`4 4 for … do`, `y ≠ 1 do`) still owns its body and
                // `end`, so that the `end` is not reported as stray.
                let indent = lineIndent
                expectLineEnd()
                _ = bodyOfDoBlock(indent: indent)
                _ = parseEndLine(opener: tokens[statementStart], indent: indent, what: "block")
            }
            // A block statement has consumed whole lines already (its last line break included).
            if !(index > start && tokens[index - 1].kind == .newline) {
                expectLineEnd()
            }
        }
        statement.lineNumber = number
        if number != nil { statement.span = statement.span.union(tokens[start].span(source.path)) }
        return statement
    }

    /// statement = for_statement | for_all_statement | if_statement | while_statement | return_statement | sample_statement | assignment ;
    mutating func parseStatement() -> Statement {
        guard enterNesting() else { return Statement(kind: .error, span: errorSpan(tok)) }
        defer { nesting -= 1 }
        if tok.isWord("for") || tok.isWord("For") { return parseForStatement() }
        if tok.is(.forAll) { return parseForAllStatement() }
        if tok.isWord("if") { return parseIfStatement() }
        if tok.isWord("while") { return parseWhileStatement() }
        if tok.isWord("return") { return parseReturnStatement() }
        if tok.isWord("sample") { return parseSampleStatement() }
        if startsExpression(tok) { return parseAssignment() }
        let start = index
        if tok.kind == .unknown || (tok.kind == .blockComment) {
            reportUnexpected(tok, "")
        } else {
            report(.expectedStatement, "expected a statement, found \(describe(tok))", at: tok,
                   label: "a body line starts with a name, `for`, `∀`, `if`, `while`, `return` or `sample`")
        }
        skipToLineEnd()
        return Statement(kind: .error, span: spanFrom(start))
    }

    /// for_statement = ( "for" | "For" ) name ( "=" counting_range | "∈" type ) ( "do" NEWLINE block end_line | ":" NEWLINE block | ":" statement ) ;
    mutating func parseForStatement() -> Statement {
        let start = index
        let indent = lineIndent
        let keyword = tok
        advance()
        guard tok.kind == .identifier, !Parser.reservedWords.contains(tok.value) else {
            report(.expectedName, "expected the loop variable after `\(keyword.text)`, found \(describe(tok))", at: tok)
            return skipBrokenLoopHeader(keyword: keyword, indent: indent, start: start)
        }
        let variable = parseName()
        let range: ForRange
        if tok.is(.equals) {
            advance()
            range = .counting(parseCountingRange())
        } else if tok.is(.elementOf) {
            advance()
            range = .domain(parseType())
        } else {
            report(.expectedToken, "expected `=` or `∈` after the loop variable, found \(describe(tok))", at: tok,
                   label: "`for l = 1, 2, . . . , L do` or `for t ∈ [ℓ] : …`")
            return skipBrokenLoopHeader(keyword: keyword, indent: indent, start: start)
        }
        var loop = ForLoop(variable: variable, range: range, form: .doEnd, body: [])
        if tok.is(.colon) {
            advance()
            if atLineEnd {
                if tok.kind == .newline { advance() }
                loop.form = .indented
                loop.body = parseBlock(.indented(column: keyword.column))
            } else {
                loop.form = .inline
                loop.body = [parseStatement()]
            }
            return Statement(kind: .forLoop(loop), span: spanFrom(start))
        }
        if tok.isWord("do") {
            advance()
        } else {
            report(.expectedToken, "expected `do` or `:` after the loop's range, found \(describe(tok))", at: tok,
                   label: "a loop body follows `do` (lines up to `end`) or `:`")
        }
        expectLineEnd()
        loop.body = bodyOfDoBlock(indent: indent)
        (loop.endLineNumber, loop.endSpan) = parseEndLine(opener: keyword, indent: indent, what: "`\(keyword.text)` loop")
        return Statement(kind: .forLoop(loop), span: spanFrom(start))
    }

    /// Skips a `for` line whose variable or range is broken (already reported); when the line ends in
    /// `do`, its block and `end` are still read as the loop's, so the `end` is not reported as stray.
    mutating func skipBrokenLoopHeader(keyword: Token, indent: Int, start: Int) -> Statement {
        skipToLineEnd()
        guard index > 0, tokens[index - 1].isWord("do") else { return Statement(kind: .error, span: spanFrom(start)) }
        expectLineEnd()
        _ = bodyOfDoBlock(indent: indent)
        _ = parseEndLine(opener: keyword, indent: indent, what: "`\(keyword.text)` loop")
        return Statement(kind: .error, span: spanFrom(start))
    }

    /// counting_range = additive { [ "," ] additive } ;
    mutating func parseCountingRange() -> [Expr] {
        var values: [Expr] = []
        var progress = LoopProgress()
        while progress.advanced(index) {
            let e = parseAdditive()
            values.append(e)
            if tok.is(.comma) {
                advance()
                continue
            }
            if e.kind == .ellipsis, startsExpression(tok) { continue }
            break
        }
        return values
    }

    /// The body of a `do`/`then` block whose line is indented to `indent`; while it is parsed,
    /// `openBlockIndents` holds the indents of the blocks around it.
    mutating func bodyOfDoBlock(indent: Int) -> [Statement] {
        openBlockIndents.append(indent)
        defer { openBlockIndents.removeLast() }
        return parseBlock(.doEnd)
    }

    /// end_line = [ LINE_NUMBER ] "end" ;
    /// `indent` is the column of the opener's line: an `end` left of it and aligned with an enclosing
    /// open block closes that block, so this block's `end` is the one missing (the error then points
    /// at the block that lacks it). An `end` aligned with no open block closes this one, so that a
    /// deleted or wider line number changes nothing.
    mutating func parseEndLine(opener: Token, indent: Int, what: String) -> (String?, Span?) {
        let endWord = tok.kind == .lineNumber ? peek(1) : tok
        if endWord.isWord("end") && endWord.column < indent && openBlockIndents.contains(endWord.column) {
            // Leave the `end` to the outer block.
        } else if tok.kind == .lineNumber && peek(1).isWord("end") {
            let number = tok.text
            advance()
            let span = tok.span(source.path)
            advance()
            return (number, span)
        } else if tok.isWord("end") {
            let span = tok.span(source.path)
            advance()
            return (nil, span)
        }
        let line = source.location(of: opener.start).line
        report(.missingEnd, "missing `end` for the \(what) of line \(line)", at: opener.span(source.path),
               label: "this block is never closed",
               help: nil)
        return (nil, nil)
    }

    /// for_all_statement = "∀" name { "," name } ( ":" | "," ) statement ;
    mutating func parseForAllStatement() -> Statement {
        let start = index
        advance()
        var variables: [Name] = []
        var progress = LoopProgress()
        while progress.advanced(index) {
            guard tok.kind == .identifier, !Parser.reservedWords.contains(tok.value) else {
                report(.expectedName, "expected an index after `∀`, found \(describe(tok))", at: tok)
                skipToLineEnd()
                return Statement(kind: .error, span: spanFrom(start))
            }
            variables.append(parseName())
            if tok.is(.colon) {
                advance()
                break
            }
            if tok.is(.comma) {
                advance()
                if tok.kind == .identifier && !Parser.reservedWords.contains(tok.value) && !peek(1).is(.leftArrow)
                    && !peek(1).is(.equals) && !peek(1).is(.leftBracket) {
                    continue
                }
                break
            }
            report(.expectedToken, "expected `:` or `,` after the indices of `∀`, found \(describe(tok))", at: tok)
            skipToLineEnd()
            return Statement(kind: .error, span: spanFrom(start))
        }
        let body = parseStatement()
        return Statement(kind: .forAll(variables: variables, body: body), span: spanFrom(start))
    }

    /// if_statement = "if" expression "then" ( statement | NEWLINE block end_line ) ;
    mutating func parseIfStatement() -> Statement {
        let start = index
        let indent = lineIndent
        let keyword = tok
        advance()
        let condition = parseExpression()
        var node = IfThen(condition: condition, form: .inline, body: [])
        if tok.isWord("then") {
            advance()
        } else {
            report(.expectedToken, "expected `then` after the condition, found \(describe(tok))", at: tok)
            // `if c stmt` (an inline `if` without `then`) opens no block: the lines after it are not its body.
            if !atLineEnd {
                skipToLineEnd()
                return Statement(kind: .error, span: spanFrom(start))
            }
        }
        if atLineEnd {
            expectLineEnd()
            node.form = .doEnd
            node.body = bodyOfDoBlock(indent: indent)
            (node.endLineNumber, node.endSpan) = parseEndLine(opener: keyword, indent: indent, what: "`if`")
        } else {
            node.body = [parseStatement()]
        }
        return Statement(kind: .ifThen(node), span: spanFrom(start))
    }

    /// while_statement = "while" expression "do" NEWLINE block end_line ;
    mutating func parseWhileStatement() -> Statement {
        let start = index
        let indent = lineIndent
        let keyword = tok
        advance()
        let condition = parseExpression()
        if tok.isWord("do") {
            advance()
        } else {
            report(.expectedToken, "expected `do` after the condition, found \(describe(tok))", at: tok)
        }
        expectLineEnd()
        var node = WhileLoop(condition: condition, body: bodyOfDoBlock(indent: indent))
        (node.endLineNumber, node.endSpan) = parseEndLine(opener: keyword, indent: indent, what: "`while` loop")
        return Statement(kind: .whileLoop(node), span: spanFrom(start))
    }

    /// return_statement = "return" expression statement_tail ;
    mutating func parseReturnStatement() -> Statement {
        let start = index
        advance()
        let e = parseExpression()
        var kind = StatementKind.returnValue(target: nil, value: e)
        if case .binary(.equal, let lhs, let rhs) = e.kind { kind = .returnValue(target: lhs, value: rhs) }
        var s = Statement(kind: kind, span: spanFrom(start))
        parseStatementTail(&s, start: start)
        return s
    }

    /// sample_statement = "sample" { IDENTIFIER } postfix "from" [ expression "∝" ] expression statement_tail ;
    mutating func parseSampleStatement() -> Statement {
        let start = index
        advance()
        var words: [String] = []
        var progress = LoopProgress()
        while tok.kind == .identifier, !Parser.reservedWords.contains(tok.value), peek(1).kind == .identifier,
              !peek(1).isWord("from"), progress.advanced(index) {
            words.append(tok.value)
            advance()
        }
        let target = parsePostfix()
        if tok.isWord("from") {
            advance()
        } else {
            report(.expectedToken, "expected `from` after the sampled name, found \(describe(tok))", at: tok,
                   label: "`sample a token y from q ∝ p^{1/τ}`")
        }
        var weights = parseExpression()
        var distribution: Expr? = nil
        if tok.is(.proportional) {
            advance()
            distribution = weights
            weights = parseExpression()
        }
        var s = Statement(kind: .sample(Sample(description: words.isEmpty ? nil : words.joined(separator: " "),
                                               target: target, distribution: distribution, weights: weights)),
                          span: spanFrom(start))
        parseStatementTail(&s, start: start)
        return s
    }

    /// assignment = postfix ( "←" | "=" ) random_choice statement_tail ;
    mutating func parseAssignment() -> Statement {
        let start = index
        let target = parsePostfix()
        let op: AssignOperator
        if tok.is(.leftArrow) {
            op = .arrow
        } else if tok.is(.equals) {
            op = .equals
        } else {
            if tok.kind == .unknown {
                reportUnexpected(tok, "")
            } else {
                report(.expectedToken, "expected `←` or `=` after \(describeTarget(target)), found \(describe(tok))", at: tok,
                       label: "an assignment is `name ← value`")
            }
            skipToLineEnd()
            return Statement(kind: .error, span: spanFrom(start))
        }
        advance()
        let value = parseRandomChoice()
        var s = Statement(kind: .assign(target: target, op: op, value: value), span: spanFrom(start))
        parseStatementTail(&s, start: start)
        return s
    }

    func describeTarget(_ e: Expr) -> String {
        "`" + source.slice(e.span) + "`"
    }

    /// random_choice = expression [ "or" expression "randomly" "with" "probability" expression "or" expression ] ;
    mutating func parseRandomChoice() -> Expr {
        let start = index
        let first = parseExpression()
        guard tok.isWord("or") else { return first }
        advance()
        let second = parseExpression()
        for word in ["randomly", "with", "probability"] {
            if tok.isWord(word) {
                advance()
            } else {
                report(.expectedToken, "expected `\(word)` in `a or b randomly with probability p or q`, found \(describe(tok))", at: tok)
                skipToLineEnd()
                return Expr(.randomChoice(options: [first, second], probabilities: []), spanFrom(start))
            }
        }
        let p = parseExpression()
        var q = Expr(.missing, errorSpan(tok))
        if tok.isWord("or") {
            advance()
            q = parseExpression()
        } else {
            report(.expectedToken, "expected `or` and the second probability, found \(describe(tok))", at: tok)
        }
        return Expr(.randomChoice(options: [first, second], probabilities: [p, q]), spanFrom(start))
    }

    /// statement_tail = [ claim ] [ "," prose ] ;
    mutating func parseStatementTail(_ s: inout Statement, start: Int) {
        if tok.is(.leftBracket) && peek(1).is(.leftBracket) && !peek(1).hasLeadingSpace {
            s.claim = parseClaim()
        }
        if tok.is(.comma) {
            advance()
            s.prose = parseProse()
        }
        s.span = spanFrom(start)
    }

    /// claim = "[" "[" name "∈" type "]" "]" ;
    mutating func parseClaim() -> Claim {
        let start = index
        let open = tok
        advance()
        advance()
        let label = tok.kind == .identifier ? parseName() : missingName()
        var type = TypeExpr(.missing, errorSpan(tok))
        if label.base.isEmpty || !tok.is(.elementOf) {
            report(.invalidClaim, "expected `[[Label ∈ type]]` after the statement, found \(describe(tok))", at: tok,
                   label: "a claim names the value and its shape, like `[[Query ∈ ℝ^{d_attn×ℓ_x}]]`")
            skipToLineEnd()
            return Claim(label: label, type: type, span: spanFrom(start))
        }
        advance()
        type = parseType()
        if tok.is(.rightBracket) && peek(1).is(.rightBracket) && !peek(1).hasLeadingSpace {
            advance()
            advance()
        } else {
            report(.unclosedDelimiter, "expected `]]` to close the claim, found \(describe(tok))", at: tok,
                   labels: [.init(open.span(source.path), "claim opened here")])
        }
        return Claim(label: label, type: type, span: spanFrom(start))
    }
}

extension Statement {
    /// A line that did not parse.
    var isErrorLine: Bool {
        if case .error = kind { return true }
        return false
    }

    /// A statement that parsed (not an error line, not a comment line).
    var isParsedCode: Bool {
        switch kind {
        case .comment, .error: false
        case .forLoop, .ifThen, .whileLoop, .assign, .returnValue, .forAll, .sample: true
        }
    }
}
