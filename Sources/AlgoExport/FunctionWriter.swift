import AlgoDiagnostics
import AlgoSema
import AlgoSyntax

/// Writes one checked algorithm as a Python function (and, for a training algorithm, its loss and
/// step functions): the header (hyperparameters as keyword arguments, dimensions bound from the
/// shapes of inputs and parameters, the proven shapes asserted), then the body statement by statement.
final class FunctionWriter {
    let algorithm: CheckedAlgorithm
    let context: ModuleContext
    let source: SourceFile?
    var names = PythonNames()
    var diagnostics: [Diagnostic] = []

    /// The finished Python text of each function, and their names.
    var chunks: [String] = []
    var functionNames: [String] = []
    var signature: PySignature

    // State of the function being written.
    var lines: [String] = []
    var indent = 1
    /// Python names with a value at this point (inputs, keywords, assigned locals).
    var known: Set<String> = []
    /// Natural-number variables that may appear in a checkpoint name (`l` of `γ^1_l`): Python loop variables.
    var scopeNats: [String: String] = [:]
    /// Spellings of the loop variables in scope (a target scripted with one is a family element).
    var loopVariables: Set<String> = []
    /// A dimension's name → the Python expression of its value.
    var dimExprs: [String: String] = [:]
    /// Dimensions equal to a local (`ℓ ← length(x)`).
    var dimAliases: [(Dim, String)] = []
    /// Keyword arguments: declared, and those a callee or the body needed (`requireKeywords`).
    var keywords: [PySignature.Keyword] = []
    /// Whether a name the body reads but nothing bound may become a keyword argument (the step
    /// and loss functions of a training loop take the enclosing algorithm's hyperparameters).
    var requireKeywords = false
    /// Families held as arrays with the index as the last axis (built by an independent loop), with
    /// the Python expression of their size; other families are dicts keyed 1…n.
    var arrayFamilies: [String: String] = [:]
    var familyNames: [String: String] = [:]
    var initialisedFamilies: Set<String> = []
    var headerEnd = 0
    /// Local functions of θ (`P`, `loss`) by spelling.
    var functions: [String: String] = [:]
    /// Parameters that are masks (called as functions of their 1-based indices).
    var masks: Set<String> = []
    /// The paper's line number of the statement being written, and its text for the first line.
    var lineTag = ""
    var pendingQuote: String? = nil
    var usesKey = false
    /// In a training step: the dataset element of the iteration (family key, loop variable, Python parameter).
    var elements: [(family: String, variable: String, py: String)] = []
    /// In a training step over a minibatch: its sum's variable (`n`) and, per family it indexes, the
    /// Python list of the batch's sequences the step takes (`xs`).
    var batch: (variable: String, lists: [(family: String, element: String, py: String)])? = nil
    /// In a training step: the enclosing algorithm's hyperparameters, which it may take as keywords.
    var outerHyperparameters: Set<String> = []

    init(_ a: CheckedAlgorithm, context: ModuleContext) {
        algorithm = a
        self.context = context
        source = context.sources[a.file]
        signature = PySignature(name: PythonNames.ascii(a.syntax.title.signature?.name.spelling ?? "algorithm"))
    }

    var paperName: String { algorithm.syntax.title.signature?.name.spelling ?? "algorithm" }

    // MARK: Output

    func emit(_ code: String) {
        var line = String(repeating: "    ", count: indent) + code
        if let q = pendingQuote {
            line += "  # \(q)"
            pendingQuote = nil
        } else if !lineTag.isEmpty {
            line += "  # \(lineTag)"
        }
        lines.append(line)
    }

    /// Starts the lines of statement `s`: its number tags every line, the first quotes the paper's line.
    func begin(_ s: Statement) {
        guard let n = s.lineNumber else { return }
        lineTag = n
        pendingQuote = quote(s.span, number: n)
    }

