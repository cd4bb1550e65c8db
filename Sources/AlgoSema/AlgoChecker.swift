import AlgoDiagnostics
import AlgoSyntax

/// What a name in scope is.
enum BindingKind: Sendable, Equatable {
    case input, output, parameter, hyperparameter, local, function
    /// A loop, `∀`, pattern (`strict`: must equal the dimension it indexes) or Σ variable.
    case indexVariable(strict: Bool)
    case dimension
}

/// A name in scope: its type, where it was declared or last given its shape, and how.
struct Binding {
    var type: SemType
    var origin: Span
    var kind: BindingKind
    /// The loop depth at which it was defined (a loop may not change the shape of an outer variable).
    var loopDepth: Int
}

/// The summary of an algorithm that calls see: its signature's types in its own dimension names.
struct Summary {
    var name: String
    var file: String
    var number: String
    var inputs: [(key: String, type: SemType, defaultValue: Expr?, span: Span)]
    var params: [(key: String, type: SemType)]
    var output: SemType?
    var hyperparameters: Set<String>
    /// Named dimensions of the input types: bound by the arguments' shapes.
    var inputDims: Set<String>
    /// Every named dimension of the signature's types and hyperparameters.
    var allDims: [String]
}

/// Checks one algorithm: declarations (the resolver), then the body (the shape checker).
final class AlgoChecker {
    unowned let program: ProgramChecker
    let file: ParsedFile
    let algorithm: Algorithm
    let name: String
    var diagnostics: [Diagnostic] = []

    var scopes: [[String: Binding]] = [[:]]
    var families: [String: Binding] = [:]
    var outputs: [String: Binding] = [:]
    var hyperparameters: Set<String> = []
    var dimNames: Set<String> = []
    var poisonedDims: Set<String> = []
    var aliases: [String: String] = [:]
    var order: [String] = []
    var loopDepth = 0
    var state = State.fresh
    var cachedSummary: Summary? = nil
    var familyDisplay: [String: String] = [:]
    enum State { case fresh, declared, running, done }

    // Per-statement and reporting state.
    var statementPoisoned = false
    var pendingCalls: [(span: Span, callee: String, dims: [(String, Dim)])] = []
    var reportedNames: Set<String> = []
    var reportedHyper: Set<String> = []
    /// Enclosing `for` loops (variable, statement) for notes on unused loop variables.
    var loopStack: [(variable: Name, statement: Statement)] = []

    // Records for the CheckedProgram.
    var types: [Span: SemType] = [:]
    var calls: [Span: ResolvedCall] = [:]
    var bindings: [Span: NameBinding] = [:]
    var columnLoops: [Span] = []
    /// Members of parameter collections by their key (`W_o`, the group family `γ^1` of `γ^1_l`):
    /// the collection that declares them (`𝓦`, `θ`), for `NameBinding.member`.
    var memberOf: [String: String] = [:]
    /// Groups that form a collection (`For h ∈ [H], 𝓦^h_qkv consisting of:`), by the family key
    /// (`𝓦_qkv`): the enclosing collection (`𝓦`).
    var groupCollectionOf: [String: String] = [:]
    /// The member keys of each group collection (`𝓦_qkv` → `W_q`, `b_q`, …), for `reportUnused`.
    var groupMembers: [String: [String]] = [:]
    /// The keys of the declarations the body reads (a name or family resolved to them), for `reportUnused`.
    var used: Set<String> = []

    init(program: ProgramChecker, file: ParsedFile, algorithm: Algorithm) {
        self.program = program
        self.file = file
        self.algorithm = algorithm
        self.name = algorithm.title.signature?.name.spelling ?? "Algorithm \(algorithm.title.number)"
    }

    /// This algorithm's position in its file (for verifying fixes).
    var indexInFile: Int { file.tree.algorithms.firstIndex { $0.span == algorithm.span } ?? 0 }

