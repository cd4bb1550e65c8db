import AlgoEval
import AlgoSyntax
import AlgoDiagnostics
import AlgoTensor
import Foundation

/// What `algo run` prints after a forward run (the report stage of `Pipeline`): the algorithm, the
/// hyperparameters and where they came from, the parameters, the inputs, the output described
/// readably, the time, and with `--profile` the time per source line. The pieces (`brief`,
/// `describe`, `signature`, the dimensions shown) are shared with the training and gradcheck reports.
struct RunReport {
    let loaded: LoadedProgram
    let result: RunResult
    let reals: [String: Double]
    /// `--params PATH`, when the parameters (and dimensions) came from a checkpoint.
    let checkpoint: String?
    /// Whether `--set` gave any value.
    let setGiven: Bool
    let options: RunOptions
    let tokenizer: (any Tokenizer)?
    let seconds: Double
    /// `--samples N`: the samples after the first, with their seeds (the same parameters and inputs).
    var samples: [(seed: UInt64, value: Value)] = []

    var target: LoadedAlgorithm { loaded.target }

    /// The dimensions of the algorithm and its callees that the run fixed (shown, and written as metadata).
    var usedDims: [String] { Self.dimensionsUsed(target, loaded.program).filter { result.dims[$0] != nil }.sorted() }

    var text: String {
        let a = target, dims = result.dims
        var s = "\(a.syntax.title.number.isEmpty ? "" : "Algorithm \(a.number): ")\(Self.signature(a, loaded.source))   (\(loaded.source.path))\n"
        let realNames = a.hyperparameterNames.filter { reals[$0] != nil }
        if !usedDims.isEmpty || !realNames.isEmpty {
            let shown = usedDims.map { "\($0) = \(dims[$0]!)" } + realNames.map { "\($0) = \(reals[$0]!)" }
            s += "hyperparameters: \(shown.joined(separator: ", "))"
            s += checkpoint == nil ? (setGiven ? "  (defaults and --set)\n" : "  (embedded defaults; change with --set)\n") : "  (from the checkpoint and --set)\n"
        }
        let count = result.parameters.values.reduce(0) { $0 + $1.value.count }
        if !result.parameters.isEmpty {
            s += "parameters: \(result.parameters.count) tensors, \(count) numbers"
            s += checkpoint.map { " from \($0)\n" } ?? ", initialised: weights 𝒩(0, 0.02²), biases and β 0, γ 1 (seed \(options.seed)); `algo params` lists them\n"
        }
        for (k, v) in result.inputs.sorted(by: { $0.key < $1.key }) {
            s += "input \(k) = \(Self.brief(v))\(result.defaulted.contains(k) ? "  (default)" : "")\n"
        }
        s += Self.describe(result.value, a, options.dtype)
        if let tk = tokenizer, case .tokens(let ids) = result.value, case .success(let text) = tk.decode(ids, specialTokens: .show) {
            s += "  as text: \"\(text)\"\n"
        }
        for (k, sample) in samples.enumerated() {
            s += "sample \(k + 2) (seed \(sample.seed)): \(Self.brief(sample.value))"
            if let tk = tokenizer, case .tokens(let ids) = sample.value, case .success(let text) = tk.decode(ids, specialTokens: .show) { s += "  \"\(text)\"" }
            s += "\n"
        }
        if checkpoint == nil, !result.parameters.isEmpty {
            s += "note: the parameters are random (untrained), so the output means nothing yet"
            if usedDims.contains("N_V"), let nv = dims["N_V"] { s += String(format: ": a predicted distribution is close to uniform (1/N_V ≈ %.3f)", 1 / Double(nv)) }
            s += "; give trained parameters with --params\n"
        }
        s += String(format: "time: %.1f ms (%@)\n", seconds * 1000, options.dtype == .f64 ? "float64" : "float32")
        if options.profile { s += Self.profileTable(result.evaluator) }
        return s
    }