    /// `6: X ← X + MHAttention(…)`: the source line of `span` (from its number on).
    func quote(_ span: Span, number: String) -> String {
        guard let src = source else { return number }
        let (line, _) = src.location(of: span.start)
        var text = src.lineText(line).trimmingCharacters(in: .whitespaces)
        if text.hasPrefix(number) { text = String(text.dropFirst(number.count)).trimmingCharacters(in: .whitespaces) }
        return "\(number): \(text)"
    }

    func refuse(_ code: DiagnosticCode = .notExportable, _ message: String, at span: Span) {
        if diagnostics.contains(where: { $0.span == span && $0.code == code }) { return }
        diagnostics.append(Diagnostic(code, message, at: span))
    }

    // MARK: The function

    func write() {
        guard let sig = algorithm.syntax.title.signature else {
            refuse(.notExportable, "an algorithm without a signature (`Algorithm N: y ← Name(x | θ)`) cannot be called, so it is not exported", at: algorithm.syntax.title.span)
            return
        }
        readSignature(sig)
        lines = []
        indent = 1
        lineTag = "header"
        writeHeader()
        headerEnd = lines.count
        writeBlock(algorithm.syntax.body)
        // Callers pass what the body needed too (DTraining's L, H, … for DTransformer; a key to sample).
        signature.keywords = keywords + (usesKey ? [.init(spelling: "key", py: "key", isDimension: false)] : [])
        finish(name: signature.name, doc: docLine())
    }

    func docLine() -> String {
        let t = algorithm.syntax.title
        var s = "Algorithm \(t.number): " + (source.map { $0.slice(t.span) }.map { String($0.drop { $0 != ":" }.dropFirst()).trimmingCharacters(in: .whitespaces) } ?? paperName)
        if let c = algorithm.syntax.header.compactMap({ h -> String? in if case .comment(let c) = h { return c.text } else { return nil } }).first {
            s += " — " + c.trimmingCharacters(in: .whitespaces)
        }
        return s
    }

    /// Assembles `def name(inputs, *, params, keywords):` with the lines written.
    func finish(name: String, doc: String, inputs overrideInputs: [String]? = nil, params overrideParams: [String]? = nil) {
        var parts: [String] = overrideInputs ?? signature.inputs.map { $0.hasDefault ? "\($0.py)=None" : $0.py }
        let kw = (overrideParams ?? signature.params.map(\.py)) + keywords.map(\.py) + (usesKey ? ["key"] : [])
        if !kw.isEmpty { parts.append("*"); parts += kw }
        var text = "def \(name)(\(parts.joined(separator: ", "))):\n"
        text += "    \"\"\"\(PyText.escape(doc))\"\"\"\n"
        text += lines.joined(separator: "\n")
        chunks.append(text)
        functionNames.append(name)
    }

    // MARK: Header

    /// Inputs (positional, a default as `None`), parameters after `|` and hyperparameters (keyword-only).
    func readSignature(_ sig: Signature) {
        signature.inputs = []
        signature.params = []
        for p in sig.inputs {
            guard let (spelling, family) = declarator(p.name) else { refuse(.notExportable, "this input cannot be a Python argument", at: p.span); continue }
            let py = family.map { familyName($0) } ?? names.name(spelling)
            signature.inputs.append(.init(spelling: spelling, py: py, hasDefault: p.defaultValue != nil))
            known.insert(py)
        }
        for p in sig.parameters {
            guard let (spelling, _) = declarator(p.name) else { refuse(.notExportable, "this parameter cannot be a Python argument", at: p.span); continue }
            let py = names.name(spelling)
            let mask = isMaskDeclaration(spelling)
            if mask { masks.insert(spelling) }
            signature.params.append(.init(spelling: spelling, py: py, isMask: mask))
            known.insert(py)
        }
        for d in declarations(.hyperparameters) {
            for ne in d.names {
                guard case .name(let n) = ne.kind else { continue }
                if signature.params.contains(where: { $0.spelling == n.spelling }) || signature.inputs.contains(where: { $0.spelling == n.spelling }) { continue }
                addKeyword(n.spelling, isDimension: isNaturalType(d.type))
            }
        }
        signature.keywords = keywords
    }

