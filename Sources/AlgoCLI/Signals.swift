import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Ctrl-C during a training run: the first SIGINT calls `onFirst` (ask the run to stop at the next
/// step boundary), a second one exits at once with 130. SIGINT is ignored by the process while the
/// handler is installed and delivered through a DispatchSource on a global queue, so `onFirst`
/// runs outside signal context while the evaluating thread keeps going.
final class InterruptHandler: @unchecked Sendable {
    private let source: DispatchSourceSignal
    private let lock = NSLock()
    private var count = 0

    init(onFirst: @escaping @Sendable () -> Void) {
        signal(SIGINT, SIG_IGN)
        source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        source.setEventHandler { [unowned self] in
            self.lock.lock()
            self.count += max(1, Int(self.source.data))
            let n = self.count
            self.lock.unlock()
            if n == 1 { onFirst() } else { _exit(ExitCode.interrupted.rawValue) }
        }
        source.resume()
    }

    /// Removes the handler; SIGINT terminates the process again.
    func cancel() {
        source.cancel()
        signal(SIGINT, SIG_DFL)
    }
}
