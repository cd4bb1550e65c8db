import Foundation
import Testing
@testable import AlgoCLI
import AlgoBench

/// `algo bench model` and `algo bench scale`: the JSON they print is well-formed and its derived
/// figures follow from the measured ones (speeds are measured in release builds, never here: a
/// toy model keeps this fast in a debug build).
@Suite("algo bench model / scale")
struct BenchModelTests {
    static let algorithms = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Algorithms").path
    static let toy = ModelConfig(name: "toy", N_V: 12, ℓ: 8, L: 1, H: 2, d_e: 8, d_mlp: 16)

    static func objects(_ stdout: String) throws -> [[String: Any]] {
        try stdout.split(separator: "\n").map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not a JSON object: \(line)")
        }
    }

    @Test("--json: one object per measurement with the issue's fields; derived figures consistent")
    func jsonFields() throws {
        var bench = BenchModel(threads: [1], quick: true, json: true, algorithms: Self.algorithms, isolated: false)
        bench.configs = [Self.toy]
        bench.phases = [.forward, .train]
        bench.batches = [1, 2]
        var output = Output()
        let code = bench.model(&output)
        #expect(code == .ok, "\(output.stderr)")
        let objects = try Self.objects(output.stdout)
        let models = objects.filter { $0["kind"] as? String == "model" }
        // forward (batch 1 only), train batch 1 and 2: three measurements; one overhead line.
        #expect(models.map { "\($0["phase"]!) \($0["batch"]!)" } == ["forward 1", "train 1", "train 2"])
        for o in models {
            // Tests/Reference/bench_vs_torch.py reads kind, ms_median, flops, peak_gflops, peak_fraction and peak_rss_bytes.
            for key in ["kind", "config", "phase", "batch", "threads", "ms_median", "ms_min", "ms_max", "tokens_per_s", "flops", "gflops",
                        "peak_gflops", "peak_fraction", "peak_rss_bytes"] {
                #expect(o[key] != nil, "missing \(key)")
            }
            let (median, lo, hi) = (o["ms_median"] as! Double, o["ms_min"] as! Double, o["ms_max"] as! Double)
            #expect(0 < lo && lo <= median && median <= hi)
            let batch = o["batch"] as! Int, train = (o["phase"] as! String) == "train"
            let flops = (train ? 3 * Double(batch) : 1) * Self.toy.forwardFLOPs
            #expect((o["flops"] as! Double) == flops)
            // Rounded to the printed decimals: relative 1e-3 is far above the rounding, far below a wrong formula.
            #expect(abs((o["tokens_per_s"] as! Double) - Double(8 * batch) / (median / 1000)) <= 1e-3 * (o["tokens_per_s"] as! Double) + 0.1)
            #expect(abs((o["gflops"] as! Double) - flops / (median / 1000) / 1e9) <= 1e-3 * (o["gflops"] as! Double) + 1e-3)
            // peak_fraction (4 decimals) against gflops (3 decimals, ±0.0005) / peak_gflops (2 decimals,
            // ±0.005): the rounding of each, no more (the peak's term matters when a debug build on a
            // loaded machine measures a peak of a few hundredths of a GFLOP/s).
            let peak = o["peak_gflops"] as! Double, gflops = o["gflops"] as! Double
            #expect(abs((o["peak_fraction"] as! Double) - gflops / peak) <= 0.00005 + 0.0005 / peak + 0.005 * (gflops + 0.0005) / (peak * (peak - 0.005)) + 1e-9)
            #expect((o["peak_rss_bytes"] as! Int) > 0 && (o["isolated"] as! Bool) == false)
            let needed = train ? Self.toy.trainingBytes(batch: batch) : Self.toy.parameterBytes
            #expect((o["needed_bytes"] as! Int) == needed)
            // The two memory ratios (3 decimals) follow from the bytes printed beside them.
            let peakRSS = Double(o["peak_rss_bytes"] as! Int), base = Double(o["baseline_rss_bytes"] as! Int)
            #expect(abs((o["memory_ratio"] as! Double) - peakRSS / Double(needed)) <= 0.0005 + 1e-9)
            #expect(abs((o["memory_ratio_above_baseline"] as! Double) - max(0, peakRSS - base) / Double(needed)) <= 0.0005 + 1e-9)
            #expect(base > 0 && base <= peakRSS)
            // The pool's adaptation is reported: jobs that asked for threads, and those that got fewer.
            let jobs = o["parallel_jobs"] as! Int, fewer = o["fewer_thread_jobs"] as! Int
            #expect(jobs >= 0 && 0 <= fewer && fewer <= jobs)
            #expect((o["config"] as! String) == "toy" && (o["threads"] as! Int) == 1)
        }
        let overhead = try #require(objects.first { $0["kind"] as? String == "overhead" })
        let ratio = overhead["ratio"] as! Double
        #expect(abs(ratio - (overhead["interpreter_ms_median"] as! Double) / (overhead["direct_ms_median"] as! Double)) <= 1e-3 * ratio)
        #expect((overhead["max_abs_diff"] as! Double) <= directTolerance)
    }

    @Test("the measurements of a run: forward on one sequence, train per batch size, gpt2 on one sequence only")
    func jobList() {
        var bench = BenchModel(threads: [1, 2], quick: false, json: false, algorithms: "Algorithms", isolated: true)
        bench.configs = [.tiny, .gpt2]
        bench.phases = [.forward, .train]
        bench.batches = [1, 8]
        let listed = bench.jobs.map { "\($0.config.name) \($0.kind.rawValue) \($0.phase) \($0.batch) \($0.threads)" }
        #expect(listed == ["tiny model forward 1 1", "tiny model forward 1 2", "tiny model train 1 1", "tiny model train 1 2",
                           "tiny model train 8 1", "tiny model train 8 2", "tiny overhead forward 1 1", "tiny overhead forward 1 2",
                           "gpt2 model forward 1 1", "gpt2 model forward 1 2", "gpt2 model train 1 1", "gpt2 model train 1 2",
                           "gpt2 overhead forward 1 1", "gpt2 overhead forward 1 2"])
        // gpt2's forwards: a warm-up and exactly 3 timed runs; its training step: once, no warm-up; tiny repeats.
        let gpt2 = bench.jobs.filter { $0.config.name == "gpt2" }
        #expect(gpt2.filter { $0.phase == "forward" }.allSatisfy { $0.warmups == 1 && $0.minimum == 3 && $0.maximum == 3 })
        #expect(gpt2.filter { $0.phase == "train" }.allSatisfy { $0.warmups == 0 && $0.minimum == 1 && $0.maximum == 1 })
        #expect(bench.jobs.filter { $0.config.name == "tiny" }.allSatisfy { $0.warmups == 1 && $0.minimum == 3 })
    }

    @Test("--child: a measurement as JSON in, a ModelSample as JSON out; garbage is a usage error")
    func childProtocol() throws {
        let job = ModelJob(kind: .model, config: Self.toy, phase: "train", batch: 2, threads: 1, warmups: 0, minimum: 2, maximum: 2,
                           budget: 0, algorithms: Self.algorithms)
        var output = Output()
        let code = CLI.run(["bench", "model", "--child", String(data: try JSONEncoder().encode(job), encoding: .utf8)!], &output)
        #expect(code == .ok, "\(output.stderr)")
        let sample = try JSONDecoder().decode(ModelSample.self, from: Data(output.stdout.utf8))
        #expect(sample.job == job && sample.seconds.count == 2 && sample.isolated)
        #expect(sample.peakRSSBytes >= sample.baselineRSSBytes && sample.baselineRSSBytes > 0)

        var bad = Output()
        #expect(CLI.run(["bench", "model", "--child", "{"], &bad) == .usage)
        var missing = Output()
        var elsewhere = job
        elsewhere.algorithms = "/nonexistent"
        #expect(CLI.run(["bench", "model", "--child", String(data: try JSONEncoder().encode(elsewhere), encoding: .utf8)!], &missing) == .diagnostics)
        #expect(missing.stderr.contains("/nonexistent/DTraining"), "\(missing.stderr)")
    }

    @Test("bad command lines are usage errors, never traps")
    func usageErrors() {
        for args in [["bench", "model", "--config", "huge"], ["bench", "model", "--phase", "backward"], ["bench", "model", "--batch", "0"],
                     ["bench", "gemm", "--svg", "x.svg"], ["bench", "peak", "--config", "tiny"], ["bench", "scale", "--batch", "2"],
                     ["bench", "model", "--threads", "a"], ["bench", "nothing"]] {
            var output = Output()
            #expect(CLI.run(args, &output) == .usage, "\(args)")
            #expect(output.stderr.contains("error"), "\(args)")
        }
    }

    @Test("a missing Algorithms directory is reported with the file, not a trap")
    func missingAlgorithms() {
        var bench = BenchModel(threads: [1], quick: true, json: true, algorithms: "/nonexistent", isolated: false)
        bench.configs = [Self.toy]
        bench.phases = [.forward]
        bench.batches = [1]
        var output = Output()
        #expect(bench.model(&output) == .diagnostics)
        #expect(output.stderr.contains("/nonexistent/DTransformer.algo"), "\(output.stderr)")
        // With --json the failed measurements are objects too, with an `error`.
        let failures = (try? Self.objects(output.stdout)) ?? []
        #expect(!failures.isEmpty && failures.allSatisfy { ($0["error"] as? String)?.contains("DTransformer.algo") ?? false }, "\(output.stdout)")
    }
}