    func addKeyword(_ spelling: String, isDimension: Bool) {
        let py = names.name(spelling)
        guard !keywords.contains(where: { $0.py == py }) else { return }
        keywords.append(.init(spelling: spelling, py: py, isDimension: isDimension))
        known.insert(py)
        if isDimension { dimExprs[spelling] = py }
    }

    func isNaturalType(_ t: TypeExpr?) -> Bool {
        guard let t else { return true }   // `H, number of attention heads`
        if case .naturals = t.kind { return true }
        return false
    }

    /// Whether `spelling` is declared as a {0,1} matrix (a mask: called with its indices).
    func isMaskDeclaration(_ spelling: String) -> Bool {
        for d in declarations(.hyperparameters) + declarations(.parameters) {
            guard d.names.contains(where: { if case .name(let n) = $0.kind { n.spelling == spelling } else { false } }),
                  let t = d.type, case .power(let base, _, _) = t.kind, case .finiteSet = base.kind else { continue }
            return true
        }
        return false
    }

    /// The name a declarator introduces and, for a family (`x_{1:N_data}`, `{x_n}_{n=1}^{N}`), its key.
    func declarator(_ e: Expr) -> (String, String?)? {
        switch e.kind {
        case .name(let n):
            if let k = n.scripts.firstIndex(where: { $0.raw.contains(":") }) {
                return (n.spelling, NameBinding.familyKey(n.base, n.scripts, index: k))
            }
            return (n.spelling, nil)
        case .scripted(let inner, _):
            if case .set(let items) = inner.kind, let first = items.first, case .name(let n) = first.kind, !n.scripts.isEmpty {
                return (n.spelling, NameBinding.familyKey(n.base, n.scripts, index: n.scripts.count - 1))
            }
            return nil
        default: return nil
        }
    }

    func familyName(_ key: String) -> String {
        if let f = familyNames[key] { return f }
        let plain = key.replacingOccurrences(of: "_•", with: "").replacingOccurrences(of: "^•", with: "")
        // `Y^h` and `Y ← [Y^1; …; Y^H]` in one algorithm: the family is `Ys`.
        let clash = assignedNames(algorithm.syntax.body).contains(plain)
        let py = names.name(clash ? plain + "s" : plain)
        familyNames[key] = py
        return py
    }

    /// Every declaration of the header lines of `kind`, collections' members (not groups') included.
    func declarations(_ kind: HeaderKind) -> [Declaration] {
        var out: [Declaration] = []
        for case .line(let l) in algorithm.syntax.header where l.kind == kind {
            switch l.content {
            case .declarations(let d): out += d.declarations
            case .collection(let c):
                for case .declarations(let d) in c.members { out += d.declarations }
            }
        }
        return out
    }

