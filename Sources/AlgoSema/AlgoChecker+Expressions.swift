import AlgoDiagnostics
import AlgoSyntax

// MARK: - Expressions: names, families, products, element-wise operations, Σ, indexing, stacking

extension AlgoChecker {
    /// The type of `e`, recorded for the CheckedProgram. A poisoned operand gives a poisoned result silently.
    @discardableResult
    func check(_ e: Expr) -> SemType {
        let before = diagnostics.count
        var t = program.resolve(checkKind(e))
        // One mistake, one error: an expression in which an error was reported is poisoned.
        if diagnostics.count > before { t = .error }
        types[e.span] = t
        return t
    }

    private func checkKind(_ e: Expr) -> SemType {
        switch e.kind {
        case .name(let n):
            let (t, binding) = resolve(n.base, n.scripts, span: n.span, name: n)
            if let binding { bindings[e.span] = binding }
            return t
        case .number: return .number
        case .text:
            if isExperiment { return .text }
            return invalid("a text in double quotes appears only in an experiment's header", e)
        case .ones: return .array(rows: program.solver.fresh(), cols: nil, element: .real)
        case .infinity: return .real
        case .ellipsis: return .number
        case .all:
            report(Diagnostic(.invalidOperand, "`:` stands for a whole row or column only inside an index", at: e.span))
            return .error
        case .binary(let op, let a, let b): return binary(op, a, b, e)
        case .unary(let op, let a): return unary(op, a, e)
        case .transpose(let a):
            if case .number(let n) = a.kind { return transposedNumber(n, e) }
            let t = check(a)
            switch t {
            case .error: return .error
            case .array(let r, nil, let k): return .array(rows: .one, cols: r, element: k)
            case .array(let r, let c?, let k):
                if r == .one { return .array(rows: c, cols: nil, element: k) }
                return .array(rows: c, cols: r, element: k)
            default:
                if t.isScalar { return t }
                return invalid("`ᵀ` transposes vectors and matrices, not \(show(t))", e)
            }
        case .scripted(let base, let scripts):
            let t = check(base)
            for s in scripts { check(s.value) }
            if scripts.count == 1, scripts[0].position == .sup { return elementwiseResult(t) }
            return invalid("only a power (`²`, `^{1/τ}`) may follow an expression", e)
        case .sum(let s): return sum(s, e)
        case .call(let c): return call(c, e)
        case .index(let base, let indices): return index(base, indices, e)
        case .slice:
            return invalid("a slice `a : b` is only allowed inside an index", e)
        case .list(let items, let sep): return list(items, sep, e)
        case .iverson(let c):
            check(c)
            return .number
        case .tuple(let items):
            items.forEach { check($0) }
            return invalid("a tuple is not a value here", e)
        case .set(let items):
            let ts = items.map { check($0) }
            return .set(of: ts.first ?? .number)
        case .setBuilder(let v, let domain, let cond):
            push()
            let d = rangeDim(domain, allowFree: false)
            let t: SemType = d.map { .index($0) } ?? .error
            define(v.spelling, Binding(type: t, origin: v.span, kind: .indexVariable(strict: false), loopDepth: loopDepth))
            check(cond)
            pop()
            return .set(of: t)
        case .membership(let a, _):
            check(a)
            return .bool
        case .randomChoice(let options, let probabilities):
            let ts = options.map { check($0) }
            for p in probabilities {
                let t = check(p)
                if !t.isScalar && !t.isError { return invalid("a probability must be a number, not \(show(t))", p) }
            }
            if options.count != probabilities.count {
                report(Diagnostic(.argumentCount, "\(options.count) choices but \(probabilities.count) probabilities", at: e.span))
                return .error
            }
            return ts.first ?? .error
        case .missing: return .error
        }
    }

    /// `1ᵀ` (`1^T` in ASCII) is almost always the all-ones row `𝟏ᵀ` mistyped; transposing a number
    /// means nothing, so it is refused rather than read as the number (which silently turned
    /// `b_q 1^T` into `b_q`).
    func transposedNumber(_ n: String, _ e: Expr) -> SemType {
        var d = Diagnostic(.invalidOperand, "`\(n)ᵀ` transposes the number \(n); `ᵀ` transposes vectors and matrices", at: e.span)
        if n == "1" {
            d.notes.append("the all-ones vector is `𝟏` (`\\mathbf{1}` in ASCII), not the number 1")
            if program.verifies(file: file, index: indexInFile, replacing: e.span, with: "𝟏ᵀ") {
                d.help = "write the all-ones row: `𝟏ᵀ`"
            }
        }
        report(d)
        return .error
    }

