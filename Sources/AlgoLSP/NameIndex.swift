import AlgoDiagnostics
import AlgoSyntax

/// Every name of one `.algo` file, where it occurs and in which role, and what each resolves to
/// within its algorithm: the small resolver behind hover, go to definition, references, completion
/// and semantic tokens.
///
/// It reads declarations off the syntax tree (header lines, collections and groups, loop and `∀`
/// variables, first assignments, dimensions introduced by header types) by the rules of
/// `AlgoSema/README.md` ("Resolution is by declarations", family indices). When the checker
/// publishes what each name resolved to (a `bindings` table), this index should read it instead of
/// resolving again; until then the two agree on the corpus (`NameIndexTests`).
public struct NameIndex: Sendable {
    /// How a name occurs.
    public enum Role: Sendable, Equatable {
        /// The algorithm's name in its title.
        case algorithmName
        /// The callee of a call; `call` is the whole call expression's span.
        case callee(call: Span)
        /// A named argument at a call (`Mask ≡ 1`, `d_attn ≡ …`): the callee's hyperparameter.
        case namedArgument(callee: String)
        /// Declared by a header line, a collection or a group (`kind` says which).
        case declaration(DeclarationKind)
        /// Bound by a loop, `∀`, a sum or a set builder.
        case binding
        /// The target of an assignment (`X̃` of `X̃[:, t] ← …`).
        case assignment
        /// Inside a type (`d_e` of `ℝ^{d_e×N_V}`, `ℓ` of `[ℓ]`): a dimension or a set.
        case dimension
        /// Any other use.
        case use
    }

    /// What a header line declares.
    public enum DeclarationKind: String, Sendable, Equatable {
        case input = "input", output = "output", parameter = "parameter", hyperparameter = "hyperparameter"
        case collection = "parameter collection", groupIndex = "group index"
    }

    public struct Occurrence: Sendable {
        public var name: Name
        public var role: Role
        /// Index of the algorithm in the file.
        public var algorithm: Int
        /// Whether the name is inside a script of another name (`l` in `γ^1_l`).
        public var inScript: Bool
        /// Whether the name is in the title's signature.
        public var inTitle = false
    }

    public let file: AlgoFile
    /// In source order per algorithm.
    public private(set) var occurrences: [Occurrence] = []
    /// Per algorithm: spelling → the occurrence that declares it.
    public private(set) var declarations: [[String: Occurrence]] = []
    /// Per algorithm: the index variables of parameter groups (`l` of `For l ∈ [L]:`), in scope in
    /// the header only (in the body, `l` is the loop's).
    public private(set) var groupIndices: [[String: Occurrence]] = []
    /// Per algorithm: where the body starts (the header ends).
    public private(set) var bodyStarts: [Int] = []

    public init(_ file: AlgoFile) {
        self.file = file
        for (i, a) in file.algorithms.enumerated() {
            var w = Walker(algorithm: i)
            w.walk(a)
            occurrences += w.found
            declarations.append(Self.declarations(w.found))
            var groups: [String: Occurrence] = [:]
            for o in w.found where o.role == .declaration(.groupIndex) && groups[o.name.spelling] == nil { groups[o.name.spelling] = o }
            groupIndices.append(groups)
            bodyStarts.append(a.body.first?.span.start ?? a.span.end)
        }
    }

    /// The declaring occurrence of each spelling: a header declaration, else the first binding,
    /// else the first assignment, else the first mention in a header type (dimensions such as
    /// `N_V` are introduced by the types that use them), else the title (an undeclared input).
    static func declarations(_ os: [Occurrence]) -> [String: Occurrence] {
        func rank(_ r: Role) -> Int? {
            switch r {
            case .declaration: 0
            case .binding: 1
            case .assignment: 2
            case .dimension: 3
            case .use: 4
            case .algorithmName, .callee, .namedArgument: nil
            }
        }
        var best: [String: (Int, Occurrence)] = [:]
        for o in os {
            guard let r = rank(o.role), o.role != .declaration(.groupIndex) else { continue }
            // A plain use declares only a name of the title (an input no header line declares).
            if r == 4, !o.inTitle { continue }
            if let b = best[o.name.spelling], b.0 <= r { continue }
            best[o.name.spelling] = (r, o)
        }
        return best.mapValues(\.1)
    }

