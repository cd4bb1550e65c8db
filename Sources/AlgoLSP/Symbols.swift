import AlgoDiagnostics
import AlgoSyntax

/// `textDocument/documentSymbol` (the algorithms, with their numbered lines nested as the loops
/// nest them) and `textDocument/formatting` (`algo fmt`, the existing formatter).
extension LanguageServer {
    func documentSymbols(_ params: JSON?) throws -> JSON {
        let (doc, _) = try document(params, "textDocument/documentSymbol")
        guard let e = workspace.entry(doc.path) else { return [] }
        let source = e.parsed.source
        func range(_ s: Span) -> JSON { doc.lines.range(of: s, shift: doc.shift).json }
        func symbol(_ name: String, _ kind: Int, _ span: Span, _ selection: Span, _ children: [JSON]) -> JSON {
            ["name": JSON(name.isEmpty ? "?" : name), "kind": JSON(kind), "range": range(span), "selectionRange": range(selection), "children": .array(children)]
        }
        func lines(_ body: [Statement]) -> [JSON] {
            body.flatMap { s -> [JSON] in
                let nested: [Statement] = switch s.kind {
                case .forLoop(let l): l.body
                case .ifThen(let i): i.body
                case .whileLoop(let w): w.body
                case .forAll(_, let b): [b]
                case .assign, .returnValue, .sample, .comment, .error: []
                }
                // The `end` line of a block is a numbered line of its own, after the block.
                var end: [JSON] = []
                let closing: (String?, Span?) = switch s.kind {
                case .forLoop(let l): (l.endLineNumber, l.endSpan)
                case .ifThen(let i): (i.endLineNumber, i.endSpan)
                case .whileLoop(let w): (w.endLineNumber, w.endSpan)
                case .forAll, .assign, .returnValue, .sample, .comment, .error: (nil, nil)
                }
                if let n = closing.0, let sp = closing.1 { end = [symbol("\(n) end", 20, sp, sp, [])] }
                guard let n = s.lineNumber else { return lines(nested) + end }
                var text = Self.line(of: s.span, in: source).trimmingCharacters(in: .whitespaces)
                if text.hasPrefix(n) { text = String(text.dropFirst(n.count)).trimmingCharacters(in: .whitespaces) }
                if text.count > 80 { text = String(text.prefix(79)) + "…" }
                return [symbol("\(n) \(text)", 20, s.span, s.span, lines(nested))] + end
            }
        }
        return .array(e.parsed.tree.algorithms.map { a in
            let title = "\(a.title.keyword.rawValue) \(a.title.number): " + (a.title.signature?.name.spelling ?? a.title.prose?.text ?? "")
            return symbol(title, 12, a.span, a.title.signature?.name.span ?? a.title.span, lines(a.body))
        })
    }

    func formatting(_ params: JSON?) throws -> JSON {
        let (doc, _) = try document(params, "textDocument/formatting")
        let (text, diagnostics) = Formatter.format(doc.source, style: .unicode)
        guard let text else {
            let n = diagnostics.filter { $0.severity == .error }.count
            throw RPCError(RPCError.requestFailed, "not formatted: the file has \(n) syntax error\(n == 1 ? "" : "s")")
        }
        guard text != doc.text else { return [] }
        let end = doc.lines.position(of: doc.lines.utf8.count)
        return [["range": TextRange(start: Position(line: 0, character: 0), end: end).json, "newText": JSON(text)]]
    }
}