    func invalid(_ message: String, _ e: Expr) -> SemType {
        report(Diagnostic(.invalidOperand, message, at: e.span))
        return .error
    }

    // MARK: Names

    /// A name: declared as written; a family member (`γ^1_l` with `l` bound); a power (`p^{1/τ}`);
    /// a dimension used as a number (`√d_attn`); a special token. Resolution is by declarations.
    func resolveName(_ base: String, _ scripts: [Script], span: Span) -> SemType {
        resolve(base, scripts, span: span).type
    }

    /// `resolveName` with what the name was resolved to (nil for a name that was not: an error
    /// was reported, or an experiment's dataset).
    /// `quiet`: no diagnostics and nothing checked (a name the checker reads as a dimension or an
    /// index, `noteBindings`).
    /// `name`: the name as written, when the caller has it (else it is built from base and scripts).
    func resolve(_ base: String, _ scripts: [Script], span: Span, name written: Name? = nil,
                 quiet: Bool = false) -> (type: SemType, binding: NameBinding?) {
        let spelling = Self.key(base, scripts)
        var name: Name { written ?? Name(base: base, scripts: scripts, span: span) }
        if let b = lookup(spelling) { used.insert(spelling); return (b.type, binding(of: b, name)) }
        if let t = datasetReference(base, scripts, span: span) { return (t, nil) }
        for i in scripts.indices.reversed() {
            var rest = scripts
            let s = rest.remove(at: i)
            let k = Self.key(base, rest)
            if let f = families[k], case .family(let domain, let element) = program.resolve(f.type) {
                used.insert(k)
                if !quiet { checkFamilyIndex(s, domain: domain, use: spelling, family: k, span: span) }
                if let c = groupCollectionOf[k] { return (element, .groupCollection(collection: c, name: name)) }
                if let c = memberOf[k] { return (element, .member(collection: c, name: name)) }
                return (element, .familyElement(family: NameBinding.familyKey(base, scripts, index: i), index: i))
            }
        }
        if let last = scripts.last, last.position == .sup, !scripts.isEmpty {
            let rest = Array(scripts.dropLast())
            let restSpelling = Self.key(base, rest)
            if lookup(restSpelling) != nil || families.keys.contains(where: { restSpelling.hasPrefix($0) }) {
                let (t, b) = resolve(base, rest, span: span, quiet: quiet)
                if !quiet { check(last.value) }
                return (elementwiseResult(t), b.map { .power(base: $0, exponent: last.value) })
            }
        }
        if dimNames.contains(spelling) { return (.nat(.named(spelling)), .dimension(spelling)) }
        if let token = SpecialToken(rawValue: spelling) { return (.index(.named("N_V")), .specialToken(token)) }
        if let c = Constant(rawValue: spelling) { return (.real, .constant(c)) }
        // A name whose script is an unbound variable and whose base has no family: report the name.
        if !quiet { unknownName(spelling, at: span) }
        return (.error, nil)
    }

    /// Records the binding of every name in `e` that has none yet (`ℓ` in `[ℓ]`, `N_epochs` in a
    /// counting loop, `t_z` in `S[t_z, t_x]`: names the checker reads as dimensions or indices
    /// without `check`), resolved in the current scope without diagnostics.
    func noteBindings(_ e: Expr) {
        _ = e.first { x -> Bool? in
            if case .name(let n) = x.kind, bindings[x.span] == nil,
               let b = resolve(n.base, n.scripts, span: n.span, name: n, quiet: true).binding { bindings[x.span] = b }
            return nil
        }
    }

    /// Where the value of a name declared as written lives at run time.
    func binding(of b: Binding, _ name: Name) -> NameBinding {
        if let c = memberOf[name.spelling] { return .member(collection: c, name: name) }
        switch b.kind {
        case .dimension: return .dimension(name.spelling)
        case .hyperparameter:
            if case .nat = program.resolve(b.type) { return .dimension(name.spelling) }
            return .value(name.spelling)
        case .input, .output, .parameter, .local, .function, .indexVariable: return .value(name.spelling)
        }
    }

