import AlgoLSP
import Foundation
import Testing

/// `Content-Length` framing: any split of the byte stream gives the same messages; errors are
/// reported and skipped; memory stays bounded.
@Suite struct MessageFramerTests {
    static func frame(_ body: String) -> [UInt8] {
        Array("Content-Length: \(body.utf8.count)\r\nContent-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n".utf8) + Array(body.utf8)
    }

    @Test func anySplitGivesTheSameMessages() {
        let bodies = ["{\"a\":1}", "{\"x\":\"𝓦 ← X̃\"}", "{}"]
        let stream = bodies.flatMap(Self.frame)
        for size in [1, 2, 3, 7, 64, stream.count] {
            var f = MessageFramer()
            var got: [String] = []
            var i = 0
            while i < stream.count {
                for e in f.push(stream[i..<min(i + size, stream.count)]) {
                    if case .message(let d) = e { got.append(String(decoding: d, as: UTF8.self)) }
                }
                i += size
            }
            #expect(got == bodies, "chunk size \(size)")
            #expect(f.bufferedCount == 0)
        }
    }

    @Test func missingLengthResynchronises() {
        var f = MessageFramer()
        let events = f.push(Array("{\"orphan\":true}\r\n\r\n".utf8) + Self.frame("{\"ok\":1}"))
        #expect(events == [.failure(.missingContentLength), .message(Data("{\"ok\":1}".utf8))])
        // Garbage and a real header in one block: the last Content-Length wins.
        var g = MessageFramer()
        let e2 = g.push(Array("junk\r\n".utf8) + Self.frame("{}"))
        #expect(e2 == [.message(Data("{}".utf8))])
    }

    @Test func hugeLengthIsSkippedWithoutStoringIt() {
        var f = MessageFramer(maxContentLength: 1000)
        #expect(f.push(Array("Content-Length: 1000000000000\r\n\r\n".utf8)) == [.failure(.tooLarge(1_000_000_000_000))])
        let chunk = [UInt8](repeating: 0x41, count: 1 << 20)
        for _ in 0..<16 {
            #expect(f.push(chunk).isEmpty)
            #expect(f.bufferedCount == 0)
        }
        // A length with more digits than any Int: invalid, not a trap.
        var g = MessageFramer()
        #expect(g.push(Array("Content-Length: 99999999999999999999999\r\n\r\n".utf8)) == [.failure(.invalidContentLength("99999999999999999999999"))])
    }

    @Test func headerWithoutEndIsBounded() {
        var f = MessageFramer(maxHeaderBytes: 100)
        var failures = 0
        for _ in 0..<1000 {
            for e in f.push([UInt8](repeating: 0x62, count: 50)) where e == .failure(.headerTooLong) { failures += 1 }
            #expect(f.bufferedCount <= 150)
        }
        #expect(failures > 0)
        #expect(f.push(Array("\r\n\r\n".utf8) + Self.frame("{}")).contains(.message(Data("{}".utf8))))
    }

    @Test func lengthZeroAndCaseInsensitiveField() {
        var f = MessageFramer()
        #expect(f.push(Array("content-length: 0\r\n\r\n".utf8)) == [.message(Data())])
    }
}
