import AlgoDiagnostics

// Titles and header lines: `Algorithm N: …`, `Input:`, `Output:`, `Parameters:`, `Hyperparameters:`,
// parameter collections and their groups.
extension Parser {
    /// title = ( "Algorithm" | "Experiment" ) NUMBER ":" ( signature [ "—" prose ] | prose ) NEWLINE ;
    mutating func parseTitle() -> Title {
        let start = index
        let keyword = TitleKeyword(rawValue: tok.value) ?? .algorithm
        if skipOverlongLine() {
            expectLineEnd()
            return Title(keyword: keyword, number: "", signature: nil, prose: nil, span: spanFrom(start))
        }
        advance()  // Algorithm / Experiment
        var number = ""
        if tok.kind == .number {
            number = tok.text
            advance()
        } else {
            let what = keyword == .algorithm ? "algorithm" : "experiment"
            report(.invalidTitle, "expected the \(what)'s number after `\(keyword.rawValue)`, found \(describe(tok))", at: tok,
                   label: "a title is `\(keyword.rawValue) N: …`")
        }
        var signature: Signature? = nil
        var prose: Prose? = nil
        if tok.is(.colon) {
            advance()
            if lineHasArrowBeforeDash() {
                signature = parseSignature()
                if tok.is(.emDash) {
                    advance()
                    prose = parseProse()
                }
            } else {
                prose = parseProse()
            }
        } else {
            report(.invalidTitle, "expected `:` after `\(keyword.rawValue) \(number)`", at: tok, label: "the title needs `:` before its signature")
            skipToLineEnd()
        }
        let span = spanFrom(start)
        expectLineEnd()
        return Title(keyword: keyword, number: number, signature: signature, prose: prose, span: span)
    }

    /// Whether `←` occurs on the rest of this line before any `—` (a signature rather than prose).
    func lineHasArrowBeforeDash() -> Bool {
        var i = index
        while i < tokens.count, !tokens[i].isLineEnd {
            if tokens[i].is(.leftArrow) { return true }
            if tokens[i].is(.emDash) { return false }
            i += 1
        }
        return false
    }

    /// signature = declarator { "," declarator } "←" name "(" [ signature_parameter { "," signature_parameter } ] [ "|" [ signature_parameter { "," signature_parameter } ] ] ")" ;
    mutating func parseSignature() -> Signature {
        let start = index
        var outputs = [parseDeclarator()]
        var progress = LoopProgress()
        while tok.is(.comma), progress.advanced(index) {
            advance()
            outputs.append(parseDeclarator())
        }
        if tok.is(.leftArrow) { advance() } else {
            report(.invalidTitle, "expected `←` after the outputs of the signature, found \(describe(tok))", at: tok)
        }
        let name: Name
        if tok.kind == .identifier {
            name = parseName()
        } else {
            report(.invalidTitle, "expected the algorithm's name after `←`, found \(describe(tok))", at: tok)
            name = Name(base: "", scripts: [], span: errorSpan(tok))
        }
        var inputs: [SignatureParameter] = []
        var parameters: [SignatureParameter] = []
        let open = tok
        guard tok.is(.leftParen) else {
            report(.invalidTitle, "expected `(` after the algorithm's name, found \(describe(tok))", at: tok)
            skipToLineEnd()
            return Signature(outputs: outputs, name: name, inputs: [], parameters: [], span: spanFrom(start))
        }
        advance()
        var afterBar = false
        var loop = LoopProgress()
        while !tok.is(.rightParen), !atLineEnd, loop.advanced(index) {
            if tok.is(.bar) && !afterBar {
                afterBar = true
                advance()
                continue
            }
            let p = parseSignatureParameter()
            if afterBar { parameters.append(p) } else { inputs.append(p) }
            if tok.is(.comma) { advance() } else if !tok.is(.rightParen) && !tok.is(.bar) { break }
        }
        expectClosing(.rightParen, opener: open, what: "signature")
        return Signature(outputs: outputs, name: name, inputs: inputs, parameters: parameters, span: spanFrom(start))
    }

