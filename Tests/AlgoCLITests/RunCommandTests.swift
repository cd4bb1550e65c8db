import Foundation
import Testing
@testable import AlgoCLI
import AlgoEval
import AlgoTensor

@Suite("algo run and algo params through CLI.run")
struct RunCommandTests {
    static let repository: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    @Test("algo run DTransformer.algo --params fixture --input x=… --output OUT writes P equal to the NumPy output (f64 1e-10, f32 1e-4)")
    func fixtureThroughCLI() throws {
        for name in ["DTransformer-small", "EDTransformer-small"] {
            let fixture = Self.repository + "/Tests/Reference/fixtures/\(name).safetensors"
            let c = try Checkpoint.read(fixture).get()
            let x = c["input.x"]!.doubles.map { String(Int($0)) }.joined(separator: ",")
            let expected = c["output.P"]!
            for (precision, tolerance) in [("f64", 1e-10), ("f32", 1e-4)] {
                let out = NSTemporaryDirectory() + "algo-run-\(UUID().uuidString).safetensors"
                defer { try? FileManager.default.removeItem(atPath: out) }
                var output = Output(color: false)
                let algo = Self.repository + "/Algorithms/" + String(name.prefix { $0 != "-" }) + ".algo"
                let code = CLI.run(["run", algo, "--params", fixture, "--input", "x=\(x)", "--output", out, "--precision", precision], &output)
                #expect(code == .ok, "\(output.stderr)")
                let got = try Checkpoint.read(out).get()
                let P = try #require(got["output.P"])
                #expect(P.shape == expected.shape)
                let err = zip(P.doubles, expected.doubles).map { abs($0 - $1) }.max() ?? 1
                #expect(err <= tolerance, "\(name) \(precision): \(err)")
                #expect(got.metadata[CheckpointMetadata.sourceHashKey]?.count == 64)
            }
        }
    }

    @Test("a bare algo run of every file in Algorithms/ prints a result or a diagnostic with a code, never crashes")
    func bareRuns() throws {
        let dir = Self.repository + "/Algorithms"
        for f in try FileManager.default.contentsOfDirectory(atPath: dir).sorted() where f.hasSuffix(".algo") {
            var output = Output(color: false)
            let code = CLI.run(["run", dir + "/" + f], &output)
            if f.contains("Training") {
                #expect(code == .ok, "\(f): \(output.stderr)")
                #expect(output.stdout.contains("loss after:"), "\(f)")
            } else {
                #expect(code == .ok, "\(f): \(output.stderr)")
                #expect(output.stdout.contains("output "), "\(f)")
            }
        }
        var output = Output(color: false)
        _ = CLI.run(["run", dir + "/DTransformer.algo"], &output)
        #expect(output.stdout.contains("each column is a probability distribution"))
    }

    @Test("algo params lists checkpoint names and shapes; --json")
    func params() throws {
        var output = Output(color: false)
        let code = CLI.run(["params", Self.repository + "/Algorithms/DTransformer.algo", "--set", "L=12,H=2", "--json"], &output)
        #expect(code == .ok)
        #expect(output.stdout.contains("\"𝓦_{12}.W^2_q\""))
        #expect(output.stdout.contains("\"γ^1_{12}\""))
        #expect(output.stdout.contains("\"W^2_mlp1\", \"shape\": [256, 64]"))
    }

    @Test("--profile prints per-line time and operations")
    func profile() {
        var output = Output(color: false)
        let code = CLI.run(["run", Self.repository + "/Algorithms/DTransformer.algo", "--profile"], &output)
        #expect(code == .ok)
        // Line 2 (`for t ∈ [ℓ] : e_t ← …`) runs once: batched, not ℓ = 8 iterations.
        let line = output.stdout.split(separator: "\n").first { $0.contains(" DTransformer line 2 ") }
        #expect(line?.contains(" 1×  DTransformer line 2 ") == true && line?.hasSuffix("for t ∈ [ℓ] : e_t ← W_e[:, x[t]] + W_p[:, t]") == true, "\(String(describing: line))")
    }
}

