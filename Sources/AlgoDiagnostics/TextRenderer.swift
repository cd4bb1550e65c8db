/// Renders diagnostics like rustc: header, `--> file:line:column`, the source line with carets
/// under the primary span (`^`) and each label (`-`), then `= note:` and `= help:` lines.
/// Columns are characters, so carets line up under `ℝ`, `ℓ`, `←`.
public struct TextRenderer: Sendable {
    public var files: [String: SourceFile]
    /// ANSI colours (the caller decides: a terminal, and NO_COLOR unset).
    public var color: Bool

    public init(files: [SourceFile], color: Bool = false) {
        self.files = Dictionary(files.map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })
        self.color = color
    }

    public func render(_ diagnostics: [Diagnostic]) -> String {
        diagnostics.map(render).joined(separator: "\n")
    }

    public func render(_ d: Diagnostic) -> String {
        let file = d.source ?? files[d.span.file]
        var out = paint("\(d.severity.rawValue)[\(d.code.rawValue)]", d.severity == .error ? "1;31" : "1;33")
        out += paint(": \(d.message)", "1") + "\n"
        guard let file else {
            out += " --> \(d.span.file)\n"
            for n in d.notes { out += "  = note: \(n)\n" }
            if let h = d.help { out += "  = help: \(h)\n" }
            return out
        }
        let (line, col) = file.location(of: d.span.start)
        var snippets: [(line: Int, col: Int, width: Int, mark: Character, text: String?)] = []
        snippets.append((line, col, width(of: d.span, in: file), "^", d.spanLabel))
        var foreign: [Diagnostic.Label] = []
        for l in d.labels {
            if l.span.file == d.span.file {
                let (ll, lc) = file.location(of: l.span.start)
                snippets.append((ll, lc, width(of: l.span, in: file), "-", l.message))
            } else {
                foreign.append(l)
            }
        }
        let gutter = String(snippets.map(\.line).max() ?? line).count
        let pad = String(repeating: " ", count: gutter)
        out += "\(pad)\(paint("-->", "1;34")) \(file.path):\(line):\(col)\n"
        out += "\(pad) \(paint("|", "1;34"))\n"
        var lastLine = -1
        for s in snippets.sorted(by: { ($0.line, $0.col) < ($1.line, $1.col) }) {
            if s.line != lastLine {
                if lastLine != -1 && s.line > lastLine + 1 { out += "\(paint("...", "1;34"))\n" }
                let num = String(s.line)
                out += paint(String(repeating: " ", count: gutter - num.count) + num + " |", "1;34")
                // A tab (or a lone `\r`, a form feed …) is one column, so it is shown as one space:
                // the carets stay under their characters.
                out += " " + String(file.lineText(s.line).map { $0.isWhitespace ? " " : $0 }) + "\n"
                lastLine = s.line
            }
            let marks = String(repeating: String(s.mark), count: max(1, s.width))
            var underline = String(repeating: " ", count: s.col - 1) + marks
            if let t = s.text, !t.isEmpty { underline += " " + t }
            out += "\(pad) \(paint("|", "1;34")) " + paint(underline, s.mark == "^" ? (d.severity == .error ? "1;31" : "1;33") : "1;34") + "\n"
        }
        for l in foreign {
            if let f = files[l.span.file] {
                let (ll, lc) = f.location(of: l.span.start)
                out += "\(pad)\(paint(":::", "1;34")) \(f.path):\(ll):\(lc): \(l.message)\n"
                out += "\(pad) \(paint("|", "1;34")) \(f.lineText(ll))\n"
            } else {
                out += "\(pad)\(paint(":::", "1;34")) \(l.span.file): \(l.message)\n"
            }
        }
        if !d.notes.isEmpty || d.help != nil { out += "\(pad) \(paint("|", "1;34"))\n" }
        for n in d.notes { out += "\(pad) \(paint("=", "1;34")) note: \(n)\n" }
        if let h = d.help { out += "\(pad) \(paint("=", "1;34")) help: \(h)\n" }
        return out
    }

    /// Characters covered by the span on its first line (at least 1).
    func width(of span: Span, in file: SourceFile) -> Int {
        let (line, _) = file.location(of: span.start)
        let lineEnd = line < file.lineStarts.count ? file.lineStarts[line] - 1 : file.utf8.count
        let end = min(span.end, max(span.start, lineEnd))
        return max(1, file.characterCount(from: span.start, to: end))
    }

    func paint(_ s: String, _ code: String) -> String {
        color ? "\u{1B}[\(code)m\(s)\u{1B}[0m" : s
    }
}