    /// signature_parameter = declarator [ "=" expression ] ;
    mutating func parseSignatureParameter() -> SignatureParameter {
        let start = index
        let name = parseDeclarator()
        var value: Expr? = nil
        if tok.is(.equals) {
            advance()
            value = parseExpression()
        }
        return SignatureParameter(name: name, defaultValue: value, span: spanFrom(start))
    }

    /// header_line = ( "Input" | "Output" | "Parameters" | "Hyperparameters" ) ":" ( collection | declaration_line ) ;
    mutating func parseHeaderLine() -> HeaderLine {
        let start = index
        let kind = HeaderKind(rawValue: tok.value) ?? .input
        advance()
        if tok.is(.colon) {
            advance()
        } else {
            report(.expectedToken, "expected `:` after `\(kind.rawValue)`, found \(describe(tok))", at: tok,
                   label: "a header line is `\(kind.rawValue): names ∈ type`")
        }
        let content = readHeaderContent()
        return HeaderLine(kind: kind, content: content, span: spanFrom(start))
    }

    /// What follows a header label: a collection (with its member lines) or a declaration line.
    mutating func readHeaderContent() -> HeaderContent {
        let (isCollection, _) = speculate { p -> Bool in
            _ = p.parseDeclarator()
            return p.tok.isWord("consisting") || p.tok.isWord("includes")
        }
        return isCollection ? .collection(parseCollection()) : .declarations(parseDeclarationLine())
    }

    /// A line that looks like a header line with a label other than the four (`Inut:`, `Parameter;s:`):
    /// a word at the start of the line, then anything but `[`, `(`, `←`, `=`, `∈` up to a `:`.
    var atMalformedHeaderLabel: Bool { malformedHeaderLabel(at: index) }

    func malformedHeaderLabel(at start: Int) -> Bool {
        guard start < tokens.count else { return false }
        let first = tokens[start]
        guard first.kind == .identifier || first.kind == .unknown, !Parser.reservedWords.contains(first.value),
              first.column == 1, HeaderKind(rawValue: first.value) == nil || !tokens[min(start + 1, tokens.count - 1)].is(.colon) else {
            return false
        }
        var i = start + 1
        while i < tokens.count, !tokens[i].isLineEnd {
            let t = tokens[i]
            if t.is(.colon) { return true }
            if t.is(.leftBracket) || t.is(.leftParen) || t.is(.leftArrow) || t.is(.equals) || t.is(.elementOf)
                || t.kind == .blockComment {
                return false
            }
            i += 1
        }
        return false
    }

    /// Reports a header line with an unknown label (E0217) and reads its content so that its member
    /// lines do not turn into body errors; the line is left out of the tree.
    mutating func skipMalformedHeaderLine() {
        let first = tok
        var label = ""
        var progress = LoopProgress()
        while !tok.is(.colon), !atLineEnd, progress.advanced(index) {
            label += tok.text
            advance()
        }
        report(.unknownHeader, "unknown header `\(label):`", at: Span(file: source.path, start: first.start, end: tok.end),
               label: "expected `Input:`, `Output:`, `Parameters:` or `Hyperparameters:`")
        if tok.is(.colon) { advance() }
        _ = readHeaderContent()
    }

    /// Indented member lines with no collection before them (`… consisting of:` is missing or misspelled):
    /// one error, and the lines are read as members so that they do not turn into body errors.
    mutating func skipOrphanMemberLines() {
        report(.expectedDeclaration, "member line outside a parameter collection", at: tok,
               label: "indented member lines follow `… consisting of:` or `… includes all of the following parameters:`")
        var progress = LoopProgress()
        while progress.advanced(index) {
            skipBlankLines()
            guard atCollectionMemberLine else { break }
            _ = parseCollectionMember()
        }
    }

