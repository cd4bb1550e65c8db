import AlgoDiagnostics
import AlgoSema
import AlgoSyntax
import AlgoTensor
import Foundation

/// What `algo gradcheck` differentiates: a training algorithm's own `loss(θ)` (the line that
/// `∇loss(θ)` takes, e.g. DTraining's line 5 `loss(θ) = −Σ_{t=1}^{ℓ−1} log P(θ)[x_n[t+1], t]`),
/// evaluated by the interpreter in Float64 for one fixed dataset element (N_data = 1, N_epochs = 1,
/// for minibatches B = N_batches = 1) at a fixed random θ.
///
/// * `loss(θ)` runs the algorithm as an evaluation pass (`RunOptions.applyGradients = false`): the
///   value of its one `∇loss(θ)` line, `Evaluator.losses[0]`.
/// * `gradient(θ)` runs it with the tape: the value `∇loss(θ)` returns, `Evaluator.gradients[0]`
///   (`RunOptions.recordGradients`), by checkpoint name. The update after it is irrelevant.
/// * Every run starts its random generator from `seed`, so ETraining's draw
///   `x̃_n[t] ← mask_token or x_n[t] randomly …` (which never depends on θ) is replayed identically
///   for every evaluation.
/// * A model file (DTransformer, DTransformerGopher, ETransformer, EDTransformer) is checked through
///   the training algorithm of its directory that trains it (Algorithms 11–13: the seq2seq,
///   masked-token or next-token loss); a variant (DTransformerGopher) takes the place of the model
///   it extends (DTransformer) in that algorithm's text, which is checked again in memory.
public struct GradientCheckProblem {
    /// The training algorithm whose loss is differentiated (for a model file, with the model substituted).
    public let program: LoadedProgram
    /// For a model file: the model's name and the callee of the training algorithm it replaces
    /// (equal when the training algorithm calls the model itself).
    public let model: (name: String, replaces: String)?
    /// The `loss(θ) = …` line: file, 1-based source line, the paper's line number and its text.
    public let lossLine: (file: String, line: Int, number: String, text: String)
    /// `next-token` (Algorithm 13 and variants), `masked-token` (12) or `seq2seq` (11).
    public let kind: String
    /// Every dimension of the run (N_data = N_epochs = 1).
    public let dims: [String: Int]
    public let reals: [String: Double]
    /// The fixed dataset element: `x_1` (and `z_1`), 1-based token ids.
    public let sequences: [(name: String, tokens: [Int])]
    /// θ by checkpoint name, in `algo params` order (Float64).
    public let parameters: [(name: String, tensor: Tensor)]
    public let seed: UInt64
    let inputs: [String: Value]
    /// Test hook: `RunOptions.faultyGELUGradient` for the gradient pass (a wrong VJP to catch).
    var faultyGELUGradient: Double? = nil

    /// The tiny model of a check (every element is compared): N_V = 7, ℓ = ℓ_max = 4, L = 1, H = 2,
    /// d_e = 4, d_mlp = 8, d_attn = d_mid = 2, d_f = 4.
    public static let dimensions: [String: Int] = [
        "N_V": 7, "ℓ_max": 4, "L": 1, "L_enc": 1, "L_dec": 1, "H": 2, "d_e": 4, "d_mlp": 8,
        "d_attn": 2, "d_mid": 2, "d_f": 4,
    ]
    /// The length ℓ of the dataset element (and of EDTraining's source z).
    public static let sequenceLength = 4
    /// ETraining masks with p_mask = 0.5 here (the training default 0.25 often masks nothing at ℓ = 4).
    public static let reals: [String: Double] = ["p_mask": 0.5]
    /// θ is drawn 𝒩(0, 0.5²) (γ: 1 + 𝒩(0, 0.5²)), not with the training initialisation 𝒩(0, 0.02²):
    /// near 0 the network is almost linear and most gradients almost vanish, which tests little.
    public static let parameterScale = 0.5

