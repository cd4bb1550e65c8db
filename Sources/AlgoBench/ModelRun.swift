import AlgoEval
import AlgoKernels
import AlgoTensor
import Foundation

/// What `algo bench model` times, set up once: the `.algo` program of a phase loaded from the
/// algorithms directory, its parameters initialised (`ParameterLayout.initialise`, seed 0; Float32
/// unless `dtype` says otherwise) and its input sequences; `run()` evaluates it once through the
/// interpreter.
///
/// - `forward`: Algorithm 10, `P ← DTransformer(x | θ)` on one sequence x of ℓ tokens.
/// - `train`, batch 1: Algorithm 13, `DTraining`, with N_epochs = 1 and N_data = 1, so the run is
///   exactly one iteration of its loop: DTransformer, the loss, ∇loss(θ), θ ← θ − η·∇ (η = 0.01).
/// - `train`, batch B > 1: Algorithm 19, `DTrainingMinibatch`, with N_epochs = 1, B sequences,
///   N_batches = 1: one update from the loss averaged over B sequences.
/// - `generate`: Algorithm 14, `DInference`, from a prompt of one token (the first of sequence 0)
///   with ℓ_gen = ℓ and τ = 1: ℓ new tokens sampled, the last call of DTransformer on ℓ tokens
///   (the `prefix-reuse` rule computes one new column per call).
/// Each call of `run()` also binds the inputs and parameters (what `Evaluator.run` does before the
/// body; microseconds). One `Evaluator` serves every repetition, as it serves every step of a
/// training run.
public final class ModelRun {
    public enum Phase: String, Sendable, CaseIterable { case forward, train, generate }

    public let config: ModelConfig
    public let phase: Phase
    public let batch: Int
    public let loaded: LoadedProgram
    public let dims: [String: Int]
    public let reals: [String: Double]
    public let inputs: [String: Value]
    public let parameters: [String: Variable]
    /// The token sequences (1-based ids), `batch` of them (one for `forward`).
    public let sequences: [[Int]]
    /// The process's resident set with the program loaded (checked and lowered: its code and
    /// plans), before any parameter or input was made: what the run's tensors are measured above.
    /// With `warmsUp` (where the peak can be restarted, `BenchTiming.restartPeakRSS`) it also holds
    /// the code one run executes: see `init`.
    public let baselineRSSBytes: Int
    let evaluator: Evaluator

    /// The `.algo` file of a phase and batch size.
    public static func file(_ phase: Phase, batch: Int) -> String {
        switch phase {
        case .forward: return "DTransformer.algo"
        case .train: return batch == 1 ? "DTraining.algo" : "DTrainingMinibatch.algo"
        case .generate: return "DInference.algo"
        }
    }

    /// Loads `directory/file(phase, batch)` and prepares parameters and inputs; a missing or
    /// failing file is a `RunFailure` (its diagnostics) or a `RuntimeError`.
    ///
    /// `warmsUp` (for memory measurements; it sets `Parallel.threads` for a moment, so not for
    /// tests running side by side): where the process's peak can be restarted (Linux), one run on
    /// throw-away parameters comes first, on one thread, so that the binary's code the run executes
    /// is paged in; then everything it made is freed (its tensors, the buffer pool, the thread's
    /// GEMM packing buffers, malloc's free pages), the peak restarts, and the baseline is taken.
    /// On the tiny model that code (≈ 1.5 MB) was as large as the tensors measured above it.
    public init(_ config: ModelConfig, phase: Phase, batch: Int, algorithms directory: String, seed: UInt64 = 0, dtype: DType = .f32,
                warmsUp: Bool = false) throws {
        self.config = config
        self.phase = phase
        self.batch = phase == .train ? batch : 1
        let path = (directory as NSString).appendingPathComponent(Self.file(phase, batch: self.batch))
        var dims = config.dimensions
        switch Pipeline.load(path: path, values: dims) {
        case .success(let l): loaded = l
        case .failure(let f): throw f
        }
        let restarts = warmsUp && BenchTiming.restartPeakRSS()
        sequences = (0..<self.batch).map { Self.tokens(count: config.ℓ, vocabulary: config.N_V, stream: $0) }
        var reals: [String: Double] = [:]
        switch phase {
        case .forward:
            inputs = ["x": .tokens(sequences[0])]
        case .generate:
            inputs = ["x": .tokens([sequences[0][0]])]
            dims["ℓ_gen"] = config.ℓ
            reals["τ"] = 1
        case .train:
            var elements: [Int: [Int]] = [:]
            for (i, s) in sequences.enumerated() { elements[i + 1] = s }
            guard let name = RunSession.datasetInputs(loaded.target).first?.name else {
                throw RuntimeError(.notExecutable, "`\(loaded.target.name)` has no dataset input `x_{1:N_data}` to train on", at: loaded.target.syntax.title.span)
            }
            let (data, count) = try RunSession.dataset([name: elements], loaded.target)
            inputs = data
            dims["N_epochs"] = 1
            dims = try RunSession.datasetDimensions(loaded.target, count: count, given: self.batch > 1 ? dims.merging(["B": self.batch]) { $1 } : dims)
            reals["η"] = 0.01
        }
        self.dims = dims
        self.reals = reals
        let specs = try ParameterLayout.parameters(of: loaded.target, program: loaded.program, dims: dims)
        var options = RunOptions()
        options.dtype = dtype
        if restarts {
            try Self.warmUp(loaded, dims: dims, reals: reals, inputs: inputs, specs: specs, options: options)
            _ = BenchTiming.restartPeakRSS()
        }
        baselineRSSBytes = BenchTiming.peakRSSBytes()
        parameters = ParameterLayout.initialise(specs, seed: seed, dtype: dtype)
        evaluator = Evaluator(program: loaded.program, options: options)
    }

