/// "Did you mean …?": the one rule for suggesting a close spelling, used for names, algorithms and
/// parameters (the checker) and for commands and flags (the command line).
public enum Suggestion {
    /// The candidate closest to `word` by edit distance, within `limit` edits (`nil` when none is);
    /// ties go to the candidate that comes first in `candidates`. `word` itself is never suggested.
    public static func closest(to word: String, among candidates: some Sequence<String>, within limit: Int? = nil) -> String? {
        let limit = limit ?? defaultLimit(word)
        var best: (String, Int)? = nil
        for c in candidates where c != word {
            let d = editDistance(c, word)
            if d <= limit, best == nil || d < best!.1 { best = (c, d) }
        }
        return best?.0
    }

    /// How many edits a word of this length may be from a suggestion: none for one or two
    /// characters (every short name is two edits from every other), a third of the length otherwise.
    public static func defaultLimit(_ word: String) -> Int {
        word.count <= 2 ? 0 : max(1, word.count / 3)
    }

    /// Edit distance counted in characters (`ℝ`, `𝓦`, `X̃` are one each): insertions, deletions,
    /// substitutions and swaps of two neighbours (`chekc` is one edit from `check`), each costing one
    /// (the optimal-string-alignment distance).
    public static func editDistance(_ a: String, _ b: String) -> Int {
        let x = Array(a), y = Array(b)
        if x.isEmpty { return y.count }
        if y.isEmpty { return x.count }
        var before = [Int](repeating: 0, count: y.count + 1)
        var prev = Array(0...y.count)
        for i in 1...x.count {
            var cur = [i] + Array(repeating: 0, count: y.count)
            for j in 1...y.count {
                cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x[i - 1] == y[j - 1] ? 0 : 1))
                if i > 1, j > 1, x[i - 1] == y[j - 2], x[i - 2] == y[j - 1] { cur[j] = min(cur[j], before[j - 2] + 1) }
            }
            before = prev
            prev = cur
        }
        return prev[y.count]
    }
}
