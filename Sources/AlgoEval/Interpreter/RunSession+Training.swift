import AlgoDiagnostics
import AlgoSema
import AlgoSyntax
import AlgoTensor
import Foundation

/// Training runs (Algorithms 11–13): a dataset, embedded defaults, the loss before and after.
extension RunSession {
    /// Whether the algorithm trains (its body takes a gradient `∇`).
    public static func isTraining(_ a: LoadedAlgorithm) -> Bool {
        a.syntax.body.contains { $0.contains { if case .unary(.gradient, _) = $0.kind { true } else { false } } }
    }

    /// The embedded defaults of a bare training run: a tiny model (one layer, d_e = 16) over a
    /// vocabulary of 9 tokens plus mask, bos, eos (N_V = 12), 40 epochs of SGD with η = 0.05, and
    /// p_mask = 0.25 (ETraining).
    public static let trainingDimensions: [String: Int] = [
        "N_V": 12, "ℓ_max": 16, "L": 1, "L_enc": 1, "L_dec": 1, "H": 2, "d_e": 16, "d_mlp": 32,
        "d_attn": 8, "d_mid": 8, "d_f": 16, "N_epochs": 40,
    ]
    public static let trainingReals: [String: Double] = ["η": 0.05, "p_mask": 0.25]

    /// Adam's defaults (an algorithm declaring β_1, β_2, ε): Kingma & Ba's β_1 = 0.9, β_2 = 0.999,
    /// ε = 10⁻⁸, and η = 0.01 (their α = 0.001 is slow for 40 epochs of the tiny default model).
    public static let adamReals: [String: Double] = ["η": 0.01, "β_1": 0.9, "β_2": 0.999, "ε": 1e-8]

    /// The real hyperparameters of training (η, p_mask, Adam's β_1, β_2, ε): never dimensions, and
    /// not the model's (a checkpoint's metadata leaves them out).
    public static let trainingRealNames: Set<String> = Set(trainingReals.keys).union(adamReals.keys)
    /// The dimensions of a training run rather than of its model (the dataset, the epochs, the
    /// batch): a checkpoint's metadata leaves them out.
    public static let trainingDimensionNames: Set<String> = ["N_data", "N_epochs", "B", "N_batches"]

    /// The default batch size of a minibatch algorithm (one declaring B and N_batches): 2, so the
    /// built-in 4-sequence dataset is N_batches = 2 batches.
    public static let defaultBatchSize = 2

    /// The real hyperparameters of a bare training run of `a`: `trainingReals`, with Adam's for an
    /// algorithm that declares β_1.
    public static func trainingReals(for a: LoadedAlgorithm) -> [String: Double] {
        var out = trainingReals
        if a.hyperparameterNames.contains("β_1") { for (k, v) in adamReals { out[k] = v } }
        return out
    }

    /// Whether `a` updates θ once per batch of B sequences (declares B and N_batches).
    public static func isMinibatch(_ a: LoadedAlgorithm) -> Bool {
        a.hyperparameterNames.contains("N_batches") && a.hyperparameterNames.contains("B")
    }

    /// N_data, and for a minibatch algorithm B (given, or `defaultBatchSize`) and N_batches = N_data/B;
    /// a B that does not divide N_data is an error.
    public static func datasetDimensions(_ a: LoadedAlgorithm, count: Int, given: [String: Int]) throws -> [String: Int] {
        var dims = given
        dims["N_data"] = count
        guard isMinibatch(a) else { return dims }
        let b = given["B"] ?? defaultBatchSize
        guard b >= 1, count % b == 0 else {
            throw RuntimeError(.invalidInput, "the batch size B = \(b) does not divide the dataset's N_data = \(count) sequences (N_data = N_batches B); set B with --set", at: a.syntax.title.span)
        }
        if let n = given["N_batches"], n != count / b {
            throw RuntimeError(.invalidInput, "N_batches = \(n) but N_data/B = \(count)/\(b) = \(count / b); leave N_batches out, it follows from the dataset and B", at: a.syntax.title.span)
        }
        dims["B"] = b
        dims["N_batches"] = count / b
        return dims
    }

