import AlgoDiagnostics

/// `algo fmt`: a layout-preserving, token-level formatter. It rewrites each token to its canonical
/// spelling (Unicode or ASCII), NFC-normalises names, indents body lines by 4 spaces per block
/// level after right-aligned line numbers, strips trailing whitespace, and inserts a space only
/// where two spellings would otherwise merge (`K^T Q`). Whitespace between tokens, header
/// alignment, prose, and comments are kept, so the canonical form of the paper's text is the
/// paper's text. Both forms parse to the same tree, and formatting is idempotent.
public enum Formatter {
    /// Which spelling of the symbols to write.
    public enum Style: Sendable {
        /// The paper's symbols: `←`, `∈`, `ℝ`, `ᵀ`, `x̃`.
        case unicode
        /// LaTeX-style ASCII: `\gets`, `\in`, `\mathbb{R}`, `^T`, `\tilde{x}`.
        case ascii
    }

    /// The formatted text, or nil with the syntax errors when the file does not parse
    /// (files with errors are never formatted).
    public static func format(_ source: SourceFile, style: Style) -> (text: String?, diagnostics: [Diagnostic]) {
        let (file, diagnostics) = Parser.parse(source)
        guard !diagnostics.contains(where: { $0.severity == .error }) else { return (nil, diagnostics) }
        var layout = Layout(source: source)
        layout.collect(file)
        let text = render(Lexer.tokenize(source), layout: layout, style: style)
        return (text, diagnostics)
    }

    /// The spelling of one token in the given style.
    public static func spelling(_ t: Token, _ style: Style) -> String {
        switch t.kind {
        case .identifier, .scriptWord:
            switch style {
            case .unicode: return t.value
            case .ascii: return Spellings.asciiIdentifier(t.value)
            }
        case .number, .lineNumber, .blockComment, .unknown, .string:
            return t.text
        case .superscriptDigits:
            switch style {
            case .unicode: return t.text.nfc
            case .ascii: return t.value.hasPrefix("-") ? "^{-" + t.value.dropFirst() + "}" : "^" + t.value
            }
        case .subscriptDigits:
            switch style {
            case .unicode: return t.text.nfc
            case .ascii: return "_" + t.value
            }
        case .symbol(let s):
            switch style {
            case .unicode: return s.unicode
            case .ascii: return s.ascii
            }
        case .newline, .endOfFile:
            return ""
        }
    }

