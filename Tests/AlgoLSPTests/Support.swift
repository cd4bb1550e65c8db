import AlgoLSP
import Foundation

/// Shared helpers: the repository, a scratch copy of `Algorithms/`, and a started client.
enum Support {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func text(_ relative: String) throws -> String {
        try String(contentsOf: root.appendingPathComponent(relative), encoding: .utf8)
    }

    /// A fresh directory holding a copy of every `Algorithms/*.algo` (the library of DTransformer),
    /// so that tests may change files without touching the repository.
    static func scratchAlgorithms() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("algo-lsp-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let src = root.appendingPathComponent("Algorithms")
        for n in try FileManager.default.contentsOfDirectory(atPath: src.path) where n.hasSuffix(".algo") {
            try FileManager.default.copyItem(at: src.appendingPathComponent(n), to: dir.appendingPathComponent(n))
        }
        return dir
    }

    /// A client whose server has answered `initialize`.
    static func started(debounce: Double = 0.05, maxContentLength: Int = 64 * 1024 * 1024) -> (LSPClient, JSON?) {
        let c = LSPClient(options: ServerOptions(debounce: debounce, maxContentLength: maxContentLength))
        let r = c.request("initialize", ["processId": .null, "rootUri": .null, "capabilities": [:]])
        c.notify("initialized", [:])
        return (c, r)
    }

    static func open(_ c: LSPClient, _ uri: String, _ text: String, version: Int = 1) {
        c.notify("textDocument/didOpen", ["textDocument": ["uri": JSON(uri), "languageId": "algo", "version": JSON(version), "text": JSON(text)]])
    }

    static func at(_ uri: String, line: Int, character: Int) -> JSON {
        ["textDocument": ["uri": JSON(uri)], "position": ["line": JSON(line), "character": JSON(character)]]
    }

    /// The 0-based line holding `needle` and the UTF-16 offset of `needle` in it (Swift's own
    /// `utf16` view: independent of the server's conversion); `//` comment lines are skipped.
    static func find(_ needle: String, in text: String, after: String? = nil) -> (line: Int, character: Int)? {
        for (i, l) in text.components(separatedBy: "\n").enumerated() {
            if let a = after, !l.contains(a) { continue }
            if l.hasPrefix("//") { continue }
            if let r = l.range(of: needle) { return (i, l[..<r.lowerBound].utf16.count) }
        }
        return nil
    }
}
