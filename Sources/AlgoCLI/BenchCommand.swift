import AlgoBench
import AlgoKernels
import Foundation

/// `algo bench gemm|peak|model|scale`: the kernels' speed, and the model's through the interpreter, as GFLOP/s and as a fraction of the FMA peak
/// measured in the same run.
struct BenchCommand: Command {
    let name = "bench"
    let summary = "measure speed: kernels against the FMA peak (gemm, peak), the model through the interpreter (model, scale)"
    var usage: String {
        """
        usage: algo bench gemm|peak [--threads 1,2] [--quick] [--large] [--json]
               algo bench model [--config tiny,small,gpt2] [--phase forward,train,generate] [--batch 1,8]
                                [--threads 1,2] [--quick] [--json] [--algorithms DIR] [--in-process]
               algo bench scale [--threads 2] [--quick] [--json] [--svg FILE] [--algorithms DIR]

        peak  measures the FMA peak (GFLOP/s) of each vector unit the processor has: 12
              independent fused multiply-add chains per thread of SIMD8<Float> (256-bit: AVX2+FMA
              on x86_64, NEON on arm64) and, with AVX-512, of SIMD16<Float> (512-bit), run on each
              thread count; median (and best) of 5 runs of 0.2 s. Every %peak of `gemm`, `model`
              and `scale` is against the peak of the widest unit, which this names. GEMM uses the
              widest unit too (ALGO_VECTOR_BITS=256 makes it use the 256-bit kernels, to compare:
              both give the same bits).
        gemm  measures GEMM.sgemm (C = op(A)·op(B), Float32, column-major) on square sizes 256,
              512, 1024, 2048, on the transformer shapes M×K·K×N 1152×384·384×256,
              384×384·384×256, 1536×384·384×256, 384×1536·1536×256, 65×384·384×256,
              256×64·64×256, 64×256·256×256, and a minibatch of 8 sequences' 1536×384·384×2048,
              384×1536·1536×2048, with the two products their backward pass needs
              (dA = dC·Bᵀ, `transB`; dB = Aᵀ·dC, `transA`), and GPT-2's 2304×768·768×1024
              (50257×768·768×1024 too with --large). Each shape is first checked against the
              reference (GEMMReference, entry by entry, when M·N·K ≤ 2^24; otherwise 1000 sampled
              entries recomputed in Float64), within the error bound of a Float32 dot product,
              |error| ≤ (k+2)·2⁻²⁴·Σₚ|a_ip·b_pj| for each of the two results; then timed: a
              warm-up, then rounds running it once on each thread count in turn for about 1 s
              (0.15 s with --quick); the median (and the best) of the rounds per thread count.
              The results of all thread counts are checked to be bit-identical. Speeds are GFLOP/s
              (2·M·N·K flops) and a percentage of the FMA peak for the same thread count, the
              median of 10 samples taken at the start and at the end of the run; in brackets (and
              `best_fraction` in JSON), the fastest run against the best peak sample, which is
              what the code reaches when nothing else runs. Then causal attention (Alg. 4 lines
              4–6 with the causal mask, d_attn = 64, ℓ = 256 with H = 6, and ℓ = 1024 with H = 12
              unless --quick): the runtime's kept-half kernels (CausalAttention.forward)
              against the dense path (GEMM and FusedSoftmax: all of KᵀQ, −∞, S/√d, softmax, V·A),
              first checked to agree within 4·(d+ℓ)·2⁻²⁴, then timed alternately; printed are both
              times, their ratio, and GFLOP/s on the kept half's 2·H·d·ℓ(ℓ+1) FLOPs (JSON kind
              `causal_attention`). The default run takes about a minute.
        model runs Algorithms/DTransformer.algo (phase `forward`, one sequence of ℓ tokens) and
              one training step (phase `train`: DTraining.algo with N_epochs = N_data = 1, i.e.
              one iteration of its loop: forward, loss, ∇, θ ← θ − η·∇; with batch B > 1
              DTrainingMinibatch.algo with B sequences and N_batches = 1: one update from B
              sequences), and with `--phase generate` DInference.algo generating ℓ tokens from a
              one-token prompt (τ = 1; each call after the first computes only its new column,
              the `prefix-reuse` rule) through the interpreter, Float32, parameters initialised as `algo run`
              does (seed 0), random tokens. Configurations (d_attn = d_mid = d_e/H, ℓ = ℓ_max):
                tiny   N_V = 65,    ℓ = 64,   L = 2,  H = 4,  d_e = 64,  d_mlp = 256
                small  N_V = 65,    ℓ = 256,  L = 6,  H = 6,  d_e = 384, d_mlp = 1536
                gpt2   N_V = 50257, ℓ = 1024, L = 12, H = 12, d_e = 768, d_mlp = 3072
              Each measurement runs in a child process of this binary (so that its peak resident
              memory is its own; `--in-process` runs them here, and the peak is then the
              process's so far): a warm-up run, then repetitions for about 3 s (1 s with
              --quick; gpt2: a warm-up and 3 forwards, one step without warm-up); printed
              are the median with min and max, tokens/s (batch·ℓ per run), GFLOP/s from the
              FLOPs of the algorithm's matrix products (2·M·K·N each, full ℓ×ℓ scores as
              written, although the causally masked half of KᵀQ and V·softmax, and of their
              gradients, is skipped; a step is 3× a forward), the fraction of the FMA peak
              for the thread count (measured at the start and end of the run, as for gemm),
              the peak memory, and the bytes a step needs at least
              (parameters + gradients + the activations backpropagation keeps; θ for a forward)
              with the ratio. Forward is one sequence: `--batch` applies to `train`, and gpt2
              trains on one sequence only (its activations for 8 would be ~11 GB). For each
              configuration with `forward`, the interpreter's overhead: the same forward written
              against AlgoTensor's Swift API (AlgoBench's `Direct.dTransformer`) on the same θ
              and x, first checked to give the same P (max |ΔP| ≤ 1e-4), then both timed in
              alternating rounds; the ratio interpreter / direct. A child that passes 4 × the
              bytes needed + 2 GB of resident memory (at most 60 % of the machine's) or runs
              longer than 600 s (gpt2: 1800 s; --quick: a fifth) is stopped and the measurement
              reported as an error (exit 1; with --json an object with `error`). Run from the
              repository root (or give `--algorithms DIR`).
        scale times the small model's forward (one sequence, the largest `--threads` count,
              default the cores this process may use) as ℓ grows 64, 128, 256, 512, 1024 (ℓ_max = ℓ) and as d_e grows 128, 256,
              384, 512, 768 (ℓ = 256, H = d_e/64, d_mlp = 4·d_e), each point in a child process:
              a table of time, GFLOP/s and peak memory, with least-squares slopes of log time and
              log memory against log ℓ and log d_e (and the slope of the last two points);
              `--svg FILE` writes the four log-log plots.

        The machine may be shared: two-thread figures especially vary from run to run. A debug
        build prints a warning: its numbers mean nothing (build with `swift build -c release`).
        """
    }
    var flags: [Arguments.Spec] {
        [
            .init("threads", value: true, help: "comma-separated thread counts to measure (default 1 and ALGO_THREADS, else the cores this process may use)"),
            .init("quick", help: "a short run (gemm: no 2048² or GPT-2 shapes; model: tiny and small, 1 s per measurement)"),
            .init("large", help: "gemm: also 50257×768·768×1024 (GPT-2's unembedding; about 0.4 GB of memory)"),
            .init("json", help: "one JSON object per line instead of a table"),
            .init("config", value: true, help: "model: configurations, from tiny,small,gpt2 (default all; --quick: tiny,small)"),
            .init("phase", value: true, help: "model: forward,train,generate (default forward,train)"),
            .init("batch", value: true, help: "model: sequences per training step, 1 = DTraining, B > 1 = DTrainingMinibatch (default 1,8)"),
            .init("algorithms", value: true, help: "model, scale: the directory of the .algo files (default Algorithms)"),
            .init("in-process", help: "model, scale: measure in this process instead of one child process per measurement"),
            .init("svg", value: true, help: "scale: write the log-log plots to this SVG file"),
            .init("child", value: true, help: "internal: run one measurement (JSON) and print its result"),
        ]
    }

