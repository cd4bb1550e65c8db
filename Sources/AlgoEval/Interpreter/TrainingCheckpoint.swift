import AlgoDiagnostics
import AlgoSyntax
import AlgoTensor
import Foundation

/// What a training checkpoint must match to be resumed: the algorithm, the precision, the SHA-256
/// of the `.algo` text of every file the run executes, the hyperparameter values and the dataset.
public struct TrainingIdentity: Equatable, Sendable {
    public var algorithm: String
    public var precision: String
    public var sourceHash: String
    public var hyperparameters: [String: String]
    public var datasetHash: String

    /// The identity of a run of `p` with these values. Hyperparameters: every dimension some
    /// algorithm of the program declares (plus N_data, B, N_batches) and every real value.
    public static func make(_ p: LoadedProgram, dims: [String: Int], reals: [String: Double], inputs: [String: Value], dtype: DType) -> TrainingIdentity {
        var files = [p.target.file]
        for a in p.program.algorithms where !files.contains(a.file) { files.append(a.file) }
        var hash = SHA256()
        for file in [files[0]] + files.dropFirst().sorted() {
            hash.update(((try? String(contentsOfFile: file, encoding: .utf8)) ?? "").utf8)
            hash.update([0])
        }
        var declared: Set<String> = ["N_data", "B", "N_batches"]
        for a in p.program.algorithms { declared.formUnion(a.hyperparameterNames) }
        var h: [String: String] = [:]
        for (k, v) in dims where declared.contains(k) { h[k] = "\(v)" }
        for (k, v) in reals { h[k] = "\(v)" }
        var data = SHA256()
        for name in inputs.keys.sorted() {
            guard case .family(let fam) = inputs[name]! else { continue }
            data.update(name.utf8); data.update([0])
            for k in fam.elements.keys.sorted() {
                if case .tokens(let ids)? = fam.elements[k] { data.update("\(k):\(ids.map(String.init).joined(separator: ","));".utf8) }
            }
        }
        return TrainingIdentity(algorithm: p.target.name, precision: dtype == .f64 ? "f64" : "f32", sourceHash: SHA256.hex(hash.finalize()),
                                hyperparameters: h, datasetHash: SHA256.hex(data.finalize()))
    }
}

/// A training run's state as a checkpoint (safetensors tensors + metadata): θ under the names of
/// `algo params` (so `--params` reads it like any θ̂), other state tensors as `train.state.NAME`
/// (`train.state.m.W_e` for a collection member), the loss history as `train.losses` (F64), and
/// metadata `algo.train.*`: the step, the generator state, the member order of collections, scalar
/// state variables, and the `TrainingIdentity` that `--resume` checks (E0510–E0514).
public enum TrainingCheckpoint {
    static let prefix = "algo.train."
    static let stepKey = prefix + "step"
    static let rngKey = prefix + "rng"
    static let parametersKey = prefix + "parameters"
    static let lossBeforeKey = prefix + "loss_before"
    static let lossBeforePerTokenKey = prefix + "loss_before_per_token"
    static let statePrefix = prefix + "state."
    static let identityKeys = (algorithm: prefix + "algorithm", precision: prefix + "precision", source: prefix + "source_sha256",
                               hyperparameters: prefix + "hyperparameters", dataset: prefix + "dataset_sha256")

