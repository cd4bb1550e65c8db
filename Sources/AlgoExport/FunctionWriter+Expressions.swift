import AlgoDiagnostics
import AlgoSema
import AlgoSyntax

/// A Python expression and how tightly it binds (to parenthesise operands only where needed).
struct Py {
    var text: String
    /// 9 atom or call, 7 `**`, 6 unary minus, 5 `* / @`, 4 `+ -`, 3 comparison.
    var precedence: Int
    static func atom(_ s: String) -> Py { Py(text: s, precedence: 9) }
    func at(_ p: Int) -> String { precedence >= p ? text : "(\(text))" }
}

extension FunctionWriter {
    func expr(_ e: Expr, leaves: [Span: String] = [:]) -> Py {
        if let leaf = leaves[e.span] { return .atom(leaf) }
        if leaves.isEmpty, case .collection? = algorithm.types[e.span], isArithmetic(e) { return treeMap(e) }
        func sub(_ x: Expr) -> Py { expr(x, leaves: leaves) }
        switch e.kind {
        case .name(let n): return name(n, e.span)
        case .number(let s):
            if Int(s) != nil || Double(s) != nil { return .atom(s) }
            refuse(.notExportable, "the number `\(s)` has no Python spelling", at: e.span); return .atom("0")
        case .infinity: return .atom("jnp.inf")
        case .tuple(let items) where items.count == 1: return sub(items[0])
        case .unary(.negate, let a): return Py(text: "-" + sub(a).at(6), precedence: 6)
        case .unary(.sqrt, let a): return .atom("jnp.sqrt(\(sub(a).text))")
        case .unary(.not, let a): return Py(text: "\(sub(a).at(4)) == 0", precedence: 3)
        case .unary(.gradient, let a): return gradient(a, e)
        case .transpose(let inner):
            if case .ones = inner.kind { refuse(.notExportable, "`𝟏ᵀ` is exported only as the right factor of a product (`b 𝟏ᵀ`)", at: e.span); return .atom("1") }
            if case .array(_, nil, _)? = algorithm.types[inner.span] { return .atom(sub(inner).at(9) + "[None, :]") }
            return .atom(sub(inner).at(9) + ".T")
        case .binary(let op, let a, let b): return binary(op, a, b, e, leaves)
        case .scripted(let inner, let scripts):
            var v = sub(inner)
            for s in scripts {
                guard s.position == .sup else { refuse(.notExportable, "a subscript on an expression is not exported", at: s.span); continue }
                v = Py(text: v.at(8) + " ** " + sub(s.value).at(7), precedence: 7)
            }
            return v
        case .sum(let s): return sum(s, e, leaves)
        case .call(let c): return call(c, e, leaves)
        case .index(let base, let idx):
            if case .name(let n) = base.kind, masks.contains(n.spelling) {
                return .atom("\(names.name(n.spelling))(\(idx.map { sub($0).text }.joined(separator: ", ")))")
            }
            return .atom(sub(base).at(9) + "[\(indices(idx, on: base, leaves))]")
        case .list(let items, let sep): return list(items, sep, e, leaves)
        case .iverson(let c): return .atom("jnp.where(\(sub(c).text), 1.0, 0.0)")
        case .ones:
            refuse(.notExportable, "`𝟏` is exported only as the right factor of a product", at: e.span); return .atom("1")
        case .text, .all, .ellipsis, .slice, .tuple, .set, .setBuilder, .membership, .randomChoice, .missing:
            refuse(.notExportable, "`\(ExprPrinter.print(e))` is not exported yet", at: e.span)
            return .atom("None")
        }
    }

    func isArithmetic(_ e: Expr) -> Bool {
        switch e.kind {
        case .binary, .scripted: return true
        case .unary(let op, _): return op == .negate || op == .sqrt
        default: return false
        }
    }

    // MARK: Names

    func name(_ n: Name, _ span: Span) -> Py {
        guard let binding = algorithm.bindings[span] else {
            if let f = functions[n.spelling] { return .atom(f) }
            refuse(.notExportable, "the name `\(n.spelling)` was not resolved by the checker", at: span)
            return .atom("None")
        }
        return value(of: binding, n, span)
    }

