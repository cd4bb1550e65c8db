import AlgoDiagnostics
import AlgoSema
import AlgoSyntax
import AlgoTensor

/// A checked algorithm with the parts of its header the evaluator needs, precomputed.
public struct LoadedAlgorithm {
    public let checked: CheckedAlgorithm
    /// The hyperparameters declared real (`τ ∈ (0, ∞)`), in header order: what a call passes on from its caller.
    private(set) var realHyperparameterNames: [String] = []
    /// Inputs and parameters declared `∈ ℝ^{d_1×…}`, with the collection that holds them (`θ` for
    /// `W_e`; nil outside a collection) and each dimension's name (nil for another expression):
    /// `bindDimsFromShapes` fixes unbound dimensions from the values' shapes.
    let shapeDeclarations: [(name: String, collection: String?, dims: [String?])]

    /// The groups of parameter collections (`For h ∈ [H], 𝓦^h_qkv consisting of: | W^h_q …`): the
    /// sub-collection's name, the index variable, its range `[H]`, and each member's name with its
    /// key in the sub-collection (the name without the index script, `W_q`).
    let collectionGroups: [(collection: Name, variable: String, range: Expr, members: [(name: Name, key: String)])]

    /// Whether the body defines a function of θ (`P(θ) ← …`, `loss(θ) = …`).
    let definesFunctions: Bool

    /// What the lowering made of the algorithm: the fused nodes the rewrite rules matched (`Lowering`).
    public let plan: AlgorithmPlan

    /// The numbered slots of the algorithm's frames (`Frame.vars`), and each name expression's
    /// binding with its slot: what the evaluator reads instead of hashing a spelling.
    let slots: SlotTable
    let names: [SpanKey: SlottedBinding]
    /// The checker's types and calls by `SpanKey` (a `Span` also hashes its file's path).
    let types: [SpanKey: SemType]
    let calls: [SpanKey: ResolvedCall]
    /// The callee of every call of an algorithm, as an index into `EvalProgram.algorithms` (set by `EvalProgram`).
    fileprivate(set) var callees: [SpanKey: Int] = [:]
    /// The algorithm's name (`DTransformer`; `Algorithm 7` without a signature).
    public let name: String

    init(checked: CheckedAlgorithm, in program: CheckedProgram) {
        self.checked = checked
        plan = Lowering.lower(checked, in: program)
        name = checked.syntax.title.signature?.name.spelling ?? "Algorithm \(checked.syntax.title.number)"
        slots = SlotTable(checked)
        types = Dictionary(checked.types.map { (SpanKey($0.key), $0.value) }, uniquingKeysWith: { a, _ in a })
        calls = Dictionary(checked.calls.map { (SpanKey($0.key), $0.value) }, uniquingKeysWith: { a, _ in a })
        definesFunctions = checked.syntax.body.contains { s in
            s.contains(statement: { if case .assign(let t, _, _) = $0.kind, case .call = t.kind { true } else { false } },
                       expression: { _ in false })
        }
        var groups: [(collection: Name, variable: String, range: Expr, members: [(name: Name, key: String)])] = []
        for case .line(let l) in checked.syntax.header where l.kind == .parameters {
            guard case .collection(let c) = l.content else { continue }
            for case .group(let g) in c.members {
                guard let cname = g.collection, case .range(let dExpr) = g.domain.kind else { continue }
                var members: [(name: Name, key: String)] = []
                for line in g.members {
                    for decl in line.declarations {
                        for ne in decl.names {
                            guard case .name(let nm) = ne.kind else { continue }
                            let key = Name.spell(nm.base, nm.scripts.filter { $0.raw != g.variable.spelling })
                            members.append((nm, key))
                        }
                    }
                }
                groups.append((cname, g.variable.spelling, dExpr, members))
            }
        }
        collectionGroups = groups
        var names: [SpanKey: SlottedBinding] = [:]
        let groupSpellings = groups.map(\.collection.spelling)
        for (span, b) in checked.bindings { names[SpanKey(span)] = SlottedBinding(b, slots, groups: groupSpellings) }
        self.names = names
        var shapes: [(name: String, collection: String?, dims: [String?])] = []
        for kind in [HeaderKind.input, .parameters] {
            for l in checked.syntax.header.compactMap({ h -> HeaderLine? in if case .line(let l) = h, l.kind == kind { return l } else { return nil } }) {
                var lines: [DeclarationLine] = []
                var collection: String? = nil
                switch l.content {
                case .declarations(let d): lines = [d]
                case .collection(let c):
                    collection = c.name.spelling
                    for case .declarations(let d) in c.members { lines.append(d) }
                }
                for d in lines {
                    for decl in d.declarations {
                        guard let t = decl.type, case .power(_, let dimExprs, _) = t.kind else { continue }
                        let dims = dimExprs.map { e -> String? in if case .name(let dn) = e.kind { return dn.spelling } else { return nil } }
                        for ne in decl.names { if case .name(let n) = ne.kind { shapes.append((n.spelling, collection, dims)) } }
                    }
                }
            }
        }
        shapeDeclarations = shapes
        realHyperparameterNames = hyperparameterNames.filter { isRealHyperparameter($0) }
        realDefaults = Self.realDefaults(header(.hyperparameters))
    }

