import AlgoEval
import Foundation

/// `--profile`'s table, the same for forward runs, training runs and experiments: one row per line
/// that ran (of the file run and of every algorithm it called), slowest first, each named as the
/// paper numbers it (`MHAttention line 2`; a line without a number by its place in the file) with
/// its source text. Times include what a line runs: a call's line its callee's lines, a loop's line
/// (marked ↻) its body, so the rows overlap and do not sum to the run's time. A training run adds the
/// backward column: the time `∇loss(θ)` spent differentiating the operations each line issued (its
/// own, not its callees'; the forward of those operations is in the time column).
enum ProfileTable {
    static func text(_ profile: [Evaluator.ProfileKey: Evaluator.ProfileEntry], title: String) -> String {
        // A training run also has the backward pass: the VJPs of the operations each line issued itself.
        let backward = profile.values.contains { $0.backwardSeconds > 0 }
        var s = "profile of \(title) (per line of the paper, slowest first; a line's time includes its callees, ↻ a loop's its body"
        s += backward ? "; backward: ∇'s time in the operations the line itself issued):\n" : "):\n"
        s += "  " + pad("time", 11, right: true) + (backward ? "  " + pad("backward", 11, right: true) : "") + "  " + pad("ops", 8, right: true)
            + "  " + pad("runs", 7, right: true) + "  " + pad("line", 28) + "  source\n"
        let rows = profile.filter { $0.value.calls > 0 || $0.value.backwardSeconds > 0 }
            .sorted { ($1.value.seconds, $0.key.file, $0.key.line) < ($0.value.seconds, $1.key.file, $1.key.line) }
        for (k, v) in rows {
            let name = (v.algorithm.isEmpty ? ((k.file as NSString).lastPathComponent) : v.algorithm)
                + (v.paperLine.map { " line \($0)" } ?? " (\((k.file as NSString).lastPathComponent):\(k.line))")
            let text = v.text.count > 70 ? String(v.text.prefix(69)) + "…" : v.text
            s += "  " + pad(String(format: "%.3f ms", v.seconds * 1000), 11, right: true)
                + (backward ? "  " + pad(String(format: "%.3f ms", v.backwardSeconds * 1000), 11, right: true) : "")
                + "  " + pad("\(v.operations)", 8, right: true)
                + "  " + pad("\(v.calls)×", 7, right: true) + "  " + pad((v.isLoop ? "↻ " : "") + name, 28) + "  " + text + "\n"
        }
        return s
    }

    /// `s` padded with spaces to `width` characters (Unicode characters, not UTF-16 units).
    static func pad(_ s: String, _ width: Int, right: Bool = false) -> String {
        let fill = String(repeating: " ", count: max(0, width - s.count))
        return right ? fill + s : s + fill
    }

    /// Profiles of several runs added line by line.
    static func merge(_ profiles: [[Evaluator.ProfileKey: Evaluator.ProfileEntry]]) -> [Evaluator.ProfileKey: Evaluator.ProfileEntry] {
        var out: [Evaluator.ProfileKey: Evaluator.ProfileEntry] = [:]
        for p in profiles { for (k, v) in p { if out[k] == nil { out[k] = v } else { out[k]!.add(v) } } }
        return out
    }
}
