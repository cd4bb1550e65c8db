import Foundation
import Synchronization

/// How many threads kernels may use, and a parallel loop over independent work items run by a
/// small persistent pool of worker threads (plus the calling thread).
public enum Parallel {
    /// Threads for kernels (≥ 1); 1 = everything on the calling thread. Default: the cores this
    /// process may use (`availableCores`); `algo` sets it from `--threads` / `ALGO_THREADS`. Read at
    /// the start of each `forEach`; set it between kernel calls, not during. Results do not depend on it.
    nonisolated(unsafe) public static var threads: Int = availableCores

    /// Whether a job gets fewer threads than `threads` while other processes keep cores busy
    /// (`Contention`: only as many threads as free cores) and, for a moment, after the caller waited
    /// for a helper another process had descheduled (`WorkerPool.backingOff`). Results never depend
    /// on it (nor on the thread count); tests that check that work is shared turn it off.
    nonisolated(unsafe) public static var adapts = true

    /// Jobs (`forEach` calls that asked for more than one thread) and, of them, those that adaptation
    /// gave fewer threads than asked, since the process started: benchmarks report them, so that a
    /// figure measured "on 2 threads" says how much of it ran on fewer.
    public static var jobCounts: (jobs: Int, fewerThreads: Int) { (jobs.load(ordering: .relaxed), fewer.load(ordering: .relaxed)) }
    static let jobs = Atomic<Int>(0), fewer = Atomic<Int>(0)