    /// Binds every dimension the inputs' and parameters' shapes fix, then asserts those shapes.
    func writeHeader() {
        for i in signature.inputs where i.hasDefault {
            if let p = algorithm.syntax.title.signature?.inputs.first(where: { declarator($0.name)?.0 == i.spelling }), let d = p.defaultValue {
                lineTag = "Input"
                let v = expr(d)
                emit("if \(i.py) is None:")
                indent += 1; emit("\(i.py) = \(v.text)"); indent -= 1
            }
        }
        // Families given as inputs (`x_{1:N_data}`): a dict keyed 1…N; N is their size.
        for p in algorithm.syntax.title.signature?.inputs ?? [] {
            guard case .name(let n) = p.name.kind, let k = n.scripts.firstIndex(where: { $0.raw.contains(":") }),
                  let py = familyNames[NameBinding.familyKey(n.base, n.scripts, index: k)] else { continue }
            lineTag = "Input"
            emit("\(py) = _family(\(py))")
            if case .slice(_, let hi?) = n.scripts[k].value.kind, case .name(let dn) = hi.kind, dimExprs[dn.spelling] == nil {
                let dpy = names.name(dn.spelling)
                emit("\(dpy) = len(\(py))")
                known.insert(dpy)
                dimExprs[dn.spelling] = dpy
            }
        }
        var checks: [(value: String, dims: [Expr], label: String)] = []
        var groupChecks: [(group: CollectionGroup, collection: String, decl: Declaration, name: Name, label: String)] = []
        for case .line(let l) in algorithm.syntax.header where l.kind == .input || l.kind == .parameters {
            let label = l.kind.rawValue
            func visit(_ d: Declaration, collection: String?) {
                for ne in d.names {
                    guard let (spelling, family) = declarator(ne) else { continue }
                    if family != nil { continue }
                    guard let t = d.type else { continue }
                    let value: String
                    if let c = collection, case .name(let n) = ne.kind { value = "\(names.name(c))[\(keyLiteral(n))]" } else { value = names.name(spelling) }
                    switch t.kind {
                    case .sequences:
                        if collection == nil { lineTag = label; emit("\(value) = jnp.asarray(\(value))") }
                    case .power(_, let dims, _):
                        if masks.contains(spelling) { continue }
                        checks.append((value, dims, label))
                    default: break
                    }
                }
            }
            switch l.content {
            case .declarations(let d): d.declarations.forEach { visit($0, collection: nil) }
            case .collection(let c):
                for m in c.members {
                    switch m {
                    case .declarations(let d): d.declarations.forEach { visit($0, collection: c.name.spelling) }
                    case .group(let g):
                        for d in g.members.flatMap(\.declarations) {
                            for case .name(let n) in d.names.map(\.kind) { groupChecks.append((g, c.name.spelling, d, n, label)) }
                        }
                    case .comment: break
                    }
                }
            }
        }
        // Dimensions from shapes: plain names first, then the first member of each group.
        for c in checks { bindDims(c.value, c.dims, c.label) }
        for g in groupChecks {
            guard let t = g.decl.type, case .power(_, let dims, _) = t.kind else { continue }
            let key = PythonNames.keyText(g.name) { $0 == g.group.variable.spelling ? "1" : nil }
            bindDims("\(names.name(g.collection))[\"\(PyText.escape(key))\"]", dims, g.label)
        }
        for c in checks { assertShape(c.value, dims: c.dims.map(dimOfExpr), label: c.label) }
        // Group members: every copy, in a loop over the group's index.
        var byGroup: [String: [(CollectionGroup, String, Declaration, Name, String)]] = [:]
        var order: [String] = []
        for g in groupChecks {
            let k = g.collection + "|" + g.group.variable.spelling + "|" + ExprPrinter.print(g.group.domain)
            if byGroup[k] == nil { order.append(k) }
            byGroup[k, default: []].append(g)
        }
        for k in order {
            guard let items = byGroup[k], let first = items.first, case .range(let bound) = first.0.domain.kind, let n = dimOfExpr(bound).flatMap(dimPy) else { continue }
            let asserts = items.compactMap { (g, c, d, name, _) -> String? in
                guard let t = d.type, case .power(_, let dims, _) = t.kind else { return nil }
                let shape = dims.map { dimOfExpr($0).flatMap(dimPy) }
                guard shape.allSatisfy({ $0 != nil }) else { return nil }
                return "\(names.name(c))[\(keyLiteral(name, extra: [g.variable.spelling: "_g"]))].shape == \(tuple(shape.compactMap { $0 }))"
            }
            guard !asserts.isEmpty else { continue }
            lineTag = first.4
            emit("for _g in range(1, \(n) + 1):")
            indent += 1
            for a in asserts { emit("assert \(a)") }
            indent -= 1
        }
        lineTag = ""
    }

    func bindDims(_ value: String, _ dims: [Expr], _ label: String) {
        for (k, d) in dims.enumerated() {
            guard case .name(let dn) = d.kind, dimExprs[dn.spelling] == nil else { continue }
            let py = names.name(dn.spelling)
            lineTag = label
            emit("\(py) = \(value).shape[\(k)]")
            known.insert(py)
            dimExprs[dn.spelling] = py
        }
    }