    func value(of binding: NameBinding, _ n: Name, _ span: Span) -> Py {
        switch binding {
        case .value(let spelling):
            let py = names.name(spelling)
            if !known.contains(py) {
                if requireKeywords, outerHyperparameters.contains(spelling) { addKeyword(spelling, isDimension: false) }
                else if requireKeywords, functions[spelling] == nil {
                    refuse(.exportGradient, "the training step reads `\(spelling)`, which the loop carries or defines outside the step", at: span)
                }
                else if let f = functions[spelling] { return .atom(f) }
            }
            return .atom(py)
        case .member(let collection, let member):
            let c = names.name(collection)
            if case .collection? = algorithm.types[span] { return .atom("_sub(\(c), \(keyLiteral(member)))") }
            return .atom("\(c)[\(keyLiteral(member))]")
        case .groupCollection(let collection, let group):
            return groupCollection(collection, group, span)
        case .familyElement(let fam, let index):
            if index < n.scripts.count, case .name(let iv) = n.scripts[index].value.kind,
               let el = elements.first(where: { $0.family == fam && $0.variable == iv.spelling }) {
                return .atom(el.py)
            }
            let py = familyName(fam)
            guard index < n.scripts.count else { return .atom(py) }
            if arrayFamilies[fam] != nil { return .atom("\(py)[..., \(minusOne(n.scripts[index].value, [:]))]") }
            return .atom("\(py)[\(expr(n.scripts[index].value).text)]")
        case .dimension(let d):
            if let p = dimPy(.named(d)) { return .atom(p) }
            return .atom(dimArgument(nil, calleeName: d))
        case .specialToken(let t):
            let nv = dimArgument(.named("N_V"), calleeName: "N_V")
            switch t {
            case .mask: return Py(text: "\(nv) - 2", precedence: 4)
            case .bos: return Py(text: "\(nv) - 1", precedence: 4)
            case .eos: return .atom(nv)
            }
        case .constant(let c):
            switch c {
            case .pi: return .atom("jnp.pi")
            }
        case .power(let base, let exponent):
            let b = value(of: base, Name(base: n.base, scripts: Array(n.scripts.dropLast()), span: n.span), span)
            return Py(text: b.at(8) + " ** " + expr(exponent).at(7), precedence: 7)
        }
    }

    /// A checkpoint name as a Python string: an f-string when a script is a loop variable
    /// (`f"γ^1_{_i(l)}"`), so that the key is the one `algo params` prints for each value.
    func keyLiteral(_ n: Name, extra: [String: String] = [:]) -> String {
        var text = "", fstring = false
        func literal(_ s: String) -> String { PyText.escape(s) }
        var parts: [(String, Bool)] = [(n.base, false)]
        for s in n.scripts {
            if let py = extra[s.raw] ?? scopeNats[s.raw] { parts.append((s.position.rawValue, false)); parts.append(("{_i(\(py))}", true)); fstring = true }
            else { parts.append((ExprPrinter.print(s), false)) }
        }
        for (p, code) in parts {
            if code { text += p } else if fstring { text += literal(p).replacingOccurrences(of: "{", with: "{{").replacingOccurrences(of: "}", with: "}}") } else { text += literal(p) }
        }
        return (fstring ? "f\"" : "\"") + text + "\""
    }

    /// `𝓦^h_qkv`: head h's members of `𝓦`, keyed without h (`W_q` for `W^h_q`).
    func groupCollection(_ collection: String, _ group: Name, _ span: Span) -> Py {
        let c = names.name(collection)
        let spelled = Name.spell(group.base, group.scripts)
        for case .line(let l) in algorithm.syntax.header {
            guard case .collection(let coll) = l.content else { continue }
            for case .group(let g) in coll.members where g.collection.map({ Name.spell($0.base, $0.scripts) }) == spelled {
                guard let v = scopeNats[g.variable.spelling] else {
                    refuse(.notExportable, "`\(spelled)` is exported only inside a loop over `\(g.variable.spelling)`", at: span)
                    return .atom("None")
                }
                var entries: [String] = []
                for d in g.members.flatMap(\.declarations) {
                    for case .name(let m) in d.names.map(\.kind) {
                        let key = Name.spell(m.base, m.scripts.filter { $0.raw != g.variable.spelling })
                        entries.append("\"\(PyText.escape(key))\": \(c)[\(keyLiteral(m, extra: [g.variable.spelling: v]))]")
                    }
                }
                return .atom("{" + entries.joined(separator: ", ") + "}")
            }
        }
        refuse(.notExportable, "the group collection `\(spelled)` was not found in the header", at: span)
        return .atom("None")
    }

    // MARK: Operators

