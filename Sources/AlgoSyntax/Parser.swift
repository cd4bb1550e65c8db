import AlgoDiagnostics

/// The recursive-descent parser: one method per production of `Grammar/algo.ebnf`, named after it,
/// its `///` line quoting the rule. It never throws and never stops at the first error: it reports
/// at most one error per line, puts `.missing`/`.error` nodes in the tree, resynchronises at the
/// end of the line, and every loop has a progress guard so that no input can hang it.
public struct Parser {
    let source: SourceFile
    let tokens: [Token]
    var index = 0
    var diagnostics: [Diagnostic] = []
    /// Source lines (1-based) on which an error was already reported: one error per line.
    var linesWithErrors: Set<Int> = []
    /// Inside a speculative parse: errors are not reported but remembered.
    var speculating = 0
    var speculationFailed = false
    /// Current nesting of expressions, types and one-line statements (bounded: no input can overflow the stack).
    var nesting = 0
    /// Column of the statement on the current body line (after its line number): where `end` lines must align.
    var lineIndent = 1
    /// Indents of the `do`/`then` blocks enclosing the one being parsed (see `parseEndLine`).
    var openBlockIndents: [Int] = []
    /// Set by `abandonRest`: nothing more is reported.
    var abandoned = false
    /// The deepest nesting accepted; the paper needs 6.
    static let maxNesting = 64
    /// The most tokens a line may have (bounds the depth of operator chains, so no tree overflows the stack).
    static let maxLineTokens = 1000

    /// Parses a file. Diagnostics (E01xx, E02xx) are appended to `diagnostics`; the tree is always complete.
    public static func parse(_ source: SourceFile, _ diagnostics: inout DiagnosticBag) -> AlgoFile {
        var p = Parser(source: source, tokens: Lexer.tokenize(source))
        let file = p.parseFile()
        diagnostics.append(contentsOf: p.diagnostics.sorted { $0.span.start < $1.span.start })
        return file
    }

    /// Parses a file and returns the tree with its diagnostics.
    public static func parse(_ source: SourceFile) -> (AlgoFile, [Diagnostic]) {
        var bag = DiagnosticBag()
        let file = parse(source, &bag)
        return (file, bag.all)
    }

    init(source: SourceFile, tokens: [Token]) {
        self.source = source
        self.tokens = tokens.isEmpty ? [Token(kind: .endOfFile, start: 0, end: 0, text: "", value: "", leadingTrivia: [], column: 1)] : tokens
    }

    // MARK: - File and algorithm

    /// file = { comment_line } { algorithm } ;
    mutating func parseFile() -> AlgoFile {
        var comments: [CommentLine] = []
        var algorithms: [Algorithm] = []
        var progress = LoopProgress()
        while progress.advanced(index) {
            skipBlankLines()
            if atEnd { break }
            if atTitle {
                algorithms.append(parseAlgorithm())
            } else if tok.kind == .blockComment && algorithms.isEmpty {
                comments.append(parseCommentLine())
            } else {
                // One error for the whole run of lines before the next title.
                report(.outsideAlgorithm, "expected an `Algorithm N:` or `Experiment N:` title before this line", at: tok,
                       label: "code must follow a title")
                // One error for the whole run of lines before the next title, not one per line.
                var run = LoopProgress()
                repeat { skipLine(); skipBlankLines() } while !atEnd && !atTitle && run.advanced(index)
            }
        }
        return AlgoFile(leadingComments: comments, algorithms: algorithms, span: Span(file: source.path, start: 0, end: source.utf8.count))
    }

    /// algorithm = title { header_line | comment_line } block ;
    mutating func parseAlgorithm() -> Algorithm {
        let start = index
        let title = parseTitle()
        var header: [HeaderItem] = []
        var progress = LoopProgress()
        while progress.advanced(index) {
            skipBlankLines()
            if atEnd || atTitle { break }
            if tok.kind == .blockComment && peek(1).isLineEnd {
                guard nextCodeLineIsHeader() else { break }
                header.append(.comment(parseCommentLine()))
            } else if atHeaderKeyword || atHeaderKeywordWithoutColon {
                header.append(.line(parseHeaderLine()))
            } else if atMalformedHeaderLabel {
                skipMalformedHeaderLine()
            } else if !header.isEmpty, atOrphanMemberLine() {
                skipOrphanMemberLines()
            } else {
                break
            }
        }
        let body = parseBlock(.top)
        return Algorithm(title: title, header: header, body: body, span: spanFrom(start))
    }