    /// One run on one thread with parameters and an evaluator of its own, then everything it made
    /// given back to the system, so that only the code it paged in stays resident.
    private static func warmUp(_ loaded: LoadedProgram, dims: [String: Int], reals: [String: Double], inputs: [String: Value],
                               specs: [ParameterSpec], options: RunOptions) throws {
        let saved = Parallel.threads
        Parallel.threads = 1
        defer {
            Parallel.threads = saved
            GEMM.releaseScratch()
            BufferPool.shared.drain()
            BenchTiming.trimMalloc()
        }
        let evaluator = Evaluator(program: loaded.program, options: options)
        _ = try evaluator.run(loaded.target, dims: dims, reals: reals, inputs: inputs,
                              parameters: ParameterLayout.initialise(specs, seed: 1, dtype: options.dtype))
    }

    /// One evaluation through the interpreter: P ∈ ℝ^{N_V×ℓ} for `forward`, the collection θ̂ for
    /// `train`, the ℓ sampled tokens for `generate`.
    @discardableResult
    public func run() throws -> Value {
        try evaluator.run(loaded.target, dims: dims, reals: reals, inputs: inputs, parameters: parameters)
    }

    /// The same forward pass written directly against AlgoTensor (`Direct.dTransformer`, Algorithm
    /// 10), on the same parameters and the first sequence: P ∈ ℝ^{N_V×ℓ}.
    public func direct() -> Tensor {
        Direct.dTransformer(x: sequences[0], Direct.Parameters(parameters), ["L": config.L, "H": config.H]).value
    }

    /// Reproducible token ids in 1…vocabulary (a linear congruential stream per sequence).
    public static func tokens(count: Int, vocabulary: Int, stream: Int) -> [Int] {
        var state = UInt64(0x2545_F491_4F6C_DD1D) &+ UInt64(stream) &* 0x9E37_79B9_7F4A_7C15
        return (0..<count).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(vocabulary)) + 1
        }
    }
}

/// Timing and memory of benchmarks.
public enum BenchTiming {
    /// Runs `body` `warmups` times untimed, then times it: at least `minimum` and at most `maximum`
    /// repetitions, as many as fit in `budget` seconds judged by the last warm-up (or the first
    /// timed run without warm-ups). Returns the seconds of each timed repetition.
    public static func repeated(warmups: Int, minimum: Int, maximum: Int, budget: Double, _ body: () throws -> Void) rethrows -> [Double] {
        var last = 0.0
        for _ in 0..<warmups { last = try seconds(body) }
        var times: [Double] = []
        if warmups == 0 { last = try seconds(body); times.append(last) }
        let count = max(minimum, min(maximum, Int(budget / max(last, 1e-6))))
        while times.count < count { times.append(try seconds(body)) }
        return times
    }

    static func seconds(_ body: () throws -> Void) rethrows -> Double {
        let t0 = Stopwatch.now()
        try body()
        return Stopwatch.now() - t0
    }

