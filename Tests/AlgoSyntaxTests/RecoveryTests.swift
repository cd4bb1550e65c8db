import AlgoDiagnostics
@testable import AlgoSyntax
import Testing

/// Error recovery: every syntax error of a file in one run, one per mistake, at the right token,
/// with `.missing`/`.error` nodes in the tree; no input hangs or traps the parser.
@Suite struct RecoveryTests {
    func codes(_ text: String) -> [String] {
        Support.parse(text).1.map(\.code.rawValue)
    }

    @Test func severalErrorsInOneRunWithoutCascade() {
        let text = """
        Algorithm 4: Ṽ ← Attention(X, Z | 𝓦_qkv, Mask)
        Input:      X ∈ ℝ^{d_x×ℓ_x}, Z ∈ , vector representations
        1 Q ← W_q X + b_q 𝟏ᵀ @ 3
        2 K ← (W_k Z + b_k
        3 for l = 1, 2, . . . , L do
        4     V ← softmax(S/√d_attn
        5     x ←
        6 return Ṽ = V · softmax(S/√d_attn))
        7 S ← K \\foo Q

        """
        let (file, diagnostics) = Support.parse(text)
        #expect(diagnostics.map(\.code) == [.expectedType, .unknownCharacter, .unclosedDelimiter, .missingEnd,
                                            .unclosedDelimiter, .expectedExpression, .unexpectedToken, .unknownCommand])
        let source = SourceFile(path: "test.algo", text: text)
        let positions = diagnostics.map { source.location(of: $0.span.start) }
        #expect(positions.map(\.line) == [2, 3, 4, 5, 6, 7, 8, 9])
        #expect(positions.map(\.column) == [34, 22, 19, 3, 28, 10, 36, 9])
        // The tree is complete: all body lines are there.
        #expect(file.algorithms.first?.body.count == 3)  // lines 1, 2 and the unclosed loop holding 4–7
    }

    @Test func unclosedCallPointsAtItsOpener() {
        let (_, ds) = Support.parse("Algorithm 1: y ← F(x)\n1 y ← softmax(x\n")
        #expect(ds.count == 1)
        #expect(ds.first?.message == "expected `)` to close the call, found end of line")
        #expect(ds.first?.labels.first?.message == "call opened here")
    }

    @Test func missingEndAndStrayEnd() {
        #expect(codes("Algorithm 1: y ← F(x)\n1 while y ≠ 1 do\n2     y ← 1\n") == ["E0205"])
        #expect(codes("Algorithm 1: y ← F(x)\n1 y ← 1\n2 end\n") == ["E0206"])
        // A missing `do` is reported once; the body and its `end` are still read as the loop's.
        #expect(codes("Algorithm 1: y ← F(x)\n1 for i = 1, 2, . . . , N\n2     y ← i\n3 end\n") == ["E0202"])
    }

    /// A block left open at the next title: one error at its opener; the next algorithm parses normally.
    @Test func unclosedBlockBeforeNextTitle() {
        let (file, ds) = Support.parse("Algorithm 1: y ← F(x)\n1 for l = 1, 2, . . . , L do\n2     y ← x\nAlgorithm 2: z ← G(x)\n1 z ← 1\n")
        #expect(ds.map(\.code) == [.missingEnd])
        #expect(file.algorithms.count == 2)
        #expect(file.algorithms.last?.body.count == 1)
        let (file2, ds2) = Support.parse("Algorithm 1: y ← F(x)\n1 For h ∈ [H]\n2     y ← x\nAlgorithm 2: z ← G(x)\n1 z ← 1\n")
        #expect(ds2.map(\.code) == [.expectedToken])
        #expect(file2.algorithms.count == 2)
    }

    /// Typical slips in headers give one error, not one per following line.
    @Test func headerSlipsDoNotCascade() {
        let header = "/* c */\nInut: x ∈ V*, a prompt.\nOutput: y ∈ V*\nHyperparameters: τ ∈ (0, ∞)\n1 y ← x\n"
        #expect(codes("Algorithm 1: y ← F(x)\n" + header) == ["E0217"])
        #expect(codes("Algorithm 1: y ← F(x)\nParameter;s: θ includes all of the following parameters:\n  W ∈ ℝ^{d}\n  For l ∈ [L]:\n   | b_l ∈ ℝ^{d}\n1 y ← x\n") == ["E0217"])
        let orphan = "Algorithm 1: y ← F(x)\nParameters: θ includs all of the following parameters:\n  W ∈ ℝ^{d}\n  For l ∈ [L]:\n   | b_l ∈ ℝ^{d}\n  U ∈ ℝ^{d}\n1 y ← x\n"
        #expect(codes(orphan) == ["E0209"])
        #expect(codes("Algorithm 1: y ← F(x)\n1 y ← x\nInput: x ∈ V*\nOutput: y ∈ V*\n") == ["E0212"])
        #expect(codes("Algoritm 1: y ← F(x)\nInput: x ∈ V*\n1 y ← x\nAlgorithm 2: y ← G(x)\n1 y ← x\n") == ["E0211"])
    }

    @Test func messagesAndCodes() {
        #expect(codes("x ← 1\n") == ["E0211"])
        #expect(codes("Algorithm 1: y ← F(x)\n1 y ← 1\nInput: x ∈ V*\n") == ["E0212"])
        #expect(codes("Algorithm 1: y ← F(x)\n1 y ← 1 [[Query]]\n") == ["E0213"])
        #expect(codes("Algorithm 1: y ← F(x)\n1 y ← x _q\n") == ["E0214"])
        #expect(codes("Algorithm 1: y ← F(x)\n1 for ← 1\n") == ["E0215"])
        #expect(codes("Algorithm 1: y ← F(x)\n1 ← 1\n") == ["E0207"])
        #expect(codes("Algorithm 1 y ← F(x)\n") == ["E0208"])
        #expect(codes("Algorithm 1: y ← F(x)\nInput: x, y ∈ V* z\n") == ["E0204"])
        #expect(codes("Algorithm 1: y ← F(x)\n/* open\n") == ["E0103"])
        #expect(codes("Algorithm 1: y ← F(x)\n1 y x\n") == ["E0202"])
        #expect(codes("Algorithm 1: y ← F(x)\n1 y ← (x\n") == ["E0203"])
        #expect(codes("Algorithm 1: y ← F(x)\n1 y ← x +\n") == ["E0201"])
    }

    @Test func diagnosticMessagesFollowTheStyle() {
        let text = "Algorithm 1: y ← F(x)\n1 y ← (x\n2 z ← @\n3 for ← 1\n4 y ← [[t ≤ 1\nInput: x ∈ \n"
        for d in Support.parse(text).1 {
            #expect(d.message.first?.isLowercase == true, "\(d.message)")
            #expect(!d.message.hasSuffix("."), "\(d.message)")
        }
    }

    /// Random token soup: the parser terminates and never traps.
    @Test func randomInputNeverHangs() {
        var rng = SplitMix(seed: 7)
        let pieces = ["Algorithm 1: y ← F(x)\n", "Input: ", "x", " ∈ ", "ℝ^{", "}", "[", "]", "[[", "]]", "(", ")", "{", "}",
                      "|", ",", ";", ":", "for ", "do\n", "end\n", "∀", "if ", "then ", "return ", "sample ", "from ",
                      "←", "=", "≡", "Σ_", "^", "_", "ᵀ", "²", "√", "−", "+", "/", "·", "\n", "1 ", "    ", ". . .",
                      "/* c */", "// c", "@", "\\foo", "For h ∈ [H]:\n", "| ", "consisting of:\n", "or ", "randomly "]
        for _ in 0..<400 {
            let n = Int(rng.next() % 40)
            let text = (0..<n).map { _ in pieces[Int(rng.next() % UInt64(pieces.count))] }.joined()
            let (file, _) = Support.parse(text)
            _ = ASTDump.dump(file)
            _ = AlgoSyntax.Formatter.format(SourceFile(path: "f.algo", text: text), style: .ascii)
        }
    }
}

