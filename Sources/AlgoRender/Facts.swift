import AlgoDiagnostics
import AlgoSema
import AlgoSyntax

/// What the checker found about one algorithm, as far as rendering needs it: the type of every
/// checked expression by span (empty when the file does not check) and the `--dump shapes` list.
public struct AlgorithmFacts: Sendable {
    /// `CheckedAlgorithm.types`: every expression's type by its span.
    public var types: [Span: SemType]
    /// `AlgorithmShapes.variables`: (name, shape in the paper's notation), aliases applied (`ℓ`).
    public var shapes: [(name: String, shape: String)]

    public init(types: [Span: SemType] = [:], shapes: [(name: String, shape: String)] = []) {
        self.types = types
        self.shapes = shapes
    }
}

/// One input file with what the parser and checker said about it.
public struct RenderFile: Sendable {
    public var source: SourceFile
    public var tree: AlgoFile
    /// Syntax and shape diagnostics of this file (shown at their lines in HTML).
    public var diagnostics: [Diagnostic]
    /// Per algorithm of `tree`, in order.
    public var facts: [AlgorithmFacts]

    public init(source: SourceFile, tree: AlgoFile, diagnostics: [Diagnostic], facts: [AlgorithmFacts]) {
        self.source = source
        self.tree = tree
        self.diagnostics = diagnostics
        self.facts = facts
    }
}

/// Name lookups for one algorithm: the shape a name has and where it is bound. The binding table is
/// ours and small (header declarations, assignments, loop variables, by spelling or by family
/// pattern `e_t` ~ `e_1`): the checker keeps no name-to-declaration table yet.
struct NameFacts {
    let facts: AlgorithmFacts
    let printer: TypePrinter
    /// Where names are bound (`Input`, `line 5`), in order; `scope` (UTF-8 offsets) limits an index
    /// variable to its loop, `∀`, Σ or call binding (nil: the whole algorithm).
    var bindings: [Binding] = []
    /// A name bound at `place`; an index variable's range as written (`[ℓ]`), when known.
    struct Binding {
        var name: Name
        var place: String
        var scope: Range<Int>?
        var range: String? = nil
    }
    /// Names bound as indices (loop, `∀`, group variables): a family script that is one of them
    /// matches any value (`e_t` binds `e_1`).
    var indexNames: Set<String> = []

    init(algorithm a: Algorithm, facts: AlgorithmFacts) {
        self.facts = facts
        // `ℓ ← length(x)`: the checker shows the dimension length(x) as ℓ.
        var aliases: [String: String] = [:]
        func visit(_ s: Statement) {
            if case .assign(let target, _, let value) = s.kind, case .name(let n) = target.kind, case .call = value.kind,
               case .nat(let d?)? = facts.types[target.span] ?? facts.types[value.span] {
                for case .named(let v) in d.variables where d.description == v { aliases[v] = n.spelling }
            }
        }
        for s in a.body { visit(s) }
        printer = TypePrinter(aliases: aliases)
        collect(a)
    }

    mutating func bind(_ e: Expr, _ place: String) {
        switch e.kind {
        case .name(let n): bind(n, place)
        case .index(let x, _): bind(x, place)
        case .call(let c): bind(c.callee, place)
        case .scripted(let x, _): bind(x, place)
        case .number, .text, .ones, .infinity, .ellipsis, .all, .binary, .unary, .transpose, .sum, .slice, .list,
             .iverson, .tuple, .set, .setBuilder, .membership, .randomChoice, .missing:
            break
        }
    }

    /// Records a binding; an unscoped name keeps its first binding (its declaration or first assignment).
    mutating func bind(_ n: Name, _ place: String) {
        if bindings.contains(where: { $0.scope == nil && $0.name.spelling == n.spelling }) { return }
        bindings.append(Binding(name: n, place: place, scope: nil))
    }

    /// An index variable, visible in `scope` only; `range` is the set it runs over, as written.
    mutating func bindIndex(_ n: Name, _ place: String, _ scope: Range<Int>, range: String? = nil) {
        bindings.append(Binding(name: n, place: place, scope: scope, range: range))
        indexNames.insert(n.spelling)
    }

    mutating func collect(_ a: Algorithm) {
        func declarations(_ d: DeclarationLine, _ place: String) {
            for decl in d.declarations { for n in decl.names { bind(n, place) } }
        }
        for item in a.header {
            guard case .line(let h) = item else { continue }
            let place = h.kind.rawValue
            switch h.content {
            case .declarations(let d): declarations(d, place)
            case .collection(let c):
                bind(c.name, place)
                for m in c.members {
                    switch m {
                    case .declarations(let d): declarations(d, place + ", in " + c.name.spelling)
                    case .comment: break
                    case .group(let g):
                        bindings.append(Binding(name: g.variable, place: place + ", For " + g.variable.spelling, scope: nil,
                                                range: ExprPrinter.print(g.domain)))
                        indexNames.insert(g.variable.spelling)
                        if let gc = g.collection { bind(gc, place + ", in " + c.name.spelling) }
                        for d in g.members { declarations(d, place + ", in " + c.name.spelling) }
                    }
                }
            }
        }
        for s in a.body { statement(s) }
    }

