import AlgoKernels
import Foundation

/// `algo bench gemm|peak`: the kernels' speed, as GFLOP/s and as a fraction of the FMA peak
/// measured in the same run.
struct BenchCommand: Command {
    let name = "bench"
    let summary = "measure kernel speed against the machine's FMA peak (gemm, peak)"
    var usage: String {
        """
        usage: algo bench gemm|peak [--threads 1,2] [--quick] [--large] [--json]

        peak  measures the FMA peak (GFLOP/s): 12 independent SIMD8<Float> fused multiply-add
              chains per thread, run on each thread count; median of 5 runs of 0.2 s.
        gemm  measures GEMM.sgemm (C = op(A)·op(B), Float32, column-major) on square sizes 256,
              512, 1024, 2048, on the transformer shapes M×K·K×N 1152×384·384×256,
              384×384·384×256, 1536×384·384×256, 384×1536·1536×256, 65×384·384×256,
              256×64·64×256, 64×256·256×256 with the two products their backward pass needs
              (dA = dC·Bᵀ, `transB`; dB = Aᵀ·dC, `transA`), and GPT-2's 2304×768·768×1024
              (50257×768·768×1024 too with --large). Each shape is first checked against the
              reference (GEMMReference, entry by entry, when M·N·K ≤ 2^24; otherwise 1000 sampled
              entries recomputed in Float64), within the error bound of a Float32 dot product,
              |error| ≤ (k+2)·2⁻²⁴·Σₚ|a_ip·b_pj| for each of the two results; then timed (one
              warm-up, then the median of repeats lasting about 0.4 s, 0.05 s with --quick) on each
              thread count, and the results of the thread counts are checked to be bit-identical.
              Speeds are printed as GFLOP/s (2·M·N·K flops) and as a percentage of the FMA peak
              measured at the start of the run for the same thread count.

        The machine may be shared: two-thread figures especially vary from run to run. A debug
        build prints a warning: its numbers mean nothing (build with `swift build -c release`).
        """
    }
    var flags: [Arguments.Spec] {
        [
            .init("threads", value: true, help: "comma-separated thread counts to measure (default 1,2)"),
            .init("quick", help: "a short run: no 2048² or GPT-2 shapes, shorter timings"),
            .init("large", help: "also 50257×768·768×1024 (GPT-2's unembedding; about 0.4 GB of memory)"),
            .init("json", help: "one JSON object per line instead of a table"),
        ]
    }

    func run(_ args: Arguments, _ output: inout Output) -> ExitCode {
        guard args.positionals.count == 1, let what = args.positionals.first, what == "gemm" || what == "peak" else {
            output.err("algo bench: error: expected one of `gemm`, `peak`\n\n" + CLI.help(for: self))
            return .usage
        }
        var threads = [1, 2]
        if let list = args.value("threads") {
            let parsed = list.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard !parsed.isEmpty, parsed.allSatisfy({ ($0 ?? 0) >= 1 && ($0 ?? 0) <= 256 }) else {
                output.err("algo bench: error: `--threads` needs thread counts like 1,2 (got `\(list)`)\n\n" + CLI.help(for: self))
                return .usage
            }
            threads = parsed.map { $0! }
        }
        if !Peak.isOptimizedBuild {
            output.err("algo bench: warning: this is a debug build; its speeds are meaningless (use `swift build -c release`)")
        }
        let bench = Bench(threads: threads, quick: args.has("quick"), large: args.has("large"), json: args.has("json"))
        let saved = Parallel.threads
        defer { Parallel.threads = saved }
        return what == "peak" ? bench.peak(&output) : bench.gemm(&output)
    }
}


/// The work of `algo bench`: shapes, checks, timings, and their rendering.
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
        let transformer = [(1152, 384, 256), (384, 384, 256), (1536, 384, 256), (384, 1536, 256),
                           (65, 384, 256), (256, 64, 256), (64, 256, 256)]
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

    /// Measured FMA peak for each thread count.
    func measurePeaks() -> [Int: Double] {
        var peaks: [Int: Double] = [:]
        for t in threads { peaks[t] = Peak.gflops(threads: t, seconds: quick ? 0.1 : 0.2, repeats: 5) }
        return peaks
    }

    func peak(_ output: inout Output) -> ExitCode {
        let peaks = measurePeaks()
        for t in threads {
            let p = peaks[t]!
            if json {
                output.out("{\"kind\":\"peak\",\"threads\":\(t),\"peak_gflops\":\(fmt(p, 2))}")
            } else {
                output.out("FMA peak, \(t) thread\(t == 1 ? "" : "s"): \(fmt(p, 1)) GFLOP/s (\(fmt(p / Double(t), 1)) per thread)")
            }
        }
        return .ok
    }

    func gemm(_ output: inout Output) -> ExitCode {
        let peaks = measurePeaks()
        if !json {
            output.out("FMA peak: " + threads.map { "\($0) thread\($0 == 1 ? "" : "s") \(fmt(peaks[$0]!, 1)) GFLOP/s" }.joined(separator: ", "))
            var header = "shape".padding(toLength: 36, withPad: " ", startingAt: 0) + "   M     K     N"
            for t in threads { header += "   \(t)T GFLOP/s  %peak" }
            output.out(header)
        }
        var failed = false
        for shape in shapes {
            let operands = Operands(shape)
            defer { operands.free() }
            Parallel.threads = threads.max()!
            if let problem = operands.check() {
                output.err("algo bench: error: \(shape.label): fast GEMM disagrees with the reference: \(problem)")
                failed = true
                continue
            }
            var row = shape.label.padding(toLength: 36, withPad: " ", startingAt: 0)
                + String(format: "%5d %5d %5d", shape.m, shape.k, shape.n)
            var first: [Float]? = nil
            for t in threads {
                Parallel.threads = t
                let (seconds, reps) = time(operands)
                let gflops = 2 * Double(shape.multiplyAdds) / seconds / 1e9
                let peak = peaks[t]!
                if json {
                    output.out("{\"kind\":\"gemm\",\"shape\":\"\(shape.label)\",\"m\":\(shape.m),\"k\":\(shape.k),\"n\":\(shape.n),"
                        + "\"transA\":\(shape.transA),\"transB\":\(shape.transB),\"threads\":\(t),"
                        + "\"gflops\":\(fmt(gflops, 2)),\"peak_gflops\":\(fmt(peak, 2)),\"peak_fraction\":\(fmt(gflops / peak, 4)),"
                        + "\"seconds\":\(String(format: "%.6f", seconds)),\"repeats\":\(reps)}")
                }
                row += String(format: "   %11.1f  %4.0f%%", gflops, 100 * gflops / peak)
                let result = operands.resultCopy()
                if let f = first, f != result {
                    output.err("algo bench: error: \(shape.label): \(t) threads give a different result from \(threads[0])")
                    failed = true
                }
                if first == nil { first = result }
            }
            if !json { output.out(row) }
        }
        return failed ? .diagnostics : .ok
    }

    /// Median seconds of one product, after a warm-up that also sizes the number of repeats.
    func time(_ operands: Operands) -> (Double, Int) {
        let warm = Stopwatch.seconds { operands.fast() }
        let budget = quick ? 0.05 : 0.4
        let reps = max(3, min(50, Int(budget / max(warm, 1e-6))))
        var runs: [Double] = []
        for _ in 0..<reps { runs.append(Stopwatch.seconds { operands.fast() }) }
        return (runs.sorted()[reps / 2], reps)
    }

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
