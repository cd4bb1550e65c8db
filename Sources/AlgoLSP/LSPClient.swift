import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A client that drives a `LanguageServer` over pipes as an editor would: framed requests and
/// notifications in, responses and notifications out, each wait bounded by a timeout. Used by the
/// tests and by `algo lsp --bench`.
public final class LSPClient: @unchecked Sendable {
    private let toServer = Pipe()
    private let fromServer = Pipe()
    private let condition = NSCondition()
    private var received: [JSON] = []
    private var serverExit: Int32?
    private var nextID = 1

    /// Starts a server in this process on a new thread.
    public init(options: ServerOptions = ServerOptions()) {
        signal(SIGPIPE, SIG_IGN)
        let server = LanguageServer(input: toServer.fileHandleForReading.fileDescriptor,
                                    output: fromServer.fileHandleForWriting.fileDescriptor, options: options)
        let serverThread = Thread { [self] in
            let code = server.run()
            condition.lock()
            serverExit = code
            condition.broadcast()
            condition.unlock()
        }
        serverThread.start()
        let input = fromServer.fileHandleForReading.fileDescriptor
        let reader = Thread { [self] in
            var framer = MessageFramer()
            var chunk = [UInt8](repeating: 0, count: 64 * 1024)
            while true {
                let n = chunk.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
                if n < 0, errno == EINTR { continue }
                guard n > 0 else { break }
                for e in framer.push(chunk[0..<n]) {
                    guard case .message(let d) = e, let j = JSON.parse(d) else { continue }
                    condition.lock()
                    received.append(j)
                    condition.broadcast()
                    condition.unlock()
                }
            }
        }
        reader.start()
    }

    /// Writes bytes as they are (for malformed input).
    public func sendRaw(_ bytes: [UInt8]) {
        var offset = 0
        let fd = toServer.fileHandleForWriting.fileDescriptor
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, bytes.count - offset) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { return }
            offset += n
        }
    }

    /// Sends one framed message.
    public func send(_ message: JSON) {
        let body = [UInt8](message.data)
        sendRaw(Array("Content-Length: \(body.count)\r\n\r\n".utf8) + body)
    }

    public func notify(_ method: String, _ params: JSON = .null) {
        send(["jsonrpc": "2.0", "method": JSON(method), "params": params])
    }

    /// Sends a request and waits for its response (the whole message: `result` or `error`).
    public func request(_ method: String, _ params: JSON = .null, timeout: Double = 30) -> JSON? {
        condition.lock()
        let id = nextID
        nextID += 1
        condition.unlock()
        send(["jsonrpc": "2.0", "id": JSON(id), "method": JSON(method), "params": params])
        return wait(timeout: timeout) { $0["id"]?.int == id && $0["method"] == nil }
    }

    /// Waits for (and removes) the first message received that satisfies `match`.
    public func wait(timeout: Double = 30, _ match: (JSON) -> Bool) -> JSON? {
        let deadline = Date().addingTimeInterval(timeout)
        condition.lock()
        defer { condition.unlock() }
        while true {
            if let i = received.firstIndex(where: match) { return received.remove(at: i) }
            if !condition.wait(until: deadline) { return nil }
        }
    }

    /// Waits for the next `publishDiagnostics` of `uri` (with `version` when given).
    public func diagnostics(_ uri: String, version: Int? = nil, timeout: Double = 30) -> JSON? {
        wait(timeout: timeout) {
            $0["method"]?.string == "textDocument/publishDiagnostics" && $0["params"]?["uri"]?.string == uri
                && (version == nil || $0["params"]?["version"]?.int == version)
        }?["params"]
    }

    /// The messages received and not yet consumed by a wait.
    public var pending: [JSON] {
        condition.lock()
        defer { condition.unlock() }
        return received
    }

    /// Waits for the server to finish; its exit code.
    public func waitForExit(timeout: Double = 10) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        condition.lock()
        defer { condition.unlock() }
        while serverExit == nil { if !condition.wait(until: deadline) { break } }
        return serverExit
    }

    /// Closes the server's input (end of input).
    public func closeInput() {
        try? toServer.fileHandleForWriting.close()
    }
}