    /// The occurrence declaring an occurrence's name (a group's index in the header).
    public func declaration(of o: Occurrence) -> Occurrence? {
        if o.name.span.start < bodyStarts[o.algorithm], let g = groupIndices[o.algorithm][o.name.spelling] { return g }
        return declaration(of: o.name, in: o.algorithm)
    }

    /// The occurrence declaring `name` in algorithm `a`: by its spelling, else as a member of a
    /// family (`e_1` and `e_ℓ` are members of `e_t`; `γ^1_2` of `γ^1_l`).
    public func declaration(of name: Name, in a: Int) -> Occurrence? {
        guard a < declarations.count else { return nil }
        let table = declarations[a]
        if let d = table[name.spelling] { return d }
        guard !name.scripts.isEmpty else { return nil }
        let family = Name.spell(name.base, Array(name.scripts.dropLast()))
        return table.values.first { d in
            !d.name.scripts.isEmpty && Name.spell(d.name.base, Array(d.name.scripts.dropLast())) == family
        }
    }

    /// The name at a byte offset: the outermost name whose span holds it (`d_e`, `W^l_mlp1`, `γ^1_l`
    /// as a whole), except that an index variable inside a script (`l` of `γ^1_l`, `t` of `e_t`:
    /// a name bound by a loop, `∀`, a sum or a group) is a name of its own when the cursor is on it.
    public func occurrence(at offset: Int) -> Occurrence? {
        let holding = occurrences.filter { $0.name.span.start <= offset && offset <= $0.name.span.end }
        guard let outer = holding.first(where: { !$0.inScript }) ?? holding.first else { return nil }
        let index = holding.last { o in
            guard o.inScript, o.name.span != outer.name.span, let d = declaration(of: o) else { return false }
            switch d.role {
            case .binding, .declaration(.groupIndex): return true
            case .declaration, .assignment, .dimension, .use, .algorithmName, .callee, .namedArgument: return false
            }
        }
        return index ?? outer
    }

    /// Display names of opaque dimensions, as the checker shows them: `ℓ` for `length(x)` after
    /// `ℓ ← length(x)` (the rule of `AlgoChecker`, which keeps its aliases to itself).
    public static func lengthAliases(_ a: Algorithm) -> [String: String] {
        var out: [String: String] = [:]
        func walk(_ ss: [Statement]) {
            for s in ss {
                switch s.kind {
                case .assign(let t, _, let v):
                    if case .name(let n) = t.kind, case .call(let c) = v.kind, c.callee.spelling == "length", c.arguments.count == 1 {
                        out["length(" + ExprPrinter.print(c.arguments[0]) + ")"] = n.spelling
                    }
                case .forLoop(let l): walk(l.body)
                case .ifThen(let i): walk(i.body)
                case .whileLoop(let w): walk(w.body)
                case .forAll(_, let b): walk([b])
                case .returnValue, .sample, .comment, .error: break
                }
            }
        }
        walk(a.body)
        return out
    }

    /// Every occurrence that resolves to the same declaration as `o` (itself included).
    public func references(of o: Occurrence) -> [Occurrence] {
        guard let d = declaration(of: o) else { return [o] }
        return occurrences.filter { $0.algorithm == o.algorithm && isReference($0) && declaration(of: $0)?.name.span == d.name.span }
    }

    func isReference(_ o: Occurrence) -> Bool {
        switch o.role {
        case .algorithmName, .callee, .namedArgument: false
        case .declaration, .binding, .assignment, .dimension, .use: true
        }
    }

    /// Index of the algorithm whose span holds `offset` (the last one starting before it).
    public func algorithm(at offset: Int) -> Int? {
        file.algorithms.lastIndex { $0.span.start <= offset }
    }

    /// The algorithm named `name` in this file.
    public func algorithm(named name: String) -> Int? {
        file.algorithms.firstIndex { $0.title.signature?.name.spelling == name }
    }

    /// The names of the algorithms this file calls (callees that are not builtins are resolved by the caller).
    public var calledNames: Set<String> {
        Set(occurrences.compactMap { if case .callee = $0.role { return $0.name.spelling }; return nil })
    }
}

/// Collects the names of one algorithm in source order.
private struct Walker {
    let algorithm: Int
    var found: [NameIndex.Occurrence] = []
    var inTitle = false

