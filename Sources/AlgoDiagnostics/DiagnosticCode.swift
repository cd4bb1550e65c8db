/// The one catalogue of diagnostic codes. Codes are stable: a code is never reused for another
/// meaning. Ranges: E00xx input files, E01xx lexical, E02xx syntax, E03xx names,
/// E04xx shapes and types, E05xx runtime. Every code has a golden test that triggers it.
public enum DiagnosticCode: String, Sendable, CaseIterable, Codable {
    // MARK: input files
    case fileNotFound = "E0001"
    case fileUnreadable = "E0002"
    case invalidUTF8 = "E0003"

    // MARK: lexical (the lexer never fails; the parser reports these where code is expected)
    case unknownCharacter = "E0101"
    case unknownCommand = "E0102"
    case unterminatedComment = "E0103"

    // MARK: syntax
    case expectedExpression = "E0201"
    case expectedToken = "E0202"
    case unclosedDelimiter = "E0203"
    case unexpectedToken = "E0204"
    case missingEnd = "E0205"
    case unexpectedEnd = "E0206"
    case expectedStatement = "E0207"
    case invalidTitle = "E0208"
    case expectedDeclaration = "E0209"
    case expectedType = "E0210"
    case outsideAlgorithm = "E0211"
    case headerAfterBody = "E0212"
    case invalidClaim = "E0213"
    case detachedScript = "E0214"
    case expectedName = "E0215"
    case nestingTooDeep = "E0216"
    case unknownHeader = "E0217"

    /// The severity a diagnostic with this code has unless the phase says otherwise.
    public var defaultSeverity: Diagnostic.Severity {
        switch self {
        case .fileNotFound, .fileUnreadable, .invalidUTF8: .error
        case .unknownCharacter, .unknownCommand, .unterminatedComment: .error
        case .expectedExpression, .expectedToken, .unclosedDelimiter, .unexpectedToken, .missingEnd,
             .unexpectedEnd, .expectedStatement, .invalidTitle, .expectedDeclaration, .expectedType,
             .outsideAlgorithm, .headerAfterBody, .invalidClaim, .detachedScript, .expectedName, .nestingTooDeep, .unknownHeader: .error
        }
    }

    /// One line describing what the code means (for `algo explain` and the catalogue in docs).
    public var title: String {
        switch self {
        case .fileNotFound: "the named file does not exist"
        case .fileUnreadable: "the named file cannot be read"
        case .invalidUTF8: "the file is not valid UTF-8 text"
        case .unknownCharacter: "a character that is no part of the notation appears where code is expected"
        case .unknownCommand: "a backslash command that is no ASCII spelling of a symbol or letter"
        case .unterminatedComment: "a `/*` comment is not closed by `*/` on its line"
        case .expectedExpression: "an expression is missing"
        case .expectedToken: "a required symbol or keyword is missing"
        case .unclosedDelimiter: "a bracket, parenthesis or brace is not closed"
        case .unexpectedToken: "extra text after a complete statement or declaration"
        case .missingEnd: "a `do` or `then` block is not closed by `end`"
        case .unexpectedEnd: "an `end` line closes no block"
        case .expectedStatement: "a body line does not start a statement"
        case .invalidTitle: "an `Algorithm N:` title line is malformed"
        case .expectedDeclaration: "a header line does not start with a declaration"
        case .expectedType: "a type or set is missing after `∈`"
        case .outsideAlgorithm: "a line before the first `Algorithm N:` title"
        case .headerAfterBody: "a header line after the body has started"
        case .invalidClaim: "a `[[…]]` claim after a statement is not `[[Label ∈ type]]`"
        case .detachedScript: "a sub- or superscript separated from what it decorates"
        case .expectedName: "a name is missing"
        case .unknownHeader: "a header line's label is not `Input`, `Output`, `Parameters` or `Hyperparameters`"
        case .nestingTooDeep: "expressions, types or one-line statements nested deeper than the parser allows"
        }
    }
}
