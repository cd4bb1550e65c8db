// Atomic file replacement: write a temporary file in the destination's directory, fsync it,
// rename it over the destination, fsync the directory. A reader sees the old file or the new
// one, never a partial one; a crash leaves at most a stray `.<name>.tmp-…` file, and SIGTERM,
// SIGHUP or Ctrl-C in the `algo` process remove it (`TemporaryFiles`).
//
// The destination must be a regular file or not exist: a directory, device node, FIFO or socket
// is refused (never replaced: `--output /dev/null` as root must not replace the system's node).
// A symbolic link is followed: the file it points to is replaced and the link stays. A replaced
// file keeps its permission bits (a 0600 checkpoint stays 0600) and, where allowed, its owner.

import AlgoDiagnostics
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes files atomically (temporary file + fsync + rename).
public enum AtomicFile {
    /// Replaces the file at `path` by `bytes` atomically. The failure message names the path and
    /// the system error.
    public static func write(_ bytes: [UInt8], to path: String) -> Result<Void, AtomicFileError> {
        write(chunks: CollectionOfOne(bytes), to: path)
    }

    /// Replaces the file at `path` by the concatenation of `chunks` atomically, taking each chunk
    /// only when the previous one is written (a lazy sequence holds one chunk in memory at a time).
    public static func write(chunks: some Sequence<[UInt8]>, to path: String) -> Result<Void, AtomicFileError> {
        let target: Destination
        switch destination(path) {
        case .success(let d): target = d
        case .failure(let e): return .failure(e)
        }
        let file = target.path
        let slash = file.lastIndex(of: "/")
        let directory = slash.map { $0 == file.startIndex ? "/" : String(file[..<$0]) } ?? "."
        let name = slash.map { String(file[file.index(after: $0)...]) } ?? file
        let temporary = (directory == "/" ? "" : directory) + "/." + name + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        func failure(_ what: String) -> Result<Void, AtomicFileError> {
            .failure(AtomicFileError(path: path, reason: "\(what): \(String(cString: strerror(errno)))"))
        }
        TemporaryFiles.register(temporary)
        defer { TemporaryFiles.unregister(temporary) }
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, target.mode ?? 0o644)
        guard fd >= 0 else { return failure("cannot create a temporary file") }
        if let mode = target.mode {
            // open's mode is masked by the umask; the replaced file's bits are kept as they were.
            _ = fchmod(fd, mode)
            if let owner = target.owner { _ = fchown(fd, owner.uid, owner.gid) }
        }
        for bytes in chunks where FileBytes.write(bytes, to: fd) != nil { let r = failure("write failed"); close(fd); unlink(temporary); return r }
        if fsync(fd) != 0 { let r = failure("fsync failed"); close(fd); unlink(temporary); return r }
        if close(fd) != 0 { let r = failure("close failed"); unlink(temporary); return r }
        if rename(temporary, file) != 0 { let r = failure("rename failed"); unlink(temporary); return r }
        let dfd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 { _ = fsync(dfd); close(dfd) }
        return .success(())
    }

    /// Where a write to `path` lands: `path` itself, or the file a symbolic link points to.
    struct Destination {
        var path: String
        /// The permission bits and owner of the file being replaced (nil for a new file).
        var mode: mode_t?
        var owner: (uid: uid_t, gid: gid_t)?
    }

    /// Checks that `path` can be replaced by an atomic write: a regular file (followed through
    /// symbolic links) or a new name in an existing, writable directory. Nothing is written.
    public static func checkWritable(_ path: String) -> Result<Void, AtomicFileError> {
        destination(path).flatMap { d in
            let slash = d.path.lastIndex(of: "/")
            let directory = slash.map { $0 == d.path.startIndex ? "/" : String(d.path[..<$0]) } ?? "."
            var st = stat()
            guard stat(directory, &st) == 0 else {
                return .failure(AtomicFileError(path: path, reason: "its directory `\(directory)`: \(String(cString: strerror(errno)))"))
            }
            guard (st.st_mode & S_IFMT) == S_IFDIR else {
                return .failure(AtomicFileError(path: path, reason: "`\(directory)` is not a directory"))
            }
            guard access(directory, W_OK | X_OK) == 0 else {
                return .failure(AtomicFileError(path: path, reason: "its directory `\(directory)`: \(String(cString: strerror(errno)))"))
            }
            return .success(())
        }
    }

    static func destination(_ path: String) -> Result<Destination, AtomicFileError> {
        func refuse(_ why: String) -> Result<Destination, AtomicFileError> { .failure(AtomicFileError(path: path, reason: why)) }
        guard !path.isEmpty, !path.hasSuffix("/") else { return refuse("not a file name") }
        var file = path
        var st = stat()
        if lstat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFLNK {
            guard let resolved = realpath(path, nil) else {
                return refuse("it is a symbolic link to a missing file or directory (\(String(cString: strerror(errno))))")
            }
            file = String(cString: resolved)
            free(resolved)
        }
        guard stat(file, &st) == 0 else {
            if errno == ENOENT { return .success(Destination(path: file, mode: nil, owner: nil)) }
            return refuse(String(cString: strerror(errno)))
        }
        switch st.st_mode & S_IFMT {
        case S_IFREG: return .success(Destination(path: file, mode: st.st_mode & 0o7777, owner: (st.st_uid, st.st_gid)))
        case S_IFDIR: return refuse("it is a directory")
        case S_IFCHR, S_IFBLK: return refuse("it is a device node, not a regular file (it is never replaced)")
        case S_IFIFO: return refuse("it is a FIFO (named pipe), not a regular file")
        case S_IFSOCK: return refuse("it is a socket, not a regular file")
        default: return refuse("it is not a regular file")
        }
    }
}

/// Why an atomic write failed: the path and the reason (the system error where there is one).
public struct AtomicFileError: Error, Equatable, Sendable {
    public var path: String
    /// Why, lowercase, without the path (`it is a directory`, `write failed: No space left on device`).
    public var reason: String
    /// One line naming the path and the reason, no trailing period.
    public var message: String { "cannot write `\(path)`: \(reason)" }
}