    /// Runs `body(i)` exactly once for each i in 0..<count, on up to `threads` threads (the caller
    /// is one of them), and returns when all have finished. Items are handed out dynamically, so
    /// which thread runs which item is unspecified; but the caller claims them from the front and the
    /// first helper from the back (`WorkerPool`), so on two threads each mostly keeps to its own end
    /// of every job, and the data one job writes is mostly read by the next on the same core. Iterations must be independent and must not
    /// wait for each other (no barriers inside). A `forEach` called from inside another one (or
    /// while another thread's `forEach` holds the pool) runs serially on its calling thread; with
    /// `adapts`, a job gets at most as many threads as the cores other processes leave free, and
    /// none besides the caller while the pool backs off after contention.
    public static func forEach(_ count: Int, _ body: (Int) -> Void) {
        var helpers = min(threads, count) - 1
        if helpers > 0 {
            jobs.add(1, ordering: .relaxed)
            if adapts {
                let asked = helpers
                helpers = WorkerPool.shared.backingOff() ? 0 : min(helpers, Contention.shared.freeCores() - 1)
                if helpers < asked { fewer.add(1, ordering: .relaxed) }
            }
        }
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

extension Parallel {
    /// Work (elements × cost per element) below which `forRanges` stays on the calling thread: about
    /// 30–60 µs of memory-bound element-wise work, many times a hand-off to a spinning helper. It was
    /// 32,768 (10–30 µs); with minibatches run as one call, the tiny model's B = 8 step is made of
    /// ~100 element-wise operations of 32–131 K elements, and on 2 threads it took 12.6 ms against 9.8
    /// on one (2026-12-07, Zen 4, load 12 in an autogroup of its own), so it became 2¹⁸. That was
    /// before a job got only the cores other processes leave free (`adapts`): on a loaded machine the
    /// small jobs now run on the caller anyway. At 2¹⁶ the B = 8 step's layer norms (`FusedLayerNorm`,
    /// 4 passes × 64 rows × 512 columns), GELU and the `[d_mlp, B·ℓ]` additions are split again, the
    /// `[d_e, B·ℓ]` additions (2¹⁵) are not; one sequence's operations (ℓ = 64 columns) stay on one
    /// thread at either value. Chosen from alternating runs of the B = 8 step on 2 threads (23:08 UTC,
    /// load 8, `Tests/Reference/measured/2026-12-07T2324-b8b-before-after.txt`): fastest calls 3.7 ms
    /// at 2¹⁵, 2¹⁶ and 2¹⁷ alike, 4.05 ms at 2¹⁸ (the medians swung too much to rank them).
    public static let minimumSplitWork = 65_536
    /// Runs `body` over contiguous pieces of `0..<count` that together cover it exactly once: on
    /// the calling thread as one piece when `threads` is 1 or `count · cost < minimumSplitWork`,
    /// else as `4 · threads` pieces (at most `count`) handed out by `forEach`. `cost` is the work
    /// per item in elements (a column of 64 floats: 64). The pieces must be independent; code that
    /// computes every item the same way whatever its piece gives results independent of the
    /// thread count.
    @inlinable
    public static func forRanges(_ count: Int, cost: Int = 1, _ body: (Range<Int>) -> Void) {
        let threads = Parallel.threads
        if threads <= 1 || count < 2 || count * cost < minimumSplitWork {
            body(0..<count)
            return
        }
        let pieces = min(count, threads * 4)
        forEach(pieces) { c in
            body(count * c / pieces ..< count * (c + 1) / pieces)
        }
    }

    /// How long `wait` spins before it starts yielding the CPU. A yield hands the CPU to another
    /// runnable process for a whole scheduler slice (a millisecond or more on a loaded machine),
    /// far longer than the waits this is for: another thread finishing its last item of a job.
    static let spinBeforeYield = 100e-6

    /// Returns once `done()` is true: spins for `spinBeforeYield` seconds, then yields the CPU
    /// between checks. For short waits on work another running thread has claimed.
    @inline(__always)
    static func wait(until done: () -> Bool) {
        if done() { return }
        let start = Stopwatch.now()
        var spins = 0
        while !done() {
            spins += 1
            if spins % 64 == 0 && Stopwatch.now() - start > spinBeforeYield { sched_yield() }
        }
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
    /// The unclaimed items of the current job are `next..<end`: the caller and the helpers from the
    /// second on claim `next`, the first helper `end − 1` (`claim(fromBack:)`).
    private var next = 0
    private var end = 0
    private var helpers = 0
    private var workers = 0
    /// Each worker's thread, once it has started (under `mutex`).
    private var threads: [pthread_t?] = []
    /// The CPU each worker was last kept away from (-1: none yet); touched by the caller only.
    private var avoiding: [Int] = []

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
            threads.append(nil)
            avoiding.append(-1)
            let thread = Thread { [self] in workerLoop(id: id) }
            thread.name = "algo-kernel-\(id + 1)"
            thread.start()
        }
        keepHelpersOffCallerCPU(helpers)
        body = job
        self.count = count
        next = 0
        end = count
        self.helpers = helpers
        remaining.store(count, ordering: .relaxed)
        generation += 1
        published.store(generation, ordering: .releasing)
        pthread_cond_broadcast(wake)
        pthread_mutex_unlock(mutex)

        let started = Stopwatch.now()
        while let i = claim() { job(i); remaining.subtract(1, ordering: .releasing) }
        let finished = Stopwatch.now()
        Parallel.wait { remaining.load(ordering: .acquiring) == 0 }
        noteWait(Stopwatch.now() - finished, busy: finished - started)
        pthread_mutex_lock(mutex)
        body = nil
        pthread_mutex_unlock(mutex)
    }

    // MARK: Contention

    /// A wait for the helpers at the end of a job longer than this (and than the caller's own work
    /// in the job) means a helper was not running: another process had its core. A helper that is
    /// running finishes its last item within about one item's time of the caller, and an item
    /// takes at most about what the caller's own share took.
    static let contendedWait = 250e-6
    /// How long `forEach` runs serially after a contended job: `firstBackoff`, doubled after each
    /// contended job that follows a backoff, at most `lastBackoff`; back to the first after a job
    /// without contention. While it runs serially no job is published, so the helpers go to sleep
    /// and leave their cores to the other processes.
    static let firstBackoff = 0.005, lastBackoff = 0.2

    /// `Stopwatch.now()` before which `forEach` runs serially (bit pattern of a Double; 0: none).
    private let serialUntil = Atomic<UInt64>(0)
    /// The next backoff's length (under `mutex`).
    private var backoff = WorkerPool.firstBackoff

    /// Whether jobs run serially for now, after contention.
    func backingOff() -> Bool {
        let until = serialUntil.load(ordering: .relaxed)
        return until != 0 && Stopwatch.now() < Double(bitPattern: until)
    }

    /// Records how long the caller waited for the helpers after its own `busy` seconds of work.
    /// On a machine where every helper had a core the wait is a fraction of an item; when another
    /// process held a helper's core, the caller waited a scheduler slice (milliseconds) for work it
    /// could have done itself, and two threads were slower than one (measured on the tiny model's
    /// B = 8 training step under load 2–6 from other builds: 20.2 ms on 2 threads, 10.0 on 1).
    func noteWait(_ wait: Double, busy: Double) {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        if wait > Self.contendedWait && wait > busy {
            serialUntil.store((Stopwatch.now() + backoff).bitPattern, ordering: .relaxed)
            backoff = min(Self.lastBackoff, backoff * 2)
        } else {
            backoff = Self.firstBackoff
        }
    }

    /// An unclaimed item of the current job, if any: the first, or with `fromBack` the last.
    ///
    /// Why two ends: consecutive jobs of a step split the same columns the same way (a GEMM cut along
    /// N, then an element-wise pass, a layer norm, the next product over those columns), and data a
    /// core wrote is read fastest by that core (on another it crosses between the caches, line by
    /// line). Claimed from one counter the items alternated between the threads, so about half of
    /// every job read what the other core had written; from the two ends, on two threads the caller
    /// runs the first items and the helper the last ones in every job, as a static split would, and a
    /// thread that falls behind still takes fewer. Which thread runs an item never changes its result.
    /// What prompted it (`perf`, tiny B = 8 step on 2 threads): the layer norm's backward took 5 times
    /// the CPU time it takes on one thread, the element-wise additions 2.3 times, GEMM's packing 2.3–2.8
    /// times. With the two ends the step got faster (`Sources/AlgoKernels/README.md`, "Small steps on
    /// two threads", measured with the other changes there), but those ratios stayed: buffers from the
    /// pool and operands written by a product cut another way still cross between the caches.
    private func claim(fromBack: Bool = false) -> Int? {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        if next >= end { return nil }
        if fromBack { end -= 1; return end }
        next += 1
        return next - 1
    }

    /// How long an idle worker watches for the next job before it sleeps. Waking a sleeping
    /// thread costs tens of microseconds, so kernels called back to back find their helpers awake.
    static let spinSeconds = 0.002

    /// A worker: wait for a job (spin, then sleep), take part if it is among the job's helpers.
    private func workerLoop(id: Int) {
        pthread_mutex_lock(mutex)
        threads[id] = pthread_self()
        pthread_mutex_unlock(mutex)
        var seen = 0
        while true {
            let deadline = Stopwatch.now() + Self.spinSeconds
            spin: while published.load(ordering: .acquiring) == seen {
                for _ in 0..<256 where published.load(ordering: .relaxed) != seen { break spin }
                if Stopwatch.now() > deadline { break }
            }
            pthread_mutex_lock(mutex)
            while generation == seen { pthread_cond_wait(wake, mutex) }
            seen = generation
            let joins = id < helpers
            pthread_mutex_unlock(mutex)
            if joins { work(generation: seen, fromBack: id == 0) }
        }
    }

    /// Keeps the job's helpers off the CPU the caller runs on (under `mutex`). Without it the
    /// scheduler may wake a helper onto the caller's CPU, where it waits for the busy caller
    /// (measured: whole jobs ran serially); an affinity change moves it at once. A system call
    /// only when the caller has moved since the last job. Linux only; best effort.
    private func keepHelpersOffCallerCPU(_ helpers: Int) {
        #if os(Linux)
        guard let affinity = Affinity.functions, Affinity.cpus > 1 else { return }
        let cpu = Int(affinity.getCPU())
        guard cpu >= 0 else { return }
        for id in 0..<helpers where avoiding[id] != cpu {
            guard let thread = threads[id] else { continue }
            var mask = [UInt64](repeating: 0, count: 16)  // 1024 CPUs: glibc's cpu_set_t
            for other in 0..<min(Affinity.cpus, 1024) where other != cpu { mask[other / 64] |= 1 << UInt64(other % 64) }
            if mask.withUnsafeBytes({ affinity.set(thread, $0.count, $0.baseAddress!) }) == 0 { avoiding[id] = cpu }
        }
        #endif
    }

    /// Claims and runs items of job number `joined` until none is left (a later job is joined
    /// only through `workerLoop`, which checks that this worker is among its helpers). The job
    /// closure is released before each item is counted as done, so `run` never returns while a
    /// worker still holds it.
    private func work(generation joined: Int, fromBack: Bool) {
        while true {
            pthread_mutex_lock(mutex)
            if generation != joined || next >= end { pthread_mutex_unlock(mutex); return }
            let i: Int
            if fromBack { end -= 1; i = end } else { i = next; next += 1 }
            var item = body
            pthread_mutex_unlock(mutex)
            item!(i)
            item = nil
            remaining.subtract(1, ordering: .releasing)
        }
    }
}

#if os(Linux)
/// glibc's `sched_getcpu` and `pthread_setaffinity_np`, which Swift does not import (they need
/// `_GNU_SOURCE`), looked up once.
enum Affinity {
    typealias GetCPU = @convention(c) () -> Int32
    typealias SetAffinity = @convention(c) (pthread_t, Int, UnsafeRawPointer) -> Int32
    static let functions: (getCPU: GetCPU, set: SetAffinity)? = {
        let all = UnsafeMutableRawPointer(bitPattern: 0)
        guard let get = dlsym(all, "sched_getcpu"), let set = dlsym(all, "pthread_setaffinity_np") else { return nil }
        return (unsafeBitCast(get, to: GetCPU.self), unsafeBitCast(set, to: SetAffinity.self))
    }()
    static let cpus = sysconf(Int32(_SC_NPROCESSORS_ONLN))
}
#endif
