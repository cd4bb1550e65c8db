import AlgoDiagnostics
import AlgoSema
import AlgoSyntax
import Foundation

/// The `.algo` files the calls of some named files resolve to: **the directory is the library**
/// (`Sources/AlgoSema/README.md`). The one place that lists a directory for `algo check`, `algo run`,
/// `algo gradcheck` and the experiments; the checker itself does no file I/O.
///
/// A directory of experiments (one of its `.algo` files, or a named file, holds an `Experiment N:`
/// block) also lends the directory above, and so does a directory above that holds algorithms
/// (`LibraryPaths.searchesParent`): `Algorithms/Experiments/CharGPT.algo` and
/// `Algorithms/GPT2/GPT2.algo` call the paper's algorithms in `Algorithms/`.
public struct Library {
    /// Every `.algo` file of the library's directories, parsed, in directory then name order (the
    /// named files too: `excluding` leaves them out). Syntax errors are not reported: only the
    /// algorithms the named files call are checked, and their errors reported.
    public let files: [ParsedFile]

    /// The `.algo` files of the directories of `named` (each read and parsed once), and of the
    /// directory above a directory of experiments.
    public static func around(_ named: [ParsedFile]) -> Library {
        around(paths: named.map(\.source.path), experiments: Set(named.filter(\.holdsExperiment).map { LibraryPaths.directory(of: $0.source.path) }))
    }

    /// The library of the file at `path`, without parsing that file first.
    public static func around(path: String) -> Library { around(paths: [path], experiments: []) }

    /// `experiments`: directories known to hold an experiment (a named file) besides those whose
    /// files show one.
    static func around(paths: [String], experiments: Set<String>) -> Library {
        var dirs: [String] = []
        var files: [ParsedFile] = []
        func add(_ dir: String, named: Bool) {
            guard !dirs.contains(dir) else { return }
            dirs.append(dir)
            let own = sources(in: dir).map { f in
                var ignored = DiagnosticBag()
                return ParsedFile(source: f, tree: Parser.parse(f, &ignored))
            }
            files += own
            if named, LibraryPaths.searchesParent(of: dir, holdsExperiment: experiments.contains(dir) || own.contains(where: \.holdsExperiment),
                                                  algoFiles: algoNames(in:)) {
                add(LibraryPaths.parent(of: dir), named: false)
            }
        }
        for p in paths { add(LibraryPaths.directory(of: p), named: true) }
        return Library(files: files)
    }

    /// The library without the files at `paths` (files checked in their own right, or replaced by a
    /// text held in memory).
    public func excluding(_ paths: [String]) -> [ParsedFile] { files.filter { !paths.contains($0.source.path) } }

    /// The paths of the `.algo` files at and below `dir` (`algo check DIR`), sorted; nil when `dir`
    /// is not a directory.
    public static func algoPaths(under dir: String) -> [String]? {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDirectory), isDirectory.boolValue else { return nil }
        let base = dir.hasSuffix("/") ? String(dir.dropLast()) : dir
        let found = FileManager.default.enumerator(atPath: dir)?.compactMap { $0 as? String } ?? []
        return found.filter { $0.hasSuffix(".algo") }.sorted().map { base + "/" + $0 }
    }

    /// The names of the `.algo` files of `dir` (not read).
    static func algoNames(in dir: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasSuffix(".algo") }
    }

    /// The readable `.algo` files of `dir`, in name order.
    public static func sources(in dir: String) -> [SourceFile] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted().compactMap { e in
            guard e.hasSuffix(".algo") else { return nil }
            guard case .success(let f) = SourceFile.load(path: dir == "." ? e : dir + "/" + e) else { return nil }
            return f
        }
    }
}
