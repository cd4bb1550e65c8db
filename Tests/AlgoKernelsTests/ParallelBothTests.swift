import Testing
import Synchronization
@testable import AlgoKernels

/// `Parallel.both`: each piece (and the optional one `between`) runs exactly once, with `threadsHere` = 1 inside it (its kernels do
/// not split themselves), on two threads as on one; a `both` inside a piece runs serially.
@Suite(.serialized) struct ParallelBothTests: SetsThreads {
    @Test func eachPieceOnceOnOneThreadEach() {
        for threads in [1, 2, 3] {
            let runs = Atomic<Int>(0), insideSplit = Atomic<Int>(0)
            with(threads: threads) {
                for _ in 0..<20 {
                    Parallel.both({
                        runs.add(1, ordering: .relaxed)
                        if Parallel.threadsHere != 1 { insideSplit.add(1, ordering: .relaxed) }
                    }, between: {
                        runs.add(1_000, ordering: .relaxed)
                        if Parallel.threadsHere != 1 { insideSplit.add(1, ordering: .relaxed) }
                    }, {
                        runs.add(100_000, ordering: .relaxed)
                        if Parallel.threadsHere != 1 { insideSplit.add(1, ordering: .relaxed) }
                        Parallel.both({ runs.add(10_000_000, ordering: .relaxed) }, { runs.add(10_000_000, ordering: .relaxed) })
                    })
                }
                #expect(Parallel.threadsHere == threads, "outside both, \(threads) threads")
            }
            #expect(runs.load(ordering: .relaxed) == 20 * (1 + 1_000 + 100_000 + 20_000_000), "\(threads) threads")
            // On one thread `both` runs the pieces as they are (threadsHere is then 1 anyway).
            #expect(insideSplit.load(ordering: .relaxed) == 0, "\(threads) threads")
        }
    }

    /// A GEMM inside a piece gives the bits of the GEMM on its own (it runs on one thread there).
    @Test func gemmInsideAPieceIsUnchanged() {
        let m = 128, n = 256, k = 64
        let a = (0..<(m * k)).map { Float(($0 * 7919) % 23) / 11 - 1 }, b = (0..<(k * n)).map { Float(($0 * 104_729) % 31) / 15 - 1 }
        func product() -> [Float] {
            var c = [Float](repeating: 0, count: m * n)
            GEMM.sgemm(transA: false, transB: false, m: m, n: n, k: k, alpha: 1, a: a, lda: m, b: b, ldb: k, beta: 0, c: &c, ldc: m)
            return c
        }
        let alone = with(threads: 2) { product() }
        var first: [Float] = [], second: [Float] = []
        with(threads: 2) { Parallel.both({ first = product() }, { second = product() }) }
        #expect(first.map(\.bitPattern) == alone.map(\.bitPattern))
        #expect(second.map(\.bitPattern) == alone.map(\.bitPattern))
    }
}
