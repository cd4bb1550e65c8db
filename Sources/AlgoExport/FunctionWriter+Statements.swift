import AlgoDiagnostics
import AlgoSema
import AlgoSyntax

extension FunctionWriter {
    func writeBlock(_ body: [Statement]) {
        let before = lines.count
        for s in body { statement(s) }
        if lines.count == before { emit("pass") }
    }

    func statement(_ s: Statement) {
        let savedTag = lineTag
        begin(s)
        defer { lineTag = savedTag; pendingQuote = nil }
        switch s.kind {
        case .assign(let target, _, let value): assign(target, value, s)
        case .returnValue(let target, let value):
            let v = expr(value)
            if let target, case .name(let n) = target.kind {
                let py = names.name(n.spelling)
                emit("\(py) = \(v.text)")
                assertShape(py, type: algorithm.types[value.span])
                emit("return \(py)")
            } else {
                emit("return \(v.text)")
            }
        case .forLoop(let l): forLoop(l, s)
        case .forAll(let vars, let body): forAll(vars, body, s)
        case .ifThen:
            refuse(.notExportable, "an `if` outside `∀ …, if … then` is not exported yet (its condition would be a traced value under jax.jit)", at: s.span)
        case .whileLoop:
            refuse(.notExportable, "a `while` loop is not exported yet (it would need jax.lax.while_loop with a fixed-size state)", at: s.span)
        case .sample(let smp): sample(smp, s)
        case .comment(let text): emit("# " + text.trimmingCharacters(in: .whitespaces))
        case .error: refuse(.notExportable, "this line has a syntax error", at: s.span)
        }
    }

    // MARK: Assignments

    func assign(_ target: Expr, _ value: Expr, _ s: Statement) {
        switch target.kind {
        case .call(let c):
            // `P(θ) ← DTransformer(x_n | θ)`, `loss(θ) = …`: a function of θ.
            let f = names.name(c.callee.spelling)
            var params: [String] = []
            for a in c.arguments {
                guard case .name(let n) = a.kind else { refuse(.notExportable, "a function's argument must be a name", at: a.span); return }
                params.append(names.name(n.spelling))
            }
            functions[c.callee.spelling] = f
            emit("def \(f)(\(params.joined(separator: ", "))):")
            indent += 1
            emit("return \(expr(value).text)")
            indent -= 1
            known.insert(f)
        case .name(let n):
            let v = expr(value)
            switch targetFamily(n) {
            case (let fam, let index)?:
                let py = familyName(fam)
                initialiseFamily(fam, py)
                let raw = n.scripts[index].raw
                emit("\(py)[\(scopeNats[raw] ?? names.name(raw))] = \(v.text)")
            default:
                let py = names.name(n.spelling)
                emit("\(py) = \(v.text)")
                known.insert(py)
                if case .nat(let d?)? = algorithm.types[value.span] ?? algorithm.types[target.span], dimPy(d) == nil || isLength(value) {
                    dimAliases.append((d, py))
                }
                assertShape(py, type: algorithm.types[target.span] ?? algorithm.types[value.span])
            }
        case .index(let base, let idx):
            guard case .name(let n) = base.kind else { refuse(.notExportable, "only a named matrix can be assigned by index", at: target.span); return }
            let py = names.name(n.spelling)
            let v = expr(value)
            emit("\(py) = \(py).at[\(indices(idx, on: base))].set(\(v.text))")
        default:
            refuse(.notExportable, "this assignment target is not exported yet", at: target.span)
        }
    }

    /// A target whose script is a bound loop variable is a family element (`e_t`, `Y^h`), as the
    /// evaluator assigns it: the family's key and the index script.
    func targetFamily(_ n: Name) -> (String, Int)? {
        guard let i = n.scripts.lastIndex(where: { loopVariables.contains($0.raw) }) else { return nil }
        return (NameBinding.familyKey(n.base, n.scripts, index: i), i)
    }

    func isLength(_ e: Expr) -> Bool {
        if case .call(let c) = e.kind { return c.callee.spelling == "length" }
        return false
    }

    func initialiseFamily(_ key: String, _ py: String) {
        guard !initialisedFamilies.contains(key) else { return }
        initialisedFamilies.insert(key)
        let line = String(repeating: "    ", count: 1) + "\(py) = {}  # the family \(key.replacingOccurrences(of: "•", with: "…")), keyed by its 1-based index"
        lines.insert(line, at: headerEnd)
        headerEnd += 1
        known.insert(py)
    }

    // MARK: Loops

