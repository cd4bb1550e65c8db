import AlgoDiagnostics

/// `--format text|json`: how a command prints diagnostics. Text goes to stderr (like a compiler),
/// JSON to stdout as one array (for tools), so `algo check --format json F | jq` works.
public enum DiagnosticFormat: String, Sendable {
    case text, json

    /// The `--format` flag every command that reports diagnostics accepts.
    static let flag = Arguments.Spec("format", value: true, help: "diagnostics as `text` (default) or `json`")

    /// Reads `--format`; nil with a usage message when the value is not `text` or `json`.
    static func from(_ args: Arguments, _ output: inout Output) -> DiagnosticFormat? {
        let raw = args.value("format") ?? "text"
        guard let f = DiagnosticFormat(rawValue: raw) else {
            output.err("algo: error: `--format` takes `text` or `json`, not `\(raw)`")
            return nil
        }
        return f
    }
}

/// Loads source files and prints diagnostics in the chosen format.
struct Reporter {
    let format: DiagnosticFormat
    var files: [SourceFile] = []

    init(format: DiagnosticFormat) { self.format = format }

    /// Reads each path; files that cannot be read produce diagnostics (E0001–E0003) instead.
    mutating func load(_ paths: [String]) -> (files: [SourceFile], failures: [Diagnostic]) {
        var loaded: [SourceFile] = [], failures: [Diagnostic] = []
        for p in paths {
            switch SourceFile.load(path: p) {
            case .success(let f): loaded.append(f)
            case .failure(let d): failures.append(d)
            }
        }
        files.append(contentsOf: loaded)
        return (loaded, failures)
    }

    /// Sources to render diagnostics from besides the loaded ones (a callee's library file).
    mutating func add(_ sources: [SourceFile]) {
        for f in sources where !files.contains(where: { $0.path == f.path }) { files.append(f) }
    }

    /// Prints diagnostics: text to stderr with a closing count, or JSON to stdout (always an array).
    func emit(_ diagnostics: [Diagnostic], _ output: inout Output) {
        switch format {
        case .json:
            output.out(JSONRenderer(files: files).render(diagnostics))
        case .text:
            guard !diagnostics.isEmpty else { return }
            output.err(TextRenderer(files: files, color: output.color).render(diagnostics))
            let errors = diagnostics.filter { $0.severity == .error }.count
            let warnings = diagnostics.filter { $0.severity == .warning }.count
            var parts: [String] = []
            if errors > 0 { parts.append("\(errors) error\(errors == 1 ? "" : "s")") }
            if warnings > 0 { parts.append("\(warnings) warning\(warnings == 1 ? "" : "s")") }
            if !parts.isEmpty { output.err(parts.joined(separator: ", ") + " found") }
        }
    }
}
