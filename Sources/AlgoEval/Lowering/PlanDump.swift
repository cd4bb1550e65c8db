import AlgoDiagnostics
import Foundation

extension EvalProgram {
    /// `algo run --dump plan`: for every algorithm of the program (the target first) where a rewrite
    /// rule matched, one line per match: the file and source line, the paper's line text, the rule,
    /// and `(off)` when `disabled` turns it off. A match is decided at load time; its run-time guard
    /// (`Rules/`) may still run the lines as written (a mask that is not causal, Float64 for layer norm).
    public func planDump(target: LoadedAlgorithm, disabled: Set<RuleID>) -> String {
        var out = "rules: " + RuleID.allCases.map { $0.rawValue + (disabled.contains($0) ? " (off)" : "") }.joined(separator: ", ") + "\n"
        var texts: [String: [Substring]] = [:]
        func line(_ span: Span) -> (Int, String) {
            if texts[span.file] == nil {
                let text = (try? String(contentsOfFile: span.file, encoding: .utf8)) ?? ""
                texts[span.file] = text.split(separator: "\n", omittingEmptySubsequences: false)
            }
            let bytes = Array(((texts[span.file] ?? []).joined(separator: "\n")).utf8)
            let n = 1 + bytes.prefix(min(span.start, bytes.count)).filter { $0 == 0x0A }.count
            let lines = texts[span.file] ?? []
            return (n, n - 1 < lines.count ? lines[n - 1].trimmingCharacters(in: .whitespaces) : "")
        }
        let ordered = [target] + algorithms.filter { $0.file != target.file || $0.name != target.name }
        for a in ordered where !a.plan.fired.isEmpty {
            out += "\(a.name) (\((a.file as NSString).lastPathComponent)):\n"
            for (rule, span) in a.plan.fired {
                let (n, text) = line(span)
                let what = rule == .layerNorm ? "the whole algorithm, as a callee" : text
                out += "  line \(n)  \(rule.rawValue)\(disabled.contains(rule) ? " (off)" : "")  \(what)\n"
            }
        }
        return out
    }
}
