import Foundation
import Synchronization

/// How many threads kernels may use, and a parallel loop over independent work items run by a
/// small persistent pool of worker threads (plus the calling thread).
public enum Parallel {
    /// Threads for kernels (≥ 1); 1 = everything on the calling thread. Set from `--threads` /
    /// `ALGO_THREADS`. Read at the start of each `forEach`; set it between kernel calls, not during.
    nonisolated(unsafe) public static var threads: Int = 2

    /// Runs `body(i)` exactly once for each i in 0..<count, on up to `threads` threads (the caller
    /// is one of them), and returns when all have finished. Items are handed out dynamically, so
    /// which thread runs which item is unspecified. Iterations must be independent and must not
    /// wait for each other (no barriers inside). A `forEach` called from inside another one (or
    /// while another thread's `forEach` holds the pool) runs serially on its calling thread.
    public static func forEach(_ count: Int, _ body: (Int) -> Void) {
        let helpers = min(threads, count) - 1
        if helpers <= 0 || !WorkerPool.shared.tryAcquire() {
            for i in 0..<count { body(i) }
            return
        }
        // Iterations are independent by contract, so sharing `body` across threads is safe; the
        // pool drops every reference to it before `run` returns.
        withoutActuallyEscaping(body) { escapable in
            WorkerPool.shared.run(count: count, helpers: helpers, escapable)
        }
        WorkerPool.shared.release()
    }
}

/// Worker threads that sleep between jobs (after spinning briefly, so back-to-back kernels do not
/// pay a wake-up), claim item indices under a mutex and count completions atomically.
final class WorkerPool: @unchecked Sendable {
    static let shared = WorkerPool()

    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let wake = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    /// Held by the one `forEach` using the pool.
    private let owned = Atomic<Bool>(false)
    /// A copy of `generation`, for spinning workers to watch without the mutex.
    private let published = Atomic<Int>(0)
    /// Items of the current job not finished yet.
    private let remaining = Atomic<Int>(0)

    // Under `mutex`:
    private var generation = 0
    private var body: ((Int) -> Void)?
    private var count = 0
    private var next = 0
    private var helpers = 0
    private var workers = 0

    private init() {
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(wake, nil)
    }

    func tryAcquire() -> Bool {
        owned.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged
    }

    func release() { owned.store(false, ordering: .releasing) }

    /// Runs the job with `helpers` worker threads besides the caller; returns when every item is done.
    func run(count: Int, helpers: Int, _ job: @escaping (Int) -> Void) {
        pthread_mutex_lock(mutex)
        while workers < helpers {
            let id = workers
            workers += 1
            let thread = Thread { [self] in workerLoop(id: id) }
            thread.name = "algo-kernel-\(id + 1)"
            thread.start()
        }
        body = job
        self.count = count
        next = 0
        self.helpers = helpers
        remaining.store(count, ordering: .relaxed)
        generation += 1
        published.store(generation, ordering: .releasing)
        pthread_cond_broadcast(wake)
        pthread_mutex_unlock(mutex)

        while let i = claim() { job(i); remaining.subtract(1, ordering: .releasing) }
        var spins = 0
        while remaining.load(ordering: .acquiring) > 0 {
            spins += 1
            if spins > 1000 { sched_yield() }
        }
        pthread_mutex_lock(mutex)
        body = nil
        pthread_mutex_unlock(mutex)
    }

    /// The next unclaimed item of the current job, if any.
    private func claim() -> Int? {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        if next >= count { return nil }
        next += 1
        return next - 1
    }

    /// A worker: wait for a job (spin, then sleep), take part if it is among the job's helpers.
    private func workerLoop(id: Int) {
        var seen = 0
        while true {
            var spins = 0
            while published.load(ordering: .acquiring) == seen && spins < 200_000 { spins += 1 }
            pthread_mutex_lock(mutex)
            while generation == seen { pthread_cond_wait(wake, mutex) }
            seen = generation
            let joins = id < helpers
            pthread_mutex_unlock(mutex)
            if joins { work() }
        }
    }

    /// Claims and runs items until none is left; the job closure is released before each item
    /// is counted as done, so `run` never returns while a worker still holds it.
    private func work() {
        while true {
            pthread_mutex_lock(mutex)
            if next >= count { pthread_mutex_unlock(mutex); return }
            let i = next
            next += 1
            var job = body
            pthread_mutex_unlock(mutex)
            job!(i)
            job = nil
            remaining.subtract(1, ordering: .releasing)
        }
    }
}
