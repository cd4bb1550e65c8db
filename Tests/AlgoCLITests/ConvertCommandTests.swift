import Foundation
import Testing
import AlgoEval
import AlgoTensor
@testable import AlgoCLI

/// `algo convert` then `algo run` of the shipped GPT-2, nanoGPT and BERT variants against the
/// probabilities HuggingFace computed (`Tests/Reference/hf_models.py` wrote the fixtures; HF ran in
/// float64 on the stored float32 weights).
@Suite("algo convert and the real architectures")
struct ConvertCommandTests {
    static let hf = RealModelTests.hf
    static let algorithms = RealModelTests.repository + "/Algorithms"

    static func temporary() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("algo-convert-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    func run(_ args: [String]) -> (ExitCode, Output) {
        var out = Output()
        let code = CLI.run(args, &out)
        return (code, out)
    }

    /// HF's reference: the input ids (0-based) and probabilities [ℓ, N_V].
    /// The tensors of a safetensors file by name, as `algo convert` reads them (F16/BF16 widened).
    static func stored(_ path: String) throws -> [String: Tensor] {
        Dictionary(try Checkpoint.read(path, widening: true).get().tensors.map { ($0.name, $0.tensor) }) { a, _ in a }
    }
    static func reference(_ model: String) throws -> Checkpoint { try Checkpoint.read(hf + "/\(model)/reference.safetensors").get() }

    /// The ids as `--input` text in the notation (1-based).
    static func idsText(_ t: Tensor) -> String { t.doubles.map { String(TokenIds.notation(Int($0))) }.joined(separator: ",") }

