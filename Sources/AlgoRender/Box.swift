import AlgoDiagnostics
import AlgoSyntax

/// One algorithm box as the paper sets it, independent of the output format: the title, then rows
/// (description, header lines, collection members, numbered body lines with their block depth).
/// `BoxBuilder` makes it from the syntax tree; the LaTeX, HTML and Markdown writers print it.
public struct Box: Sendable {
    /// `Algorithm` or `Experiment`.
    public var keyword: TitleKeyword
    /// The number as written (`10`).
    public var number: String
    /// The signature's name (`DTransformer`), nil for a prose-only title.
    public var name: String?
    /// `P ← DTransformer(x | θ)`.
    public var signature: Math?
    /// The title's prose (after `—`, or the whole title when it has no signature).
    public var titleProse: String?
    /// The file and the title's line.
    public var file: String
    public var line: Int
    public var rows: [Row]

    /// `Algorithm 10`.
    public var label: String { keyword.rawValue + " " + number }
}

/// One line of a box.
public struct Row: Sendable {
    public enum Kind: Sendable, Equatable {
        /// A `/* … */` line of the header: the box's description.
        case description
        /// `Input:`, `Output:`, `Parameters:`, `Hyperparameters:` and what follows.
        case header(HeaderKind)
        /// A line of a parameter collection, `indent` levels in; `barred` for the `|` lines of a group.
        case member(indent: Int, barred: Bool)
        /// A body line: its paper number (if written) and block depth (0 at the top).
        case body(number: String?, depth: Int)
    }
    public var kind: Kind
    public var segments: [Segment]
    /// `[[Query ∈ ℝ^{d_attn×ℓ_x}]]`, set to the right.
    public var claim: Math?
    /// The `//` comments (errata, notes) on or just before this line.
    public var notes: [String] = []
    /// The source line (1-based), for diagnostics shown at the line and for anchors.
    public var line: Int
}

/// A piece of a row.
public enum Segment: Sendable, Equatable {
    /// `for`, `do`, `end`, `return`, `if`, `then`: bold, like the paper's.
    case keyword(String)
    case math(Math)
    /// Text (prose after declarations and statements, `/* … */` lines, separators between declarations).
    case prose(String)
}

extension Segment {
    /// The printed pieces of a row's segments joined, one space between two segments except before
    /// prose that starts with punctuation or a space (`, where …`) and after prose that ends with one.
    /// The one spacing rule of every writer.
    static func join(_ segments: [Segment], _ pieces: [String]) -> String {
        var out = ""
        for (i, piece) in pieces.enumerated() {
            if i > 0, i < segments.count, space(between: segments[i - 1], and: segments[i]) { out += " " }
            out += piece
        }
        return out
    }

    static func space(between a: Segment, and b: Segment) -> Bool {
        if case .prose(let p) = b, let c = p.first, ",.:;)-'’ ".contains(c) { return false }
        if case .prose(let p) = a, let c = p.last, c == " " || c == "(" { return false }
        return true
    }
}

/// Makes boxes from a parsed file.
public struct BoxBuilder {
    let source: SourceFile
    let math: MathBuilder
    /// Source line → the `//` comments on it.
    let notes: [Int: [String]]
    /// The algorithm's names by spelling: a word of prose that is one of them is set as mathematics
    /// ("tokens in X", "for layer l"), as the paper does.
    public var proseNames: [String: Name] = [:]

    public init(source: SourceFile, math: MathBuilder) {
        self.source = source
        self.math = math
        var notes: [Int: [String]] = [:]
        var line = 1
        for t in Lexer.tokenize(source) {
            for case .lineComment(let text) in t.leadingTrivia {
                var body = Substring(text)
                if body.hasPrefix("//") { body = body.dropFirst(2) }
                notes[line, default: []].append(body.trimmingCharacters(in: .whitespaces))
            }
            if t.kind == .newline { line += 1 }
        }
        self.notes = notes
    }

    func line(_ span: Span) -> Int { source.location(of: span.start).line }

    /// The box of one algorithm; `end` is the line after its last (the next title, or past the file).
    public func box(_ a: Algorithm, endLine: Int) -> Box {
        var rows: [Row] = []
        for item in a.header {
            switch item {
            case .comment(let c):
                rows.append(Row(kind: .description, segments: comment(c.text), line: line(c.span)))
            case .line(let h):
                switch h.content {
                case .declarations(let d):
                    rows.append(Row(kind: .header(h.kind), segments: declarations(d), line: line(h.span)))
                case .collection(let c):
                    var first = [Segment.math(math.name(c.name))]
                    if !c.phrase.text.isEmpty { first += prose(" " + c.phrase.text) }
                    rows.append(Row(kind: .header(h.kind), segments: first, line: line(h.span)))
                    for m in c.members { member(m, into: &rows) }
                }
            }
        }
        for s in a.body { statement(s, depth: 0, into: &rows) }
        attachNotes(&rows, title: line(a.title.span), end: endLine)
        let sig = a.title.signature.map(signature)
        return Box(keyword: a.title.keyword, number: a.title.number, name: a.title.signature?.name.spelling,
                   signature: sig, titleProse: a.title.prose?.text, file: source.path, line: line(a.title.span), rows: rows)
    }