/// Pathological inputs are reported, not crashed on: nesting and line length are bounded.
@Suite struct LimitsTests {
    @Test func deepNestingIsAnError() {
        let parens = String(repeating: "(", count: 5000) + "x" + String(repeating: ")", count: 5000)
        let (_, ds) = Support.parse("Algorithm 1: y ← F(x)\n1 y ← \(parens)\n2 z ← 1\n")
        #expect(ds.map(\.code) == [.nestingTooDeep])
        let minus = String(repeating: "−", count: 5000) + "x"
        #expect(Support.parse("Algorithm 1: y ← F(x)\n1 y ← \(minus)\n").1.map(\.code) == [.nestingTooDeep])
        let foralls = String(repeating: "∀t : ", count: 3000) + "y ← 1"
        #expect(Support.parse("Algorithm 1: y ← F(x)\n1 \(foralls)\n").1.map(\.code) == [.nestingTooDeep])
        let types = String(repeating: "Δ(", count: 3000) + "V" + String(repeating: ")", count: 3000)
        #expect(Support.parse("Algorithm 1: y ← F(x)\nInput: x ∈ \(types)\n").1.map(\.code) == [.nestingTooDeep])
    }

    @Test func longChainsAreBounded() {
        let chain = (0..<3000).map { "x\($0)" }.joined(separator: " + ")
        let (file, ds) = Support.parse("Algorithm 1: y ← F(x)\n1 y ← \(chain)\n")
        #expect(ds.map(\.code) == [.nestingTooDeep])
        _ = ASTDump.dump(file)
        let ok = (0..<200).map { "x\($0)" }.joined(separator: " + ")
        let (file2, ds2) = Support.parse("Algorithm 1: y ← F(x)\n1 y ← \(ok)\n")
        #expect(ds2.isEmpty)
        _ = ASTDump.dump(file2)
    }
}
