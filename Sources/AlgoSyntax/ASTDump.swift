import Foundation
import AlgoDiagnostics

/// A stable, readable dump of the tree as indented S-expressions, span-free by default so that two
/// trees (for example of the Unicode and the ASCII form of a file) compare by their dumps.
/// Expressions are in prefix form: `(+ (juxt W_q X) (juxt b_q (ᵀ 𝟏)))`.
public struct ASTDump {
    /// Add `@line:column-line:column` after each statement, declaration and header line.
    public var spans: Bool
    let source: SourceFile?
    var lines: [String] = []

    /// A dumper; `source` is needed for `spans`.
    public init(spans: Bool = false, source: SourceFile? = nil) {
        self.spans = spans
        self.source = source
    }

    /// The dump of a whole file.
    public static func dump(_ file: AlgoFile, spans: Bool = false, source: SourceFile? = nil) -> String {
        var d = ASTDump(spans: spans, source: source)
        d.file(file)
        return d.lines.joined(separator: "\n") + "\n"
    }

    /// The dump of one expression (prefix form, one line).
    public static func dump(_ e: Expr) -> String { expr(e) }

    /// The dump of one statement.
    public static func dump(_ s: Statement) -> String {
        var d = ASTDump()
        d.statement(s, 0)
        return d.lines.joined(separator: "\n")
    }

    mutating func emit(_ depth: Int, _ text: String, _ span: Span? = nil) {
        var t = String(repeating: "  ", count: depth) + text
        if spans, let span, let source {
            let (l1, c1) = source.location(of: span.start)
            let (l2, c2) = source.location(of: span.end)
            t += " @\(l1):\(c1)-\(l2):\(c2)"
        }
        lines.append(t)
    }

    mutating func file(_ f: AlgoFile) {
        emit(0, "(file")
        for c in f.leadingComments { emit(1, "(comment \(quote(c.text)))", c.span) }
        for a in f.algorithms { algorithm(a) }
        lines[lines.count - 1] += ")"
    }

    mutating func algorithm(_ a: Algorithm) {
        emit(1, a.title.keyword == .experiment ? "(experiment \(a.title.number)" : "(algorithm \(a.title.number)", a.span)
        var title = "(title"
        if let s = a.title.signature {
            title += " (outputs" + s.outputs.map { " " + ASTDump.expr($0) }.joined() + ")"
            title += " " + s.name.spelling
            title += " (inputs" + s.inputs.map { " " + ASTDump.parameter($0) }.joined() + ")"
            title += " (params" + s.parameters.map { " " + ASTDump.parameter($0) }.joined() + ")"
        }
        if let p = a.title.prose { title += " (prose \(quote(p.text)))" }
        emit(2, title + ")", a.title.span)
        for item in a.header {
            switch item {
            case .comment(let c): emit(2, "(comment \(quote(c.text)))", c.span)
            case .line(let h): headerLine(h)
            }
        }
        emit(2, "(body")
        for s in a.body { statement(s, 3) }
        lines[lines.count - 1] += "))"
    }

    static func parameter(_ p: SignatureParameter) -> String {
        guard let d = p.defaultValue else { return expr(p.name) }
        return "(= \(expr(p.name)) \(expr(d)))"
    }

    mutating func headerLine(_ h: HeaderLine) {
        switch h.content {
        case .declarations(let d):
            emit(2, "(\(h.kind.rawValue) \(ASTDump.declarationLine(d)))", h.span)
        case .collection(let c):
            emit(2, "(\(h.kind.rawValue) (collection \(c.name.spelling) \(quote(c.phrase.text))", h.span)
            for m in c.members {
                switch m {
                case .comment(let x): emit(3, "(comment \(quote(x.text)))", x.span)
                case .declarations(let d): emit(3, ASTDump.declarationLine(d), d.span)
                case .group(let g):
                    var head = "(group \(g.variable.spelling) \(ASTDump.type(g.domain))"
                    if let n = g.collection { head += " (collection \(n.spelling))" }
                    if let p = g.phrase { head += " (prose \(quote(p.text)))" }
                    emit(3, head, g.span)
                    for d in g.members { emit(4, ASTDump.declarationLine(d), d.span) }
                    lines[lines.count - 1] += ")"
                }
            }
            lines[lines.count - 1] += "))"
        }
    }

    static func declarationLine(_ d: DeclarationLine) -> String {
        var parts = d.declarations.map { decl in
            "(decl (" + decl.names.map(expr).joined(separator: " ") + ")" + (decl.type.map { " " + type($0) } ?? "")
                + (decl.value.map { " (= " + expr($0) + ")" } ?? "") + ")"
        }
        if let p = d.prose { parts.append("(prose \(quote(p.text)))") }
        return "(line " + parts.joined(separator: " ") + ")"
    }

