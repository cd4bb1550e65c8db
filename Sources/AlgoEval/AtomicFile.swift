// Atomic file replacement: write a temporary file in the destination's directory, fsync it,
// rename it over the destination, fsync the directory. A reader sees the old file or the new
// one, never a partial one; a crash leaves at most a stray `.<name>.tmp-…` file.

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
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        guard !name.isEmpty else { return .failure(AtomicFileError(message: "cannot write `\(path)`: not a file name")) }
        let temporary = (directory == "/" ? "" : directory) + "/." + name + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        func failure(_ what: String) -> Result<Void, AtomicFileError> {
            .failure(AtomicFileError(message: "cannot write `\(path)`: \(what): \(String(cString: strerror(errno)))"))
        }
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return failure("cannot create a temporary file") }
        var ok = true
        bytes.withUnsafeBytes { buffer in
            var done = 0
            while done < buffer.count {
                let n = systemWrite(fd, buffer.baseAddress! + done, buffer.count - done)
                if n < 0 { if errno == EINTR { continue }; ok = false; return }
                done += n
            }
        }
        if !ok { let r = failure("write failed"); close(fd); unlink(temporary); return r }
        if fsync(fd) != 0 { let r = failure("fsync failed"); close(fd); unlink(temporary); return r }
        if close(fd) != 0 { let r = failure("close failed"); unlink(temporary); return r }
        if rename(temporary, path) != 0 { let r = failure("rename failed"); unlink(temporary); return r }
        let dfd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 { _ = fsync(dfd); close(dfd) }
        return .success(())
    }
}

/// `write(2)`, named apart from `AtomicFile.write`.
private func systemWrite(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int) -> Int {
    #if canImport(Glibc)
    return Glibc.write(fd, p, n)
    #else
    return Darwin.write(fd, p, n)
    #endif
}

/// Why an atomic write failed: one line naming the path and the system error.
public struct AtomicFileError: Error, Equatable, Sendable {
    /// The message, lowercase, no trailing period.
    public var message: String
}
