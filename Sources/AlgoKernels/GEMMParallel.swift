// Splitting one SGEMM between threads: by blocks of C, never along k.
import Foundation
import Synchronization

extension GEMM {
    /// Computes `problem` on `threads` threads in one dispatch to the pool. C is cut along M when
    /// M ≥ N (else along N) into parts of whole tiles (`split`). The operand every part needs in
    /// full (B when cutting M, A when cutting N) is packed once: each thread claims packing jobs
    /// until none is left, waits until the jobs the others claimed are done, then claims parts of
    /// C until none is left (claims are atomic counters; a thread slowed by another process simply
    /// takes fewer jobs and parts). No thread ever waits for work nobody has claimed, so this is
    /// correct even when `Parallel.forEach` runs the threads' bodies one after another. Every
    /// element of C is computed by the same arithmetic as on one thread, so the result is
    /// bit-identical for every thread count.
    static func runParallel(_ problem: Problem, m: Int, n: Int, threads: Int) {
        var problem = problem
        let blocking = problem.blocking, k = problem.k
        let byRows = m >= n
        let kc = min(blocking.kc, k)
        let slices = (k + kc - 1) / kc
        let panels: Int
        let shared: UnsafeMutablePointer<Float>
        if byRows {
            problem.nPad = (n + nr - 1) / nr * nr
            shared = Scratch.floats(k * problem.nPad, slot: 1)
            problem.sharedB = UnsafePointer(shared)
            panels = problem.nPad / nr
        } else {
            problem.mPad = (m + mr - 1) / mr * mr
            shared = Scratch.floats(k * problem.mPad, slot: 1)
            problem.sharedA = UnsafePointer(shared)
            panels = problem.mPad / mr
        }
        // Packing jobs of up to 8 panels, smaller when there are few panels (the 65-row shapes
        // have 5), so that every thread gets some: the others wait for the packing to finish.
        let group = max(1, min(8, panels * slices / (4 * threads)))
        let groups = (panels + group - 1) / group
        let packJobs = slices * groups
        let parts = split(m: m, n: n, byRows: byRows, threads: threads, blocking: blocking)
        let progress = Progress()
        let final = problem
        Parallel.forEach(threads) { _ in
            // Pack: job = (k-slice, group of `group` panels), disjoint regions of `shared`.
            while true {
                let job = progress.nextPack.wrappingAdd(1, ordering: .relaxed).oldValue
                if job >= packJobs { break }
                let slice = job / groups, first = job % groups * group, end = min(first + group, panels)
                let pc = slice * kc, depth = min(kc, k - pc)
                if byRows {
                    packB(trans: final.transB, b: final.b, ldb: final.ldb, p0: pc, depth: depth, j0: first * nr,
                          cols: min(end * nr, n) - first * nr, dst: shared + pc * final.nPad + first * nr * depth)
                } else {
                    packA(trans: final.transA, a: final.a, lda: final.lda, i0: first * mr,
                          rows: min(end * mr, m) - first * mr, p0: pc, depth: depth,
                          dst: shared + pc * final.mPad + first * mr * depth)
                }
                progress.packed.wrappingAdd(1, ordering: .releasing)
            }
            // Every job is claimed; the ones still running belong to threads that are running them.
            Parallel.wait { progress.packed.load(ordering: .acquiring) == packJobs }
            while true {
                let p = progress.nextPart.wrappingAdd(1, ordering: .relaxed).oldValue
                if p >= parts.count { break }
                final.run(rows: parts[p].rows, cols: parts[p].cols)
            }
        }
    }

    /// The counters of one parallel call, shared by its threads.
    final class Progress: Sendable {
        /// The next packing job to claim, and how many are finished.
        let nextPack = Atomic<Int>(0), packed = Atomic<Int>(0)
        /// The next part of C to claim.
        let nextPart = Atomic<Int>(0)
    }

    /// How many parts of C per thread `split` aims for at least: a thread that finishes early
    /// idles at most about one part. More parts cost little: cutting M, each part packs only its
    /// own rows of A (as one thread would) and reads the shared B once, as every `mc`-row block does.
    static let partsPerThread = 4

    /// One block of C a thread computes on its own.
    struct Part: Sendable { var rows: Range<Int>; var cols: Range<Int> }

    /// Cuts C along M (parts of whole 16-row panels, at most `mc` rows) or along N (whole 6-column
    /// panels, at most `nc` columns) into a multiple of `threads` parts (at least
    /// `partsPerThread · threads`, fewer only when there are fewer panels) whose panel counts
    /// differ by at most one, so that threads running at the same speed finish together.
    static func split(m: Int, n: Int, byRows: Bool, threads: Int, blocking: Blocking) -> [Part] {
        let (extent, tile, cap) = byRows ? (m, mr, blocking.mc) : (n, nr, blocking.nc)
        let tiles = (extent + tile - 1) / tile
        let capTiles = max(1, cap / tile)
        var count = partsPerThread * threads
        while (tiles + count - 1) / count > capTiles { count += threads }
        count = min(count, tiles)
        return (0..<count).map { p in
            let lo = p * tiles / count * tile, hi = min((p + 1) * tiles / count * tile, extent)
            return byRows ? Part(rows: lo..<hi, cols: 0..<n) : Part(rows: 0..<m, cols: lo..<hi)
        }
    }
}