    /// An indented, unnumbered line in the header that reads as a declaration, a `|` line or a group.
    mutating func atOrphanMemberLine() -> Bool {
        guard atCollectionMemberLine else { return false }
        if tok.is(.bar) || tok.isWord("For") { return true }
        return atTypedDeclaration()
    }

    /// collection = name ( "consisting" | "includes" ) prose NEWLINE { collection_member } ;
    mutating func parseCollection() -> ParameterCollection {
        let start = index
        let name = parseName()
        let phrase = parseProse() ?? Prose(text: "", span: errorSpan(tok))
        expectLineEnd()
        var members: [CollectionMember] = []
        var progress = LoopProgress()
        while progress.advanced(index) {
            skipBlankLines()
            guard atCollectionMemberLine else { break }
            members.append(parseCollectionMember())
        }
        return ParameterCollection(name: name, phrase: phrase, members: members, span: spanFrom(start))
    }

    /// Member lines are indented and are neither numbered body lines, header lines nor titles.
    var atCollectionMemberLine: Bool {
        !atEnd && tok.kind != .lineNumber && tok.column > 1 && !atHeaderKeyword && !atTitle
    }

    /// collection_member = collection_group | comment_line | [ "|" ] declaration_line ;
    mutating func parseCollectionMember() -> CollectionMember {
        if tok.isWord("For") || tok.isWord("for") { return .group(parseCollectionGroup()) }
        if tok.kind == .blockComment { return .comment(parseCommentLine()) }
        if tok.is(.bar) { advance() }
        return .declarations(parseDeclarationLine())
    }

    /// collection_group = ( "For" | "for" ) name "∈" type ( ":" | "," name prose ) NEWLINE { "|" declaration_line } ;
    mutating func parseCollectionGroup() -> CollectionGroup {
        let start = index
        advance()  // For
        let variable = tok.kind == .identifier ? parseName() : missingName()
        var domain = TypeExpr(.missing, errorSpan(tok))
        var collection: Name? = nil
        var phrase: Prose? = nil
        if tok.is(.elementOf) {
            advance()
            domain = parseType()
            if tok.is(.colon) {
                advance()
            } else if tok.is(.comma) {
                advance()
                collection = tok.kind == .identifier ? parseName() : missingName()
                phrase = parseProse()
            } else {
                report(.expectedToken, "expected `:` after the group's range, found \(describe(tok))", at: tok)
            }
        } else {
            report(.expectedToken, "expected `∈` after the group's index, found \(describe(tok))", at: tok)
        }
        expectLineEnd()
        var members: [DeclarationLine] = []
        var progress = LoopProgress()
        while progress.advanced(index) {
            skipBlankLines()
            guard tok.is(.bar) else { break }
            advance()
            members.append(parseDeclarationLine())
        }
        return CollectionGroup(variable: variable, domain: domain, collection: collection, phrase: phrase,
                               members: members, span: spanFrom(start))
    }

    /// declaration_line = ( declaration { "," declaration } [ "," [ prose ] ] [ "." ] | prose ) NEWLINE ;
    mutating func parseDeclarationLine() -> DeclarationLine {
        let start = index
        var declarations: [Declaration] = []
        var prose: Prose? = nil
        if skipOverlongLine() {
            expectLineEnd()
            return DeclarationLine(declarations: [], prose: nil, span: spanFrom(start))
        }
        if atLineEnd || tok.is(.elementOf) {
            // Prose may say anything, but not nothing, and not `∈ type` with the names forgotten.
            report(.expectedDeclaration, atLineEnd ? "expected a declaration, found end of line" : "expected the names to declare before `∈`",
                   at: tok, label: "a header line declares `names ∈ type`")
        }
        if atTypedDeclaration() || atValuedDeclaration() {
            declarations.append(parseDeclaration())
        } else if atUntypedDeclaration() {
            let s = index
            let d = parseDeclarator()
            declarations.append(Declaration(names: [d], type: nil, span: spanFrom(s)))
        } else {
            prose = parseProse()
        }
        var progress = LoopProgress()
        while prose == nil, !atLineEnd, progress.advanced(index) {
            if tok.is(.period) && peek(1).isLineEnd {
                advance()
                break
            }
            guard tok.is(.comma) else {
                reportUnexpected(tok, "expected `,` or the end of the line after the declaration, found \(describe(tok))")
                skipToLineEnd()
                break
            }
            advance()
            if atLineEnd { break }
            if atTypedDeclaration() || atValuedDeclaration() {
                declarations.append(parseDeclaration())
            } else {
                prose = parseProse()
            }
        }
        let span = spanFrom(start)
        expectLineEnd()
        return DeclarationLine(declarations: declarations, prose: prose, span: span)
    }

