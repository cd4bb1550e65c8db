import AlgoLSP
import Foundation
import Testing

/// A whole editing session over pipes, as an editor drives it: initialize, open the paper's
/// DTransformer (erratum A4: `d_attn`, `d_mid` unbound), the published diagnostics with UTF-16
/// ranges, hover on `X̃`, go to `MHAttention`, complete `\gamma`, fix the file, shutdown, exit.
@Suite struct SessionTests {
    @Test func editorSession() throws {
        let dir = try Support.scratchAlgorithms()
        defer { try? FileManager.default.removeItem(at: dir) }
        let broken = try Support.text("Tests/AlgoSyntaxTests/Fixtures/errata/A4-DTransformer-d_attn-d_mid.algo")
        let fixed = try Support.text("Algorithms/DTransformer.algo")
        let uri = dir.appendingPathComponent("DTransformer.algo").absoluteString

        let (c, initialize) = Support.started()
        #expect(initialize?["result"]?["capabilities"]?["positionEncoding"]?.string == "utf-16")
        #expect(initialize?["result"]?["capabilities"]?["hoverProvider"]?.bool == true)

        // didOpen of a broken file: E0305 on the MHAttention call, its range in UTF-16 units.
        Support.open(c, uri, broken)
        let published = try #require(c.diagnostics(uri, version: 1))
        let ds = try #require(published["diagnostics"]?.array)
        #expect(ds.count == 1)
        let d = try #require(ds.first)
        #expect(d["code"]?.string == "E0305")
        #expect(d["source"]?.string == "algo")
        #expect(d["severity"]?.int == 1)
        #expect(d["message"]?.string?.contains("help: declare them in `DTransformer`: `Hyperparameters: d_attn, d_mid ∈ ℕ`") == true)
        let start = try #require(Support.find("MHAttention(", in: broken))
        let endLine = broken.components(separatedBy: "\n")[start.line]
        // The span ends after `…[[t ≤ t′]])`: X̃ (2 units), 𝓦 (2 units), t′ and ≤ (1 unit each) before it.
        let end = endLine.range(of: "[[t ≤ t′]])").map { endLine[..<$0.upperBound].utf16.count }
        #expect(d["range"]?["start"]?["line"]?.int == start.line)
        #expect(d["range"]?["start"]?["character"]?.int == start.character)
        #expect(d["range"]?["end"]?["character"]?.int == end)
        #expect(end != endLine.range(of: "[[t ≤ t′]])").map { endLine[..<$0.upperBound].count }, "the test must tell UTF-16 from characters")

        // Hover on X̃ (cursor between X and the combining tilde) in line 6: its proven shape.
        let x = try #require(Support.find("(X̃", in: broken, after: " 6 "))
        let hover = c.request("textDocument/hover", Support.at(uri, line: x.line, character: x.character + 2))
        let value = hover?["result"]?["contents"]?["value"]?.string ?? ""
        #expect(value.contains("X̃ ∈ ℝ^{d_e×ℓ}"), "\(value)")
        #expect(value.contains("line 26"), "where X̃ is first assigned: \(value)")

        // Hover on the call: the callee's header; on the diagnostic range: the code's explanation.
        let callHover = c.request("textDocument/hover", Support.at(uri, line: start.line, character: start.character + 3))
        let callText = callHover?["result"]?["contents"]?["value"]?.string ?? ""
        #expect(callText.contains("Algorithm 5: Ṽ ← MHAttention(X, Z = X | 𝓦, Mask)"), "\(callText)")
        #expect(callText.contains("MHAttention.algo line 4"))
        #expect(callText.contains("**E0305**: a callee's hyperparameter that no named argument"))

        // Definition of MHAttention: the name in the title of MHAttention.algo.
        let def = c.request("textDocument/definition", Support.at(uri, line: start.line, character: start.character + 1))
        #expect(def?["result"]?["uri"]?.string?.hasSuffix("/MHAttention.algo") == true)
        let mha = try Support.text("Algorithms/MHAttention.algo")
        let title = try #require(Support.find("MHAttention(X, Z", in: mha))
        #expect(def?["result"]?["range"]?["start"]?["line"]?.int == title.line)
        #expect(def?["result"]?["range"]?["start"]?["character"]?.int == title.character)

        // Completion of `\gamma` typed at the end of line 1 (an incremental change).
        let line0 = broken.components(separatedBy: "\n")[0].utf16.count
        c.notify("textDocument/didChange", ["textDocument": ["uri": JSON(uri), "version": 2],
                                             "contentChanges": [["range": ["start": ["line": 0, "character": JSON(line0)], "end": ["line": 0, "character": JSON(line0)]], "text": " \\gamma"]]])
        let completion = c.request("textDocument/completion", Support.at(uri, line: 0, character: line0 + 7))
        let items = completion?["result"]?["items"]?.array ?? []
        let gamma = items.first { $0["label"]?.string == "\\gamma" }
        #expect(gamma?["textEdit"]?["newText"]?.string == "γ")
        #expect(gamma?["textEdit"]?["range"]?["start"]?["character"]?.int == line0 + 1)
        #expect(gamma?["textEdit"]?["range"]?["end"]?["character"]?.int == line0 + 7)
        #expect(c.diagnostics(uri, version: 2) != nil)

        // didChange replacing the whole text with the fixed file: no diagnostics.
        c.notify("textDocument/didChange", ["textDocument": ["uri": JSON(uri), "version": 3], "contentChanges": [["text": JSON(fixed)]]])
        let clean = c.diagnostics(uri, version: 3)
        #expect(clean?["diagnostics"]?.array?.isEmpty == true, "\(String(describing: clean))")

        #expect(c.request("shutdown")?["result"] == .null)
        c.notify("exit")
        #expect(c.waitForExit() == 0)
        c.closeInput()
    }

