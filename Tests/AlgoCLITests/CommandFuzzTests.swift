import AlgoDiagnostics
@testable import AlgoEval
import AlgoTensor
import Dispatch
import Foundation
import Testing
@testable import AlgoCLI

/// A seeded fuzzer for the command line and the file readers (issue 16), in the spirit of the
/// parser fuzzer (`AlgoSyntaxTests/RobustnessTests`): every input runs in-process through
/// `CLI.run` under a 256 MB memory budget (`SizeBudget.limitOverride`) and a time bound, and must
/// end in a clean result or a clear refusal with its documented exit code — never a trap, a hang
/// or an allocation past the budget.
///
/// Inputs (`defaultCount` = 96 per run; each made by its own generator seeded from the run's seed
/// and its index, so any one is reproducible alone):
/// - 3 in 5: command lines of `run`, `params` on the shipped algorithms with 1–3 generated
///   `--set` values (huge: 2³¹…2⁶³−1; negative; 0; NaN, ∞, 1e308; empty; Unicode digits and
///   letters; duplicates), and sometimes `--input`, `--seed`, `--max-steps`, `--precision`,
///   `--checkpoint-every`, `--log-every` with values drawn the same way, and an output flag naming
///   a new file, a directory, a FIFO, a missing directory or nothing;
/// - 1 in 5: a mutated checkpoint for `--params` (header bytes flipped, truncated, shapes and
///   metadata values replaced by generated numbers) or a mutated training checkpoint for `--resume`
///   (step, state counters, generator words, tensor shapes);
/// - 1 in 5: a mutated tokenizer file (`--tokenizer`: merge ids, doubling merge chains, huge ids,
///   vocabularies) or an experiment data file (random bytes, invalid UTF-8, empty, short text) for
///   a tiny CharGPT, half the time with one of its header values replaced by a hostile one.
///
/// Accepted outcomes: exit 0; exit 1 with a coded diagnostic (`error[E…]`);
/// exit 2 with a usage message; exit 3 naming the input; exit 4 naming the output. A trap ends the
/// test process (that is the failure the fuzzer exists to find); a run still going after
/// `perInputBound` (30 s of wall time, 20× the slowest clean input in a debug build on two loaded
/// cores) is reported as a hang. The run prints its counts per outcome and the slowest input.
///
/// `ALGO_FUZZ_SEED=<n>` and `ALGO_FUZZ_COUNT=<n>` explore further; a failure names the seed and the
/// input's index and prints its command line; `ALGO_FUZZ_TRACE=1` prints every command line before
/// it runs (a trap ends the process before the test could name it).
@Suite struct CommandFuzzTests {
    static let defaultSeed: UInt64 = 0x16_2026
    static let defaultCount = 96
    static let budget = 256_000_000
    static let perInputBound: TimeInterval = 30
    static let algorithms = RunCommandTests.repository + "/Algorithms/"

    static var seed: UInt64 { ProcessInfo.processInfo.environment["ALGO_FUZZ_SEED"].flatMap { UInt64($0) } ?? defaultSeed }
    static var count: Int { ProcessInfo.processInfo.environment["ALGO_FUZZ_COUNT"].flatMap { Int($0) } ?? defaultCount }

    // MARK: - Generated values

    /// A value for a dimension or a count from outside: mostly hostile, sometimes small and valid.
    static func value(_ rng: inout RandomGenerator) -> String {
        let pools: [[String]] = [
            ["1", "2", "3"],                                                         // valid, small
            ["0", "-1", "-9223372036854775808", "-0"],                               // degenerate, negative
            ["2147483648", "1000000000000", "4611686018427387904", "9223372036854775807", "9223372036854775808"], // huge
            ["NaN", "nan", "inf", "-inf", "1e308", "1e-308", "3.5", "1e3", "0x10", "+5", "1_000"],  // not naturals
            ["", " ", "٣", "１２", "ℓ", "d_e", "½", "🙂", "\u{0301}", "1\u{0000}"],   // empty, Unicode
        ]
        let pool = pools[rng.int(below: pools.count)]
        return pool[rng.int(below: pool.count)]
    }

