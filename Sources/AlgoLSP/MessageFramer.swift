import Foundation

/// The base protocol's framing: `Content-Length: N\r\n` (other header fields ignored), an empty
/// line, then N bytes of JSON. Bytes arrive in arbitrary pieces; `push` returns the whole messages
/// and the framing errors found so far.
///
/// Bounded: a header longer than `maxHeaderBytes` without its empty line is an error and is
/// dropped; a body longer than `maxContentLength` is an error and its bytes are skipped as they
/// arrive, never stored. After a header without a `Content-Length` the framer resynchronises at
/// the next `Content-Length:` it sees. Memory stays below `maxHeaderBytes + maxContentLength` plus
/// one read.
public struct MessageFramer: Sendable {
    /// What went wrong with the framing of one message (answered with an error whose id is null).
    public enum Failure: Error, Sendable, Equatable {
        /// A header block without a `Content-Length` field.
        case missingContentLength
        /// `Content-Length` is not a non-negative decimal number.
        case invalidContentLength(String)
        /// `Content-Length` above the limit: the body is skipped.
        case tooLarge(Int)
        /// No empty line within `maxHeaderBytes`.
        case headerTooLong

        /// The message of the JSON-RPC error.
        public var message: String {
            switch self {
            case .missingContentLength: "a message header without `Content-Length` was ignored"
            case .invalidContentLength(let v): "`Content-Length: \(v)` is not a byte count; the message was ignored"
            case .tooLarge(let n): "a message of \(n) bytes is over the limit and was skipped"
            case .headerTooLong: "a message header without an end (no empty line) was ignored"
            }
        }
    }

    public enum Event: Sendable, Equatable {
        case message(Data)
        case failure(Failure)
    }

    public let maxHeaderBytes: Int
    public let maxContentLength: Int

    private var buffer: [UInt8] = []
    private var readIndex = 0
    /// The body length of the header just read, while its body is incomplete.
    private var expected: Int?
    /// Bytes of an oversized body still to drop.
    private var skipping = 0

    public init(maxHeaderBytes: Int = 8 * 1024, maxContentLength: Int = 64 * 1024 * 1024) {
        self.maxHeaderBytes = maxHeaderBytes
        self.maxContentLength = maxContentLength
    }

    /// The bytes held (for tests of the bound).
    public var bufferedCount: Int { buffer.count - readIndex }

    public mutating func push<C: Collection>(_ bytes: C) -> [Event] where C.Element == UInt8 {
        var incoming = bytes[...]
        if skipping > 0 {
            let n = min(skipping, incoming.count)
            skipping -= n
            incoming = incoming.dropFirst(n)
        }
        buffer.append(contentsOf: incoming)
        var events: [Event] = []
        while true {
            if skipping > 0 {
                let n = min(skipping, bufferedCount)
                skipping -= n
                readIndex += n
                if skipping > 0 { break }
            }
            if let n = expected {
                guard bufferedCount >= n else { break }
                events.append(.message(Data(buffer[readIndex..<readIndex + n])))
                readIndex += n
                expected = nil
                continue
            }
            guard let end = headerEnd() else {
                if bufferedCount > maxHeaderBytes {
                    events.append(.failure(.headerTooLong))
                    // Keep the last bytes: they may be the start of the next header.
                    readIndex = buffer.count - 3
                }
                break
            }
            let header = String(decoding: buffer[readIndex..<end], as: UTF8.self)
            readIndex = end + 4
            switch Self.contentLength(in: header) {
            case .none: events.append(.failure(.missingContentLength))
            case .some(.failure(let f)): events.append(.failure(f))
            case .some(.success(let n)):
                if n > maxContentLength {
                    events.append(.failure(.tooLarge(n)))
                    skipping = n
                } else {
                    expected = n
                }
            }
        }
        compact()
        return events
    }

    /// The index of the `\r\n\r\n` ending the header at `readIndex`, within the bound.
    private func headerEnd() -> Int? {
        let limit = min(buffer.count - 3, readIndex + maxHeaderBytes)
        var i = readIndex
        while i < limit {
            if buffer[i] == 13, buffer[i + 1] == 10, buffer[i + 2] == 13, buffer[i + 3] == 10 { return i }
            i += 1
        }
        return nil
    }

    /// The value of the last `Content-Length:` field of a header block (the last, so that garbage
    /// before a real header, e.g. the body of a message that had no length, is skipped).
    static func contentLength(in header: String) -> Result<Int, Failure>? {
        guard let r = header.range(of: "content-length:", options: [.caseInsensitive, .backwards]) else { return nil }
        let rest = header[r.upperBound...]
        // By scalars: `\r\n` is one Character.
        let value = String(String.UnicodeScalarView(rest.unicodeScalars.prefix { $0 != "\r" && $0 != "\n" })).trimmingCharacters(in: .whitespaces)
        guard !value.isEmpty, value.count <= 18, value.allSatisfy({ $0.isASCII && $0.isNumber }), let n = Int(value) else {
            return .failure(.invalidContentLength(String(value.prefix(40))))
        }
        return .success(n)
    }

    private mutating func compact() {
        if readIndex > 0, readIndex >= buffer.count / 2 {
            buffer.removeFirst(readIndex)
            readIndex = 0
        }
    }
}
