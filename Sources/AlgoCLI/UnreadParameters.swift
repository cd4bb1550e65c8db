import AlgoDiagnostics
import AlgoEval

/// The tensors of `--params` that an algorithm does not read (`RunSession.unread`), for every kind
/// of run (forward, training file, an experiment's `initialise(…)`): warning E0552, kept to be
/// printed after the run, or with `--strict` an error thrown at once, before anything runs or is
/// written. A conversion mistake otherwise goes unnoticed.
final class UnreadParameters {
    let strict: Bool, path: String
    /// The warnings of this run, in the order found.
    private(set) var warnings: [Diagnostic] = []

    init(_ args: Arguments) { strict = args.has("strict"); path = args.value("params") ?? "" }

    /// Called with the unread tensors' names (sorted) and the algorithm that did not read them.
    func report(_ names: [String], _ a: LoadedAlgorithm) throws {
        let shown = names.prefix(8).map { "`\($0)`" }.joined(separator: ", ") + (names.count > 8 ? ", …" : "")
        var d = Diagnostic(.unusedTensors, "\(names.count) tensor\(names.count == 1 ? "" : "s") of `\(path)` \(names.count == 1 ? "is" : "are") no parameter of `\(a.name)`: \(shown)",
                           at: Span(file: path, start: 0, end: 0), severity: strict ? .error : .warning)
        d.notes.append("`algo params \(a.file)` lists the names it reads; a checkpoint of another algorithm (or a conversion mistake) leaves tensors unread")
        if strict { throw RunFailure([d]) }
        warnings.append(d)
    }
}
