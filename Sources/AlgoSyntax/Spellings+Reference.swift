import Foundation

/// The symbol tables of `Grammar/README.md`, generated from `Spellings` so that the documentation
/// cannot drift from the lexer (a test compares the README with this text).
extension Spellings {
    /// Markdown tables: symbols, letters, accents, script digits.
    public static func markdownReference() -> String {
        func code(_ s: String) -> String { "`" + s.replacingOccurrences(of: "|", with: "\\|") + "`" }
        func cell(_ s: String) -> String { s.replacingOccurrences(of: "|", with: "\\|") }
        var out = "| Unicode | ASCII (canonical) | also accepted | meaning |\n|---|---|---|---|\n"
        for e in symbols {
            out += "| \(code(e.unicode)) | \(code(e.ascii)) | \(e.aliases.map(code).joined(separator: " ")) | \(cell(e.meaning)) |\n"
        }
        out += "\nLetters (part of names; `\\alpha_t` is `α_t`):\n\n| Unicode | ASCII |\n|---|---|\n"
        for l in letters where !l.ascii.hasPrefix("\\mathcal") {
            out += "| \(code(l.unicode)) | \(code(l.ascii)) |\n"
        }
        let script = letters.filter { $0.ascii.hasPrefix("\\mathcal") }
        if let f = script.first, let l = script.last {
            out += "| \(code(f.unicode)) … \(code(l.unicode)) (bold script capitals, the paper's `𝓦`) | \(code(f.ascii)) … \(code(l.ascii)) |\n"
        }
        out += "\nAccents over one letter (NFC-composed where Unicode has the letter):\n\n| ASCII | combining mark | meaning |\n|---|---|---|\n"
        for a in accents {
            out += "| \(code(a.ascii + "{x}")) | U+\(String(a.combining.value, radix: 16, uppercase: true)) | \(cell(a.meaning)) |\n"
        }
        out += "\nPrime: `′` is written `'` (`t′` ↔ `t'`). Superscript digits `⁰`…`⁹` read as `^0`…`^9`, "
        out += "subscript digits `₀`…`₉` as `_0`…`_9`; `algo fmt --ascii` writes the `^`/`_` form.\n"
        return out
    }
}
