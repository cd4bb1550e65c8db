import AlgoBench
import AlgoDiagnostics
import AlgoEval
import AlgoKernels
import Foundation

/// The work of `algo bench model` and `algo bench scale`: jobs, each in a child process of this
/// binary (its peak memory its own), the FMA peak around them, rendering as a table or JSON lines.
struct BenchModel {
    let threads: [Int]
    let quick: Bool
    let json: Bool
    let algorithms: String
    /// Whether each job runs in a child process (`--in-process` turns it off).
    let isolated: Bool
    var configs: [ModelConfig] = []
    var phases: [ModelRun.Phase] = []
    var batches: [Int] = []

    init(threads: [Int], quick: Bool, json: Bool, algorithms: String, isolated: Bool) {
        self.threads = threads; self.quick = quick; self.json = json; self.algorithms = algorithms; self.isolated = isolated
    }

    /// Whether a configuration is too large to repeat: gpt2, whose forward is ~0.3 TFLOP.
    static func isLarge(_ c: ModelConfig) -> Bool { c.forwardFLOPs > 5e10 }

    /// Repetitions of one job: one warm-up, then 3 to 50 timed runs for about 3 s (1 s with
    /// --quick). A large configuration's forward (gpt2, ~2–3 s) has one warm-up and exactly 3 timed
    /// runs; its training step (~1 min) runs once, without warm-up.
    func job(_ kind: ModelJob.Kind, _ c: ModelConfig, _ phase: ModelRun.Phase, batch: Int, threads: Int) -> ModelJob {
        let large = Self.isLarge(c), once = large && phase == .train
        return ModelJob(kind: kind, config: c, phase: phase.rawValue, batch: batch, threads: threads,
                        warmups: once ? 0 : 1, minimum: once ? 1 : 3, maximum: once ? 1 : (large ? 3 : 50),
                        budget: quick ? 1 : 3, algorithms: algorithms)
    }

    /// Every measurement of the run, in the order printed. Forward is one sequence; a large
    /// configuration (gpt2) trains on one sequence only (issue 7: its forward and one training step;
    /// eight sequences would hold about 11 GB of activations).
    var jobs: [ModelJob] {
        var out: [ModelJob] = []
        for c in configs {
            for p in phases {
                for b in (p != .train || Self.isLarge(c) ? [1] : batches) {
                    for t in threads { out.append(job(.model, c, p, batch: b, threads: t)) }
                }
            }
            if phases.contains(.forward) {
                for t in threads { out.append(job(.overhead, c, .forward, batch: 1, threads: t)) }
            }
        }
        return out
    }

    // MARK: - Running jobs

    /// Runs `job` in a child process (`algo bench model --child JSON`) or here. The child is
    /// watched: it is stopped when its resident memory passes `memoryLimit(job)` or it runs longer
    /// than `timeLimit` (an interpreter that keeps too much must not take the shared machine down).
    func perform(_ job: ModelJob) -> Result<ModelSample, Failure> {
        guard isolated else {
            do { return .success(try job.measure(isolated: false)) } catch { return .failure(Failure(job: job, message: Self.describe(error))) }
        }
        guard let exe = Self.executablePath() else { return .failure(Failure(job: job, message: "cannot find this program's executable to run a child process; use --in-process")) }
        guard let data = try? JSONEncoder().encode(job), let encoded = String(data: data, encoding: .utf8) else {
            return .failure(Failure(job: job, message: "cannot encode the job for a child process"))
        }
        let base = NSTemporaryDirectory() + "algo-bench-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString)"
        FileManager.default.createFile(atPath: base + ".out", contents: nil)
        FileManager.default.createFile(atPath: base + ".err", contents: nil)
        defer { try? FileManager.default.removeItem(atPath: base + ".out"); try? FileManager.default.removeItem(atPath: base + ".err") }
        guard let out = FileHandle(forWritingAtPath: base + ".out"), let err = FileHandle(forWritingAtPath: base + ".err") else {
            return .failure(Failure(job: job, message: "cannot create temporary files in \(NSTemporaryDirectory())"))
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: exe)
        process.arguments = ["bench", "model", "--child", encoded]
        process.standardOutput = out
        process.standardError = err
        do { try process.run() } catch { return .failure(Failure(job: job, message: "cannot start `\(exe)`: \(error)")) }
        let limit = Self.memoryLimit(job), started = Stopwatch.now()
        var stopped: String? = nil
        while process.isRunning {
            usleep(20_000)
            let rss = Self.residentBytes(process.processIdentifier)
            if rss > limit {
                stopped = "stopped at \(Self.megabytes(rss)) resident, over the limit of \(Self.megabytes(limit)) (4 × the bytes needed + 2 GB, at most 60 % of the machine's memory)"
            } else if Stopwatch.now() - started > timeLimit(job) {
                stopped = "stopped after \(Int(timeLimit(job))) s"
            }
            if stopped != nil { process.terminate(); break }
        }
        process.waitUntilExit()
        try? out.close(); try? err.close()
        if let stopped { return .failure(Failure(job: job, message: stopped)) }
        let stdout = (try? String(contentsOfFile: base + ".out", encoding: .utf8)) ?? ""
        let stderr = (try? String(contentsOfFile: base + ".err", encoding: .utf8)) ?? ""
        guard process.terminationStatus == 0, let last = stdout.split(separator: "\n").last,
              let sample = try? JSONDecoder().decode(ModelSample.self, from: Data(last.utf8)) else {
            let why = stderr.split(separator: "\n").filter { !$0.contains("debug build") }.joined(separator: "\n")
            return .failure(Failure(job: job, message: "the child process failed (status \(process.terminationStatus)): \(why.isEmpty ? "no message" : why)"))
        }
        return .success(sample)
    }

