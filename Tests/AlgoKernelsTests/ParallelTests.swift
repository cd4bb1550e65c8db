import Foundation
import Testing
@testable import AlgoKernels

/// Tests that set `Parallel.threads` (a global) run one after another.
@Suite(.serialized) struct ParallelTests: SetsThreads {
    /// C is split by output blocks (along M or along N), never along k, so 1 and 2 threads give
    /// the same bits. Shapes large enough to be split (≥ `GEMM.parallelThreshold` multiply-adds),
    /// none a multiple of the tiles, cut along N (the first two) and along M (N narrow), every transpose.
    @Test(arguments: transposes)
    func oneAndTwoThreadsAreBitIdentical(transA: Bool, transB: Bool) {
        for (m, n, k) in [(300, 290, 70), (140, 330, 61), (961, 33, 70)] {
            #expect(m * n * k >= GEMM.parallelThreshold)
            let t = GEMMCase(transA: transA, transB: transB, m: m, n: n, k: k, beta: 0.5)
            let one = with(threads: 1) { t.fast() }
            let two = with(threads: 2) { t.fast() }
            for threads in [3, 4, 8] {
                let other = with(threads: threads) { t.fast() }
                #expect(one == other, "\(threads) threads: m=\(m) n=\(n) k=\(k)")
            }
            #expect(one == two, "m=\(m) n=\(n) k=\(k)")
            #expect(t.mismatch(two) == nil)
            // Several k-slices and column blocks, B packed or read in place.
            for inPlace in [0, 64] {
                let small = GEMM.Blocking(kc: 16, mc: 32, nc: 12, inPlaceRows: inPlace)
                let oneSmall = with(threads: 1) { t.fast(small) }
                let twoSmall = with(threads: 2) { t.fast(small) }
                #expect(oneSmall == twoSmall, "m=\(m) n=\(n) k=\(k) small blocking, inPlaceRows=\(inPlace)")
                #expect(t.mismatch(twoSmall) == nil)
            }
        }
    }

    /// Products large enough to split (≥ `GEMM.parallelThreshold` multiply-adds) with edge rows:
    /// cut along N (65 rows, the edge in every part, each part's row-kernel windows reaching into
    /// its neighbours' columns) and along M (the edge in the last part only). Every thread count
    /// gives the bits of one thread, and the reference's values.
    @Test(arguments: transposes)
    func edgeRowsAreBitIdenticalOnEveryThreadCount(transA: Bool, transB: Bool) {
        for (m, n, k) in [(65, 260, 130), (257, 101, 90)] {
            #expect(m * n * k >= GEMM.parallelThreshold)
            let t = GEMMCase(transA: transA, transB: transB, m: m, n: n, k: k, beta: 0.5)
            let one = with(threads: 1) { t.fast() }
            for threads in [2, 3] {
                let other = with(threads: threads) { t.fast() }
                #expect(one == other, "\(threads) threads: m=\(m) n=\(n) k=\(k)")
            }
            #expect(t.mismatch(one) == nil)
        }
    }

    /// Products that split, cut both ways (`GEMM.cutsRows` on 2 threads): M < N (along N), M ≥ N
    /// with N narrow (11 panels: along M), M > 4·N (along M), M ≥ N otherwise (along N, so every
    /// part has the edge rows, m mod 16 = 10 and 10). Sizes are not multiples of the 16×6 tiles,
    /// k not of 8.
    /// 1, 2 and 3 threads give the same bits on every vector unit (each entry of C is computed by
    /// the same arithmetic in any part; the 512-bit path cuts at pairs of panels), and the
    /// reference's values within `GEMMCase.mismatch`'s bound (2·(k+3)·2⁻²⁴ times
    /// Σ|alpha·a·b| + |beta·c|: each side rounds at most k + 3 times).
    @Test(arguments: transposes)
    func eitherCutIsBitIdenticalOnEveryThreadCount(transA: Bool, transB: Bool) {
        for (m, n, k, byRows) in [(70, 301, 130, false), (700, 61, 70, true), (450, 100, 60, true), (330, 200, 40, false), (250, 100, 130, false)] {
            #expect(m * n * k >= GEMM.parallelThreshold)
            #expect(GEMM.cutsRows(m: m, n: n, k: k, threads: 2) == byRows, "m=\(m) n=\(n) k=\(k)")
            let t = GEMMCase(transA: transA, transB: transB, m: m, n: n, k: k, beta: 0.5)
            let one = with(threads: 1) { t.fast() }
            for unit in VectorUnit.available {
                for threads in [2, 3] {
                    let other = with(threads: threads) { t.fast(unit: unit) }
                    #expect(one == other, "\(unit.bits)-bit kernels, \(threads) threads: m=\(m) n=\(n) k=\(k)")
                }
            }
            #expect(t.mismatch(one) == nil, "m=\(m) n=\(n) k=\(k)")
        }
    }

