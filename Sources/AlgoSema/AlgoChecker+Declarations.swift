import AlgoDiagnostics
import AlgoSyntax

// MARK: - The resolver: header declarations, collections, families, the title

extension AlgoChecker {
    /// Declares every header name with its type; checks that the title's inputs, outputs and
    /// parameters are declared (A13) and that no dimension name is two names run together (`Hd_mid`).
    func declare() {
        state = .declared
        collectDimNames()
        for item in algorithm.header {
            guard case .line(let line) = item else { continue }
            switch line.content {
            case .declarations(let dl):
                for d in dl.declarations where !declareValued(d, kind: line.kind) { declare(d, kind: line.kind, group: nil) }
            case .collection(let c):
                let t = declareCollection(c, kind: kindOf(line.kind))
                define(c.name.spelling, Binding(type: t, origin: c.name.span, kind: kindOf(line.kind), loopDepth: 0))
            }
        }
        checkTitle()
        // Defaults (`Z = X`) are evaluated among the inputs when a call leaves them out.
        for p in algorithm.title.signature?.inputs ?? [] { if let d = p.defaultValue { noteBindings(d) } }
    }

    func kindOf(_ k: HeaderKind) -> BindingKind {
        switch k {
        case .input: .input
        case .output: .output
        case .parameters: .parameter
        case .hyperparameters: .hyperparameter
        }
    }

    /// First pass: every name declared anywhere in the header (for `Hd_mid` detection) and the hyperparameters.
    func collectDimNames() {
        var declared: Set<String> = []
        var free: [(String, Span)] = []
        func visitType(_ t: TypeExpr) {
            switch t.kind {
            case .power(let b, let dims, _):
                visitType(b)
                for d in dims { visitDim(d) }
            case .sequences(let b): visitType(b)
            case .range(let e): visitDim(e)
            case .applied(_, let ts): ts.forEach(visitType)
            case .congruent(let a, let b): visitType(a); visitType(b)
            case .reals, .naturals, .named, .finiteSet, .interval, .missing: break
            }
        }
        func visitDim(_ e: Expr) {
            switch e.kind {
            case .name(let n): free.append((n.spelling, n.span))
            case .binary(_, let a, let b): visitDim(a); visitDim(b)
            default: break
            }
        }
        func visitDecl(_ d: Declaration, hyper: Bool) {
            for n in d.names { if case .name(let nm) = n.kind { declared.insert(nm.spelling); if hyper { hyperparameters.insert(nm.spelling) } } }
            if let t = d.type { visitType(t) }
        }
        func visitLine(_ dl: DeclarationLine, hyper: Bool) { dl.declarations.forEach { visitDecl($0, hyper: hyper) } }
        for item in algorithm.header {
            guard case .line(let line) = item else { continue }
            switch line.content {
            case .declarations(let dl): visitLine(dl, hyper: line.kind == .hyperparameters)
            case .collection(let c):
                for m in c.members {
                    switch m {
                    case .declarations(let dl): visitLine(dl, hyper: false)
                    case .group(let g): g.members.forEach { visitLine($0, hyper: false) }; visitType(g.domain)
                    case .comment: break
                    }
                }
            }
        }
        for (n, _) in free { dimNames.insert(n) }
        dimNames.formUnion(hyperparameters)
        // `Hd_mid`: a dimension that is two known names run together (Decision 9).
        let known = dimNames.union(declared)
        var seen: Set<String> = []
        for (n, span) in free where !declared.contains(n) && !seen.contains(n) {
            seen.insert(n)
            let chars = Array(n)
            for cut in 1..<max(1, chars.count) {
                let a = String(chars[..<cut]), b = String(chars[cut...])
                guard known.contains(a), known.contains(b) else { continue }
                var d = Diagnostic(.unknownName, "unknown name `\(n)`: `\(a)` and `\(b)` are declared", at: span,
                                   label: "read as one name")
                d.notes.append("a dimension written as two names run together is read as one name")
                if program.verifies(file: file, index: indexInFile, replacing: span, with: "\(a) \(b)") {
                    d.help = "write `\(a) \(b)` (\(a)·\(b))"
                } else {
                    d.notes.append("did you mean `\(a) \(b)` (\(a)·\(b))?")
                }
                report(d)
                poisonedDims.insert(n)
                break
            }
        }
    }

