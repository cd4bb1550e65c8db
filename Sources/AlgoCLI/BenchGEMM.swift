import AlgoKernels
import Foundation

/// The work of `algo bench gemm|peak`: shapes, checks, timings, and their rendering.
struct Bench {
    let threads: [Int]
    let quick: Bool
    let large: Bool
    let json: Bool

    /// One GEMM to time: C[m×n] = op(A)[m×k] · op(B)[k×n].
    struct Shape {
        let label: String
        let m: Int, k: Int, n: Int
        let transA: Bool, transB: Bool
        var multiplyAdds: Int { m * n * k }
    }

    /// Every shape of the run, in the order printed.
    var shapes: [Shape] {
        var s: [Shape] = []
        for size in quick ? [256, 512, 1024] : [256, 512, 1024, 2048] {
            s.append(Shape(label: "square \(size)", m: size, k: size, n: size, transA: false, transB: false))
        }
        // The small model's products on one sequence (ℓ = 256), then the MLP's on a minibatch of 8
        // (B·ℓ = 2048 columns; their dA and dB are the weight gradients, summed over 2048).
        let transformer = [(1152, 384, 256), (384, 384, 256), (1536, 384, 256), (384, 1536, 256),
                           (65, 384, 256), (256, 64, 256), (64, 256, 256), (1536, 384, 2048), (384, 1536, 2048)]
        for (m, k, n) in transformer {
            let name = "\(m)×\(k)·\(k)×\(n)"
            s.append(Shape(label: "\(name) C=A·B", m: m, k: k, n: n, transA: false, transB: false))
            s.append(Shape(label: "\(name) dA=dC·Bᵀ", m: m, k: n, n: k, transA: false, transB: true))
            s.append(Shape(label: "\(name) dB=Aᵀ·dC", m: k, k: m, n: n, transA: true, transB: false))
        }
        if !quick { s.append(Shape(label: "GPT-2 2304×768·768×1024", m: 2304, k: 768, n: 1024, transA: false, transB: false)) }
        if large { s.append(Shape(label: "GPT-2 50257×768·768×1024", m: 50257, k: 768, n: 1024, transA: false, transB: false)) }
        return s
    }

    /// FMA peak samples (GFLOP/s) for each thread count: 5 runs of 0.2 s (0.1 s with --quick).
    static func peakSamples(_ counts: [Int], quick: Bool) -> [Int: [Double]] {
        var samples: [Int: [Double]] = [:]
        for t in counts { samples[t] = Peak.samples(threads: t, seconds: quick ? 0.1 : 0.2, count: 5) }
        return samples
    }

    func peakSamples() -> [Int: [Double]] { Self.peakSamples(threads, quick: quick) }

    /// `algo bench peak`: the FMA peak of every vector unit the processor has, widest first (the
    /// one every %peak is against), for each thread count.
    func peak(_ output: inout Output) -> ExitCode {
        for unit in VectorUnit.available.reversed() {
            let widest = unit == .widest
            if !json { output.out("\(unit.name)\(widest ? ", the widest unit (every %peak is against it)" : ""), GEMM \(unit == GEMM.unit ? "uses it" : "does not use it"):") }
            for t in threads {
                let samples = Peak.samples(threads: t, unit: unit, seconds: quick ? 0.1 : 0.2, count: 5)
                let p = median(samples), best = samples.max()!
                if json {
                    output.out("{\"kind\":\"peak\",\"bits\":\(unit.bits),\"unit\":\"\(unit.name)\",\"widest\":\(widest),\"gemm\":\(unit == GEMM.unit),"
                        + "\"threads\":\(t),\"peak_gflops\":\(fmt(p, 2)),\"best_gflops\":\(fmt(best, 2))}")
                } else {
                    output.out("  FMA peak, \(t) thread\(t == 1 ? "" : "s"): \(fmt(p, 1)) GFLOP/s (\(fmt(p / Double(t), 1)) per thread; median of 5, best \(fmt(best, 1)))")
                }
            }
        }
        return .ok
    }

    /// One shape's timings: median and best seconds per thread count.
    struct Timing { var median: [Int: Double] = [:]; var best: [Int: Double] = [:]; var repeats = 0 }

