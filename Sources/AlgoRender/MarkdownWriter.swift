/// `algo render --markdown`: each box as Markdown with `$…$` math (what GitHub renders): the title
/// in bold, header lines, then the numbered body lines with the block depth as indentation.
public struct MarkdownWriter {
    public var comments: CommentMode
    var latex = LaTeXWriter()

    public init(comments: CommentMode) { self.comments = comments }

    public mutating func render(_ boxes: [Box]) -> String {
        boxes.map { box($0) }.joined(separator: "\n")
    }

    mutating func box(_ b: Box) -> String {
        var title = ""
        if let sig = b.signature { title = "$" + latex.math(sig) + "$" }
        if let p = b.titleProse { title += (title.isEmpty ? "" : " — ") + p }
        var out = "**\(b.label):** \(title)\n\n"
        for r in b.rows {
            if comments != .drop { for n in r.notes { out += "> *// " + n + "*\n\n" } }
            let text = segments(r.segments)
            switch r.kind {
            case .description: out += text + "<br>\n"
            case .header(let k): out += "**\(k.rawValue):** " + text + "<br>\n"
            case .member(let indent, let barred):
                out += String(repeating: "&emsp;", count: indent) + (barred ? "| " : "") + text + "<br>\n"
            case .body(let number, let depth):
                out += (number.map { "`" + $0 + "` " } ?? "") + String(repeating: "&emsp;", count: depth) + text
                if let c = r.claim { out += " &emsp; $[\\![" + latex.math(c) + "]\\!]$" }
                out += "<br>\n"
            }
        }
        return out
    }

    mutating func segments(_ segments: [Segment]) -> String {
        var pieces: [String] = []
        for s in segments {
            switch s {
            case .keyword(let k): pieces.append("**" + k + "**")
            case .math(let m): pieces.append("$" + latex.math(m) + "$")
            case .prose(let p): pieces.append(p)
            }
        }
        return Segment.join(segments, pieces)
    }
}