    /// A parameter collection, or an untyped declaration (`θ`, a type variable) that only a collection
    /// can solve in arithmetic: section 8's optimisers (Adam) compute member-wise on θ's structure.
    func isCollectionLike(_ t: SemType) -> Bool {
        switch t {
        case .collection, .variable: return true
        default: return false
        }
    }

    func elementwiseResult(_ t: SemType) -> SemType {
        switch t {
        case .array(let r, let c, _): return .array(rows: r, cols: c, element: .real)
        case .error: return .error
        default: return t.isScalar ? .real : t
        }
    }

    /// The index of a family member: a bound variable over the family's domain, a number, or a dimension.
    func checkFamilyIndex(_ s: Script, domain: Dim, use: String, family: String, span: Span) {
        if case .name(let v) = s.value.kind, lookup(v.spelling) == nil, !dimNames.contains(v.spelling) {
            guard !reportedNames.contains(v.spelling) else { return }
            reportedNames.insert(v.spelling)
            var d = Diagnostic(.unboundIndex, "`\(v.spelling)` is not bound here", at: s.span,
                               label: "`\(use)` indexes the family `\(family)` over [\(show(domain))] by `\(v.spelling)`")
            d.notes.append("no enclosing loop, `∀` or sum binds `\(v.spelling)` at this line")
            if let loop = loopStack.last(where: { !mentions($0.statement, $0.variable.spelling) }) {
                let paperLine = loop.statement.lineNumber.map { "line \($0)" } ?? "line \(line(loop.variable.span))"
                d.labels.append(.init(loop.variable.span, "this loop binds `\(loop.variable.spelling)`, which its body never uses"))
                d.notes.append("the loop of \(paperLine) binds `\(loop.variable.spelling)` but its body indexes with `\(v.spelling)`")
                if program.verifies(file: file, index: indexInFile, replacing: loop.variable.span, with: v.spelling) {
                    d.help = "bind `\(v.spelling)` in the loop: `\(lineText(replacing: loop.variable.span, with: v.spelling))`"
                }
            }
            report(d)
            return
        }
        checkIndex(s.value, against: domain, base: nil, what: "the family `\(familyDisplay[family] ?? use)`")
    }

    /// Whether a loop's body mentions `name` anywhere (as a name or a script).
    func mentions(_ st: Statement, _ name: String) -> Bool {
        guard case .forLoop = st.kind else { return true }
        return st.substatements.contains { s in
            s.contains(expression: { e in
                guard case .name(let n) = e.kind else { return false }
                return n.base == name || n.scripts.contains { $0.raw == name || $0.raw.contains(name) }
            })
        }
    }

    /// Checks one index against the dimension it indexes. A strict variable (loop, `∀`, pattern) must
    /// range over exactly that dimension unless it indexes a parameter (`W_p[:, t]`, t ∈ [ℓ] ≤ ℓ_max);
    /// any other index must provably not exceed it where that is decidable.
    func checkIndex(_ e: Expr, against dim: Dim, base: Binding?, what: String) {
        if case .all = e.kind { return }
        if case .name(let v) = e.kind, let b = lookup(v.spelling), case .indexVariable(let strict) = b.kind,
           case .index(let d) = program.resolve(b.type), strict || program.solver.resolve(d).hasUnknowns {
            types[e.span] = .index(d)
            bindings[e.span] = .value(v.spelling)
            let isParameter = base.map { $0.kind == .parameter } ?? false
            if isParameter && !program.solver.resolve(d).hasUnknowns { rangeCheck(d, dim, e, what: what); return }
            if !program.unify(d, dim) {
                var diag = Diagnostic(.indexDomainMismatch,
                                      "`\(v.spelling)` ranges over [\(show(d))] but indexes \(what), of size `\(show(dim))`",
                                      at: e.span, label: "ranges over [\(show(d))]")
                diag.labels.append(.init(b.origin, "`\(v.spelling)` bound here"))
                diag.notes.append("a loop or `∀` variable must run over exactly the positions it indexes")
                if let loop = loopStack.last(where: { $0.variable.spelling == v.spelling }), case .forLoop(let f) = loop.statement.kind,
                   case .domain(let t) = f.range, case .range(let re) = t.kind, !program.solver.resolve(dim).hasUnknowns {
                    let fixed = printer.dim(program.solver.resolve(dim))
                    if program.verifies(file: file, index: indexInFile, replacing: re.span, with: fixed) {
                        diag.help = "run the loop over [\(fixed)]: `\(lineText(replacing: re.span, with: fixed))`"
                    }
                }
                report(diag)
            }
            return
        }
        let t = check(e)
        switch t {
        case .index(let d): rangeCheck(d, dim, e, what: what)
        case .nat(let d?): rangeCheck(d, dim, e, what: what)
        case .number:
            if case .number(let s) = e.kind, let n = smallInt(s) { rangeCheck(Dim(n), dim, e, what: what) }
        case .nat(nil), .real, .error, .variable: break
        default: report(Diagnostic(.invalidOperand, "an index must be a position, not \(show(t))", at: e.span))
        }
    }