    /// The offsets a statement covers, its block body and `end` included.
    static func extent(_ s: Statement) -> Range<Int> {
        var end = s.span.end
        func block(_ body: [Statement], _ endSpan: Span?) {
            for b in body { end = max(end, extent(b).upperBound) }
            if let e = endSpan { end = max(end, e.end) }
        }
        switch s.kind {
        case .forLoop(let f): block(f.body, f.endSpan)
        case .ifThen(let i): block(i.body, i.endSpan)
        case .whileLoop(let w): block(w.body, w.endSpan)
        case .forAll(_, let b): block([b], nil)
        case .assign, .returnValue, .sample, .comment, .error: break
        }
        return s.span.start..<max(end, s.span.start)
    }

    mutating func statement(_ s: Statement, _ outer: String? = nil) {
        let place = outer ?? s.lineNumber.map { "line " + $0 } ?? "the body"
        let scope = Self.extent(s)
        // Index variables inside expressions: Σ indices, set builders, call bindings `Mask[t, t′] = …`.
        // (The statements of a block body are visited on their own, with their own line.)
        var nested: [Range<Int>] = []
        switch s.kind {
        case .forLoop(let f): nested = f.body.map(Self.extent)
        case .ifThen(let i): nested = i.body.map(Self.extent)
        case .whileLoop(let w): nested = w.body.map(Self.extent)
        case .forAll(_, let b): nested = [Self.extent(b)]
        case .assign, .returnValue, .sample, .comment, .error: break
        }
        var found: [(Name, String, Range<Int>, String?)] = []
        _ = s.contains(expression: { e in
            let range = e.span.start..<e.span.end
            if nested.contains(where: { $0.contains(e.span.start) }) { return false }
            switch e.kind {
            case .sum(let sum):
                switch sum.lower?.value.kind {
                case .binary(.equal, let l, _)?:
                    if case .name(let n) = l.kind { found.append((n, "Σ, " + place, range, sum.upper.map { "[" + $0.raw + "]" })) }
                case .membership(let l, let t)?:
                    if case .name(let n) = l.kind { found.append((n, "Σ, " + place, range, ExprPrinter.print(t))) }
                case .name(let n)?: found.append((n, "Σ, " + place, range, nil))
                default: break
                }
            case .setBuilder(let v, let d, _): found.append((v, "set builder, " + place, range, ExprPrinter.print(d)))
            case .call(let c):
                for p in c.parameters {
                    guard let t = p.target, case .index(let x, let indices) = t.kind else { continue }
                    for case .name(let n) in indices.map(\.kind) {
                        found.append((n, "the binding " + ExprPrinter.print(x) + "[…] = …, " + place, range, nil))
                    }
                }
            default: break
            }
            return false
        })
        for (n, p, r, set) in found { bindIndex(n, p, r, range: set) }
        switch s.kind {
        case .assign(let target, _, _): bind(target, place)
        case .returnValue(let target, _): if let t = target { bind(t, place) }
        case .forLoop(let f):
            let set: String?
            switch f.range {
            case .domain(let t): set = ExprPrinter.print(t)
            case .counting(let values): set = values.last.map { "[" + ExprPrinter.print($0) + "]" }
            }
            bindIndex(f.variable, "for loop, " + place, scope, range: set)
            for b in f.body { statement(b, f.form == .inline ? place : nil) }
        case .forAll(let vars, let body):
            for v in vars { bindIndex(v, "∀, " + place, scope) }
            statement(body, place)
        case .ifThen(let i): for b in i.body { statement(b, i.form == .inline ? place : nil) }
        case .whileLoop(let w): for b in w.body { statement(b) }
        case .sample(let smp): bind(smp.target, place)
        case .comment, .error: break
        }
    }

    /// Where the name is bound: the innermost index variable whose scope holds this occurrence, else
    /// the declaration or first assignment; by the same spelling, or else a family written with an
    /// index variable (`e_t` for `e_1`, `x_{1:N_data}` for `x_n`).
    func place(of n: Name) -> String? { binding(of: n)?.place }

    func binding(of n: Name) -> Binding? {
        let visible = bindings.filter { $0.scope.map { $0.contains(n.span.start) } ?? true }
        func best(_ candidates: [Binding]) -> Binding? {
            let scoped = candidates.filter { $0.scope != nil }.min { ($0.scope?.count ?? 0) < ($1.scope?.count ?? 0) }
            return scoped ?? candidates.first
        }
        if let p = best(visible.filter({ $0.name.spelling == n.spelling })) { return p }
        return best(visible.filter { b in
            b.name.base == n.base && b.name.scripts.count == n.scripts.count
                && zip(b.name.scripts, n.scripts).allSatisfy { d, u in
                    d.position == u.position && (d.raw == u.raw || indexNames.contains(d.raw) || isSlice(d))
                }
        })
    }