    func binary(_ op: BinaryOperator, _ a: Expr, _ b: Expr, _ e: Expr, _ leaves: [Span: String]) -> Py {
        func sub(_ x: Expr) -> Py { expr(x, leaves: leaves) }
        let collection = !leaves.isEmpty
        switch op {
        case .juxtapose, .multiply, .times:
            if case .transpose(let o) = b.kind, case .ones = o.kind {
                // `b 𝟏ᵀ`: the column b repeated along the columns (broadcast).
                return .atom(sub(a).at(9) + "[:, None]")
            }
            if case .ones = b.kind { return sub(a) }
            let x = sub(a), y = sub(b)
            let scalar = collection || isScalar(a) || isScalar(b)
            let matrix = !scalar && isMatrix(a)
            return Py(text: x.at(5) + (matrix ? " @ " : " * ") + y.at(6), precedence: 5)
        case .hadamard: return Py(text: sub(a).at(5) + " * " + sub(b).at(6), precedence: 5)
        case .divide: return Py(text: sub(a).at(5) + " / " + sub(b).at(6), precedence: 5)
        case .add: return Py(text: sub(a).at(4) + " + " + sub(b).at(5), precedence: 4)
        case .subtract: return Py(text: sub(a).at(4) + " - " + sub(b).at(5), precedence: 4)
        case .equal, .notEqual, .less, .lessEqual, .greater, .greaterEqual:
            let o = [BinaryOperator.equal: "==", .notEqual: "!=", .less: "<", .lessEqual: "<=", .greater: ">", .greaterEqual: ">="][op] ?? "=="
            return Py(text: sub(a).at(4) + " \(o) " + sub(b).at(4), precedence: 3)
        case .equivalent:
            refuse(.notExportable, "`≡` is exported only as a call's hyperparameter (`Mask ≡ 1`)", at: e.span)
            return .atom("None")
        }
    }

    func isScalar(_ e: Expr) -> Bool {
        if case .number = e.kind { return true }
        return algorithm.types[e.span]?.isScalar ?? false
    }

    /// A left factor that is a matrix or a row vector (`W_q X`, `Kᵀ Q`): a matrix product.
    func isMatrix(_ e: Expr) -> Bool {
        if case .array(_, let c, _)? = algorithm.types[e.span] { return c != nil }
        if case .transpose = e.kind { return true }
        return false
    }

    /// Index expressions, 1-based to 0-based: `:` stays, `a : b` (inclusive) is `a-1:b`.
    func indices(_ idx: [Expr], on base: Expr, _ leaves: [Span: String] = [:]) -> String {
        idx.map { i -> String in
            switch i.kind {
            case .all: return ":"
            case .slice(let lo, let hi):
                return (lo.map { minusOne($0, leaves) } ?? "") + ":" + (hi.map { expr($0, leaves: leaves).text } ?? "")
            default: return minusOne(i, leaves)
            }
        }.joined(separator: ", ")
    }

    /// `i − 1` as short as it goes: `t + 1` → `t`, `3` → `2`.
    func minusOne(_ e: Expr, _ leaves: [Span: String]) -> String {
        if case .number(let s) = e.kind, let k = Int(s) { return String(k - 1) }
        if case .binary(.add, let a, let b) = e.kind, case .number(let s) = b.kind, let k = Int(s) {
            return k == 1 ? expr(a, leaves: leaves).text : Py(text: expr(a, leaves: leaves).at(4) + " + \(k - 1)", precedence: 4).text
        }
        return expr(e, leaves: leaves).at(4) + " - 1"
    }

    // MARK: Σ