    /// The built-in dataset: sequences over tokens 1…9 with a rule to learn (counting up by one or
    /// two, wrapping); EDTraining's sources z_n are the targets reversed.
    public static let defaultDataset: [[Int]] = [
        [1, 2, 3, 4, 5, 6, 7, 8],
        [3, 4, 5, 6, 7, 8, 9, 1],
        [2, 4, 6, 8, 1, 3, 5, 7],
        [5, 6, 7, 8, 9, 1, 2, 3],
    ]

    /// The dataset inputs of a training algorithm: signature inputs `x_{1:N_data}` (spelling, base `x`).
    public static func datasetInputs(_ a: LoadedAlgorithm) -> [(name: String, base: String)] {
        a.inputs.compactMap { sp in
            guard case .name(let n) = sp.name.kind, n.scripts.count == 1, let s = n.scripts.last, s.position == .sub,
                  case .slice = s.value.kind else { return nil }
            return (n.spelling, n.base)
        }
    }

    /// `x_3` → (`x_{1:N_data}`, 3) for a dataset input of `a`.
    public static func datasetElement(_ key: String, _ a: LoadedAlgorithm) -> (name: String, index: Int)? {
        for (name, base) in datasetInputs(a) where key.hasPrefix(base + "_") {
            var rest = String(key.dropFirst(base.count + 1))
            if rest.hasPrefix("{"), rest.hasSuffix("}") { rest = String(rest.dropFirst().dropLast()) }
            if let i = Int(rest), i >= 1 { return (name, i) }
        }
        return nil
    }

    /// The dataset as family values and N_data; elements must be given for 1…N without gaps.
    public static func dataset(_ elements: [String: [Int: [Int]]], _ a: LoadedAlgorithm) throws -> (inputs: [String: Value], count: Int) {
        var out: [String: Value] = [:]
        var count: Int? = nil
        for (name, _) in datasetInputs(a) {
            guard let e = elements[name], !e.isEmpty else { continue }
            let n = e.keys.max()!
            guard e.count == n else {
                // The first few missing indices, found without walking all of 1…n (`x_1000000000=…`).
                let missing = (1...n).lazy.filter { e[$0] == nil }.prefix(5).map(String.init)
                throw RuntimeError(.invalidInput, "the dataset `\(name)` has \(e.count) element(s) but names element \(n); it misses \(missing.joined(separator: ", "))\(n - e.count > 5 ? ", …" : "")", at: a.syntax.title.span)
            }
            if let c = count, c != n {
                throw RuntimeError(.invalidInput, "the datasets have \(c) and \(n) elements; a pair needs both", at: a.syntax.title.span)
            }
            count = n
            var fam = Family()
            for (k, v) in e { fam.elements[k] = .tokens(v) }
            out[name] = .family(fam)
        }
        return (out, count ?? 0)
    }

    /// The built-in dataset for each dataset input (sources `z` are the sequences reversed).
    public static func defaultDatasetElements(_ a: LoadedAlgorithm) -> [String: [Int: [Int]]] {
        var out: [String: [Int: [Int]]] = [:]
        let inputs = datasetInputs(a)
        for (name, base) in inputs {
            var e: [Int: [Int]] = [:]
            for (k, x) in defaultDataset.enumerated() { e[k + 1] = (base == "z" && inputs.count > 1) ? x.reversed() : x }
            out[name] = e
        }
        return out
    }

    /// A trained model and how its loss moved.
    public struct TrainingResult {
        /// θ̂ by checkpoint name (`algo params` order of the result collection).
        public var parameters: [(name: String, tensor: Tensor)]
        /// The initial θ by checkpoint name.
        public var initial: [(name: String, tensor: Tensor)]
        /// Mean over the dataset of loss(θ) (summed over positions) at the initial θ and at θ̂.
        public var lossBefore: Double
        public var lossAfter: Double
        /// loss(θ) of every SGD step, in order.
        public var stepLosses: [Double]
        /// The same three in nats per predicted token (`Evaluator+LossUnit`): what `algo run` prints.
        public var lossBeforePerToken: Double = .nan
        public var lossAfterPerToken: Double = .nan
        public var stepLossesPerToken: [Double] = []
        public var dims: [String: Int]
        public var evaluator: Evaluator
        /// The step a requested stop ended the run at (θ̂ is θ after it; `lossAfter` is NaN).
        public var stoppedAtStep: Int?
    }

