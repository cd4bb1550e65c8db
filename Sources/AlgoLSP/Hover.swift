import AlgoDiagnostics
import AlgoSema
import AlgoSyntax

/// `textDocument/hover`: a name's proven shape in the paper's dimension names and where it is
/// bound; a call's callee header and how the call binds its dimensions; a dimension's binding
/// (header, callers); the explanation of a diagnostic's code under the cursor.
extension LanguageServer {
    func hover(_ params: JSON?) throws -> JSON {
        let (doc, offset) = try document(params, "textDocument/hover")
        ensureAnalyzed(doc.path)
        guard let e = workspace.entry(doc.path) else { return .null }
        var parts: [String] = []
        var range: Span?
        if let o = e.index.occurrence(at: offset) {
            parts += describe(o, in: e)
            range = o.name.span
        }
        for d in workspace.analyses[doc.path]?.diagnostics ?? [] where d.span.file == doc.path && d.span.start <= offset && offset <= d.span.end {
            parts.append(Self.explain(d.code))
        }
        if let (code, span) = Self.code(at: offset, in: e.parsed.source) {
            parts.append(Self.explain(code))
            range = span
        }
        guard !parts.isEmpty else { return .null }
        var result: [String: JSON] = ["contents": ["kind": "markdown", "value": JSON(parts.joined(separator: "\n\n---\n\n"))]]
        if let range { result["range"] = doc.lines.range(of: range, shift: doc.shift).json }
        return .object(result)
    }

    static func explain(_ code: DiagnosticCode) -> String {
        "**\(code.rawValue)**: \(code.title)"
    }