    /// Declares the names of one declaration (`W_q, W_k ∈ ℝ^{d_attn×d_in}`), as families inside a
    /// group whose variable is one of the name's scripts.
    func declare(_ d: Declaration, kind: HeaderKind, group: (variable: String, domain: Dim)?) {
        for n in d.names {
            switch n.kind {
            case .name(let nm):
                declareName(nm, type: d.type, kind: kindOf(kind), group: group)
            case .scripted(let inner, let scripts):
                declareDataset(inner, scripts: scripts, kind: kindOf(kind))
            default:
                report(Diagnostic(.expectedName, "a declaration must name a value", at: n.span))
            }
        }
    }

    func declaredType(_ nm: Name, _ type: TypeExpr?, kind: BindingKind) -> SemType {
        guard let type else {
            if kind == .hyperparameter { return .nat(.named(nm.spelling)) }
            return program.freshTypeVariable()
        }
        if case .naturals = type.kind { return .nat(.named(nm.spelling)) }
        guard var t = convertType(type, allowFree: true) else { return .error }
        if case .sequence(let e, nil) = t { t = .sequence(element: e, length: .named("length(\(nm.spelling))")) }
        return t
    }

    @discardableResult
    func declareName(_ nm: Name, type: TypeExpr?, kind: BindingKind, group: (variable: String, domain: Dim)?) -> (String, SemType) {
        let t = declaredType(nm, type, kind: kind)
        if let g = group, let i = nm.scripts.firstIndex(where: { $0.raw == g.variable }) {
            var rest = nm.scripts
            rest.remove(at: i)
            let k = Self.key(nm.base, rest)
            if families[k] != nil { duplicate(nm) }
            defineFamily(k, Binding(type: .family(domain: g.domain, element: t), origin: nm.span, kind: kind, loopDepth: 0), display: nm.spelling)
            return (k, .family(domain: g.domain, element: t))
        }
        // A title entry `e_{1:T}` makes `e_t` a family over [T].
        if nm.scripts.count == 1, let bound = titleFamilyBound(base: nm.base) {
            defineFamily(nm.base, Binding(type: .family(domain: bound, element: t), origin: nm.span, kind: kind, loopDepth: 0), display: nm.spelling)
            return (nm.base, .family(domain: bound, element: t))
        }
        if kind == .output {
            if outputs[nm.spelling] != nil { duplicate(nm) }
            outputs[nm.spelling] = Binding(type: t, origin: nm.span, kind: .output, loopDepth: 0)
        } else {
            if let b = lookup(nm.spelling), b.kind != .output { _ = b; duplicate(nm) }
            define(nm.spelling, Binding(type: t, origin: nm.span, kind: kind, loopDepth: 0))
        }
        return (nm.spelling, t)
    }

    func duplicate(_ nm: Name) {
        report(Diagnostic(.duplicateDeclaration, "`\(nm.spelling)` is declared twice in `\(name)`", at: nm.span,
                          label: "declared again here"))
    }

    /// The upper bound of a title entry `base_{1:T}` (T), when the title has one.
    func titleFamilyBound(base: String) -> Dim? {
        guard let sig = algorithm.title.signature else { return nil }
        for p in sig.inputs + sig.parameters {
            guard case .name(let n) = p.name.kind, n.base == base, n.scripts.count == 1,
                  case .slice(_, let hi?) = n.scripts[0].value.kind else { continue }
            let d = dimOf(hi, allowFree: true)
            d.map(noteDims)
            return d
        }
        return nil
    }