    /// `bound ≤ dim`, decided symbolically when the difference is a constant, or under `--set`.
    func rangeCheck(_ bound: Dim, _ dim: Dim, _ e: Expr, what: String) {
        let b = program.solver.resolve(bound), d = program.solver.resolve(dim)
        if b.hasUnknowns { _ = program.unify(b, d); return }
        if let c = (d - b).constant {
            if c < 0 {
                var diag = Diagnostic(.indexOutOfRange, "index `\(text(e))` reaches `\(show(b))`, beyond \(what), of size `\(show(d))`",
                                      at: e.span, label: "can be `\(show(b))`")
                diag.notes.append("indices are 1-based: the largest valid index is `\(show(d))`")
                report(diag)
            }
            return
        }
        if let x = program.evaluate(b, aliases: aliases), let y = program.evaluate(d, aliases: aliases), x > y {
            var diag = Diagnostic(.concreteValue, "with the `--set` values, index `\(text(e))` reaches \(x), beyond \(what), of size \(y)",
                                  at: e.span, label: "`\(show(b))` = \(x) > `\(show(d))` = \(y)")
            diag.notes.append("symbolically `\(show(b)) ≤ \(show(d))` cannot be decided; the values given to `--set` break it")
            report(diag)
        }
    }

    // MARK: Operators

    func binary(_ op: BinaryOperator, _ a: Expr, _ b: Expr, _ e: Expr) -> SemType {
        switch op {
        case .add, .subtract, .hadamard:
            let x = check(a), y = check(b)
            return elementwise(op, x, y, a, b, e)
        case .multiply, .juxtapose, .times:
            let x = check(a), y = check(b)
            return product(x, y, a, b, e)
        case .divide:
            let x = check(a), y = check(b)
            if x.isError || y.isError { return .error }
            if y.isScalar {
                if case .array = x { return elementwiseResult(x) }
                if x.isScalar { return .real }
                // Section 8 (Adam): a parameter collection divided by a scalar, `m/(1 − β_1^s)`.
                if isCollectionLike(x) { return x }
            }
            if case .array = x, case .array = y { return elementwise(op, x, y, a, b, e) }
            // Element-wise reciprocal: a number divided by each entry, `1/(1 + exp(−X))`.
            if x.isScalar, case .array = y { return elementwiseResult(y) }
            // Section 8 (Adam): member-wise division of two collections of the same structure, `m̂/(√v̂ + ε)`.
            if isCollectionLike(x), isCollectionLike(y) { return elementwise(op, x, y, a, b, e) }
            return invalid("cannot divide \(show(x)) by \(show(y))", e)
        case .equal, .notEqual, .less, .lessEqual, .greater, .greaterEqual, .equivalent:
            check(a); check(b)
            return .bool
        }
    }

    func literal(_ e: Expr) -> Dim? {
        if case .number(let s) = e.kind, let n = smallInt(s) { return Dim(n) }
        return nil
    }