    /// The two ways a parallel call can share the operand every part needs, with blockings small
    /// enough to cross k-slices and panel groups: packed once, split between the threads
    /// (`sharedPackingFloats` 0: always), cut along N (A shared) and along M (B shared), with the
    /// pieces both whole k-slices (k = 130: 9 slices of 16) and ranges of panels (k = 26: 2 slices,
    /// fewer than two per thread); and C cut along M with B read in place by every part
    /// (`readsSharedBInPlace`: m = 100, k = 600 > 512, k·n ≤ 2¹⁹; not for a transposed B, which is
    /// then packed once). 2 and 3 threads on every vector unit give the bits of one thread with the
    /// per-thread packing, and the reference's values.
    @Test(arguments: transposes)
    func sharedPackingIsBitIdenticalOnEveryThreadCount(transA: Bool, transB: Bool) {
        for (m, n, k) in [(70, 301, 130), (700, 61, 70), (300, 290, 26), (100, 50, 600)] {
            #expect(m * n * k >= GEMM.parallelThreshold)
            for (kc, mc) in [(16, 32), (384, 144)] {
                let perThread = GEMM.Blocking(kc: kc, mc: mc, nc: 3072, inPlaceRows: 64)
                let shared = GEMM.Blocking(kc: kc, mc: mc, nc: 3072, inPlaceRows: 64, wholeRows: 96,
                                           sharedPackingFloats: 0, readsSharedBInPlace: true)
                let t = GEMMCase(transA: transA, transB: transB, m: m, n: n, k: k, beta: 0.5)
                let one = with(threads: 1) { t.fast(perThread) }
                for unit in VectorUnit.available {
                    for threads in [2, 3] {
                        let other = with(threads: threads) { t.fast(shared, unit: unit) }
                        #expect(one == other, "\(unit.bits)-bit kernels, \(threads) threads, kc=\(kc): m=\(m) n=\(n) k=\(k)")
                    }
                }
                #expect(t.mismatch(one) == nil, "m=\(m) n=\(n) k=\(k)")
            }
        }
    }