    /// `Σ_{i=a}^{b} body`: `_sum(lambda i: body, a, b)` (vmap over i), or a Python sum when i names a
    /// checkpoint entry or a family element (`Σ_n … x_n`).
    func sum(_ s: Sum, _ e: Expr, _ leaves: [Span: String]) -> Py {
        guard let lower = s.lower, case .binary(.equal, let v, let from) = lower.value.kind, case .name(let vn) = v.kind, let upper = s.upper else {
            refuse(.notExportable, "only `Σ_{i=a}^{b}` sums are exported yet", at: e.span)
            return .atom("0")
        }
        if let batch, batch.variable == vn.spelling {
            // A minibatch's Σ in a training step: one term per sequence of the lists the step takes.
            let saved = elements
            let vars = batch.lists.map { names.name($0.element) }
            for (l, v) in zip(batch.lists, vars) { elements.append((l.family, vn.spelling, v)); known.insert(v) }
            let body = expr(s.body, leaves: leaves).text
            elements = saved
            let lists = batch.lists.count == 1 ? batch.lists[0].py : "zip(\(batch.lists.map(\.py).joined(separator: ", ")))"
            return .atom("sum(\(body) for \(vars.joined(separator: ", ")) in \(lists))")
        }
        let py = names.name(vn.spelling)
        let a = expr(from, leaves: leaves).text, b = expr(upper.value, leaves: leaves).text
        if usesAsScript(s.body, vn.spelling, exceptFamily: nil) {
            let saved = scopeNats[vn.spelling]
            scopeNats[vn.spelling] = py
            known.insert(py)
            let body = expr(s.body, leaves: leaves).text
            scopeNats[vn.spelling] = saved
            return .atom("sum(\(body) for \(py) in range(\(a), \(b) + 1))")
        }
        known.insert(py)
        return .atom("_sum(lambda \(py): \(expr(s.body, leaves: leaves).text), \(a), \(b))")
    }

    // MARK: Calls

    func call(_ c: Call, _ e: Expr, _ leaves: [Span: String]) -> Py {
        func sub(_ x: Expr) -> Py { expr(x, leaves: leaves) }
        if let f = functions[c.callee.spelling] {
            return .atom("\(f)(\(c.arguments.map { sub($0).text }.joined(separator: ", ")))")
        }
        guard let r = algorithm.calls[e.span] else {
            refuse(.notExportable, "the call to `\(c.callee.spelling)` was not resolved by the checker", at: e.span)
            return .atom("None")
        }
        if r.isBuiltin {
            guard let b = r.builtin, c.arguments.count == 1 else {
                refuse(.notExportable, "`\(c.callee.spelling)` is not exported", at: e.span); return .atom("None")
            }
            let x = sub(c.arguments[0]).text
            switch b {
            case .exp: return .atom("jnp.exp(\(x))")
            case .log: return .atom("jnp.log(\(x))")
            case .tanh: return .atom("jnp.tanh(\(x))")
            case .sigma: return .atom("jax.nn.sigmoid(\(x))")
            case .softmax: return .atom("jax.nn.softmax(\(x), axis=0)")
            case .GELU: return .atom("jax.nn.gelu(\(x), approximate=False)")
            case .ReLU: return .atom("jax.nn.relu(\(x))")
            case .length: return .atom("len(\(x))")
            }
        }
        guard let sig = context.signatures[ModuleContext.key(callee: r.callee, file: r.file)] else {
            refuse(.notExportable, "`\(r.callee)` could not be exported, so this call is not", at: e.span)
            return .atom("None")
        }
        var args: [String] = []
        for (k, a) in c.arguments.enumerated() where k < sig.inputs.count { args.append(sub(a).text) }
        var passed: Set<String> = []
        for (k, p) in c.parameters.enumerated() {
            if let target = p.target {
                var tn: Name? = nil
                var vars: [String] = []
                if case .name(let n) = target.kind { tn = n }
                if case .index(let b, let idx) = target.kind, case .name(let n) = b.kind {
                    tn = n
                    vars = idx.compactMap { if case .name(let v) = $0.kind { names.name(v.spelling) } else { nil } }
                }
                guard let tn else { refuse(.notExportable, "this binding is not exported", at: p.span); continue }
                if let param = sig.params.first(where: { $0.spelling == tn.spelling }) {
                    let v = sub(p.value).text
                    let value = param.isMask ? (vars.isEmpty ? "lambda *_: \(v)" : "lambda \(vars.joined(separator: ", ")): \(v)") : v
                    args.append("\(param.py)=\(value)")
                    passed.insert(param.py)
                } else if let kw = sig.keywords.first(where: { $0.spelling == tn.spelling }) {
                    args.append("\(kw.py)=\(sub(p.value).text)")
                    passed.insert(kw.py)
                } else {
                    refuse(.notExportable, "`\(r.callee)` has no parameter `\(tn.spelling)` to bind", at: p.span)
                }
            } else if k < sig.params.count {
                args.append("\(sig.params[k].py)=\(sub(p.value).text)")
                passed.insert(sig.params[k].py)
            }
        }
        for kw in sig.keywords where !passed.contains(kw.py) {
            if kw.py == "key" { continue }
            if kw.isDimension {
                args.append("\(kw.py)=\(dimArgument(r.dimensions[kw.spelling], calleeName: kw.spelling))")
            } else {
                let py = names.name(kw.spelling)
                if !known.contains(py) { addKeyword(kw.spelling, isDimension: false) }
                args.append("\(kw.py)=\(py)")
            }
        }
        if sig.keywords.contains(where: { $0.py == "key" }) {
            usesKey = true
            args.append("key=jax.random.fold_in(key, \(e.span.start))")
        }
        return .atom("\(sig.name)(\(args.joined(separator: ", ")))")
    }

