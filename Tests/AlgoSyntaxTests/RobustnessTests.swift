import AlgoDiagnostics
@testable import AlgoSyntax
import Foundation
import Testing

/// A deterministic, seeded mutation fuzzer for the lexer, parser, dumps and formatter: no input may
/// crash, hang, lose text or change meaning when formatted.
///
/// Inputs (10,000 per run by default; each made by its own generator seeded from the run's seed and
/// its index, so they are checked on several threads and any one is reproducible alone):
/// - 30%: token mutations of every `Algorithms/*.algo` file: delete, duplicate, swap with the next
///   token, swap two random tokens, copy a token from elsewhere (1–3 mutations each);
/// - 35%: random Unicode drawn from the notation's own symbols, ASCII spellings and letters, plus
///   arbitrary scalars, combining marks, super/subscripts, tabs and every kind of line break;
/// - 35%: random bytes, alone or (one in three) spliced into an algorithm file, decoded lossily as
///   `SourceFile.load` decodes an invalid file; every 20th also goes through the loader itself,
///   which must load valid UTF-8 and answer E0003 inside the text for anything else.
///
/// Each input is lexed (the tokens must give back the text exactly and not overlap), parsed (the
/// parser must reach the end of the tokens: its loop progress guards never cut a file short), its
/// diagnostics rendered and their spans inside the text, its tree dumped. When it parses cleanly
/// it is formatted (Unicode for even inputs, ASCII for odd) and the result must parse, without
/// errors, to the same tree. Every 8th input is checked deeper: token dump, tree dump with spans,
/// both styles, and formatting the result again must change nothing (idempotence).
///
/// No hang: every input must finish within `perInputBound`, 1 s of CPU time of its thread in a
/// debug build (thread CPU time, so that other tests and builds sharing the machine cannot fail
/// it). Inputs are at most a few kilobytes; a clean Algorithms file takes ~20 ms to lex, parse and
/// format twice in a debug build, so 1 s is 50× headroom while still catching any quadratic or
/// exponential path (backtracking, re-lexing) on inputs of this size. The run prints its counts and
/// the slowest input; it takes ~30–60 s in a debug build on two shared cores.
///
/// `ALGO_FUZZ_SEED=<n>` and `ALGO_FUZZ_COUNT=<n>` (total inputs) explore further; a failure names
/// the seed and the input's index and prints the input; `ALGO_FUZZ_ONLY=<index>` checks and prints
/// just that input.
@Suite struct RobustnessTests {
    static let defaultSeed: UInt64 = 0x2022_0719
    static let defaultCount = 10_000
    static let perInputBound: Duration = .seconds(1)

    static var seed: UInt64 {
        ProcessInfo.processInfo.environment["ALGO_FUZZ_SEED"].flatMap { UInt64($0) } ?? defaultSeed
    }
    static var count: Int {
        ProcessInfo.processInfo.environment["ALGO_FUZZ_COUNT"].flatMap { Int($0) } ?? defaultCount
    }

    // MARK: - Checks on one input