    /// `{x_n}_{n=1}^{N_data}`, `{(z_n, x_n)}_{n=1}^{N_data}`: families of sequences over [N_data].
    func declareDataset(_ inner: Expr, scripts: [Script], kind: BindingKind) {
        guard let upper = scripts.first(where: { $0.position == .sup }), let lower = scripts.first(where: { $0.position == .sub }),
              case .binary(.equal, let v, _) = lower.value.kind, case .name(let variable) = v.kind,
              let domain = dimOf(upper.value, allowFree: true) else {
            report(Diagnostic(.expectedDeclaration, "a dataset is written `{x_n}_{n=1}^{N}`", at: inner.span))
            return
        }
        noteDims(domain)
        var names: [Name] = []
        func collect(_ e: Expr) {
            switch e.kind {
            case .name(let n): names.append(n)
            case .set(let es), .tuple(let es): es.forEach(collect)
            default: report(Diagnostic(.expectedName, "a dataset element must be a name", at: e.span))
            }
        }
        collect(inner)
        for n in names {
            guard let i = n.scripts.firstIndex(where: { $0.raw == variable.spelling }) else {
                report(Diagnostic(.unboundIndex, "dataset element `\(n.spelling)` is not indexed by `\(variable.spelling)`", at: n.span))
                continue
            }
            var rest = n.scripts
            rest.remove(at: i)
            let k = Self.key(n.base, rest)
            let element = SemType.sequence(element: .index(.named("N_V")), length: .named("length(\(n.spelling))"))
            defineFamily(k, Binding(type: .family(domain: domain, element: element), origin: n.span, kind: kind, loopDepth: 0), display: n.spelling)
        }
    }

    /// A parameter collection: declares every member (groups as families) and returns the collection type.
    func declareCollection(_ c: ParameterCollection, kind: BindingKind) -> SemType {
        var members: [(key: String, type: SemType)] = []
        for m in c.members {
            switch m {
            case .declarations(let dl):
                for d in dl.declarations {
                    for n in d.names {
                        guard case .name(let nm) = n.kind else { continue }
                        let (k, t) = declareName(nm, type: d.type, kind: kind, group: nil)
                        memberOf[k] = c.name.spelling
                        members.append((k, t))
                    }
                }
            case .group(let g):
                guard let domain = rangeDim(g.domain) else { continue }
                let gv = (variable: g.variable.spelling, domain: domain)
                var inner: [(key: String, type: SemType)] = []
                for dl in g.members {
                    for d in dl.declarations {
                        for n in d.names {
                            guard case .name(let nm) = n.kind else { continue }
                            let (k, t) = declareName(nm, type: d.type, kind: kind, group: gv)
                            memberOf[k] = c.name.spelling
                            if case .family(_, let e) = t { inner.append((k, e)) } else { inner.append((k, t)) }
                        }
                    }
                }
                if let cn = g.collection {
                    // `For h ∈ [H], 𝓦^h_qkv consisting of:` — the group forms a family of collections.
                    var rest = cn.scripts
                    if let i = rest.firstIndex(where: { $0.raw == gv.variable }) { rest.remove(at: i) }
                    let k = Self.key(cn.base, rest)
                    groupCollectionOf[k] = c.name.spelling
                    groupMembers[k] = inner.map(\.key)
                    let ct = SemType.collection(CollectionType(origin: "\(name).\(k)", members: inner))
                    let ft = SemType.family(domain: domain, element: ct)
                    defineFamily(k, Binding(type: ft, origin: cn.span, kind: kind, loopDepth: 0), display: cn.spelling)
                    members.append((k, ft))
                } else {
                    for (k, t) in inner { members.append((k, .family(domain: domain, element: t))) }
                }
            case .comment: break
            }
        }
        return .collection(CollectionType(origin: "\(name).\(c.name.spelling)", members: members))
    }

    /// `[L]` → L.
    func rangeDim(_ t: TypeExpr) -> Dim? {
        if case .range(let e) = t.kind { return dimOf(e, allowFree: true) }
        if let st = convertType(t, allowFree: false), case .index(let d) = st { return d }
        report(Diagnostic(.invalidOperand, "a loop or group ranges over `[N]`", at: t.span))
        return nil
    }