    init(algorithm: Int) { self.algorithm = algorithm }

    mutating func add(_ n: Name, _ role: NameIndex.Role, inScript: Bool = false) {
        guard !n.base.isEmpty else { return }
        var o = NameIndex.Occurrence(name: n, role: role, algorithm: algorithm, inScript: inScript)
        o.inTitle = inTitle
        found.append(o)
        for s in n.scripts { expr(s.value, .use, inScript: true) }
    }

    mutating func walk(_ a: Algorithm) {
        if let s = a.title.signature {
            inTitle = true
            for o in s.outputs { expr(o, .use) }
            add(s.name, .algorithmName)
            for p in s.inputs + s.parameters {
                expr(p.name, .use)
                if let d = p.defaultValue { expr(d, .use) }
            }
            inTitle = false
        }
        for h in a.header {
            switch h {
            case .comment: break
            case .line(let l):
                switch l.content {
                case .declarations(let d): declarationLine(d, kind(l.kind))
                case .collection(let c): collection(c)
                }
            }
        }
        for s in a.body { statement(s) }
    }

    func kind(_ k: HeaderKind) -> NameIndex.DeclarationKind {
        switch k {
        case .input: .input
        case .output: .output
        case .parameters: .parameter
        case .hyperparameters: .hyperparameter
        }
    }

    mutating func declarationLine(_ d: DeclarationLine, _ k: NameIndex.DeclarationKind) {
        for decl in d.declarations {
            for n in decl.names { declarator(n, k) }
            if let t = decl.type { type(t) }
            if let v = decl.value { expr(v, .use) }
        }
    }

    /// A declarator is a name, `e_{1:T}` (a name whose script is a range), or a dataset `{x_n}_{n=1}^{N}`.
    mutating func declarator(_ e: Expr, _ k: NameIndex.DeclarationKind) {
        switch e.kind {
        case .name(let n): add(n, .declaration(k))
        case .set(let items), .tuple(let items): for i in items { declarator(i, k) }
        case .scripted(let inner, let scripts):
            declarator(inner, k)
            for s in scripts { expr(s.value, .use, inScript: true) }
        case .number, .text, .ones, .infinity, .ellipsis, .all, .binary, .unary, .transpose, .sum, .call, .index, .slice,
             .list, .iverson, .setBuilder, .membership, .randomChoice, .missing:
            expr(e, .use)
        }
    }

    mutating func collection(_ c: ParameterCollection) {
        add(c.name, .declaration(.collection))
        for m in c.members {
            switch m {
            case .comment: break
            case .declarations(let d): declarationLine(d, .parameter)
            case .group(let g):
                add(g.variable, .declaration(.groupIndex))
                type(g.domain)
                if let n = g.collection { add(n, .declaration(.collection)) }
                for d in g.members { declarationLine(d, .parameter) }
            }
        }
    }

    mutating func statement(_ s: Statement) {
        switch s.kind {
        case .assign(let t, _, let v):
            expr(v, .use)
            target(t)
        case .returnValue(let t, let v):
            if let t { expr(t, .use) }
            expr(v, .use)
        case .forLoop(let l):
            add(l.variable, .binding)
            switch l.range {
            case .counting(let es): for e in es { expr(e, .use) }
            case .domain(let t): type(t)
            }
            for b in l.body { statement(b) }
        case .forAll(let vs, let b):
            for v in vs { add(v, .binding) }
            statement(b)
        case .ifThen(let i):
            expr(i.condition, .use)
            for b in i.body { statement(b) }
        case .whileLoop(let w):
            expr(w.condition, .use)
            for b in w.body { statement(b) }
        case .sample(let smp):
            expr(smp.weights, .use)
            if let d = smp.distribution { target(d) }
            target(smp.target)
        case .comment, .error: break
        }
        if let c = s.claim { type(c.type) }
    }

    /// The root name of an assignment target is assigned; its indices are used (`X̃[:, t]`, `P(θ)`).
    mutating func target(_ e: Expr) {
        switch e.kind {
        case .name(let n): add(n, .assignment)
        case .index(let base, let idx):
            target(base)
            for i in idx { expr(i, .use) }
        case .call(let c):
            add(c.callee, .assignment)
            for a in c.arguments { expr(a, .use) }
        case .tuple(let items), .list(let items, _): for i in items { target(i) }
        case .number, .text, .ones, .infinity, .ellipsis, .all, .binary, .unary, .transpose, .scripted, .sum, .slice,
             .set, .iverson, .setBuilder, .membership, .randomChoice, .missing:
            expr(e, .use)
        }
    }

