import Dispatch
import Foundation
import AlgoEval
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Signals that end the `algo` process (installed by `CLI.main`, never in tests): SIGINT, SIGTERM
/// and SIGHUP are ignored by the process and delivered through DispatchSources on a global queue
/// (SIGHUP only when it was not ignored at start, as under `nohup`).
/// SIGTERM and SIGHUP remove the temporary file of an atomic write in progress (`TemporaryFiles`)
/// and end the process by the same signal; Ctrl-C does the same cleanup, says so on stderr and
/// exits 130, unless an `InterruptHandler` (a training run) takes it.
final class TerminationSignals: @unchecked Sendable {
    static let shared = TerminationSignals()
    private let lock = NSLock()
    private var sources: [DispatchSourceSignal] = []
    private var interrupt: (@Sendable () -> Void)?
    private var note: (@Sendable () -> String)?

    func install() {
        lock.lock(); defer { lock.unlock() }
        guard sources.isEmpty else { return }
        for sig in [SIGINT, SIGTERM, SIGHUP] {
            let previous = signal(sig, SIG_IGN)
            // SIGHUP ignored when the process started (`nohup`) stays ignored.
            if sig == SIGHUP, unsafeBitCast(previous, to: Int.self) == unsafeBitCast(SIG_IGN, to: Int.self) { continue }
            let s = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            s.setEventHandler { [unowned self] in self.received(sig) }
            s.resume()
            sources.append(s)
        }
    }

    /// Whether `install` ran (the real process).
    var installed: Bool { lock.lock(); defer { lock.unlock() }; return !sources.isEmpty }

    /// Routes Ctrl-C to `handler` (nil: back to ending the process).
    func setInterrupt(_ handler: (@Sendable () -> Void)?) { lock.lock(); interrupt = handler; lock.unlock() }

    /// What SIGTERM or SIGHUP says before ending the process (an experiment: what is on disk).
    func setNote(_ text: (@Sendable () -> String)?) { lock.lock(); note = text; lock.unlock() }

    private func received(_ sig: Int32) {
        lock.lock(); let handler = interrupt, note = note; lock.unlock()
        if sig == SIGINT, let handler { handler(); return }
        if sig != SIGINT, let note { OutputStreams.progress("\nalgo: terminated by \(sig == SIGTERM ? "SIGTERM" : "SIGHUP"); \(note())\n") }
        Self.exit(by: sig)
    }

    /// Removes temporary files and ends the process: 130 with a message for Ctrl-C, else by `sig`.
    static func exit(by sig: Int32) -> Never {
        TemporaryFiles.removeAll()
        if sig == SIGINT {
            OutputStreams.progress("\nalgo: interrupted (Ctrl-C)\n")
            _exit(ExitCode.interrupted.rawValue)
        }
        // Die by the signal itself (the parent sees SIGTERM, as from any program): default action,
        // unblocked on this thread (Dispatch blocks the signals it delivers), then raised.
        signal(sig, SIG_DFL)
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, sig)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
        raise(sig)
        _exit(128 + sig)
    }
}

/// Ctrl-C during a training run: the first SIGINT calls `onFirst` (ask the run to stop at the next
/// step boundary), a second one exits at once with 130 (removing a checkpoint's temporary file).
/// `onFirst` runs on a global queue, outside signal context, while the evaluating thread keeps going.
final class InterruptHandler: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0

    init(onFirst: @escaping @Sendable () -> Void) {
        TerminationSignals.shared.install()
        TerminationSignals.shared.setInterrupt { [self] in
            self.lock.lock()
            self.count += 1
            let n = self.count
            self.lock.unlock()
            if n == 1 { onFirst() } else { TerminationSignals.exit(by: SIGINT) }
        }
    }

    /// Removes the handler; Ctrl-C ends the process again.
    func cancel() { TerminationSignals.shared.setInterrupt(nil) }
}