    /// The median (the mean of the middle two for an even count).
    public static func median(_ x: [Double]) -> Double {
        precondition(!x.isEmpty, "median of nothing")
        let s = x.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    /// The process's peak resident set size, in bytes, since it started or since the last
    /// `restartPeakRSS`: Linux's `VmHWM` (`/proc/self/status`), else `getrusage`'s `ru_maxrss`
    /// (bytes on macOS; it never decreases there, so a measurement that wants its own peak runs in a
    /// process of its own).
    public static func peakRSSBytes() -> Int {
        #if os(Linux)
        if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
           let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
           let kB = Int(line.dropFirst("VmHWM:".count).trimmingCharacters(in: .whitespaces).dropLast(3).trimmingCharacters(in: .whitespaces)) {
            return kB * 1024
        }
        #endif
        var usage = rusage()
        #if os(macOS)
        getrusage(RUSAGE_SELF, &usage)
        return Int(usage.ru_maxrss)
        #else
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Int(usage.ru_maxrss) * 1024
        #endif
    }

    /// Restarts the peak at the current resident set (Linux: "5" written to `/proc/self/clear_refs`);
    /// false where that is not possible (macOS, a `/proc` that refuses it).
    public static func restartPeakRSS() -> Bool {
        #if os(Linux)
        let fd = open("/proc/self/clear_refs", O_WRONLY)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return write(fd, "5", 1) == 1
        #else
        return false
        #endif
    }

    /// Gives malloc's free pages back to the system (glibc's `malloc_trim(0)`, looked up at run time
    /// since Swift's Glibc module does not declare it); nothing elsewhere.
    static func trimMalloc() {
        #if os(Linux)
        typealias Trim = @convention(c) (Int) -> Int32
        if let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") {
            _ = unsafeBitCast(symbol, to: Trim.self)(0)
        }
        #endif
    }

    /// The largest |a − b| over the elements of two tensors of one shape (nil if the shapes differ).
    public static func maxAbsDifference(_ a: Tensor, _ b: Tensor) -> Double? {
        guard a.shape == b.shape else { return nil }
        let x = a.doubles, y = b.doubles
        var m = 0.0
        for i in 0..<x.count {
            let d = abs(x[i] - y[i])
            if !(d <= m) { m = d.isNaN ? .infinity : d }   // a NaN is an infinite difference
        }
        return m
    }
}

/// One measurement of `algo bench model` / `algo bench scale`: what to run. Sent to a child
/// process as JSON (`algo bench model --child JOB`), so that its peak memory is its own.
public struct ModelJob: Codable, Sendable, Equatable {
    /// `model`: time the interpreter's runs of `phase`. `overhead`: time the interpreter's forward
    /// and `Direct.dTransformer` in alternating rounds, after checking they give the same P.
    public enum Kind: String, Codable, Sendable { case model, overhead }
    public var kind: Kind
    public var config: ModelConfig
    public var phase: String
    public var batch: Int
    public var threads: Int
    /// Untimed runs first; then between `minimum` and `maximum` timed runs, as many as fit in `budget` seconds.
    public var warmups: Int, minimum: Int, maximum: Int
    public var budget: Double
    /// The directory holding the `.algo` files (`Algorithms/`).
    public var algorithms: String

    /// The bytes the measurement needs at least (`ModelConfig`): parameters, gradients and kept
    /// activations for `train`, the parameters for `forward`.
    public var neededBytes: Int { phase == "train" ? config.trainingBytes(batch: batch) : config.parameterBytes }
    /// The FLOPs of one run: a training step, or one forward pass on ℓ tokens (`generate` computes
    /// each of its ℓ positions' columns once, as a forward pass on the final sequence does).
    public var flops: Double { phase == "train" ? config.trainFLOPs(batch: batch) : config.forwardFLOPs }

    public init(kind: Kind, config: ModelConfig, phase: String, batch: Int, threads: Int, warmups: Int, minimum: Int, maximum: Int,
                budget: Double, algorithms: String) {
        self.kind = kind; self.config = config; self.phase = phase; self.batch = batch; self.threads = threads
        self.warmups = warmups; self.minimum = minimum; self.maximum = maximum; self.budget = budget; self.algorithms = algorithms
    }
}

