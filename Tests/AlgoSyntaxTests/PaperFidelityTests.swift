import Foundation
import Testing

/// Paper fidelity of `Algorithms/*.algo` (Decision 1 of `Grammar/README.md`): every numbered body line
/// is the paper's line, unless an erratum forces a change, and then a `//` comment says which.
///
/// The paper's lines come from `Fixtures/paper-lines.txt` (`ALG<TAB>LINE<TAB>text`), extracted from
/// `../shared/paper/formal-algorithms.md` by `Fixtures/extract_paper_lines.py`. No parser is used:
/// a body line is a line of an algorithm block (from its `Algorithm N:` title line to the next title
/// line) whose first non-space token is an integer. Lines compare after normalisation: a trailing
/// `//` comment is stripped, runs of whitespace collapse to one space, and the ends are trimmed.
@Suite struct PaperFidelityTests {
    /// Paper algorithm number → file name (without `.algo`) and the function its title defines.
    static let algorithms: [Int: (file: String, function: String)] = [
        1: ("TokenEmbedding", "TokenEmbedding"),
        2: ("PositionalEmbedding", "PositionalEmbedding"),
        3: ("BasicAttention", "BasicAttention"),
        4: ("Attention", "Attention"),
        5: ("MHAttention", "MHAttention"),
        6: ("LayerNorm", "layer_norm"),
        7: ("Unembedding", "Unembedding"),
        8: ("EDTransformer", "EDTransformer"),
        9: ("ETransformer", "ETransformer"),
        10: ("DTransformer", "DTransformer"),
        11: ("EDTraining", "EDTraining"),
        12: ("ETraining", "ETraining"),
        13: ("DTraining", "DTraining"),
        14: ("DInference", "DInference"),
        15: ("EDInference", "EDInference"),
    ]

    /// The repository root: this file is `Tests/AlgoSyntaxTests/PaperFidelityTests.swift`.
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func fileURL(_ n: Int) -> URL {
        root.appendingPathComponent("Algorithms").appendingPathComponent(algorithms[n]!.file + ".algo")
    }

    /// One numbered body line of an `.algo` file.
    struct BodyLine {
        var number: Int
        /// The text after the line number, with any trailing `//` comment.
        var text: String
        /// The `//` comment explaining the line: its own trailing comment, or the `//` lines just above.
        var comment: String?
    }

    // MARK: Reading

