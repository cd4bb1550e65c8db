import Foundation

/// The path arithmetic of "the directory is the library" (`Sources/AlgoSema/README.md`): a file's
/// calls resolve in its own directory, and in a directory of experiments also in the one above.
/// No I/O: the listings are `Library` (AlgoEval, from disk) and the language server's workspace
/// (open documents over disk); both use these two rules.
public enum LibraryPaths {
    /// The directory of `path` ("." for a bare file name).
    public static func directory(of path: String) -> String {
        let d = (path as NSString).deletingLastPathComponent
        return d.isEmpty ? "." : d
    }

    /// The directory above `dir` (`..` above `.`).
    public static func parent(of dir: String) -> String {
        let p = (dir as NSString).deletingLastPathComponent
        return p.isEmpty ? (dir == "." ? ".." : ".") : p
    }
}