@Suite("algo run: checkpoints round trip")
struct RunCheckpointTests {
    @Test("--save-params of DTransformer feeds DInference --params; sampling is reproducible with --seed; wrong shapes are E0506")
    func roundTrip() throws {
        let algorithms = RunCommandTests.repository + "/Algorithms/"
        let params = NSTemporaryDirectory() + "algo-run-params-\(UUID().uuidString).safetensors"
        defer { try? FileManager.default.removeItem(atPath: params) }
        var o1 = Output(color: false)
        #expect(CLI.run(["run", algorithms + "DTransformer.algo", "--set", "d_e=16,d_mlp=32,d_attn=4,d_mid=4", "--save-params", params], &o1) == .ok)
        let c = try Checkpoint.read(params).get()
        #expect(c.metadata[CheckpointMetadata.hyperparameterPrefix + "d_e"] == "16")
        #expect(c["𝓦_2.W^4_q"]?.shape == [4, 16])
        var a = Output(color: false), b = Output(color: false)
        #expect(CLI.run(["run", algorithms + "DInference.algo", "--params", params, "--input", "x=3,4,5", "--set", "ℓ_gen=5,τ=0.7", "--seed", "9"], &a) == .ok, "\(a.stderr)")
        #expect(CLI.run(["run", algorithms + "DInference.algo", "--params", params, "--input", "x=3,4,5", "--set", "ℓ_gen=5,τ=0.7", "--seed", "9"], &b) == .ok)
        let line = a.stdout.split(separator: "\n").first { $0.hasPrefix("output y") }
        #expect(line != nil && line?.contains("(5 tokens)") == true)
        #expect(line == b.stdout.split(separator: "\n").first { $0.hasPrefix("output y") })
        var wrong = Output(color: false)
        #expect(CLI.run(["run", algorithms + "DTransformer.algo", "--params", params, "--set", "d_mlp=33"], &wrong) == .diagnostics)
        #expect(wrong.stderr.contains("E0506") || wrong.stderr.contains("E0413"), "\(wrong.stderr)")
    }

    @Test("--text through --tokenizer: N_V is the tokenizer's, the continuation is decoded")
    func text() throws {
        let tk = try CharacterTokenizer.train(on: ["hello world"]).get()
        let path = NSTemporaryDirectory() + "algo-run-tok-\(UUID().uuidString).json"
        defer { try? FileManager.default.removeItem(atPath: path) }
        _ = tk.save(to: path)
        var o = Output(color: false)
        let code = CLI.run(["run", RunCommandTests.repository + "/Algorithms/DInference.algo", "--tokenizer", path, "--text", "x=hello", "--set", "ℓ_gen=4"], &o)
        #expect(code == .ok, "\(o.stderr)")
        #expect(o.stdout.contains("N_V = \(tk.vocabularySize)"))
        #expect(o.stdout.contains("as text: "))
    }

    @Test("bad values are diagnostics, not crashes: an input of the wrong shape E0507, τ outside (0, ∞) E0507, a token beyond N_V E0502")
    func badValues() {
        let algorithms = RunCommandTests.repository + "/Algorithms/"
        for (args, code) in [(["MHAttention.algo", "--input", "X=1,2"], "E0507"), (["DInference.algo", "--set", "τ=0"], "E0507"),
                             (["DTransformer.algo", "--input", "x=66"], "E0502"), (["LayerNorm.algo", "--input", "e=2,2"], "E0503")] {
            var o = Output(color: false)
            let exit = CLI.run(["run", algorithms + args[0]] + Array(args.dropFirst()), &o)
            #expect(exit == .diagnostics && o.stderr.contains(code), "\(args): \(o.stderr)")
        }
        // --check-finite accepts the deliberate −∞ of the mask (Alg. 4 line 5): no infinity escapes it.
        var o = Output(color: false)
        #expect(CLI.run(["run", algorithms + "DTransformer.algo", "--check-finite"], &o) == .ok, "\(o.stderr)")
    }

    @Test("an interpreted column loop (`for t = 1, 2, . . . , ℓ do X[:, t] ← … end`) equals the batched one (`for t ∈ [ℓ] : …`)")
    func interpretedEqualsBatched() throws {
        let dir = NSTemporaryDirectory() + "algo-run-cn-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.copyItem(atPath: RunCommandTests.repository + "/Algorithms/LayerNorm.algo", toPath: dir + "/LayerNorm.algo")
        let header = """
            Input:      X ∈ ℝ^{d_e×ℓ}, columns to normalise.
            Output:     Y ∈ ℝ^{d_e×ℓ}, the normalised columns.
            Parameters: γ, β ∈ ℝ^{d_e}

            """
        try ("Algorithm 1: Y ← ColumnNorm(X | γ, β)\n" + header + "1 for t = 1, 2, . . . , ℓ do\n2     X[:, t] ← layer_norm(X[:, t] | γ, β)\n3 end\n4 return Y = X\n")
            .write(toFile: dir + "/ColumnNorm.algo", atomically: true, encoding: .utf8)
        try ("Algorithm 2: Y ← ColumnNormBatched(X | γ, β)\n" + header + "1 for t ∈ [ℓ] : X[:, t] ← layer_norm(X[:, t] | γ, β)\n2 return Y = X\n")
            .write(toFile: dir + "/ColumnNormBatched.algo", atomically: true, encoding: .utf8)
        var results: [[Double]] = []
        for name in ["ColumnNorm", "ColumnNormBatched"] {
            var o = Output(color: false)
            let code = CLI.run(["run", dir + "/\(name).algo", "--set", "d_e=5,ℓ=4", "--precision", "f64", "--output", dir + "/\(name).safetensors"], &o)
            #expect(code == .ok, "\(o.stderr)")
            results.append(try Checkpoint.read(dir + "/\(name).safetensors").get()["output.Y"]?.doubles ?? [])
        }
        #expect(results[0].count == 20)
        #expect(zip(results[0], results[1]).allSatisfy { abs($0 - $1) <= 1e-14 })
    }
}
