import AlgoLSP
import Foundation
import Testing

/// Hover, definition, references, completion, symbols, semantic tokens and formatting on the
/// paper's algorithms (opened from `Algorithms/`, which the server only reads).
@Suite struct FeatureTests {
    static func uri(_ name: String) -> String { Support.root.appendingPathComponent("Algorithms/" + name).absoluteString }

    /// A started client with `name` open and checked.
    static func opened(_ name: String) throws -> (LSPClient, String, String) {
        let (c, _) = Support.started()
        let text = try Support.text("Algorithms/" + name)
        Support.open(c, uri(name), text)
        _ = c.diagnostics(uri(name), version: 1)
        return (c, uri(name), text)
    }

    func hover(_ c: LSPClient, _ uri: String, _ p: (line: Int, character: Int), plus: Int = 0) -> String {
        c.request("textDocument/hover", Support.at(uri, line: p.line, character: p.character + plus))?["result"]?["contents"]?["value"]?.string ?? ""
    }

    @Test func definitions() throws {
        let (c, uri, text) = try Self.opened("DTransformer.algo")
        defer { c.notify("exit"); c.closeInput() }
        func def(_ needle: String, after: String, plus: Int = 0) -> JSON? {
            guard let p = Support.find(needle, in: text, after: after) else { return nil }
            return c.request("textDocument/definition", Support.at(uri, line: p.line, character: p.character + plus))?["result"]
        }
        // `e_1` of line 3 is a member of the family `e_t` assigned in line 2.
        let e2 = try #require(Support.find("e_t ←", in: text))
        #expect(def("e_1", after: " 3 ")?["range"]?["start"]?["line"]?.int == e2.line)
        #expect(def("e_1", after: " 3 ")?["range"]?["start"]?["character"]?.int == e2.character)
        // `l` of `γ^1_l` (cursor on the index) is the loop variable of line 4.
        let loop = try #require(Support.find("l = 1", in: text))
        #expect(def("γ^1_l", after: " 5 ", plus: 4)?["range"]?["start"]?["line"]?.int == loop.line)
        // `γ^1_l` (cursor on γ) is its declaration in the parameter group.
        let decl = try #require(Support.find("γ^1_l, β^1_l", in: text))
        #expect(def("γ^1_l", after: " 5 ")?["range"]?["start"]?["line"]?.int == decl.line)
        // A dimension goes to its Hyperparameters line; `layer_norm` to LayerNorm.algo.
        let hyper = try #require(Support.find("d_e, d_mlp ∈ ℕ", in: text))
        #expect(def("d_e×N_V", after: "W_e ∈")?["range"]?["start"]?["line"]?.int == hyper.line)
        #expect(def("layer_norm", after: " 5 ")?["uri"]?.string?.hasSuffix("/LayerNorm.algo") == true)
        // A named argument: MHAttention's `Mask` hyperparameter.
        let mha = try Support.text("Algorithms/MHAttention.algo")
        let mask = try #require(Support.find("Mask∈", in: mha))
        let m = def("Mask[t", after: " 6 ")
        #expect(m?["uri"]?.string?.hasSuffix("/MHAttention.algo") == true)
        #expect(m?["range"]?["start"]?["line"]?.int == mask.line)
    }