    func tuple(_ items: [String]) -> String { items.count == 1 ? "(\(items[0]),)" : "(" + items.joined(separator: ", ") + ")" }

    /// `assert value.shape == (…)` when every dimension has a Python value here.
    func assertShape(_ value: String, dims: [Dim?], label: String? = nil) {
        let shape = dims.map { $0.flatMap(dimPy) }
        guard !shape.isEmpty, shape.allSatisfy({ $0 != nil }) else { return }
        if let label { lineTag = label }
        emit("assert \(value).shape == \(tuple(shape.compactMap { $0 })), \(value).shape")
    }

    func assertShape(_ value: String, type: SemType?) {
        guard case .array(let r, let c, _)? = type else { return }
        assertShape(value, dims: [r] + (c.map { [$0] } ?? []))
    }

    // MARK: Dimensions

    /// A dimension expression of a declaration (`d_e`, `H d_mid`) as a `Dim`.
    func dimOfExpr(_ e: Expr) -> Dim? {
        switch e.kind {
        case .name(let n): return .named(n.spelling)
        case .number(let s): return Int(s).map { Dim($0) }
        case .binary(let op, let a, let b):
            guard let x = dimOfExpr(a), let y = dimOfExpr(b) else { return nil }
            switch op {
            case .juxtapose, .multiply, .times: return x * y
            case .add: return x + y
            case .subtract: return x - y
            default: return nil
            }
        default: return nil
        }
    }

    /// The Python value of a dimension here, or nil when one of its variables has none.
    func dimPy(_ d: Dim) -> String? {
        if let c = d.constant { return String(c) }
        if let a = dimAliases.first(where: { $0.0 == d }) { return a.1 }
        var terms: [String] = []
        for (m, coef) in d.terms {
            var factors: [String] = []
            for (v, p) in m.factors {
                guard let x = dimVarPy(v) else { return nil }
                factors.append(p == 1 ? x : "\(x) ** \(p)")
            }
            let body = factors.joined(separator: " * ")
            let magnitude = abs(coef)
            let t = factors.isEmpty ? String(magnitude) : (magnitude == 1 ? body : "\(magnitude) * \(body)")
            if terms.isEmpty { terms.append(coef < 0 ? "-" + t : t) } else { terms.append((coef < 0 ? "- " : "+ ") + t) }
        }
        return terms.isEmpty ? "0" : terms.joined(separator: " ")
    }

    func dimVarPy(_ v: DimVar) -> String? {
        guard case .named(let n) = v else { return nil }
        if let a = dimAliases.first(where: { $0.0 == Dim(v) }) { return a.1 }
        if let p = dimExprs[n] { return p }
        if n.hasPrefix("length("), n.hasSuffix(")") {
            let inner = String(n.dropFirst("length(".count).dropLast())
            let py = PythonNames.ascii(inner)
            if known.contains(py) { return "len(\(py))" }
        }
        return nil
    }

    /// The Python value of a callee's dimension in this function; a keyword argument of its own
    /// name when nothing here gives it (DTraining passes DTransformer's L, H, … through).
    func dimArgument(_ d: Dim?, calleeName: String) -> String {
        if let d, let p = dimPy(d) { return p }
        if let d, d.variables.count == 1, case .named(let n)? = d.variables.first, d == Dim.named(n) {
            addKeyword(n, isDimension: true); return dimExprs[n] ?? names.name(n)
        }
        addKeyword(calleeName, isDimension: true)
        return dimExprs[calleeName] ?? names.name(calleeName)
    }
}

extension PythonNames {
    /// The checkpoint-name text of `n` with the scripts `substitute` maps replaced (`γ^1_l` → `γ^1_1`).
    static func keyText(_ n: Name, substitute: (String) -> String?) -> String {
        n.base + n.scripts.map { s in substitute(s.raw).map { s.position.rawValue + $0 } ?? ExprPrinter.print(s) }.joined()
    }
}
