import AlgoDiagnostics
import AlgoSyntax
import Dispatch
import Foundation

/// Options of the server (the defaults are `algo lsp`'s).
public struct ServerOptions: Sendable {
    /// Seconds between the last change of a document and its check.
    public var debounce: Double
    /// The largest message body accepted, in bytes; larger ones are skipped unread.
    public var maxContentLength: Int
    public init(debounce: Double = 0.15, maxContentLength: Int = 64 * 1024 * 1024) {
        self.debounce = debounce
        self.maxContentLength = maxContentLength
    }
}

/// The `.algo` language server (LSP 3.17 over JSON-RPC 2.0): reads framed messages from `input`,
/// writes answers and `publishDiagnostics` to `output`, until `exit` or the end of input.
///
/// One serial queue owns all state (documents, parses, checks): messages are handled in the order
/// they arrive, a check delays the answers queued behind it but never races them. Bad input of any
/// kind is answered with a JSON-RPC error and the server reads on.
public final class LanguageServer: @unchecked Sendable {
    let transport: Transport
    let options: ServerOptions
    let queue = DispatchQueue(label: "algo-lsp")
    let workspace = Workspace()
    private var initialized = false
    private var shutDown = false
    private var generations: [String: Int] = [:]
    private let finished = DispatchSemaphore(value: 0)
    private var exitCode: Int32 = 1
    private var exited = false

    /// Serves on two file descriptors (stdin/stdout for `algo lsp`).
    public init(input: Int32, output: Int32, options: ServerOptions = ServerOptions()) {
        self.transport = Transport(input: input, output: output, maxContentLength: options.maxContentLength)
        self.options = options
    }

    /// Serves until `exit` (exit code 0 after `shutdown`, 1 without, as LSP says) or the end of input (1).
    public func run() -> Int32 {
        transport.startReading(
            deliver: { [self] e in queue.async { self.handle(e) } },
            finished: { [self] in queue.async { self.finish(1) } })
        finished.wait()
        return exitCode
    }

    private func finish(_ code: Int32) {
        guard !exited else { return }
        exited = true
        exitCode = code
        finished.signal()
    }

    // MARK: - Messages

    func handle(_ e: MessageFramer.Event) {
        guard !exited else { return }
        switch e {
        case .failure(let f):
            let code = if case .tooLarge = f { RPCError.invalidRequest } else { RPCError.parseError }
            reply(.null, .failure(RPCError(code, f.message)))
        case .message(let data):
            guard let j = JSON.parse(data) else {
                reply(.null, .failure(RPCError(RPCError.parseError, "the message is not valid JSON")))
                return
            }
            handle(Incoming(j))
        }
    }

    func handle(_ m: Incoming) {
        switch m {
        case .response: break
        case .invalid(let id, let error): reply(id, .failure(error))
        case .notification(let method, let params): notification(method, params)
        case .request(let id, let method, let params):
            if !initialized, method != "initialize" {
                reply(id, .failure(RPCError(RPCError.serverNotInitialized, "`initialize` must be the first request")))
            } else if shutDown {
                reply(id, .failure(RPCError(RPCError.invalidRequest, "the server is shut down; only `exit` is accepted")))
            } else {
                reply(id, request(method, params))
            }
        }
    }

    private func reply(_ id: JSON, _ r: Result<JSON, RPCError>) {
        switch r {
        case .success(let v): transport.send(["jsonrpc": "2.0", "id": id, "result": v])
        case .failure(let e): transport.send(["jsonrpc": "2.0", "id": id, "error": ["code": JSON(e.code), "message": JSON(e.message)]])
        }
    }

    func notify(_ method: String, _ params: JSON) {
        transport.send(["jsonrpc": "2.0", "method": JSON(method), "params": params])
    }

    private func request(_ method: String, _ params: JSON?) -> Result<JSON, RPCError> {
        do {
            switch method {
            case "initialize":
                initialized = true
                return .success(Self.capabilities)
            case "shutdown":
                shutDown = true
                return .success(.null)
            case "textDocument/hover": return .success(try hover(params))
            case "textDocument/definition": return .success(try definition(params))
            case "textDocument/references": return .success(try references(params))
            case "textDocument/completion": return .success(try completion(params))
            case "textDocument/formatting": return .success(try formatting(params))
            case "textDocument/documentSymbol": return .success(try documentSymbols(params))
            case "textDocument/semanticTokens/full": return .success(try semanticTokens(params))
            default: return .failure(RPCError(RPCError.methodNotFound, "`\(method)` is not supported by algo lsp"))
            }
        } catch let e as RPCError {
            return .failure(e)
        } catch {
            return .failure(RPCError(RPCError.internalError, "\(error)"))
        }
    }