    /// Every title input, parameter and output must be declared (A13).
    func checkTitle() {
        guard let sig = algorithm.title.signature else { return }
        for p in sig.inputs + sig.parameters {
            guard case .name(let n) = p.name.kind else { continue }
            if lookup(n.spelling) != nil { continue }
            if let last = n.scripts.last, case .slice = last.value.kind,
               families[Self.key(n.base, Array(n.scripts.dropLast()))] != nil { continue }
            var d = Diagnostic(.undeclaredSignatureName, "input `\(n.spelling)` of `\(name)` is not declared", at: n.span,
                               label: "not declared by any header line")
            for item in algorithm.header {
                guard case .line(let hl) = item, hl.kind == .input, case .declarations(let dl) = hl.content,
                      dl.declarations.isEmpty, let prose = dl.prose, prose.text.contains(n.spelling) else { continue }
                d.labels.append(.init(prose.span, "prose only: this line declares no name"))
            }
            d.notes.append("an `Input:` line must start with the names it declares; prose follows them after a comma")
            d.help = "write `Input:  \(n.spelling), …` with the prose after the comma"
            report(d)
            define(n.spelling, Binding(type: .error, origin: n.span, kind: .input, loopDepth: 0))
        }
        for o in sig.outputs {
            guard case .name(let n) = o.kind, outputs[n.spelling] == nil else { continue }
            report(Diagnostic(.undeclaredSignatureName, "output `\(n.spelling)` of `\(name)` is not declared", at: n.span,
                              label: "no `Output:` line declares it"))
            outputs[n.spelling] = Binding(type: .error, origin: n.span, kind: .output, loopDepth: 0)
        }
    }

    // MARK: - Types and dimensions

    /// A declared type as a `SemType`; nil after reporting an error.
    func convertType(_ t: TypeExpr, allowFree: Bool) -> SemType? {
        switch t.kind {
        case .reals: return .real
        case .naturals: return .nat(nil)
        case .named(let n):
            if n.spelling == "V" { return .index(.named("N_V")) }
            if let b = lookup(n.spelling) {
                switch program.resolve(b.type) {
                case .set(let e): return e
                case .error: return .error
                default:
                    report(Diagnostic(.invalidOperand, "`\(n.spelling)` is \(show(b.type)), not a set", at: n.span))
                    return nil
                }
            }
            unknownName(n.spelling, at: n.span)
            return nil
        case .power(let base, let dims, _):
            // `[N_S]^{length(x)}`: a sequence over [N_S] as long as x (BERT's segments beside its tokens).
            if case .range = base.kind, dims.count == 1 {
                guard case .index(let n)? = convertType(base, allowFree: allowFree), let len = dimOf(dims[0], allowFree: allowFree) else { return nil }
                return .sequence(element: .index(n), length: len)
            }
            let element: ElementKind
            switch base.kind {
            case .reals: element = .real
            case .interval: element = .probability
            case .finiteSet: element = .bit
            default:
                report(Diagnostic(.invalidOperand, "only ℝ, (0,1) and {0,1} have vectors and matrices here", at: base.span))
                return nil
            }
            var ds: [Dim] = []
            for d in dims {
                guard let x = dimOf(d, allowFree: allowFree) else { return nil }
                if x.variables.contains(where: { if case .named(let n) = $0 { return poisonedDims.contains(n) } else { return false } }) {
                    return .error
                }
                ds.append(x)
            }
            switch ds.count {
            case 1: return .array(rows: ds[0], cols: nil, element: element)
            case 2: return .array(rows: ds[0], cols: ds[1], element: element)
            default:
                report(Diagnostic(.invalidOperand, "only vectors and matrices are supported, not \(ds.count) dimensions", at: t.span))
                return nil
            }
        case .sequences(let base):
            guard let e = convertType(base, allowFree: allowFree) else { return nil }
            return .sequence(element: e, length: nil)
        case .range(let e):
            guard let d = dimOf(e, allowFree: allowFree) else { return nil }
            return .index(d)
        case .finiteSet: return .number
        case .interval: return .real
        case .applied(let n, let args):
            if n.spelling == "Δ", args.count == 1, let inner = convertType(args[0], allowFree: allowFree), case .index(let d) = inner {
                return .array(rows: d, cols: nil, element: .probability)
            }
            report(Diagnostic(.invalidOperand, "`\(n.spelling)(…)` is not a known type; `Δ(V)` is", at: t.span))
            return nil
        case .congruent(_, let b): return convertType(b, allowFree: allowFree)
        case .missing: return nil
        }
    }