    /// comment_line = BLOCK_COMMENT NEWLINE ;
    mutating func parseCommentLine() -> CommentLine {
        let t = tok
        advance()
        if !t.text.hasSuffix("*/") || t.text.count < 4 {
            report(.unterminatedComment, "comment is not closed on its line", at: t, label: "`/*` needs a matching `*/`")
        }
        expectLineEnd()
        return CommentLine(text: t.value, span: t.span(source.path))
    }

    /// prose = { TOKEN } ;
    mutating func parseProse() -> Prose? {
        guard !atLineEnd else { return nil }
        let first = tok
        var last = tok
        var progress = LoopProgress()
        while !atLineEnd, progress.advanced(index) {
            last = tok
            advance()
        }
        let span = Span(file: source.path, start: first.start, end: last.end)
        return Prose(text: source.slice(span), span: span)
    }

    /// Enters one level of nesting; false (with E0216 reported and the line skipped) when too deep.
    mutating func enterNesting() -> Bool {
        guard nesting < Parser.maxNesting else {
            report(.nestingTooDeep, "nested too deeply (more than \(Parser.maxNesting) levels)", at: tok,
                   label: "split this line into several statements")
            skipToLineEnd()
            abandonRest()
            return false
        }
        nesting += 1
        return true
    }

    /// After nesting too deep (E0216), stops parsing: the open brackets and blocks would each report
    /// a missing `)` or `end` and the surplus `end` lines a stray one, hundreds of errors for one mistake.
    mutating func abandonRest() {
        guard speculating == 0 else { return }
        if let last = diagnostics.last, last.code == .nestingTooDeep {
            diagnostics[diagnostics.count - 1].notes.append("the rest of the file is not parsed")
        }
        abandoned = true
        index = tokens.count - 1
    }

    /// Whether the line from the current token on has more than `maxLineTokens` tokens; if so it
    /// is reported (E0216) and skipped up to its line break.
    mutating func skipOverlongLine() -> Bool {
        var i = index
        while i < tokens.count, !tokens[i].isLineEnd { i += 1 }
        guard i - index > Parser.maxLineTokens else { return false }
        report(.nestingTooDeep, "line has more than \(Parser.maxLineTokens) tokens", at: tok, label: "split this line")
        skipToLineEnd()
        return true
    }

    // MARK: - Token access

    var tok: Token { tokens[min(index, tokens.count - 1)] }

    func peek(_ k: Int) -> Token { tokens[max(0, min(index + k, tokens.count - 1))] }

    var atEnd: Bool { tok.kind == .endOfFile }

    var atLineEnd: Bool { tok.isLineEnd }

    mutating func advance() {
        if index < tokens.count - 1 { index += 1 }
    }

    /// The span from token `start` to the last consumed token (empty at `start` if none).
    func spanFrom(_ start: Int) -> Span {
        let s = tokens[min(start, tokens.count - 1)]
        var endIndex = index - 1
        while endIndex > start, tokens[endIndex].kind == .newline || tokens[endIndex].kind == .endOfFile { endIndex -= 1 }
        guard endIndex >= start else { return Span(file: source.path, start: s.start, end: s.start) }
        return Span(file: source.path, start: s.start, end: tokens[endIndex].end)
    }

    /// `Algorithm N` (or `Algorithm:` with the number missing, reported by `parseTitle`).
    var atTitle: Bool { (tok.isWord("Algorithm") || tok.isWord("Experiment")) && (peek(1).kind == .number || peek(1).is(.colon)) }

    var atHeaderKeyword: Bool {
        tok.kind == .identifier && HeaderKind(rawValue: tok.value) != nil && peek(1).is(.colon)
    }

    /// `Input x ∈ V*`: a header keyword followed by a declarator instead of `:` (reported by `parseHeaderLine`),
    /// so that the forgotten `:` is one error rather than a body line and then E0212 for every header line after it.
    var atHeaderKeywordWithoutColon: Bool {
        tok.kind == .identifier && HeaderKind(rawValue: tok.value) != nil && peek(1).hasLeadingSpace
            && ((peek(1).kind == .identifier && !Parser.reservedWords.contains(peek(1).value)) || peek(1).is(.leftBrace))
            && !peek(2).is(.leftArrow) && !peek(2).is(.equals)
    }

    mutating func skipBlankLines() {
        var progress = LoopProgress()
        while tok.kind == .newline, progress.advanced(index) { advance() }
    }

    /// Skips the rest of the line and its line break.
    mutating func skipLine() {
        skipToLineEnd()
        if tok.kind == .newline { advance() }
    }

