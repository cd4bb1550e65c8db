import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
@testable import AlgoCLI
import AlgoEval
import AlgoTensor

/// `algo run` of a training algorithm with the training-run flags: `--log-every`, `--loss-svg`,
/// `--checkpoint`/`--checkpoint-every`, `--resume`, Ctrl-C (through the built `algo` binary), and
/// a diverging learning rate.
@Suite("algo run training flags: progress, loss SVG, checkpoints, resume, Ctrl-C, divergence")
struct TrainingRunCLITests {
    static let algorithms = RunCommandTests.repository + "/Algorithms/"

    static func temporary(_ suffix: String) -> String { NSTemporaryDirectory() + "algo-trainux-\(UUID().uuidString)" + suffix }

    /// θ̂ of a checkpoint as comparable bytes (names, shapes, bit patterns).
    static func parameterBytes(_ path: String) throws -> [UInt8] {
        let c = try Checkpoint.read(path).get()
        return try Checkpoint.encode(tensors: c.tensors.filter { !$0.name.hasPrefix("train.") }, metadata: [:]).get()
    }

    @Test("without a terminal, --log-every N writes one plain line every N steps and at the last one, with no escape codes")
    func logLines() throws {
        var o = Output(color: false)
        #expect(CLI.run(["run", Self.algorithms + "DTraining.algo", "--set", "N_epochs=3", "--log-every", "5"], &o) == .ok, "\(o.stderr)")
        let lines = o.stderr.split(separator: "\n").filter { $0.hasPrefix("step ") }
        #expect(lines.map { $0.prefix { $0 != ":" } } == ["step 5/12 (epoch 2)", "step 10/12 (epoch 3)", "step 12/12 (epoch 3)"], "\(o.stderr)")
        #expect(lines.allSatisfy { $0.contains("loss ") && $0.contains("tokens/s") })
        #expect(!o.stderr.contains("\u{1B}"))
        // The report on stdout is the bare run's.
        #expect(o.stdout.contains("training: 12 SGD steps") && !o.stdout.contains("step 5/12"))
        var bad = Output(color: false)
        #expect(CLI.run(["run", Self.algorithms + "DTraining.algo", "--log-every", "0"], &bad) == .usage)
    }

    @Test("the progress line: redrawn with \\r, green bar only with colour (none under NO_COLOR), ETA from the pace")
    func progressLine() {
        func step(_ k: Int) -> TrainingStep {
            var s = TrainingStep(step: k, totalSteps: 10, loss: 2.5, tokens: 8, epoch: nil, stopping: false)
            s.lossPerToken = 0.5   // 2.5 nats over 5 predicted tokens
            return s
        }
        var plain = ProgressDisplay(mode: .bar(color: false), total: 10)
        _ = plain.update(step(1), now: 0)
        for k in 2...4 { _ = plain.update(step(k), now: Double(k - 1) * 0.5) }
        let line = plain.update(step(5), now: 2)!
        #expect(line.hasPrefix("\rstep 5/10 ") && !line.contains("\u{1B}"))
        #expect(line.contains("loss 0.5000 nats/token") && line.contains("16 tok/s") && line.contains("ETA 0:03"), "\(line)")   // 32 tokens in 2 s after step 1; 2 s for 4 steps, 5 left: 2.5 s
        #expect(plain.finish() == "\n")
        var colour = ProgressDisplay(mode: .bar(color: true), total: 10)
        #expect(colour.update(step(10), now: 0)!.contains("\u{1B}[32m"))
    }

