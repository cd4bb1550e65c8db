import AlgoDiagnostics
import AlgoEval
import AlgoSema
import AlgoTensor
import Foundation

/// `algo convert IN OUT`: a HuggingFace GPT-2 or BERT, or a nanoGPT state dict, into `algo`'s
/// names and layout (the table of `Sources/AlgoEval/ModelNames.swift`), and back with `--to`.
struct ConvertCommand: Command {
    var name: String { "convert" }
    var summary: String { "convert HuggingFace GPT-2/BERT and nanoGPT checkpoints to algo's names, and back" }
    var usage: String {
        """
        usage: algo convert IN OUT [--from hf-gpt2|hf-bert|nanogpt] [--heads H]
               algo convert IN.safetensors OUT-DIRECTORY --to hf-gpt2|hf-bert|nanogpt

        Into algo's names: IN is a directory holding model.safetensors and config.json (as
        `save_pretrained` writes them), or a .safetensors file (config.json beside it). The format
        is read from config.json (`model_type`) or given with --from; a nanoGPT state dict has no
        config, so it needs --from nanogpt and --heads. OUT is a safetensors checkpoint with the
        hyperparameters, the algorithm to run (GPT2, NanoGPT or BERT, under Algorithms/) and the
        tokenizer found beside IN (tokenizer.json, or vocab.json + merges.txt) in its metadata:
            algo convert gpt2/ gpt2.safetensors
            algo run Algorithms/GPT2/GPT2.algo --params gpt2.safetensors --input x=15496,995
        Back: --to writes OUT-DIRECTORY/model.safetensors and config.json (and tokenizer.json when
        the checkpoint carries one), loadable by `from_pretrained`. Tied weights stay one tensor.
        Float16 and bfloat16 checkpoints are read as float32.
        """
    }
    var flags: [Arguments.Spec] {
        [
            Arguments.Spec("from", value: true, help: "the input's format: `hf-gpt2`, `hf-bert` or `nanogpt` (default: from config.json)"),
            Arguments.Spec("to", value: true, help: "convert an algo checkpoint back: `hf-gpt2`, `hf-bert` or `nanogpt`"),
            Arguments.Spec("heads", value: true, help: "number of attention heads (nanoGPT's n_head; others read it from config.json)"),
            DiagnosticFormat.flag,
        ]
    }

    func run(_ args: Arguments, _ output: inout Output) -> ExitCode {
        guard let format = DiagnosticFormat.from(args, &output) else { return .usage }
        guard args.positionals.count == 2 else { output.err("algo convert: error: expected IN and OUT\n\n" + usage); return .usage }
        let (input, out) = (args.positionals[0], args.positionals[1])
        let reporter = Reporter(format: format)
        func fail(_ e: ConversionError, at path: String) -> ExitCode {
            reporter.emit([Diagnostic(.conversionMismatch, e.message, at: Span(file: path, start: 0, end: 0))], &output)
            return .diagnostics
        }
        func parseFormat(_ flag: String) -> ModelFormat?? {
            guard let v = args.value(flag) else { return .some(nil) }
            guard let f = ModelFormat(rawValue: v) else {
                output.err("algo convert: error: `--\(flag)` takes \(ModelFormat.allCases.map { "`\($0.rawValue)`" }.joined(separator: ", ")), not `\(v)`")
                return nil
            }
            return .some(f)
        }
        guard let from = parseFormat("from"), let to = parseFormat("to") else { return .usage }
        var heads: Int? = nil
        if let h = args.value("heads") { guard let v = Int(h), v >= 1 else { output.err("algo convert: error: `--heads` takes a positive number"); return .usage }; heads = v }

        // The files: IN a directory or a .safetensors file with its neighbours.
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: input, isDirectory: &isDirectory) else {
            reporter.emit([Diagnostic(.fileNotFound, "no such file `\(input)`", at: Span(file: input, start: 0, end: 0))], &output)
            return .input
        }
        let directory = isDirectory.boolValue ? input : LibraryPaths.directory(of: input)
        let weights = isDirectory.boolValue ? directory + "/model.safetensors" : input