    mutating func skipToLineEnd() {
        var progress = LoopProgress()
        while !atLineEnd, progress.advanced(index) { advance() }
    }

    /// Requires the end of the line (reporting anything left over once) and consumes the line break.
    mutating func expectLineEnd() {
        if !atLineEnd {
            reportUnexpected(tok, "unexpected \(describe(tok)) at the end of the line")
            skipToLineEnd()
        }
        if tok.kind == .newline { advance() }
    }

    /// Whether the next line that is not blank or a comment starts with a header keyword.
    func nextCodeLineIsHeader() -> Bool {
        var i = index
        while i < tokens.count {
            let t = tokens[i]
            if t.kind == .newline || t.kind == .blockComment { i += 1; continue }
            return (t.kind == .identifier && HeaderKind(rawValue: t.value) != nil
                    && i + 1 < tokens.count && tokens[i + 1].is(.colon))
                || malformedHeaderLabel(at: i)
        }
        return false
    }

    // MARK: - Diagnostics

    /// Reports an error unless this line already has one (no cascades) or the parse is speculative.
    mutating func report(_ code: DiagnosticCode, _ message: String, at span: Span, label: String? = nil,
                         labels: [Diagnostic.Label] = [], help: String? = nil) {
        if speculating > 0 { speculationFailed = true; return }
        if abandoned { return }
        let line = source.location(of: span.start).line
        guard !linesWithErrors.contains(line) else { return }
        linesWithErrors.insert(line)
        var d = Diagnostic(code, message, at: span, label: label)
        d.labels = labels
        d.help = help
        diagnostics.append(d)
    }

    mutating func report(_ code: DiagnosticCode, _ message: String, at token: Token, label: String? = nil,
                         labels: [Diagnostic.Label] = [], help: String? = nil) {
        report(code, message, at: errorSpan(token), label: label, labels: labels, help: help)
    }

    /// Where to point at a token: a line break is shown as the position right after the line's text.
    func errorSpan(_ t: Token) -> Span {
        if t.kind == .newline || t.kind == .endOfFile {
            let at = t.start
            return Span(file: source.path, start: at, end: at)
        }
        return t.span(source.path)
    }

    /// Reports a token that does not belong here; unknown characters get their own codes.
    mutating func reportUnexpected(_ t: Token, _ message: String, label: String? = nil) {
        if t.kind == .unknown {
            if t.text.hasPrefix("\\") {
                report(.unknownCommand, "unknown command `\(t.text)`", at: t, label: "not an ASCII spelling of any symbol or letter",
                       help: nil)
            } else {
                report(.unknownCharacter, "unknown character `\(t.text)`", at: t, label: "not part of the notation")
            }
            return
        }
        if t.kind == .blockComment && !t.text.hasSuffix("*/") {
            report(.unterminatedComment, "comment is not closed on its line", at: t, label: "`/*` needs a matching `*/`")
            return
        }
        // Callers that expect only unknown characters here pass no message: a comment (or anything
        // else) still gets one.
        report(.unexpectedToken, message.isEmpty ? "unexpected \(describe(t))" : message, at: t, label: label)
    }

    /// `token` in backticks, or a description of a line end.
    func describe(_ t: Token) -> String {
        switch t.kind {
        case .newline: "end of line"
        case .endOfFile: "end of file"
        case .blockComment: "comment"
        case .identifier, .number, .lineNumber, .scriptWord, .superscriptDigits, .subscriptDigits, .symbol, .unknown, .string:
            "`\(t.text)`"
        }
    }

    /// Runs `body` without reporting; restores the position and returns the result and whether it parsed cleanly.
    mutating func speculate<T>(_ body: (inout Parser) -> T) -> (T, Bool) {
        let saved = index
        let savedFailed = speculationFailed
        speculating += 1
        speculationFailed = false
        let result = body(&self)
        let ok = !speculationFailed
        speculating -= 1
        speculationFailed = savedFailed
        index = saved
        return (result, ok)
    }
}

/// Guards a loop: `advanced(index)` is false when the previous iteration consumed nothing, so a
/// loop that would spin stops instead (swift-syntax's LoopProgressCondition).
struct LoopProgress {
    var last: Int? = nil
    mutating func advanced(_ index: Int) -> Bool {
        defer { last = index }
        if let l = last, l >= index { return false }
        return true
    }
}

extension Token {
    var isLineEnd: Bool { kind == .newline || kind == .endOfFile }
}