    /// `+`, `−`, `⊙` (and `/` of two arrays): equal shapes; a scalar may be added to an array (`e − m`).
    func elementwise(_ op: BinaryOperator, _ x: SemType, _ y: SemType, _ a: Expr, _ b: Expr, _ e: Expr) -> SemType {
        if x.isError || y.isError { return .error }
        if x.isScalar && y.isScalar {
            let sign: Dim = op == .subtract ? Dim(-1) : Dim(1)
            switch (x, y) {
            case (.nat(let p?), .nat(let q?)) where op != .hadamard: return .nat(p + sign * q)
            case (.index(let p), .nat(let q?)) where op != .hadamard: return .index(p + sign * q)
            case (.nat(let p?), .index(let q)) where op == .add: return .index(p + q)
            case (.index(let p), .number) where op != .hadamard:
                return literal(b).map { .index(p + sign * $0) } ?? .index(p)
            case (.nat(let p?), .number) where op != .hadamard:
                return literal(b).map { .nat(p + sign * $0) } ?? .nat(nil)
            case (.number, .number): return .number
            default: return .real
            }
        }
        if isCollectionLike(x), isCollectionLike(y) {
            if !program.unify(x, y) { return invalid("`\(op.rawValue)` combines two different parameter collections", e) }
            return program.resolve(x)
        }
        // Section 8 (Adam): a scalar combined with every entry of every member, `√v̂ + ε`.
        if isCollectionLike(x), y.isScalar { return x }
        if isCollectionLike(y), x.isScalar { return y }
        if case .array(let r1, let c1, _) = x, case .array(let r2, let c2, _) = y {
            let sameKind = (c1 == nil) == (c2 == nil)
            var ok = sameKind
            if sameKind {
                let rows = program.unify(r1, r2)
                let cols = c1.map { p in program.unify(p, c2!) } ?? true
                ok = rows && cols
            }
            if ok { return .array(rows: r1, cols: c1, element: .real) }
            let verb = op == .add ? "add" : op == .subtract ? "subtract" : "combine element-wise"
            var d = Diagnostic(.elementwiseMismatch,
                               "cannot \(verb) \(show(x)) and \(show(y)): `\(op.rawValue)` needs equal shapes",
                               at: e.span)
            d.labels.append(.init(a.span, show(x)))
            d.labels.append(.init(b.span, show(y)))
            d.labels += provenance(a) + provenance(b)
            if c1 != nil, c2 == nil, program.unify(r1, r2) {
                d.help = "repeat the vector across the columns: `\(text(b)) 𝟏ᵀ`"
            } else if c2 != nil, c1 == nil, program.unify(r1, r2) {
                d.help = "repeat the vector across the columns: `\(text(a)) 𝟏ᵀ`"
            }
            report(d)
            return .error
        }
        if case .array = x, y.isScalar { return elementwiseResult(x) }
        if case .array = y, x.isScalar { return elementwiseResult(y) }
        if case .variable = x { return .error }
        if case .variable = y { return .error }
        return invalid("`\(op.rawValue)` cannot combine \(show(x)) and \(show(y))", e)
    }

    /// Where a name operand got its shape: its declaration or its last whole assignment.
    func provenance(_ e: Expr) -> [Diagnostic.Label] {
        if case .transpose(let inner) = e.kind { return provenance(inner) }   // `Kᵀ`: where K got its shape
        guard case .name(let n) = e.kind, let b = lookup(n.spelling), b.origin.file == file.source.path else { return [] }
        if case .indexVariable = b.kind { return [] }
        let how = b.kind == .local ? "gets its shape here" : "declared here"
        return [.init(b.origin, "`\(n.spelling)` \(how)")]
    }

    /// Products by juxtaposition or `·`: scalar × anything, matrix × matrix/vector, vector × row (outer).
    func product(_ x: SemType, _ y: SemType, _ a: Expr, _ b: Expr, _ e: Expr) -> SemType {
        if x.isError || y.isError { return .error }
        // A scalar times a not yet solved collection (`0 · θ` before θ's first use) has its type.
        if x.isScalar, case .variable = y { return y }
        if y.isScalar, case .variable = x { return x }
        if case .variable = x { return .error }
        if case .variable = y { return .error }
        if x.isScalar && y.isScalar {
            if case .nat(let p?) = x, case .nat(let q?) = y { return .nat(p * q) }
            return .real
        }
        if x.isScalar { if case .array = y { return elementwiseResult(y) }; if case .collection = y { return y } }
        if y.isScalar { if case .array = x { return elementwiseResult(x) }; if case .collection = x { return x } }
        guard case .array(let r1, let c1, _) = x, case .array(let r2, let c2, _) = y else {
            return invalid("cannot multiply \(show(x)) by \(show(y))", e)
        }
        let inner1 = c1 ?? .one
        if !program.unify(inner1, r2) {
            let what1 = c1 == nil ? "`\(text(a))` is a column vector (1 column)" : "the columns of `\(text(a))` (`\(show(inner1))`)"
            var d = Diagnostic(.productMismatch,
                               "cannot multiply `\(text(a))` ∈ \(show(x)) by `\(text(b))` ∈ \(show(y)): \(what1) must equal the rows of `\(text(b))` (`\(show(r2))`)",
                               at: e.span)
            d.labels.append(.init(a.span, show(x)))
            d.labels.append(.init(b.span, show(y)))
            d.labels += provenance(a) + provenance(b)
            if let fix = productFix(a, b, e, rows: (r1, r2), cols: (c1, c2)) {
                d.help = fix
            } else if c1 != nil, case .name(let an) = a.kind, let span = declaredDimSpan(an.spelling, 1),
                      !program.solver.resolve(r2).hasUnknowns {
                // A1: the left factor's declaration has the wrong number of columns.
                let fixed = printer.dim(program.solver.resolve(r2))
                if program.verifies(file: file, index: indexInFile, replacing: span, with: fixed) {
                    d.help = "declare `\(an.spelling) ∈ \(show(.array(rows: r1, cols: r2, element: .real)))`; with it `\(name)` checks"
                }
            }
            report(d)
            return .error
        }
        let rows = r1, cols = c2
        if program.solver.resolve(rows) == .one {
            if cols == nil || program.solver.resolve(cols!) == .one { return .real }
            return .array(rows: .one, cols: cols, element: .real)
        }
        return .array(rows: rows, cols: cols, element: .real)
    }

