import AlgoDiagnostics
import AlgoSyntax

/// The static site of `algo render --html`: `index.html` (every box in the paper's order, with
/// whether it checks), one page per algorithm, and `algo.css`. No JavaScript: names show their
/// shape on hover and on keyboard focus by CSS alone; calls are links to the callee's page;
/// diagnostics of a file that does not check are shown under the line they point at.
public struct HTMLSite {
    let set: RenderSet
    let comments: CommentMode
    /// Every box with its file, in the paper's order.
    let entries: [(box: Box, file: RenderFile)]
    /// Algorithm name → page (the first box of that name in the paper's order).
    let pageOfName: [String: String]
    /// Page of each entry, by index.
    let pageNames: [String]

    public init(set: RenderSet, comments: CommentMode) {
        self.set = set
        self.comments = comments
        var all: [(Box, RenderFile)] = []
        for f in set.files { for b in set.boxes(of: f, notes: true) { all.append((b, f)) } }
        let order = Self.ordered(all.map(\.0))
        var used: [Box] = []
        var sorted: [(box: Box, file: RenderFile)] = []
        for b in order {
            if let i = all.firstIndex(where: { $0.0.file == b.file && $0.0.line == b.line }) {
                sorted.append((all[i].0, all[i].1))
                used.append(b)
            }
        }
        entries = sorted
        var names: [String: String] = [:]
        var taken: Set<String> = ["index.html", "algo.css"]
        var pages: [String] = []
        for e in sorted {
            var stem = (e.box.keyword == .experiment ? "experiment-" : "") + Self.slug(e.box.name ?? "algorithm-" + e.box.number)
            if taken.contains(stem + ".html") { stem += "-" + Self.slug(e.box.number) }
            var page = stem + ".html"
            var k = 2
            while taken.contains(page) { page = stem + "-\(k).html"; k += 1 }
            taken.insert(page)
            pages.append(page)
            if let n = e.box.name, names[n] == nil { names[n] = page }
        }
        self.pageNames = pages
        pageOfName = names
    }

    /// Boxes in the paper's order: Algorithms by number, then Experiments by number.
    public static func ordered(_ boxes: [Box]) -> [Box] {
        boxes.enumerated().sorted { a, b in
            let ka = (a.element.keyword == .experiment ? 1 : 0, Int(a.element.number) ?? Int.max, a.offset)
            let kb = (b.element.keyword == .experiment ? 1 : 0, Int(b.element.number) ?? Int.max, b.offset)
            return ka < kb
        }.map(\.element)
    }

    /// A file name from an algorithm name: ASCII letters, digits, `_` and `-`.
    static func slug(_ s: String) -> String {
        let kept = s.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") ? String($0) : "-" }.joined()
        return kept.isEmpty ? "algorithm" : kept
    }

    /// Every file of the site: (name, text).
    public func files() -> [(name: String, text: String)] {
        var out: [(String, String)] = [("algo.css", Self.css), ("index.html", index())]
        for i in entries.indices { out.append((pageNames[i], page(i))) }
        return out
    }

    // MARK: - Pages

    func document(title: String, body: String) -> String {
        """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(MathMLWriter.escape(title))</title>
        <link rel="stylesheet" href="algo.css">
        </head>
        <body>
        \(body)</body>
        </html>

        """
    }

    func index() -> String {
        var body = "<main>\n<h1>Formal Algorithms for Transformers — the checked boxes</h1>\n"
        body += "<p>Phuong &amp; Hutter, <i>Formal Algorithms for Transformers</i> (arXiv:2207.09238, CC BY 4.0), "
            + "as <code>.algo</code> files that <code>algo check</code> proves shape-correct. Each page shows a box; "
            + "hover or focus a name for the shape the checker proved and where it is bound.</p>\n<ol class=\"index\">\n"
        for (i, e) in entries.enumerated() {
            let errors = e.file.diagnostics.filter { $0.severity == .error && line(of: $0, in: e.file) >= e.box.line
                && line(of: $0, in: e.file) < end(of: e.box, in: e.file) }.count
            let status = errors == 0 ? "<span class=\"ok\">checks</span>"
                : "<span class=\"bad\">\(errors) error\(errors == 1 ? "" : "s")</span>"
            body += "<li><a href=\"\(pageNames[i])\"><span class=\"label\">\(e.box.label):</span> " + titleText(e.box) + "</a> "
                + status + " <span class=\"file\">" + MathMLWriter.escape(e.box.file) + "</span></li>\n"
        }
        body += "</ol>\n</main>\n"
        return document(title: "algo — the boxes of Formal Algorithms for Transformers", body: body)
    }

    /// The title as plain text (inside a link: no nested links, no focusable names).
    func titleText(_ b: Box) -> String {
        var s = ""
        if let sig = b.signature { s += MathMLWriter.element(Self.stripNotes(sig)) }
        if let p = b.titleProse { s += (s.isEmpty ? "" : " — ") + prose(p) }
        return s
    }

