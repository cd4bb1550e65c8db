import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The temporary files `AtomicFile` is writing right now, so that a process stopped by a signal
/// (SIGTERM, SIGHUP, Ctrl-C; `algo`'s `TerminationSignals`) removes them before it exits.
public enum TemporaryFiles {
    nonisolated(unsafe) private static var paths: Set<String> = []
    private static let lock = NSLock()

    static func register(_ path: String) { lock.lock(); paths.insert(path); lock.unlock() }
    static func unregister(_ path: String) { lock.lock(); paths.remove(path); lock.unlock() }

    /// The files being written now (for tests).
    public static var current: Set<String> { lock.lock(); defer { lock.unlock() }; return paths }

    /// Unlinks every registered temporary file (the process is about to exit).
    public static func removeAll() {
        lock.lock()
        for p in paths { unlink(p) }
        paths.removeAll()
        lock.unlock()
    }
}