    /// Checkpoint names of a parameter collection: members, `prefix.member` for sub-collections.
    public static func flatten(_ v: Value, prefix: String = "") -> [(name: String, tensor: Tensor)] {
        switch v {
        case .tensor(let t): return [(prefix, t.value)]
        case .collection(let c): return c.members.flatMap { flatten($0.value, prefix: prefix.isEmpty ? $0.name : prefix + "." + $0.name) }
        default: return []
        }
    }

    /// Runs a training algorithm: an evaluation pass at the initial θ (N_epochs = 1, gradients not
    /// applied), the training run, an evaluation pass at θ̂. Each pass starts its random generator
    /// from `options.seed`, so ETraining's evaluation passes draw the same masks.
    ///
    /// With `training`, its monitor sees every step (`TrainingStep`) and may stop the run at a step
    /// boundary (the result then holds θ after that step, `stoppedAtStep`, and no evaluation pass
    /// after). With `training.resume` (a `TrainingSnapshot`), the pass before is skipped (its loss
    /// is the snapshot's), the training run re-runs the control flow without executing statements
    /// until the snapshot's step, restores θ, the state variables and the generator there, and
    /// continues: the result is bit-identical to a run that was never stopped.
    /// `unusedParameters` is told the names of `parameters` θ does not read (by the pass before;
    /// a resumed run takes θ from the snapshot and does not ask).
    public static func train(_ p: LoadedProgram, dims: [String: Int], reals: [String: Double], inputs: [String: Value],
                             parameters: [String: Tensor]?, options: RunOptions, fallback: [String: Int] = [:],
                             training: TrainingRun? = nil, unusedParameters: (([String]) throws -> Void)? = nil) throws -> TrainingResult {
        if let epochs = dims.merging(fallback, uniquingKeysWith: { a, _ in a })["N_epochs"] {
            try SizeBudget.checkSteps(epochs: epochs, stepsPerEpoch: tokensPerStep(p.target, inputs: inputs, dims: dims.merging(fallback) { a, _ in a }).count,
                                      at: p.target.syntax.title.span)
        }
        func mean(_ xs: [Double]) -> Double { xs.isEmpty ? 0 : xs.reduce(0, +) / Double(xs.count) }
        var initial: [String: Tensor] = [:]
        var lossBefore: Double, lossBeforePerToken: Double
        var start = parameters
        if let resume = training?.resume {
            lossBefore = resume.lossBefore ?? .nan
            lossBeforePerToken = resume.lossBeforePerToken ?? .nan
            start = Dictionary(resume.parameters, uniquingKeysWith: { a, _ in a })
        } else {
            let before = try evaluationPass(p, dims: dims, reals: reals, inputs: inputs, parameters: parameters, options: options, fallback: fallback,
                                            unusedParameters: unusedParameters)
            initial = before.parameters.mapValues(\.value)
            lossBefore = mean(before.evaluator.losses)
            lossBeforePerToken = before.evaluator.meanLossPerToken
            start = initial
        }
        var trainOptions = options
        if let training {
            trainOptions.training = training
            training.lossBefore = lossBefore
            training.lossBeforePerToken = lossBeforePerToken
            let merged = dims.merging(fallback) { a, _ in a }
            let perEpoch = Self.tokensPerStep(p.target, inputs: inputs, dims: merged)
            training.tokensPerStep = perEpoch
            if let epochs = merged["N_epochs"], !perEpoch.isEmpty { training.totalSteps = epochs * perEpoch.count }
        }
        let trained: RunResult
        do {
            trained = try Pipeline.run(p, RunSetup(dims: dims, reals: reals, inputs: inputs, parameters: start, options: trainOptions, fallback: fallback))
        } catch var e as RuntimeError where e.diagnostic.code == .nonFinite && training != nil {
            let k = training!.stepsPassed
            e.diagnostic.notes.insert("training step \(k + 1)\(training!.totalSteps.map { " of \($0)" } ?? ""): θ after step \(k) was the last finite one", at: 0)
            throw e
        } catch let stop as TrainingStopped {
            var r = TrainingResult(parameters: stop.snapshot.parameters, initial: initial.keys.sorted().map { ($0, initial[$0]!) },
                                   lossBefore: lossBefore, lossAfter: .nan, stepLosses: stop.snapshot.losses, dims: dims.merging(fallback) { a, _ in a },
                                   evaluator: stop.evaluator, stoppedAtStep: stop.snapshot.step)
            r.lossBeforePerToken = lossBeforePerToken
            r.stepLossesPerToken = stop.snapshot.tokenLosses
            return r
        }
        if let training, training.resumePending {
            throw RuntimeError(.resumeMismatch, "the checkpoint is at step \(training.resume?.step ?? 0), but this run has only \(training.stepsPassed) steps", at: p.target.syntax.title.span)
        }
        let θ̂ = flatten(trained.value)
        guard !θ̂.isEmpty else {
            throw RuntimeError(.invalidInput, "`\(p.target.name)` returned \(trained.value.kindName), not parameters", at: p.target.syntax.title.span)
        }
        let after = try evaluationPass(p, dims: dims, reals: reals, inputs: inputs, parameters: Dictionary(θ̂, uniquingKeysWith: { a, _ in a }),
                                       options: options, fallback: fallback)
        var r = TrainingResult(parameters: θ̂, initial: initial.keys.sorted().map { ($0, initial[$0]!) },
                               lossBefore: lossBefore, lossAfter: mean(after.evaluator.losses),
                               stepLosses: trained.evaluator.losses, dims: trained.dims, evaluator: trained.evaluator, stoppedAtStep: nil)
        r.lossBeforePerToken = lossBeforePerToken
        r.lossAfterPerToken = after.evaluator.meanLossPerToken
        r.stepLossesPerToken = trained.evaluator.tokenLosses
        return r
    }

