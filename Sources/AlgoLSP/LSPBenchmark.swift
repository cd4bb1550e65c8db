import Foundation

/// `algo lsp --bench FILE`: drives a server in this process over pipes, as an editor would, and
/// measures the time from a `didChange` of FILE to its diagnostics (the check of FILE with its
/// library of callees), the time to the diagnostics of the files that call it, and the resident
/// memory after every edit has been checked.
public enum LSPBenchmark {
    public struct Result: Sendable {
        public var edits: Int
        /// Milliseconds from each didChange to the diagnostics of the edited file, sorted.
        public var own: [Double]
        /// Milliseconds from each didChange to the last diagnostics of its callers, sorted.
        public var callers: [Double]
        public var callerFiles: Int
        public var rssAfterOpen: Int
        public var rssAfterEdits: Int
        /// CPU seconds of the process (server and client) per edit: robust to a loaded machine.
        public var cpuPerEdit: Double

        static func median(_ xs: [Double]) -> Double { xs.isEmpty ? .nan : xs[xs.count / 2] }
        static func p90(_ xs: [Double]) -> Double { xs.isEmpty ? .nan : xs[min(xs.count - 1, xs.count * 9 / 10)] }

        public var report: String {
            func ms(_ x: Double) -> String { String(format: "%.1f ms", x) }
            return """
            edits: \(edits) (each checked: the next is sent after its diagnostics; debounce 0, an editor adds the 0.15 s debounce)
            didChange → diagnostics of the file:     median \(ms(Self.median(own))), p90 \(ms(Self.p90(own))), max \(ms(own.last ?? .nan))
            didChange → diagnostics of \(callerFiles) caller file(s): median \(ms(Self.median(callers))), p90 \(ms(Self.p90(callers)))
            CPU time per edit (server and client, the file and its callers): \(ms(cpuPerEdit * 1000))
            resident memory: \(rssAfterOpen / 1024) MiB after open, \(rssAfterEdits / 1024) MiB after \(edits) edits
            """
        }
    }

    /// Opens `path`, then alternately inserts and removes a space at the end of its first line
    /// `edits` times, waiting for the diagnostics of each edit. Nil when the server stops answering.
    public static func run(path: String, edits: Int) -> Result? {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else { return nil }
        let client = LSPClient(options: ServerOptions(debounce: 0))
        defer { client.notify("exit"); client.closeInput() }
        guard client.request("initialize", ["capabilities": [:]]) != nil else { return nil }
        client.notify("initialized", [:])
        let uri = URL(fileURLWithPath: path).absoluteString
        client.notify("textDocument/didOpen", ["textDocument": ["uri": JSON(uri), "languageId": "algo", "version": 0, "text": JSON(text)]])
        guard client.diagnostics(uri, version: 0) != nil else { return nil }
        // The callers of the file are published after it; count them from the first round.
        let callerURIs = Set(collectCallers(client, except: uri))
        let rssAfterOpen = residentKiB()
        let firstLine = text.prefix { $0 != "\n" }
        let end = firstLine.utf16.count
        var own: [Double] = [], callers: [Double] = []
        let cpu0 = cpuSeconds()
        for v in 1...max(1, edits) {
            let change: JSON = v % 2 == 1
                ? ["range": ["start": ["line": 0, "character": JSON(end)], "end": ["line": 0, "character": JSON(end)]], "text": " "]
                : ["range": ["start": ["line": 0, "character": JSON(end)], "end": ["line": 0, "character": JSON(end + 1)]], "text": ""]
            let t0 = Date()
            client.notify("textDocument/didChange", ["textDocument": ["uri": JSON(uri), "version": JSON(v)], "contentChanges": [change]])
            guard client.diagnostics(uri, version: v) != nil else { return nil }
            own.append(Date().timeIntervalSince(t0) * 1000)
            var waiting = callerURIs
            while !waiting.isEmpty {
                guard let d = client.wait(timeout: 30, { $0["method"]?.string == "textDocument/publishDiagnostics" && waiting.contains($0["params"]?["uri"]?.string ?? "") }),
                      let u = d["params"]?["uri"]?.string else { return nil }
                waiting.remove(u)
            }
            if !callerURIs.isEmpty { callers.append(Date().timeIntervalSince(t0) * 1000) }
        }
        return Result(edits: edits, own: own.sorted(), callers: callers.sorted(), callerFiles: callerURIs.count,
                      rssAfterOpen: rssAfterOpen, rssAfterEdits: residentKiB(), cpuPerEdit: (cpuSeconds() - cpu0) / Double(max(1, edits)))
    }

    /// The URIs of the diagnostics published for other files shortly after opening one.
    private static func collectCallers(_ client: LSPClient, except uri: String) -> [String] {
        var out: [String] = []
        while let d = client.wait(timeout: 2, { $0["method"]?.string == "textDocument/publishDiagnostics" && $0["params"]?["uri"]?.string != uri }) {
            if let u = d["params"]?["uri"]?.string { out.append(u) }
        }
        return out
    }

    /// CPU time of this process so far, in seconds.
    static func cpuSeconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
    }

    /// This process's resident set size in KiB (Linux `/proc/self/status`; the peak elsewhere).
    public static func residentKiB() -> Int {
        if let s = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
           let line = s.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }) {
            return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
        }
        #if canImport(Darwin)
        var usage = rusage()
        getrusage(RUSAGE_SELF, &usage)
        return Int(usage.ru_maxrss) / 1024
        #else
        return 0
        #endif
    }
}
