import AlgoDiagnostics
import Foundation
import Testing
@testable import AlgoCLI
@testable import AlgoRender

/// `algo render`: every algorithm and experiment renders as LaTeX and HTML; the output of a few
/// boxes is pinned (one construct or more per line); usage errors, E0570, comments modes, inline
/// diagnostics, hover notes and call links.
///
/// The pinned outputs are `Fixtures/snapshots/*`. After a deliberate change regenerate them with
///
///     ALGO_BLESS=1 swift test --filter RenderTests
///
/// and review `git diff Tests/AlgoRenderTests/Fixtures/snapshots` before committing.
@Suite struct RenderTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    static let snapshots = root + "/Tests/AlgoRenderTests/Fixtures/snapshots"

    static func path(_ p: String) -> String { root + "/" + p }

    func run(_ args: [String]) -> (ExitCode, Output) {
        var out = Output()
        let code = CLI.run(args, &out)
        return (code, out)
    }

    /// A fresh temporary directory.
    func temporary() -> String {
        let dir = NSTemporaryDirectory() + "algo-render-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Every `.algo` file of the corpus (`Algorithms/`, `Algorithms/Experiments/`).
    static func corpus() -> [String] {
        RenderCommand.expand([path("Algorithms")])
    }

    @Test func corpusHasBothDirectories() {
        let files = Self.corpus()
        #expect(files.count >= 20)
        #expect(files.contains { $0.contains("/Experiments/") })
    }

    @Test(arguments: corpus()) func everyFileRendersAsLaTeX(_ file: String) {
        let (code, out) = run(["render", "--latex", "--standalone", file])
        #expect(code == .ok, "\(file)\n\(out.stderr)")
        #expect(out.stderr.isEmpty, "\(file): \(out.stderr)")
        #expect(out.stdout.contains("\\begin{document}") && out.stdout.contains("\\algoboxend"))
        #expect(!out.stdout.contains("?}") && !out.stdout.contains("{?"), "a `?` stands for something unrendered")
    }

    @Test(arguments: corpus()) func everyFileRendersAsHTML(_ file: String) throws {
        let dir = temporary()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (code, out) = run(["render", "--html", file, "-o", dir])
        #expect(code == .ok, "\(file)\n\(out.stderr)")
        let pages = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".html") && $0 != "index.html" }
        #expect(!pages.isEmpty)
        for p in pages {
            let html = try String(contentsOfFile: dir + "/" + p, encoding: .utf8)
            #expect(html.contains("<math"), "\(p)")
            #expect(!html.contains("class=\"diag"), "\(p): the corpus checks, so no diagnostic is shown")
        }
    }

    @Test func siteIndexIsInThePapersOrder() throws {
        let dir = temporary()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (code, out) = run(["render", "--html", Self.path("Algorithms"), "-o", dir])
        #expect(code == .ok, "\(out.stderr)")
        let index = try String(contentsOfFile: dir + "/index.html", encoding: .utf8)
        var last = (0, 0)
        var count = 0
        for line in index.split(separator: "\n") where line.hasPrefix("<li>") {
            guard let r = line.range(of: "class=\"label\">") else { continue }
            let label = line[r.upperBound...].prefix { $0 != ":" }
            let parts = label.split(separator: " ")
            let key = (parts[0] == "Experiment" ? 1 : 0, Int(parts[1]) ?? 0)
            #expect(key > last || count == 0, "\(label) after \(last)")
            last = key
            count += 1
        }
        let titles = RenderCommand.expand([Self.path("Algorithms")]).flatMap { f in
            ((try? String(contentsOfFile: f, encoding: .utf8)) ?? "").split(separator: "\n")
                .filter { $0.hasPrefix("Algorithm ") || $0.hasPrefix("Experiment ") }
        }
        #expect(count == titles.count, "one entry per box")
        #expect(FileManager.default.fileExists(atPath: dir + "/algo.css"))
    }

    // MARK: - Pinned output

    /// Boxes whose LaTeX and Markdown are pinned: titles, collections and groups (10), claims and `∀ … if`
    /// (4), Σ, √, ², ⊙ (6), `while`, `sample`, `∝`, `if … end` (14), counting loops, calls with `≡`.
    static let pinned = ["Attention", "DTransformer", "LayerNorm", "DInference", "MHAttention"]

    func check(_ rendered: String, snapshot name: String) throws {
        let text = rendered.replacingOccurrences(of: Self.root + "/", with: "")
        let file = Self.snapshots + "/" + name
        if ProcessInfo.processInfo.environment["ALGO_BLESS"] == "1" {
            try text.write(toFile: file, atomically: true, encoding: .utf8)
            return
        }
        let pinned = try? String(contentsOfFile: file, encoding: .utf8)
        #expect(pinned != nil, "\(name): no snapshot; run ALGO_BLESS=1 swift test --filter RenderTests")
        #expect(text == pinned, "\(name) differs; if intended, run ALGO_BLESS=1 swift test --filter RenderTests\n\(text)")
    }

    @Test(arguments: pinned) func latexIsPinned(_ name: String) throws {
        let (code, out) = run(["render", "--latex", Self.path("Algorithms/\(name).algo")])
        #expect(code == .ok, "\(out.stderr)")
        try check(out.stdout, snapshot: name + ".tex")
    }

    @Test(arguments: pinned) func markdownIsPinned(_ name: String) throws {
        let (code, out) = run(["render", "--markdown", Self.path("Algorithms/\(name).algo")])
        #expect(code == .ok, "\(out.stderr)")
        try check(out.stdout, snapshot: name + ".md")
    }

    @Test func htmlPageIsPinned() throws {
        let dir = temporary()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (code, out) = run(["render", "--html", Self.path("Algorithms/Attention.algo"), "-o", dir])
        #expect(code == .ok, "\(out.stderr)")
        try check(try String(contentsOfFile: dir + "/Attention.html", encoding: .utf8), snapshot: "Attention.html")
    }

    // MARK: - What the HTML shows

    @Test func namesShowShapeAndBindingAndCallsLink() throws {
        let dir = temporary()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (code, out) = run(["render", "--html", Self.path("Algorithms"), "-o", dir])
        #expect(code == .ok, "\(out.stderr)")
        let page = try String(contentsOfFile: dir + "/DTransformer.html", encoding: .utf8)
        // X̃'s shape as the checker proved it, with ℓ for length(x), and the line that binds it.
        #expect(page.contains("aria-label=\"X̃ ∈ ℝ^{d_e×ℓ}; line 5\""))
        #expect(page.contains("aria-label=\"W^l_mlp2 ∈ ℝ^{d_e×d_mlp}; Parameters, in θ\""))
        // e_1 is bound by line 2's e_t (a family), t by the loop of line 2.
        #expect(page.contains("aria-label=\"e_1 ∈ ℝ^{d_e}; line 2\""))
        // t and t′ of line 6 are bound by the call's binding, not by the loops of lines 2, 5, 7.
        #expect(page.contains("aria-label=\"t′ ∈ [ℓ]; the binding Mask[…] = …, line 6\""))
        #expect(page.contains("aria-label=\"t; the binding Mask[…] = …, line 6\""))
        #expect(page.contains("aria-label=\"t ∈ [ℓ]; for loop, line 10\""))
        #expect(page.contains("aria-label=\"l ∈ [L]; for loop, line 4\""))
        #expect(page.contains("<a class=\"call\" href=\"MHAttention.html\">"))
        #expect(page.contains("<a class=\"call\" href=\"layer_norm.html\">"))
        #expect(page.contains("tabindex=\"0\""))
        #expect(page.contains("alttext=\"X ← X + W^l_mlp2 GELU(W^l_mlp1 X̃ + b^l_mlp1 𝟏ᵀ) + b^l_mlp2 𝟏ᵀ\""))
    }

    @Test func fileThatDoesNotCheckShowsItsDiagnosticsAtTheLine() throws {
        let dir = temporary()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let source = dir + "/Wrong.algo"
        try """
            Algorithm 1: y ← Wrong(x | W)
            Input: x ∈ ℝ^{n}
            Output: y ∈ ℝ^{m}
            Parameters: W ∈ ℝ^{m×n}
            1 z ← W x
            2 return y = x W
            """.write(toFile: source, atomically: true, encoding: .utf8)
        let (code, out) = run(["render", "--html", source, "-o", dir + "/site"])
        #expect(code == .diagnostics)
        #expect(out.stderr.contains("E04"))
        let page = try String(contentsOfFile: dir + "/site/Wrong.html", encoding: .utf8)
        let line2 = try #require(page.range(of: "id=\"L6\""))
        let diag = try #require(page.range(of: "<div class=\"diag error\""))
        #expect(diag.lowerBound > line2.lowerBound, "the diagnostic follows line 2 of the box (source line 6)")
    }

    // MARK: - Command line

    @Test func usageErrors() {
        let file = Self.path("Algorithms/Attention.algo")
        #expect(run(["render", file]).0 == .usage)
        #expect(run(["render", "--latex", "--html", file]).0 == .usage)
        #expect(run(["render", "--html", file]).0 == .usage)
        #expect(run(["render", "--latex", "--comments", "loud", file]).0 == .usage)
        #expect(run(["render", "--markdown", "--standalone", file]).0 == .usage)
        #expect(run(["render", "--latex"]).0 == .usage)
        #expect(run(["render", "--latex", "/nonexistent/x.algo"]).0 == .input)
    }

    @Test func commentModes() {
        let file = Self.path("Algorithms/DTransformer.algo")
        let keep = run(["render", "--latex", file]).1.stdout
        let margin = run(["render", "--latex", "--comments", "margin", file]).1.stdout
        let drop = run(["render", "--latex", "--comments", "drop", file]).1.stdout
        #expect(keep.contains("\\algonote{A4: the paper never binds"))
        #expect(margin.contains("\\algomargin{A4: the paper never binds") && !margin.contains("\\algonote{A4"))
        #expect(!drop.contains("A4: the paper never binds"))
        // The file's provenance line (before the title) is no part of the box.
        #expect(!keep.contains("CC BY 4.0"))
    }

    @Test func writesAtomicallyToAFile() throws {
        let dir = temporary()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (code, _) = run(["render", "--latex", "--standalone", Self.path("Algorithms/Attention.algo"), "-o", dir + "/a.tex"])
        #expect(code == .ok)
        let text = try String(contentsOfFile: dir + "/a.tex", encoding: .utf8)
        #expect(text.hasPrefix("\\documentclass"))
        #expect(run(["render", "--latex", Self.path("Algorithms/Attention.algo"), "-o", dir + "/missing/a.tex"]).0 == .output)
    }

    @Test func syntaxErrorsAreNotTypesetAsLaTeX() throws {
        let dir = temporary()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "Algorithm 1: y ← F(x)\nInput: x ∈ ℝ^{n}\n1 return y = (x\n".write(toFile: dir + "/Bad.algo", atomically: true, encoding: .utf8)
        let (code, out) = run(["render", "--latex", dir + "/Bad.algo"])
        #expect(code == .diagnostics)
        #expect(out.stderr.contains("E0203"))
        #expect(!out.stdout.contains("\\algoboxend\n"), "no box, only the macros")
    }

    /// E0570: a character with no LaTeX spelling is written `?` and reported at its line.
    @Test func unspellableCharacterIsE0570() throws {
        let dir = temporary()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try """
            Algorithm 1: y ← Copy(x) — copies ☃ the input.
            Input: x ∈ ℝ^{n}, a vector.
            Output: y ∈ ℝ^{n}
            1 return y = x
            """.write(toFile: dir + "/Snow.algo", atomically: true, encoding: .utf8)
        let (code, out) = run(["render", "--latex", dir + "/Snow.algo"])
        #expect(code == .ok, "a warning only")
        #expect(out.stdout.contains("copies ? the input"))
        let rendered = out.stderr.replacingOccurrences(of: dir + "/", with: "")
        try check(rendered, snapshot: "E0570.txt")
        #expect(rendered.contains("warning[E0570]"))
    }
}