        if let to {
            // Back out of algo's names.
            let c: Checkpoint
            switch Checkpoint.read(weights) {
            case .success(let x): c = x
            case .failure(let e): return FileProblem.checkpoint(weights, flag: "", e).report(reporter, &output)
            }
            switch ModelConversion.fromAlgo(to, c) {
            case .failure(let e): return fail(e, at: weights)
            case .success(let (tensors, config)):
                do { try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true) } catch {
                    return FileProblem.unwritable(out, flag: "output", "the directory cannot be made: \(error.localizedDescription)").report(reporter, &output)
                }
                switch Checkpoint.write(tensors: tensors, metadata: ["format": "pt"], to: out + "/model.safetensors") {
                case .success: break
                case .failure(.io(let why)): return FileProblem.unwritable(out + "/model.safetensors", flag: "output", why).report(reporter, &output)
                case .failure(let e): return fail(ConversionError("the converted tensors cannot be stored: \(e)"), at: weights)
                }
                var files: [(String, [UInt8])] = []
                if let config { files.append(("config.json", config)) }
                if let t = c.metadata[ModelConversion.tokenizerKey] { files.append(("tokenizer.json", Array(t.utf8))) }
                for (name, bytes) in files {
                    if case .failure(let e) = AtomicFile.write(bytes, to: out + "/" + name) {
                        return FileProblem.unwritable(out + "/" + name, flag: "output", e.reason).report(reporter, &output)
                    }
                }
                output.out("wrote \(tensors.count) tensors (\(tensors.reduce(0) { $0 + $1.tensor.count }) numbers) as \(to.rawValue) to \(out)/model.safetensors"
                           + (config == nil ? "" : " and config.json"))
                return .ok
            }
        }

        // Into algo's names.
        let configPath = directory + "/config.json"
        var config: [UInt8]? = nil
        switch FileBytes.read(configPath, limit: SourceFile.maxBytes, why: "a config.json holds at most \(ByteCount.describe(SourceFile.maxBytes))") {
        case .success(let b): config = b
        case .failure(.notFound): break   // nanoGPT state dicts come without one (`--from nanogpt`)
        case .failure(let e): return FileProblem.unreadable(configPath, flag: "", e.description).report(reporter, &output)
        }
        var source = from
        if source == nil, let config, let v = ModelConversion.modelType(config: config) {
            source = v == "gpt2" ? .hfGPT2 : (v == "bert" ? .hfBERT : nil)
            if source == nil { return fail(ConversionError("config.json has model_type `\(v)`; algo convert reads gpt2 and bert (and nanoGPT with --from nanogpt)"), at: configPath) }
        }
        guard let source else {
            output.err("algo convert: error: no config.json beside `\(weights)` tells the format: give `--from hf-gpt2|hf-bert|nanogpt`"); return .usage
        }
        // Read tensor by tensor (F16 and BF16 widened to F32); the tensors are dropped once converted.
        var stored: [String: Tensor]
        switch Checkpoint.read(weights, widening: true) {
        case .success(let c): stored = Dictionary(c.tensors.map { ($0.name, $0.tensor) }) { a, _ in a }
        case .failure(let e): return FileProblem.checkpoint(weights, flag: "", e).report(reporter, &output)
        }
        let tokenizer = tokenizerBeside(directory)
        let converted = ModelConversion.toAlgo(source, stored: stored, config: source == .nanoGPT ? nil : config, heads: heads, tokenizer: tokenizer)
        stored = [:]
        switch converted {
        case .failure(let e): return fail(e, at: weights)
        case .success(let m):
            if !m.unused.isEmpty {
                var d = Diagnostic(.unusedTensors, "\(m.unused.count) tensor\(m.unused.count == 1 ? "" : "s") of `\(weights)` not converted: \(m.unused.prefix(8).map { "`\($0)`" }.joined(separator: ", "))\(m.unused.count > 8 ? ", …" : "")",
                                   at: Span(file: weights, start: 0, end: 0))
                d.notes.append("the shipped algorithm has no parameter they could be; a different head or architecture would need its own .algo file")
                reporter.emit([d], &output)
            }
            if case .failure(let e) = Checkpoint.write(tensors: m.tensors, metadata: m.metadata, to: out) {
                return FileProblem.unwritable(out, flag: "output", e.description).report(reporter, &output)
            }
            let algorithm = m.metadata["algo.algorithm"] ?? "?"
            let dir = algorithm == "BERT" ? "BERT" : "GPT2"
            output.out("wrote \(m.tensors.count) tensors (\(m.tensors.reduce(0) { $0 + $1.tensor.count }) numbers) from \(source.rawValue) to \(out)"
                       + (tokenizer == nil ? "" : ", with its tokenizer") + "\nrun it: algo run Algorithms/\(dir)/\(algorithm).algo --params \(out)")
            return .ok
        }
    }

    /// The tokenizer beside a checkpoint, as `tokenizer.json` bytes: tokenizer.json itself, or the
    /// one GPT-2's vocab.json + merges.txt make.
    func tokenizerBeside(_ directory: String) -> [UInt8]? {
        for name in ["tokenizer.json", "vocab.json"] where FileManager.default.fileExists(atPath: directory + "/" + name) {
            if case .success(let t) = TokenizerFile.load(from: directory + "/" + name) { return t.vocabularyFile() }
        }
        return nil
    }
}
