/// The one catalogue of diagnostic codes. Codes are stable: a code is never reused for another
/// meaning. Ranges: E00xx input files, E01xx lexical, E02xx syntax, E03xx names,
/// E04xx shapes and types, E05xx runtime. Every code has a golden test that triggers it.
public enum DiagnosticCode: String, Sendable, CaseIterable, Codable {
    // MARK: input files
    case fileNotFound = "E0001"
    case fileUnreadable = "E0002"
    case invalidUTF8 = "E0003"

    /// The severity a diagnostic with this code has unless the phase says otherwise.
    public var defaultSeverity: Diagnostic.Severity {
        switch self {
        case .fileNotFound, .fileUnreadable, .invalidUTF8: .error
        }
    }

    /// One line describing what the code means (for `algo explain` and the catalogue in docs).
    public var title: String {
        switch self {
        case .fileNotFound: "the named file does not exist"
        case .fileUnreadable: "the named file cannot be read"
        case .invalidUTF8: "the file is not valid UTF-8 text"
        }
    }
}