    /// Whether declarators followed by `∈` start here.
    mutating func atTypedDeclaration() -> Bool {
        guard startsDeclarator else { return false }
        let (found, ok) = speculate { p -> Bool in
            _ = p.parseDeclarator()
            var progress = LoopProgress()
            while p.tok.is(.comma), progress.advanced(p.index) {
                p.advance()
                guard p.startsDeclarator else { return false }
                _ = p.parseDeclarator()
            }
            return p.tok.is(.elementOf)
        }
        return found && ok
    }

    /// Whether one declarator followed by `=` starts here (`ℓ_max = 64`, `corpus = "prose.txt"`).
    mutating func atValuedDeclaration() -> Bool {
        guard startsDeclarator else { return false }
        let (found, ok) = speculate { p -> Bool in
            _ = p.parseDeclarator()
            return p.tok.is(.equals)
        }
        return found && ok
    }

    /// Whether one declarator followed by `,`, `.` or the end of the line starts here (`H, number of heads`).
    mutating func atUntypedDeclaration() -> Bool {
        guard startsDeclarator else { return false }
        let (found, ok) = speculate { p -> Bool in
            _ = p.parseDeclarator()
            return p.tok.is(.comma) || p.atLineEnd || (p.tok.is(.period) && p.peek(1).isLineEnd)
        }
        return found && ok
    }

    var startsDeclarator: Bool {
        (tok.kind == .identifier && !Parser.reservedWords.contains(tok.value)) || tok.is(.leftBrace)
    }

    /// declaration = declarator ( "=" expression | { "," declarator } [ "∈" type ] ) ;
    mutating func parseDeclaration() -> Declaration {
        let start = index
        var names = [parseDeclarator()]
        if tok.is(.equals) {
            advance()
            let value = parseExpression()
            return Declaration(names: names, type: nil, value: value, span: spanFrom(start))
        }
        var progress = LoopProgress()
        while tok.is(.comma), progress.advanced(index) {
            advance()
            names.append(parseDeclarator())
        }
        var type: TypeExpr? = nil
        if tok.is(.elementOf) {
            advance()
            type = parseType()
        }
        return Declaration(names: names, type: type, span: spanFrom(start))
    }

    /// declarator = name | set_expression { script } ;
    mutating func parseDeclarator() -> Expr {
        let start = index
        if tok.kind == .identifier && !Parser.reservedWords.contains(tok.value) {
            let n = parseName()
            return Expr(.name(n), n.span)
        }
        if tok.is(.leftBrace) {
            let set = parseSetExpression()
            var scripts: [Script] = []
            var progress = LoopProgress()
            while isScriptStart(tok), !tok.hasLeadingSpace, progress.advanced(index) { scripts.append(parseScript()) }
            return scripts.isEmpty ? set : Expr(.scripted(set, scripts), spanFrom(start))
        }
        if tok.kind == .unknown || tok.kind == .blockComment {
            reportUnexpected(tok, "")
        } else {
            report(.expectedName, "expected a name to declare, found \(describe(tok))", at: tok)
        }
        return Expr(.missing, errorSpan(tok))
    }

    func missingName() -> Name {
        Name(base: "", scripts: [], span: errorSpan(tok))
    }
}
