/// What to do with the `//` comments (errata, notes) of a box.
public enum CommentMode: String, Sendable, CaseIterable {
    /// A small line of its own before the line it is about.
    case keep
    /// A note in the right margin beside the line.
    case margin
    /// Left out: only the paper's text.
    case drop
}

/// Prints boxes as LaTeX: a fragment to `\input` (the macros, defined once, then the boxes) or a
/// whole document (`standalone`). The macros (`algoMacros`) set the paper's layout with plain
/// LaTeX: rules above and below, the bold title, `Input:` lines with a hanging indent, right-aligned
/// line numbers, one vertical bar per open block, claims set to the right.
public struct LaTeXBoxWriter {
    public var comments: CommentMode
    public var writer = LaTeXWriter()
    /// Characters with no LaTeX spelling: the file and line of each, for E0570.
    public private(set) var unknown: [(file: String, line: Int, character: Character)] = []

    public init(comments: CommentMode) { self.comments = comments }

    /// The LaTeX of the boxes: a fragment, or a whole document when `standalone`.
    public mutating func render(_ boxes: [Box], standalone: Bool) -> String {
        var body = Self.macros
        for (i, b) in boxes.enumerated() {
            if i > 0 { body += "\n" }
            body += box(b)
        }
        guard standalone else { return body }
        return Self.documentStart + body + "\\end{document}\n"
    }

    /// The preamble of a whole document: article, amsmath, amssymb, a wide text block and room in
    /// the margin for `--comments margin`.
    static let documentStart = """
        \\documentclass[11pt]{article}
        \\usepackage{amsmath,amssymb}
        \\setlength{\\textwidth}{15.5cm}
        \\setlength{\\oddsidemargin}{-0.5cm}
        \\setlength{\\marginparwidth}{3.2cm}
        \\setlength{\\textheight}{23cm}
        \\setlength{\\topmargin}{-1.5cm}
        \\pagestyle{empty}
        \\begin{document}

        """