    /// What went wrong with one input (nil: nothing), and whether it parsed cleanly.
    /// `deep`: also dump the tokens and the tree with spans, format in both styles, and format the
    /// result again (idempotence).
    static func check(_ text: String, style: AlgoSyntax.Formatter.Style, deep: Bool) -> (problem: String?, clean: Bool) {
        let source = SourceFile(path: "fuzz.algo", text: text)
        let tokens = Lexer.tokenize(source)
        // Lossless: trivia and token texts give back the file (a leading BOM is dropped by SourceFile).
        let rebuilt = tokens.map { $0.triviaText + $0.text }.joined()
        if rebuilt != source.text { return ("the tokens do not give back the text", false) }
        if tokens.last?.kind != .endOfFile { return ("the last token is not the end of the file", false) }
        for (a, b) in zip(tokens, tokens.dropFirst()) where b.start < a.end {
            return ("tokens overlap at offset \(b.start)", false)
        }
        if deep { _ = TokenDump.dump(tokens, source: source) }

        var parser = Parser(source: source, tokens: tokens)
        let file = parser.parseFile()
        // The parser's progress guards hold: no loop stalled and cut the file short.
        if !parser.atEnd && !parser.abandoned {
            return ("the parser stopped at token \(parser.index) of \(parser.tokens.count) (\(parser.tok.kind)): a progress guard cut the file short", false)
        }
        let diagnostics = parser.diagnostics
        for d in diagnostics {
            if d.span.start < 0 || d.span.end > source.utf8.count { return ("diagnostic \(d.code.rawValue) has a span outside the text", false) }
            if d.message.isEmpty { return ("diagnostic \(d.code.rawValue) has no message", false) }
        }
        _ = TextRenderer(files: [source]).render(diagnostics)
        let tree = ASTDump.dump(file)
        if deep { _ = ASTDump.dump(file, spans: true, source: source) }

        guard diagnostics.isEmpty else { return (nil, false) }
        let styles: [AlgoSyntax.Formatter.Style] = deep ? [.unicode, .ascii] : [style]
        for style in styles {
            let (formatted, ds) = AlgoSyntax.Formatter.format(source, style: style)
            guard let formatted else { return ("a clean file did not format (\(style)): \(ds.map(\.message))", true) }
            let again = SourceFile(path: "formatted.algo", text: formatted)
            let (file2, ds2) = Parser.parse(again)
            if !ds2.isEmpty { return ("the \(style) form has errors: \(ds2.map(\.message))\n--- formatted\n\(formatted)", true) }
            if ASTDump.dump(file2) != tree { return ("the \(style) form parses to another tree\n--- formatted\n\(formatted)", true) }
            if deep, AlgoSyntax.Formatter.format(again, style: style).text != formatted {
                return ("\(style) formatting is not idempotent\n--- formatted\n\(formatted)", true)
            }
        }
        return (nil, true)
    }

    /// CPU time of the calling thread: the per-input bound must not fail because other tests or
    /// other builds share the machine.
    static func threadCPUTime() -> Duration {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return .seconds(Int64(ts.tv_sec)) + .nanoseconds(Int64(ts.tv_nsec))
    }

    // MARK: - Generators

    static func algorithmTexts() -> [String] {
        ((Support.algorithmFiles() ?? []) + Support.experimentFiles()).compactMap { try? String(contentsOf: $0, encoding: .utf8) }
    }

    /// Each algorithm file as its tokens' texts (with their trivia), lexed once.
    static func tokenPieces(_ text: String) -> [String] {
        Lexer.tokenize(text).dropLast().map { $0.triviaText + $0.text }
    }

    /// One to three token mutations of a file given as its token pieces.
    static func mutateTokens(_ original: [String], _ rng: inout SplitMix) -> String {
        var pieces = original
        guard !pieces.isEmpty else { return "" }
        for _ in 0..<(1 + rng.below(3)) {
            let i = rng.below(pieces.count)
            switch rng.below(5) {
            case 0: pieces.remove(at: i)
            case 1: pieces.insert(pieces[i], at: i)
            case 2: if i + 1 < pieces.count { pieces.swapAt(i, i + 1) }
            case 3: pieces.swapAt(i, rng.below(pieces.count))
            default: pieces[i] = pieces[rng.below(pieces.count)]
            }
            if pieces.isEmpty { break }
        }
        return pieces.joined()
    }

    /// The notation's own vocabulary: every spelling the lexer knows, plus words and layout.
    static let vocabulary: [String] = {
        var v = Array(Spellings.symbolTexts.keys) + Array(Spellings.symbolMacros.keys) + Array(Spellings.letterMacros.keys)
            + Array(Spellings.letterMacros.values) + Spellings.accentMacros.keys.map { $0 + "{x}" }
            + Spellings.superscriptDigits.keys.map { String($0) } + Spellings.subscriptDigits.keys.map { String($0) }
        v += ["Algorithm 1: ", "Algorithm 2: y ← G(x)\n", "Input: ", "Output: ", "Parameters: ", "Hyperparameters: ",
              "consisting of:", "includes", "For ", "for ", "do", "end", "if ", "then", "while ", "return ", "sample ",
              "from ", "or ", "randomly with probability ", "∀", "[[", "]]", "/*", "*/", "//", ". . .", "...",
              "x", "W_q", "x̃", "ℓ_x", "𝓦^e/d_l", "t′", "softmax", "exp ", "1 ", "12 ", "2.5", " ", "  ", "    ", "\t",
              "\n", "\n", "\n", "\r\n", "\r", "\u{2028}", "\u{85}", "\u{FEFF}", "\u{200B}", "\\", "\\foo", "{", "}", "^", "_"]
        return v
    }()