    /// The formula without hover notes and links (for titles inside links and tips).
    static func stripNotes(_ m: Math) -> Math {
        switch m {
        case .annotated(let x, _), .link(let x, _): return stripNotes(x)
        case .row(let items): return .row(items.map(stripNotes))
        case .scripts(let b, let sub, let sup): return .scripts(stripNotes(b), sub: sub.map(stripNotes), sup: sup.map(stripNotes))
        case .sqrt(let x): return .sqrt(stripNotes(x))
        case .accent(let x, let a): return .accent(stripNotes(x), a)
        case .bigOperator(let s, let l, let u): return .bigOperator(s, lower: l.map(stripNotes), upper: u.map(stripNotes))
        case .identifier, .number, .op, .text: return m
        }
    }

    func line(of d: Diagnostic, in f: RenderFile) -> Int { f.source.location(of: d.span.start).line }

    func end(of b: Box, in f: RenderFile) -> Int {
        let titles = f.tree.algorithms.map { f.source.location(of: $0.span.start).line }.filter { $0 > b.line }
        return titles.min() ?? f.source.lineStarts.count + 1
    }

    func page(_ i: Int) -> String {
        let (b, f) = entries[i]
        var body = "<nav aria-label=\"algorithms\"><a href=\"index.html\">All boxes</a>"
        if i > 0 { body += " · <a rel=\"prev\" href=\"\(pageNames[i - 1])\">← \(entries[i - 1].box.label)</a>" }
        if i + 1 < entries.count { body += " · <a rel=\"next\" href=\"\(pageNames[i + 1])\">\(entries[i + 1].box.label) →</a>" }
        body += "</nav>\n<main>\n<section class=\"box\" aria-labelledby=\"title\">\n<h1 id=\"title\"><span class=\"label\">\(b.label):</span> "
        if let sig = b.signature { body += MathMLWriter.inline(sig, href: href) }
        if let p = b.titleProse { body += (b.signature == nil ? "" : " — ") + prose(p) }
        body += "</h1>\n"
        // Diagnostics by the row they are shown under: the last row at or before their line.
        let last = end(of: b, in: f)
        let mine = f.diagnostics.filter { let l = line(of: $0, in: f); return l >= b.line && l < last }
        var shownUnder: [Int: [Diagnostic]] = [:]
        var beforeRows: [Diagnostic] = []
        for d in mine {
            let l = line(of: d, in: f)
            if let r = b.rows.lastIndex(where: { $0.line <= l }) { shownUnder[r, default: []].append(d) } else { beforeRows.append(d) }
        }
        body += beforeRows.map { diagnostic($0, f) }.joined()
        for (r, row) in b.rows.enumerated() {
            body += notes(row)
            body += self.row(row)
            body += (shownUnder[r] ?? []).map { diagnostic($0, f) }.joined()
        }
        body += "</section>\n"
        body += shapesTable(b, f)
        body += "<p class=\"file\">Source: <code>" + MathMLWriter.escape(b.file) + "</code>, line \(b.line).</p>\n</main>\n"
        return document(title: b.label + ": " + (b.name ?? b.titleProse ?? "") + " — algo", body: body)
    }

    func href(_ name: String) -> String? { pageOfName[name] }

    func notes(_ r: Row) -> String {
        guard !r.notes.isEmpty else { return "" }
        switch comments {
        case .drop: return ""
        case .keep: return r.notes.map { "<div class=\"note\">// " + prose($0) + "</div>\n" }.joined()
        case .margin: return "<aside class=\"margin\">" + r.notes.map(prose).joined(separator: "<br>") + "</aside>\n"
        }
    }

    func row(_ r: Row) -> String {
        let text = segments(r.segments)
        switch r.kind {
        case .description: return "<div class=\"desc\" id=\"L\(r.line)\">\(text)</div>\n"
        case .header(let k): return "<div class=\"head\" id=\"L\(r.line)\"><b>\(k.rawValue):</b> \(text)</div>\n"
        case .member(let indent, let barred):
            return "<div class=\"member i\(indent)\(barred ? " barred" : "")\" id=\"L\(r.line)\">\(text)</div>\n"
        case .body(let number, let depth):
            var s = "<div class=\"line\" id=\"L\(r.line)\"><span class=\"no\">\(number ?? "")</span>"
            s += String(repeating: "<span class=\"bar\"></span>", count: depth)
            s += "<span class=\"text\">\(text)</span>"
            if let c = r.claim {
                s += "<span class=\"claim\">⟦" + MathMLWriter.inline(c, href: href) + "⟧</span>"
            }
            return s + "</div>\n"
        }
    }

    func segments(_ segments: [Segment]) -> String {
        Segment.join(segments, segments.map { s in
            switch s {
            case .keyword(let k): return "<b class=\"kw\">" + k + "</b>"
            case .math(let m): return MathMLWriter.inline(m, href: href)
            case .prose(let p): return prose(p)
            }
        })
    }