    /// One pass of a training algorithm over a dataset at θ (nil: initialised) with N_epochs = 1 and
    /// no update (`RunOptions.applyGradients` off, no monitor): its evaluator holds the loss of every
    /// `∇loss(θ)` (`Evaluator.losses`, `meanLossPerToken`). The loss before and after a training run,
    /// and the held-out loss of `--held-out`.
    public static func evaluationPass(_ p: LoadedProgram, dims: [String: Int], reals: [String: Double], inputs: [String: Value],
                                      parameters: [String: Tensor]?, options: RunOptions, fallback: [String: Int] = [:],
                                      unusedParameters: (([String]) throws -> Void)? = nil) throws -> RunResult {
        var o = options
        o.applyGradients = false
        o.training = nil
        var d = dims
        d["N_epochs"] = 1
        var setup = RunSetup(dims: d, reals: reals, inputs: inputs, parameters: parameters, options: o, fallback: fallback)
        setup.unusedParameters = unusedParameters
        return try Pipeline.run(p, setup)
    }

    /// Tokens each step of an epoch trains on: length(x_n) (+ length(z_n) for pairs) per sequence,
    /// summed over each batch of B for a minibatch algorithm (the data loop visits n = 1…N_data in order).
    public static func tokensPerStep(_ a: LoadedAlgorithm, inputs: [String: Value], dims: [String: Int]) -> [Int] {
        var perSequence: [Int] = []
        for (name, _) in datasetInputs(a) {
            guard case .family(let fam)? = inputs[name] else { continue }
            for k in 1...max(fam.count, 1) {
                guard case .tokens(let ids)? = fam.elements[k] else { continue }
                if perSequence.count < k { perSequence.append(0) }
                perSequence[k - 1] += ids.count
            }
        }
        guard isMinibatch(a), let b = dims["B"], b >= 1, perSequence.count % b == 0 else { return perSequence }
        return stride(from: 0, to: perSequence.count, by: b).map { perSequence[$0..<($0 + b)].reduce(0, +) }
    }
}