    /// `P ← DTransformer(x | θ)`.
    func signature(_ s: Signature) -> Math {
        func entry(_ p: SignatureParameter) -> Math {
            guard let d = p.defaultValue else { return math.expression(p.name) }
            return .row([math.expression(p.name), .op("="), math.expression(d)])
        }
        var inside = math.listed(s.inputs.map(entry))
        if !s.parameters.isEmpty { inside += [.op("|")] + math.listed(s.parameters.map(entry)) }
        let outputs = math.listed(s.outputs.map { math.expression($0) })
        return .row(outputs + [.op("←"), math.callee(s.name), .op("(")] + inside + [.op(")")])
    }

    /// `X ∈ ℝ^{d_x×ℓ_x}, Z ∈ ℝ^{d_z×ℓ_z}, vector representations …`.
    func declarations(_ d: DeclarationLine) -> [Segment] {
        var out: [Segment] = []
        for (i, decl) in d.declarations.enumerated() {
            if i > 0 { out.append(.prose(", ")) }
            var m = math.listed(decl.names.map { math.expression($0) })
            if let t = decl.type { m += [.op("∈"), math.type(t)] }
            if let v = decl.value { m += [.op("="), math.expression(v)] }
            out.append(.math(.row(m)))
        }
        if let p = d.prose {
            out += prose(out.isEmpty ? p.text : ", " + p.text)
        } else if source.slice(d.span).trimmingCharacters(in: .whitespaces).hasSuffix(".") {
            out.append(.prose("."))
        }
        return out
    }

    func member(_ m: CollectionMember, into rows: inout [Row]) {
        switch m {
        case .declarations(let d):
            rows.append(Row(kind: .member(indent: 1, barred: false), segments: declarations(d), line: line(d.span)))
        case .comment(let c):
            rows.append(Row(kind: .member(indent: 1, barred: false), segments: comment(c.text), line: line(c.span)))
        case .group(let g):
            var head: [Segment] = [.keyword("For"), .math(.row([math.name(g.variable), .op("∈"), math.type(g.domain)]))]
            if let c = g.collection {
                head += [.prose(", "), .math(math.name(c))]
                if let p = g.phrase, !p.text.isEmpty { head += prose(" " + p.text) }
            } else {
                head.append(.prose(":"))
            }
            rows.append(Row(kind: .member(indent: 1, barred: false), segments: head, line: line(g.span)))
            for d in g.members {
                rows.append(Row(kind: .member(indent: 2, barred: true), segments: declarations(d), line: line(d.span)))
            }
        }
    }

    // MARK: - Body

    /// The rows of a statement at `depth`: one row, plus the rows of a block body and its `end`.
    func statement(_ s: Statement, depth: Int, into rows: inout [Row]) {
        var row = Row(kind: .body(number: s.lineNumber, depth: depth), segments: inline(s), line: line(s.span))
        row.claim = s.claim.map(claim)
        rows.append(row)
        func block(_ body: [Statement], _ endNumber: String?, _ endSpan: Span?) {
            for b in body { statement(b, depth: depth + 1, into: &rows) }
            if let e = endSpan {
                rows.append(Row(kind: .body(number: endNumber, depth: depth), segments: [.keyword("end")], line: line(e)))
            }
        }
        switch s.kind {
        case .forLoop(let f) where f.form != .inline: block(f.body, f.endLineNumber, f.endSpan)
        case .ifThen(let i) where i.form != .inline: block(i.body, i.endLineNumber, i.endSpan)
        case .whileLoop(let w): block(w.body, w.endLineNumber, w.endSpan)
        case .forLoop, .ifThen, .forAll, .assign, .returnValue, .sample, .comment, .error: break
        }
    }