    static let names = ["d_e", "N_V", "ℓ_max", "L", "H", "d_mlp", "d_attn", "d_mid", "ℓ_gen", "N_epochs", "τ", "B", "η", "Mask", "ｄ_e", "", "x"]
    static let files: [(command: String, file: String, base: String)] = [
        ("run", "DTransformer.algo", "d_e=8,d_mlp=8,H=2,L=1,d_attn=4,d_mid=4"),
        ("run", "DInference.algo", "d_e=8,d_mlp=8,H=2,L=1,d_attn=4,d_mid=4,ℓ_gen=2"),
        ("run", "ETransformer.algo", "d_e=8,d_mlp=8,H=2,L=1,d_attn=4,d_mid=4"),
        ("run", "EDTransformer.algo", "d_e=8,d_mlp=8,H=2,L_enc=1,L_dec=1,d_attn=4,d_mid=4"),
        ("run", "DTraining.algo", "d_e=8,d_mlp=8,H=2,L=1,d_attn=4,d_mid=4,N_epochs=1"),
        ("run", "DTrainingAdam.algo", "d_e=8,d_mlp=8,H=2,L=1,d_attn=4,d_mid=4,N_epochs=1"),
        ("params", "DTransformer.algo", ""),
    ]

    /// A command line with generated flag values.
    static func commandLine(_ rng: inout RandomGenerator, in dir: String) -> [String] {
        let f = files[rng.int(below: files.count)]
        var sets = f.base.isEmpty ? [] : [f.base]
        for _ in 0..<(1 + rng.int(below: 3)) {
            let name = names[rng.int(below: names.count)]
            sets.append(rng.int(below: 8) == 0 ? "\(name)=\(value(&rng)),\(name)=\(value(&rng))" : "\(name)=\(value(&rng))")
        }
        var args = [f.command, algorithms + f.file, "--set", sets.joined(separator: ",")]
        guard f.command == "run" else { return args }
        if rng.int(below: 3) == 0 {
            let key = f.file.contains("Training") ? "x_\([1, 2, 1_000_000_000, Int.max][rng.int(below: 4)])" : "x"
            let tokens = [value(&rng), "1,2,3", String(repeating: "1,", count: 200) + "1", "\(value(&rng)),\(value(&rng))"][rng.int(below: 4)]
            args += ["--input", "\(key)=\(tokens)"]
        }
        if rng.int(below: 6) == 0 {
            // An output: new, a directory, a FIFO, in a missing directory, or empty.
            let fifo = dir + "/fifo"
            _ = mkfifo(fifo, 0o644)
            let flag = ["--output", "--save-params", "--checkpoint", "--loss-svg"][rng.int(below: 4)]
            args += [flag, [dir + "/out.safetensors", dir, fifo, dir + "/none/out", ""][rng.int(below: 5)]]
        }
        for flag in ["seed", "max-steps", "precision", "checkpoint-every", "log-every"] where rng.int(below: 6) == 0 {
            args += ["--\(flag)", flag == "precision" ? ["f32", "f64", "f16", ""][rng.int(below: 4)] : value(&rng)]
        }
        return args
    }

    // MARK: - Mutated files

    /// A small checkpoint of DTransformer's parameters and one of DTraining's training state,
    /// written once per run.
    static let seeds: (params: [UInt8], training: Checkpoint, trainingArgs: [String]) = {
        let dir = NSTemporaryDirectory() + "algo-fuzz-seed-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let small = "d_e=8,d_mlp=8,H=2,L=1,d_attn=4,d_mid=4"
        var o = Output()
        _ = CLI.run(["run", algorithms + "DTransformer.algo", "--set", small, "--save-params", dir + "/p.safetensors"], &o)
        let trainingArgs = ["run", algorithms + "DTraining.algo", "--set", small + ",N_epochs=1"]
        _ = CLI.run(trainingArgs + ["--checkpoint", dir + "/t.safetensors"], &o)
        let params = (try? FileBytes.read(dir + "/p.safetensors").get()) ?? []
        let training = (try? Checkpoint.read(dir + "/t.safetensors").get()) ?? Checkpoint(tensors: [], metadata: [:])
        return (params, training, trainingArgs)
    }()

