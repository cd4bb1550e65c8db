import AlgoLSP
import Foundation
import Testing

/// Bad input never takes the server down: each case is answered with the JSON-RPC error it calls
/// for (or, for a notification, nothing), and a normal request afterwards is still answered.
@Suite struct MalformedInputTests {
    /// The next error answer the client receives.
    func error(_ c: LSPClient) -> (code: Int?, id: JSON?)? {
        guard let m = c.wait(timeout: 10, { $0["error"] != nil }) else { return nil }
        return (m["error"]?["code"]?.int, m["id"])
    }

    /// Still answering: a request after the bad input gets its own response.
    func alive(_ c: LSPClient) -> Bool {
        c.request("textDocument/hover", Support.at("file:///nowhere.algo", line: 0, character: 0))?["error"]?["code"]?.int == -32602
    }

    @Test func beforeInitialize() {
        let c = LSPClient()
        defer { c.notify("exit"); c.closeInput() }
        #expect(c.request("textDocument/hover", Support.at("file:///a.algo", line: 0, character: 0))?["error"]?["code"]?.int == -32002)
        #expect(c.request("initialize", ["capabilities": [:]])?["result"]?["capabilities"] != nil)
    }

    @Test func framingErrors() {
        let (c, _) = Support.started(maxContentLength: 1 << 20)
        defer { c.notify("exit"); c.closeInput() }
        // A header without Content-Length, then a real message: the framer resynchronises.
        c.sendRaw(Array("X-Whatever: 1\r\n\r\n".utf8))
        #expect(error(c)?.code == -32700)
        #expect(alive(c))
        // Content-Length that is not a number; a negative one.
        c.sendRaw(Array("Content-Length: many\r\n\r\n".utf8))
        #expect(error(c)?.code == -32700)
        c.sendRaw(Array("Content-Length: -5\r\n\r\n".utf8))
        #expect(error(c)?.code == -32700)
        #expect(alive(c))
        // A body over the limit: skipped as it arrives (2 MiB against a 1 MiB limit), answered -32600.
        let huge = 2 << 20
        c.sendRaw(Array("Content-Length: \(huge)\r\n\r\n".utf8))
        #expect(error(c)?.code == -32600)
        c.sendRaw([UInt8](repeating: UInt8(ascii: "x"), count: huge))
        #expect(alive(c))
        // A header that never ends.
        c.sendRaw([UInt8](repeating: UInt8(ascii: "a"), count: 20_000))
        #expect(error(c)?.code == -32700)
        c.sendRaw(Array("\r\n\r\n".utf8))
        #expect(error(c)?.code == -32700)
        #expect(alive(c))
    }

    @Test func malformedJSON() {
        let (c, _) = Support.started()
        defer { c.notify("exit"); c.closeInput() }
        func raw(_ s: String) {
            let b = Array(s.utf8)
            c.sendRaw(Array("Content-Length: \(b.count)\r\n\r\n".utf8) + b)
        }
        raw("{not json}")
        #expect(error(c).map { $0.code == -32700 && $0.id == .null } == true)
        raw(String(repeating: "[", count: 100_000))
        #expect(error(c)?.code == -32700)
        raw("[1, 2]")
        #expect(error(c)?.code == -32600)
        raw("{\"jsonrpc\": \"2.0\", \"id\": {\"a\": 1}, \"method\": \"initialize\"}")
        #expect(error(c)?.code == -32600)
        raw("{\"jsonrpc\": \"2.0\", \"id\": 7, \"method\": 42}")
        #expect(error(c).map { $0.code == -32600 && $0.id == 7 } == true)
        raw("\u{FEFF}{\"jsonrpc\": \"2.0\", \"id\": 8}")
        #expect(error(c) != nil)
        #expect(alive(c))
    }