/// What one `ModelJob` measured.
public struct ModelSample: Codable, Sendable {
    public var job: ModelJob
    /// Seconds of each timed interpreter run.
    public var seconds: [Double]
    /// `overhead` jobs: seconds of each timed direct run (interleaved with `seconds`), and the
    /// largest |P_interpreter − P_direct| found before timing.
    public var directSeconds: [Double]?
    public var maxAbsDifference: Double?
    /// Peak resident set size of the process at the end (bytes), and before the parameters and
    /// inputs were made (the runtime, the loaded program: `ModelRun.baselineRSSBytes`).
    public var peakRSSBytes: Int
    public var baselineRSSBytes: Int
    /// Whether the process ran only this job (else the peak is the process's peak so far).
    public var isolated: Bool
    /// Parallel jobs of the runs (warm-ups included), and those the pool gave fewer threads than asked because
    /// other processes kept cores busy (`Parallel.adapts`, on as in every `algo run`).
    public var parallelJobs = 0, fewerThreadJobs = 0
}

/// The largest |P_interpreter − P_direct| `overhead` accepts before timing: both are Float32
/// (unit roundoff u = 2⁻²⁴ ≈ 6·10⁻⁸) over up to a few thousand-term sums per entry through ≤ 12
/// layers, in different orders (fused kernels, skipped masked scores); P ∈ (0, 1), so 10⁻⁴ allows
/// ~1700 u of accumulated difference and still catches a wrong mask, head order or layer norm
/// (those change P by ≥ 10⁻³ for the initialised models).
public let directTolerance = 1e-4

extension ModelJob {
    /// Runs the job in this process. Errors: the `.algo` file fails to load or run (`RunFailure`,
    /// `RuntimeError`), or the interpreter and the direct forward disagree (`Disagreement`).
    public func measure(isolated: Bool) throws -> ModelSample {
        let saved = Parallel.threads
        Parallel.threads = threads
        defer { Parallel.threads = saved }
        guard let phase = ModelRun.Phase(rawValue: phase) else { throw Disagreement(message: "unknown phase `\(self.phase)`") }
        let run = try ModelRun(config, phase: phase, batch: batch, algorithms: algorithms, warmsUp: true)
        let baseline = run.baselineRSSBytes
        switch kind {
        case .model:
            let before = Parallel.jobCounts
            let seconds = try BenchTiming.repeated(warmups: warmups, minimum: minimum, maximum: maximum, budget: budget) { try run.run() }
            let after = Parallel.jobCounts
            var sample = ModelSample(job: self, seconds: seconds, directSeconds: nil, maxAbsDifference: nil,
                                     peakRSSBytes: BenchTiming.peakRSSBytes(), baselineRSSBytes: baseline, isolated: isolated)
            sample.parallelJobs = after.jobs - before.jobs
            sample.fewerThreadJobs = after.fewerThreads - before.fewerThreads
            return sample
        case .overhead:
            guard case .tensor(let P) = try run.run() else { throw Disagreement(message: "DTransformer returned no matrix") }
            let direct = run.direct()
            let difference = BenchTiming.maxAbsDifference(P.value, direct)
            guard let diff = difference, diff <= directTolerance else {
                throw Disagreement(message: "the interpreter's P (\(P.shape)) and the direct Swift P (\(direct.shape)) differ by "
                                   + "\(difference.map { String($0) } ?? "shape") > \(directTolerance)")
            }
            // Alternate: a noisy moment hits both alike. Warm-ups of each first.
            for _ in 0..<warmups { try run.run(); _ = run.direct() }
            var interpreted: [Double] = [], directly: [Double] = []
            let first = try BenchTiming.seconds { try run.run() } + BenchTiming.seconds { _ = run.direct() }
            let rounds = max(minimum, min(maximum, Int(2 * budget / max(first, 1e-6))))
            for _ in 0..<rounds {
                interpreted.append(try BenchTiming.seconds { try run.run() })
                directly.append(BenchTiming.seconds { _ = run.direct() })
            }
            return ModelSample(job: self, seconds: interpreted, directSeconds: directly, maxAbsDifference: diff,
                               peakRSSBytes: BenchTiming.peakRSSBytes(), baselineRSSBytes: baseline, isolated: isolated)
        }
    }
}

/// A benchmark that cannot be trusted: the interpreter and the direct version disagree, or a job is malformed.
public struct Disagreement: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