    /// Random text from the vocabulary mixed with arbitrary scalars and combining marks.
    static func randomUnicode(_ rng: inout SplitMix) -> String {
        var s = ""
        for _ in 0..<rng.below(120) {
            switch rng.below(10) {
            case 0: // any scalar (surrogates are not scalars: skip them)
                if let u = Unicode.Scalar(UInt32(rng.below(0x11_0000))) { s.unicodeScalars.append(u) }
            case 1: // combining marks, possibly stacked, possibly at the start of a line
                for _ in 0...rng.below(3) { s.unicodeScalars.append(Unicode.Scalar(UInt32(0x300 + rng.below(0x70)))!) }
            case 2: // a BMP scalar outside the surrogates
                if let u = Unicode.Scalar(UInt32(rng.below(0xD800))) { s.unicodeScalars.append(u) }
            default:
                s += vocabulary[rng.below(vocabulary.count)]
            }
        }
        return s
    }

    /// Random bytes, alone or spliced into `base`.
    static func randomBytes(_ base: String, _ rng: inout SplitMix) -> [UInt8] {
        let noise = (0...rng.below(64)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        guard rng.below(3) == 0, !base.isEmpty else { return noise }
        var bytes = Array(base.utf8)
        let at = rng.below(bytes.count + 1)
        bytes.insert(contentsOf: noise, at: at)
        return bytes
    }

    // MARK: - The run

    /// Input `n` of a run: its kind, its text, and its bytes when it is a random-bytes input. Each
    /// input has its own generator (seed and index), so inputs can be made and checked in parallel
    /// and any one of them reproduced alone.
    static func input(_ n: Int, seed: UInt64, algorithms: [String], pieces: [[String]]) -> (kind: String, text: String, bytes: [UInt8]?) {
        var rng = SplitMix(seed: seed ^ (UInt64(n) &* 0x9E37_79B9_7F4A_7C15))
        let roll = rng.below(20)
        if roll < 6, !pieces.isEmpty {
            return ("token mutation", mutateTokens(pieces[n % pieces.count], &rng), nil)
        } else if roll < 13 {
            return ("random unicode", randomUnicode(&rng), nil)
        }
        let base = algorithms.isEmpty ? "" : algorithms[rng.below(algorithms.count)]
        let bytes = randomBytes(base, &rng)
        return ("random bytes", String(decoding: bytes, as: UTF8.self), bytes)
    }

    /// A random-bytes input read through `SourceFile.load`, like the CLI reads files: valid UTF-8
    /// loads, anything else is E0003 pointing into the (lossily decoded) text.
    static func checkLoader(_ bytes: [UInt8], at url: URL) -> String? {
        do { try Data(bytes).write(to: url) } catch { return "cannot write \(url.path): \(error)" }
        defer { try? FileManager.default.removeItem(at: url) }
        switch SourceFile.load(path: url.path) {
        case .success(let f):
            if String(bytes: bytes, encoding: .utf8) == nil { return "invalid UTF-8 was loaded" }
            if f.utf8.count > bytes.count { return "the loaded text is longer than the file" }
        case .failure(let d):
            if d.code != .invalidUTF8 { return "the loader answered \(d.code.rawValue) \(d.message)" }
            guard let s = d.source else { return "E0003 without its text" }
            if d.span.start < 0 || d.span.start > s.utf8.count { return "E0003 points outside the text" }
            _ = TextRenderer(files: [s]).render([d])
        }
        return nil
    }

    @Test func mutatedRandomAndInvalidInputsNeitherCrashNorHang() throws {
        let algorithms = Self.algorithmTexts()
        let pieces = algorithms.map(Self.tokenPieces)
        let seed = Self.seed, total = Self.count
        let loaderDir = FileManager.default.temporaryDirectory.appendingPathComponent("algo-fuzz-\(ProcessInfo.processInfo.processIdentifier)-\(seed)")
        try FileManager.default.createDirectory(at: loaderDir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: loaderDir) }

        struct Tally: Sendable {
            var counts: [String: Int] = [:]
            var cpu: [String: Duration] = [:]
            var clean = 0
            var failures: [(Int, String, String)] = []
            var slowest: (cpu: Duration, wall: Duration, kind: String, n: Int) = (.zero, .zero, "", -1)
        }
        let lock = NSLock()
        nonisolated(unsafe) var tally = Tally()
        let chunks = max(1, min(ProcessInfo.processInfo.activeProcessorCount, 4))
        let clock = ContinuousClock()
        let started = clock.now
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            var local = Tally()
            let only = ProcessInfo.processInfo.environment["ALGO_FUZZ_ONLY"].flatMap { Int($0) }
            let indices = only.map { chunk == 0 ? [$0] : [] } ?? Array(stride(from: chunk, to: total, by: chunks))
            for n in indices {
                let (kind, text, bytes) = Self.input(n, seed: seed, algorithms: algorithms, pieces: pieces)
                if only != nil { print("ALGO_FUZZ_ONLY=\(n) (\(kind)):\n\(text)\n--- end of input") }
                local.counts[kind, default: 0] += 1
                if let bytes, n % 20 == 0 {
                    local.counts["of them also through the loader", default: 0] += 1
                    if let problem = Self.checkLoader(bytes, at: loaderDir.appendingPathComponent("\(n).algo")) {
                        local.failures.append((n, kind, problem))
                    }
                }
                let cpu0 = Self.threadCPUTime(), wall0 = clock.now
                let (problem, clean) = Self.check(text, style: n % 2 == 0 ? .unicode : .ascii, deep: n % 8 == 0)
                let cpu = Self.threadCPUTime() - cpu0, wall = clock.now - wall0
                if cpu > local.slowest.cpu { local.slowest = (cpu, wall, kind, n) }
                local.cpu[kind + (clean ? " (clean)" : ""), default: .zero] += cpu
                if clean { local.clean += 1 }
                if let problem { local.failures.append((n, kind, problem + "\n--- input\n" + text)) }
                if cpu > Self.perInputBound { local.failures.append((n, kind, "took \(cpu) of CPU (bound \(Self.perInputBound))\n--- input\n" + text)) }
            }
            lock.lock()
            for (k, v) in local.counts { tally.counts[k, default: 0] += v }
            for (k, v) in local.cpu { tally.cpu[k, default: .zero] += v }
            tally.clean += local.clean
            tally.failures += local.failures
            if local.slowest.cpu > tally.slowest.cpu { tally.slowest = local.slowest }
            lock.unlock()
        }
        let elapsed = clock.now - started
        let summary = tally.counts.sorted { $0.key > $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
        print("robustness: \(total) inputs (ALGO_FUZZ_SEED=\(seed)): \(summary); \(tally.clean) parsed cleanly and were "
              + "formatted and round-tripped; slowest input #\(tally.slowest.n) (\(tally.slowest.kind)): \(tally.slowest.cpu) CPU, "
              + "\(tally.slowest.wall) wall; whole run \(elapsed) on \(chunks) threads; CPU by kind: "
              + tally.cpu.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        for (n, kind, problem) in tally.failures.sorted(by: { $0.0 < $1.0 }).prefix(5) {
            Issue.record("ALGO_FUZZ_SEED=\(seed) input #\(n) (\(kind)): \(problem)")
        }
        #expect(tally.failures.isEmpty, "\(tally.failures.count) of \(total) inputs failed")
    }

    /// One mistake, one error: every single-token deletion and duplication in every
    /// `Algorithms/*.algo` file (every `ALGO_CASCADE_STRIDE`-th token, 6 by default, to keep the
    /// test short) is a mistake; at most 1% of them may give two errors and none more than three.
    /// The exceptions left are merged lines (a deleted line break putting a `for` or `end` after a
    /// statement) and a deleted `end` that leaves its bare line number.
    @Test(.enabled(if: Support.algorithmFiles() != nil, "Algorithms/ is not in this checkout"))
    func oneMistakeGivesOneError() throws {
        let stride = ProcessInfo.processInfo.environment["ALGO_CASCADE_STRIDE"].flatMap { Int($0) } ?? 6
        var histogram: [Int: Int] = [:]
        var worst: [String] = []
        for url in Support.algorithmFiles() ?? [] {
            let pieces = Self.tokenPieces(try String(contentsOf: url, encoding: .utf8))
            for i in Swift.stride(from: 0, to: pieces.count, by: max(1, stride)) {
                for duplicate in [false, true] {
                    var p = pieces
                    if duplicate { p.insert(p[i], at: i) } else { p.remove(at: i) }
                    let source = SourceFile(path: url.lastPathComponent, text: p.joined())
                    let (_, diagnostics) = Parser.parse(source)
                    histogram[diagnostics.count, default: 0] += 1
                    if diagnostics.count > 3 || (diagnostics.count > 1 && worst.count < 3) {
                        worst.append("\(duplicate ? "duplicating" : "deleting") token \(i) `\(pieces[i])` of \(url.lastPathComponent): "
                                     + diagnostics.map { "\($0.code.rawValue) \(source.location(of: $0.span.start)) \($0.message)" }.joined(separator: "; "))
                    }
                }
            }
        }
        let total = histogram.values.reduce(0, +)
        let several = histogram.filter { $0.key >= 2 }.values.reduce(0, +)
        print("one mistake, one error: \(total) single-token mistakes, errors per mistake: "
              + histogram.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", "))
        #expect(Double(several) <= 0.01 * Double(total), "\(several) of \(total) mistakes give several errors, e.g. \(worst)")
        #expect((histogram.keys.max() ?? 0) <= 3, "\(worst)")
    }

