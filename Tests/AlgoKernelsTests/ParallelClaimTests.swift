import Foundation
import Testing
@testable import AlgoKernels

/// Which end of a job each thread claims from (`WorkerPool.claim(fromBack:)`, `GEMM.Progress`): the
/// caller from the front, the first helper from the back, so that on two threads each keeps to one
/// end of every job. Which thread runs an item never changes a result; these check that the items
/// are still each run once and that the ends are as documented.
@Suite(.serialized) struct ParallelClaimTests: SetsThreads {
    /// On 2 threads the caller's items are a prefix of the job and the helper's the rest, whatever
    /// the timing (when the helper is late or busy the caller runs all of them).
    @Test func callerTakesTheFrontHelperTheBack() {
        let count = 16
        let owners = UnsafeMutablePointer<pthread_t>.allocate(capacity: count)
        let runs = UnsafeMutablePointer<Int>.allocate(capacity: count)
        defer { owners.deallocate(); runs.deallocate() }
        for round in 0..<20 {
            runs.initialize(repeating: 0, count: count)
            let caller = pthread_self()
            with(threads: 2) {
                Parallel.forEach(count) { i in
                    owners[i] = pthread_self()
                    runs[i] += 1
                    usleep(200)
                }
            }
            #expect((0..<count).allSatisfy { runs[$0] == 1 }, "round \(round)")
            let mine = (0..<count).filter { pthread_equal(owners[$0], caller) != 0 }
            #expect(mine == Array(0..<mine.count), "round \(round): the caller ran \(mine), not a prefix")
        }
    }

    /// `GEMM.Progress` hands out each part once, from the front or the back: claimed alternately
    /// from one thread (in the order documented), and from both ends by two threads at once.
    @Test func gemmPartsAreClaimedOnceFromEitherEnd() {
        let progress = GEMM.Progress()
        var got: [Int] = []
        for i in 0..<7 { if let p = progress.claim(of: 7, fromBack: i % 2 == 1) { got.append(p) } }
        #expect(got == [0, 6, 1, 5, 2, 4, 3])
        #expect(progress.claim(of: 7, fromBack: false) == nil && progress.claim(of: 7, fromBack: true) == nil)

        for count in [1, 2, 9, 1000] {
            let shared = GEMM.Progress()
            let hits = UnsafeMutablePointer<Int>.allocate(capacity: count)
            hits.initialize(repeating: 0, count: count)
            defer { hits.deallocate() }
            with(threads: 2) {
                Parallel.forEach(2) { slot in
                    while let p = shared.claim(of: count, fromBack: slot == 1) { hits[p] += 1 }
                }
            }
            #expect((0..<count).allSatisfy { hits[$0] == 1 }, "count \(count)")
        }
    }
}