    /// A fix for a product whose factors do not fit: transpose one factor (or drop its `ᵀ`), or swap
    /// them. Offered only when the product then fits **and** the whole algorithm checks with it, so a
    /// fix never contradicts a declared output (`X W_q` for `W_q X` is told to swap, not to become
    /// `Xᵀ W_q`).
    func productFix(_ a: Expr, _ b: Expr, _ e: Expr, rows: (Dim, Dim), cols: (Dim?, Dim?)) -> String? {
        let same = { (x: Dim?, y: Dim?) in self.program.solver.resolve(x ?? .one) == self.program.solver.resolve(y ?? .one) }
        func flipped(_ f: Expr) -> (Expr, String) {
            if case .transpose(let inner) = f.kind { return (inner, "drop the `ᵀ` of") }
            return (Expr(.transpose(f), f.span), "transpose")
        }
        let op: BinaryOperator
        if case .binary(let o, _, _) = e.kind { op = o } else { op = .juxtapose }
        let (fa, sayA) = flipped(a), (fb, sayB) = flipped(b)
        let candidates: [(fits: Bool, Expr, String)] = [
            (same(rows.0, rows.1), Expr(.binary(op, fa, b), e.span), "\(sayA) the left factor"),
            (cols.0 != nil && cols.1 != nil && same(cols.0, cols.1), Expr(.binary(op, a, fb), e.span), "\(sayB) the right factor"),
            (cols.1 != nil && same(cols.1, rows.0), Expr(.binary(op, b, a), e.span), "swap the factors"),
        ]
        for (fits, fixed, say) in candidates where fits {
            let written = text(fixed)
            if program.verifies(file: file, index: indexInFile, replacing: e.span, with: written) {
                return "\(say): `\(written)`; with it `\(name)` checks"
            }
        }
        return nil
    }

    /// The span of dimension `i` in the header declaration of `name` (`d_e` in `W_u ∈ ℝ^{N_V×d_e}`).
    func declaredDimSpan(_ name: String, _ i: Int) -> Span? {
        func inLine(_ dl: DeclarationLine) -> Span? {
            for d in dl.declarations where d.names.contains(where: { if case .name(let n) = $0.kind { return n.spelling == name } else { return false } }) {
                if let t = d.type, case .power(_, let dims, _) = t.kind, i < dims.count { return dims[i].span }
            }
            return nil
        }
        for item in algorithm.header {
            guard case .line(let l) = item else { continue }
            switch l.content {
            case .declarations(let dl): if let s = inLine(dl) { return s }
            case .collection(let c):
                for m in c.members {
                    switch m {
                    case .declarations(let dl): if let s = inLine(dl) { return s }
                    case .group(let g): for dl in g.members { if let s = inLine(dl) { return s } }
                    case .comment: break
                    }
                }
            }
        }
        return nil
    }

    func wrapped(_ e: Expr) -> String {
        if case .name = e.kind { return text(e) }
        return "(\(text(e)))"
    }

