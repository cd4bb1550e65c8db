/// A diagnostic is a value: stable code, severity, message, primary span, labelled secondary
/// spans, notes, help. Phases return them; only the command line prints them.
///
/// Message style: lowercase, no trailing period, identifiers in backticks. `help` only when the
/// tool verified that the suggested fix is right.
public struct Diagnostic: Error, Sendable, Equatable {
    public enum Severity: String, Sendable, Codable { case error, warning, note }

    /// A secondary span with a short message ("declared here", "this is `d_e`").
    public struct Label: Sendable, Equatable {
        public var span: Span
        public var message: String
        public init(_ span: Span, _ message: String) { self.span = span; self.message = message }
    }

    public var code: DiagnosticCode
    public var severity: Severity
    public var message: String
    /// Where the mistake is; its label (optional) is printed under the carets.
    public var span: Span
    public var spanLabel: String?
    public var labels: [Label] = []
    public var notes: [String] = []
    public var help: String?
    /// The file the span points into when it cannot be found by path (e.g. the lossy text of an
    /// invalid UTF-8 file); renderers look files up by `span.file` otherwise.
    public var source: SourceFile?

    public init(_ code: DiagnosticCode, _ message: String, at span: Span, label: String? = nil,
                severity: Severity? = nil) {
        self.code = code
        self.severity = severity ?? code.defaultSeverity
        self.message = message
        self.span = span
        self.spanLabel = label
    }

    public static func == (a: Diagnostic, b: Diagnostic) -> Bool {
        a.code == b.code && a.severity == b.severity && a.message == b.message && a.span == b.span
            && a.spanLabel == b.spanLabel && a.labels == b.labels && a.notes == b.notes && a.help == b.help
    }
}

/// The diagnostics a phase collects. Phases run to completion and append here; nothing prints.
public struct DiagnosticBag: Sendable {
    public private(set) var all: [Diagnostic] = []
    public init() {}

    public mutating func append(_ d: Diagnostic) { all.append(d) }
    public mutating func append(contentsOf ds: [Diagnostic]) { all.append(contentsOf: ds) }

    public var hasErrors: Bool { all.contains { $0.severity == .error } }
    public var errorCount: Int { all.filter { $0.severity == .error }.count }
    public var isEmpty: Bool { all.isEmpty }
}