    func run(_ args: Arguments, _ output: inout Output) -> ExitCode {
        let kinds = ["gemm", "peak", "model", "scale"]
        guard args.positionals.count == 1, let what = args.positionals.first, kinds.contains(what) else {
            output.err("algo bench: error: expected one of `gemm`, `peak`, `model`, `scale`\n\n" + CLI.help(for: self))
            return .usage
        }
        let only: [String: [String]] = ["large": ["gemm"], "config": ["model"], "phase": ["model"], "batch": ["model"],
                                        "algorithms": ["model", "scale"], "in-process": ["model", "scale"],
                                        "svg": ["scale"], "child": ["model"]]
        for (flag, subcommands) in only.sorted(by: { $0.key < $1.key }) where args.has(flag) && !subcommands.contains(what) {
            output.err("algo bench: error: `--\(flag)` belongs to `algo bench \(subcommands.joined(separator: "|"))`, not `\(what)`\n\n" + CLI.help(for: self))
            return .usage
        }
        if let job = args.value("child") { return BenchModel.child(job, &output) }
        // Default: one thread and the default count (ALGO_THREADS, else the cores this process may use).
        guard let threads = Self.threadCounts(args, &output) else { return .usage }
        if !Peak.isOptimizedBuild {
            output.err("algo bench: warning: this is a debug build; its speeds are meaningless (use `swift build -c release`)")
        }
        if what == "model" || what == "scale" {
            var model = BenchModel(threads: threads, quick: args.has("quick"), json: args.has("json"),
                                   algorithms: args.value("algorithms") ?? "Algorithms", isolated: !args.has("in-process"))
            if what == "scale" { return model.scale(svg: args.value("svg"), &output) }
            let names = (args.value("config") ?? (model.quick ? "tiny,small" : "tiny,small,gpt2")).split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            var configs: [ModelConfig] = []
            for n in names {
                guard let c = ModelConfig.all.first(where: { $0.name == n }) else {
                    output.err("algo bench: error: `--config` takes tiny, small, gpt2 (got `\(n)`)\n\n" + CLI.help(for: self))
                    return .usage
                }
                configs.append(c)
            }
            var phases: [ModelRun.Phase] = []
            for n in (args.value("phase") ?? "forward,train").split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) {
                guard let p = ModelRun.Phase(rawValue: n) else {
                    output.err("algo bench: error: `--phase` takes forward, train, generate (got `\(n)`)\n\n" + CLI.help(for: self))
                    return .usage
                }
                phases.append(p)
            }
            guard !configs.isEmpty, !phases.isEmpty,
                  let batches = Self.list("batch", args, default: [1, 8], range: 1...4096, &output) else { return .usage }
            model.configs = configs
            model.phases = phases
            model.batches = batches
            return model.model(&output)
        }
        let bench = Bench(threads: threads, quick: args.has("quick"), large: args.has("large"), json: args.has("json"))
        // A kernel's fraction of the peak of N threads is measured on N threads, whatever else runs
        // (the pool's adaptation to a busy machine would otherwise run some calls on fewer).
        let saved = (Parallel.threads, Parallel.adapts)
        Parallel.adapts = false
        defer { (Parallel.threads, Parallel.adapts) = saved }
        return what == "peak" ? bench.peak(&output) : bench.gemm(&output)
    }
}