    /// `readsSharedBInPlace` on the benchmark's shapes (m, n, k; B not transposed) on 2 threads: B is
    /// read in place by row parts for 384×1536·1536×256 C and the dB = Aᵀ·dC of 1152×384 and 1536×384
    /// with n = 256 (m = 384, k = 1152 or 1536); not for short k (384, 64, 65), more rows (1152, 1536),
    /// a larger B (k·n > 2¹⁹: n = 2048, square 1024), too few rows (m < 64), or a transposed B.
    @Test func readsSharedBInPlaceOnBenchmarkShapes() {
        let inPlace = [(384, 256, 1536), (384, 256, 1152), (64, 256, 1536), (512, 256, 2048)]
        let packed = [(384, 256, 384), (384, 256, 65), (256, 256, 64), (1152, 256, 384), (1536, 256, 384),
                      (384, 2048, 1536), (1024, 1024, 1024), (2304, 1024, 768), (65, 256, 384), (48, 256, 1536),
                      (513, 256, 1536), (384, 512, 1537)]
        for (m, n, k) in inPlace {
            #expect(GEMM.readsSharedBInPlace(m: m, n: n, k: k, transB: false, threads: 2), "m=\(m) n=\(n) k=\(k)")
            #expect(!GEMM.readsSharedBInPlace(m: m, n: n, k: k, transB: true, threads: 2), "transposed: m=\(m) n=\(n) k=\(k)")
        }
        for (m, n, k) in packed { #expect(!GEMM.readsSharedBInPlace(m: m, n: n, k: k, transB: false, threads: 2), "m=\(m) n=\(n) k=\(k)") }
    }

    /// `cutsRows` on the benchmark's shapes (`algo bench gemm`; m, n, k: C is m×n, the sum over k)
    /// on 2 threads, and at the bounds of its rule: along M for narrow N (11 panels), for op(A) more
    /// than 4 times op(B), and for op(A) at least twice op(B) and ≥ 2²⁰ floats; along N otherwise.
    @Test func cutsRowsOnBenchmarkShapes() {
        let alongM = [(256, 64, 256), (1152, 256, 384), (1536, 256, 384), (2304, 1024, 768), (1536, 384, 2048),
                      (50257, 1024, 768), (1537, 384, 100), (2000, 1000, 525)]
        let alongN = [(256, 256, 256), (512, 512, 512), (1024, 1024, 1024), (2048, 2048, 2048), (1152, 384, 256),
                      (1536, 384, 256), (384, 256, 384), (384, 256, 1536), (384, 384, 256), (384, 256, 65), (256, 256, 64),
                      (65, 256, 384), (1536, 2048, 384), (384, 2048, 1536), (2000, 1000, 524)]
        for (m, n, k) in alongM { #expect(GEMM.cutsRows(m: m, n: n, k: k, threads: 2), "m=\(m) n=\(n) k=\(k)") }
        for (m, n, k) in alongN { #expect(!GEMM.cutsRows(m: m, n: n, k: k, threads: 2), "m=\(m) n=\(n) k=\(k)") }
    }

    /// The parts of C that `GEMM.split` hands to threads tile C exactly: contiguous, starting on
    /// tile boundaries, within the cache-block cap, a multiple of the thread count (or one part per
    /// tile when there are fewer tiles), and balanced: tile counts differ by at most one. The tiles
    /// are 16-row or 6-column panels, or pairs of them (`pairs`, for the 512-bit kernels).
    @Test func splitCoversCInBalancedTileAlignedParts() {
        let blocking = GEMM.Blocking.standard
        for threads in [2, 3] {
            for byRows in [true, false] {
                for pairs in [false, true] {
                    let tile = (byRows ? GEMM.mr : GEMM.nr) * (pairs ? 2 : 1), cap = byRows ? blocking.mc : blocking.nc
                    for extent in [1, 5, 16, 17, 65, 100, 256, 384, 1000, 1024, 1536, 2304, 20_000] {
                        let (m, n) = byRows ? (extent, 7) : (7, extent)
                        let parts = GEMM.split(m: m, n: n, byRows: byRows, threads: threads, blocking: blocking, pairs: pairs)
                        let ranges = parts.map { byRows ? $0.rows : $0.cols }
                        let others = parts.map { byRows ? $0.cols : $0.rows }
                        let tiles = (extent + tile - 1) / tile
                        let label = "threads=\(threads) byRows=\(byRows) pairs=\(pairs) extent=\(extent)"
                        #expect(others.allSatisfy { $0 == 0..<7 }, "\(label)")
                        #expect(ranges.first?.lowerBound == 0 && ranges.last?.upperBound == extent, "\(label)")
                        #expect(zip(ranges, ranges.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound }, "\(label)")
                        #expect(ranges.allSatisfy { !$0.isEmpty && $0.lowerBound % tile == 0 && $0.count <= cap }, "\(label)")
                        #expect(parts.count % threads == 0 || parts.count == tiles, "\(label): \(parts.count) parts")
                        let counts = ranges.map { ($0.count + tile - 1) / tile }
                        #expect(counts.max()! - counts.min()! <= 1, "\(label): tiles per part \(counts)")
                    }
                }
            }
        }
    }

    /// Two threads calling `sgemm` at once: one gets the pool, the other runs its call serially
    /// (the pool is busy), so every thread body of that call runs one after another. Both results
    /// must still be complete and bit-identical to one thread's.
    @Test func concurrentCallersGetCompleteResults() {
        let cases = [GEMMCase(transA: false, transB: false, m: 300, n: 90, k: 200, beta: 0),
                     GEMMCase(transA: true, transB: true, m: 50, n: 260, k: 130, beta: 0.5)]
        let expected = with(threads: 1) { cases.map { $0.fast() } }
        // Each thread writes only its own slot; `done.wait()` orders the writes before the reads.
        nonisolated(unsafe) let results = UnsafeMutablePointer<[[Float]]>.allocate(capacity: cases.count)
        results.initialize(repeating: [], count: cases.count)
        defer { results.deinitialize(count: cases.count); results.deallocate() }
        with(threads: 2) {
            let done = DispatchGroup()
            for (i, c) in cases.enumerated() {
                done.enter()
                Thread {
                    results[i] = (0..<20).map { _ in c.fast() }
                    done.leave()
                }.start()
            }
            done.wait()
        }
        for i in cases.indices {
            #expect(results[i].count == 20 && results[i].allSatisfy { $0 == expected[i] }, "case \(i)")
        }
    }

    /// Every index runs exactly once, for counts below, at and above the thread count.
    @Test func everyIndexRunsExactlyOnce() {
        for threads in [1, 2, 3] {
            for count in [0, 1, 2, 3, 17, 1000] {
                let hits = UnsafeMutablePointer<Int>.allocate(capacity: max(count, 1))
                hits.initialize(repeating: 0, count: max(count, 1))
                defer { hits.deallocate() }
                with(threads: threads) { Parallel.forEach(count) { i in hits[i] += 1 } }
                let wrong = (0..<count).filter { hits[$0] != 1 }
                #expect(wrong.isEmpty, "threads=\(threads) count=\(count): indices run ≠ once: \(wrong.prefix(5))")
            }
        }
    }

    /// A `forEach` inside a `forEach` runs serially instead of deadlocking, and still runs everything.
    @Test func nestedForEachRunsEverything() {
        let hits = UnsafeMutablePointer<Int>.allocate(capacity: 64)
        hits.initialize(repeating: 0, count: 64)
        defer { hits.deallocate() }
        with(threads: 2) {
            Parallel.forEach(8) { i in Parallel.forEach(8) { j in hits[i * 8 + j] += 1 } }
        }
        #expect((0..<64).allSatisfy { hits[$0] == 1 })
    }

    /// With 2 threads, long items are shared between two threads (the pool really runs them at once).
    /// Tried up to 50 times: while a test of another suite holds the pool (e.g. a product on 8
    /// threads), `forEach` runs serially on its caller, as documented.
    @Test func workIsShared() {
        let owners = UnsafeMutablePointer<pthread_t>.allocate(capacity: 8)
        defer { owners.deallocate() }
        var distinct = 0
        for _ in 0..<50 where distinct < 2 {   // `with` turns adaptation off: shared even beside a build
            with(threads: 2) {
                Parallel.forEach(8) { i in
                    owners[i] = pthread_self()
                    usleep(2000)
                }
            }
            distinct = Set((0..<8).map { owners[$0] }).count
        }
        #expect(distinct == 2)
    }
}

/// Counts the pieces of a `forRanges` call (from any thread).
final class PieceCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func add() { lock.lock(); count += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return count }
}

/// The pool's adaptation to other processes (`Contention`, `WorkerPool.backingOff`): it changes
/// only how many threads a job gets, never what it computes.
@Suite struct ContentionTests {
    /// `/proc/stat` is read on Linux: the machine's busy seconds since boot are positive and never
    /// decrease, and the free cores lie between 1 and the machine's CPUs.
    @Test func machineTimeAndFreeCores() {
        #if os(Linux)
        let a = Contention.machineBusySeconds(), b = Contention.machineBusySeconds()
        #expect(a != nil && b != nil && a! > 0 && b! >= a!)
        #endif
        for _ in 0..<3 {
            let free = Contention.shared.freeCores()
            #expect(free >= 1 && free <= Contention.cpus)
            usleep(50_000)
        }
    }

    /// A caller that waited for a helper longer than `contendedWait` and than its own work backs
    /// off (jobs run on the caller alone) for `firstBackoff`, then gives helpers work again; a short
    /// wait, or one no longer than the caller's own work, does not.
    @Test func aLongWaitBacksOffForAMoment() {
        let pool = WorkerPool.shared
        pool.noteWait(1e-6, busy: 1e-5)
        #expect(!pool.backingOff())
        pool.noteWait(0.002, busy: 0.01)   // a long job whose helper finished later: not contention
        #expect(!pool.backingOff())
        pool.noteWait(0.003, busy: 1e-5)
        #expect(pool.backingOff())
        usleep(UInt32(WorkerPool.firstBackoff * 1e6) + 20_000)
        #expect(!pool.backingOff())
        pool.noteWait(1e-6, busy: 1e-5)   // back to the first backoff for the other tests
    }
}