    /// The text of the source line holding `span`, with `span` replaced (for `help:` lines).
    func lineText(replacing span: Span, with replacement: String) -> String {
        let (l, _) = file.source.location(of: span.start)
        let start = file.source.lineStarts[l - 1]
        var bytes = Array(file.source.utf8[start..<min(file.source.utf8.count, l < file.source.lineStarts.count ? file.source.lineStarts[l] : file.source.utf8.count)])
        guard span.start >= start, span.end - start <= bytes.count, span.start <= span.end else { return replacement }
        bytes.replaceSubrange((span.start - start)..<(span.end - start), with: Array(replacement.utf8))
        var text = String(decoding: bytes, as: UTF8.self)
        if let comment = text.range(of: "//") { text = String(text[..<comment.lowerBound]) }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    var printer: TypePrinter { TypePrinter(aliases: aliases) }
    func show(_ t: SemType) -> String { printer.type(program.resolve(t)) }
    func show(_ d: Dim) -> String { printer.dim(program.solver.resolve(d)) }
    func text(_ e: Expr) -> String { ExprPrinter.print(e) }
    func line(_ span: Span) -> Int { file.source.location(of: span.start).line }

    /// Records a diagnostic; a second error with the same code on the same line is the same mistake
    /// seen twice (`S[t_z, t_x]` with both indices swapped) and is dropped.
    func report(_ d: Diagnostic) {
        let l = line(d.span)
        if diagnostics.contains(where: { $0.code == d.code && $0.span.file == d.span.file && line($0.span) == l }) { return }
        diagnostics.append(d)
    }

    // MARK: - Scope

    func lookup(_ key: String) -> Binding? {
        for s in scopes.reversed() { if let b = s[key] { return b } }
        return nil
    }

    func define(_ key: String, _ b: Binding) {
        if lookup(key) == nil && families[key] == nil && !order.contains(key) { order.append(key) }
        // Redefinition updates the innermost scope holding it, else defines in the innermost.
        for i in scopes.indices.reversed() where scopes[i][key] != nil {
            if case .indexVariable = scopes[i][key]!.kind { break }
            scopes[i][key] = b
            return
        }
        if case .indexVariable = b.kind { scopes[scopes.count - 1][key] = b } else { scopes[0][key] = b }
    }

    /// Defines a family; `display` is how `--dump shapes` names it (`γ^1_l`, `e_t`).
    func defineFamily(_ key: String, _ b: Binding, display: String? = nil) {
        if families[key] == nil && !order.contains(key + "_·") { order.append(key + "_·") }
        if let display, familyDisplay[key] == nil { familyDisplay[key] = display }
        families[key] = b
    }

    func push() { scopes.append([:]) }
    func pop() { scopes.removeLast() }

    /// The key of a name with some scripts: base and scripts in order (`W_mlp1` for `W^l_mlp1` without `^l`).
    static func key(_ base: String, _ scripts: [Script]) -> String {
        base + scripts.map { $0.position.rawValue + $0.raw }.joined()
    }

    // MARK: - Running

    func run() {
        guard state == .fresh || state == .declared else { return }
        if state == .fresh { declare() }
        state = .running
        checkBlock(algorithm.body)
        reportUnused()
        state = .done
    }

    /// The algorithm as callers see it (declaration types after the body has been checked, when it has).
    func summary() -> Summary {
        if state == .fresh { declare() }
        if state == .declared { run() }
        if state == .done, let s = cachedSummary { return s }
        let s = computeSummary()
        if state == .done { cachedSummary = s }
        return s
    }

    private func computeSummary() -> Summary {
        var inputs: [(String, SemType, Expr?, Span)] = []
        var params: [(String, SemType)] = []
        guard let sig = algorithm.title.signature else {
            return Summary(name: name, file: file.source.path, number: algorithm.title.number, inputs: [], params: [],
                           output: nil, hyperparameters: hyperparameters, inputDims: [], allDims: [])
        }
        for p in sig.inputs {
            let (k, t) = signatureEntry(p.name)
            inputs.append((k, t, p.defaultValue, p.span))
        }
        for p in sig.parameters {
            let (k, t) = signatureEntry(p.name)
            params.append((k, t))
        }
        var output: SemType? = nil
        if let o = sig.outputs.first, case .name(let n) = o.kind {
            output = outputs[n.spelling].map { program.resolve($0.type) }
        }
        var inputDims: Set<String> = []
        for i in inputs { for d in i.1.dims { for v in d.variables { if case .named(let n) = v { inputDims.insert(n) } } } }
        var all: [String] = []
        let everything = inputs.flatMap { $0.1.dims } + params.flatMap { $0.1.dims } + (output?.dims ?? [])
        for d in everything { for v in d.variables { if case .named(let n) = v, !all.contains(n) { all.append(n) } } }
        for h in hyperparameters.sorted() where !all.contains(h) {
            if case .nat? = lookup(h).map({ program.resolve($0.type) }) { all.append(h) }
        }
        return Summary(name: name, file: file.source.path, number: algorithm.title.number, inputs: inputs, params: params,
                       output: output, hyperparameters: hyperparameters, inputDims: inputDims, allDims: all)
    }

    /// The key and type of a title entry (`X`, `e_{1:T}` → family `e`, `x_{1:N_data}` → family `x`).
    func signatureEntry(_ e: Expr) -> (String, SemType) {
        guard case .name(let n) = e.kind else { return (text(e), .error) }
        if let b = lookup(n.spelling) { return (n.spelling, program.resolve(b.type)) }
        if let last = n.scripts.last, case .slice = last.value.kind {
            let k = Self.key(n.base, Array(n.scripts.dropLast()))
            if let f = families[k] { return (k, program.resolve(f.type)) }
        }
        return (n.spelling, .error)
    }

    func shapes() -> AlgorithmShapes {
        let title = "\(algorithm.title.keyword.rawValue) \(algorithm.title.number): \(name)"
        var vars: [(String, String)] = []
        for (k, t) in variables() {
            if case .family(let d, let el) = t { vars.append((k, "\(show(el))  for each of [\(show(d))]")); continue }
            if case .nat(let v?) = t, show(v) == k { vars.append((k, "ℕ")); continue }
            vars.append((k, show(t)))
        }
        for (k, b) in outputs.sorted(by: { $0.key < $1.key }) { vars.append(("return " + k, show(b.type))) }
        return AlgorithmShapes(file: file.source.path, title: title, variables: vars)
    }

    func variables() -> [(String, SemType)] {
        var result: [(String, SemType)] = []
        for k in order {
            if k.hasSuffix("_·") {
                let fk = String(k.dropLast(2))
                if let f = families[fk] { result.append((familyDisplay[fk] ?? fk + "_·", program.resolve(f.type))) }
            } else if let b = scopes.first?[k] {
                result.append((k, program.resolve(b.type)))
            }
        }
        return result
    }

    func checkedAlgorithm() -> CheckedAlgorithm {
        CheckedAlgorithm(file: file.source.path, syntax: algorithm, types: types.mapValues { program.resolve($0) },
                         calls: calls.mapValues { c in
                             ResolvedCall(callee: c.callee, file: c.file, isBuiltin: c.isBuiltin,
                                          dimensions: c.dimensions.mapValues { program.solver.resolve($0) }, defaulted: c.defaulted,
                                          builtin: c.builtin)
                         },
                         bindings: bindings, columnLoops: columnLoops, variables: variables())
    }
}