    /// Throws E0501 at the first statement `algo run` cannot execute (`AlgorithmPlan.unsupported`).
    func requireExecutable() throws {
        if let bad = plan.unsupported {
            throw RuntimeError(.notExecutable, bad.message, at: bad.span,
                               notes: ["`algo run` executes the forward algorithms (1–10), training (11–13) and inference (14, 15) as written in the paper"])
        }
    }
    public var syntax: Algorithm { checked.syntax }
    public var number: String { checked.syntax.title.number }
    public var file: String { checked.file }
    /// Signature inputs (spellings as written: `X`, `e_{1:T}`) with defaults.
    public var inputs: [SignatureParameter] { checked.syntax.title.signature?.inputs ?? [] }
    /// Signature parameters after `|` (`𝓦_qkv`, `Mask`, `θ`).
    public var parameters: [SignatureParameter] { checked.syntax.title.signature?.parameters ?? [] }
    /// The first output's spelling (`Ṽ`, `P`).
    public var outputName: String {
        if let o = checked.syntax.title.signature?.outputs.first, case .name(let n) = o.kind { return n.spelling }
        return "output"
    }
    /// Header lines of one kind.
    public func header(_ kind: HeaderKind) -> [HeaderLine] {
        checked.syntax.header.compactMap { if case .line(let l) = $0, l.kind == kind { return l } else { return nil } }
    }
    /// Names declared under `Hyperparameters:` (`ℓ_max`, `L`, `τ`, `Mask`).
    public var hyperparameterNames: [String] {
        var names: [String] = []
        for l in header(.hyperparameters) {
            if case .declarations(let d) = l.content {
                for decl in d.declarations { for n in decl.names { if case .name(let nm) = n.kind { names.append(nm.spelling) } } }
            }
        }
        return names
    }
    /// The defaults of real hyperparameters given in the header (`ε = 10⁻⁵`), found once at load
    /// (every call of the algorithm binds them).
    public private(set) var realDefaults: [String: Double] = [:]
    static func realDefaults(_ header: [HeaderLine]) -> [String: Double] {
        var out: [String: Double] = [:]
        for l in header {
            guard case .declarations(let d) = l.content else { continue }
            for decl in d.declarations {
                guard decl.names.count == 1, case .name(let n) = decl.names[0].kind, let v = decl.value,
                      !ConstantExpression.isWholeNumber(v), let x = ConstantExpression.value(v) else { continue }
                out[n.spelling] = x
            }
        }
        return out
    }
    /// Whether a hyperparameter is declared as a real (`τ ∈ (0, ∞)`) rather than a natural number.
    public func isRealHyperparameter(_ name: String) -> Bool {
        for l in header(.hyperparameters) {
            guard case .declarations(let d) = l.content else { continue }
            for decl in d.declarations where decl.names.contains(where: { if case .name(let n) = $0.kind { return n.spelling == name } else { return false } }) {
                if case .interval? = decl.type?.kind { return true }
                if case .reals? = decl.type?.kind { return true }
                if decl.value != nil { return true }
            }
        }
        return false
    }
}

/// The algorithms of a checked program, found by name and file.
public struct EvalProgram {
    public let algorithms: [LoadedAlgorithm]
    /// Loads and lowers every algorithm of `program`, and resolves each call to its callee's index.
    public init(_ program: CheckedProgram) {
        var loaded = program.algorithms.map { LoadedAlgorithm(checked: $0, in: program) }
        for k in loaded.indices {
            var callees: [SpanKey: Int] = [:]
            for (span, r) in loaded[k].calls where !r.isBuiltin {
                if let i = loaded.firstIndex(where: { $0.name == r.callee && $0.file == r.file }) ?? loaded.firstIndex(where: { $0.name == r.callee }) {
                    callees[span] = i
                }
            }
            loaded[k].callees = callees
        }
        algorithms = loaded
    }

    public func find(_ name: String, file: String? = nil) -> LoadedAlgorithm? {
        algorithms.first { $0.name == name && (file == nil || $0.file == file) } ?? algorithms.first { $0.name == name }
    }
}

/// Options of one run.
public struct RunOptions {
    /// Float32 by default; `.f64` for checks.
    public var dtype: DType = .f32
    /// Report infinities produced by a line (NaN is always reported).
    public var checkFinite = false
    /// The step limit of `while` loops (EDInference's unbounded loop, erratum A10).
    public var maxSteps = 256
    /// Seed of `sample` statements.
    public var seed: UInt64 = 0
    /// `sample … from q ∝ …` draws among the k most likely tokens only (top-k sampling); nil: all.
    public var topK: Int? = nil
    /// Record per-line time and operation counts.
    public var profile = false
    /// Training: `∇loss(θ)` records the forward on a tape and returns the gradient. When false (an
    /// evaluation pass), `∇loss(θ)` only evaluates the loss (recorded in `Evaluator.losses`) and
    /// returns zeros, so `θ ← θ − η · ∇loss(θ)` leaves θ unchanged.
    public var applyGradients = true
    /// Training runs: the step monitor and a resume in progress (`TrainingMonitor.swift`).
    public var training: TrainingRun? = nil
    /// Keep every gradient `∇loss(θ)` returns in `Evaluator.gradients` (`algo gradcheck`).
    public var recordGradients = false
    /// Test hook of the gradient check's own tests: GELU's gradient gets ε added (its value is
    /// unchanged), a deliberately wrong VJP that the check must catch. nil in every real run.
    var faultyGELUGradient: Double? = nil
    /// Columns of one batched call of a loop over sequences (`Evaluator+SequenceLoop`): 2,048 in
    /// every real run; tests set a few to put a chunk boundary inside a small dataset.
    var sequenceChunkColumns = 2048
    /// The rewrite rules turned off (`algo run --rules`): the lines they match run as written
    /// (the same values to rounding; for comparisons). Empty: every rule on.
    public var disabledRules: Set<RuleID> = []
    public init() {}
}