    @Test func unknownMethodsAndClosedDocuments() throws {
        let (c, _) = Support.started()
        defer { c.notify("exit"); c.closeInput() }
        #expect(c.request("textDocument/codeLens", ["textDocument": ["uri": "file:///a.algo"]])?["error"]?["code"]?.int == -32601)
        // An unknown notification gets no answer: the next message is the next request's response.
        c.notify("custom/somethingElse", ["x": 1])
        #expect(alive(c))
        #expect(c.pending.isEmpty, "\(c.pending)")
        // Requests for a document that is not open, and with missing params.
        #expect(c.request("textDocument/definition", Support.at("file:///closed.algo", line: 3, character: 1))?["error"]?["code"]?.int == -32602)
        #expect(c.request("textDocument/hover", .null)?["error"]?["code"]?.int == -32602)
        #expect(c.request("textDocument/completion", ["textDocument": 5])?["error"]?["code"]?.int == -32602)
        // A document closed after use.
        let uri = "file:///tmp/algo-lsp-closed.algo"
        Support.open(c, uri, "Algorithm 1: y ← F(x)\nInput: x ∈ ℝ\n1 y ← x\n")
        _ = c.diagnostics(uri, version: 1)
        c.notify("textDocument/didClose", ["textDocument": ["uri": JSON(uri)]])
        #expect(c.diagnostics(uri)?["diagnostics"]?.array?.isEmpty == true)
        #expect(c.request("textDocument/hover", Support.at(uri, line: 2, character: 2))?["error"]?["code"]?.int == -32602)
        // didChange of a closed document and malformed changes are ignored.
        c.notify("textDocument/didChange", ["textDocument": ["uri": JSON(uri), "version": 2], "contentChanges": [["text": "x"]]])
        c.notify("textDocument/didChange", ["textDocument": ["uri": 5]])
        #expect(alive(c))
    }

    /// A file that does not parse: diagnostics, and every request answers without a crash.
    @Test func fileThatDoesNotParse() throws {
        let (c, _) = Support.started()
        defer { c.notify("exit"); c.closeInput() }
        let uri = "file:///tmp/algo-lsp-garbage/broken.algo"
        let text = "@@ ← ← ∈∈ 𝓦 \\foo{\nAlgorithm : (((\n 1 X̃ ← [[ ]] 👍🏽 for do\n end end\n\u{0}\u{7}"
        Support.open(c, uri, text)
        let ds = c.diagnostics(uri, version: 1)?["diagnostics"]?.array ?? []
        #expect(!ds.isEmpty)
        let lines = text.components(separatedBy: "\n")
        for (l, s) in lines.enumerated() {
            for ch in 0...(s.utf16.count + 2) {
                for m in ["textDocument/hover", "textDocument/definition", "textDocument/references", "textDocument/completion"] {
                    let r = c.request(m, Support.at(uri, line: l, character: ch))
                    #expect(r?["result"] != nil || r?["error"] != nil, "\(m) \(l):\(ch)")
                }
            }
        }
        #expect(c.request("textDocument/formatting", ["textDocument": ["uri": JSON(uri)], "options": ["tabSize": 4, "insertSpaces": true]])?["error"]?["code"]?.int == -32803)
        #expect(c.request("textDocument/documentSymbol", ["textDocument": ["uri": JSON(uri)]])?["result"] != nil)
        #expect(c.request("textDocument/semanticTokens/full", ["textDocument": ["uri": JSON(uri)]])?["result"]?["data"] != nil)
        // Positions far outside the text.
        #expect(c.request("textDocument/hover", Support.at(uri, line: 10_000, character: 10_000))?["result"] != nil)
        #expect(alive(c))
    }

    /// `exit` without `shutdown` ends with 1; requests after `shutdown` are refused.
    @Test func lifecycle() {
        let (c, _) = Support.started()
        #expect(c.request("shutdown")?["result"] == .null)
        #expect(c.request("textDocument/hover", Support.at("file:///a.algo", line: 0, character: 0))?["error"]?["code"]?.int == -32600)
        c.notify("exit")
        #expect(c.waitForExit() == 0)
        c.closeInput()

        let (d, _) = Support.started()
        d.notify("exit")
        #expect(d.waitForExit() == 1)
        d.closeInput()

        let (e, _) = Support.started()
        e.closeInput()
        #expect(e.waitForExit() == 1, "end of input ends the server")
    }
}
