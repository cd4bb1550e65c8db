import AlgoDiagnostics
/// A parsed command line: `--flag`, `--flag=value`, `--flag value`, `-h`, and positionals.
/// `--` ends the flags. Each command declares which flags it knows and which take a value;
/// anything else is a usage error (exit 2), never a crash.
public struct Arguments: Sendable {
    public private(set) var flags: [String: String] = [:]
    public private(set) var positionals: [String] = []

    /// A flag a command accepts: `name` without dashes; `takesValue` for `--name VALUE`.
    public struct Spec: Sendable {
        public let name: String
        public let takesValue: Bool
        public let help: String
        public init(_ name: String, value: Bool = false, help: String) {
            self.name = name; self.takesValue = value; self.help = help
        }
    }

    /// Parses `args` against `specs`; returns a message for the first unknown flag or missing value.
    public static func parse(_ args: [String], specs: [Spec]) -> Result<Arguments, UsageError> {
        var result = Arguments()
        var i = 0
        var onlyPositionals = false
        while i < args.count {
            // `-o` is short for `--output` in the commands that have it (`algo render -o site/`).
            let a = args[i] == "-o" && !onlyPositionals && specs.contains(where: { $0.name == "output" }) ? "--output" : args[i]
            i += 1
            if onlyPositionals || !a.hasPrefix("-") || a == "-" {
                result.positionals.append(a)
                continue
            }
            if a == "--" { onlyPositionals = true; continue }
            if a == "-h" || a == "--help" { result.flags["help"] = ""; continue }
            guard a.hasPrefix("--") else { return .failure(UsageError("unknown flag `\(a)`")) }
            var name = String(a.dropFirst(2))
            var value: String? = nil
            if let eq = name.firstIndex(of: "=") {
                value = String(name[name.index(after: eq)...])
                name = String(name[..<eq])
            }
            guard let spec = specs.first(where: { $0.name == name }) else {
                var message = "unknown flag `--\(name)`"
                if let best = Suggestion.closest(to: name, among: specs.map(\.name) + ["help"]) { message += "; did you mean `--\(best)`?" }
                return .failure(UsageError(message))
            }
            // A second value would silently replace the first: say so instead.
            if result.flags[name] != nil { return .failure(UsageError("flag `--\(name)` is given twice")) }
            if spec.takesValue {
                if value == nil {
                    guard i < args.count else { return .failure(UsageError("flag `--\(name)` needs a value")) }
                    value = args[i]
                    i += 1
                }
                result.flags[name] = value
            } else {
                if value != nil { return .failure(UsageError("flag `--\(name)` takes no value")) }
                result.flags[name] = ""
            }
        }
        return .success(result)
    }

    public func has(_ name: String) -> Bool { flags[name] != nil }
    public func value(_ name: String) -> String? { flags[name] }
}

/// A mistake on the command line; rendered as `algo: error: …` with the command's usage, exit 2.
public struct UsageError: Error, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
}
