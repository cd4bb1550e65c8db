import AlgoDiagnostics
import AlgoEval
import AlgoRender
import AlgoSema
import AlgoSyntax
import Foundation

/// `algo render`: the checked boxes typeset. `--latex` writes LaTeX (a fragment, or a document with
/// `--standalone`) to stdout or `-o FILE`; `--html -o DIR` writes a static site (MathML, one CSS
/// file, one page per algorithm, an index in the paper's order); `--markdown` writes Markdown with
/// math GitHub renders. Files are checked one by one, so one that does not check keeps the others'
/// shapes; its diagnostics are printed and, in HTML, shown at their lines.
struct RenderCommand: Command {
    var name: String { "render" }
    var summary: String { "typeset the boxes: LaTeX, a browsable HTML site with shapes, Markdown" }
    var usage: String {
        """
        usage: algo render --latex FILE_OR_DIR… [--standalone] [--comments keep|margin|drop] [-o FILE]
               algo render --html FILE_OR_DIR… -o DIR
               algo render --markdown FILE_OR_DIR… [-o FILE]

        Typesets the algorithms as the paper's boxes. A directory stands for its `.algo` files and
        those of its subdirectories; boxes come in the paper's order (Algorithms 1–19, then the
        experiments). `--latex` needs amsmath and amssymb (Sources/AlgoRender/README.md); without
        `--standalone` it is a fragment to `\\input`. `--html` writes one page per algorithm with
        every name's shape on hover or focus and every call linked to its box. A file with syntax
        errors is not rendered as LaTeX or Markdown; in HTML it is shown with its diagnostics.
        Exit 0 clean, 1 diagnostics (the rest is still written), 2 usage, 3 unreadable, 4 unwritable.
        """
    }
    var flags: [Arguments.Spec] {
        [
            Arguments.Spec("latex", help: "write LaTeX (amsmath, amssymb)"),
            Arguments.Spec("html", help: "write a static HTML site to the directory `-o DIR`"),
            Arguments.Spec("markdown", help: "write Markdown with `$…$` math (GitHub)"),
            Arguments.Spec("standalone", help: "LaTeX: a whole document rather than a fragment to \\input"),
            Arguments.Spec("comments", value: true, help: "`//` comments (errata): `keep` (default), `margin` or `drop`"),
            Arguments.Spec("output", value: true, help: "`-o`: the file (LaTeX, Markdown) or directory (HTML) to write"),
            DiagnosticFormat.flag,
        ]
    }

    enum Mode { case latex, html, markdown }

    func run(_ args: Arguments, _ output: inout Output) -> ExitCode {
        guard let format = DiagnosticFormat.from(args, &output) else { return .usage }
        let modes: [(String, Mode)] = [("latex", .latex), ("html", .html), ("markdown", .markdown)].filter { args.has($0.0) }
        guard modes.count == 1, let mode = modes.first?.1 else {
            output.err("algo render: error: give exactly one of `--latex`, `--html`, `--markdown`\n\n" + usage)
            return .usage
        }
        let rawComments = args.value("comments") ?? "keep"
        guard let comments = CommentMode(rawValue: rawComments) else {
            output.err("algo render: error: `--comments` takes `keep`, `margin` or `drop`, not `\(rawComments)`")
            return .usage
        }
        guard !args.positionals.isEmpty else {
            output.err("algo render: error: no input files\n\n" + usage)
            return .usage
        }
        if mode == .html, args.value("output") == nil {
            output.err("algo render: error: `--html` writes a directory: give it with `-o DIR`\n\n" + usage)
            return .usage
        }
        if args.has("standalone"), mode != .latex {
            output.err("algo render: error: `--standalone` is for `--latex`")
            return .usage
        }
        var reporter = Reporter(format: format)
        let (sources, failures) = reporter.load(Self.expand(args.positionals))
        var diagnostics = failures
        var files: [RenderFile] = []
        for source in sources {
            let file = Self.check(source)
            diagnostics += file.diagnostics
            let syntaxErrors = file.diagnostics.contains { $0.severity == .error && $0.code.rawValue < "E0300" }
            if mode != .html && syntaxErrors { continue }
            files.append(file)
        }
        let set = RenderSet(files: files)
        var written = true
        switch mode {
        case .latex:
            var writer = LaTeXBoxWriter(comments: comments)
            let text = writer.render(Self.paperOrder(set), standalone: args.has("standalone"))
            diagnostics += writer.unknown.map { u in Self.unspellable(u, sources) }
            written = emit(text, to: args.value("output"), reporter, &output)
        case .markdown:
            var writer = MarkdownWriter(comments: comments)
            let text = writer.render(Self.paperOrder(set))
            written = emit(text, to: args.value("output"), reporter, &output)
        case .html:
            let site = HTMLSite(set: set, comments: comments)
            written = writeSite(site.files(), to: args.value("output") ?? ".", reporter, &output)
        }
        reporter.emit(diagnostics, &output)
        if !failures.isEmpty { return .input }
        if !written { return .output }
        return diagnostics.contains { $0.severity == .error } ? .diagnostics : .ok
    }

