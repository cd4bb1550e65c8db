@testable import AlgoKernels

/// A suite that sets `Parallel.threads` (a global; such suites are `.serialized`).
protocol SetsThreads {}

extension SetsThreads {
    /// Runs `body` on `threads` threads, then restores the setting. The pool's adaptation to other
    /// processes is off meanwhile, so that a split asked for is a split made even while a build keeps
    /// the other core busy (results never depend on it; what is tested is the split).
    func with<T>(threads: Int, _ body: () -> T) -> T {
        let saved = (Parallel.threads, Parallel.adapts)
        Parallel.threads = threads
        Parallel.adapts = false
        defer { (Parallel.threads, Parallel.adapts) = saved }
        return body()
    }
}