    private func notification(_ method: String, _ params: JSON?) {
        if method == "exit" { finish(shutDown ? 0 : 1); return }
        guard initialized, !shutDown else { return }
        switch method {
        case "textDocument/didOpen":
            guard let d = params?["textDocument"], let uri = d["uri"]?.string, let text = d["text"]?.string else { return }
            let doc = Document(uri: uri, version: d["version"]?.int ?? 0, text: text)
            workspace.documents[doc.path] = doc
            schedule(doc.path, after: 0)
        case "textDocument/didChange":
            guard let uri = params?["textDocument"]?["uri"]?.string, let changes = params?["contentChanges"]?.array else { return }
            let path = Document.path(of: uri)
            guard var doc = workspace.documents[path], doc.apply(changes) else { return }
            doc.version = params?["textDocument"]?["version"]?.int ?? doc.version + 1
            workspace.documents[path] = doc
            schedule(path, after: options.debounce)
        case "textDocument/didClose":
            guard let uri = params?["textDocument"]?["uri"]?.string else { return }
            let path = Document.path(of: uri)
            workspace.documents[path] = nil
            workspace.forget(path)
            generations[path, default: 0] += 1
            notify("textDocument/publishDiagnostics", ["uri": JSON(uri), "diagnostics": []])
        case "textDocument/didSave":
            guard let uri = params?["textDocument"]?["uri"]?.string else { return }
            schedule(Document.path(of: uri), after: 0)
        default:
            // `initialized`, `$/cancelRequest`, `$/setTrace`, configuration and watched-file
            // notifications, and unknown ones: notifications are never answered.
            break
        }
    }

    // MARK: - Diagnostics

    /// Checks `path` after `delay` seconds unless it changes again before.
    private func schedule(_ path: String, after delay: Double) {
        generations[path, default: 0] += 1
        let g = generations[path] ?? 0
        queue.asyncAfter(deadline: .now() + delay) { [self] in
            guard !exited, generations[path] == g else { return }
            workspace.analyze(path, publish: publish)
        }
    }

    /// Makes sure a document has been checked (a request may arrive before its debounced check).
    func ensureAnalyzed(_ path: String) {
        if workspace.analyses[path] == nil { workspace.analyze(path, publish: publish) }
    }

    private func publish(_ byFile: [String: [Diagnostic]]) {
        for (path, ds) in byFile.sorted(by: { $0.key < $1.key }) {
            let doc = workspace.documents[path]
            let uri = doc?.uri ?? Document.uri(of: path)
            var params: JSON = ["uri": JSON(uri), "diagnostics": .array(ds.map { lspDiagnostic($0, in: path) })]
            if let v = doc?.version, case .object(var o) = params { o["version"] = JSON(v); params = .object(o) }
            notify("textDocument/publishDiagnostics", params)
        }
    }

    /// The line index of a file's text and the shift of spans into it.
    func lines(of path: String) -> (LineIndex, Int)? {
        if let d = workspace.documents[path] { return (d.lines, d.shift) }
        guard let e = workspace.entry(path) else { return nil }
        return (LineIndex(e.parsed.source.text), 0)
    }

    func location(_ span: Span) -> JSON? {
        guard let (l, shift) = lines(of: span.file) else { return nil }
        let uri = workspace.documents[span.file]?.uri ?? Document.uri(of: span.file)
        return ["uri": JSON(uri), "range": l.range(of: span, shift: shift).json]
    }

    /// A diagnostic in LSP form: the range in UTF-16, the code, the message with its label, notes
    /// and `help:` lines, the labels as related information.
    func lspDiagnostic(_ d: Diagnostic, in path: String) -> JSON {
        let range = lines(of: path).map { $0.0.range(of: d.span, shift: $0.1) } ?? TextRange(start: Position(line: 0, character: 0), end: Position(line: 0, character: 0))
        var message = d.message
        if let l = d.spanLabel { message += "\n" + l }
        for n in d.notes { message += "\nnote: " + n }
        if let h = d.help { message += "\nhelp: " + h }
        let severity: Int = switch d.severity {
        case .error: 1
        case .warning: 2
        case .note: 3
        }
        var o: [String: JSON] = [
            "range": range.json, "severity": JSON(severity), "code": JSON(d.code.rawValue), "source": "algo", "message": JSON(message),
        ]
        let related = d.labels.compactMap { l -> JSON? in
            guard let loc = location(l.span) else { return nil }
            return ["location": loc, "message": JSON(l.message)]
        }
        if !related.isEmpty { o["relatedInformation"] = .array(related) }
        return .object(o)
    }

    // MARK: - Requests on a document

    /// The open document a request names, with the byte offset of its `position` (if it has one).
    func document(_ params: JSON?, _ method: String) throws -> (Document, Int) {
        guard let uri = params?["textDocument"]?["uri"]?.string else { throw RPCError.badParams(method) }
        guard let doc = workspace.documents[Document.path(of: uri)] else { throw RPCError.notOpen(uri) }
        let offset = Position(params?["position"]).map { doc.lines.offset(of: $0) - doc.shift } ?? 0
        return (doc, max(0, offset))
    }

    static let capabilities: JSON = {
        let legend: JSON = [
            "tokenTypes": .array(SemanticTokens.types.map { JSON($0) }),
            "tokenModifiers": .array(SemanticTokens.modifiers.map { JSON($0) }),
        ]
        let sync: JSON = ["openClose": true, "change": 2, "save": ["includeText": false]]
        let completion: JSON = ["triggerCharacters": ["\\", "-", "=", "."], "resolveProvider": false]
        let c: [String: JSON] = [
            "positionEncoding": "utf-16",
            "textDocumentSync": sync,
            "hoverProvider": true,
            "definitionProvider": true,
            "referencesProvider": true,
            "completionProvider": completion,
            "documentFormattingProvider": true,
            "documentSymbolProvider": true,
            "semanticTokensProvider": ["legend": legend, "full": true],
        ]
        return ["capabilities": .object(c), "serverInfo": ["name": "algo lsp", "version": "0.1.0"]]
    }()
}