    /// `∇loss(θ)`: `jax.grad(loss)(theta)`.
    func gradient(_ a: Expr, _ e: Expr) -> Py {
        guard case .call(let c) = a.kind, let f = functions[c.callee.spelling], c.arguments.count == 1 else {
            refuse(.exportGradient, "`∇` is exported only of a function of θ defined above it (`∇loss(θ)`)", at: e.span)
            return .atom("None")
        }
        return .atom("jax.grad(\(f))(\(expr(c.arguments[0]).text))")
    }

    // MARK: Lists

    func list(_ items: [Expr], _ sep: ListSeparator, _ e: Expr, _ leaves: [Span: String]) -> Py {
        let axis = sep == .semicolon ? 0 : 1
        if items.contains(where: { if case .ellipsis = $0.kind { true } else { false } }) {
            guard let f = items.first, let l = items.last, case .name(let first) = f.kind, case .name(let last) = l.kind,
                  case .familyElement(let fam, let index)? = algorithm.bindings[l.span], index < first.scripts.count else {
                refuse(.notExportable, "this list with `. . .` is not exported", at: e.span)
                return .atom("None")
            }
            let py = familyName(fam)
            let lo = expr(first.scripts[index].value).text, hi = expr(last.scripts[index].value).text
            if let n = arrayFamilies[fam] {
                guard sep == .comma, case .array(_, nil, _)? = algorithm.types[l.span] else {
                    refuse(.notExportable, "this list of a vectorised family is not exported", at: e.span); return .atom("None")
                }
                if lo == "1" && hi == n { return .atom(py) }
                return .atom("\(py)[:, \(lo) - 1:\(hi)]")
            }
            let v = names.fresh("_k")
            let elements = "[\(py)[\(v)] for \(v) in range(\(lo), \(hi) + 1)]"
            if sep == .comma, case .array(_, nil, _)? = algorithm.types[l.span] { return .atom("jnp.stack(\(elements), axis=1)") }
            return .atom("jnp.concatenate(\(elements), axis=\(axis))")
        }
        let xs = items.map { expr($0, leaves: leaves).text }
        if case .sequence? = algorithm.types[e.span] {
            return .atom("jnp.concatenate([\(xs.map { "jnp.atleast_1d(\($0))" }.joined(separator: ", "))])")
        }
        if sep == .comma, let first = items.first, case .array(_, nil, _)? = algorithm.types[first.span] {
            return .atom("jnp.stack([\(xs.joined(separator: ", "))], axis=1)")
        }
        return .atom("jnp.concatenate([\(xs.joined(separator: ", "))], axis=\(axis))")
    }

    // MARK: Collections

    /// Arithmetic on parameter collections (`θ − η · ∇loss(θ)`, `β_1 m + (1 − β_1) g`) member by
    /// member: `jax.tree_util.tree_map` over the collections it reads.
    func treeMap(_ e: Expr) -> Py {
        var leaves: [Span: String] = [:]
        var params: [(String, String)] = []   // (lambda parameter, argument)
        func collect(_ x: Expr) {
            guard case .collection? = algorithm.types[x.span] else { return }
            switch x.kind {
            case .name(let n):
                let arg = name(n, x.span).text
                let p = params.first(where: { $0.1 == arg })?.0 ?? PythonNames.ascii(n.spelling)
                if !params.contains(where: { $0.1 == arg }) { params.append((p, arg)) }
                leaves[x.span] = p
            case .unary(.gradient, _), .call:
                let arg = expr(x).text
                let p = params.first(where: { $0.1 == arg })?.0 ?? names.fresh("g")
                if !params.contains(where: { $0.1 == arg }) { params.append((p, arg)) }
                leaves[x.span] = p
            default:
                x.children.forEach(collect)
            }
        }
        collect(e)
        let body = expr(e, leaves: leaves).text
        return .atom("jax.tree_util.tree_map(lambda \(params.map(\.0).joined(separator: ", ")): \(body), \(params.map(\.1).joined(separator: ", ")))")
    }
}
