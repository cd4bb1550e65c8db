#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reading a whole input file (`.algo` sources, checkpoints, tokenizers, data) with the system's
/// reason when it cannot be read. Only regular files are read: a directory, FIFO, socket or
/// device is refused without blocking (a FIFO nobody writes to would hang an ordinary read).
public enum FileBytes {
    /// Why a file could not be read.
    public enum Failure: Error, Equatable, Sendable, CustomStringConvertible {
        /// The file does not exist (ENOENT).
        case notFound
        /// Any other reason, one lowercase line (`it is a directory`, `Permission denied`, …).
        case unreadable(String)

        public var description: String {
            switch self {
            case .notFound: "no such file"
            case .unreadable(let why): why
            }
        }
    }

    /// The bytes of the regular file at `path`, refused (without reading them) when there are more
    /// than `limit`: a 10 GB file given as a source or a tokenizer is not read whole into memory
    /// first. `why` says where the limit comes from (`an .algo file holds at most 16 MB`).
    public static func read(_ path: String, limit: Int = .max, why: @autoclosure () -> String = "") -> Result<[UInt8], Failure> {
        open(path).flatMap { $0.readAll(limit: limit, why: why()) }
    }

    /// The regular file at `path`, open for reading in parts (`Checkpoint.read` reads a safetensors
    /// file tensor by tensor); a directory, FIFO, socket or device is refused without blocking.
    public static func open(_ path: String) -> Result<RegularFile, Failure> {
        guard !path.isEmpty else { return .failure(.unreadable("an empty path names no file")) }
        let fd = systemOpen(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return .failure(errno == ENOENT ? .notFound : .unreadable(reason(errno))) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { let e = errno; close(fd); return .failure(.unreadable(reason(e))) }
        let refusal: String?
        switch st.st_mode & S_IFMT {
        case S_IFREG: refusal = nil
        case S_IFDIR: refusal = "it is a directory, not a file"
        case S_IFIFO: refusal = "it is a FIFO (named pipe), not a regular file"
        case S_IFCHR, S_IFBLK: refusal = "it is a device node, not a regular file"
        case S_IFSOCK: refusal = "it is a socket, not a regular file"
        default: refusal = "it is not a regular file"
        }
        if let refusal { close(fd); return .failure(.unreadable(refusal)) }
        return .success(RegularFile(fd: fd, size: max(0, Int(st.st_size))))
    }

    /// An open regular file; closed when released.
    public final class RegularFile {
        let fd: Int32
        /// The size `fstat` gave when the file was opened, in bytes.
        public let size: Int

        init(fd: Int32, size: Int) { self.fd = fd; self.size = size }
        deinit { close(fd) }

        /// Exactly `count` bytes from byte `offset`; a file that ends before them is a failure.
        public func read(at offset: Int, count: Int) -> Result<[UInt8], Failure> {
            guard offset >= 0, count >= 0 else { return .failure(.unreadable("a negative offset or length")) }
            var out = [UInt8](repeating: 0, count: count)
            var done = 0
            while done < count {
                let n = out.withUnsafeMutableBytes { systemPRead(fd, $0.baseAddress! + done, count - done, offset + done) }
                if n < 0 {
                    if errno == EINTR || errno == EAGAIN { continue }
                    return .failure(.unreadable(reason(errno)))
                }
                if n == 0 { return .failure(.unreadable("the file ended at byte \(offset + done), before the \(count) bytes at \(offset) (it changed while being read?)")) }
                done += n
            }
            return .success(out)
        }

        /// Every byte from the start to the end of the file (which may differ from `size`), refused
        /// beyond `limit` bytes (`FileBytes.read`).
        func readAll(limit: Int, why: @autoclosure () -> String) -> Result<[UInt8], Failure> {
            func tooLarge(_ size: Int) -> Failure { .unreadable("it holds \(ByteCount.describe(size)); \(why())") }
            if size > limit { return .failure(tooLarge(size)) }
            var out: [UInt8] = []
            out.reserveCapacity(size)
            var chunk = [UInt8](repeating: 0, count: 1 << 16)
            while true {
                let n = chunk.withUnsafeMutableBytes { systemRead(fd, $0.baseAddress!, $0.count) }
                if n < 0 {
                    if errno == EINTR || errno == EAGAIN { continue }
                    return .failure(.unreadable(reason(errno)))
                }
                if n == 0 { break }
                // A file that grows while it is read (or reports no size, as /proc does) is bounded too.
                if out.count + n > limit { return .failure(tooLarge(out.count + n)) }
                out.append(contentsOf: chunk[0..<n])
            }
            return .success(out)
        }
    }

    /// Writes every byte to descriptor `fd`, retrying short writes and EINTR: nil, or the errno of
    /// the failure. The one write loop of stdout/stderr (`OutputStreams`) and of atomic files.
    public static func write(_ bytes: [UInt8], to fd: Int32) -> Int32? {
        bytes.withUnsafeBytes { buffer -> Int32? in
            var done = 0
            while done < buffer.count {
                let n = systemWrite(fd, buffer.baseAddress! + done, buffer.count - done)
                if n < 0 { if errno == EINTR { continue }; return errno }
                done += n
            }
            return nil
        }
    }

    /// The system's text for `code` (`strerror`).
    public static func reason(_ code: Int32) -> String { String(cString: strerror(code)) }
}

/// `read(2)`, named apart from `FileBytes.read`.
private func systemRead(_ fd: Int32, _ p: UnsafeMutableRawPointer, _ n: Int) -> Int {
    #if canImport(Glibc)
    return Glibc.read(fd, p, n)
    #else
    return Darwin.read(fd, p, n)
    #endif
}

/// `open(2)`, named apart from `FileBytes.open`.
private func systemOpen(_ path: String, _ flags: Int32) -> Int32 {
    #if canImport(Glibc)
    return Glibc.open(path, flags)
    #else
    return Darwin.open(path, flags)
    #endif
}

/// `pread(2)`.
private func systemPRead(_ fd: Int32, _ p: UnsafeMutableRawPointer, _ n: Int, _ offset: Int) -> Int {
    #if canImport(Glibc)
    return Glibc.pread(fd, p, n, off_t(offset))
    #else
    return Darwin.pread(fd, p, n, off_t(offset))
    #endif
}

/// `write(2)`, named apart from `FileBytes.write`.
private func systemWrite(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int) -> Int {
    #if canImport(Glibc)
    return Glibc.write(fd, p, n)
    #else
    return Darwin.write(fd, p, n)
    #endif
}