    /// Converts `input`, runs `algorithm` on the reference ids in `precision`, returns the largest
    /// |P − P_HF| over every entry.
    func maxDifference(model: String, convertArgs: [String], algorithm: String, precision: String) throws -> Double {
        let dir = try Self.temporary()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let converted = dir + "/model.safetensors"
        let (c1, o1) = run(["convert"] + convertArgs + [converted])
        try #require(c1 == .ok, "\(o1.stderr)")
        let ref = try Self.reference(model)
        var input = "x=" + Self.idsText(try #require(ref["input_ids"]))
        if let types = ref["token_type_ids"] { input += ";s=" + Self.idsText(types) }
        let (c2, o2) = run(["run", Self.algorithms + "/" + algorithm, "--params", converted, "--input", input,
                            "--precision", precision, "--output", dir + "/P.safetensors"])
        try #require(c2 == .ok, "\(o2.stderr)")
        let P = try #require(try Checkpoint.read(dir + "/P.safetensors").get()["output.P"])       // N_V × ℓ
        let Q = try #require(ref["probabilities"])                                                  // ℓ × N_V
        try #require(P.shape == [Q.shape[1], Q.shape[0]])
        let p = P.doubles, q = Q.transposed.copy().doubles
        return zip(p, q).map { abs($0 - $1) }.max() ?? .infinity
    }

    // Tolerances: the issue's. In float64 the two computations differ by the order of their
    // roundings (≈ 1e-16 per operation, amplified by the 2-layer network to ~1e-14); in float32 by
    // float32's (≈ 6e-8 per operation) on probabilities up to 0.4.
    @Test("GPT-2 (tanh GELU, ε = 1e-5, tied): convert then run equals HF's probabilities",
          arguments: [("f64", 1e-12), ("f32", 1e-5)])
    func gpt2(precision: String, tolerance: Double) throws {
        let d = try maxDifference(model: "gpt2", convertArgs: [Self.hf + "/gpt2"], algorithm: "GPT2/GPT2.algo", precision: precision)
        #expect(d <= tolerance, "max |P − P_HF| = \(d)")
    }

    @Test("BERT (exact GELU, ε = 1e-12, embedding layer norm, token types, output bias): convert then run equals HF's",
          arguments: [("f64", 1e-12), ("f32", 1e-5)])
    func bert(precision: String, tolerance: Double) throws {
        let d = try maxDifference(model: "bert", convertArgs: [Self.hf + "/bert"], algorithm: "BERT/BERT.algo", precision: precision)
        #expect(d <= tolerance, "max |P − P_HF| = \(d)")
    }

    @Test("nanoGPT's state dict (nn.Linear layout, no config, exact GELU): convert --from nanogpt --heads 4 then run NanoGPT.algo",
          arguments: [("f64", 1e-12), ("f32", 1e-5)])
    func nanoGPT(precision: String, tolerance: Double) throws {
        let d = try maxDifference(model: "nanogpt", convertArgs: [Self.hf + "/nanogpt/model.safetensors", "--from", "nanogpt", "--heads", "4"],
                                  algorithm: "GPT2/NanoGPT.algo", precision: precision)
        #expect(d <= tolerance, "max |P − P_HF| = \(d)")
    }

    @Test("the tanh GELU matters: GPT-2's weights run through NanoGPT.algo (exact GELU) miss HF by far more than 1e-12")
    func geluVariantIsDistinguished() throws {
        let d = try maxDifference(model: "gpt2", convertArgs: [Self.hf + "/gpt2"], algorithm: "GPT2/NanoGPT.algo", precision: "f64")
        #expect(d > 1e-6, "max |P − P_HF| = \(d)")
    }

    @Test("round trip: --to hf-gpt2 and --to hf-bert give back the original tensors, names and config values", arguments: ["gpt2", "bert"])
    func roundTrip(model: String) throws {
        let dir = try Self.temporary()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (c1, o1) = run(["convert", Self.hf + "/" + model, dir + "/algo.safetensors"])
        try #require(c1 == .ok, "\(o1.stderr)")
        let (c2, o2) = run(["convert", dir + "/algo.safetensors", dir + "/back", "--to", model == "gpt2" ? "hf-gpt2" : "hf-bert"])
        try #require(c2 == .ok, "\(o2.stderr)")
        let original = try Self.stored(Self.hf + "/\(model)/model.safetensors")
        let back = try Self.stored(dir + "/back/model.safetensors")
        #expect(Set(back.keys) == Set(original.keys))
        for (k, t) in original { #expect(back[k]?.shape == t.shape && back[k]?.floats == t.floats, "\(k)") }
        let config = try String(contentsOfFile: dir + "/back/config.json", encoding: .utf8)
        #expect(config.contains(model == "gpt2" ? #""layer_norm_epsilon":1e-05"# : #""layer_norm_eps":1e-12"#), "\(config)")
        #expect(config.contains(#""tie_word_embeddings":true"#))
    }

    @Test("the converted checkpoint carries the hyperparameters, the algorithm and one W_e (tied, no W_u)")
    func metadata() throws {
        let dir = try Self.temporary()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (c, o) = run(["convert", Self.hf + "/gpt2", dir + "/g.safetensors"])
        try #require(c == .ok, "\(o.stderr)")
        let k = try Checkpoint.read(dir + "/g.safetensors").get()
        let h = CheckpointMetadata.hyperparameters(k.metadata)
        #expect(h["L"] == "2" && h["H"] == "4" && h["d_e"] == "32" && h["d_attn"] == "8" && h["N_V"] == "648" && h["ℓ_max"] == "32" && h["ε"] == "1e-05")
        #expect(k.metadata["algo.algorithm"] == "GPT2")
        #expect(k["W_e"] != nil && k["W_u"] == nil)
    }

    @Test("mismatches are E0551, stray tensors E0552")
    func errors() throws {
        let dir = try Self.temporary()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // nanoGPT without the head count.
        let (c1, o1) = run(["convert", Self.hf + "/nanogpt/model.safetensors", dir + "/n.safetensors", "--from", "nanogpt"])
        #expect(c1 == .diagnostics && o1.stderr.contains("error[E0551]") && o1.stderr.contains("--heads"), "\(o1.stderr)")
        // A GPT-2 whose config promises more layers than the checkpoint holds.
        try FileManager.default.createDirectory(atPath: dir + "/bad", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Self.hf + "/gpt2/model.safetensors", toPath: dir + "/bad/model.safetensors")
        let config = try String(contentsOfFile: Self.hf + "/gpt2/config.json", encoding: .utf8).replacingOccurrences(of: #""n_layer": 2"#, with: #""n_layer": 3"#)
        try config.write(toFile: dir + "/bad/config.json", atomically: true, encoding: .utf8)
        let (c2, o2) = run(["convert", dir + "/bad", dir + "/b.safetensors"])
        #expect(c2 == .diagnostics && o2.stderr.contains("error[E0551]") && o2.stderr.contains("h.2."), "\(o2.stderr)")
        // An algo checkpoint of DTransformer (untied W_u) cannot become a tied HF GPT-2.
        let (c3, _) = run(["run", Self.algorithms + "/DTransformer.algo", "--set", "d_e=8,d_mlp=8,d_attn=4,d_mid=4,H=2,L=1", "--save-params", dir + "/d.safetensors"])
        try #require(c3 == .ok)
        let (c4, o4) = run(["convert", dir + "/d.safetensors", dir + "/out", "--to", "hf-gpt2"])
        #expect(c4 == .diagnostics && o4.stderr.contains("error[E0551]") && o4.stderr.contains("W_u"), "\(o4.stderr)")
        // A tensor no rule reads: converted, with a warning naming it.
        var stored = try Self.stored(Self.hf + "/nanogpt/model.safetensors")
        stored["transformer.extra_head.weight"] = Tensor.zeros([2, 2])
        let bytes = try Safetensors.encode(stored.map { Checkpoint.entry(name: $0.key, tensor: $0.value) }, metadata: [:]).get()
        try Data(bytes).write(to: URL(fileURLWithPath: dir + "/extra.safetensors"))
        let (c5, o5) = run(["convert", dir + "/extra.safetensors", dir + "/e.safetensors", "--from", "nanogpt", "--heads", "4"])
        #expect(c5 == .ok && o5.stderr.contains("warning[E0552]") && o5.stderr.contains("extra_head.weight"), "\(o5.stderr)")
    }
}