    /// An expression read as a dimension: `d_e`, `H d_mid`, `ℓ − 1`, `length(x)`, `ℓ_z`.
    func dimOf(_ e: Expr, allowFree: Bool) -> Dim? {
        switch e.kind {
        case .number(let s):
            guard let n = smallInt(s) else {
                report(Diagnostic(.invalidOperand, "`\(s)` is not a dimension (a whole number up to 10⁹)", at: e.span))
                return nil
            }
            return Dim(n)
        case .name(let n):
            noteBindings(e)
            if let b = lookup(n.spelling) {
                switch program.resolve(b.type) {
                case .nat(let v): return v ?? .named(n.spelling)
                case .index: return .named(n.spelling)
                case .error: return nil
                default: break
                }
            }
            if allowFree || dimNames.contains(n.spelling) || n.spelling == "N_V" { return .named(n.spelling) }
            unknownName(n.spelling, at: n.span)
            return nil
        case .binary(let op, let a, let b):
            guard let x = dimOf(a, allowFree: allowFree), let y = dimOf(b, allowFree: allowFree) else { return nil }
            switch op {
            case .add: return x + y
            case .subtract: return x - y
            case .juxtapose, .multiply, .times: return x * y
            default:
                report(Diagnostic(.invalidOperand, "a dimension may only use `+`, `−` and products", at: e.span))
                return nil
            }
        case .call(let c) where c.callee.spelling == Builtin.length.rawValue && c.arguments.count == 1:
            calls[e.span] = ResolvedCall(callee: c.callee.spelling, file: "", isBuiltin: true, dimensions: [:], defaulted: [], builtin: .length)
            noteBindings(c.arguments[0])
            if case .name(let x) = c.arguments[0].kind, let b = lookup(x.spelling),
               case .sequence(_, let len?) = program.resolve(b.type) { return len }
            return .named("length(\(text(c.arguments[0])))")
        default:
            report(Diagnostic(.invalidOperand, "`\(text(e))` is not a dimension", at: e.span))
            return nil
        }
    }

    /// Records the named dimensions of a family domain (`T`, `N_data`) as dimensions of the algorithm.
    func noteDims(_ d: Dim) {
        for v in d.variables { if case .named(let n) = v { dimNames.insert(n) } }
    }

    /// E0301, once per name, with "did you mean" among the names in scope. A family is offered as
    /// written (`W^l_mlp1`, not its key `W_mlp1`), and a bare family name (`W_mlp1` for `W^l_mlp1`)
    /// is told to take its index rather than pointed at a sibling.
    func unknownName(_ n: String, at span: Span) {
        guard !reportedNames.contains(n) else { return }
        reportedNames.insert(n)
        var d = Diagnostic(.unknownName, "unknown name `\(n)`", at: span, label: "not declared or defined before this line")
        if let written = familyDisplay[n] ?? (families[n] != nil ? n + "_·" : nil) {
            d.notes.append("`\(n)` is the family `\(written)`: write it with its index, as declared")
        } else {
            var shown: [String: String] = [:]   // candidate as matched → as written
            for k in Set(scopes.flatMap { $0.keys }).union(dimNames) { shown[k] = k }
            for k in families.keys { shown[k] = familyDisplay[k] ?? k }
            if let best = Suggestion.closest(to: n, among: shown.keys.sorted()) {
                d.notes.append("did you mean `\(shown[best]!)`?")
            }
        }
        report(d)
    }
}

/// A number literal usable as a dimension or index: a whole number up to 10⁹ (no overflow later).
func smallInt(_ s: String) -> Int? {
    guard let n = Int(s), n >= 0, n <= 1_000_000_000 else { return nil }
    return n
}
