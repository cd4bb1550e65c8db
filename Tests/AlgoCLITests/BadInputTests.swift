import AlgoDiagnostics
@testable import AlgoEval
import AlgoTensor
import Foundation
import Testing
@testable import AlgoCLI

/// Issue 16: every family of bad input from outside — sizes, numbers in files, output paths,
/// messages — ends in a coded diagnostic or a clear message with the documented exit code, never a
/// trap, a hang or a destroyed file. In-process through `CLI.run` (under a 2 GB memory budget so
/// the refusals do not depend on the machine), except the standard-stream and signal cases, which
/// need the built `algo` binary.
@Suite("bad input: sizes, numbers from files, output paths, streams and messages (issue 16)")
struct BadInputTests {
    static let algorithms = RunCommandTests.repository + "/Algorithms/"
    static let budget = 2_000_000_000
    static let huge = "9223372036854775807"

    static func scratch() throws -> String {
        let dir = NSTemporaryDirectory() + "algo-bad-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Runs `algo ARGS` in-process under the test budget.
    static func run(_ args: [String]) -> (code: ExitCode, out: String, err: String) {
        BufferPool.$current.withValue(BufferPool()) { SizeBudget.$limitOverride.withValue(budget) {
            var o = Output(color: false)
            let code = CLI.run(args, &o)
            return (code, o.stdout, o.stderr)
        } }
    }

    // MARK: - Sizes from the command line (E0517, E0518, E0515)

    @Test("E0517: d_e, N_V, ℓ_max, L and H past the memory budget or 2⁶³ are refused before allocation, naming the dimension and the bytes")
    func memoryBudget() {
        for (file, set, named) in [("DTransformer.algo", "d_e=100000000", "d_e = 100000000"), ("DTransformer.algo", "d_e=\(Self.huge)", "d_e = \(Self.huge)"),
                                   ("DTransformer.algo", "N_V=10000000000", "N_V = 10000000000"), ("DTransformer.algo", "ℓ_max=10000000000", "ℓ_max = 10000000000"),
                                   ("DTransformer.algo", "L=\(Self.huge)", "`L` = \(Self.huge)"), ("DTransformer.algo", "H=1000000000000", "`H` = 1000000000000"),
                                   ("ETransformer.algo", "d_mlp=\(Self.huge)", "d_mlp = \(Self.huge)")] {
            let started = Date()
            let r = Self.run(["run", Self.algorithms + file, "--set", set])
            #expect(r.code == .diagnostics && r.err.contains("error[E0517]") && r.err.contains(named) && r.err.contains("the memory budget is 2.0 GB"), "\(set): \(r.err)")
            #expect(Date().timeIntervalSince(started) < 10, "\(set) took \(Date().timeIntervalSince(started)) s")
        }
        // `algo params` lists shapes: an overflowing product is refused the same way (it trapped in Shape.count).
        let p = Self.run(["params", Self.algorithms + "DTransformer.algo", "--set", "d_e=\(Self.huge)"])
        #expect(p.code == .diagnostics && p.err.contains("error[E0517]") && p.err.contains("overflows a 64-bit integer"), "\(p.err)")
        // A checkpoint's metadata is a size from outside too: L = 2⁶³−1 in `algo.hyperparameter.L`.
        let dir = try! Self.scratch()
        let ck = dir + "/meta.safetensors"
        _ = try! Checkpoint.write(tensors: [("W_e", Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5, 6]))],
                                  metadata: CheckpointMetadata.make(source: "", hyperparameters: ["L": Self.huge, "H": "1000000000000"]), to: ck).get()
        let m = Self.run(["run", Self.algorithms + "DTransformer.algo", "--params", ck])
        #expect(m.code == .diagnostics && m.err.contains("error[E0517]"), "\(m.err)")
    }

    @Test("E0518: a dimension of 0 or below (d_e, d_mlp, from --set or a checkpoint) is refused, not an index-out-of-range trap or a meaningless result")
    func degenerateDimensions() throws {
        let ck = try Self.scratch() + "/negative.safetensors"
        _ = try Checkpoint.write(tensors: [], metadata: CheckpointMetadata.make(source: "", hyperparameters: ["d_mlp": "-3"]), to: ck).get()
        for args in [["run", Self.algorithms + "DTransformer.algo", "--set", "d_e=0"],
                     ["gradcheck", Self.algorithms + "DTraining.algo", "--set", "d_e=0"],
                     ["gradcheck", Self.algorithms + "DTraining.algo", "--set", "d_mlp=0"],
                     ["run", Self.algorithms + "DTrainingAdam.algo", "--set", "d_attn=0"],
                     ["run", Self.algorithms + "DTransformer.algo", "--params", ck]] {
            let r = Self.run(args)
            #expect(r.code == .diagnostics && r.err.contains("error[E0518]") && r.err.contains("must be at least 1"), "\(args): \(r.err)")
        }
    }

    @Test("loop bounds from flags are checked before the loop: ℓ_gen beyond ℓ_max (E0515), N_epochs = 2⁶³−1 (E0517), x_1000000000 (E0507 at once)")
    func loopBounds() {
        let started = Date()
        let g = Self.run(["run", Self.algorithms + "DInference.algo", "--set", "ℓ_gen=100000000000"])
        #expect(g.code == .diagnostics && g.err.contains("error[E0515]") && g.err.contains("ℓ_gen = 100000000000"), "\(g.err)")
        let e = Self.run(["run", Self.algorithms + "DTraining.algo", "--set", "N_epochs=\(Self.huge)"])
        #expect(e.code == .diagnostics && e.err.contains("error[E0517]") && e.err.contains("N_epochs = \(Self.huge)"), "\(e.err)")
        let x = Self.run(["run", Self.algorithms + "DTraining.algo", "--input", "x_1000000000=1,2"])
        #expect(x.code == .diagnostics && x.err.contains("error[E0507]") && x.err.contains("misses 1, 2, 3, 4, 5, …"), "\(x.err)")
        #expect(Date().timeIntervalSince(started) < 20)
    }

    @Test("an experiment's --set N_data = 10¹² is refused before a sequence is drawn (E0517)")
    func experimentSizes() {
        let r = Self.run(["run", Self.algorithms + "Experiments/Seq2seq.algo", "--set", "N_data=1000000000000"])
        #expect(r.code == .diagnostics && r.err.contains("error[E0517]") && r.err.contains("1000000000000 sequences"), "\(r.err)")
    }

    // MARK: - Numbers from files

    @Test("a checkpoint's input.x holding NaN, 1e30, 1.5 or a 2×2 matrix is refused naming the file and the tensor (E0507)")
    func checkpointTokenInputs() throws {
        let dir = try Self.scratch()
        for (shape, values, says) in [([2], [Double.nan, 1], "holds nan at position 1"), ([2], [1, 1e30], "holds 1e+30 at position 2"),
                                      ([1], [1.5], "holds 1.5"), ([2, 2], [1, 2, 3, 4], "has shape 2×2")] as [([Int], [Double], String)] {
            let ck = dir + "/x.safetensors"
            _ = try Checkpoint.write(tensors: [("input.x", Tensor(shape: shape, values: values, dtype: .f64))], metadata: [:], to: ck).get()
            let r = Self.run(["run", Self.algorithms + "DTransformer.algo", "--params", ck])
            #expect(r.code == .diagnostics && r.err.contains("error[E0507]") && r.err.contains("`\(ck)`: the tensor `input.x` \(says)"), "\(says): \(r.err)")
        }
    }

    /// A training checkpoint of DTrainingAdam (N_epochs = 1, 4 steps), its tensors and metadata.
    static func adamCheckpoint(_ dir: String) throws -> (path: String, checkpoint: Checkpoint, args: [String]) {
        let ck = dir + "/adam.safetensors"
        let args = ["run", Self.algorithms + "DTrainingAdam.algo", "--set", "N_epochs=1"]
        let r = Self.run(args + ["--checkpoint", ck])
        #expect(r.code == .ok, "\(r.err)")
        return (ck, try Checkpoint.read(ck).get(), args)
    }

    @Test("resume: a step counter of 2⁶³−1 in the state is E0519 at `s ← s + 1` (no overflow trap); a transposed Adam moment names the file and the tensor (E0514)")
    func resumeCheckpoints() throws {
        let dir = try Self.scratch()
        let (ck, c, args) = try Self.adamCheckpoint(dir)
        // Back to step 2 (two losses), with Adam's counter s at 2⁶³−1.
        var meta = c.metadata
        meta["algo.train.step"] = "2"
        meta["algo.train.state.s"] = "nat:\(Self.huge)"
        let histories: Set<String> = ["train.losses", "train.token_losses", "train.predicted_tokens"]
        var tensors = c.tensors.map { histories.contains($0.name) ? ($0.name, Tensor(shape: [2], values: Array($0.tensor.doubles.prefix(2)), dtype: .f64)) : $0 }
        let counter = dir + "/counter.safetensors"
        _ = try Checkpoint.write(tensors: tensors, metadata: meta, to: counter).get()
        let r = Self.run(args + ["--resume", counter])
        #expect(r.code == .diagnostics && r.err.contains("error[E0519]") && r.err.contains("overflows a 64-bit integer"), "\(r.err)")
        // A transposed first moment of W_e.
        tensors = c.tensors.map { e in
            guard e.name == "train.state.m.W_e" else { return e }
            return (e.name, e.tensor.permuted([1, 0]).copy())
        }
        let transposed = dir + "/transposed.safetensors"
        _ = try Checkpoint.write(tensors: tensors, metadata: c.metadata, to: transposed).get()
        // The same run resumed at its last step would have nothing to do; shapes are checked on reading.
        let t = Self.run(args + ["--resume", transposed])
        #expect(t.code == .diagnostics && t.err.contains("error[E0514]") && t.err.contains("`\(transposed)`: the state tensor `train.state.m.W_e`"), "\(t.err)")
        _ = ck
    }

    @Test("a BPE tokenizer whose merges double the previous token (2⁴¹ bytes from a 547-byte file) is refused (E0550, exit 1)")
    func bpeTokenizerBomb() throws {
        let dir = try Self.scratch()
        var merges = ["[98,98]"]
        for r in 1..<41 { merges.append("[\(256 + r),\(256 + r)]") }
        let path = dir + "/bomb.json"
        try "{\"format\":\"algo-tokenizer\",\"version\":1,\"kind\":\"bpe\",\"merges\":[\(merges.joined(separator: ","))]}".write(toFile: path, atomically: true, encoding: .utf8)
        let r = Self.run(["run", Self.algorithms + "DTransformer.algo", "--tokenizer", path, "--text", "x=b"])
        #expect(r.code == .diagnostics && r.err.contains("error[E0550]") && r.err.contains("merge "), "\(r.err)")
    }

    // MARK: - Output paths (exit 4, nothing destroyed)

    @Test("--output onto a FIFO, a directory or a device node is refused with exit 4 before the run, and the node is left alone")
    func outputNodes() throws {
        let dir = try Self.scratch()
        let fifo = dir + "/fifo"
        #expect(mkfifo(fifo, 0o644) == 0)
        var targets = [(fifo, "FIFO"), (dir, "directory")]
        // A copy of Linux's /dev/null, character device 1:3 (needs root; otherwise only the FIFO and
        // the directory are tried).
        #if os(Linux)
        if mknod(dir + "/null", S_IFCHR | 0o666, (1 << 8) | 3) == 0 { targets.append((dir + "/null", "device node")) }
        #endif
        for (path, kind) in targets {
            for flag in ["--output", "--save-params", "--checkpoint", "--loss-svg"] {
                let r = Self.run(["run", Self.algorithms + "DTraining.algo", flag, path])
                #expect(r.code == .output && r.err.contains(kind) && r.out.isEmpty, "\(flag) \(kind): \(r.err)")
            }
            var st = stat()
            #expect(lstat(path, &st) == 0 && (st.st_mode & S_IFMT) != S_IFREG, "\(kind) was replaced")
        }
    }

    @Test("--output into a missing directory fails at once (exit 4), before the training run")
    func missingDirectory() throws {
        let dir = try Self.scratch()
        let r = Self.run(["run", Self.algorithms + "DTraining.algo", "--output", dir + "/none/θ.safetensors"])
        #expect(r.code == .output && r.err.contains("error[E0007]") && r.err.contains("No such file or directory") && !r.out.contains("training:"), "\(r.err)")
        let e = Self.run(["run", Self.algorithms + "Experiments/CharGPT.algo", "--output", dir + "/none/θ.safetensors"])
        #expect(e.code == .output && e.err.contains("error[E0007]: cannot write `--output \(dir)/none/θ.safetensors`"), "\(e.err)")
    }

    @Test("a replaced file keeps its mode (0600 stays 0600, --output and fmt --write); a symbolic link is written through and stays a link")
    func modesAndLinks() throws {
        let dir = try Self.scratch()
        let out = dir + "/private.safetensors"
        try Data("old".utf8).write(to: URL(fileURLWithPath: out))
        #expect(chmod(out, 0o600) == 0)
        #expect(Self.run(["run", Self.algorithms + "DTransformer.algo", "--output", out]).code == .ok)
        var st = stat()
        #expect(stat(out, &st) == 0 && st.st_mode & 0o777 == 0o600)
        #expect((try? Checkpoint.read(out).get())?["output.P"] != nil)

        let algo = dir + "/F.algo"
        try "Algorithm 1: y <- F(x)\n1 y <- x\n2 return y\n".write(toFile: algo, atomically: true, encoding: .utf8)
        #expect(chmod(algo, 0o600) == 0)
        #expect(Self.run(["fmt", "--write", algo]).code == .ok)
        #expect(stat(algo, &st) == 0 && st.st_mode & 0o777 == 0o600)
        #expect(try String(contentsOfFile: algo, encoding: .utf8).contains("←"))

        let target = dir + "/target.safetensors", link = dir + "/link.safetensors"
        try Data("old".utf8).write(to: URL(fileURLWithPath: target))
        #expect(symlink(target, link) == 0)
        #expect(Self.run(["run", Self.algorithms + "DTransformer.algo", "--output", link]).code == .ok)
        #expect(lstat(link, &st) == 0 && (st.st_mode & S_IFMT) == S_IFLNK)
        #expect((try? Checkpoint.read(target).get())?["output.P"] != nil)
        // A dangling link is refused rather than replaced.
        #expect(symlink(dir + "/nowhere/x", dir + "/dangling") == 0)
        let d = Self.run(["run", Self.algorithms + "DTransformer.algo", "--output", dir + "/dangling"])
        #expect(d.code == .output && d.err.contains("symbolic link to a missing"), "\(d.err)")
    }

    // MARK: - Messages

    @Test("a missing, directory or FIFO --params/--resume/--tokenizer gives the system's reason once, exit 3")
    func unreadableInputs() throws {
        let dir = try Self.scratch()
        let fifo = dir + "/fifo"
        #expect(mkfifo(fifo, 0o644) == 0)
        for (path, why) in [(dir + "/none", "no such file"), (dir, "it is a directory"), (fifo, "it is a FIFO"), (dir + "/" + String(repeating: "n", count: 300), "File name too long")] {
            for args in [["run", Self.algorithms + "DTransformer.algo", "--params", path],
                         ["run", Self.algorithms + "DTraining.algo", "--resume", path],
                         ["run", Self.algorithms + "DTransformer.algo", "--tokenizer", path]] {
                // A directory is a tokenizer when it holds tokenizer.json or vocab.json + merges.txt.
                let reason = args.contains("--tokenizer") && path == dir ? "holds neither tokenizer.json nor vocab.json" : why
                let r = Self.run(args)
                #expect(r.code == .input && r.err.contains(reason) && r.err.components(separatedBy: "cannot read").count == 2, "\(args): \(r.err)")
                #expect(r.err.contains(why == "no such file" ? "error[E0001]" : "error[E0002]"), "\(args): \(r.err)")
            }
        }
    }

    @Test("side files get coded diagnostics in text and JSON: a checkpoint that is not safetensors (E0006, exit 3), an output that cannot be written (E0007, exit 4)")
    func sideFileCodes() throws {
        let dir = try Self.scratch()
        let garbage = dir + "/garbage.safetensors"
        try Data("not a checkpoint".utf8).write(to: URL(fileURLWithPath: garbage))
        for flag in ["--params", "--resume"] {
            let r = Self.run(["run", Self.algorithms + "DTraining.algo", flag, garbage])
            #expect(r.code == .input && r.err.contains("error[E0006]: `\(flag) \(garbage)` is not a checkpoint `algo` reads"), "\(flag): \(r.err)")
        }
        let j = Self.run(["run", Self.algorithms + "DTransformer.algo", "--params", garbage, "--format", "json"])
        let parsed = try JSONSerialization.jsonObject(with: Data(j.out.utf8)) as? [[String: Any]]
        #expect(j.code == .input && parsed?.first?["code"] as? String == "E0006" && parsed?.first?["file"] as? String == garbage, "\(j.out)")
        // An output in a read-only directory: refused before the run, in JSON too; nothing is left behind.
        let locked = dir + "/locked"
        try FileManager.default.createDirectory(atPath: locked, withIntermediateDirectories: false)
        #expect(chmod(locked, 0o500) == 0)
        defer { chmod(locked, 0o700) }
        if geteuid() != 0 {   // root writes anywhere
            let w = Self.run(["run", Self.algorithms + "DTransformer.algo", "--save-params", locked + "/θ.safetensors", "--format", "json"])
            let wj = try JSONSerialization.jsonObject(with: Data(w.out.utf8)) as? [[String: Any]]
            #expect(w.code == .output && wj?.first?["code"] as? String == "E0007", "\(w.out) \(w.err)")
        }
        let s = Self.run(["run", Self.algorithms + "DTransformer.algo", "--save-params", dir + "/missing/θ.safetensors"])
        #expect(s.code == .output && s.err.contains("error[E0007]: cannot write `--save-params \(dir)/missing/θ.safetensors`"), "\(s.err)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: locked).isEmpty)
    }

    @Test("a checkpoint missing a parameter (E0506) names the file given with --params")
    func parameterErrorsNameTheFile() throws {
        let ck = try Self.scratch() + "/partial.safetensors"
        _ = try Checkpoint.write(tensors: [("W_e", Tensor(shape: [64, 65], values: [Double](repeating: 0, count: 64 * 65)))], metadata: [:], to: ck).get()
        let r = Self.run(["run", Self.algorithms + "DTransformer.algo", "--params", ck])
        #expect(r.code == .diagnostics && r.err.contains("error[E0506]") && r.err.contains("the checkpoint: `--params \(ck)`"), "\(r.err)")
    }

    @Test("NaN parameters during training name their line (never `line ?`)")
    func nanNamesItsLine() {
        let r = Self.run(["run", Self.algorithms + "DTraining.algo", "--set", "η=1000000"])
        #expect(r.code == .diagnostics && r.err.contains("E0503") && !r.err.contains("line ?"), "\(r.err)")
    }

    @Test("an experiment's data file that cannot be read exits 3 with the system's reason")
    func experimentData() throws {
        let dir = try Self.scratch()
        let r = Self.run(["run", Self.algorithms + "Experiments/CharGPT.algo", "--data", dir])
        #expect(r.code == .input && r.err.contains("error[E0002]") && r.err.contains("it is a directory"), "\(r.err)")
    }

    @Test("an input file larger than what it could be is refused from its size, before it is read: a 17 MB .algo file, a data file or tokenizer past the budget")
    func hugeInputFiles() throws {
        let dir = try Self.scratch()
        // Sparse files: their size is set without writing (or reading back) their bytes.
        func sparse(_ name: String, _ bytes: Int) -> String {
            let path = dir + "/" + name
            #expect(FileManager.default.createFile(atPath: path, contents: nil) && truncate(path, off_t(bytes)) == 0)
            return path
        }
        let started = Date()
        let source = Self.run(["check", sparse("huge.algo", 17_000_000)])
        #expect(source.code == .input && source.err.contains("error[E0002]") && source.err.contains("it holds 17 MB; an .algo file holds at most 16 MB"), "\(source.err)")
        let data = Self.run(["run", Self.algorithms + "Experiments/CharGPT.algo", "--data", sparse("data.txt", Self.budget / 8)])
        #expect(data.code == .input && data.err.contains("error[E0002]") && data.err.contains("its tokens would need 9× that"), "\(data.err)")
        let tokenizer = Self.run(["run", Self.algorithms + "DTransformer.algo", "--tokenizer", sparse("tokenizer.json", Self.budget + 1)])
        #expect(tokenizer.code == .input && tokenizer.err.contains("it holds 2.0 GB; the memory budget is 2.0 GB"), "\(tokenizer.err)")
        #expect(Date().timeIntervalSince(started) < 10, "reading took \(Date().timeIntervalSince(started)) s: the files were read")
    }

    // MARK: - Streams and signals (the built binary)

    static let binary = RunCommandTests.repository + "/.build/debug/algo"

    /// Runs `script` under /bin/sh with `$ALGO` set to the binary; returns its exit status and stderr.
    static func shell(_ script: String) throws -> (status: Int32, err: String) {
        try #require(FileManager.default.isExecutableFile(atPath: binary), "build the `algo` binary first (`swift build`)")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", script]
        var env = ProcessInfo.processInfo.environment
        env["ALGO"] = binary
        p.environment = env
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        let data = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test("stdout on /dev/full or closed exits 4 with the reason; into a closed pipe with SIGPIPE ignored exits 4 quietly; never a trap")
    func standardStreams() throws {
        let run = "\"$ALGO\" run \(Self.algorithms)DTransformer.algo"
        let full = try Self.shell("\(run) > /dev/full")
        #expect(full.status == 4 && full.err.contains("cannot write standard output: No space left on device") && !full.err.contains("Fatal error"), "\(full)")
        let closed = try Self.shell("\(run) >&-")
        #expect(closed.status == 4 && closed.err.contains("cannot write standard output") && !closed.err.contains("Fatal error"), "\(closed)")
        let pipe = try Self.shell("trap '' PIPE; (\(run); echo \"rc=$?\" >&2) | true")
        #expect(pipe.err.contains("rc=4") && !pipe.err.contains("Fatal error") && !pipe.err.contains("cannot write"), "\(pipe)")
    }

    @Test("no `try!` and no FileHandle writes of the standard streams anywhere in Sources (they trap on a full disk or a closed pipe)")
    func noTrappingIO() throws {
        let sources = RunCommandTests.repository + "/Sources"
        let files = try #require(FileManager.default.enumerator(atPath: sources)?.allObjects as? [String]).filter { $0.hasSuffix(".swift") }
        #expect(files.count > 50)
        for f in files {
            let text = try String(contentsOfFile: sources + "/" + f, encoding: .utf8)
            for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let code = line.split(separator: "//", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
                #expect(!code.contains("try!"), "\(f):\(i + 1): \(line)")
                #expect(!code.contains("FileHandle.standardOutput.write") && !code.contains("FileHandle.standardError.write"), "\(f):\(i + 1): \(line)")
            }
        }
    }

    @Test("Ctrl-C during an experiment exits 130 saying what is on disk (nothing without --checkpoint; the output file is not written); SIGTERM ends the process by SIGTERM; neither leaves a temporary file")
    func signals() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary), "build the `algo` binary first (`swift build`)")
        let dir = try Self.scratch()
        let ck = dir + "/θ.safetensors"
        for sig in [SIGINT, SIGTERM] {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: Self.binary)
            p.arguments = ["run", Self.algorithms + "Experiments/CharGPT.algo", "--output", ck]
            p.currentDirectoryURL = URL(fileURLWithPath: dir)
            let err = Pipe()
            p.standardError = err
            p.standardOutput = FileHandle.nullDevice
            try p.run()
            usleep(2_000_000)
            #expect(p.isRunning, "CharGPT ended within 2 s")
            if sig == SIGINT { p.interrupt() } else { p.terminate() }
            let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            if sig == SIGINT {
                #expect(p.terminationReason == .exit && p.terminationStatus == 130, "\(text)")
                // Outside a training line the run ends at once, saying what is on disk; inside one it stops at
                // the next step. Without --checkpoint nothing is saved, and the output file is not written.
                let stopped = text.contains("stopped at training step")
                #expect((text.contains("interrupted (Ctrl-C)") && text.contains("interrupted during line") && text.contains("nothing was saved"))
                        || (stopped && text.contains("no checkpoint was saved")), "\(text)")
                #expect(!FileManager.default.fileExists(atPath: ck))
            } else {
                #expect(p.terminationReason == .uncaughtSignal && p.terminationStatus == SIGTERM, "\(p.terminationReason) \(p.terminationStatus): \(text)")
                #expect(text.contains("terminated by SIGTERM") && text.contains("nothing was saved"), "\(text)")
            }
            let left = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.contains(".tmp-") }
            #expect(left.isEmpty, "\(left)")
        }
    }

    @Test("Ctrl-C during an experiment's training line: exit 130, the checkpoint holds the step reached with a resume hint, the previous output file is untouched")
    func experimentInterruptedInTraining() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary), "build the `algo` binary first (`swift build`)")
        let dir = try Self.scratch()
        try ExperimentTests.shortText(2400).write(toFile: dir + "/t.txt", atomically: true, encoding: .utf8)
        let out = dir + "/θ.safetensors", ck = dir + "/ck.safetensors"
        try Data("previous".utf8).write(to: URL(fileURLWithPath: out))
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Self.binary)
        // 50 epochs of 63 steps: minutes, so the interrupt lands inside the training line.
        p.arguments = ["run", Self.algorithms + "Experiments/CharGPT.algo", "--data", dir + "/t.txt", "--set", ExperimentTests.tiny + ",N_epochs=50",
                       "--output", out, "--checkpoint", ck, "--log-every", "1"]
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        // Wait for the first progress line of the training line (at most 60 s).
        var seen = ""
        let deadline = Date().addingTimeInterval(60)
        while !seen.contains("step 2/"), Date() < deadline, p.isRunning {
            seen += String(decoding: err.fileHandleForReading.availableData, as: UTF8.self)
        }
        p.interrupt()
        seen += String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationReason == .exit && p.terminationStatus == 130, "\(seen)")
        #expect(seen.contains("stopped at training step") && seen.contains("of line 8") && seen.contains("--resume \(ck)"), "\(seen)")
        let c = try Checkpoint.read(ck).get()
        #expect(c.metadata["algo.experiment.line"] == "8" && (TrainingCheckpoint.step(c) ?? 0) >= 2, "\(c.metadata)")
        #expect(FileManager.default.contents(atPath: out) == Data("previous".utf8))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.contains(".tmp-") }.isEmpty)
    }

    @Test("TemporaryFiles.removeAll unlinks the temporary file of a write in progress")
    func temporaryFiles() throws {
        let dir = try Self.scratch()
        let tmp = dir + "/.x.tmp-1-2"
        try Data("partial".utf8).write(to: URL(fileURLWithPath: tmp))
        TemporaryFiles.register(tmp)
        #expect(TemporaryFiles.current.contains(tmp))
        TemporaryFiles.removeAll()
        #expect(!FileManager.default.fileExists(atPath: tmp) && !TemporaryFiles.current.contains(tmp))
    }
}