    func unary(_ op: UnaryOperator, _ a: Expr, _ e: Expr) -> SemType {
        switch op {
        case .negate:
            let t = check(a)
            return t.isScalar ? (t == .number ? .number : .real) : elementwiseResult(t)
        case .sqrt:
            return elementwiseResult(check(a))
        case .not:
            check(a)
            return .bool
        case .gradient:
            // ∇f(θ): the gradient of a scalar function of a parameter collection has θ's type.
            guard case .call(let c) = a.kind, let b = lookup(c.callee.spelling), b.kind == .function,
                  case .function(let arg, let result) = program.resolve(b.type) else {
                check(a)
                return invalid("`∇` applies to a scalar function of parameters, `∇f(θ)`, where `f(θ)` is defined before", e)
            }
            check(a)
            if !result.isScalar && !result.isError {
                return invalid("`∇\(c.callee.spelling)` needs a scalar function, but `\(c.callee.spelling)(…)` is \(show(result))", e)
            }
            return arg
        }
    }

    // MARK: Σ

    func sum(_ s: Sum, _ e: Expr) -> SemType {
        push()
        defer { pop() }
        if let lower = s.lower {
            switch lower.value.kind {
            case .binary(.equal, let v, let from):
                guard case .name(let n) = v.kind else { return invalid("`Σ_{i=1}^{N}` binds a name", e) }
                noteBindings(from)
                var t: SemType = .error
                if let up = s.upper, let d = dimOf(up.value, allowFree: false) { t = .index(d) }
                else if s.upper == nil { t = .index(program.solver.fresh()) }
                define(n.spelling, Binding(type: t, origin: n.span, kind: .indexVariable(strict: false), loopDepth: loopDepth))
            case .name(let n):
                define(n.spelling, Binding(type: .index(program.solver.fresh()), origin: n.span,
                                           kind: .indexVariable(strict: true), loopDepth: loopDepth))
            case .membership(let v, let set):
                guard case .name(let n) = v.kind else { return invalid("`Σ_{t∈T}` binds a name", e) }
                let t = convertType(set, allowFree: false) ?? .error
                define(n.spelling, Binding(type: t, origin: n.span, kind: .indexVariable(strict: false), loopDepth: loopDepth))
            default:
                return invalid("a sum is written `Σ_{i=1}^{N}`, `Σ_u` or `Σ_{t∈T}`", e)
            }
        }
        let t = check(s.body)
        if t.isScalar { return .real }
        return t
    }

    // MARK: Indexing

    func index(_ baseExpr: Expr, _ indices: [Expr], _ e: Expr) -> SemType {
        let t = check(baseExpr)
        var baseBinding: Binding? = nil
        if case .name(let n) = baseExpr.kind { baseBinding = lookup(n.spelling) }
        let name = "`\(text(baseExpr))`"
        switch t {
        case .error:
            return .error
        case .array(let r, let c, let k):
            let scalar: SemType = k == .real ? .real : (k == .bit ? .number : .real)
            if let c {
                guard indices.count == 2 else { return invalid("\(name) is a matrix: index it `[i, j]`", e) }
                checkIndex(indices[0], against: r, base: baseBinding, what: "the rows of \(name)")
                checkIndex(indices[1], against: c, base: baseBinding, what: "the columns of \(name)")
                switch (isAll(indices[0]), isAll(indices[1])) {
                case (true, true): return t
                case (true, false): return .array(rows: r, cols: nil, element: k)
                case (false, true): return .array(rows: .one, cols: c, element: k)
                case (false, false): return scalar
                }
            }
            guard indices.count == 1 else { return invalid("\(name) is a vector: index it `[i]`", e) }
            checkIndex(indices[0], against: r, base: baseBinding, what: "\(name)")
            return isAll(indices[0]) ? t : scalar
        case .sequence(let el, let len):
            guard indices.count == 1 else { return invalid("\(name) is a sequence: index it `[t]`", e) }
            if case .slice(let lo, let hi) = indices[0].kind {
                let l = lo.flatMap { x -> Dim? in checkIndex(x, against: len ?? program.solver.fresh(), base: baseBinding, what: name); return valueDim(x) } ?? .one
                let h = hi.flatMap { x -> Dim? in checkIndex(x, against: len ?? program.solver.fresh(), base: baseBinding, what: name); return valueDim(x) }
                return .sequence(element: el, length: h.map { $0 - l + .one })
            }
            if let len { checkIndex(indices[0], against: len, base: baseBinding, what: name) } else { check(indices[0]) }
            return el
        case .variable:
            indices.forEach { if case .all = $0.kind {} else { check($0) } }
            return .error
        default:
            indices.forEach { if case .all = $0.kind {} else { check($0) } }
            return invalid("\(name) is \(show(t)) and cannot be indexed", e)
        }
    }

