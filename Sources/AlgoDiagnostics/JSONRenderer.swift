import Foundation

/// Renders diagnostics as JSON for tools: one array of objects with `code`, `severity`, `message`,
/// `file`, `line`, `column`, `end_line`, `end_column` (1-based, character columns, end exclusive),
/// `label`, `labels` (same position fields + `message`), `notes`, `help`.
public struct JSONRenderer: Sendable {
    public var files: [String: SourceFile]

    public init(files: [SourceFile]) {
        self.files = Dictionary(files.map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })
    }

    struct Position: Encodable {
        var file: String
        var line: Int?
        var column: Int?
        var end_line: Int?
        var end_column: Int?
        var message: String?
    }

    struct Entry: Encodable {
        var code: String
        var severity: String
        var message: String
        var file: String
        var line: Int?
        var column: Int?
        var end_line: Int?
        var end_column: Int?
        var label: String?
        var labels: [Position]
        var notes: [String]
        var help: String?
    }

    func position(_ span: Span, _ source: SourceFile?, message: String? = nil) -> Position {
        guard let f = source ?? files[span.file] else { return Position(file: span.file, message: message) }
        let (l, c) = f.location(of: span.start)
        let (el, ec) = f.location(of: span.end)
        return Position(file: span.file, line: l, column: c, end_line: el, end_column: ec, message: message)
    }

    public func render(_ diagnostics: [Diagnostic]) -> String {
        let entries = diagnostics.map { d -> Entry in
            let p = position(d.span, d.source)
            return Entry(code: d.code.rawValue, severity: d.severity.rawValue, message: d.message, file: p.file,
                         line: p.line, column: p.column, end_line: p.end_line, end_column: p.end_column,
                         label: d.spanLabel, labels: d.labels.map { position($0.span, nil, message: $0.message) },
                         notes: d.notes, help: d.help)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(entries) else { return "[]" }
        return String(decoding: data, as: UTF8.self)
    }
}