    /// Seconds a child may run: 600 (120 with --quick), 3 × that for a large configuration.
    func timeLimit(_ job: ModelJob) -> Double { (quick ? 120 : 600) * (Self.isLarge(job.config) ? 3 : 1) }

    /// Resident bytes a child may reach: 4 × what the measurement needs (`ModelConfig`) + 2 GB,
    /// at most 60 % of physical memory.
    static func memoryLimit(_ job: ModelJob) -> Int {
        min(4 * job.neededBytes + 2 << 30, Int(Double(ProcessInfo.processInfo.physicalMemory) * 0.6))
    }

    /// The resident set of process `pid` in bytes (`/proc/PID/statm`; 0 where there is no /proc).
    static func residentBytes(_ pid: Int32) -> Int {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
        return pages * sysconf(Int32(_SC_PAGESIZE))
    }

    /// `algo bench model --child JSON`: runs one job here and prints its `ModelSample` as JSON.
    static func child(_ text: String, _ output: inout Output) -> ExitCode {
        guard let job = try? JSONDecoder().decode(ModelJob.self, from: Data(text.utf8)) else {
            output.err("algo bench: error: `--child` takes a measurement as JSON (it is internal to `algo bench model`)")
            return .usage
        }
        do {
            let sample = try job.measure(isolated: true)
            output.out(String(data: try JSONEncoder().encode(sample), encoding: .utf8)!)
            return .ok
        } catch {
            output.err(describe(error))
            return .diagnostics
        }
    }

    struct Failure: Error { var job: ModelJob; var message: String }

    /// An error as one line; a diagnostic as `file:line:column: CODE message` (the line and column
    /// read from its file when it can be loaded).
    static func describe(_ error: Error) -> String {
        func line(_ d: AlgoDiagnostics.Diagnostic) -> String {
            var place = d.span.file
            if case .success(let f) = SourceFile.load(path: d.span.file) {
                let (l, c) = f.location(of: d.span.start)
                place += ":\(l):\(c)"
            }
            return "\(place): \(d.code.rawValue) \(d.message)"
        }
        switch error {
        case let e as RuntimeError: return line(e.diagnostic)
        case let f as RunFailure: return f.diagnostics.map(line).joined(separator: "; ")
        default: return "\(error)"
        }
    }