    func isSlice(_ s: Script) -> Bool {
        if case .slice = s.value.kind { return true }
        return false
    }

    /// The type of this occurrence, when the checker recorded one.
    func type(of n: Name) -> SemType? {
        guard let t = facts.types[n.span] else { return nil }
        if case .error = t { return nil }
        if case .variable = t { return nil }
        return t
    }

    /// The shape of a name: this occurrence's checked type, else the `--dump shapes` entry.
    func shape(of n: Name) -> String? {
        if let t = type(of: n) {
            if case .family(let d, let el) = t { return printer.type(el) + " for each of [" + printer.dim(d) + "]" }
            if case .nat(let v?) = t, printer.dim(v) == n.spelling { return "ℕ" }
            return printer.type(t)
        }
        return facts.shapes.first { $0.name == n.spelling || $0.name == "return " + n.spelling }?.shape
            ?? binding(of: n)?.range
    }

    /// Whether the paper sets this name bold: vectors, matrices and sequences.
    func isArray(_ n: Name) -> Bool {
        if let t = type(of: n) {
            switch t {
            case .array, .sequence: return true
            case .family(_, let el):
                if case .array = el { return true }
                return false
            case .real, .nat, .index, .bool, .number, .set, .collection, .function, .variable, .text, .error: return false
            }
        }
        guard let s = facts.shapes.first(where: { $0.name == n.spelling || $0.name == "return " + n.spelling })?.shape else { return false }
        return s.hasPrefix("ℝ^") || s.hasPrefix("(0,1)^") || s.hasPrefix("{0,1}^") || s.hasPrefix("V*")
    }
}

/// The boxes of a set of files, with cross-file links: the one entry point of the writers.
public struct RenderSet: Sendable {
    public var files: [RenderFile]
    /// Every algorithm name defined in the set (calls to them link to their box).
    public var algorithmNames: Set<String>

    public init(files: [RenderFile]) {
        self.files = files
        algorithmNames = Set(files.flatMap { $0.tree.algorithms.compactMap { $0.title.signature?.name.spelling } })
    }

    /// The boxes of one file; `notes` adds a hover note to every name (HTML).
    public func boxes(of f: RenderFile, notes: Bool) -> [Box] {
        let algorithms = f.tree.algorithms
        return algorithms.indices.map { i in
            let a = algorithms[i]
            let facts = NameFacts(algorithm: a, facts: i < f.facts.count ? f.facts[i] : AlgorithmFacts())
            var math = MathBuilder(source: f.source)
            math.algorithms = algorithmNames
            math.isArray = { facts.isArray($0) }
            if notes {
                math.note = { n in
                    let shape = facts.shape(of: n)
                    let bound = facts.place(of: n)
                    guard shape != nil || bound != nil else { return nil }
                    return NameNote(name: n.spelling, shape: shape, shapeMath: shape.flatMap(ShapeParser.math), bound: bound)
                }
            }
            let end = i + 1 < algorithms.count ? f.source.location(of: algorithms[i + 1].span.start).line : f.source.lineStarts.count + 1
            var builder = BoxBuilder(source: f.source, math: math)
            builder.proseNames = Dictionary(facts.bindings.map { ($0.name.spelling, $0.name) }, uniquingKeysWith: { a, _ in a })
            return builder.box(a, endLine: end)
        }
    }
}

/// Typesets a shape string of the checker (`ℝ^{d_e×ℓ}`) by reading it as a declaration's type with
/// the notation's own parser; nil for shapes in words (`a family over …`).
enum ShapeParser {
    static func math(_ shape: String) -> Math? {
        // `ℝ^{d_e}  for each of [L]`: a family's element shape, then its index set in words.
        if let r = shape.range(of: " for each of "), let element = math(shape[..<r.lowerBound].trimmingCharacters(in: .whitespaces)),
           let domain = math(String(shape[r.upperBound...])) {
            return .row([element, .text(" for each of "), domain])
        }
        guard !shape.contains(" "), !shape.contains("`") else { return nil }
        let text = "Algorithm 0: y ← F(x)\nInput: x ∈ \(shape)\n1 return y = x\n"
        let source = SourceFile(path: "shape", text: text)
        let (file, diagnostics) = Parser.parse(source)
        guard diagnostics.isEmpty, let a = file.algorithms.first, case .line(let h)? = a.header.first,
              case .declarations(let d) = h.content, let t = d.declarations.first?.type else { return nil }
        return MathBuilder(source: source).type(t)
    }
}
