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
    /// Spelling → where it is bound (`Input`, `line 5`).
    var bindings: [(name: Name, place: String)] = []
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

    mutating func bind(_ n: Name, _ place: String) {
        if !bindings.contains(where: { $0.name.spelling == n.spelling }) { bindings.append((n, place)) }
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
                        bind(g.variable, place + ", For " + g.variable.spelling)
                        indexNames.insert(g.variable.spelling)
                        if let gc = g.collection { bind(gc, place + ", in " + c.name.spelling) }
                        for d in g.members { declarations(d, place + ", in " + c.name.spelling) }
                    }
                }
            }
        }
        for s in a.body { statement(s) }
    }

    mutating func statement(_ s: Statement, _ outer: String? = nil) {
        let place = outer ?? s.lineNumber.map { "line " + $0 } ?? "the body"
        switch s.kind {
        case .assign(let target, _, _): bind(target, place)
        case .returnValue(let target, _): if let t = target { bind(t, place) }
        case .forLoop(let f):
            bind(f.variable, "for loop, " + place)
            indexNames.insert(f.variable.spelling)
            for b in f.body { statement(b, f.form == .inline ? place : nil) }
        case .forAll(let vars, let body):
            for v in vars { bind(v, "∀, " + place); indexNames.insert(v.spelling) }
            statement(body, place)
        case .ifThen(let i): for b in i.body { statement(b, i.form == .inline ? place : nil) }
        case .whileLoop(let w): for b in w.body { statement(b) }
        case .sample(let smp): bind(smp.target, place)
        case .comment, .error: break
        }
    }

    /// Where the name is bound: the same spelling, or a family written with an index variable
    /// (`e_t` for `e_1`, `x_{1:N_data}` for `x_n`).
    func place(of n: Name) -> String? {
        if let b = bindings.first(where: { $0.name.spelling == n.spelling }) { return b.place }
        return bindings.first { b in
            b.name.base == n.base && b.name.scripts.count == n.scripts.count
                && zip(b.name.scripts, n.scripts).allSatisfy { d, u in
                    d.position == u.position && (d.raw == u.raw || indexNames.contains(d.raw) || isSlice(d))
                }
        }?.place
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
