import AlgoSyntax
import Foundation

extension Evaluator {
    /// How a runtime message names the statement `s`: its paper line number (`line 7`), or for a
    /// statement without one (a loop body on the loop's line, an unnumbered file) its place in the
    /// file (`the line at DTraining.algo:23`), never `line ?`.
    func lineLabel(_ s: Statement, _ f: Frame) -> String {
        if let n = s.lineNumber { return "line \(n)" }
        let file = (f.algorithm.file as NSString).lastPathComponent
        return lineOf(s, f).map { "the line at \(file):\($0)" } ?? "a line of \(file)"
    }
}