    /// `"2"` → `"²"`; nil unless all ASCII digits.
    static func superscript(_ digits: String) -> String? {
        let map = Dictionary(Spellings.superscriptDigits.map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        var out = ""
        for c in digits {
            guard let d = map[c] else { return nil }
            out.append(d)
        }
        return out.isEmpty ? nil : out
    }

    /// Symbols the paper writes tight against what follows (`√d_attn`, `¬Mask`, `∀t`, `∇loss`, `KᵀQ`, `d_attn×d_x`).
    static let tightSymbols: Set<Symbol> = [.sqrt, .not, .forAll, .nabla, .transpose, .times]

    /// A single space after an ASCII-spelled tight symbol that only the ASCII form needs
    /// (`\sqrt d_attn`, `K^T Q`): the Unicode form drops it, so `--ascii` and back gives the paper's text.
    static func spaceOnlyForASCII(_ a: Token, _ b: Token) -> Bool {
        guard case .symbol(let s) = a.kind, tightSymbols.contains(s), a.text != s.unicode else { return false }
        return needsSpace(between: spelling(a, .ascii), and: spelling(b, .ascii))
            && !needsSpace(between: spelling(a, .unicode), and: spelling(b, .unicode))
    }

    /// Whether writing `b` right after `a` would lex differently from `a` then `b`.
    public static func needsSpace(between a: String, and b: String) -> Bool {
        guard !a.isEmpty, !b.isEmpty else { return false }
        let boundary = a.utf8.count
        let tokens = Lexer.tokenize(a + b, lineStart: false)
        var sawBoundary = false
        for t in tokens where t.kind != .endOfFile {
            if t.start < boundary && t.end > boundary { return true }
            if t.start == boundary { sawBoundary = true }
        }
        return !sawBoundary
    }

    // MARK: - Rendering

    static func render(_ tokens: [Token], layout: Layout, style: Style) -> String {
        var out = ""
        var line = 1
        var i = 0
        var merges = MergeCache()
        while i < tokens.count {
            // One source line: tokens up to and including its newline (or end of file).
            var j = i
            while j < tokens.count, tokens[j].kind != .newline, tokens[j].kind != .endOfFile { j += 1 }
            let end = min(j, tokens.count - 1)
            out += renderLine(tokens[i..<end], lineEnd: tokens[end], line: line, layout: layout, style: style,
                              merges: &merges)
            if tokens[end].kind == .endOfFile { break }
            out += "\n"
            line += 1
            i = end + 1
        }
        // Exactly one line break at the end of a non-empty file.
        while out.hasSuffix("\n") { out.removeLast() }
        return out.isEmpty ? "" : out + "\n"
    }

    static func renderLine(_ tokens: ArraySlice<Token>, lineEnd: Token, line: Int, layout: Layout, style: Style,
                           merges: inout MergeCache) -> String {
        var text = ""
        var previous = ""
        var k = tokens.startIndex
        var dropTriviaAt = -1
        if let depth = layout.depth[line], k < tokens.endIndex {
            if tokens[k].kind == .lineNumber {
                let number = tokens[k].text
                let width = layout.numberWidth[line] ?? number.count
                text += String(repeating: " ", count: max(0, width - number.count)) + number + " "
                k = tokens.index(after: k)
            }
            text += String(repeating: "    ", count: depth)
            dropTriviaAt = k
        }
        var skipUntil = -1
        var previousToken: Token? = nil
        while k < tokens.endIndex {
            let t = tokens[k]
            defer { k = tokens.index(after: k) }
            if t.start < skipUntil { continue }
            var trivia = k == dropTriviaAt ? "" : t.triviaText
            if style == .unicode, trivia == " ", let p = previousToken, spaceOnlyForASCII(p, t) { trivia = "" }
            previousToken = t
            text += trivia
            if let proseEnd = layout.prose[t.start] {
                text += layout.source.slice(Span(file: layout.source.path, start: t.start, end: proseEnd))
                skipUntil = proseEnd
                previous = "x"
                continue
            }
            var s = spelling(t, style)
            // `(e[i] − m)^2` is written `(e[i] − m)²` in Unicode, as the paper does; so is `e[i]^2`
            // (RMSnorm's `e[i]²`).
            let next = tokens.index(after: k)
            if style == .unicode, t.is(.caret), !t.hasLeadingSpace, previous == ")" || previous == "]", next < tokens.endIndex,
               tokens[next].kind == .scriptWord, !tokens[next].hasLeadingSpace,
               let digits = superscript(tokens[next].value) {
                s = digits
                skipUntil = tokens[next].end
            }
            // `10^{-5}` (ASCII) is `10⁻⁵` in Unicode: a negative whole power of a number.
            let afterNumber = previous.first?.isASCIIDigit == true && previous.allSatisfy { $0.isASCIIDigit || $0 == "." }
            if style == .unicode, t.is(.caret), !t.hasLeadingSpace, afterNumber, tokens.index(next, offsetBy: 3) < tokens.endIndex {
                let open = tokens[next], minus = tokens[next + 1], power = tokens[next + 2], close = tokens[next + 3]
                if open.is(.leftBrace), spelling(minus, .unicode) == "−", power.kind == .number, close.is(.rightBrace),
                   ![open, minus, power, close].contains(where: \.hasLeadingSpace), let digits = superscript(power.value) {
                    s = "⁻" + digits
                    skipUntil = close.end
                }
            }
            // `\in` then `{}` would lex as `\in{}`, a command with an empty argument, eating the empty
            // set (`Mask∈{},1}` in ASCII): a pair check cannot see the `}`, so it is looked at here.
            let emptyArgument = s == "{" && previous.hasPrefix("\\") && previous.last?.isLetter == true
                && next < tokens.endIndex && tokens[next].is(.rightBrace) && !tokens[next].hasLeadingSpace
            if trivia.isEmpty, !previous.isEmpty, emptyArgument || merges.needsSpace(previous, s) { text += " " }
            text += s
            previous = s
        }
        text += lineEnd.triviaText
        while let last = text.last, last == " " || last == "\t" { text.removeLast() }
        return text
    }
}

/// `Formatter.needsSpace` remembered per pair of spellings (a file has few distinct pairs).
struct MergeCache {
    var known: [String: Bool] = [:]
    mutating func needsSpace(_ a: String, _ b: String) -> Bool {
        let key = a + "\u{0}" + b
        if let k = known[key] { return k }
        let v = Formatter.needsSpace(between: a, and: b)
        known[key] = v
        return v
    }
}

/// Where body lines are, how deep, how wide their numbers are, and where prose is.
struct Layout {
    let source: SourceFile
    /// Source line (1-based) → block depth, for body lines.
    var depth: [Int: Int] = [:]
    /// Source line → width of the line numbers of its algorithm.
    var numberWidth: [Int: Int] = [:]
    /// Prose start offset → end offset: copied verbatim.
    var prose: [Int: Int] = [:]

