import AlgoSyntax
import AlgoTensor
import Foundation

/// `--profile`: how a profiled line is named, the paper's way (`Evaluator+LineLabel`): its
/// algorithm, its line number as printed in the paper's box (nil for a line without one, shown
/// by its place in the file), and its source text; loops are marked (their time includes the body).
extension Evaluator {
    func profileEntry(_ s: Statement, _ f: Frame, line: Int) -> ProfileEntry {
        var e = ProfileEntry()
        e.algorithm = f.algorithm.name
        e.paperLine = s.lineNumber ?? enclosingLineNumber(s, f)
        if let text = sourceText(f.algorithm.file) {
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            if line >= 1, line <= lines.count {
                var t = lines[line - 1].trimmingCharacters(in: .whitespaces)
                // Without the number in front, which the row names already.
                if let n = e.paperLine, t.hasPrefix(n + " ") { t = String(t.dropFirst(n.count)).trimmingCharacters(in: .whitespaces) }
                e.text = t
            }
        }
        switch s.kind {
        case .forLoop, .whileLoop, .ifThen: e.isLoop = true
        case .assign, .returnValue, .forAll, .sample, .comment, .error: e.isLoop = false
        }
        return e
    }

    /// `for t ∈ [ℓ] : …` on one line: its body's row stands for it (one row per line of the paper).
    func isInlineLoop(_ s: Statement) -> Bool {
        if case .forLoop(let l) = s.kind { return l.form == .inline }
        return false
    }

    /// The number of the numbered statement whose line holds `s` (an inline loop's body, `for t ∈ [ℓ] : …`).
    func enclosingLineNumber(_ s: Statement, _ f: Frame) -> String? {
        func find(_ body: [Statement]) -> String? {
            for st in body where st.span.start <= s.span.start && s.span.start < st.span.end {
                switch st.kind {
                case .forLoop(let l): if let n = find(l.body) { return n }
                case .whileLoop(let w): if let n = find(w.body) { return n }
                case .ifThen(let i): if let n = find(i.body) { return n }
                case .forAll(_, let b): if let n = find([b]) { return n }
                case .assign, .returnValue, .sample, .comment, .error: break
                }
                return st.lineNumber
            }
            return nil
        }
        return find(f.algorithm.syntax.body)
    }
}

extension Evaluator {
    /// The tag of `s`'s line on a profiled tape (its profile key, numbered once).
    func profileTag(_ s: Statement, _ f: Frame) -> Int {
        let cached = lineCache[s.span]
        guard let line = cached ?? lineOf(s, f) else { return -1 }
        if cached == nil { lineCache[s.span] = line }
        let key = ProfileKey(file: f.algorithm.file, line: line)
        if profile[key] == nil { profile[key] = profileEntry(s, f, line: line) }
        if let t = profileTagOf[key] { return t }
        profileTags.append(key)
        profileTagOf[key] = profileTags.count - 1
        return profileTags.count - 1
    }

    /// The backward time of a profiled tape, added to the lines whose operations it differentiated.
    func addBackward(_ tape: Tape) {
        for (tag, nanos) in tape.backwardNanos where tag >= 0 && tag < profileTags.count {
            profile[profileTags[tag], default: ProfileEntry()].backwardSeconds += Double(nanos) * 1e-9
        }
    }
}

extension Evaluator.ProfileEntry {
    /// Adds another run's time, operations and executions of the same line (experiments profile every run they make).
    public mutating func add(_ o: Evaluator.ProfileEntry) {
        seconds += o.seconds; operations += o.operations; calls += o.calls; backwardSeconds += o.backwardSeconds
    }
}
