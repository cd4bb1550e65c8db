/// The table of `Sources/AlgoCLI/README.md` ("Which flags apply to what `algo run` runs"), generated
/// from `RunCommand.flags` and `RunKind.inapplicable`, so the README cannot drift from what `algo run`
/// refuses (a test compares them). A sampling algorithm (DInference, EDInference) is a forward run.
enum RunFlagTable {
    /// The columns: a heading and the kind whose refusals decide it.
    static let columns: [(heading: String, kind: RunKind)] = [
        ("forward algorithm", .forward), ("training algorithm", .training), ("inference / sampling", .forward), ("experiment", .experiment),
    ]

    /// The markdown table: one row per flag of `algo run`, ✓ where it applies, "refused" where
    /// `algo run` exits 2; then why each refusal.
    static func markdown(flags: [Arguments.Spec]) -> String {
        var s = "| flag | " + columns.map(\.heading).joined(separator: " | ") + " |\n"
        s += "|---|" + columns.map { _ in "---" }.joined(separator: "|") + "|\n"
        for f in flags {
            let cells = columns.map { c in c.kind.inapplicable.contains { $0.flag == f.name } ? "refused" : "✓" }
            s += "| `--\(f.name)` | " + cells.joined(separator: " | ") + " |\n"
        }
        s += "\nWhy each refusal (the message `algo run` prints):\n\n"
        var seen: Set<String> = []
        for c in columns where seen.insert("\(c.kind)").inserted {
            for (flag, why) in c.kind.inapplicable { s += "- \(c.heading), `--\(flag)`: \(why)\n" }
        }
        return s
    }
}