    /// The dimension names of the algorithm and of every algorithm it calls (for the report and metadata).
    static func dimensionsUsed(_ a: LoadedAlgorithm, _ p: EvalProgram) -> Set<String> {
        var names: Set<String> = []
        var seen: Set<String> = []
        func visit(_ x: LoadedAlgorithm) {
            guard seen.insert(x.name).inserted else { return }
            for (_, t) in x.checked.variables { for d in t.dims { for v in d.variables { if case .named(let n) = v { names.insert(n) } } } }
            for n in x.hyperparameterNames { names.insert(n) }
            // Callees' own dimensions (d_x, ℓ_x) are bound by the caller; only an algorithm without
            // parameters of its own (DInference) shows its callee's.
            if x.name == a.name && x.header(.parameters).isEmpty {
                for c in x.checked.calls.values where !c.isBuiltin { if let y = p.find(c.callee, file: c.file) { visit(y) } }
            }
        }
        visit(a)
        return names.filter { !$0.contains("(") }
    }

    /// The dimensions of the model a training algorithm trains (DTransformer's, via its calls).
    static func modelDimensions(_ p: LoadedProgram) -> Set<String> {
        var names: Set<String> = []
        for c in p.target.checked.calls.values where !c.isBuiltin {
            if let y = p.program.find(c.callee, file: c.file) {
                for (_, t) in y.checked.variables { for d in t.dims { for v in d.variables { if case .named(let n) = v { names.insert(n) } } } }
                for n in y.hyperparameterNames { names.insert(n) }
            }
        }
        return names.filter { !$0.contains("(") && $0 != "Mask" && $0 != "ℓ" }
    }

    static func signature(_ a: LoadedAlgorithm, _ source: SourceFile) -> String {
        guard let sig = a.syntax.title.signature else { return a.name }
        return source.slice(sig.span)
    }

    static func brief(_ v: Value) -> String {
        switch v {
        case .tokens(let t): return "[" + t.prefix(16).map(String.init).joined(separator: ", ") + (t.count > 16 ? ", …" : "") + "] (\(t.count) tokens)"
        case .nat(let n): return String(n)
        case .real(let r): return String(r)
        case .tensor(let t): return "tensor of shape \(t.shape.map(String.init).joined(separator: "×"))"
        default: return "…"
        }
    }

    /// The result, readably: token sequences as ids; distributions with their top tokens; other
    /// tensors with shape and summary.
    static func describe(_ v: Value, _ a: LoadedAlgorithm, _ dtype: DType) -> String {
        let name = a.outputName
        switch v {
        case .tokens(let t): return "output \(name) = \(brief(v))\n" + (t.isEmpty ? "" : "")
        case .nat(let n): return "output \(name) = \(n)\n"
        case .real(let r): return "output \(name) = \(r)\n"
        case .tensor(let t):
            let x = t.value
            let values = x.doubles
            var s = "output \(name): shape \(x.shape.map(String.init).joined(separator: "×")), "
            let finite = values.filter { $0.isFinite }
            let mean = finite.isEmpty ? 0 : finite.reduce(0, +) / Double(finite.count)
            s += String(format: "min %.4g, max %.4g, mean %.4g\n", finite.min() ?? .nan, finite.max() ?? .nan, mean)
            let isDistribution = values.allSatisfy { $0 >= 0 } && (x.rank == 1 ? abs(values.reduce(0, +) - 1) < 1e-3
                                                                   : (0..<x.shape[1]).allSatisfy { abs(x.column($0).doubles.reduce(0, +) - 1) < 1e-3 })
            if isDistribution, x.rank >= 1 {
                let cols = x.rank == 2 ? x.shape[1] : 1
                s += "  each column is a probability distribution over the \(x.shape[0]) tokens (sums to 1)\n"
                for c in Array(0..<cols).suffix(3) {
                    let col = x.rank == 2 ? x.column(c).doubles : values
                    let top = col.enumerated().sorted { $0.element > $1.element }.prefix(5)
                    let label = x.rank == 2 ? "column \(c + 1)" : name
                    s += "  \(label): most likely tokens " + top.map { String(format: "%d (%.3f)", $0.offset + 1, $0.element) }.joined(separator: ", ") + "\n"
                }
                if cols > 3 { s += "  (last 3 of \(cols) columns shown; column t is the prediction after x[1:t])\n" }
            } else if values.count <= 12 {
                s += "  = [" + values.map { String(format: "%.4g", $0) }.joined(separator: ", ") + "]\n"
            }
            return s
        default: return "output \(name): \(v.kindName)\n"
        }
    }

    static func profileTable(_ e: Evaluator) -> String { ProfileTable.text(e.profile, title: "the run") }
}
