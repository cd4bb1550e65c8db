import AlgoDiagnostics
import AlgoSyntax

/// `textDocument/completion`: the ASCII spellings the lexer knows, turned into the paper's Unicode
/// as you type (`\gamma` → `γ`, `<-` → `←`, `\mathbb{R}` and its short form `\R` → `ℝ`), and the
/// names and dimensions of the algorithm at the cursor and the algorithms of its directory.
extension LanguageServer {
    func completion(_ params: JSON?) throws -> JSON {
        let (doc, offset) = try document(params, "textDocument/completion")
        let source = doc.source
        let lineStart = source.location(of: offset).line
        let start = source.lineStarts[lineStart - 1]
        let before = String(decoding: source.utf8[start..<min(offset, source.utf8.count)], as: UTF8.self)
        var items: [JSON] = []
        func edit(_ typed: String, _ replacement: String) -> JSON {
            let from = offset - typed.utf8.count
            let range = doc.lines.range(of: Span(file: doc.path, start: from, end: offset), shift: doc.shift)
            return ["range": range.json, "newText": JSON(replacement)]
        }
        if let typed = Spellings.macroPrefix(before) {
            for s in Spellings.completions where s.ascii.hasPrefix(typed) {
                items.append(["label": JSON(s.ascii), "kind": 15, "detail": JSON(s.unicode + "  " + s.meaning),
                              "filterText": JSON(s.ascii), "sortText": JSON(s.ascii), "textEdit": edit(typed, s.unicode)])
            }
        }
        for s in Spellings.operatorCompletions where before.hasSuffix(s.ascii) {
            items.append(["label": JSON(s.ascii + " → " + s.unicode), "kind": 24, "detail": JSON(s.meaning),
                          "filterText": JSON(s.ascii), "textEdit": edit(s.ascii, s.unicode)])
        }
        let word = String(before.reversed().prefix { $0.isLetter || $0.isNumber || $0 == "_" || $0 == Spellings.prime || $0 == "'" }.reversed())
        if items.isEmpty, !word.isEmpty || params?["context"]?["triggerKind"]?.int == 1 {
            items += names(startingWith: word, at: offset, in: doc).map { n in
                ["label": JSON(n.name), "kind": JSON(n.kind), "detail": JSON(n.detail), "textEdit": edit(word, n.name)]
            }
        }
        return ["isIncomplete": true, "items": .array(items)]
    }

    /// Names of the algorithm at `offset` (declarations and dimensions) and the algorithms of the
    /// file and its directory.
    private func names(startingWith prefix: String, at offset: Int, in doc: Document) -> [(name: String, kind: Int, detail: String)] {
        guard let e = workspace.entry(doc.path) else { return [] }
        var out: [(String, Int, String)] = []
        if let a = e.index.algorithm(at: offset) {
            for (spelling, d) in e.index.declarations[a].sorted(by: { $0.key < $1.key }) where spelling.hasPrefix(prefix) {
                out.append((spelling, d.role == .dimension ? 25 : 6, Self.kindWord(d.role)))
            }
        }
        var algorithms: Set<String> = []
        for f in [e] + workspace.library(of: e) {
            for a in f.parsed.tree.algorithms { if let n = a.title.signature?.name.spelling { algorithms.insert(n) } }
        }
        for n in algorithms.sorted() where n.hasPrefix(prefix) { out.append((n, 3, "algorithm")) }
        return out
    }
}

/// One completion: an ASCII spelling and the Unicode it becomes.
struct SpellingCompletion: Sendable {
    let ascii: String
    let unicode: String
    let meaning: String
}

extension Spellings {
    /// Every backslash spelling of a symbol or letter, and for braced ones (`\mathbb{R}`,
    /// `\mathcal{W}`, `\mathbf{1}`) the short form `\R`, `\W`, `\1` (completion only; the lexer
    /// reads the long form). Derived from the lexer's tables.
    static let completions: [SpellingCompletion] = {
        var out: [SpellingCompletion] = []
        for e in symbols {
            for s in [e.ascii] + e.aliases where s.hasPrefix("\\") {
                out.append(SpellingCompletion(ascii: s, unicode: e.unicode, meaning: e.meaning))
            }
        }
        for l in letters { out.append(SpellingCompletion(ascii: l.ascii, unicode: l.unicode, meaning: "letter")) }
        var short: [SpellingCompletion] = []
        for c in out {
            if let open = c.ascii.firstIndex(of: "{"), c.ascii.hasSuffix("}") {
                let inner = c.ascii[c.ascii.index(after: open)..<c.ascii.index(before: c.ascii.endIndex)]
                let s = "\\" + inner
                if !out.contains(where: { $0.ascii == s }), !short.contains(where: { $0.ascii == s }) {
                    short.append(SpellingCompletion(ascii: s, unicode: c.unicode, meaning: c.meaning + " (" + c.ascii + ")"))
                }
            }
        }
        return out + short
    }()

    /// The ASCII spellings of two or more characters without a backslash whose Unicode differs
    /// (`<-`, `<=`, `>=`, `!=`, `--`, `...`, `^T`).
    static let operatorCompletions: [SpellingCompletion] = symbols.flatMap { e in
        ([e.ascii] + e.aliases).filter { !$0.hasPrefix("\\") && $0.count >= 2 && $0 != e.unicode && $0.allSatisfy(\.isASCII) }
            .map { SpellingCompletion(ascii: $0, unicode: e.unicode, meaning: e.meaning) }
    }

    /// The backslash command being typed at the end of `text` (`\gam`, `\mathbb{R`), or nil.
    static func macroPrefix(_ text: String) -> String? {
        guard let slash = text.lastIndex(of: "\\") else { return nil }
        let tail = text[text.index(after: slash)...]
        guard tail.allSatisfy({ ($0.isASCII && ($0.isLetter || $0.isNumber)) || $0 == "{" || $0 == "}" }) else { return nil }
        return "\\" + tail
    }
}