    /// The segments of a statement's own line (a one-line body included), with its prose.
    func inline(_ s: Statement) -> [Segment] {
        var out: [Segment]
        switch s.kind {
        case .assign(let target, let op, let value):
            out = [.math(.row([math.expression(target), .op(op.rawValue), math.expression(value)]))]
        case .returnValue(let target, let value):
            let m = target.map { Math.row([math.expression($0), .op("="), math.expression(value)]) } ?? math.expression(value)
            out = [.keyword("return"), .math(m)]
        case .forLoop(let f):
            let v = math.name(f.variable)
            let range: Math
            switch f.range {
            case .counting(let values): range = .row([v, .op("=")] + math.listed(values.map { math.expression($0) }))
            case .domain(let t): range = .row([v, .op("∈"), math.type(t)])
            }
            switch f.form {
            case .inline: out = [.keyword("for"), .math(.row([range, .op(":")]))] + f.body.flatMap(inline)
            case .doEnd: out = [.keyword("for"), .math(range), .keyword("do")]
            case .indented: out = [.keyword("For"), .math(range), .prose(":")]
            }
        case .forAll(let variables, let body):
            let vars = Math.row([.op("∀")] + math.listed(variables.map(math.name)))
            if case .ifThen = body.kind {
                out = [.math(.row([vars, .op(",")]))] + inline(body)
            } else {
                out = [.math(.row([vars, .op(":")]))] + inline(body)
            }
        case .ifThen(let i):
            out = [.keyword("if"), .math(math.expression(i.condition)), .keyword("then")]
            if i.form == .inline { out += i.body.flatMap(inline) }
        case .whileLoop(let w):
            out = [.keyword("while"), .math(math.expression(w.condition)), .keyword("do")]
        case .sample(let smp):
            out = [.keyword("sample")]
            if let d = smp.description, !d.isEmpty { out.append(.prose(d + " ")) }
            out += [.math(math.expression(smp.target)), .keyword("from")]
            if let dist = smp.distribution {
                out.append(.math(.row([math.expression(dist), .op("∝"), math.expression(smp.weights)])))
            } else {
                out.append(.math(math.expression(smp.weights)))
            }
        case .comment(let text):
            out = comment(text)
        case .error:
            out = [.prose(sourceText(of: s))]
        }
        if let p = s.prose { out += prose(", " + p.text) }
        return out
    }

    /// Prose with the algorithm's names in it set as mathematics: a word (letters, digits, accents,
    /// primes, `_`, `^`) that is exactly a name's spelling and stands as a word of the sentence
    /// (after a space or `(`, before a space or punctuation: "tokens in X", "the t-th column", not
    /// the `x` of `x[t+1]`), except the English words `a` and `I`.
    func prose(_ text: String) -> [Segment] {
        guard !proseNames.isEmpty else { return [.prose(text)] }
        var out: [Segment] = []
        var plain = ""
        var word = ""
        func isWordCharacter(_ c: Character) -> Bool { c.isLetter || c.isNumber || c == "_" || c == "^" || c == "′" }
        func endWord(before next: Character?) {
            let after = next.map { " ,.;:)-'’".contains($0) } ?? true
            let before = plain.last.map { $0 == " " || $0 == "(" } ?? true
            if after, before, let n = proseNames[word], word != "a", word != "I" {
                if !plain.isEmpty { out.append(.prose(plain)); plain = "" }
                out.append(.math(math.name(n)))
            } else {
                plain += word
            }
            word = ""
        }
        for c in text {
            if isWordCharacter(c) {
                word.append(c)
            } else {
                if !word.isEmpty { endWord(before: c) }
                plain.append(c)
            }
        }
        if !word.isEmpty { endWord(before: nil) }
        if !plain.isEmpty { out.append(.prose(plain)) }
        return out
    }

    /// A `/* … */` line: its prose between the paper's delimiters.
    func comment(_ text: String) -> [Segment] { [.prose("/* ")] + prose(text) + [.prose(" */")] }

    /// `Query ∈ ℝ^{d_attn×ℓ_x}`: the label's first letter bold, as the paper sets it.
    func claim(_ c: Claim) -> Math {
        let label = c.label.spelling
        guard let first = label.first else { return .row([.op("∈"), math.type(c.type)]) }
        var head: [Math] = [.identifier(String(first), .boldUpright)]
        if label.count > 1 { head.append(.identifier(String(label.dropFirst()), .upright)) }
        return .row(head + [.op("∈"), math.type(c.type)])
    }

    /// A line the parser could not read, as written (without its line number).
    func sourceText(of s: Statement) -> String {
        var text = source.slice(s.span).trimmingCharacters(in: .whitespaces)
        if let n = s.lineNumber, text.hasPrefix(n + " ") { text = String(text.dropFirst(n.count + 1)) }
        return text
    }

    /// Gives each row the `//` comments between the previous row and its own line; comments before
    /// the title (the file's provenance) belong to no box, those after the last row to the last row.
    func attachNotes(_ rows: inout [Row], title: Int, end: Int) {
        var previous = title
        for i in rows.indices {
            let l = rows[i].line
            guard l >= previous else { continue }
            for n in previous...l where n > title || (n == title && i == 0) { rows[i].notes += notes[n] ?? [] }
            previous = l + 1
        }
        if let last = rows.indices.last, previous < end {
            for n in previous..<end { rows[last].notes += notes[n] ?? [] }
        }
    }
}