    mutating func statement(_ s: Statement, _ depth: Int) {
        var head = "("
        if let n = s.lineNumber { head += "\(n) " }
        var tail = ""
        if let c = s.claim { tail += " (claim \(c.label.spelling) \(ASTDump.type(c.type)))" }
        if let p = s.prose { tail += " (prose \(quote(p.text)))" }
        switch s.kind {
        case .assign(let t, let op, let v):
            emit(depth, head + "\(op.rawValue) \(ASTDump.expr(t)) \(ASTDump.expr(v))" + tail + ")", s.span)
        case .returnValue(let t, let v):
            let target = t.map { ASTDump.expr($0) + " " } ?? ""
            emit(depth, head + "return \(target)\(ASTDump.expr(v))" + tail + ")", s.span)
        case .sample(let x):
            var text = head + "sample"
            if let d = x.description { text += " \(quote(d))" }
            text += " \(ASTDump.expr(x.target))"
            if let q = x.distribution { text += " (∝ \(ASTDump.expr(q)) \(ASTDump.expr(x.weights)))" } else { text += " \(ASTDump.expr(x.weights))" }
            emit(depth, text + tail + ")", s.span)
        case .comment(let c):
            emit(depth, head + "comment \(quote(c)))", s.span)
        case .error:
            emit(depth, head + "error)", s.span)
        case .forLoop(let f):
            let range: String
            switch f.range {
            case .counting(let vs): range = "(= " + vs.map(ASTDump.expr).joined(separator: " ") + ")"
            case .domain(let t): range = "(∈ " + ASTDump.type(t) + ")"
            }
            emit(depth, head + "for \(f.variable.spelling) \(range) \(f.form.rawValue)", s.span)
            for b in f.body { statement(b, depth + 1) }
            if let n = f.endLineNumber { emit(depth + 1, "(\(n) end)") }
            lines[lines.count - 1] += ")"
        case .forAll(let vs, let body):
            emit(depth, head + "∀ (" + vs.map(\.spelling).joined(separator: " ") + ")", s.span)
            statement(body, depth + 1)
            lines[lines.count - 1] += ")"
        case .ifThen(let i):
            emit(depth, head + "if \(ASTDump.expr(i.condition)) \(i.form.rawValue)", s.span)
            for b in i.body { statement(b, depth + 1) }
            if let n = i.endLineNumber { emit(depth + 1, "(\(n) end)") }
            lines[lines.count - 1] += ")"
        case .whileLoop(let w):
            emit(depth, head + "while \(ASTDump.expr(w.condition))", s.span)
            for b in w.body { statement(b, depth + 1) }
            if let n = w.endLineNumber { emit(depth + 1, "(\(n) end)") }
            lines[lines.count - 1] += ")"
        }
    }

    /// Prefix form of an expression.
    static func expr(_ e: Expr) -> String {
        switch e.kind {
        case .name(let n): return name(n)
        case .number(let s): return s
        case .text(let s): return quote(s)
        case .ones: return "𝟏"
        case .infinity: return "∞"
        case .ellipsis: return "…"
        case .all: return ":"
        case .missing: return "(missing)"
        case .binary(let op, let l, let r): return "(\(op.rawValue) \(expr(l)) \(expr(r)))"
        case .unary(let op, let x): return "(\(op == .negate ? "neg" : op.rawValue) \(expr(x)))"
        case .transpose(let x): return "(ᵀ \(expr(x)))"
        case .scripted(let x, let ss): return "(scripted \(expr(x))" + ss.map { " " + script($0) }.joined() + ")"
        case .sum(let s):
            var t = "(Σ"
            if let l = s.lower { t += " " + script(l) }
            if let u = s.upper { t += " " + script(u) }
            return t + " \(expr(s.body)))"
        case .call(let c):
            var t = "(call \(name(c.callee))" + c.arguments.map { " " + expr($0) }.joined()
            if c.hasBar {
                t += " |" + c.parameters.map { p in
                    if let target = p.target, let op = p.op { return " (\(op.rawValue) \(expr(target)) \(expr(p.value)))" }
                    return " " + expr(p.value)
                }.joined()
            }
            return t + ")"
        case .index(let x, let args): return "(index \(expr(x))" + args.map { " " + expr($0) }.joined() + ")"
        case .slice(let lo, let hi): return "(slice \(lo.map(expr) ?? "_") \(hi.map(expr) ?? "_"))"
        case .list(let items, let sep): return "(\(sep == .comma ? "hlist" : "vlist")" + items.map { " " + expr($0) }.joined() + ")"
        case .iverson(let x): return "(iverson \(expr(x)))"
        case .tuple(let items): return "(tuple" + items.map { " " + expr($0) }.joined() + ")"
        case .set(let items): return "(set" + items.map { " " + expr($0) }.joined() + ")"
        case .setBuilder(let v, let d, let c): return "(set-builder \(name(v)) \(type(d)) \(expr(c)))"
        case .membership(let x, let t): return "(∈ \(expr(x)) \(type(t)))"
        case .randomChoice(let os, let ps):
            return "(random (" + os.map(expr).joined(separator: " ") + ") (" + ps.map(expr).joined(separator: " ") + "))"
        }
    }

    /// A name: its spelling; names with braced scripts show the parsed script too.
    static func name(_ n: Name) -> String {
        n.base.isEmpty ? "(missing)" : n.spelling
    }

    static func script(_ s: Script) -> String {
        "\(s.position.rawValue)\(s.braced ? expr(s.value) : s.raw)"
    }

    /// Prefix form of a type.
    static func type(_ t: TypeExpr) -> String {
        switch t.kind {
        case .reals: "ℝ"
        case .naturals: "ℕ"
        case .named(let n): name(n)
        case .power(let b, let dims, _): "(^ \(type(b))" + dims.map { " " + expr($0) }.joined() + ")"
        case .sequences(let b): "(* \(type(b)))"
        case .range(let e): "(range \(expr(e)))"
        case .finiteSet(let items): "(set" + items.map { " " + expr($0) }.joined() + ")"
        case .interval(let a, let b): "(interval \(expr(a)) \(expr(b)))"
        case .applied(let n, let args): "(\(name(n))" + args.map { " " + type($0) }.joined() + ")"
        case .congruent(let a, let b): "(≅ \(type(a)) \(type(b)))"
        case .missing: "(missing)"
        }
    }
}

/// A string in double quotes with `\` and `"` escaped.
func quote(_ s: String) -> String {
    "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
}