    func forLoop(_ l: ForLoop, _ s: Statement) {
        let v = names.name(l.variable.spelling)
        let upper: String
        switch l.range {
        case .counting(let items):
            let real = items.filter { if case .ellipsis = $0.kind { return false } else { return true } }
            guard let last = real.last, real.count <= 3 else { refuse(.notExportable, "this counting loop is not exported", at: s.span); return }
            if real.count == 3, case .number(let second) = real[1].kind, second != "2" {
                refuse(.notExportable, "a counting loop with a step other than 1 is not exported", at: real[1].span); return
            }
            upper = expr(last).text
        case .domain(let t):
            guard case .range(let n) = t.kind else { refuse(.notExportable, "a loop over this set is not exported yet", at: t.span); return }
            upper = expr(n).text
            if l.form == .inline, l.body.count == 1, vectorisedLoop(l, s, variable: v, count: upper) { return }
        }
        if isTrainingLoop(l) { trainingLoop(l, s, variable: v, upper: upper); return }
        emit("for \(v) in range(1, \(upper) + 1):")
        let saved = scopeNats[l.variable.spelling]
        scopeNats[l.variable.spelling] = v
        known.insert(v)
        let wasLoop = loopVariables.contains(l.variable.spelling)
        loopVariables.insert(l.variable.spelling)
        indent += 1
        writeBlock(l.body)
        indent -= 1
        if !wasLoop { loopVariables.remove(l.variable.spelling) }
        scopeNats[l.variable.spelling] = saved
    }

    /// `for t ∈ [n] : e_t ← …` (the body does not read the family) and the checker's column loops
    /// `for t ∈ [n] : X[:, t] ← …`: iterations are independent, so all run at once (jax.vmap over t).
    func vectorisedLoop(_ l: ForLoop, _ s: Statement, variable v: String, count: String) -> Bool {
        guard case .assign(let target, _, let value) = l.body[0].kind else { return false }
        let t = l.variable.spelling
        // The variable must not name a checkpoint entry or a dict family element (it is traced).
        if usesAsScript(value, t, exceptFamily: nil) { return false }
        switch target.kind {
        case .name(let n):
            loopVariables.insert(t)
            defer { loopVariables.remove(t) }
            guard let (fam, index) = targetFamily(n), n.scripts[index].raw == t, !value.mentions(base: n.base) else { return false }
            let py = familyName(fam)
            let body = expr(value).text
            emit("\(py) = _columns(lambda \(v): \(body), \(count))")
            known.insert(py)
            arrayFamilies[fam] = count
            return true
        case .index(let base, _):
            guard algorithm.columnLoops.contains(s.span), case .name(let n) = base.kind else { return false }
            let py = names.name(n.spelling)
            let body = expr(value).text
            if known.contains(py) {
                emit("\(py) = \(py).at[:, :\(count)].set(_columns(lambda \(v): \(body), \(count)))")
            } else {
                emit("\(py) = _columns(lambda \(v): \(body), \(count))")
                known.insert(py)
            }
            assertShape(py, type: algorithm.types[base.span])
            return true
        default:
            return false
        }
    }

    /// Whether `variable` appears in a script of a name in `e` (`γ^1_l`, `x_n`): then it must be a
    /// Python integer, not a traced index.
    func usesAsScript(_ e: Expr, _ variable: String, exceptFamily: String?) -> Bool {
        e.contains { x in
            guard case .name(let n) = x.kind else { return false }
            if case .familyElement(let fam, _)? = algorithm.bindings[x.span], arrayFamilies[fam] != nil { return false }
            return n.scripts.contains { $0.raw == variable }
        }
    }

    // MARK: ∀

    /// `∀t_z, t_x, if ¬Mask[t_z, t_x] then S[t_z, t_x] ← −∞`: one `jnp.where` over index grids.
    func forAll(_ vars: [Name], _ body: Statement, _ s: Statement) {
        var condition: Expr? = nil
        var inner = body
        if case .ifThen(let i) = body.kind, i.body.count == 1 { condition = i.condition; inner = i.body[0] }
        guard case .assign(let target, _, let value) = inner.kind, case .index(let base, let idx) = target.kind, case .name(let m) = base.kind,
              idx.count == vars.count,
              zip(idx, vars).allSatisfy({ if case .name(let n) = $0.0.kind { n.spelling == $0.1.spelling } else { false } })
        else {
            refuse(.notExportable, "a `∀` is exported only as `∀i, j, [if condition then] A[i, j] ← value`", at: s.span)
            return
        }
        let a = names.name(m.spelling)
        let vs = vars.map { names.name($0.spelling) }
        vs.forEach { known.insert($0) }
        emit("\(vs.joined(separator: ", ")) = _grid(\(a).shape)")
        let v = expr(value).text
        if let condition {
            emit("\(a) = jnp.where(\(expr(condition).text), \(v), \(a))")
        } else {
            emit("\(a) = jnp.broadcast_to(\(v), \(a).shape)")
        }
    }

    // MARK: Sampling

    /// `sample a token y from q ∝ p^{1/τ}`: `jax.random.categorical` on the log-weights (1-based).
    func sample(_ smp: Sample, _ s: Statement) {
        guard case .name(let n) = smp.target.kind else { refuse(.notExportable, "only a name can be sampled into", at: smp.target.span); return }
        usesKey = true
        let y = names.name(n.spelling)
        let sub = names.fresh("key_" + y)
        emit("key, \(sub) = jax.random.split(key)")
        emit("\(y) = jax.random.categorical(\(sub), jnp.log(\(expr(smp.weights).text))) + 1")
        known.insert(y)
    }
}