extension BenchCommand {
    /// `--threads 1,2`: thread counts to measure, each as `KernelOptions.threadCount` reads it;
    /// default 1 and `Parallel.threads` (set from ALGO_THREADS or the cores this process may use).
    static func threadCounts(_ args: Arguments, _ output: inout Output) -> [Int]? {
        guard let text = args.value("threads") else { return Parallel.threads == 1 ? [1] : [1, Parallel.threads] }
        let parsed = text.split(separator: ",", omittingEmptySubsequences: false).map { KernelOptions.threadCount(String($0)) }
        guard parsed.allSatisfy({ $0 != nil }) else {
            output.err("algo bench: error: `--threads` needs a list like 1,2 of whole numbers in 1…\(KernelOptions.threadRange.upperBound) (got `\(text)`)\n\n" + CLI.help(for: BenchCommand()))
            return nil
        }
        return parsed.map { $0! }
    }

    /// A comma-separated list of naturals in `range` (`--threads 1,2`), the default when absent;
    /// nil (with a usage message) when malformed.
    static func list(_ flag: String, _ args: Arguments, default: [Int], range: ClosedRange<Int>, _ output: inout Output) -> [Int]? {
        guard let text = args.value(flag) else { return `default` }
        let parsed = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !parsed.isEmpty, parsed.allSatisfy({ $0.map(range.contains) ?? false }) else {
            output.err("algo bench: error: `--\(flag)` needs a list like \(range.lowerBound),\(range.lowerBound + 1) of numbers in \(range.lowerBound)…\(range.upperBound) (got `\(text)`)\n\n" + CLI.help(for: BenchCommand()))
            return nil
        }
        return parsed.map { $0! }
    }
}