    /// The paper's body lines: algorithm → line number → text.
    static func paperLines() throws -> [Int: [Int: String]] {
        let url = root.appendingPathComponent("Tests/AlgoSyntaxTests/Fixtures/paper-lines.txt")
        let text = try String(contentsOf: url, encoding: .utf8)
        var result: [Int: [Int: String]] = [:]
        for row in text.split(separator: "\n", omittingEmptySubsequences: true) {
            let fields = row.split(separator: "\t", maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count == 3, let alg = Int(fields[0]), let line = Int(fields[1]) else {
                Issue.record("paper-lines.txt: malformed row \(row)")
                continue
            }
            result[alg, default: [:]][line] = String(fields[2])
        }
        return result
    }

    /// The numbered body lines of algorithm `n` in `source`, in file order; nil if there is no
    /// `Algorithm n:` title line.
    static func bodyLines(of source: String, algorithm n: Int) -> [BodyLine]? {
        let lines = source.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let title = lines.firstIndex(where: { $0.hasPrefix("Algorithm \(n):") }) else { return nil }
        var result: [BodyLine] = []
        var index = title + 1
        while index < lines.count, !isTitle(lines[index]) {
            let line = lines[index]
            let tokens = line.split(whereSeparator: \.isWhitespace)
            if let first = tokens.first, first.allSatisfy(\.isASCII), first.allSatisfy(\.isNumber),
               let number = Int(first) {
                let afterNumber = line.drop(while: \.isWhitespace).dropFirst(first.count)
                var comment = trailingComment(of: String(afterNumber))
                if comment == nil {
                    // The `//` lines directly above (a comment may take more than one line).
                    var above: [String] = []
                    var j = index - 1
                    while j > title, lines[j].trimmingCharacters(in: .whitespaces).hasPrefix("//") {
                        above.insert(lines[j].trimmingCharacters(in: .whitespaces), at: 0)
                        j -= 1
                    }
                    comment = above.isEmpty ? nil : above.joined(separator: " ")
                }
                result.append(BodyLine(number: number, text: String(afterNumber), comment: comment))
            }
            index += 1
        }
        return result
    }

    static func isTitle(_ line: String) -> Bool {
        guard line.hasPrefix("Algorithm ") else { return false }
        let rest = line.dropFirst("Algorithm ".count)
        let digits = rest.prefix(while: { $0.isASCII && $0.isNumber })
        return !digits.isEmpty && rest.dropFirst(digits.count).hasPrefix(":")
    }

    /// The `// …` at the end of a line, if any.
    static func trailingComment(of line: String) -> String? {
        guard let range = line.range(of: "//") else { return nil }
        return String(line[range.lowerBound...])
    }

    /// Strip a trailing `//` comment, collapse runs of whitespace, trim.
    static func normalise(_ line: String) -> String {
        var text = line
        if let range = text.range(of: "//") { text = String(text[..<range.lowerBound]) }
        return text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }

    /// A comment explains a deviation if it names an erratum of the paper file's §11 (`A1`…`A13`,
    /// `B`, `B1`…, `C`) or a decision of `Grammar/README.md` (`Decision N`), or otherwise says why
    /// in a sentence of at least four words.
    static func explainsDeviation(_ comment: String) -> Bool {
        let words = comment.split(whereSeparator: { !($0.isLetter || $0.isNumber) }).map(String.init)
        let namesErratum = words.contains { word in
            if word == "C" || word == "B" || word == "Decision" { return true }
            if word.hasPrefix("B"), Int(word.dropFirst()) != nil { return true }
            if word.hasPrefix("A"), let k = Int(word.dropFirst()), (1...13).contains(k) { return true }
            return false
        }
        return namesErratum || words.count >= 4
    }

    /// The file's body lines against the paper's, for algorithm `n`.
    static func compare(_ n: Int, paper: [Int: String]) throws -> (file: [BodyLine], differing: [BodyLine]) {
        let source = try String(contentsOf: fileURL(n), encoding: .utf8)
        let body = try #require(bodyLines(of: source, algorithm: n), "no `Algorithm \(n):` title line")
        let differing = body.filter { line in
            guard let expected = paper[line.number] else { return true }
            return normalise(line.text) != normalise(expected)
        }
        return (body, differing)
    }

    // MARK: Tests

    @Test func fixtureHoldsAllFifteenAlgorithms() throws {
        let paper = try Self.paperLines()
        #expect(paper.keys.sorted() == Array(1...15))
        let counts = (1...15).map { paper[$0]?.count ?? 0 }
        // Lines per algorithm in the paper (sections 5, 7, 8 of formal-algorithms.md).
        #expect(counts == [1, 1, 5, 6, 4, 3, 1, 21, 12, 11, 9, 13, 9, 8, 9])
        for (alg, lines) in paper { #expect(lines.keys.sorted() == Array(1...lines.count), "Algorithm \(alg)") }
    }

    /// (a) All 15 files exist, each holds its algorithm under the right title, and each has exactly
    /// the paper's line numbers, in order.
    @Test(arguments: 1...15) func fileHasEveryPaperLineNumber(_ n: Int) throws {
        let url = Self.fileURL(n)
        try #require(FileManager.default.fileExists(atPath: url.path), "missing \(url.path)")
        let source = try String(contentsOf: url, encoding: .utf8)
        let title = source.split(separator: "\n").first(where: { Self.isTitle(String($0)) }).map(String.init)
        #expect(title?.hasPrefix("Algorithm \(n):") == true, "first title of \(url.lastPathComponent): \(title ?? "none")")
        #expect(title?.contains("← \(Self.algorithms[n]!.function)(") == true, "title: \(title ?? "none")")
        let paper = try #require(try Self.paperLines()[n])
        let body = try #require(Self.bodyLines(of: source, algorithm: n), "no `Algorithm \(n):` title line")
        let numbers = body.map(\.number)
        #expect(numbers == Array(1...paper.count), "Algorithm \(n): line numbers \(numbers), paper has 1…\(paper.count)")
    }

    /// (b) At least 90% of all paper body lines are identical after normalisation.
    @Test func atLeastNinetyPercentOfLinesAreThePapers() throws {
        let paper = try Self.paperLines()
        var total = 0
        var identical = 0
        for n in 1...15 {
            let lines = try #require(paper[n])
            let (file, _) = try Self.compare(n, paper: lines)
            let fileText = Dictionary(file.map { ($0.number, Self.normalise($0.text)) }, uniquingKeysWith: { a, _ in a })
            total += lines.count
            identical += lines.filter { fileText[$0.key] == Self.normalise($0.value) }.count
        }
        let percent = total == 0 ? 0 : Double(identical) / Double(total) * 100
        print("Paper fidelity: \(identical)/\(total) body lines identical to the paper (\(String(format: "%.1f", percent))%)")
        #expect(total == 113)
        #expect(percent >= 90, "only \(identical)/\(total) body lines are the paper's")
    }

    /// (c) Every body line that differs from the paper's has a `//` comment, on the line itself or
    /// just above, that names the erratum or says why.
    @Test(arguments: 1...15) func everyDeviationIsExplained(_ n: Int) throws {
        let paper = try #require(try Self.paperLines()[n])
        let (_, differing) = try Self.compare(n, paper: paper)
        for line in differing {
            let where_ = "Algorithm \(n) line \(line.number): `\(Self.normalise(line.text))` (paper: `\(paper[line.number] ?? "no such line")`)"
            let comment = try #require(line.comment, "\(where_) differs from the paper without a // comment")
            #expect(Self.explainsDeviation(comment), "\(where_): the comment `\(comment)` names no erratum")
        }
    }

    /// The normalisation and the line finder themselves.
    @Test func normalisationAndBodyLines() {
        #expect(Self.normalise("  X ←   X +  1   // A2: why ") == "X ← X + 1")
        #expect(Self.normalise("Q ← W_q X                 [[Query]]") == "Q ← W_q X [[Query]]")
        let source = """
            // A note before the title.
            Algorithm 7: p ← Unembedding(e | W_u) — Unembedding.
            Input:      e ∈ ℝ^{d_e}, a token encoding.
            // A1: a reason
            // on two lines.
             9 x ← 1
            10     y ← 2 // C: typographic
            Algorithm 8: P ← EDTransformer(z, x | θ)
            1 z ← 3
            """
        let body = Self.bodyLines(of: source, algorithm: 7)
        #expect(body?.map(\.number) == [9, 10])
        #expect(body?.first?.comment == "// A1: a reason // on two lines.")
        #expect(body?.last?.comment == "// C: typographic")
        #expect(Self.bodyLines(of: source, algorithm: 8)?.map(\.number) == [1])
        #expect(Self.bodyLines(of: source, algorithm: 9) == nil)
        #expect(Self.explainsDeviation("// A13: prose"))
        #expect(!Self.explainsDeviation("// A14"))
        #expect(!Self.explainsDeviation("// fixed"))
    }
}