    /// A diagnostic code written in the text (`// error E0401` in a test file, a comment) at `offset`.
    static func code(at offset: Int, in source: SourceFile) -> (DiagnosticCode, Span)? {
        let u = source.utf8
        guard offset <= u.count else { return nil }
        var s = min(offset, u.count), t = min(offset, u.count)
        func word(_ b: UInt8) -> Bool { (b >= 48 && b <= 57) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122) }
        while s > 0, word(u[s - 1]) { s -= 1 }
        while t < u.count, word(u[t]) { t += 1 }
        let w = String(decoding: u[s..<t], as: UTF8.self)
        guard let c = DiagnosticCode(rawValue: w) else { return nil }
        return (c, Span(file: source.path, start: s, end: t))
    }

    /// What to say about one name.
    func describe(_ o: NameIndex.Occurrence, in e: ParsedEntry) -> [String] {
        let path = e.parsed.source.path
        switch o.role {
        case .algorithmName:
            var s = [Self.codeBlock(Self.header(of: e.parsed.tree.algorithms[o.algorithm], in: e.parsed.source))]
            let sites = (workspace.callSites[path] ?? []).filter { $0.callee == o.name.spelling }
            if !sites.isEmpty {
                s.append("called from " + sites.map { "\(Self.fileName($0.callerPath)) (\($0.callerTitle))" }.uniqued().joined(separator: ", "))
            }
            return s
        case .callee(let call):
            return describeCall(o.name.spelling, call: call, in: e, algorithm: o.algorithm)
        case .namedArgument(let callee):
            guard let (ce, i) = workspace.algorithm(named: callee, from: path),
                  let d = ce.index.declaration(of: o.name, in: i) else {
                return ["`\(o.name.spelling)`: a parameter of `\(callee)`"]
            }
            return ["`\(o.name.spelling)`: a \(Self.kindWord(d.role)) of `\(callee)`", Self.codeBlock(Self.line(of: d.name.span, in: ce.parsed.source))]
        case .declaration, .binding, .assignment, .dimension, .use:
            return describeValue(o, in: e)
        }
    }

    private func describeCall(_ name: String, call: Span, in e: ParsedEntry, algorithm: Int) -> [String] {
        let path = e.parsed.source.path
        let resolved = workspace.analyses[path]?.checked.first { $0.syntax.span == e.parsed.tree.algorithms[algorithm].span }?.calls[call]
        guard let (ce, i) = workspace.algorithm(named: name, from: path) else {
            if resolved?.isBuiltin == true { return ["`\(name)`: a builtin function"] }
            return ["`\(name)`: no algorithm of this name in the file or its directory (a builtin function, or unknown: the diagnostics say which)"]
        }
        let callee = ce.parsed.tree.algorithms[i]
        var s = [Self.codeBlock(Self.header(of: callee, in: ce.parsed.source))]
        let line = ce.parsed.source.location(of: callee.title.span.start).line
        s.append("defined in \(Self.fileName(ce.parsed.source.path)) line \(line)")
        if let r = resolved, !r.dimensions.isEmpty {
            let printer = TypePrinter(aliases: NameIndex.lengthAliases(e.parsed.tree.algorithms[algorithm]))
            s.append("this call binds " + r.dimensions.sorted { $0.key < $1.key }.map { "`\($0.key)` = `\(printer.dim($0.value))`" }.joined(separator: ", "))
        }
        if let r = resolved, !r.defaulted.isEmpty {
            s.append("defaulted: " + r.defaulted.map { "`\($0)`" }.joined(separator: ", "))
        }
        return s
    }

    private func describeValue(_ o: NameIndex.Occurrence, in e: ParsedEntry) -> [String] {
        let path = e.parsed.source.path
        guard let d = e.index.declaration(of: o) else {
            return ["`\(o.name.spelling)`: not declared, bound or assigned in this algorithm"]
        }
        let spelling = d.name.spelling
        var s: [String] = []
        let shapes = workspace.analyses[path]?.shapes.first { $0.title.hasSuffix(": " + (e.parsed.tree.algorithms[o.algorithm].title.signature?.name.spelling ?? "\u{0}")) }
        let algorithm = e.parsed.tree.algorithms[o.algorithm]
        if let v = shapes?.variables.first(where: { $0.name == spelling }) ?? shapes?.variables.first(where: { $0.name == "return " + spelling }) {
            if o.name.spelling != spelling, let r = v.shape.range(of: "  for each of ") {
                // A member of a family (`e_1` of `e_t`): the member's shape, then the family's.
                s.append(Self.codeBlock("\(o.name.spelling) ∈ \(v.shape[..<r.lowerBound])"))
                s.append("a member of the family `\(spelling)` over \(v.shape[r.upperBound...].trimmingCharacters(in: .whitespaces))")
            } else {
                s.append(Self.codeBlock("\(o.name.spelling) ∈ \(v.shape)"))
            }
        } else if let t = workspace.analyses[path]?.checked.first(where: { $0.syntax.span == algorithm.span })?.types[o.name.span] ?? nil {
            // Not among the variables (`Y` stacked from the family `Y^h`): the type the checker gave this occurrence.
            s.append(Self.codeBlock("\(o.name.spelling) ∈ \(TypePrinter(aliases: NameIndex.lengthAliases(algorithm)).type(t))"))
        } else {
            s.append(Self.codeBlock(o.name.spelling))
        }
        let line = e.parsed.source.location(of: d.name.span.start).line
        s.append("\(Self.kindWord(d.role)), line \(line): `\(Self.line(of: d.name.span, in: e.parsed.source).trimmingCharacters(in: .whitespaces))`")
        // How callers bind it, when it is a dimension of this algorithm.
        let title = e.parsed.tree.algorithms[o.algorithm].title.signature?.name.spelling
        let bound = (workspace.callSites[path] ?? []).filter { $0.callee == title }.compactMap { site -> String? in
            guard let v = site.dimensions[spelling] else { return nil }
            return "`\(v)` in \(Self.fileName(site.callerPath)) (\(site.callerTitle))"
        }
        if !bound.isEmpty { s.append("bound by its callers to " + bound.uniqued().joined(separator: "; ")) }
        return s
    }

    static func kindWord(_ r: NameIndex.Role) -> String {
        switch r {
        case .declaration(let k): "\(k.rawValue), declared"
        case .binding: "index, bound"
        case .assignment: "local, first assigned"
        case .dimension: "dimension, introduced"
        case .use: "named in the title"
        case .algorithmName: "algorithm"
        case .callee: "call"
        case .namedArgument: "named argument"
        }
    }

    /// The title and header lines of an algorithm, as written.
    static func header(of a: Algorithm, in source: SourceFile) -> String {
        var end = a.title.span.end
        for h in a.header {
            switch h {
            case .line(let l): end = max(end, l.span.end)
            case .comment(let c): end = max(end, c.span.end)
            }
        }
        let first = source.location(of: a.title.span.start).line, last = source.location(of: end).line
        return (first...last).map { source.lineText($0) }.joined(separator: "\n")
    }

    /// The whole source line holding a span.
    static func line(of span: Span, in source: SourceFile) -> String {
        source.lineText(source.location(of: span.start).line)
    }

    static func codeBlock(_ s: String) -> String { "```algo\n" + s + "\n```" }

    static func fileName(_ path: String) -> String {
        path.split(separator: "/").last.map(String.init) ?? path
    }
}

extension Array where Element: Hashable {
    /// The elements in order, each once.
    func uniqued() -> [Element] {
        var seen: Set<Element> = []
        return filter { seen.insert($0).inserted }
    }
}
