import AlgoDiagnostics
import AlgoSema
import AlgoSyntax

/// `textDocument/definition` and `textDocument/references`. A call goes to its callee's title in
/// the callee's file (the checker's lookup order: same file, directory, library directories); a
/// named argument to the callee's declaration of it; any other name to its declaration in its
/// algorithm (header line, loop, first assignment, or the type that introduces a dimension).
extension LanguageServer {
    func definition(_ params: JSON?) throws -> JSON {
        let (doc, offset) = try document(params, "textDocument/definition")
        guard let e = workspace.entry(doc.path), let o = e.index.occurrence(at: offset),
              let span = declarationSpan(of: o, in: e) else { return .null }
        return location(span) ?? .null
    }

    /// Where `o` is declared: a span in this file or another.
    func declarationSpan(of o: NameIndex.Occurrence, in e: ParsedEntry) -> Span? {
        let path = e.parsed.source.path
        switch o.role {
        case .algorithmName, .callee:
            guard let (ce, i) = workspace.algorithm(named: o.name.spelling, from: path) else { return nil }
            return ce.parsed.tree.algorithms[i].title.signature?.name.span
        case .namedArgument(let callee):
            guard let (ce, i) = workspace.algorithm(named: callee, from: path) else { return nil }
            return ce.index.declaration(of: o.name, in: i)?.name.span
        case .declaration, .binding, .assignment, .dimension, .use:
            return e.index.declaration(of: o)?.name.span
        }
    }

    func references(_ params: JSON?) throws -> JSON {
        let (doc, offset) = try document(params, "textDocument/references")
        let withDeclaration = params?["context"]?["includeDeclaration"]?.bool ?? true
        guard let e = workspace.entry(doc.path), let o = e.index.occurrence(at: offset) else { return .array([]) }
        var spans: [Span] = []
        switch o.role {
        case .algorithmName, .callee:
            guard let target = declarationSpan(of: o, in: e) else { return .array([]) }
            if withDeclaration { spans.append(target) }
            // Calls from every file that sees the callee: its directory and the directories using it as library.
            var paths = Set(workspace.algoFiles(in: LibraryPaths.directory(of: target.file)))
            for d in workspace.libraryDirectories(of: e) { paths.formUnion(workspace.algoFiles(in: d)) }
            for p in paths.sorted() {
                guard let x = workspace.entry(p) else { continue }
                for c in x.index.occurrences where c.name.spelling == o.name.spelling {
                    guard case .callee = c.role, declarationSpan(of: c, in: x) == target else { continue }
                    spans.append(c.name.span)
                }
            }
        case .namedArgument:
            if let s = declarationSpan(of: o, in: e) { spans.append(s) }
            spans.append(o.name.span)
        case .declaration, .binding, .assignment, .dimension, .use:
            let decl = declarationSpan(of: o, in: e)
            for r in e.index.references(of: o) where withDeclaration || r.name.span != decl {
                spans.append(r.name.span)
            }
        }
        return .array(spans.uniqued().compactMap(location))
    }
}