    /// This program's executable (`/proc/self/exe` on Linux).
    static func executablePath() -> String? {
        #if os(Linux)
        if let p = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return p }
        #endif
        return Bundle.main.executablePath
    }

    /// FMA peak samples (GFLOP/s) per thread count (`Bench.peakSamples`).
    func peakSamples(_ counts: [Int]) -> [Int: [Double]] { Bench.peakSamples(counts, quick: quick) }

    // MARK: - algo bench model

    func model(_ output: inout Output) -> ExitCode {
        var samples = peakSamples(threads)
        var results: [ModelSample] = []
        var failed = false
        for job in jobs {
            switch perform(job) {
            case .success(let s): results.append(s)
            case .failure(let f):
                output.err("algo bench: error: \(f.job.config.name) \(f.job.kind == .overhead ? "interpreter overhead" : f.job.phase) "
                           + "batch \(f.job.batch), \(f.job.threads) thread(s): \(f.message)")
                if json {
                    output.out("{\"kind\":\"\(f.job.kind.rawValue)\",\"config\":\"\(f.job.config.name)\",\"phase\":\"\(f.job.phase)\",\"batch\":\(f.job.batch),"
                               + "\"threads\":\(f.job.threads),\"error\":\"\(JSONText.escape(f.message))\"}")
                }
                failed = true
            }
        }
        for (t, more) in peakSamples(threads) { samples[t]! += more }
        let peaks = samples.mapValues(BenchTiming.median)
        let rows = results.filter { $0.job.kind == .model }.map { Row($0, peak: peaks[$0.job.threads]!) }
        let overheads = results.filter { $0.job.kind == .overhead }
        if json {
            for r in rows { output.out(r.json) }
            for o in overheads { output.out(Self.overheadJSON(o)) }
        } else {
            output.out(header(peaks))
            output.out(Row.tableHeader)
            for r in rows { output.out(r.tableLine) }
            if !overheads.isEmpty {
                output.out("\ninterpreter overhead: the same forward pass written against AlgoTensor (Direct.dTransformer), same θ and x, alternating runs")
                for o in overheads { output.out(Self.overheadLine(o)) }
            }
            output.out(Self.formulas)
        }
        return failed ? .diagnostics : .ok
    }

    func header(_ peaks: [Int: Double]) -> String {
        "FMA peak of the widest unit, \(VectorUnit.widest.name) (median of 10 samples at the start and end of the run): "
            + peaks.keys.sorted().map { "\($0) thread\($0 == 1 ? "" : "s") \(String(format: "%.1f", peaks[$0]!)) GFLOP/s" }.joined(separator: ", ")
            + (isolated ? "" : "\n(--in-process: peak memory is this process's peak so far, not the measurement's own)")
    }

    /// The formulas behind the columns, printed under the table.
    static let formulas = """

        FLOPs: the matrix products of Algorithm 10 as written, 2·M·K·N each (full ℓ×ℓ scores, the masked half
          included): forward = L·(8·ℓ·d_e² + 4·ℓ²·d_e + 4·ℓ·d_e·d_mlp) + 2·ℓ·d_e·N_V per sequence; a training step
          = 3 × forward per sequence (∇ of each product is two products of its size); element-wise work not counted.
        needed: train = 4 bytes × (2·|θ| + B·activations), activations per sequence = L·(ℓ·(6·d_e + 2·d_mlp + 2) + H·ℓ²)
          + ℓ·(d_e + 1) + N_V·ℓ (layer-norm outputs and 1/σ, Q, K, V, softmax(S), Y, the MLP's U and GELU(U), P);
          forward = 4·|θ|. ratio = peak RSS / needed (the runtime's own baseline included); above base = (peak RSS − the
          process's RSS with the program loaded and, on Linux, the code of one warm-up run paged in, before any tensor,
          ~27 MB) / needed.
        """

    /// One `model` measurement, derived figures included.
    struct Row {
        let sample: ModelSample
        let peak: Double
        init(_ s: ModelSample, peak: Double) { sample = s; self.peak = peak }

        var job: ModelJob { sample.job }
        var ms: (median: Double, min: Double, max: Double) {
            (1000 * BenchTiming.median(sample.seconds), 1000 * sample.seconds.min()!, 1000 * sample.seconds.max()!)
        }
        var tokens: Int { job.config.ℓ * job.batch }
        var flops: Double { job.flops }
        var gflops: Double { flops / (ms.median / 1000) / 1e9 }
        var tokensPerSecond: Double { Double(tokens) / (ms.median / 1000) }
        var needed: Int { job.neededBytes }

        static let tableHeader = "config phase   batch threads   ms median [min – max]        tokens/s  GFLOP/s  %peak   peak RSS   needed  ratio  above base"

        /// Peak RSS over what the run needs, and the same without the process's own baseline (the
        /// runtime, libraries, the loaded program and its code before any tensor, `baselineRSSBytes`), which
        /// no model size changes.
        var memoryRatios: (whole: Double, aboveBaseline: Double) {
            (Double(sample.peakRSSBytes) / Double(needed), Double(max(0, sample.peakRSSBytes - sample.baselineRSSBytes)) / Double(needed))
        }

        var tableLine: String {
            let m = ms
            return BenchModel.left(job.config.name, 7) + BenchModel.left(job.phase, 8)
                + BenchModel.left(String(format: "%5d %7d  %10.2f [%.2f – %.2f]", job.batch, job.threads, m.median, m.min, m.max), 48)
                + String(format: "%9.0f %8.1f %5.1f%% ", tokensPerSecond, gflops, 100 * gflops / peak)
                + BenchModel.right(BenchModel.megabytes(sample.peakRSSBytes), 10) + BenchModel.right(BenchModel.megabytes(needed), 11)
                + String(format: " %5.2f× %10.2f×", memoryRatios.whole, memoryRatios.aboveBaseline)
                + (sample.fewerThreadJobs > 0 ? "  (\(sample.fewerThreadJobs) of \(sample.parallelJobs) parallel jobs on fewer threads: the machine was busy)" : "")
        }

        var json: String {
            let m = ms, c = job.config
            return "{\"kind\":\"model\",\"config\":\"\(c.name)\",\"phase\":\"\(job.phase)\",\"batch\":\(job.batch),\"threads\":\(job.threads),"
                + "\"ms_median\":\(num(m.median, 4)),\"ms_min\":\(num(m.min, 4)),\"ms_max\":\(num(m.max, 4)),\"repeats\":\(sample.seconds.count),"
                + "\"tokens\":\(tokens),\"tokens_per_s\":\(num(tokensPerSecond, 1)),\"flops\":\(num(flops, 0)),\"gflops\":\(num(gflops, 3)),"
                + "\"peak_gflops\":\(num(peak, 2)),\"peak_fraction\":\(num(gflops / peak, 4)),"
                + "\"peak_rss_bytes\":\(sample.peakRSSBytes),\"baseline_rss_bytes\":\(sample.baselineRSSBytes),\"isolated\":\(sample.isolated),"
                + "\"needed_bytes\":\(needed),\"memory_ratio\":\(num(memoryRatios.whole, 3)),\"memory_ratio_above_baseline\":\(num(memoryRatios.aboveBaseline, 3)),"
                + "\"parallel_jobs\":\(sample.parallelJobs),\"fewer_thread_jobs\":\(sample.fewerThreadJobs),"
                + "\"N_V\":\(c.N_V),\"ell\":\(c.ℓ),\"L\":\(c.L),\"H\":\(c.H),\"d_e\":\(c.d_e),\"d_mlp\":\(c.d_mlp),\"parameters\":\(c.parameterCount)}"
        }
    }

    static func overheadJSON(_ o: ModelSample) -> String {
        let i = BenchTiming.median(o.seconds), d = BenchTiming.median(o.directSeconds!)
        return "{\"kind\":\"overhead\",\"config\":\"\(o.job.config.name)\",\"phase\":\"forward\",\"batch\":1,\"threads\":\(o.job.threads),"
            + "\"interpreter_ms_median\":\(num(1000 * i, 4)),\"direct_ms_median\":\(num(1000 * d, 4)),\"ratio\":\(num(i / d, 4)),"
            + "\"repeats\":\(o.seconds.count),\"max_abs_diff\":\(String(format: "%.3e", o.maxAbsDifference!)),\"peak_rss_bytes\":\(o.peakRSSBytes)}"
    }

    static func overheadLine(_ o: ModelSample) -> String {
        let i = BenchTiming.median(o.seconds), d = BenchTiming.median(o.directSeconds!)
        return left(o.job.config.name, 7)
            + String(format: "%d thread%@: interpreter %.2f ms, direct %.2f ms (medians of %d), ratio %.3f×; max |P − P_direct| = %.2e",
                     o.job.threads, o.job.threads == 1 ? " " : "s", 1000 * i, 1000 * d, o.seconds.count, i / d, o.maxAbsDifference!)
    }

    static func megabytes(_ bytes: Int) -> String { String(format: "%.1f MB", Double(bytes) / 1_048_576) }

    /// `s` left-aligned in `width` characters (never cut).
    static func left(_ s: String, _ width: Int) -> String { s + String(repeating: " ", count: max(0, width - s.count)) }

    /// `s` right-aligned in `width` characters.
    static func right(_ s: String, _ width: Int) -> String { String(repeating: " ", count: max(0, width - s.count)) + s }
}

/// `x` with `digits` decimals (JSON numbers; never NaN or infinite in what is printed).
func num(_ x: Double, _ digits: Int) -> String { x.isFinite ? String(format: "%.\(digits)f", x) : "null" }