    /// A mutated `--params` checkpoint: bytes flipped in the header or data, truncated, or its
    /// metadata's hyperparameters and its tensors' shapes replaced.
    static func mutatedParams(_ rng: inout RandomGenerator) -> [UInt8] {
        var b = seeds.params
        guard b.count > 16 else { return b }
        switch rng.int(below: 4) {
        case 0: for _ in 0..<(1 + rng.int(below: 4)) { b[rng.int(below: min(b.count, 600))] = UInt8(rng.int(below: 256)) }
        case 1: b = Array(b.prefix(rng.int(below: b.count)))
        case 2:
            // Replace a number inside the JSON header (a shape, an offset or a metadata value).
            let n = Int(UInt64(littleEndian: b[0..<8].withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }))
            var header = String(decoding: b[8..<(8 + min(n, b.count - 8))], as: UTF8.self)
            let digits = header.indices.filter { header[$0].isNumber }
            if let at = digits.randomElement(using: &rng) { header.replaceSubrange(at...at, with: value(&rng)) }
            let bytes = Array(header.utf8)
            b = withUnsafeBytes(of: UInt64(bytes.count).littleEndian) { Array($0) } + bytes + b.dropFirst(8 + n)
        default:
            guard var c = try? Checkpoint.decode(b).get() else { return b }
            for k in ["d_e", "N_V", "L", "H", "ℓ_max", "d_mlp"] where rng.int(below: 3) == 0 { c.metadata[CheckpointMetadata.hyperparameterPrefix + k] = value(&rng) }
            if rng.int(below: 2) == 0 {
                let token = [Double.nan, 1e30, 1.5, -3, 0, 9.3e18, 1][rng.int(below: 7)]
                let shape = [[2], [2, 2], [1], [0]][rng.int(below: 4)]
                c.tensors.append(("input.x", Tensor(shape: shape, values: [Double](repeating: token, count: Shape.count(shape)), dtype: .f64)))
            }
            b = (try? Checkpoint.encode(tensors: c.tensors, metadata: c.metadata).get()) ?? b
        }
        return b
    }

    /// A mutated `--resume` checkpoint: the step, a state counter, the generator words or a
    /// state tensor's shape replaced.
    static func mutatedTraining(_ rng: inout RandomGenerator) -> [UInt8] {
        var c = seeds.training
        let keys = c.metadata.keys.filter { $0.hasPrefix("algo.train.") }.sorted()
        for _ in 0..<(1 + rng.int(below: 2)) {
            guard let key = keys.randomElement(using: &rng) else { break }
            let old = c.metadata[key] ?? ""
            c.metadata[key] = old.hasPrefix("nat:") ? "nat:" + value(&rng) : (rng.int(below: 2) == 0 ? value(&rng) : String(old.reversed()))
        }
        if rng.int(below: 3) == 0, let i = c.tensors.indices.randomElement(using: &rng), c.tensors[i].tensor.rank == 2 {
            c.tensors[i].tensor = c.tensors[i].tensor.permuted([1, 0]).copy()
        }
        return (try? Checkpoint.encode(tensors: c.tensors, metadata: c.metadata).get()) ?? []
    }

    /// A mutated tokenizer file.
    static func mutatedTokenizer(_ rng: inout RandomGenerator) -> [UInt8] {
        var merges: [String] = []
        switch rng.int(below: 3) {
        case 0:   // a doubling chain: each merge joins the previous element with itself
            merges.append("[98,98]")
            for r in 1..<(2 + rng.int(below: 60)) { merges.append("[\(256 + r),\(256 + r)]") }
        case 1:   // generated ids
            for _ in 0..<(1 + rng.int(below: 6)) { merges.append("[\(value(&rng)),\(value(&rng))]") }
        default:
            let vocab = (0..<(rng.int(below: 5))).map { _ in "\"\(value(&rng))\"" }
            return Array("{\"format\":\"algo-tokenizer\",\"version\":1,\"kind\":\"character\",\"vocabulary\":[\(vocab.joined(separator: ","))]}".utf8)
        }
        return Array("{\"format\":\"algo-tokenizer\",\"version\":1,\"kind\":\"bpe\",\"merges\":[\(merges.joined(separator: ","))]}".utf8)
    }

    /// An experiment data file: random bytes, invalid UTF-8, empty, or a short text.
    static func dataFile(_ rng: inout RandomGenerator) -> [UInt8] {
        switch rng.int(below: 4) {
        case 0: return (0..<rng.int(below: 400)).map { _ in UInt8(rng.int(below: 256)) }
        case 1: return Array("prose\u{00E9}".utf8) + [0xC3, 0x28]
        case 2: return []
        default: return Array(String(repeating: "the cat sat. ", count: 1 + rng.int(below: 20)).utf8)
        }
    }

    // MARK: - One input

    enum Outcome: String, CaseIterable { case ok, diagnostic, usage, input, output }

    /// Builds input `index` and runs it; nil with a reason when the outcome is not acceptable.
    static func check(_ index: Int, in dir: String) -> (outcome: Outcome?, problem: String?, args: [String]) {
        var rng = RandomGenerator(seed: seed &+ UInt64(index) &* 0x9E37_79B9_7F4A_7C15)
        let kind = rng.int(below: 5)
        var args: [String]
        func file(_ name: String, _ bytes: [UInt8]) -> String {
            let p = dir + "/" + name
            FileManager.default.createFile(atPath: p, contents: Data(bytes))
            return p
        }
        switch kind {
        case 0, 1, 2: args = commandLine(&rng, in: dir)
        case 3:
            if rng.int(below: 2) == 0 {
                args = ["run", algorithms + "DTransformer.algo", "--params", file("p.safetensors", mutatedParams(&rng))]
            } else {
                args = seeds.trainingArgs + ["--resume", file("t.safetensors", mutatedTraining(&rng))]
            }
        default:
            if rng.int(below: 3) != 0 {
                args = ["run", algorithms + "DTransformer.algo", "--set", "d_e=8,d_mlp=8,H=2,L=1,d_attn=4,d_mid=4",
                        "--tokenizer", file("tok.json", mutatedTokenizer(&rng)), "--text", "x=abba"]
            } else {
                // A tiny CharGPT; half the time one header value replaced by a hostile one (never a
                // small valid one: those would train on the default sizes for minutes).
                var set = "ℓ_test=20,ℓ_max=8,L=1,H=1,d_e=4,d_mlp=4,d_attn=4,d_mid=4,ℓ_prompt=2,ℓ_gen=2"
                if rng.int(below: 2) == 0 {
                    var v = value(&rng)
                    while ["1", "2", "3"].contains(v) { v = value(&rng) }
                    set += ",\(["ℓ_test", "ℓ_max", "L", "H", "d_e", "d_mlp", "ℓ_prompt", "ℓ_gen", "N_epochs", "η", "τ", "β_1"][rng.int(below: 12)])=\(v)"
                }
                args = ["run", algorithms + "Experiments/CharGPT.algo", "--data", file("data.txt", dataFile(&rng)), "--output", dir + "/θ.safetensors", "--set", set]
            }
        }
        // A trap ends the process before the test can name the input: ALGO_FUZZ_TRACE=1 prints each first.
        if ProcessInfo.processInfo.environment["ALGO_FUZZ_TRACE"] != nil { print("fuzz input \(index): algo \(args.joined(separator: " "))") }
        var o = Output(color: false)
        // A pool of its own: the budget also bounds the tensors a run holds (`SizeBudget.checkHeld`),
        // and tests running beside this one must not count.
        let code = BufferPool.$current.withValue(BufferPool()) { SizeBudget.$limitOverride.withValue(budget) { CLI.run(args, &o) } }
        let outcome: Outcome
        switch code {
        case .ok: outcome = .ok
        case .diagnostics:
            outcome = .diagnostic
            if !o.stderr.contains("error[E") { return (outcome, "exit 1 without a coded diagnostic: \(o.stderr)", args) }
        case .usage:
            outcome = .usage
            if !o.stderr.contains("error") { return (outcome, "exit 2 without a message: \(o.stderr)", args) }
        case .input:
            outcome = .input
            if !o.stderr.contains("cannot read") && !o.stderr.contains("error[E00") { return (outcome, "exit 3 without naming the input: \(o.stderr)", args) }
        case .output:
            outcome = .output
            if !o.stderr.contains("cannot write") { return (outcome, "exit 4 without naming the output: \(o.stderr)", args) }
        case .interrupted: return (nil, "exit 130 without an interrupt", args)
        }
        if o.stderr.contains("line ?") { return (outcome, "a message at `line ?`: \(o.stderr)", args) }
        return (outcome, nil, args)
    }

    @Test("generated flag values and mutated checkpoints, tokenizers and data files: a clean result or a documented refusal each time, within time and memory")
    func fuzz() throws {
        let root = NSTemporaryDirectory() + "algo-fuzz-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        _ = Self.seeds
        final class Tally: @unchecked Sendable {
            let lock = NSLock()
            var counts: [Outcome: Int] = [:], problems: [String] = [], slowest = (seconds: 0.0, args: [String]())
            var hung = false
        }
        let t = Tally()
        let next = ManagedAtomicCounter()
        // Two workers (the machine has two cores); each input gets a watchdog.
        DispatchQueue.concurrentPerform(iterations: 2) { _ in
            while true {
                let i = next.increment()
                guard i < Self.count else { return }
                t.lock.lock(); let stop = t.hung; t.lock.unlock()
                if stop { return }
                let dir = root + "/\(i)"
                try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
                let done = DispatchSemaphore(value: 0)
                final class Box: @unchecked Sendable { var result: (outcome: Outcome?, problem: String?, args: [String])? }
                let box = Box()
                let started = Date()
                DispatchQueue.global().async { box.result = Self.check(i, in: dir); done.signal() }
                if done.wait(timeout: .now() + Self.perInputBound) == .timedOut {
                    t.lock.lock(); t.hung = true; t.problems.append("input \(i) (seed \(Self.seed)) still runs after \(Int(Self.perInputBound)) s"); t.lock.unlock()
                    return
                }
                let seconds = Date().timeIntervalSince(started)
                let r = box.result!
                t.lock.lock()
                if let o = r.outcome { t.counts[o, default: 0] += 1 }
                if let p = r.problem { t.problems.append("input \(i) (seed \(Self.seed)): \(p)\n  algo \(r.args.joined(separator: " "))") }
                if seconds > t.slowest.seconds { t.slowest = (seconds, r.args) }
                t.lock.unlock()
            }
        }
        let counts = t.counts, problems = t.problems, slowest = t.slowest
        var usage = rusage()
        getrusage(0, &usage)   // RUSAGE_SELF
        print("command fuzz: \(Self.count) inputs (seed \(Self.seed)): " + Outcome.allCases.map { "\(counts[$0] ?? 0) \($0.rawValue)" }.joined(separator: ", ")
              + String(format: "; slowest %.2f s: algo %@; peak RSS of the test process %d MB", slowest.seconds, slowest.args.joined(separator: " "), usage.ru_maxrss / 1024))
        for p in problems { Issue.record(Comment(rawValue: p)) }
        #expect(counts.values.reduce(0, +) == Self.count || !problems.isEmpty)
        // The generator must reach every kind of outcome it exists to provoke (not only usage errors).
        #expect((counts[.ok] ?? 0) > 0 && (counts[.diagnostic] ?? 0) > 0 && (counts[.usage] ?? 0) > 0 && (counts[.input] ?? 0) > 0 && (counts[.output] ?? 0) > 0, "\(counts)")
    }
}

/// A counter shared by the fuzz workers.
final class ManagedAtomicCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = -1
    func increment() -> Int { lock.lock(); defer { lock.unlock() }; value += 1; return value }
}