    func isAll(_ e: Expr) -> Bool { if case .all = e.kind { return true } else { return false } }

    /// The value of an index expression as a dimension (`ℓ`, `ℓ + 1`, `3`), for slices and stacking.
    func valueDim(_ e: Expr) -> Dim? {
        switch e.kind {
        case .number(let s): return smallInt(s).map { Dim($0) }
        case .name(let n):
            if let b = lookup(n.spelling) {
                switch program.resolve(b.type) {
                case .nat(let v): return v ?? .named(n.spelling)
                case .index: return .named(n.spelling)
                default: return nil
                }
            }
            return dimNames.contains(n.spelling) ? .named(n.spelling) : nil
        case .binary(let op, let a, let b):
            guard let x = valueDim(a), let y = valueDim(b) else { return nil }
            switch op {
            case .add: return x + y
            case .subtract: return x - y
            case .juxtapose, .multiply: return x * y
            default: return nil
            }
        default: return nil
        }
    }

    // MARK: Stacking and append

    /// `[e_1, e_2, . . . e_ℓ]` side by side, `[Y^1; …; Y^H]` on top of each other, `[x, y]` append.
    func list(_ items: [Expr], _ sep: ListSeparator, _ e: Expr) -> SemType {
        let real = items.filter { if case .ellipsis = $0.kind { return false } else { return true } }
        let hasEllipsis = real.count != items.count
        guard !real.isEmpty else { return invalid("an empty list", e) }
        let ts = real.map { check($0) }
        if ts.contains(where: \.isError) { return .error }
        // Append: sequences and tokens.
        if sep == .comma, ts.contains(where: { if case .sequence = $0 { return true } else { return $0.isScalar } }) {
            var length: Dim? = .zero
            var element: SemType? = nil
            for (t, x) in zip(ts, real) {
                switch t {
                case .sequence(let el, let l):
                    length = length.flatMap { a in l.map { a + $0 } }
                    element = element ?? el
                default:
                    guard t.isScalar else { return invalid("cannot append \(show(t)) to a sequence", x) }
                    length = length.map { $0 + .one }
                    if element == nil, case .index = t { element = t }
                }
            }
            return .sequence(element: element ?? .index(.named("N_V")), length: length)
        }
        // Stacking blocks: every block has the first block's shape.
        guard case .array(let r0, let c0, _) = ts[0] else { return invalid("cannot stack \(show(ts[0]))", real[0]) }
        for (t, x) in zip(ts.dropFirst(), real.dropFirst()) where !program.unify(t, ts[0]) {
            var d = Diagnostic(.stackMismatch, "stacked blocks differ: `\(text(real[0]))` is \(show(ts[0])) but `\(text(x))` is \(show(t))", at: x.span,
                               label: show(t))
            d.labels.append(.init(real[0].span, show(ts[0])))
            report(d)
            return .error
        }
        var count = Dim(real.count)
        if hasEllipsis {
            guard let first = familyIndexValue(real.first!), let last = familyIndexValue(real.last!) else {
                return invalid("`. . .` stacks family members `e_1, …, e_N` whose indices are numbers or dimensions", e)
            }
            count = last - first + .one
            if let c = program.solver.resolve(count).constant, c <= 0 {
                report(Diagnostic(.stackMismatch, "the list runs from index `\(show(first))` down to `\(show(last))`: it stacks nothing", at: e.span))
                return .error
            }
        }
        switch sep {
        case .comma:
            if c0 == nil { return .array(rows: r0, cols: count, element: .real) }
            return .array(rows: r0, cols: count * c0!, element: .real)
        case .semicolon:
            return .array(rows: count * r0, cols: c0, element: .real)
        }
    }

    /// The index of a family member written in a list (`e_1` → 1, `e_ℓ` → ℓ, `Y^H` → H).
    func familyIndexValue(_ e: Expr) -> Dim? {
        guard case .name(let n) = e.kind, let s = n.scripts.last else { return nil }
        return valueDim(s.value)
    }
}
