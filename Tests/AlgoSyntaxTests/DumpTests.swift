import AlgoDiagnostics
@testable import AlgoSyntax
import Testing

/// The debugging dumps behind `algo parse --dump tokens|ast`.
@Suite struct DumpTests {
    @Test func tokenDump() {
        let source = SourceFile(path: "t.algo", text: "1 K ← K^T Q // c\n")
        #expect(TokenDump.dump(Lexer.tokenize(source), source: source) == """
        1:1 line-number "1"
        1:3 identifier "K"
        1:5 symbol leftArrow "←"
        1:7 identifier "K"
        1:8 symbol transpose "^T" = "ᵀ"
        1:11 identifier "Q"
        1:17 newline
        2:1 end-of-file

        """)
    }

    @Test func astDumpWithSpans() {
        let source = SourceFile(path: "t.algo", text: "Algorithm 1: y ← F(x)\n1 y ← x\n")
        let (file, _) = Parser.parse(source)
        let dump = ASTDump.dump(file, spans: true, source: source)
        #expect(dump.contains("(1 ← y x) @2:1-2:8"))
        #expect(ASTDump.dump(file) == """
        (file
          (algorithm 1
            (title (outputs y) F (inputs x) (params))
            (body
              (1 ← y x))))

        """)
    }
}
