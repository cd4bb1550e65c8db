import AlgoDiagnostics
@testable import AlgoSyntax
import Testing

/// The lexer: both spellings of every symbol, names with decorations, NFC, line numbers, trivia,
/// and that it never fails, never hangs and loses no byte.
@Suite struct LexerTests {
    func kinds(_ text: String) -> [TokenKind] {
        Lexer.tokenize(text, lineStart: false).map(\.kind).filter { $0 != .endOfFile }
    }

    func values(_ text: String) -> [String] {
        Lexer.tokenize(text, lineStart: false).filter { $0.kind != .endOfFile }.map(\.value)
    }

    @Test func everySymbolIsInTheTableOnce() {
        #expect(Spellings.symbols.count == Symbol.allCases.count)
        #expect(Set(Spellings.symbols.map(\.symbol)) == Set(Symbol.allCases))
    }

    @Test(arguments: Spellings.symbols)
    func everySpellingOfASymbolLexesToIt(_ entry: SpellingEntry) {
        for spelling in [entry.unicode, entry.ascii] + entry.aliases {
            // `_` and `^` alone, and `^T`, need an operand before them to mean what they mean.
            let text = "a " + spelling + " b"
            let ks = kinds(text)
            #expect(ks.contains(.symbol(entry.symbol)), "\(spelling) in \(text): \(ks)")
        }
    }

    @Test func greekAndScriptLettersHaveASCIISpellings() {
        for l in Spellings.letters {
            #expect(values(l.ascii) == [l.unicode], "\(l.ascii)")
            #expect(values(l.unicode) == [l.unicode])
            #expect(Spellings.asciiIdentifier(l.unicode) == l.ascii)
        }
    }

    @Test func accentsComposeAndNormalise() {
        #expect(values("\\tilde{V}") == ["Ṽ"])
        #expect(values("V\u{303}") == ["Ṽ"])
        #expect(values("V\u{303}") == values("Ṽ"))
        #expect(values("\\hat{\\theta}") == ["θ̂"])
        #expect(values("\\tilde{x}_n") == ["x̃", "_", "n"])
        #expect(values("\\hat{e}") == ["ê"])
        #expect(Spellings.asciiIdentifier("x̃") == "\\tilde{x}")
        #expect(Spellings.asciiIdentifier("θ̂") == "\\hat{\\theta}")
        #expect(Spellings.asciiIdentifier("T̃") == "\\tilde{T}")
        #expect(Spellings.asciiIdentifier("ℓx") == "\\ell{}x")
        #expect(values("\\ell{}x") == ["ℓx"])
    }

    @Test func primes() {
        #expect(values("t′") == ["t′"])
        #expect(values("t'") == ["t′"])
        #expect(Spellings.asciiIdentifier("t′") == "t'")
    }

    @Test func scriptsAreSeparateTokens() {
        #expect(kinds("W^l_mlp1") == [.identifier, .symbol(.caret), .scriptWord, .symbol(.underscore), .scriptWord])
        #expect(values("W^l_mlp1") == ["W", "^", "l", "_", "mlp1"])
        #expect(values("γ^1_l") == ["γ", "^", "1", "_", "l"])
        #expect(values("𝓦^e/d_l") == ["𝓦", "^", "e/d", "_", "l"])
        #expect(values("\\mathcal{W}^e/d_l") == ["𝓦", "^", "e/d", "_", "l"])
        #expect(values("e_{ℓ_z}") == ["e", "_", "{", "ℓ", "_", "z", "}"])
        #expect(values("x^a/b") == ["x", "^", "a", "/", "b"])
    }

    @Test func transposeAndItsASCIISpelling() {
        #expect(kinds("Kᵀ") == [.identifier, .symbol(.transpose)])
        #expect(kinds("K^T") == [.identifier, .symbol(.transpose)])
        #expect(kinds("K^T Q") == [.identifier, .symbol(.transpose), .identifier])
        #expect(kinds("K^TQ") == [.identifier, .symbol(.caret), .scriptWord])
        #expect(kinds("𝟏ᵀ") == [.symbol(.ones), .symbol(.transpose)])
        #expect(kinds("\\mathbf{1}^T") == [.symbol(.ones), .symbol(.transpose)])
    }

    @Test func superscriptAndSubscriptDigits() {
        #expect(kinds("m²") == [.identifier, .superscriptDigits])
        #expect(values("m²") == ["m", "2"])
        #expect(values("x₁₂") == ["x", "12"])
    }

    @Test func ellipsisSpellings() {
        for s in [". . .", "...", "…", "\\dots", "\\ldots"] {
            #expect(kinds("e_2, \(s) e_n").contains(.symbol(.ellipsis)), "\(s)")
        }
        #expect(kinds("x.") == [.identifier, .symbol(.period)])
    }

    @Test func lineNumbersOnlyAtLineStart() {
        let ts = Lexer.tokenize(" 1 ℓ ← 2\n10 end\n")
        #expect(ts.map(\.kind) == [.lineNumber, .identifier, .symbol(.leftArrow), .number, .newline,
                                   .lineNumber, .identifier, .newline, .endOfFile])
        #expect(ts[0].column == 2)
    }

    @Test func commentsAndTrivia() {
        let ts = Lexer.tokenize("/* a comment */\nx ← 1 // ours\n")
        #expect(ts[0].kind == .blockComment)
        #expect(ts[0].value == "a comment")
        let newline = ts.first { $0.kind == .newline && $0.start > ts[0].end }
        #expect(newline?.leadingTrivia.contains(.lineComment("// ours")) == true)
    }

    @Test func unknownCharactersBecomeTokens() {
        #expect(kinds("a @ b") == [.identifier, .unknown, .identifier])
        #expect(kinds("\\foo") == [.unknown])
        #expect(kinds("\"") == [.unknown])
    }

    @Test func asciiAliases() {
        #expect(kinds("x <- 1") == kinds("x ← 1"))
        #expect(kinds("a <= b") == kinds("a ≤ b"))
        #expect(kinds("a != b") == kinds("a ≠ b"))
        #expect(kinds("a - b") == kinds("a − b"))
        #expect(kinds("\\mathbb{R}^{d}") == kinds("ℝ^{d}"))
    }

    /// Every byte of the input is in exactly one token's text or trivia, in order.
    @Test(arguments: [
        "Algorithm 4: Ṽ ← Attention(X, Z | 𝓦_qkv, Mask)\n1 Q ← W_q X + b_q 𝟏ᵀ   [[Query ∈ ℝ^{d_attn×ℓ_x}]] // c\n",
        "x\r\ny\t@ \\foo /* unterminated\n  \u{303}odd",
        "", "\n\n", "^", "_", "\\", "\\tilde{", "/*", ". .", "𝟏²₃",
    ])
    func lossless(_ text: String) {
        let ts = Lexer.tokenize(text)
        #expect(ts.map { $0.triviaText + $0.text }.joined() == text)
        #expect(ts.last?.kind == .endOfFile)
    }

    /// Random input: the lexer terminates and stays lossless.
    @Test func randomInputNeverHangs() {
        var rng = SplitMix(seed: 42)
        let alphabet = Array("ab_^{}[]()\\.,;:|←∈ℝ×ᵀ²′'−-<>=/* \n\tx̃𝓦Σ√¬∀αℓ0123456789")
        for _ in 0..<300 {
            let n = Int(rng.next() % 60)
            let text = String((0..<n).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] })
            let ts = Lexer.tokenize(text)
            #expect(ts.map { $0.triviaText + $0.text }.joined() == text)
        }
    }
}

/// A tiny deterministic generator for test inputs.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