    /// Labels become `relatedInformation` with their own locations (erratum A1 of ETransformer:
    /// `W_u declared here`, `X gets its shape here`).
    @Test func labelsAreRelatedInformation() throws {
        let dir = try Support.scratchAlgorithms()
        defer { try? FileManager.default.removeItem(at: dir) }
        let text = try Support.text("Tests/AlgoSyntaxTests/Fixtures/errata/A1-ETransformer-W_u.algo")
        let uri = dir.appendingPathComponent("ETransformer.algo").absoluteString
        let (c, _) = Support.started()
        defer { c.notify("exit"); c.closeInput() }
        Support.open(c, uri, text)
        let d = try #require(c.diagnostics(uri, version: 1)?["diagnostics"]?.array?.first)
        #expect(d["code"]?.string == "E0401")
        let related = d["relatedInformation"]?.array ?? []
        let declared = related.first { $0["message"]?.string == "`W_u` declared here" }
        let line = try #require(Support.find("W_u ∈", in: text))
        #expect(declared?["location"]?["uri"]?.string == uri)
        #expect(declared?["location"]?["range"]?["start"]?["line"]?.int == line.line)
        #expect(declared?["location"]?["range"]?["start"]?["character"]?.int == line.character)
        #expect(d["message"]?.string?.contains("help: declare `W_u ∈ ℝ^{N_V×d_f}`") == true)
    }

    /// Editing a callee re-checks the files of its directory that call it, and a callee's own
    /// error is reported in the callee only.
    @Test func callersAreRechecked() throws {
        let dir = try Support.scratchAlgorithms()
        defer { try? FileManager.default.removeItem(at: dir) }
        let mha = try Support.text("Algorithms/MHAttention.algo")
        let uri = dir.appendingPathComponent("MHAttention.algo").absoluteString
        let caller = dir.appendingPathComponent("DTransformer.algo").absoluteString
        let (c, _) = Support.started()
        defer { c.notify("exit"); c.closeInput() }
        Support.open(c, uri, mha)
        #expect(c.diagnostics(uri, version: 1)?["diagnostics"]?.array?.isEmpty == true)
        #expect(c.diagnostics(caller)?["diagnostics"]?.array?.isEmpty == true)
        // Rename the hyperparameter `Mask` that DTransformer binds by name: the caller now has E0307.
        let renamed = mha.replacingOccurrences(of: "Mask", with: "Mosk")
        c.notify("textDocument/didChange", ["textDocument": ["uri": JSON(uri), "version": 2], "contentChanges": [["text": JSON(renamed)]]])
        #expect(c.diagnostics(uri, version: 2)?["diagnostics"]?.array?.isEmpty == true)
        let callerDiagnostics = c.diagnostics(caller)?["diagnostics"]?.array ?? []
        #expect(callerDiagnostics.contains { $0["code"]?.string == "E0307" }, "\(callerDiagnostics)")
    }

    /// Changes in quick succession are checked once, after the last (the debounce).
    @Test func changesAreDebounced() throws {
        let dir = try Support.scratchAlgorithms()
        defer { try? FileManager.default.removeItem(at: dir) }
        let text = try Support.text("Algorithms/LayerNorm.algo")
        let uri = dir.appendingPathComponent("LayerNorm.algo").absoluteString
        let (c, _) = Support.started(debounce: 0.5)
        defer { c.notify("exit"); c.closeInput() }
        Support.open(c, uri, text)
        #expect(c.diagnostics(uri, version: 1) != nil)
        for v in 2...6 {
            c.notify("textDocument/didChange", ["textDocument": ["uri": JSON(uri), "version": JSON(v)], "contentChanges": [["text": JSON(text + String(repeating: "\n", count: v))]]])
        }
        #expect(c.diagnostics(uri, version: 6) != nil)
        let early = c.pending.filter { $0["params"]?["uri"]?.string == uri }
        #expect(early.isEmpty, "published before the last change: \(early)")
    }
}