    var θ: [String: Tensor] { Dictionary(parameters.map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a }) }

    /// Loads `path` and sets up the check: dimensions `dimensions` changed by `dims` (`ℓ` sets the
    /// sequence length), the algorithm's reals (`RunSession.trainingReals(for:)`, `reals`) changed by
    /// `reals`, the dataset element (unless given by base name, `["x": [1, 4, 2], "z": …]`) and θ
    /// drawn from `seed`. Throws `RunFailure` (the file does not load) or `RuntimeError` (E0530 no
    /// loss, E0507 bad values).
    public static func prepare(path: String, dims given: [String: Int] = [:], reals givenReals: [String: Double] = [:],
                               seed: UInt64 = 0, sequences givenSequences: [String: [Int]]? = nil) throws -> GradientCheckProblem {
        try prepare(try Pipeline.read(path).get(), dims: given, reals: givenReals, seed: seed, sequences: givenSequences)
    }

    /// `prepare(path:…)` of a file already read.
    public static func prepare(_ source: SourceFile, dims given: [String: Int] = [:], reals givenReals: [String: Double] = [:],
                               seed: UInt64 = 0, sequences givenSequences: [String: [Int]]? = nil) throws -> GradientCheckProblem {
        let loaded: LoadedProgram
        switch Pipeline.load(source) {
        case .success(let l): loaded = l
        case .failure(let f): throw f
        }
        var program = loaded
        var model: (name: String, replaces: String)? = nil
        if !RunSession.isTraining(loaded.target) {
            guard let (p, replaced) = try trainingProgram(for: loaded) else {
                throw RuntimeError(.noLoss, "`\(loaded.target.name)` defines no loss(θ) to differentiate: it takes no `∇loss(θ)`, and no training algorithm in its directory trains it",
                                   at: loaded.target.syntax.title.span,
                                   notes: ["`algo gradcheck` checks a training algorithm (DTraining, ETraining, EDTraining, …) or a model one of them trains (DTransformer, ETransformer, EDTransformer, DTransformerGopher)"])
            }
            program = p
            model = (loaded.target.name, replaced)
        }
        let a = program.target
        guard let lossLine = lossLine(program) else {
            throw RuntimeError(.noLoss, "`\(a.name)` takes `∇` of no function defined by a line `loss(θ) = …`", at: a.syntax.title.span)
        }

        var dims = dimensions
        var length = givenSequences?.values.map(\.count).max() ?? sequenceLength
        for (k, v) in given { if k == "ℓ" { length = v } else { dims[k] = v } }
        if given["ℓ_max"] == nil { dims["ℓ_max"] = max(dims["ℓ_max"] ?? length, length) }
        let span = a.syntax.title.span
        guard length >= 2 else { throw RuntimeError(.invalidInput, "the sequence length ℓ = \(length) leaves no token to predict; use ℓ ≥ 2", at: span) }
        guard length <= dims["ℓ_max"]! else {
            throw RuntimeError(.invalidInput, "the sequence length ℓ = \(length) exceeds ℓ_max = \(dims["ℓ_max"]!)", at: span)
        }
        let nv = dims["N_V"] ?? 7
        guard nv >= 4 else { throw RuntimeError(.invalidInput, "N_V = \(nv) leaves no token besides mask, bos and eos; use N_V ≥ 4", at: span) }
        dims["N_epochs"] = 1
        if RunSession.isMinibatch(a) { dims["B"] = 1; dims["N_batches"] = nil }
        dims = try RunSession.datasetDimensions(a, count: 1, given: dims)

        // The dataset element: tokens 1…N_V − 3 (not the special tokens), drawn from the seed.
        var rng = RandomGenerator(seed: seed)
        var elements: [String: [Int: [Int]]] = [:]
        var sequences: [(String, [Int])] = []
        for (name, base) in RunSession.datasetInputs(a) {
            let drawn = (0..<length).map { _ in Int(rng.next() % UInt64(nv - 3)) + 1 }
            let x = givenSequences?[base] ?? drawn
            if let bad = x.first(where: { $0 < 1 || $0 > nv }) {
                throw RuntimeError(.invalidInput, "token \(bad) of `\(base)_1` is outside the vocabulary 1…\(nv)", at: span)
            }
            elements[name] = [1: x]
            sequences.append((base + "_1", x))
        }
        let (inputs, count) = try RunSession.dataset(elements, a)
        guard count == 1 else { throw RuntimeError(.noLoss, "`\(a.name)` has no dataset input `x_{1:N_data}`", at: span) }

        // The defaults of the reals the algorithm declares (p_mask only for ETraining).
        var reals = RunSession.trainingReals(for: a).filter { a.hyperparameterNames.contains($0.key) }
        for (k, v) in Self.reals where reals[k] != nil { reals[k] = v }
        for (k, v) in givenReals { reals[k] = v }

        // θ: 𝒩(0, 0.5²) entries (γ around 1), in layout order, from the same generator.
        var parameters: [(String, Tensor)] = []
        for s in try ParameterLayout.parameters(of: a, program: program.program, dims: dims) {
            let leaf = s.name.split(separator: ".").last.map(String.init) ?? s.name
            let centre = leaf.hasPrefix("γ") ? 1.0 : 0.0
            parameters.append((s.name, Tensor(shape: s.shape, values: (0..<Shape.count(s.shape)).map { _ in centre + parameterScale * rng.normal() }, dtype: .f64)))
        }
        let kind = RunSession.datasetInputs(a).count > 1 ? "seq2seq" : a.hyperparameterNames.contains("p_mask") ? "masked-token" : "next-token"
        return GradientCheckProblem(program: program, model: model, lossLine: lossLine, kind: kind, dims: dims, reals: reals,
                                    sequences: sequences, parameters: parameters, seed: seed, inputs: inputs)
    }

    func options(gradient: Bool) -> RunOptions {
        var o = RunOptions()
        o.dtype = .f64
        o.seed = seed
        o.applyGradients = gradient
        o.recordGradients = gradient
        if gradient { o.faultyGELUGradient = faultyGELUGradient }
        return o
    }

    /// loss(θ) at the fixed dataset element: the value of the algorithm's one `∇loss(θ)` line.
    public func loss(_ θ: [String: Tensor]) throws -> Double {
        let r = try Pipeline.run(program, RunSetup(dims: dims, reals: reals, inputs: inputs, parameters: θ, options: options(gradient: false)))
        return try one(r.evaluator.losses)
    }

    /// ∇loss(θ) as the interpreter computes it (reverse mode, the tape), by checkpoint name, and loss(θ).
    public func gradient(_ θ: [String: Tensor]) throws -> (loss: Double, gradient: [String: Tensor]) {
        let r = try Pipeline.run(program, RunSetup(dims: dims, reals: reals, inputs: inputs, parameters: θ, options: options(gradient: true)))
        let l = try one(r.evaluator.losses)
        let g = RunSession.flatten(r.evaluator.gradients[0])
        return (l, Dictionary(g.map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a }))
    }

    func one(_ losses: [Double]) throws -> Double {
        guard losses.count == 1 else {
            throw RuntimeError(.gradientSteps, "one epoch of `\(program.target.name)` over one dataset element took \(losses.count) gradients `∇loss(θ)`, not one",
                               at: program.target.syntax.title.span)
        }
        return losses[0]
    }

    // MARK: - Finding the loss

    /// The statement `loss(θ) = …` that the first `∇f(θ)` of the body differentiates.
    static func lossLine(_ p: LoadedProgram) -> (file: String, line: Int, number: String, text: String)? {
        var statements: [Statement] = []
        func flatten(_ b: [Statement]) {
            for s in b { statements.append(s); flatten(s.substatements) }
        }
        flatten(p.target.syntax.body)
        // The function differentiated by the first `∇f(θ)` of an assignment.
        let differentiated = statements.lazy.compactMap { s -> String? in
            guard case .assign(_, _, let v) = s.kind else { return nil }
            return v.first { e -> String? in
                if case .unary(.gradient, let a) = e.kind, case .call(let c) = a.kind { return c.callee.spelling }
                return nil
            }
        }.first
        guard let name = differentiated else { return nil }
        for s in statements {
            guard case .assign(let target, _, _) = s.kind, case .call(let c) = target.kind, c.callee.spelling == name else { continue }
            let line = p.source.location(of: s.span.start).line
            let text = p.source.lineText(line).trimmingCharacters(in: .whitespaces)
            let afterNumber = s.lineNumber.map { n in text.hasPrefix(n) ? String(text.dropFirst(n.count)).trimmingCharacters(in: .whitespaces) : text } ?? text
            return (p.source.path, line, s.lineNumber ?? "", afterNumber)
        }
        return nil
    }

    /// The training algorithm of the model's directory that trains it: one whose callee is the model
    /// (or, for a variant such as DTransformerGopher, the longest callee name the model's name extends);
    /// of several, the one with the fewest hyperparameters (DTraining before DTrainingAdam). The callee
    /// is replaced by the model in the training algorithm's text, which is checked again.
    static func trainingProgram(for model: LoadedProgram) throws -> (LoadedProgram, String)? {
        let m = model.target.name
        var best: (program: LoadedProgram, callee: String)? = nil
        let dir = LibraryPaths.directory(of: model.source.path)
        let library = Library.around(path: model.source.path)
        for f in library.files.map(\.source) where LibraryPaths.directory(of: f.path) == dir && f.path != model.source.path && f.text.contains("∇") {
            guard case .success(let p) = Pipeline.load(f, library: library), RunSession.isTraining(p.target) else { continue }
            for c in Set(p.target.checked.calls.values.filter { !$0.isBuiltin }.map(\.callee)) where m == c || m.hasPrefix(c) {
                if let b = best {
                    let key = (-c.count, p.target.hyperparameterNames.count), bestKey = (-b.callee.count, b.program.target.hyperparameterNames.count)
                    if key >= bestKey { continue }
                }
                best = (p, c)
            }
        }
        guard let best else { return nil }
        if best.callee == m { return (best.program, m) }
        let text = replacingCalls(of: best.callee, with: m, in: best.program.source.text)
        switch Pipeline.load(SourceFile(path: best.program.source.path, text: text), library: library) {
        case .success(let p): return (p, best.callee)
        case .failure(let f): throw f
        }
    }

    /// `callee(` → `replacement(` where `callee` is a whole name (not the end of a longer one).
    static func replacingCalls(of callee: String, with replacement: String, in text: String) -> String {
        var out = ""
        var rest = Substring(text)
        while let r = rest.range(of: callee + "(") {
            let before = rest[..<r.lowerBound]
            out += before
            let previous = before.last ?? out.last
            if let c = previous, c.isLetter || c.isNumber || c == "_" { out += rest[r] } else { out += replacement + "(" }
            rest = rest[r.upperBound...]
        }
        return out + rest
    }
}
