import AlgoDiagnostics
import AlgoSema
import AlgoSyntax
import Foundation

/// A parsed file with its syntax diagnostics and its name index, cached by a stamp (the version of
/// an open document; modification time and size of a file on disk).
struct ParsedEntry: Sendable {
    let stamp: String
    let parsed: ParsedFile
    let syntaxDiagnostics: [Diagnostic]
    let index: NameIndex
}

/// A call of one of a file's algorithms from a checked caller, with how the callee's dimensions
/// were bound there (`d_x` → `d_e`).
struct CallSite: Sendable {
    let callee: String
    let callerPath: String
    let callerTitle: String
    let span: Span
    /// Callee dimension → its value in the caller as the caller shows it (`d_x` → `d_e`, `ℓ_x` → `ℓ`).
    let dimensions: [String: String]
}

/// What the last check of a file found.
struct Analysis: Sendable {
    /// Its algorithms' variables and shapes, in file order.
    let shapes: [AlgorithmShapes]
    /// Its algorithms as checked (types per span, calls); empty when the file had errors.
    let checked: [CheckedAlgorithm]
    let diagnostics: [Diagnostic]
}

/// The files the server knows: open documents (their text wins over the disk) and the `.algo`
/// files of their directories, which are their library. Used on the server's queue only.
final class Workspace {
    var documents: [String: Document] = [:]
    private var cache: [String: ParsedEntry] = [:]
    /// The last check of each file (edited files and their callers).
    private(set) var analyses: [String: Analysis] = [:]
    /// Calls of each file's algorithms, from the last check of its callers.
    private(set) var callSites: [String: [CallSite]] = [:]

    /// The parsed file at `path`: the open document's text, else the file on disk; nil when it
    /// cannot be read.
    func entry(_ path: String) -> ParsedEntry? {
        let source: SourceFile
        let stamp: String
        if let d = documents[path] {
            stamp = "open \(d.version) \(d.text.utf8.count)"
            if let c = cache[path], c.stamp == stamp { return c }
            source = d.source
        } else {
            let attributes = try? FileManager.default.attributesOfItem(atPath: path)
            let date = (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
            stamp = "disk \(date) \((attributes?[.size] as? NSNumber)?.intValue ?? -1)"
            if let c = cache[path], c.stamp == stamp { return c }
            guard case .success(let s) = SourceFile.load(path: path) else { cache[path] = nil; return nil }
            source = s
        }
        var bag = DiagnosticBag()
        let tree = Parser.parse(source, &bag)
        let e = ParsedEntry(stamp: stamp, parsed: ParsedFile(source: source, tree: tree), syntaxDiagnostics: bag.all, index: NameIndex(tree))
        cache[path] = e
        return e
    }

    /// The `.algo` files of a directory, sorted, with open documents of that directory that are not
    /// saved yet.
    func algoFiles(in dir: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        var paths = Set(names.filter { $0.hasSuffix(".algo") }.map { dir == "." ? $0 : dir + "/" + $0 })
        for p in documents.keys where LibraryPaths.directory(of: p) == dir && p.hasSuffix(".algo") { paths.insert(p) }
        return paths.sorted()
    }

    /// The directories a file's calls resolve to, by `algo check`'s rule (`LibraryPaths`, as
    /// `Library` in AlgoEval applies it, here to the open documents' texts): its own, and the one
    /// above when its directory holds an experiment or the one above holds algorithms.
    func libraryDirectories(of e: ParsedEntry) -> [String] {
        let dir = LibraryPaths.directory(of: e.parsed.source.path)
        let experiments = e.parsed.holdsExperiment || algoFiles(in: dir).contains { p in
            p != e.parsed.source.path && entry(p)?.parsed.holdsExperiment == true
        }
        guard LibraryPaths.searchesParent(of: dir, holdsExperiment: experiments, algoFiles: algoFiles(in:)) else { return [dir] }
        return [dir, LibraryPaths.parent(of: dir)]
    }

    /// The library of a file: the other `.algo` files of its library directories.
    func library(of e: ParsedEntry) -> [ParsedEntry] {
        var seen: Set<String> = [e.parsed.source.path]
        var result: [ParsedEntry] = []
        for dir in libraryDirectories(of: e) {
            for p in algoFiles(in: dir) where seen.insert(p).inserted {
                if let x = entry(p) { result.append(x) }
            }
        }
        return result
    }

    /// Checks the file at `path` and hands its diagnostics to `publish`; then checks the files of its
    /// directory that call one of its algorithms (a callee's own errors are reported in the callee,
    /// so each file is checked as itself) and hands theirs over. Lists may be empty (to clear).
    func analyze(_ path: String, publish: ([String: [Diagnostic]]) -> Void) {
        guard let e = entry(path) else { return }
        let library = library(of: e)
        var own: [String: [Diagnostic]] = [path: []]
        check([e], library: library, into: &own)
        publish(own)

        let names = Set(e.parsed.tree.algorithms.compactMap { $0.title.signature?.name.spelling })
        let dir = LibraryPaths.directory(of: path)
        let callers = library.filter { LibraryPaths.directory(of: $0.parsed.source.path) == dir && !$0.index.calledNames.isDisjoint(with: names) }
        guard !callers.isEmpty else { return }
        let callerPaths = Set(callers.map(\.parsed.source.path))
        var theirs = Dictionary(uniqueKeysWithValues: callerPaths.map { ($0, [Diagnostic]()) })
        let rest = library.filter { !callerPaths.contains($0.parsed.source.path) } + [e]
        check(callers, library: rest, into: &theirs)
        publish(theirs)
    }

    private func check(_ files: [ParsedEntry], library: [ParsedEntry], into result: inout [String: [Diagnostic]]) {
        var bag = DiagnosticBag()
        let outcome = ShapeChecker.check(files.map(\.parsed), library: library.map(\.parsed), &bag)
        for f in files { result[f.parsed.source.path, default: []] += f.syntaxDiagnostics }
        for d in bag.all { result[d.span.file, default: []].append(d) }
        let checked = outcome.program?.algorithms ?? []
        for f in files {
            let p = f.parsed.source.path
            analyses[p] = Analysis(shapes: outcome.shapes.filter { $0.file == p }, checked: checked.filter { $0.file == p },
                                   diagnostics: result[p] ?? [])
        }
        // Where the checked files call algorithms of other files, and how they bind their dimensions.
        let callerPaths = Set(files.map(\.parsed.source.path))
        for (k, v) in callSites { callSites[k] = v.filter { !callerPaths.contains($0.callerPath) } }
        for a in checked {
            let title = "\(a.syntax.title.keyword.rawValue) \(a.syntax.title.number)"
            let printer = TypePrinter(aliases: NameIndex.lengthAliases(a.syntax))
            for (span, c) in a.calls where !c.isBuiltin {
                callSites[c.file, default: []].append(CallSite(callee: c.callee, callerPath: a.file, callerTitle: title, span: span, dimensions: c.dimensions.mapValues(printer.dim)))
            }
        }
    }

    /// The algorithm `name` as seen from the file at `path`: that file, then its directory, then
    /// its other library directories (the checker's order).
    func algorithm(named name: String, from path: String) -> (entry: ParsedEntry, index: Int)? {
        guard let e = entry(path) else { return nil }
        if let i = e.index.algorithm(named: name) { return (e, i) }
        for l in library(of: e) {
            if let i = l.index.algorithm(named: name) { return (l, i) }
        }
        return nil
    }

    /// Drops the analysis of a closed document's file (its disk text may differ).
    func forget(_ path: String) {
        analyses[path] = nil
        cache[path] = nil
    }
}