    /// The tensors and metadata of `s` (with `metadata` added: the model's hyperparameters, …).
    public static func contents(_ s: TrainingSnapshot, identity: TrainingIdentity, metadata: [String: String]) -> (tensors: [(name: String, tensor: Tensor)], metadata: [String: String]) {
        var m = metadata
        var tensors = s.parameters
        m[stepKey] = "\(s.step)"
        m[rngKey] = s.rng.map { String($0, radix: 16) }.joined(separator: ",")
        m[parametersKey] = s.parameters.map(\.name).joined(separator: "\n")
        if let b = s.lossBefore { m[lossBeforeKey] = "\(b)" }
        if let b = s.lossBeforePerToken { m[lossBeforePerTokenKey] = "\(b)" }
        m[identityKeys.algorithm] = identity.algorithm
        m[identityKeys.precision] = identity.precision
        m[identityKeys.source] = identity.sourceHash
        m[identityKeys.hyperparameters] = identity.hyperparameters.keys.sorted().map { "\($0)=\(identity.hyperparameters[$0]!)" }.joined(separator: "\n")
        m[identityKeys.dataset] = identity.datasetHash
        for (name, v) in s.state {
            let key = statePrefix + name
            switch v {
            case .tensor(let t): m[key] = "tensor"; tensors.append(("train.state." + name, t))
            case .collection(let members):
                m[key] = "collection:" + members.map(\.name).joined(separator: "\n")
                for (member, t) in members { tensors.append(("train.state." + name + "." + member, t)) }
            case .nat(let n): m[key] = "nat:\(n)"
            case .real(let r): m[key] = "real:\(r)"
            case .bool(let b): m[key] = "bool:\(b)"
            case .tokens(let x): m[key] = "tokens:" + x.map(String.init).joined(separator: ",")
            case .indexSet(let x): m[key] = "indexSet:" + x.map(String.init).joined(separator: ",")
            }
        }
        tensors.append(("train.losses", Tensor(shape: [s.losses.count], values: s.losses, dtype: .f64)))
        tensors.append(("train.token_losses", Tensor(shape: [s.tokenLosses.count], values: s.tokenLosses, dtype: .f64)))
        tensors.append(("train.predicted_tokens", Tensor(shape: [s.predictedTokens.count], values: s.predictedTokens.map(Double.init), dtype: .f64)))
        return (tensors, m)
    }

    /// Writes `s` to `path` atomically.
    public static func write(_ s: TrainingSnapshot, identity: TrainingIdentity, metadata: [String: String], to path: String) -> Result<Void, CheckpointError> {
        let c = contents(s, identity: identity, metadata: metadata)
        return Checkpoint.write(tensors: c.tensors, metadata: c.metadata, to: path)
    }

    /// The step a checkpoint holds, if it is a training checkpoint.
    public static func step(_ c: Checkpoint) -> Int? { c.metadata[stepKey].flatMap { Int($0) } }