    /// The macros, defined once however many fragments are `\input`.
    static let macros = #"""
        % algo render --latex: algorithm boxes in the layout of Phuong & Hutter (2022).
        % Needs amsmath and amssymb (\usepackage{amsmath,amssymb}).
        \makeatletter
        \ifdefined\algo@row\else
        \newlength\algonumwidth \setlength\algonumwidth{1.7em}
        \newlength\algolevel \setlength\algolevel{1.1em}
        \newlength\algoindent \setlength\algoindent{1.4em}
        \newbox\algo@content
        \newcount\algo@n
        \let\algo@margintext\relax
        % \algobox{Algorithm 10}{title}: the top rule, the title, a thin rule.
        \newcommand\algobox[2]{\par\addvspace{\medskipamount}\noindent\rule{\linewidth}{.8pt}\par\nointerlineskip\vskip 3pt
          \noindent\textbf{#1:}\ #2\par\nointerlineskip\vskip 2pt\noindent\rule{\linewidth}{.4pt}\par\vskip 1pt}
        \newcommand\algoboxend{\par\nointerlineskip\vskip 2pt\noindent\rule{\linewidth}{.8pt}\par\addvspace{\medskipamount}}
        % \algohead{Input}{…}: a header line, continued under its text.
        \newcommand\algohead[2]{\par\noindent\algo@marginstart\setbox0\hbox{\textbf{#1:}\ }\hangindent\wd0 \hangafter1 \box0 #2\par}
        % \algodesc{…}: a /* … */ line of the header.
        \newcommand\algodesc[1]{\par\noindent\algo@marginstart\hangindent\algoindent\hangafter1 #1\par}
        % The pending margin note, taking no room: at the end of a row, or at the start of a paragraph.
        \newcommand\algo@margin{\ifx\algo@margintext\relax\else
          \setbox2\vtop{\hsize\marginparwidth\raggedright\footnotesize\strut\algo@margintext\strut}\ht2=0pt \dp2=0pt
          \rlap{\hskip\marginparsep\box2}\fi\global\let\algo@margintext\relax}
        \newcommand\algo@marginstart{\rlap{\hskip\linewidth\algo@margin}}
        % \algonote{…}: a // comment (erratum) on a line of its own.
        \newcommand\algonote[1]{\par\noindent\hangindent\algonumwidth\hangafter0 {\footnotesize\itshape // #1}\par}
        % \algomargin{…}: a // comment in the margin of the next line.
        \newcommand\algomargin[1]{\def\algo@margintext{#1}}
        % \algo@row{left}{left width}{bars}{text}{claim}
        \newcommand\algo@row[5]{\par\nointerlineskip
          \setbox\algo@content\vtop{\hsize\dimexpr\linewidth-#2-#3\algolevel\relax
            \parindent0pt \rightskip0pt plus .3\hsize \parfillskip0pt \hangindent\algoindent \hangafter1
            \strut#4\hfill\if\relax\detokenize{#5}\relax\else\mbox{#5}\fi\strut\par}%
          \noindent\hbox{\hbox to #2{#1}\algo@n=#3\relax
            \loop\ifnum\algo@n>0 \hskip .3em\vrule width .4pt height\ht\algo@content depth\dp\algo@content
              \hskip\dimexpr\algolevel-.3em-.4pt\relax\advance\algo@n-1 \repeat
            \box\algo@content\algo@margin}\par}
        % \algoline{number}{depth}{text}{claim}: a numbered body line inside depth blocks.
        \newcommand\algoline[4]{\algo@row{\hss\footnotesize#1\hskip .6em}{\algonumwidth}{#2}{#3}{#4}}
        % \algomember{indent}{bars}{text}: a line of a parameter collection.
        \newcommand\algomember[3]{\algo@row{}{\dimexpr#1\algoindent\relax}{#2}{#3}{}}
        \fi
        \makeatother

        """#

    mutating func box(_ b: Box) -> String {
        var title = ""
        if let sig = b.signature { title = "$" + writer.math(sig) + "$" }
        if let p = b.titleProse { title += (title.isEmpty ? "" : " --- ") + writer.text(p) }
        collect(b, b.line)
        var out = "% \(b.label) (\(b.file))\n\\algobox{\(b.label)}{\(title)}\n"
        for r in b.rows {
            out += notes(r)
            out += row(r)
            collect(b, r.line)
        }
        return out + "\\algoboxend\n"
    }

    mutating func collect(_ b: Box, _ line: Int) {
        for c in writer.unknown { unknown.append((b.file, line, c)) }
        writer.unknown.removeAll()
    }

    mutating func notes(_ r: Row) -> String {
        guard !r.notes.isEmpty else { return "" }
        switch comments {
        case .drop: return ""
        case .keep: return r.notes.map { "\\algonote{" + writer.text($0) + "}\n" }.joined()
        case .margin: return "\\algomargin{" + r.notes.map { writer.text($0) }.joined(separator: " ") + "}\n"
        }
    }

    mutating func row(_ r: Row) -> String {
        let text = segments(r.segments)
        switch r.kind {
        case .description: return "\\algodesc{\(text)}\n"
        case .header(let kind): return "\\algohead{\(kind.rawValue)}{\(text)}\n"
        case .member(let indent, let barred): return "\\algomember{\(indent)}{\(barred ? 1 : 0)}{\(text)}\n"
        case .body(let number, let depth):
            let claim = r.claim.map { "$[\\![\\," + writer.math($0) + "\\,]\\!]$" } ?? ""
            return "\\algoline{\(number ?? "")}{\(depth)}{\(text)}{\(claim)}\n"
        }
    }

    mutating func segments(_ segments: [Segment]) -> String {
        var pieces: [String] = []
        for s in segments {
            switch s {
            case .keyword(let k): pieces.append("\\textbf{\(k)}")
            case .math(let m): pieces.append("$" + writer.math(m) + "$")
            case .prose(let p): pieces.append(writer.text(p))
            }
        }
        return Segment.join(segments, pieces)
    }
}