    @Test func referencesOfAnAlgorithmAcrossTheDirectory() throws {
        let (c, uri, text) = try Self.opened("DTransformer.algo")
        defer { c.notify("exit"); c.closeInput() }
        let p = try #require(Support.find("MHAttention(", in: text))
        let refs = c.request("textDocument/references", ["textDocument": ["uri": JSON(uri)], "position": ["line": JSON(p.line), "character": JSON(p.character)],
                                                        "context": ["includeDeclaration": true]])?["result"]?.array ?? []
        let files = Set(refs.compactMap { $0["uri"]?.string?.split(separator: "/").last.map(String.init) })
        // The callers in Algorithms/ (grep -l 'MHAttention(' Algorithms/*.algo) and the definition.
        let callers = try FileManager.default.contentsOfDirectory(atPath: Support.root.appendingPathComponent("Algorithms").path)
            .filter { $0.hasSuffix(".algo") }
            .filter { (try? Support.text("Algorithms/" + $0).components(separatedBy: "\n").contains { !$0.hasPrefix("//") && !$0.hasPrefix("Algorithm") && $0.contains("MHAttention(") }) == true }
        #expect(files == Set(callers + ["MHAttention.algo"]), "\(files)")
        // References of a value stay in its algorithm: X̃ is assigned twice and used twice.
        let x = try #require(Support.find("X̃[", in: text, after: " 5 "))
        let xs = c.request("textDocument/references", Support.at(uri, line: x.line, character: x.character))?["result"]?.array ?? []
        #expect(xs.count == 4, "\(xs)")
    }

    @Test func hovers() throws {
        let (c, uri, text) = try Self.opened("MHAttention.algo")
        defer { c.notify("exit"); c.closeInput() }
        // A dimension of MHAttention: its introduction, and how the callers of the directory bind it.
        let dx = try #require(Support.find("d_x×ℓ_x", in: text))
        let h = hover(c, uri, dx)
        #expect(h.contains("dimension, introduced"), "\(h)")
        #expect(h.contains("`d_e` in DTransformer.algo"), "\(h)")
        // A hyperparameter, a collection, the title.
        #expect(hover(c, uri, try #require(Support.find("H, number", in: text))).contains("H ∈ ℕ"))
        let y = try #require(Support.find("Y ←", in: text))
        #expect(hover(c, uri, y).contains("Y ∈ ℝ^{H·d_mid×ℓ_x}"), "\(hover(c, uri, y))")
        let title = try #require(Support.find("MHAttention(", in: text))
        #expect(hover(c, uri, title).contains("called from"))
        // A diagnostic code written in a comment.
        let scratch = "file:///tmp/algo-lsp-codes.algo"
        Support.open(c, scratch, "// error E0401 here\nAlgorithm 1: y ← F(x)\nInput: x ∈ ℝ\n1 y ← x\n")
        #expect(hover(c, scratch, (0, 10)).contains("a matrix product whose inner dimensions differ"))
    }

    @Test func completions() throws {
        let (c, _, _) = try Self.opened("DTransformer.algo")
        defer { c.notify("exit"); c.closeInput() }
        let uri = "file:///tmp/algo-lsp-completion/T.algo"
        let text = "Algorithm 1: y ← F(x | W_q)\nInput: x ∈ \\R\nParameters: W_q ∈ \\mathbb{R}^{d×d}\n1 y <-\n2 z \\ma\n3 y ← W_\n"
        Support.open(c, uri, text)
        func items(_ line: Int) -> [JSON] {
            let l = text.components(separatedBy: "\n")[line]
            return c.request("textDocument/completion", Support.at(uri, line: line, character: l.utf16.count))?["result"]?["items"]?.array ?? []
        }
        func newTexts(_ line: Int) -> [String] { items(line).compactMap { $0["textEdit"]?["newText"]?.string } }
        #expect(newTexts(1).contains("ℝ"), "\\R → ℝ")
        #expect(newTexts(3) == ["←"], "<- → ←")
        let ma = items(4).compactMap { $0["label"]?.string }
        #expect(ma.contains("\\mathbb{R}") && ma.contains("\\mathcal{W}") && ma.contains("\\mathbf{1}"), "\(ma)")
        #expect(newTexts(5).contains("W_q"), "names in scope: \(newTexts(5))")
    }

