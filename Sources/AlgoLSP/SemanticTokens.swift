import AlgoDiagnostics
import AlgoSyntax

/// The words of `.algo` that are keywords where the parser expects them (they are contextual:
/// elsewhere they are names or prose). `KeywordTests` checks that every word the parser tests with
/// `isWord(…)` is here, so highlighting cannot drift from the grammar.
public enum Keywords {
    /// Words that structure the body: loops, conditions, return, sampling.
    public static let control = ["for", "For", "do", "end", "if", "then", "while", "return", "sample", "from", "or"]
    /// Words that open a block: `Algorithm N:`, `Experiment N:`.
    public static let titles = ["Algorithm", "Experiment"]
    /// Header labels (`Input:` …) and the words of a parameter collection (`consisting of`, `includes`).
    public static let header = HeaderKind.allCases.map(\.rawValue) + ["consisting", "includes"]
    public static var all: [String] { control + titles + header }
}

/// `textDocument/semanticTokens/full`: names by what the resolver says they are (algorithms,
/// dimensions and hyperparameters, parameters, values), keywords where code is, numbers, operators,
/// comments and strings. Prose is left to the TextMate grammar.
enum SemanticTokens {
    static let types = ["keyword", "function", "variable", "parameter", "typeParameter", "number", "operator", "comment", "string"]
    static let modifiers = ["declaration"]

    struct Token { var start: Int; var end: Int; var type: Int; var modifiers: Int }

    static func type(_ n: String) -> Int { types.firstIndex(of: n) ?? 2 }

    /// The tokens of a file, as `(start, end, type, modifiers)` byte spans in source order.
    static func tokens(_ e: ParsedEntry) -> [Token] {
        var out: [Token] = []
        let prose = proseSpans(e.parsed.tree)
        var names: [Token] = []
        for o in e.index.occurrences where !o.inScript {
            let (t, m): (String, Int) = switch o.role {
            case .algorithmName: ("function", 1)
            case .callee: ("function", 0)
            case .namedArgument: ("parameter", 0)
            case .declaration(.hyperparameter): ("typeParameter", 1)
            case .declaration(.parameter), .declaration(.collection): ("parameter", 1)
            case .declaration: ("variable", 1)
            case .binding: ("variable", 1)
            case .dimension: ("typeParameter", 0)
            case .assignment, .use:
                switch e.index.declaration(of: o)?.role {
                case .declaration(.hyperparameter)?, .dimension?: ("typeParameter", 0)
                case .declaration(.parameter)?, .declaration(.collection)?: ("parameter", 0)
                case .declaration?, .binding?, .assignment?, .use?, .algorithmName?, .callee?, .namedArgument?, nil: ("variable", 0)
                }
            }
            names.append(Token(start: o.name.span.start, end: o.name.span.end, type: type(t), modifiers: m))
        }
        names.sort { $0.start < $1.start }
        var ni = 0
        func inName(_ s: Int) -> Bool {
            while ni < names.count, names[ni].end <= s { ni += 1 }
            return ni < names.count && names[ni].start <= s
        }
        func inProse(_ s: Int) -> Bool { prose.contains { $0.start <= s && s < $0.end } }
        for tok in Lexer.tokenize(e.parsed.source) {
            var p = tok.start - tok.triviaText.utf8.count
            for tr in tok.leadingTrivia {
                let n = tr.text.utf8.count
                if case .lineComment = tr { out.append(Token(start: p, end: p + n, type: type("comment"), modifiers: 0)) }
                p += n
            }
            if inName(tok.start) || inProse(tok.start) { continue }
            let t: String? = switch tok.kind {
            case .identifier: Keywords.all.contains(tok.value) ? "keyword" : nil
            case .number, .lineNumber: "number"
            case .blockComment: "comment"
            case .string: "string"
            case .symbol(let s): isOperator(s) ? "operator" : nil
            case .scriptWord, .superscriptDigits, .subscriptDigits, .newline, .endOfFile, .unknown: nil
            }
            if let t { out.append(Token(start: tok.start, end: tok.end, type: type(t), modifiers: 0)) }
        }
        out += names
        return out.sorted { $0.start < $1.start }
    }

    static func isOperator(_ s: Symbol) -> Bool {
        switch s {
        case .leftParen, .rightParen, .leftBracket, .rightBracket, .leftBrace, .rightBrace, .comma, .semicolon, .colon,
             .bar, .period, .underscore, .caret, .emDash, .upArrow:
            false
        case .leftArrow, .elementOf, .reals, .naturals, .times, .hadamard, .sqrt, .sum, .forAll, .not, .lessEqual,
             .greaterEqual, .notEqual, .infinity, .nabla, .proportional, .equivalent, .cdot, .congruent, .ones, .transpose,
             .minus, .ellipsis, .plus, .slash, .star, .equals, .less, .greater:
            true
        }
    }

    /// The spans of prose (documentation text) in a file.
    static func proseSpans(_ f: AlgoFile) -> [Span] {
        var out: [Span] = []
        func line(_ d: DeclarationLine) { if let p = d.prose { out.append(p.span) } }
        func statement(_ s: Statement) {
            if let p = s.prose { out.append(p.span) }
            switch s.kind {
            case .forLoop(let l): l.body.forEach(statement)
            case .ifThen(let i): i.body.forEach(statement)
            case .whileLoop(let w): w.body.forEach(statement)
            case .forAll(_, let b): statement(b)
            case .assign, .returnValue, .sample, .comment, .error: break
            }
        }
        for a in f.algorithms {
            if let p = a.title.prose { out.append(p.span) }
            for h in a.header {
                guard case .line(let l) = h else { continue }
                switch l.content {
                case .declarations(let d): line(d)
                case .collection(let c):
                    out.append(c.phrase.span)
                    for m in c.members {
                        switch m {
                        case .declarations(let d): line(d)
                        case .group(let g):
                            if let p = g.phrase { out.append(p.span) }
                            g.members.forEach(line)
                        case .comment: break
                        }
                    }
                }
            }
            a.body.forEach(statement)
        }
        return out
    }

    /// The LSP encoding: five integers per token, line and start relative to the previous token,
    /// in UTF-16 units.
    static func encode(_ tokens: [Token], _ lines: LineIndex, shift: Int) -> [Int] {
        var data: [Int] = []
        var prevLine = 0, prevChar = 0
        var lastEnd = -1
        for t in tokens where t.start >= lastEnd && t.end > t.start {
            let s = lines.position(of: t.start + shift), e = lines.position(of: t.end + shift)
            guard s.line == e.line else { continue }
            data += [s.line - prevLine, s.line == prevLine ? s.character - prevChar : s.character, e.character - s.character, t.type, t.modifiers]
            prevLine = s.line
            prevChar = s.character
            lastEnd = t.end
        }
        return data
    }
}

extension LanguageServer {
    func semanticTokens(_ params: JSON?) throws -> JSON {
        let (doc, _) = try document(params, "textDocument/semanticTokens/full")
        guard let e = workspace.entry(doc.path) else { return ["data": []] }
        let data = SemanticTokens.encode(SemanticTokens.tokens(e), doc.lines, shift: doc.shift)
        return ["data": .array(data.map { JSON($0) })]
    }
}