    init(source: SourceFile) { self.source = source }

    func line(_ span: Span) -> Int { source.location(of: span.start).line }

    mutating func collect(_ file: AlgoFile) {
        for a in file.algorithms {
            if let p = a.title.prose { add(p) }
            for item in a.header {
                switch item {
                case .comment: break
                case .line(let h):
                    switch h.content {
                    case .declarations(let d): add(d.prose)
                    case .collection(let c):
                        add(c.phrase)
                        for m in c.members {
                            switch m {
                            case .declarations(let d): add(d.prose)
                            case .comment: break
                            case .group(let g):
                                add(g.phrase)
                                for d in g.members { add(d.prose) }
                            }
                        }
                    }
                }
            }
            var lines: [Int] = []
            var width = 0
            for s in a.body { statement(s, 0, &lines, &width) }
            for l in lines { numberWidth[l] = width }
        }
    }

    mutating func add(_ p: Prose?) {
        guard let p, p.span.end > p.span.start else { return }
        prose[p.span.start] = p.span.end
    }

    mutating func mark(_ span: Span, _ d: Int, _ lines: inout [Int]) {
        let l = line(span)
        if depth[l] == nil {
            depth[l] = d
            lines.append(l)
        }
    }

    mutating func statement(_ s: Statement, _ d: Int, _ lines: inout [Int], _ width: inout Int) {
        mark(s.span, d, &lines)
        if let n = s.lineNumber { width = max(width, n.count) }
        add(s.prose)
        func block(_ body: [Statement], _ endNumber: String?, _ endSpan: Span?, _ me: inout Layout) {
            for b in body { me.statement(b, d + 1, &lines, &width) }
            if let e = endSpan { me.mark(e, d, &lines) }
            if let n = endNumber { width = max(width, n.count) }
        }
        switch s.kind {
        case .forLoop(let f): block(f.body, f.endLineNumber, f.endSpan, &self)
        case .ifThen(let i): block(i.body, i.endLineNumber, i.endSpan, &self)
        case .whileLoop(let w): block(w.body, w.endLineNumber, w.endSpan, &self)
        case .forAll(_, let body): statement(body, d + 1, &lines, &width)
        case .assign, .returnValue, .sample, .comment, .error: break
        }
    }
}