    @Test func symbolsTokensAndFormatting() throws {
        let (c, uri, text) = try Self.opened("DTransformer.algo")
        defer { c.notify("exit"); c.closeInput() }
        let symbols = c.request("textDocument/documentSymbol", ["textDocument": ["uri": JSON(uri)]])?["result"]?.array ?? []
        #expect(symbols.count == 1)
        #expect(symbols.first?["name"]?.string == "Algorithm 10: DTransformer")
        let lines = symbols.first?["children"]?.array ?? []
        // Lines 1–4, 9–11 at the top; 5–8 inside the loop of line 4.
        #expect(lines.compactMap { $0["name"]?.string?.split(separator: " ").first }.map(String.init) == ["1", "2", "3", "4", "9", "10", "11"])
        #expect(lines[3]["children"]?.array?.count == 4)

        // Semantic tokens: decode, then look at what covers a few names.
        let data = (c.request("textDocument/semanticTokens/full", ["textDocument": ["uri": JSON(uri)]])?["result"]?["data"]?.array ?? []).compactMap(\.int)
        #expect(data.count % 5 == 0 && !data.isEmpty)
        var line = 0, ch = 0
        var tokens: [String: Int] = [:]
        let textLines = text.components(separatedBy: "\n")
        for i in stride(from: 0, to: data.count, by: 5) {
            if data[i] > 0 { line += data[i]; ch = data[i + 1] } else { ch += data[i + 1] }
            let u = Array(textLines[line].utf16)
            #expect(ch + data[i + 2] <= u.count)
            let word = String(decoding: u[ch..<min(u.count, ch + data[i + 2])], as: UTF16.self)
            tokens[word] = data[i + 3]
        }
        func type(_ w: String) -> String? { tokens[w].map { ["keyword", "function", "variable", "parameter", "typeParameter", "number", "operator", "comment", "string"][$0] } }
        #expect(type("MHAttention") == "function")
        #expect(type("for") == "keyword")
        #expect(type("d_mlp") == "typeParameter")
        #expect(type("W^l_mlp1") == "parameter")
        #expect(type("X̃") == "variable")
        #expect(type("←") == "operator")

        // Formatting: the ASCII spelling becomes Unicode; a canonical file needs no edit.
        #expect(c.request("textDocument/formatting", ["textDocument": ["uri": JSON(uri)], "options": ["tabSize": 4, "insertSpaces": true]])?["result"]?.array?.isEmpty == true)
        let ascii = "file:///tmp/algo-lsp-fmt/A.algo"
        Support.open(c, ascii, "Algorithm 1: y <- F(x)\nInput: x \\in \\mathbb{R}\n1 y <- x\n")
        let edits = c.request("textDocument/formatting", ["textDocument": ["uri": JSON(ascii)], "options": ["tabSize": 4, "insertSpaces": true]])?["result"]?.array ?? []
        #expect(edits.first?["newText"]?.string == "Algorithm 1: y ← F(x)\nInput: x ∈ ℝ\n1 y ← x\n")
    }
}

/// Every position of every paper algorithm gets an answer to hover and definition (no request
/// fails or goes unanswered), and every definition points into a file of the directory.
@Suite struct EveryPositionTests {
    @Test func hoverAndDefinitionEverywhere() throws {
        let (c, _) = Support.started()
        defer { c.notify("exit"); c.closeInput() }
        let dir = Support.root.appendingPathComponent("Algorithms")
        for name in try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() where name.hasSuffix(".algo") {
            let text = try Support.text("Algorithms/" + name)
            let uri = dir.appendingPathComponent(name).absoluteString
            Support.open(c, uri, text)
            for (l, line) in text.components(separatedBy: "\n").enumerated() where !line.hasPrefix("//") {
                for ch in stride(from: 0, through: line.utf16.count, by: 3) {
                    let h = c.request("textDocument/hover", Support.at(uri, line: l, character: ch))
                    #expect(h?["result"] != nil, "hover \(name) \(l):\(ch)")
                    let d = c.request("textDocument/definition", Support.at(uri, line: l, character: ch))
                    #expect(d?["result"] != nil, "definition \(name) \(l):\(ch)")
                    if let u = d?["result"]?["uri"]?.string { #expect(u.hasPrefix(dir.absoluteString), "\(u)") }
                }
            }
            c.notify("textDocument/didClose", ["textDocument": ["uri": JSON(uri)]])
        }
    }
}