    /// Prose escaped, `` `code` `` as `<code>`.
    func prose(_ s: String) -> String {
        var out = ""
        var inCode = false
        for part in s.split(separator: "`", omittingEmptySubsequences: false) {
            out += inCode ? "<code>" + MathMLWriter.escape(String(part)) + "</code>" : MathMLWriter.escape(String(part))
            inCode.toggle()
        }
        return out
    }

    func diagnostic(_ d: Diagnostic, _ f: RenderFile) -> String {
        let (l, c) = f.source.location(of: d.span.start)
        var s = "<div class=\"diag \(d.severity.rawValue)\" role=\"note\"><b>\(d.severity.rawValue)[\(d.code.rawValue)]</b> "
        s += "line \(l):\(c): " + prose(d.message)
        if let label = d.spanLabel { s += " — " + prose(label) }
        for n in d.notes { s += "<br>note: " + prose(n) }
        if let h = d.help { s += "<br>help: " + prose(h) }
        return s + "</div>\n"
    }

    /// The `--dump shapes` list of the box, as a table (also the screen reader's overview).
    func shapesTable(_ b: Box, _ f: RenderFile) -> String {
        guard let i = f.tree.algorithms.firstIndex(where: { f.source.location(of: $0.span.start).line == b.line }),
              i < f.facts.count, !f.facts[i].shapes.isEmpty else { return "" }
        var s = "<details open><summary>Shapes the checker proved</summary>\n<table class=\"shapes\">\n"
        for v in f.facts[i].shapes {
            let shape = ShapeParser.math(v.shape).map { MathMLWriter.element($0) } ?? MathMLWriter.escape(v.shape)
            let name = ShapeParser.math(v.name).map { MathMLWriter.element($0) } ?? MathMLWriter.escape(v.name)
            s += "<tr><th scope=\"row\">" + name + "</th><td>∈ " + shape + "</td></tr>\n"
        }
        return s + "</table>\n</details>\n"
    }

    /// The one style sheet.
    static let css = """
        body { font-family: "Latin Modern Roman", "CMU Serif", Georgia, serif; max-width: 60rem; margin: 1.5rem auto; padding: 0 1rem; line-height: 1.45; color: #111; background: #fff; }
        math { font-family: "Latin Modern Math", "STIX Two Math", math; font-size: 1.05em; position: relative; }
        nav { font-size: .9rem; margin-bottom: 1rem; }
        a { color: #1d4f91; }
        a.call { text-decoration: none; border-bottom: 1px dotted #1d4f91; }
        a:focus, .nm:focus { outline: 2px solid #c60; outline-offset: 1px; }
        .box { border-top: 2px solid #000; border-bottom: 2px solid #000; padding: .2rem 0 .4rem; }
        .box h1 { font-size: 1.05rem; font-weight: normal; margin: 0 0 .3rem; padding-bottom: .25rem; border-bottom: 1px solid #000; }
        .label { font-weight: bold; }
        .head { padding-left: 2em; text-indent: -2em; }
        .desc { font-style: normal; }
        .member { padding-left: 1.6em; }
        .member.i2 { margin-left: 1.6em; padding-left: .6em; border-left: 1px solid #000; }
        .line { display: flex; align-items: stretch; }
        .line .no { flex: none; width: 2em; text-align: right; padding-right: .6em; font-size: .8em; padding-top: .2em; }
        .line .bar { flex: none; width: .9em; margin-left: .3em; border-left: 1px solid #000; }
        .line .text { flex: 1 1 auto; }
        .line .claim { flex: none; margin-left: 1em; }
        .kw { font-weight: bold; }
        mi.b, mn.b { font-weight: bold; }
        mi.tt { font-family: "Latin Modern Mono", "DejaVu Sans Mono", monospace; font-style: normal; }
        mi.it { font-style: italic; }
        .nm { cursor: help; }
        .nm:hover > mi, .nm:focus > mi { background: #fff3c4; }
        .tip { visibility: hidden; position: absolute; left: 0; top: 1.6em; z-index: 2; background: #fffbe6; border: 1px solid #b59a3a; padding: 2px 4px; white-space: nowrap; font-size: .85em; }
        .nm:hover > .tip, .nm:focus > .tip { visibility: visible; }
        .note { font-size: .8em; font-style: italic; color: #555; padding-left: 2.6em; }
        aside.margin { float: right; clear: right; width: 14em; margin-right: -15em; font-size: .75em; color: #555; }
        .diag { margin: .2em 0 .3em 2.6em; padding: .2em .5em; border-left: 4px solid #b00; background: #fdecec; font-family: ui-monospace, monospace; font-size: .8em; }
        .diag.warning { border-color: #b80; background: #fff6e0; }
        .diag.note { border-color: #36c; background: #eef3ff; }
        .file { color: #666; font-size: .85em; }
        .ok { color: #176b2c; font-size: .85em; }
        .bad { color: #b00; font-size: .85em; }
        ol.index li { margin: .25em 0; }
        table.shapes th { text-align: left; font-weight: normal; padding-right: 1em; }
        details { margin-top: 1rem; }

        """
}