    /// The boxes of every file, in the paper's order.
    static func paperOrder(_ set: RenderSet) -> [Box] {
        HTMLSite.ordered(set.files.flatMap { set.boxes(of: $0, notes: false) })
    }

    /// Files as given; a directory gives its `.algo` files and those of its subdirectories, sorted
    /// (`Library.algoPaths`, as `algo check DIR`).
    static func expand(_ paths: [String]) -> [String] {
        var seen: Set<String> = []
        return paths.flatMap { Library.algoPaths(under: $0) ?? [$0] }.filter { seen.insert($0).inserted }
    }

    /// Parses and checks one file against its directory (and the one above, for experiments), so
    /// that each file's shapes survive another file's errors.
    static func check(_ source: SourceFile) -> RenderFile {
        var bag = DiagnosticBag()
        let tree = Parser.parse(source, &bag)
        let parsed = ParsedFile(source: source, tree: tree)
        let library = Library.around([parsed]).excluding([source.path])
        let outcome = ShapeChecker.check([parsed], library: library, &bag)
        let checked = (outcome.program?.algorithms ?? []).filter { $0.file == source.path }   // not its callees
        let facts = tree.algorithms.indices.map { i in
            AlgorithmFacts(types: i < checked.count ? checked[i].types : [:],
                           shapes: i < outcome.shapes.count ? outcome.shapes[i].variables : [])
        }
        let own = bag.all.filter { $0.span.file == source.path }
        return RenderFile(source: source, tree: tree, diagnostics: own, facts: facts)
    }

    /// E0570 at the start of the line holding the character.
    static func unspellable(_ u: (file: String, line: Int, character: Character), _ sources: [SourceFile]) -> Diagnostic {
        let source = sources.first { $0.path == u.file }
        let start = source.map { u.line - 1 < $0.lineStarts.count ? $0.lineStarts[u.line - 1] : 0 } ?? 0
        let scalars = u.character.unicodeScalars.map { String(format: "U+%04X", $0.value) }.joined(separator: " ")
        var d = Diagnostic(.noLaTeXSpelling, "`\(u.character)` (\(scalars)) has no LaTeX spelling; it is written `?`",
                           at: Span(file: u.file, start: start, end: start))
        d.notes = ["the LaTeX spellings are those of Grammar/README.md, plus typographic punctuation"]
        return d
    }

    /// Writes `text` to stdout, or atomically to `path`.
    func emit(_ text: String, to path: String?, _ reporter: Reporter, _ output: inout Output) -> Bool {
        guard let path else { output.stdout += text; return true }
        if case .failure(let e) = AtomicFile.write(Array(text.utf8), to: path) {
            _ = FileProblem.unwritable(path, flag: "output", e.reason).report(reporter, &output)
            return false
        }
        return true
    }

    /// Writes the site's pages into `directory` (created if needed), each atomically.
    func writeSite(_ pages: [(name: String, text: String)], to directory: String, _ reporter: Reporter, _ output: inout Output) -> Bool {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            _ = FileProblem.unwritable(directory, flag: "output", "the directory cannot be made: \(error.localizedDescription)").report(reporter, &output)
            return false
        }
        for p in pages {
            let path = (directory.hasSuffix("/") ? directory : directory + "/") + p.name
            if case .failure(let e) = AtomicFile.write(Array(p.text.utf8), to: path) {
                _ = FileProblem.unwritable(path, flag: "", e.reason).report(reporter, &output)
                return false
            }
        }
        return true
    }
}