    func gemm(_ output: inout Output) -> ExitCode {
        var samples = peakSamples()
        var failed = false
        var measured: [(Shape, Timing)] = []
        for shape in shapes {
            let operands = Operands(shape)
            defer { operands.free() }
            Parallel.threads = threads.max()!
            if let problem = operands.check() {
                output.err("algo bench: error: \(shape.label): fast GEMM disagrees with the reference: \(problem)")
                failed = true
                continue
            }
            measured.append((shape, time(operands)))
            // The same product on every thread count must give the same bits.
            Parallel.threads = threads[0]
            operands.fast()
            let first = operands.resultCopy()
            for t in threads.dropFirst() {
                Parallel.threads = t
                operands.fast()
                if operands.resultCopy() != first {
                    output.err("algo bench: error: \(shape.label): \(t) threads give a different result from \(threads[0])")
                    failed = true
                }
            }
        }
        // The peak again at the end: the machine may be shared, so the ceiling is the median of
        // samples from both ends of the run.
        for (t, more) in peakSamples() { samples[t]! += more }
        let peaks = samples.mapValues(median), bestPeaks = samples.mapValues { $0.max()! }
        if !json {
            output.out("GEMM on \(GEMM.unit.name); FMA peak of the widest unit, \(VectorUnit.widest.name), median (best) of 10 samples at the start and end of the run: "
                + threads.map { "\($0) thread\($0 == 1 ? "" : "s") \(fmt(peaks[$0]!, 1)) (\(fmt(bestPeaks[$0]!, 1))) GFLOP/s" }.joined(separator: ", "))
            output.out("%peak: median GEMM speed / median peak; (best): fastest GEMM run / best peak sample")
            var header = "shape".padding(toLength: 30, withPad: " ", startingAt: 0) + "    M     K     N"
            for t in threads { header += "  \(t)T GFLOP/s %peak (best)" }
            output.out(header)
        }
        for (shape, timing) in measured {
            var row = shape.label.padding(toLength: 30, withPad: " ", startingAt: 0)
                + String(format: "%5d %5d %5d", shape.m, shape.k, shape.n)
            for t in threads {
                let flops = 2 * Double(shape.multiplyAdds)
                let gflops = flops / timing.median[t]! / 1e9, best = flops / timing.best[t]! / 1e9
                let peak = peaks[t]!, bestPeak = bestPeaks[t]!
                if json {
                    output.out("{\"kind\":\"gemm\",\"shape\":\"\(shape.label)\",\"m\":\(shape.m),\"k\":\(shape.k),\"n\":\(shape.n),"
                        + "\"transA\":\(shape.transA),\"transB\":\(shape.transB),\"threads\":\(t),"
                        + "\"gflops\":\(fmt(gflops, 2)),\"peak_gflops\":\(fmt(peak, 2)),\"peak_fraction\":\(fmt(gflops / peak, 4)),"
                        + "\"best_gflops\":\(fmt(best, 2)),\"best_peak_gflops\":\(fmt(bestPeak, 2)),\"best_fraction\":\(fmt(best / bestPeak, 4)),"
                        + "\"seconds\":\(String(format: "%.6f", timing.median[t]!)),\"repeats\":\(timing.repeats)}")
                }
                row += String(format: "  %10.1f  %3.0f%% (%3.0f%%)", gflops, 100 * gflops / peak, 100 * best / bestPeak)
            }
            if !json { output.out(row) }
        }
        if !causalLines(peaks: peaks, &output) { failed = true }
        return failed ? .diagnostics : .ok
    }

    /// Times one product on every thread count: a warm-up on each, then rounds that run it once
    /// on each thread count in turn (so that a noisy moment hits all alike), for about 1 s in all
    /// (0.15 s with --quick), at least 7 and at most 200 rounds. At least 7: the minibatch products
    /// take 25–30 ms a call, so --quick's budget gave them 3 rounds, and the median of 3 moved 10–20
    /// points of the peak with one preemption on a shared host (`Sources/AlgoKernels/README.md`, "Zen 4:
    /// the host or the code?").
    func time(_ operands: Operands) -> Timing {
        var perRound = 0.0
        for t in threads {
            Parallel.threads = t
            perRound += Stopwatch.seconds { operands.fast() }
        }
        let budget = quick ? 0.15 : 1.0
        var timing = Timing()
        timing.repeats = max(7, min(200, Int(budget / max(perRound, 1e-7))))
        var runs: [Int: [Double]] = [:]
        for _ in 0..<timing.repeats {
            for t in threads {
                Parallel.threads = t
                runs[t, default: []].append(Stopwatch.seconds { operands.fast() })
            }
        }
        for t in threads {
            timing.median[t] = median(runs[t]!)
            timing.best[t] = runs[t]!.min()!
        }
        return timing
    }

    func median(_ x: [Double]) -> Double { x.sorted()[x.count / 2] }

    func fmt(_ x: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", x) }
}


extension Bench {
    /// The matrices of one benchmarked product (column-major, minimal leading dimensions), filled
    /// with reproducible values uniform in [-1, 1).
    struct Operands {
        let shape: Shape
        let a: UnsafeMutablePointer<Float>, lda: Int
        let b: UnsafeMutablePointer<Float>, ldb: Int
        let c: UnsafeMutablePointer<Float>
        let aCount: Int, bCount: Int

