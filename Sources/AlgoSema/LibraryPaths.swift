import Foundation

/// The path arithmetic of "the directory is the library" (`Sources/AlgoSema/README.md`): a file's
/// calls resolve in its own directory, and also in the one above when its directory holds an
/// experiment or the one above holds algorithms (`searchesParent`). No I/O: the listings are
/// `Library` (AlgoEval, from disk) and the language server's workspace (open documents over disk);
/// both use these rules.
public enum LibraryPaths {
    /// The directory of `path` ("." for a bare file name).
    public static func directory(of path: String) -> String {
        let d = (path as NSString).deletingLastPathComponent
        return d.isEmpty ? "." : d
    }

    /// The directory above `dir` (`..` above `.`, `../..` above `..`). Plain string arithmetic:
    /// Foundation's `deletingLastPathComponent` traps on Linux for `.`.
    public static func parent(of dir: String) -> String {
        var d = dir
        while d.count > 1 && d.hasSuffix("/") { d.removeLast() }
        if d == "." { return ".." }
        if d == ".." || d.hasSuffix("/..") { return d + "/.." }
        guard let slash = d.lastIndex(of: "/") else { return "." }
        return slash == d.startIndex ? "/" : String(d[..<slash])
    }

    /// Whether the calls of a file in `dir` also resolve in the directory above: when `dir` holds an
    /// experiment (`Algorithms/Experiments/CharGPT.algo` calls the paper's algorithms), or when the
    /// directory above holds `.algo` files itself (`Algorithms/GPT2/GPT2.algo` calls `MHAttention`
    /// in `Algorithms/`). `algoFiles` lists a directory's `.algo` files.
    public static func searchesParent(of dir: String, holdsExperiment: Bool, algoFiles: (String) -> [String]) -> Bool {
        holdsExperiment || !algoFiles(parent(of: dir)).isEmpty
    }
}