    /// The snapshot in `c`, refused with E0510–E0514 when it is no training checkpoint or was
    /// written by a run that differs from `identity`.
    public static func snapshot(from c: Checkpoint, path: String, expecting identity: TrainingIdentity, at span: Span) throws -> TrainingSnapshot {
        let m = c.metadata
        func malformed(_ what: String) -> RuntimeError {
            RuntimeError(.notTrainingCheckpoint, "`\(path)` is not a training checkpoint: \(what)", at: span,
                         notes: ["write one with `algo run … --checkpoint FILE` (θ̂ from `--output`/`--save-params` has no training state; train from it with `--params`)"])
        }
        guard let step = m[stepKey].flatMap({ Int($0) }), step >= 1 else { throw malformed("it has no `\(stepKey)`") }
        if m[identityKeys.algorithm] != identity.algorithm {
            throw RuntimeError(.resumeMismatch, "`\(path)` was written by a run of `\(m[identityKeys.algorithm] ?? "?")`, not `\(identity.algorithm)`", at: span)
        }
        if m[identityKeys.precision] != identity.precision {
            throw RuntimeError(.resumeMismatch, "`\(path)` was written in \(m[identityKeys.precision] ?? "?"), this run is \(identity.precision); resume with `--precision \(m[identityKeys.precision] ?? "?")`", at: span)
        }
        if m[identityKeys.source] != identity.sourceHash {
            throw RuntimeError(.resumeSourceMismatch, "`\(path)` was written from other `.algo` text (SHA-256 \((m[identityKeys.source] ?? "?").prefix(12))…, now \(identity.sourceHash.prefix(12))…): the algorithm or a file it calls changed", at: span,
                               notes: ["to train the changed algorithm from these parameters, use `--params \(path)` (a new run) instead of `--resume`"])
        }
        var saved: [String: String] = [:]
        for line in (m[identityKeys.hyperparameters] ?? "").split(separator: "\n") {
            let kv = line.split(separator: "=", maxSplits: 1).map(String.init)
            if kv.count == 2 { saved[kv[0]] = kv[1] }
        }
        if saved != identity.hyperparameters {
            let keys = Set(saved.keys).union(identity.hyperparameters.keys).filter { saved[$0] != identity.hyperparameters[$0] }.sorted()
            let diff = keys.map { "\($0) = \(saved[$0] ?? "unset") in the checkpoint, \(identity.hyperparameters[$0] ?? "unset") now" }.joined(separator: "; ")
            throw RuntimeError(.resumeHyperparameterMismatch, "`\(path)` was written with other hyperparameters: \(diff)", at: span,
                               notes: ["resume with the command line of the run that wrote the checkpoint (the same `--set`)"])
        }
        if m[identityKeys.dataset] != identity.datasetHash {
            throw RuntimeError(.resumeDatasetMismatch, "`\(path)` was written for another dataset (SHA-256 \((m[identityKeys.dataset] ?? "?").prefix(12))…, now \(identity.datasetHash.prefix(12))…)", at: span,
                               notes: ["resume with the same `--input` as the run that wrote the checkpoint"])
        }
        let rng = (m[rngKey] ?? "").split(separator: ",").compactMap { UInt64($0, radix: 16) }
        guard rng.count == 6 else { throw malformed("its random generator state `\(rngKey)` is not 6 words") }
        func tensor(_ name: String) throws -> Tensor {
            guard let t = c[name] else { throw malformed("the tensor `\(name)` is missing") }
            return t
        }
        guard let order = m[parametersKey] else { throw malformed("`\(parametersKey)` is missing") }
        let parameters = try order.split(separator: "\n").map { (String($0), try tensor(String($0))) }
        var state: [(name: String, value: SavedValue)] = []
        for key in m.keys.sorted() where key.hasPrefix(statePrefix) {
            let name = String(key.dropFirst(statePrefix.count)), text = m[key]!
            let colon = text.firstIndex(of: ":")
            let kind = colon.map { String(text[..<$0]) } ?? text
            let rest = colon.map { String(text[text.index(after: $0)...]) } ?? ""
            let ints = rest.split(separator: ",").compactMap { Int($0) }
            switch kind {
            case "tensor": state.append((name, .tensor(try tensor("train.state." + name))))
            case "collection":
                state.append((name, .collection(try rest.split(separator: "\n").map { (String($0), try tensor("train.state." + name + "." + $0)) })))
            case "nat": guard let n = Int(rest) else { throw malformed("`\(key)` = `\(text)`") }; state.append((name, .nat(n)))
            case "real": guard let r = Double(rest) else { throw malformed("`\(key)` = `\(text)`") }; state.append((name, .real(r)))
            case "bool": state.append((name, .bool(rest == "true")))
            case "tokens": state.append((name, .tokens(ints)))
            case "indexSet": state.append((name, .indexSet(ints)))
            default: throw malformed("`\(key)` = `\(text)`")
            }
        }
        // Optimiser state that mirrors θ (Adam's m and v) has θ's shapes, member by member.
        let shapes = Dictionary(parameters.map { ($0.0, $0.1.shape) }, uniquingKeysWith: { a, _ in a })
        for (name, value) in state {
            guard case .collection(let members) = value else { continue }
            for (member, t) in members {
                guard let want = shapes[member], want != t.shape else { continue }
                throw RuntimeError(.resumeMismatch, "`\(path)`: the state tensor `train.state.\(name).\(member)` has shape \(t.shape.map(String.init).joined(separator: "×")), but the parameter `\(member)` has \(want.map(String.init).joined(separator: "×"))", at: span,
                                   notes: ["the checkpoint was altered or written by another program; resume from a checkpoint `algo run … --checkpoint` wrote"])
            }
        }
        let losses = try tensor("train.losses").doubles
        guard losses.count == step else { throw malformed("`train.losses` holds \(losses.count) values for \(step) steps") }
        // The per-token history (checkpoints before it existed lack it: NaN, not plotted).
        let tokenLosses = c["train.token_losses"]?.doubles ?? Array(repeating: .nan, count: step)
        let predicted = (c["train.predicted_tokens"]?.doubles ?? Array(repeating: 0, count: step)).map { $0.isFinite && $0 >= 0 && $0 < 9e15 ? Int($0) : 0 }
        guard tokenLosses.count == step, predicted.count == step else {
            throw malformed("`train.token_losses` or `train.predicted_tokens` holds another number of values than \(step) steps")
        }
        return TrainingSnapshot(step: step, parameters: parameters, state: state, rng: rng, losses: losses,
                                lossBefore: m[lossBeforeKey].flatMap { Double($0) }, tokenLosses: tokenLosses, predictedTokens: predicted,
                                lossBeforePerToken: m[lossBeforePerTokenKey].flatMap { Double($0) })
    }
}
