import AlgoBench
import AlgoEval
import AlgoKernels
import Foundation

/// `algo bench scale`: the small model's forward pass as ℓ and as d_e grow.
extension BenchModel {
    /// The two sweeps: ℓ (small model, ℓ_max = ℓ) and d_e (ℓ = 256, H = d_e/64, d_mlp = 4·d_e).
    var sweeps: [(name: String, variable: String, configs: [ModelConfig])] {
        let small = ModelConfig.small
        let ells = quick ? [64, 128, 256, 512] : [64, 128, 256, 512, 1024]
        let widths = quick ? [128, 256, 384] : [128, 256, 384, 512, 768]
        return [
            ("ℓ", "ℓ", ells.map { l in
                var c = small; c.ℓ = l; c.name = "small ℓ=\(l)"; return c
            }),
            ("d_e", "d_e", widths.map { d in
                ModelConfig(name: "small d_e=\(d)", N_V: small.N_V, ℓ: 256, L: small.L, H: d / 64, d_e: d, d_mlp: 4 * d)
            }),
        ]
    }

    func scale(svg: String?, _ output: inout Output) -> ExitCode {
        let t = threads.max()!
        var samples = peakSamples([t])
        var measured: [(sweep: String, x: Int, config: ModelConfig, sample: ModelSample)] = []
        var failed = false
        for sweep in sweeps {
            for c in sweep.configs {
                let job = ModelJob(kind: .model, config: c, phase: "forward", batch: 1, threads: t, warmups: 1, minimum: 3, maximum: 20,
                                   budget: quick ? 0.5 : 1.5, algorithms: algorithms)
                switch perform(job) {
                case .success(let s): measured.append((sweep.name, sweep.name == "ℓ" ? c.ℓ : c.d_e, c, s))
                case .failure(let f): output.err("algo bench: error: \(c.name): \(f.message)"); failed = true
                }
            }
        }
        samples[t]! += peakSamples([t])[t]!
        let peak = BenchTiming.median(samples[t]!)
        var panels: [LogLog.Panel] = []
        var text = String(format: "FMA peak of the widest unit (%@), %d thread%@: %.1f GFLOP/s (median of 10 samples at the start and end)\n", VectorUnit.widest.name, t, t == 1 ? "" : "s", peak)
        text += "small model forward (N_V = 65, L = 6), one sequence, \(t) thread\(t == 1 ? "" : "s")\n"
        text += "sweep  ℓ      d_e  H   d_mlp   GFLOP/pass  ms median  GFLOP/s  %peak    peak RSS  above baseline\n"
        for sweep in sweeps.map(\.name) {
            let rows = measured.filter { $0.sweep == sweep }
            for r in rows {
                let ms = 1000 * BenchTiming.median(r.sample.seconds)
                let gflops = r.config.forwardFLOPs / (ms / 1000) / 1e9
                let above = r.sample.peakRSSBytes - r.sample.baselineRSSBytes
                if json {
                    output.out("{\"kind\":\"scale\",\"sweep\":\"\(sweep == "ℓ" ? "ell" : "d_e")\",\"config\":\"\(r.config.name)\",\"phase\":\"forward\",\"batch\":1,\"threads\":\(t),"
                               + "\"N_V\":\(r.config.N_V),\"ell\":\(r.config.ℓ),\"L\":\(r.config.L),\"H\":\(r.config.H),\"d_e\":\(r.config.d_e),\"d_mlp\":\(r.config.d_mlp),"
                               + "\"flops\":\(num(r.config.forwardFLOPs, 0)),\"ms_median\":\(num(ms, 4)),\"ms_min\":\(num(1000 * r.sample.seconds.min()!, 4)),"
                               + "\"ms_max\":\(num(1000 * r.sample.seconds.max()!, 4)),\"tokens_per_s\":\(num(Double(r.config.ℓ) / (ms / 1000), 1)),"
                               + "\"gflops\":\(num(gflops, 3)),\"peak_gflops\":\(num(peak, 2)),\"peak_fraction\":\(num(gflops / peak, 4)),"
                               + "\"peak_rss_bytes\":\(r.sample.peakRSSBytes),\"baseline_rss_bytes\":\(r.sample.baselineRSSBytes)}")
                }
                text += Self.left(sweep, 5)
                    + String(format: " %5d %5d %3d %6d %12.2f %10.2f %8.1f %5.1f%% ", r.config.ℓ, r.config.d_e, r.config.H,
                             r.config.d_mlp, r.config.forwardFLOPs / 1e9, ms, gflops, 100 * gflops / peak)
                    + Self.right(Self.megabytes(r.sample.peakRSSBytes), 11) + Self.right(Self.megabytes(above), 16) + "\n"
            }
            let time = rows.map { (x: Double($0.x), y: BenchTiming.median($0.sample.seconds) * 1000) }
            let memory = rows.map { (x: Double($0.x), y: Double($0.sample.peakRSSBytes - $0.sample.baselineRSSBytes) / 1_048_576) }
            let flops = rows.map { (x: Double($0.x), y: $0.config.forwardFLOPs) }
            func slopes(_ p: [(x: Double, y: Double)]) -> String {
                let all = LogLog.slope(p).map { String(format: "%.2f", $0) } ?? "–"
                let last = p.count >= 2 ? LogLog.slope(Array(p.suffix(2))).map { String(format: "%.2f", $0) } ?? "–" : "–"
                return "\(all) (last two points \(last))"
            }
            text += "  slopes of log-log fits against \(sweep): time \(slopes(time)), memory above baseline \(slopes(memory)), FLOPs \(slopes(flops))\n"
            panels.append(LogLog.Panel(title: "forward time vs \(sweep)", xLabel: sweep, yLabel: "ms", points: time))
            panels.append(LogLog.Panel(title: "memory vs \(sweep)", xLabel: sweep, yLabel: "MB above baseline", points: memory))
        }
        text += "  (FLOPs: L·(8·ℓ·d_e² + 4·ℓ²·d_e + 4·ℓ·d_e·d_mlp) + 2·ℓ·d_e·N_V: ℓ² attention scores vs ℓ-linear products; d_e² weights)"
        if !json { output.out(text) }
        if let path = svg {
            let caption = "algo bench scale: small model (N_V = 65, L = 6) forward, one sequence, \(t) thread\(t == 1 ? "" : "s"); dashed: least-squares fit.\n"
                + "ℓ sweep at d_e = 384, H = 6, d_mlp = 1536; d_e sweep at ℓ = 256, H = d_e/64, d_mlp = 4·d_e. Memory: peak RSS above the process's baseline."
            if case .failure(let e) = AtomicFile.write(Array(LogLog.svg(panels, caption: caption).utf8), to: path) {
                return FileProblem.unwritable(path, flag: "svg", e.reason).report(Reporter(format: .text), &output)
            }
            if !json { output.out("wrote \(path)") }
        }
        return failed ? .diagnostics : .ok
    }
}