    mutating func expr(_ e: Expr, _ role: NameIndex.Role, inScript: Bool = false) {
        switch e.kind {
        case .name(let n): add(n, role, inScript: inScript)
        case .number, .text, .ones, .infinity, .ellipsis, .all, .missing: break
        case .binary(_, let a, let b):
            expr(a, role, inScript: inScript)
            expr(b, role, inScript: inScript)
        case .unary(_, let a), .transpose(let a), .iverson(let a): expr(a, role, inScript: inScript)
        case .membership(let a, let t):
            expr(a, role, inScript: inScript)
            type(t)
        case .scripted(let a, let ss):
            expr(a, role, inScript: inScript)
            for s in ss { expr(s.value, .use, inScript: true) }
        case .sum(let s):
            if let lower = s.lower { sumIndex(lower.value) }
            if let upper = s.upper { expr(upper.value, .use, inScript: true) }
            expr(s.body, .use, inScript: inScript)
        case .call(let c):
            add(c.callee, .callee(call: e.span), inScript: inScript)
            for a in c.arguments { expr(a, .use, inScript: inScript) }
            for p in c.parameters {
                if let t = p.target { namedArgument(t, callee: c.callee.spelling) }
                expr(p.value, .use, inScript: inScript)
            }
        case .index(let a, let idx):
            expr(a, role, inScript: inScript)
            for i in idx { expr(i, .use, inScript: inScript) }
        case .slice(let a, let b):
            if let a { expr(a, .use, inScript: inScript) }
            if let b { expr(b, .use, inScript: inScript) }
        case .list(let items, _), .tuple(let items), .set(let items):
            for i in items { expr(i, role, inScript: inScript) }
        case .setBuilder(let v, let d, let c):
            add(v, .binding)
            type(d)
            expr(c, .use)
        case .randomChoice(let o, let p):
            for i in o + p { expr(i, .use, inScript: inScript) }
        }
    }

    /// `Mask[t, t′] = …` at a call: `Mask` is the callee's; `t`, `t′` are pattern variables.
    mutating func namedArgument(_ t: Expr, callee: String) {
        switch t.kind {
        case .name(let n): add(n, .namedArgument(callee: callee))
        case .index(let base, let idx):
            namedArgument(base, callee: callee)
            for i in idx { expr(i, .binding) }
        case .number, .text, .ones, .infinity, .ellipsis, .all, .binary, .unary, .transpose, .scripted, .sum, .call, .slice,
             .list, .iverson, .tuple, .set, .setBuilder, .membership, .randomChoice, .missing:
            expr(t, .use)
        }
    }

    /// `Σ_{i=1}^{…}` binds `i`; `Σ_{t∈T̃}` binds `t`; `Σ_u` binds `u`.
    mutating func sumIndex(_ e: Expr) {
        switch e.kind {
        case .binary(.equal, let v, let from):
            expr(v, .binding, inScript: true)
            expr(from, .use, inScript: true)
        case .membership(let v, let t):
            expr(v, .binding, inScript: true)
            type(t)
        case .name(let n): add(n, .binding, inScript: true)
        case .number, .text, .ones, .infinity, .ellipsis, .all, .binary, .unary, .transpose, .scripted, .sum, .call, .index,
             .slice, .list, .iverson, .tuple, .set, .setBuilder, .randomChoice, .missing:
            expr(e, .use, inScript: true)
        }
    }

    mutating func type(_ t: TypeExpr) {
        switch t.kind {
        case .reals, .naturals, .missing: break
        case .named(let n): add(n, .dimension)
        case .power(let base, let dims, _):
            type(base)
            for d in dims { expr(d, .dimension) }
        case .sequences(let b): type(b)
        case .range(let e): expr(e, .dimension)
        case .finiteSet(let es): for e in es { expr(e, .use) }
        case .interval(let a, let b):
            expr(a, .use)
            expr(b, .use)
        case .applied(let n, let ts):
            add(n, .use)
            for x in ts { type(x) }
        case .congruent(let a, let b):
            type(a)
            type(b)
        }
    }
}