    /// The points of `<polyline id=…>` in an SVG document, parsed as XML.
    final class PolylineReader: NSObject, XMLParserDelegate {
        var points: [String: [(Double, Double)]] = [:]
        var texts: [String] = []
        private var inText = false
        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
            if name == "polyline", let id = attributes["id"], let p = attributes["points"] {
                points[id] = p.split(separator: " ").map { pair in
                    let xy = pair.split(separator: ",").compactMap { Double($0) }
                    return (xy.first ?? .nan, xy.last ?? .nan)
                }
            }
            inText = name == "text"
            if inText { texts.append("") }
        }
        func parser(_ parser: XMLParser, foundCharacters string: String) { if inText { texts[texts.count - 1] += string } }
        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) { inText = false }
    }

    /// The value printed after `label` (four decimals, as `algo run` prints losses).
    static func printed(_ label: String, _ text: String) -> Double? {
        guard let r = text.range(of: label) else { return nil }
        return Double(text[r.upperBound...].drop { $0 == " " }.prefix { !$0.isWhitespace })
    }

    @Test("--held-out: its loss before is the loss before of a run trained on it (same seed, same θ); its loss after is that of θ̂ on it; --eval-every 4 draws its points; θ̂ is unchanged by it")
    func heldOutSet() throws {
        let held = "x_1=1,2,3,4,5,6,7,8;x_2=4,5,6,7,8,9,1,2;x_3=9,8,7,6,5,4,3,2"
        let plain = Self.temporary(".safetensors"), with = Self.temporary(".safetensors"), svg = Self.temporary(".svg")
        defer { for f in [plain, with, svg] { try? FileManager.default.removeItem(atPath: f) } }
        let train = ["run", Self.algorithms + "DTraining.algo", "--set", "N_epochs=3"]
        var (code, o) = runCLI(train + ["--output", plain])
        #expect(code == .ok, "\(o.stderr)")
        (code, o) = runCLI(train + ["--output", with, "--held-out", held, "--eval-every", "4", "--loss-svg", svg])
        #expect(code == .ok, "\(o.stderr)")
        // Measuring the held-out set runs its own evaluator: the training is untouched.
        #expect(try Self.parameterBytes(plain) == Self.parameterBytes(with))
        let before = try #require(Self.printed("held-out loss before:", o.stdout)), after = try #require(Self.printed("held-out loss after:", o.stdout))
        #expect(o.stdout.contains("(--held-out: 3 sequences, not trained on)"), "\(o.stdout)")
        // Independently: the same sequences as the training data of another run, at the initial θ
        // (seed 0) and at θ̂ (--params): its `loss before` is the held-out loss (printed to 4 decimals).
        (code, o) = runCLI(["run", Self.algorithms + "DTraining.algo", "--set", "N_epochs=1", "--input", held])
        #expect(code == .ok && Self.printed("loss before:", o.stdout) == before, "\(before) \(o.stdout)")
        (code, o) = runCLI(["run", Self.algorithms + "DTraining.algo", "--set", "N_epochs=1", "--input", held, "--params", with])
        #expect(code == .ok && Self.printed("loss before:", o.stdout) == after, "\(after) \(o.stdout)")
        // --eval-every 4 of 12 steps: the plot's second line has the points of steps 4, 8, 12.
        let plot = try String(contentsOfFile: svg, encoding: .utf8)
        let line = try #require(plot.split(separator: "\n").first { $0.contains("id=\"held-out\"") })
        #expect(line.split(separator: " ").filter { $0.contains(",") }.count == 3, "\(line)")
        // Refused: a held-out set B does not divide (exit 2), a token outside the vocabulary or a
        // missing element (E0507, naming the flag).
        (code, o) = runCLI(["run", Self.algorithms + "DTrainingMinibatch.algo", "--held-out", "x_1=1,2,3"])
        #expect(code == .usage && o.stderr.contains("does not divide"), "\(o.stderr)")
        (code, o) = runCLI(train + ["--held-out", "x_1=1,2,99"])
        #expect(code == .diagnostics && o.stderr.contains("error[E0507]") && o.stderr.contains("held-out set"), "\(o.stderr)")
        (code, o) = runCLI(train + ["--held-out", "x_3=1,2"])
        #expect(code == .diagnostics && o.stderr.contains("error[E0507]: `--held-out`: the dataset"), "\(o.stderr)")
        // A set given empty is refused (exit 2), not replaced by the built-in dataset.
        (code, o) = runCLI(["run", Self.algorithms + "DTraining.algo", "--input", ""])
        #expect(code == .usage && o.stderr.contains("algo run: error: the dataset is empty") && o.stdout.isEmpty, "\(o.stderr)")
        (code, o) = runCLI(train + ["--held-out", ""])
        #expect(code == .usage && o.stderr.contains("algo run: error: the held-out set is empty"), "\(o.stderr)")
    }

    @Test("--loss-svg writes well-formed SVG: one polyline point per step (x increasing), a smoothed line, axis labels")
    func lossSVG() throws {
        let svg = Self.temporary(".svg")
        defer { try? FileManager.default.removeItem(atPath: svg) }
        var o = Output(color: false)
        #expect(CLI.run(["run", Self.algorithms + "DTraining.algo", "--set", "N_epochs=5", "--loss-svg", svg], &o) == .ok, "\(o.stderr)")
        let parser = try #require(XMLParser(contentsOf: URL(fileURLWithPath: svg)))
        let reader = PolylineReader()
        parser.delegate = reader
        #expect(parser.parse(), "\(parser.parserError.map { "\($0)" } ?? "")")
        let loss = try #require(reader.points["loss"])
        #expect(loss.count == 20)
        #expect(reader.points["smoothed"]?.count == 20)
        #expect(zip(loss, loss.dropFirst()).allSatisfy { $0.0 < $1.0 })
        #expect(reader.texts.contains("step") && reader.texts.contains("loss (nats per predicted token)"))
        // Higher loss is drawn higher (smaller y): the first step's loss is above the last step's here.
        let steps = try #require(TrainCommandTests.losses(o.stdout))
        #expect(steps.before > steps.after)
        // The smoothing is the bias-corrected moving average (first point = first loss).
        #expect(LossPlotSVG.smoothed([4, 2]) == [4, (0.9 * 0.4 + 0.2) / (0.9 * 0.1 + 0.1)])
    }

    @Test("--checkpoint every 4 steps and at the end holds θ̂ (readable with --params); --resume from it gives the same θ̂ byte for byte")
    func checkpointAndResume() throws {
        let ck = Self.temporary(".safetensors")
        let whole = Self.temporary(".safetensors"), resumed = Self.temporary(".safetensors")
        defer { for p in [ck, whole, resumed] { try? FileManager.default.removeItem(atPath: p) } }
        // (A checkpoint from the middle of a run is resumed in `interrupt()`, through Ctrl-C.)
        var o = Output(color: false)
        let args = ["run", Self.algorithms + "DTrainingAdam.algo", "--set", "N_epochs=3", "--checkpoint", ck, "--checkpoint-every", "4"]
        #expect(CLI.run(args + ["--output", whole], &o) == .ok, "\(o.stderr)")
        let final = try Checkpoint.read(ck).get()
        #expect(TrainingCheckpoint.step(final) == 12)
        #expect(try Self.parameterBytes(ck) == Self.parameterBytes(whole))
        // The checkpoint is also a θ̂ that DTransformer reads with --params.
        var fwd = Output(color: false)
        #expect(CLI.run(["run", Self.algorithms + "DTransformer.algo", "--params", ck, "--input", "x=1,2,3"], &fwd) == .ok, "\(fwd.stderr)")
        // Resume from the final checkpoint: nothing left to do, the same θ̂.
        var r = Output(color: false)
        #expect(CLI.run(args + ["--resume", ck, "--output", resumed], &r) == .ok, "\(r.stderr)")
        #expect(r.stdout.contains("resumed at step 12 from"))
        #expect(try Self.parameterBytes(resumed) == Self.parameterBytes(whole))
    }

    @Test("--resume refuses other .algo text (E0511), other hyperparameters (E0512), another dataset (E0513), another precision (E0514), a plain θ̂ (E0510)")
    func refusals() throws {
        // A private copy of the algorithms, so that the source can change.
        let dir = Self.temporary("")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for f in try FileManager.default.contentsOfDirectory(atPath: Self.algorithms) where f.hasSuffix(".algo") {
            try FileManager.default.copyItem(atPath: Self.algorithms + f, toPath: dir + "/" + f)
        }
        let algo = dir + "/DTraining.algo", ck = dir + "/ck.safetensors", plain = dir + "/theta.safetensors"
        var o = Output(color: false)
        #expect(CLI.run(["run", algo, "--set", "N_epochs=1", "--checkpoint", ck, "--save-params", plain], &o) == .ok, "\(o.stderr)")
        func resume(_ extra: [String], _ file: String = ck, set: String = "N_epochs=1") -> (ExitCode, String) {
            var r = Output(color: false)
            let code = CLI.run(["run", algo, "--set", set, "--resume", file] + extra, &r)
            return (code, r.stderr)
        }
        var (code, err) = resume([], set: "N_epochs=2")
        #expect(code == .diagnostics && err.contains("E0512") && err.contains("N_epochs = 1 in the checkpoint, 2 now"), "\(err)")
        (code, err) = resume(["--input", "x_1=1,2,3;x_2=2,3,4;x_3=3,4,5;x_4=4,5,6"])
        #expect(code == .diagnostics && err.contains("E0513"), "\(err)")
        (code, err) = resume(["--precision", "f64"])
        #expect(code == .diagnostics && err.contains("E0514") && err.contains("--precision f32"), "\(err)")
        (code, err) = resume([], plain)
        #expect(code == .diagnostics && err.contains("E0510"), "\(err)")
        (code, err) = resume([])
        #expect(code == .ok, "\(err)")
        // A changed comment changes the source's SHA-256.
        try (String(contentsOfFile: algo, encoding: .utf8) + "// edited\n").write(toFile: algo, atomically: true, encoding: .utf8)
        (code, err) = resume([])
        #expect(code == .diagnostics && err.contains("E0511") && err.contains("DTraining.algo:2:1"), "\(err)")
    }

    @Test("η = 1e6: the loss becomes non-finite, the run stops with E0503 naming the step and line, exits 1, and the last checkpoint holds finite θ of an earlier step")
    func divergence() throws {
        let ck = Self.temporary(".safetensors")
        defer { try? FileManager.default.removeItem(atPath: ck) }
        var o = Output(color: false)
        let code = CLI.run(["run", Self.algorithms + "DTraining.algo", "--set", "η=1000000", "--checkpoint", ck, "--checkpoint-every", "1"], &o)
        #expect(code == .diagnostics)
        #expect(o.stderr.contains("E0503") && o.stderr.contains("training step "), "\(o.stderr)")
        let c = try Checkpoint.read(ck).get()
        let k = try #require(TrainingCheckpoint.step(c))
        #expect(o.stderr.contains("the last good checkpoint, step \(k), is kept in"), "\(o.stderr)")
        #expect(o.stderr.contains("training step \(k + 1)"), "\(o.stderr)")
        #expect(c.tensors.allSatisfy { $0.tensor.doubles.allSatisfy(\.isFinite) })
    }

    @Test("Ctrl-C (SIGINT to the algo binary) after the first checkpoint: exit 130, the checkpoint holds the step reached, and --resume ends byte-identical to an uninterrupted run")
    func interrupt() throws {
        let binary = RunCommandTests.repository + "/.build/debug/algo"
        try #require(FileManager.default.isExecutableFile(atPath: binary), "build the `algo` binary first (`swift build`)")
        let ck = Self.temporary(".safetensors"), resumed = Self.temporary(".safetensors"), whole = Self.temporary(".safetensors")
        defer { for p in [ck, resumed, whole] { try? FileManager.default.removeItem(atPath: p) } }
        let args = ["run", Self.algorithms + "DTraining.algo", "--set", "N_epochs=60", "--checkpoint", ck, "--checkpoint-every", "5"]
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = args
        var env = ProcessInfo.processInfo.environment
        env["NO_COLOR"] = "1"
        p.environment = env
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let deadline = Date().addingTimeInterval(120)
        while !FileManager.default.fileExists(atPath: ck), p.isRunning, Date() < deadline { usleep(20_000) }
        #expect(p.isRunning, "the run ended before its first checkpoint")
        p.interrupt()   // SIGINT
        p.waitUntilExit()
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(p.terminationStatus == 130, "\(stderr)")
        let k = try #require(TrainingCheckpoint.step(try Checkpoint.read(ck).get()))
        #expect(k < 240)
        #expect(stderr.contains("stopped at step \(k)") && stderr.contains("--resume \(ck)"), "\(stderr)")
        #expect(!stderr.contains("\u{1B}"))
        var r = Output(color: false), w = Output(color: false)
        #expect(CLI.run(args + ["--resume", ck, "--output", resumed], &r) == .ok, "\(r.stderr)")
        #expect(CLI.run(args + ["--output", whole], &w) == .ok, "\(w.stderr)")
        #expect(try Self.parameterBytes(resumed) == Self.parameterBytes(whole))
    }
}
