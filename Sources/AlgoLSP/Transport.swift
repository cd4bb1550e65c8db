import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// JSON-RPC over two file descriptors (stdin and stdout for `algo lsp`, pipes in tests): a reader
/// thread that frames incoming bytes, and a writer that sends one framed message at a time.
/// POSIX `read`/`write` directly, so that a closed pipe is an error code (EPIPE with SIGPIPE
/// ignored), never an exception or a trap.
final class Transport: @unchecked Sendable {
    private let input: Int32
    private let output: Int32
    private let lock = NSLock()
    private var framer: MessageFramer

    init(input: Int32, output: Int32, maxContentLength: Int) {
        self.input = input
        self.output = output
        self.framer = MessageFramer(maxContentLength: maxContentLength)
    }

    /// Reads until end of input on a new thread, handing every framing event to `deliver` in order;
    /// `finished` is called once at end of input (or a read error).
    func startReading(deliver: @escaping @Sendable (MessageFramer.Event) -> Void, finished: @escaping @Sendable () -> Void) {
        let thread = Thread { [self] in
            var chunk = [UInt8](repeating: 0, count: 64 * 1024)
            while true {
                let n = chunk.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
                if n < 0, errno == EINTR { continue }
                guard n > 0 else { break }
                for e in framer.push(chunk[0..<n]) { deliver(e) }
            }
            finished()
        }
        thread.name = "algo-lsp-reader"
        thread.start()
    }

    /// Sends one message; false when the output is closed.
    @discardableResult
    func send(_ message: JSON) -> Bool {
        let body = message.data
        var bytes = Array("Content-Length: \(body.count)\r\n\r\n".utf8)
        bytes.append(contentsOf: body)
        lock.lock()
        defer { lock.unlock() }
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { write(output, $0.baseAddress! + offset, bytes.count - offset) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { return false }
            offset += n
        }
        return true
    }
}
