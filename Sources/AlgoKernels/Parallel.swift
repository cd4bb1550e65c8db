import Dispatch

/// How many threads kernels may use, and a parallel loop over independent work items.
/// (Skeleton: `concurrentPerform`; to be replaced by a persistent pool.)
public enum Parallel {
    /// Threads for kernels; 1 = everything on the calling thread. Set from `--threads` / `ALGO_THREADS`.
    nonisolated(unsafe) public static var threads: Int = 2

    /// Runs `body(i)` for i in 0..<count, split over `threads`. Iterations must be independent
    /// and must not wait for each other (no barriers inside).
    public static func forEach(_ count: Int, _ body: (Int) -> Void) {
        if threads <= 1 || count <= 1 {
            for i in 0..<count { body(i) }
        } else {
            // Iterations are independent by contract, so sharing `body` across threads is safe.
            withoutActuallyEscaping(body) { escapable in
                nonisolated(unsafe) let shared = escapable
                DispatchQueue.concurrentPerform(iterations: count) { i in shared(i) }
            }
        }
    }
}
