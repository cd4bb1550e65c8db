import AlgoEval
import AlgoTensor
import Foundation

/// What a training file (Algorithms 11–13, 19) trains on: `--input 'x_1=…;x_2=…'`'s dataset or the
/// built-in one, and `--held-out`'s set, never trained on, whose loss is reported beside it.
struct TrainingData {
    /// The dataset's sequences by input (`x`, or `z` and `x`) and element index (1-based).
    let elements: [String: [Int: [Int]]]
    /// Whether `--input` was not given (the built-in dataset).
    let builtIn: Bool
    /// The dataset as the algorithm's inputs, and its number of sequences (N_data).
    let inputs: [String: Value]
    let count: Int
    /// The run's dimensions with N_data (and N_batches for a minibatch algorithm) set.
    let dims: [String: Int]
    /// `--held-out`: its inputs and its own dimensions (its N_data and N_batches).
    let heldOut: (inputs: [String: Value], dims: [String: Int])?

    /// Reads and checks both sets against the algorithm `a`: a token outside 1…N_V (the given N_V,
    /// else `fallbackVocabulary`) is E0507 naming the set; an empty set, a held-out count B does not divide, or `--eval-every`
    /// without `--held-out` is a `UsageError` (exit 2).
    init(_ args: Arguments, _ a: LoadedAlgorithm, dims given: [String: Int], fallbackVocabulary: Int?, dtype: DType) throws {
        func checkVocabulary(_ elements: [String: [Int: [Int]]], _ what: String) throws {
            if let nv, let bad = elements.values.flatMap({ $0.values.flatMap { $0 } }).first(where: { $0 < 1 || $0 > nv }) {
                throw RuntimeError(.invalidInput, "token \(bad) of \(what) is outside the vocabulary 1…\(nv) (set N_V with --set)", at: a.syntax.title.span)
            }
        }
        let read = try Self.elements(args, "input", a, dtype: dtype)
        builtIn = read == nil
        elements = read ?? RunSession.defaultDatasetElements(a)
        (inputs, count) = try RunSession.dataset(elements, a)
        guard count > 0 else { throw UsageError("the dataset is empty") }
        dims = try RunSession.datasetDimensions(a, count: count, given: given)
        let nv = dims["N_V"] ?? fallbackVocabulary
        try checkVocabulary(elements, "the dataset")
        guard let held = try Self.elements(args, "held-out", a, dtype: dtype) else {
            if args.value("eval-every") != nil {
                throw UsageError("`--eval-every` needs a held-out set: give it with `--held-out 'x_1=…;x_2=…'` (the `--input` dataset is all training data)")
            }
            heldOut = nil
            return
        }
        try checkVocabulary(held, "the held-out set")
        let hInputs: [String: Value], hCount: Int
        do { (hInputs, hCount) = try RunSession.dataset(held, a) } catch var e as RuntimeError {
            e.diagnostic.message = "`--held-out`: " + e.diagnostic.message
            throw e
        }
        guard hCount > 0 else { throw UsageError("the held-out set is empty") }
        if let b = dims["B"], RunSession.isMinibatch(a), hCount % b != 0 {
            throw UsageError("the held-out set has \(hCount) sequence\(hCount == 1 ? "" : "s"), which the batch size B = \(b) does not divide")
        }
        var heldDims = dims
        heldDims["N_data"] = nil; heldDims["N_batches"] = nil
        heldOut = (hInputs, try RunSession.datasetDimensions(a, count: hCount, given: heldDims))
    }

    /// The held-out loss per predicted token at θ (an evaluation pass with its own evaluator), or
    /// nil without `--held-out`.
    func heldOutLoss(_ loaded: LoadedProgram, reals: [String: Double], options: RunOptions,
                     fallback: [String: Int]) -> (([(name: String, tensor: Tensor)]) throws -> Double)? {
        heldOut.map { h in
            { θ in
                try RunSession.evaluationPass(loaded, dims: h.dims, reals: reals, inputs: h.inputs, parameters: Dictionary(θ, uniquingKeysWith: { a, _ in a }),
                                              options: options, fallback: fallback).evaluator.meanLossPerToken
            }
        }
    }

    /// A dataset given as `--FLAG 'x_1=3,1,4;x_2=…'` (`--input`, `--held-out`): its sequences by
    /// input name and index, nil when the flag is not given. A part that is not `NAME=VALUE` or
    /// names no dataset element is a usage error.
    static func elements(_ args: Arguments, _ flag: String, _ a: LoadedAlgorithm, dtype: DType) throws -> [String: [Int: [Int]]]? {
        guard let text = args.value(flag) else { return nil }
        var elements: [String: [Int: [Int]]] = [:]
        for part in text.split(separator: ";") {
            let kv = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces).precomposedStringWithCanonicalMapping }
            guard kv.count == 2 else { throw UsageError("`--\(flag)` takes `NAME=VALUE;…`, not `\(part)`") }
            guard let (name, i) = RunSession.datasetElement(kv[0], a) else {
                let bases = RunSession.datasetInputs(a).map { "`\($0.base)_1`, `\($0.base)_2`, …" }.joined(separator: " and ")
                throw UsageError("`\(a.name)` trains on a dataset: give its sequences as \(bases) (`--\(flag) 'x_1=3,1,4;x_2=2,7,1'`), not `\(kv[0])`")
            }
            let v = try RunSession.parseInput(kv[1], kind: .tokens, name: kv[0], dtype: dtype, at: a.syntax.title.span)
            if case .tokens(let ids) = v { elements[name, default: [:]][i] = ids }
        }
        return elements
    }
}
