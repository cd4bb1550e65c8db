import Foundation
import Testing
@testable import AlgoBench

/// The bench's memory probe: the peak can be restarted (Linux), so that `algo bench model`'s
/// baseline can be taken after a warm-up run has paged in the code and given its memory back.
@Suite struct PeakRSSTests {
    /// 256 MB touched and freed raise the peak by about that much; after a restart the peak is the
    /// current resident set again. The margin (half of it) leaves room for what suites running
    /// beside this one hold at the two moments.
    @Test func restartForgetsFreedMemory() {
        let bytes = 256 << 20
        let p = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        memset(p, 1, bytes)
        let during = BenchTiming.peakRSSBytes()
        p.deallocate()
        BenchTiming.trimMalloc()
        #if os(Linux)
        #expect(BenchTiming.restartPeakRSS())
        #expect(BenchTiming.peakRSSBytes() < during - bytes / 2)
        #else
        #expect(!BenchTiming.restartPeakRSS())
        #expect(BenchTiming.peakRSSBytes() >= during)
        #endif
    }
}
