import AlgoDiagnostics
@testable import AlgoSyntax
import Foundation
import Testing

/// The formatter: canonical Unicode is the paper's text, ASCII and Unicode round-trip to the same
/// tree, formatting is idempotent, and files with errors are not formatted.
@Suite struct FormatterTests {
    func format(_ text: String, _ style: AlgoSyntax.Formatter.Style) -> String? {
        AlgoSyntax.Formatter.format(SourceFile(path: "f.algo", text: text), style: style).text
    }

    /// Both forms parse to the same tree as `text`, and formatting each again changes nothing.
    func checkRoundTrip(_ text: String, _ label: String) {
        let original = Support.dump(text)
        guard let ascii = format(text, .ascii), let unicode = format(text, .unicode) else {
            Issue.record("\(label) did not format")
            return
        }
        #expect(Support.dump(ascii) == original, "\(label): ASCII form parses to another tree")
        #expect(Support.dump(unicode) == original, "\(label): Unicode form parses to another tree")
        #expect(format(ascii, .ascii) == ascii, "\(label): ASCII formatting is not idempotent")
        #expect(format(unicode, .unicode) == unicode, "\(label): Unicode formatting is not idempotent")
        if let back = format(ascii, .unicode) {
            #expect(Support.dump(back) == original, "\(label): ASCII → Unicode changes the tree")
            #expect(format(back, .unicode) == back, "\(label): Unicode of ASCII is not idempotent")
        }
    }

    /// The paper's algorithms and the experiment files (`Experiment N:`, header values, quoted paths).
    @Test(.enabled(if: Support.algorithmFiles() != nil, "Algorithms/ is not in this checkout (set ALGO_ALGORITHMS_DIR)"))
    func transcribedAlgorithmsAreCanonicalAndRoundTrip() throws {
        #expect(Support.experimentFiles().count >= 3, "Algorithms/Experiments/ holds CharGPT, Seq2seq and MLM")
        for url in (Support.algorithmFiles() ?? []) + Support.experimentFiles() {
            let text = try String(contentsOf: url, encoding: .utf8)
            let (_, diagnostics) = Support.parse(text)
            #expect(diagnostics.isEmpty, "\(url.lastPathComponent): \(diagnostics.map(\.message))")
            #expect(format(text, .unicode) == text, "\(url.lastPathComponent) is not in canonical form")
            checkRoundTrip(text, url.lastPathComponent)
            // The ASCII form, formatted back to Unicode, is the paper's text again.
            #expect(format(text, .ascii).flatMap { format($0, .unicode) } == text, "\(url.lastPathComponent): ASCII → Unicode")
        }
    }

    @Test func headerAndStatementCorporaRoundTrip() {
        checkRoundTrip(HeaderTests.source + "\n", "HeaderTests.source")
        for (source, _) in StatementTests.cases {
            checkRoundTrip("Algorithm 1: y ← F(x)\n" + source + "\n", source)
        }
        for (source, _) in ExpressionTests.expressions {
            checkRoundTrip("Algorithm 1: y ← F(x)\n1 y ← " + source + "\n", source)
        }
    }

    @Test func asciiFormOfPaperLines() {
        let text = "Algorithm 4: Ṽ ← Attention(X, Z | 𝓦_qkv, Mask)\n4 S ← KᵀQ    [[Score ∈ ℝ^{ℓ_z×ℓ_x}]]\n5 ∀t_z, t_x, if ¬Mask[t_z, t_x] then S[t_z, t_x] ← −∞\n"
        #expect(format(text, .ascii) == """
        Algorithm 4: \\tilde{V} \\gets Attention(X, Z | \\mathcal{W}_qkv, Mask)
        4 S \\gets K^T Q    [[Score \\in \\mathbb{R}^{\\ell_z\\times\\ell_x}]]
        5 \\forall t_z, t_x, if \\neg Mask[t_z, t_x] then S[t_z, t_x] \\gets -\\infty

        """)
    }

    @Test func layoutIsNormalised() {
        let text = "Algorithm 1: y ← F(x)   \n1 for i = 1, 2, . . . , N do\n  2 y <- i   // note  \n10 end\n\n\n"
        #expect(format(text, .unicode) == " Algorithm 1: y ← F(x)\n".dropFirst() + " 1 for i = 1, 2, . . . , N do\n 2     y ← i   // note\n10 end\n")
    }

    @Test func asciiBackToUnicodeRestoresThePaperSpacing() {
        let paper = "Algorithm 3: y ← F(x)\n4 ∀t : α_t = exp(qᵀk_t / √d_attn) / Σ_u exp(qᵀk_u / √d_attn)\n2 v ← Σ_{i=1}^{d_e} (e[i] − m)²/d_e\n5 ∀t_z, t_x, if ¬Mask[t_z, t_x] then S[t_z, t_x] ← −∞\n"
        let ascii = format(paper, .ascii)
        #expect(ascii?.contains("\\forall t : \\alpha_t = exp(q^T k_t / \\sqrt d_attn)") == true)
        #expect(ascii?.contains("(e[i] - m)^2/d_e") == true)
        #expect(ascii.flatMap { format($0, .unicode) } == paper)
        // A power of an indexed entry (RMSnorm.algo line 1) comes back as `²` too.
        let rms = "Algorithm 16: y ← F(e)\n1 v ← Σ_{i=1}^{d_e} e[i]²/d_e\n"
        #expect(format(rms, .ascii)?.contains("e[i]^2/d_e") == true)
        #expect(format(rms, .ascii).flatMap { format($0, .unicode) } == rms)
        // An author's own spaces in Unicode text stay.
        #expect(format("Algorithm 1: y ← F(x)\n1 y ← √ d ⊙ Kᵀ Q\n", .unicode) == "Algorithm 1: y ← F(x)\n1 y ← √ d ⊙ Kᵀ Q\n")
    }

    @Test func spacesOnlyWhereSpellingsWouldMerge() {
        #expect(AlgoSyntax.Formatter.needsSpace(between: "^T", and: "Q"))
        #expect(AlgoSyntax.Formatter.needsSpace(between: "\\sqrt", and: "d_attn"))
        #expect(AlgoSyntax.Formatter.needsSpace(between: "\\forall", and: "t"))
        #expect(AlgoSyntax.Formatter.needsSpace(between: "-", and: "-"))
        #expect(!AlgoSyntax.Formatter.needsSpace(between: "K", and: "^T"))
        #expect(!AlgoSyntax.Formatter.needsSpace(between: "-", and: "\\infty"))
        #expect(!AlgoSyntax.Formatter.needsSpace(between: "_", and: "q"))
    }

    @Test func filesWithErrorsAreNotFormatted() {
        let (text, diagnostics) = AlgoSyntax.Formatter.format(SourceFile(path: "f.algo", text: "Algorithm 1: y ← F(x)\n1 y ← (x\n"), style: .unicode)
        #expect(text == nil)
        #expect(diagnostics.map(\.code) == [.unclosedDelimiter])
    }
}