        init(_ shape: Shape) {
            self.shape = shape
            lda = shape.transA ? shape.k : shape.m
            ldb = shape.transB ? shape.n : shape.k
            aCount = shape.m * shape.k
            bCount = shape.k * shape.n
            a = .allocate(capacity: aCount)
            b = .allocate(capacity: bCount)
            c = .allocate(capacity: shape.m * shape.n)
            var state: UInt64 = 0x9E37_79B9_7F4A_7C15 &+ UInt64(shape.m * 31 + shape.k * 7 + shape.n)
            func next() -> Float {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                return Float(Int64(bitPattern: state) >> 40) / Float(1 << 23)
            }
            for i in 0..<aCount { a[i] = next() }
            for i in 0..<bCount { b[i] = next() }
            c.initialize(repeating: .nan, count: shape.m * shape.n)
        }

        func free() { a.deallocate(); b.deallocate(); c.deallocate() }

        /// op(A)[i, p] and op(B)[p, j].
        func opA(_ i: Int, _ p: Int) -> Float { shape.transA ? a[p + i * lda] : a[i + p * lda] }
        func opB(_ p: Int, _ j: Int) -> Float { shape.transB ? b[j + p * ldb] : b[p + j * ldb] }

        /// C ← op(A)·op(B) with the fast kernel (beta = 0: the NaN C starts with is never read).
        func fast() {
            GEMM.sgemm(transA: shape.transA, transB: shape.transB, m: shape.m, n: shape.n, k: shape.k,
                       alpha: 1, a: a, lda: lda, b: b, ldb: ldb, beta: 0, c: c, ldc: shape.m)
        }

        func resultCopy() -> [Float] { Array(UnsafeBufferPointer(start: c, count: shape.m * shape.n)) }

        /// Runs the fast kernel and compares it with the reference; nil when every checked entry
        /// is within the bound (k+2)·2⁻²⁴·Σₚ|a_ip·b_pj| (the worst-case rounding error of a Float32
        /// dot product of length k in any order, plus slack for alpha/beta), doubled when both
        /// sides are Float32. Entry by entry when M·N·K ≤ 2^24, else on 1000 sampled entries
        /// recomputed in Float64.
        func check() -> String? {
            fast()
            let u = Double(Float.ulpOfOne) / 2
            let bound = Double(shape.k + 2) * u
            let (m, n, k) = (shape.m, shape.n, shape.k)
            if shape.multiplyAdds <= 1 << 24 {
                let ref = UnsafeMutablePointer<Float>.allocate(capacity: m * n)
                let mag = UnsafeMutablePointer<Float>.allocate(capacity: m * n)
                let absA = UnsafeMutablePointer<Float>.allocate(capacity: aCount)
                let absB = UnsafeMutablePointer<Float>.allocate(capacity: bCount)
                defer { ref.deallocate(); mag.deallocate(); absA.deallocate(); absB.deallocate() }
                for i in 0..<aCount { absA[i] = abs(a[i]) }
                for i in 0..<bCount { absB[i] = abs(b[i]) }
                GEMMReference.sgemm(transA: shape.transA, transB: shape.transB, m: m, n: n, k: k, alpha: 1,
                                    a: a, lda: lda, b: b, ldb: ldb, beta: 0, c: ref, ldc: m)
                GEMMReference.sgemm(transA: shape.transA, transB: shape.transB, m: m, n: n, k: k, alpha: 1,
                                    a: absA, lda: lda, b: absB, ldb: ldb, beta: 0, c: mag, ldc: m)
                for e in 0..<(m * n) {
                    let err = abs(Double(c[e]) - Double(ref[e]))
                    if !(err <= 2 * bound * Double(mag[e]) * (1 + 1e-3)) {
                        return "C[\(e % m), \(e / m)] = \(c[e]), reference \(ref[e]), bound \(2 * bound * Double(mag[e]))"
                    }
                }
                return nil
            }
            var state: UInt64 = 12345
            for _ in 0..<1000 {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                let i = Int((state >> 33) % UInt64(m))
                state = state &* 6364136223846793005 &+ 1442695040888963407
                let j = Int((state >> 33) % UInt64(n))
                var exact = 0.0, magnitude = 0.0
                for p in 0..<k {
                    let prod = Double(opA(i, p)) * Double(opB(p, j))
                    exact += prod
                    magnitude += abs(prod)
                }
                let got = Double(c[i + j * m])
                if !(abs(got - exact) <= bound * magnitude) {
                    return "C[\(i), \(j)] = \(got), exact \(exact), bound \(bound * magnitude)"
                }
            }
            return nil
        }
    }
}