    /// Inputs built to be pathological: each must be handled in the time bound, with one error.
    @Test(arguments: [
        ("parentheses", String(repeating: "(", count: 10_000)),
        ("brackets", String(repeating: "[", count: 10_000)),
        ("braces", String(repeating: "{", count: 10_000)),
        ("iverson", String(repeating: "[[", count: 5_000)),
        ("scripts", String(repeating: "x_{", count: 3_000)),
        ("negations", String(repeating: "−", count: 10_000) + "x"),
        ("roots", String(repeating: "√", count: 10_000) + "x"),
        ("sums", String(repeating: "Σ_{i} ", count: 2_000) + "x"),
        ("applications", String(repeating: "exp ", count: 3_000) + "x"),
        ("long sum", Array(repeating: "x", count: 10_000).joined(separator: " + ")),
        ("long juxtaposition", Array(repeating: "x", count: 10_000).joined(separator: " ")),
        ("forall", String(repeating: "∀t : ", count: 2_000) + "y ← 1"),
        ("inline for", String(repeating: "for t ∈ [ℓ] : ", count: 1_000) + "y ← 1"),
        ("if then", String(repeating: "if x then ", count: 2_000) + "y ← 1"),
        ("types", String(repeating: "Δ(", count: 5_000)),
    ])
    func pathologicalLine(_ name: String, _ line: String) {
        for text in ["Algorithm 1: y ← F(x)\n1 y ← " + line + "\n", "Algorithm 1: y ← F(x)\n1 " + line + "\n",
                     "Algorithm 1: y ← F(x)\nInput: x ∈ " + line + "\n"] {
            let t0 = Self.threadCPUTime()
            let (_, diagnostics) = Parser.parse(SourceFile(path: "p.algo", text: text))
            let elapsed = Self.threadCPUTime() - t0
            #expect(elapsed < Self.perInputBound, "\(name): \(elapsed)")
            #expect(diagnostics.count == 1, "\(name): \(diagnostics.map { "\($0.code.rawValue) \($0.message)" })")
        }
    }

    /// Deeply nested blocks over many lines: one error, not one per block and per surplus `end`.
    @Test func deeplyNestedBlocks() {
        for depth in [50, 500, 2_000] {
            let text = "Algorithm 1: y ← F(x)\n" + String(repeating: "while x do\n", count: depth) + "y ← 1\n"
                + String(repeating: "end\n", count: depth)
            let t0 = Self.threadCPUTime()
            let (_, diagnostics) = Parser.parse(SourceFile(path: "b.algo", text: text))
            #expect(Self.threadCPUTime() - t0 < Self.perInputBound, "depth \(depth)")
            #expect(diagnostics.count == (depth < Parser.maxNesting ? 0 : 1), "depth \(depth): \(diagnostics.map(\.message))")
        }
    }
}

extension SplitMix {
    /// A value in `0..<n` (n > 0).
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(1, n))) }
}
