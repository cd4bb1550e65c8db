import Foundation
#if arch(x86_64)
import AlgoKernelsAVX512
#endif

/// The machine's measured FMA throughput: the ceiling that GEMM speeds are quoted against.
public enum Peak {
    /// Whether the kernels were compiled with optimisation. In a debug build (`-Onone`) SIMD code
    /// runs through unspecialised generic calls and every speed measured is meaningless.
    public static let isOptimizedBuild: Bool = {
        #if DEBUG
        return false
        #else
        return true
        #endif
    }()

    /// Runs `iterations` rounds of 12 independent `SIMD8<Float>` fused multiply-adds (12 chains
    /// cover the 4-cycle latency of two FMA pipes with room to spare) and returns a value that
    /// depends on all of them, so that nothing is optimised away. 192 flops per round.
    @inline(never)
    public static func fmaLoop(iterations: Int, x: Float, y: Float) -> Float {
        fmaChains(SIMD8<Float>.self, iterations: iterations, x: x, y: y)
    }

    /// `fmaLoop` on `unit`'s vectors: 12 chains of `SIMD8<Float>` (192 flops per round) or, for
    /// `bits512`, of `SIMD16<Float>` (384), compiled in AlgoKernelsAVX512. Returns the flops per round.
    static func fmaRounds(_ unit: VectorUnit, _ iterations: Int) -> (Float, Double) {
        switch unit {
        case .bits256: return (fmaLoop(iterations: iterations, x: 1e-7, y: 1e-7), 192)
        case .bits512:
            #if arch(x86_64)
            return (Peak512.fmaLoop(iterations: iterations, x: 1e-7, y: 1e-7), 384)
            #else
            return (fmaLoop(iterations: iterations, x: 1e-7, y: 1e-7), 192)
            #endif
        }
    }

    /// Peak GFLOP/s with `threads` threads each running `fmaLoop` (via `Parallel.forEach`, which
    /// this sets to `threads` and restores): the median of `repeats` runs of about `seconds` each.
    public static func gflops(threads: Int, unit: VectorUnit = .widest, seconds: Double = 0.2, repeats: Int = 3) -> Double {
        let runs = samples(threads: threads, unit: unit, seconds: seconds, count: repeats).sorted()
        return runs[runs.count / 2]
    }

    /// How long one timed burst of FMA chains lasts: about as long as one timed GEMM of `algo bench
    /// gemm` (milliseconds), so that on a shared machine the peak and the speeds quoted against it
    /// are timed at the same granularity. (Timed over whole 0.2 s runs, the peak came out at half
    /// of what GEMM reached on a machine with 5 processes per core: every long run shared its core,
    /// while most short ones ran alone.)
    public static let burstSeconds = 0.002

    /// `count` measurements of the FMA throughput in GFLOP/s of `unit` (default: the widest the
    /// processor has, the ceiling every speed is quoted against) with `threads` threads. Each is
    /// the median of the bursts (`burstSeconds`, every thread running the FMA chains; the wall time
    /// of the slowest counts) run during about `seconds`. A unit the processor lacks is measured
    /// as the widest it has.
    public static func samples(threads: Int, unit: VectorUnit = .widest, seconds: Double = 0.2, count: Int = 5) -> [Double] {
        let unit = VectorUnit.available.contains(unit) ? unit : .widest
        let saved = Parallel.threads, adapts = Parallel.adapts
        let threads = max(1, threads)
        Parallel.threads = threads
        Parallel.adapts = false   // the peak of `threads` threads, whatever else runs (a busy machine shows as a lower peak)
        defer { Parallel.threads = saved; Parallel.adapts = adapts }
        // Calibrate on one thread: rounds for about `burstSeconds` (the fastest of a few tries).
        var rounds = 1 << 12
        while Stopwatch.seconds({ _ = fmaRounds(unit, rounds) }) < 0.0005 { rounds *= 2 }
        let fastest = (0..<5).map { _ in Stopwatch.seconds { _ = fmaRounds(unit, rounds) } }.min()!
        rounds = max(1, Int(Double(rounds) * burstSeconds / fastest))
        let flopsPerRound = fmaRounds(unit, 1).1
        let sink = UnsafeMutablePointer<Float>.allocate(capacity: threads)
        defer { sink.deallocate() }
        return (0..<max(1, count)).map { _ in
            var rates: [Double] = []
            let start = Stopwatch.now()
            while rates.count < 3 || Stopwatch.now() - start < seconds {
                let t = Stopwatch.seconds {
                    Parallel.forEach(threads) { i in sink[i] = fmaRounds(unit, rounds).0 }
                }
                rates.append(Double(threads) * Double(rounds) * flopsPerRound / t / 1e9)
            }
            return rates.sorted()[rates.count / 2]
        }
    }
}

/// Wall-clock timing for benchmarks.
public enum Stopwatch {
    /// Seconds since an arbitrary fixed point (monotonic).
    public static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    /// Seconds `body` takes.
    public static func seconds(_ body: () -> Void) -> Double {
        let t0 = now()
        body()
        return now() - t0
    }
}
