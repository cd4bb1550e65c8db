import AlgoDiagnostics
import AlgoSyntax

// MARK: - Statements: assignments (whole, column, entry, family, function), loops, returns, claims

extension AlgoChecker {
    func checkBlock(_ body: [Statement]) {
        for s in body {
            statementPoisoned = false
            checkStatement(s)
            // A statement whose value is poisoned cannot tell which dimensions its calls leave unbound.
            if statementPoisoned { pendingCalls.removeAll() }
            flushPendingCalls()
        }
    }

    func checkStatement(_ s: Statement) {
        switch s.kind {
        case .assign(let target, _, let value):
            let v = check(value)
            if v.isError { statementPoisoned = true }
            assign(target, v, value: value, statement: s)
            if let claim = s.claim { checkClaim(claim, v, target) }
        case .returnValue(let target, let value):
            let v = check(value)
            if v.isError { statementPoisoned = true }
            returnValue(target, value, v)
            if let claim = s.claim { checkClaim(claim, v, value) }
        case .forLoop(let f):
            forLoop(f, s)
        case .forAll(let vars, let body):
            push()
            for v in vars {
                define(v.spelling, Binding(type: .index(program.solver.fresh()), origin: v.span,
                                           kind: .indexVariable(strict: true), loopDepth: loopDepth))
            }
            loopDepth += 1
            checkStatement(body)
            loopDepth -= 1
            pop()
        case .ifThen(let i):
            check(i.condition)
            checkBlock(i.body)
        case .whileLoop(let w):
            loosenLoopCarriedSequences(w.body)
            check(w.condition)
            loopDepth += 1
            checkBlock(w.body)
            loopDepth -= 1
        case .sample(let smp):
            let w = check(smp.weights)
            var drawn: SemType = .error
            switch w {
            case .array(let r, nil, _): drawn = .index(r)
            case .error: break
            default:
                report(Diagnostic(.invalidOperand, "`sample … ∝ w` draws from a vector of weights, not \(show(w))", at: smp.weights.span))
            }
            if let q = smp.distribution, case .name(let n) = q.kind, case .array(let r, nil, _) = w {
                define(n.spelling, Binding(type: .array(rows: r, cols: nil, element: .probability), origin: n.span, kind: .local, loopDepth: loopDepth))
            }
            assign(smp.target, drawn, value: smp.weights, statement: s)
        case .comment, .error:
            break
        }
    }

    func forLoop(_ f: ForLoop, _ s: Statement) {
        var domain: Dim? = nil
        switch f.range {
        case .domain(let t): domain = rangeDim(t, allowFree: false)
        case .counting(let items):
            let real = items.filter { if case .ellipsis = $0.kind { return false } else { return true } }
            if let first = real.first, literal(first) != .one {
                report(Diagnostic(.invalidOperand, "a counting loop starts at 1 (`for i = 1, 2, . . . , N`)", at: first.span))
            }
            if let last = real.last { domain = dimOf(last, allowFree: false) }
        }
        loosenLoopCarriedSequences(f.body)
        push()
        define(f.variable.spelling, Binding(type: domain.map { .index($0) } ?? .error, origin: f.variable.span,
                                            kind: .indexVariable(strict: true), loopDepth: loopDepth))
        loopDepth += 1
        loopStack.append((f.variable, s))
        // A column loop: `for t ∈ [ℓ] : X[:, t] ← …`, independent iterations over the columns.
        if f.form == .inline, f.body.count == 1, case .assign(let target, _, let value) = f.body[0].kind,
           case .index(let m, let ix) = target.kind, ix.count == 2, isAll(ix[0]), case .name(let mn) = m.kind,
           case .name(let v) = ix[1].kind, v.spelling == f.variable.spelling,
           readsOnlyColumn(value, of: mn.spelling, variable: v.spelling) {
            columnLoops.append(s.span)
        }
        checkBlock(f.body)
        loopStack.removeLast()
        loopDepth -= 1
        pop()
    }

    /// Whether `e` reads the matrix `matrix` only as `matrix[:, variable]` (so the iterations of a
    /// column loop are independent and the evaluator may batch them).
    func readsOnlyColumn(_ e: Expr, of matrix: String, variable: String) -> Bool {
        switch e.kind {
        case .name(let n): return n.spelling != matrix
        case .index(let b, let ix):
            if case .name(let n) = b.kind, n.spelling == matrix {
                guard ix.count == 2, isAll(ix[0]), case .name(let v) = ix[1].kind, v.spelling == variable else { return false }
                return true
            }
            return readsOnlyColumn(b, of: matrix, variable: variable) && ix.allSatisfy { readsOnlyColumn($0, of: matrix, variable: variable) }
        case .binary(_, let a, let b): return readsOnlyColumn(a, of: matrix, variable: variable) && readsOnlyColumn(b, of: matrix, variable: variable)
        case .unary(_, let a), .transpose(let a), .iverson(let a): return readsOnlyColumn(a, of: matrix, variable: variable)
        case .scripted(let a, _): return readsOnlyColumn(a, of: matrix, variable: variable)
        case .call(let c):
            return c.arguments.allSatisfy { readsOnlyColumn($0, of: matrix, variable: variable) }
                && c.parameters.allSatisfy { readsOnlyColumn($0.value, of: matrix, variable: variable) }
        case .list(let xs, _), .tuple(let xs), .set(let xs): return xs.allSatisfy { readsOnlyColumn($0, of: matrix, variable: variable) }
        case .number, .text, .ones, .infinity, .ellipsis, .all, .missing: return true
        case .sum, .slice, .setBuilder, .membership, .randomChoice: return false
        }
    }

    /// A sequence reassigned inside a loop (`x̂ ← [x̂, y]`) has a length that changes per iteration:
    /// inside the loop it is the opaque `length(x̂)`.
    func loosenLoopCarriedSequences(_ body: [Statement]) {
        func visit(_ s: Statement) {
            switch s.kind {
            case .assign(let t, _, _):
                guard case .name(let n) = t.kind, var b = lookup(n.spelling),
                      case .sequence(let e, let l) = program.resolve(b.type) else { return }
                var opaque = Dim.named("length(\(n.spelling))")
                if let l, program.solver.resolve(l).constant == nil { opaque = .named("length(\(n.spelling))′") }
                b.type = .sequence(element: e, length: opaque)
                define(n.spelling, b)
            case .forLoop(let f): f.body.forEach(visit)
            case .whileLoop(let w): w.body.forEach(visit)
            case .ifThen(let i): i.body.forEach(visit)
            case .forAll(_, let b): visit(b)
            case .returnValue, .sample, .comment, .error: break
            }
        }
        body.forEach(visit)
    }

    func rangeDim(_ t: TypeExpr, allowFree: Bool) -> Dim? {
        if case .range(let e) = t.kind { return dimOf(e, allowFree: allowFree) }
        if let st = convertType(t, allowFree: allowFree), case .index(let d) = st { return d }
        report(Diagnostic(.invalidOperand, "a loop ranges over `[N]`", at: t.span))
        return nil
    }

    // MARK: Assignment

    func assign(_ target: Expr, _ v: SemType, value: Expr, statement: Statement) {
        switch target.kind {
        case .name(let n):
            assignName(n, v, value: value, target: target)
        case .index(let base, let indices):
            assignEntries(base, indices, v, value: value, target: target)
        case .call(let c):
            // `P(θ) ← …`: defines a function of the argument.
            guard c.arguments.count == 1, case .name(let a) = c.arguments[0].kind, let ab = lookup(a.spelling) else {
                report(Diagnostic(.invalidOperand, "a function is defined as `f(θ) ← …` with a declared argument", at: target.span))
                return
            }
            define(c.callee.spelling, Binding(type: .function(argument: ab.type, result: v), origin: target.span, kind: .function, loopDepth: loopDepth))
        default:
            report(Diagnostic(.invalidOperand, "cannot assign to `\(text(target))`", at: target.span))
        }
    }

    func assignName(_ n: Name, _ v: SemType, value: Expr, target: Expr) {
        let spelling = n.spelling
        if assignDataset(n, v, target: target) { return }
        // A family member: `e_t ← …`, `Y^h ← …` with `t`, `h` bound here.
        if lookup(spelling) == nil, let i = n.scripts.lastIndex(where: { sc in
            if case .name(let x) = sc.value.kind, let b = lookup(x.spelling), case .indexVariable = b.kind { return true }
            return false
        }), case .name(let x) = n.scripts[i].value.kind, let xb = lookup(x.spelling), case .index(let domain) = program.resolve(xb.type) {
            var rest = n.scripts
            rest.remove(at: i)
            let k = Self.key(n.base, rest)
            if let old = families[k], old.kind != .local {
                // Assigning into a declared family member: the value must fit.
                if case .family(_, let el) = program.resolve(old.type), !program.unify(v, el) {
                    mismatch(.assignmentMismatch, "`\(spelling)` is declared \(show(el)), the value is \(show(v))", value, el, v, old.origin)
                }
                return
            }
            defineFamily(k, Binding(type: .family(domain: domain, element: v), origin: n.span, kind: .local, loopDepth: loopDepth), display: n.spelling)
            types[target.span] = v
            return
        }
        if lookup(spelling) == nil, !n.scripts.isEmpty, families[Self.key(n.base, Array(n.scripts.dropLast()))] != nil {
            // Assigning a member of an existing family with a fixed index (`e_1 ← …`).
            _ = resolveName(n.base, n.scripts, span: n.span)
            return
        }
        types[target.span] = v
        guard let old = lookup(spelling) else {
            // `ℓ ← length(x)`: show `length(x)` as `ℓ` in messages.
            if case .nat(let d?) = v, d.variables.count == 1, case .named(let dn)? = d.variables.first, dn.hasPrefix("length("),
               d == .named(dn), aliases[dn] == nil {
                aliases[dn] = spelling
            }
            define(spelling, Binding(type: v, origin: target.span, kind: .local, loopDepth: loopDepth))
            return
        }
        if case .indexVariable = old.kind {
            report(Diagnostic(.invalidOperand, "`\(spelling)` is a loop variable and cannot be assigned", at: target.span))
            return
        }
        let oldType = program.resolve(old.type)
        if v.isError {
            // Poison the variable: its later uses must not repeat this line's mistake.
            var nb = old
            nb.type = .error
            define(spelling, nb)
            return
        }
        if case .variable = oldType { _ = program.unify(oldType, v); return }
        switch (oldType, v) {
        case (.sequence(let e1, let l1), .sequence(let e2, let l2)):
            _ = program.unify(e1, e2)
            var nb = old
            let same = l1 != nil && l2 != nil && program.solver.resolve(l1!) == program.solver.resolve(l2!)
            nb.type = .sequence(element: e1, length: same ? l1 : (old.loopDepth < loopDepth ? nil : l2))
            define(spelling, nb)
            return
        case (_, _) where oldType.isScalar && v.isScalar:
            if oldType == .number { var nb = old; nb.type = v; define(spelling, nb) }
            return
        default: break
        }
        if program.unify(oldType, v) { return }
        if old.loopDepth < loopDepth || old.kind == .parameter || old.kind == .input {
            var d = Diagnostic(.shapeChangeInLoop,
                               "`\(spelling)` is \(show(oldType)) but this assignment makes it \(show(v))",
                               at: value.span, label: show(v))
            d.labels.append(.init(old.origin, "`\(spelling)` gets \(show(oldType)) here"))
            d.notes.append(old.loopDepth < loopDepth ? "a loop must not change the shape of a variable defined before it"
                                                     : "a declared input or parameter keeps its declared shape")
            report(d)
            // One mistake, one error: neither the old nor the new shape is trusted after this line.
            var nb = old
            nb.type = .error
            define(spelling, nb)
            return
        }
        define(spelling, Binding(type: v, origin: target.span, kind: .local, loopDepth: loopDepth))
    }

    /// `X̃[:, t] ← …` (creates `X̃` with as many columns as `t` ranges over), `S[t_z, t_x] ← −∞`,
    /// `x̃_n[t] ← …` (creates a sequence).
    func assignEntries(_ base: Expr, _ indices: [Expr], _ v: SemType, value: Expr, target: Expr) {
        let before = diagnostics.count
        assignEntriesUnchecked(base, indices, v, value: value, target: target)
        noteBindings(base)   // the matrix or family element written (`x̃_n` of `x̃_n[t] ← …`), now declared
        if diagnostics.count > before || v.isError, case .name(let n) = base.kind, var b = lookup(n.spelling) {
            if case .indexVariable = b.kind { return }
            b.type = .error
            define(n.spelling, b)
        }
    }

    private func assignEntriesUnchecked(_ base: Expr, _ indices: [Expr], _ v: SemType, value: Expr, target: Expr) {
        indices.forEach(noteBindings)
        guard case .name(let n) = base.kind else {
            report(Diagnostic(.invalidOperand, "cannot assign into `\(text(base))`", at: base.span))
            return
        }
        let exists = lookup(n.spelling) != nil || n.scripts.indices.contains { i in
            var rest = n.scripts; rest.remove(at: i); return families[Self.key(n.base, rest)] != nil
        }
        if !exists {
            // Create: a matrix by columns, or a sequence (family member `x̃_n` when its script is bound).
            var created: SemType? = nil
            if indices.count == 2, isAll(indices[0]), case .name(let tv) = indices[1].kind, let tb = lookup(tv.spelling),
               case .index(let d) = program.resolve(tb.type) {
                switch v {
                case .array(let r, nil, _): created = .array(rows: r, cols: d, element: .real)
                case .error: created = .error
                default: report(Diagnostic(.assignmentMismatch, "a column must be a vector, not \(show(v))", at: value.span)); created = .error
                }
            } else if indices.count == 1, case .name(let tv) = indices[0].kind, let tb = lookup(tv.spelling),
                      case .index(let d) = program.resolve(tb.type) {
                created = .sequence(element: v, length: d)
            }
            guard let t = created else {
                unknownName(n.spelling, at: n.span)
                return
            }
            if let i = n.scripts.lastIndex(where: { sc in
                if case .name(let x) = sc.value.kind, let b = lookup(x.spelling), case .indexVariable = b.kind { return true }
                return false
            }), case .name(let x) = n.scripts[i].value.kind, case .index(let dom)? = lookup(x.spelling).map({ program.resolve($0.type) }) {
                var rest = n.scripts; rest.remove(at: i)
                defineFamily(Self.key(n.base, rest), Binding(type: .family(domain: dom, element: t), origin: n.span, kind: .local, loopDepth: loopDepth), display: n.spelling)
            } else {
                define(n.spelling, Binding(type: t, origin: target.span, kind: .local, loopDepth: loopDepth))
            }
            return
        }
        let t = check(base)
        let b = lookup(n.spelling)
        switch t {
        case .error: return
        case .array(let r, let c, _):
            guard indices.count == (c == nil ? 1 : 2) else {
                report(Diagnostic(.invalidOperand, "`\(n.spelling)` is \(show(t)): index it with \(c == nil ? 1 : 2) position\(c == nil ? "" : "s")", at: target.span))
                return
            }
            let dims = c.map { [r, $0] } ?? [r]
            for (ix, d) in zip(indices, dims) {
                let what = d == r && c != nil ? "the rows of `\(n.spelling)`" : (c == nil ? "`\(n.spelling)`" : "the columns of `\(n.spelling)`")
                checkIndex(ix, against: d, base: b, what: what)
            }
            // What one entry, column or row holds.
            var slot: SemType
            if let c {
                switch (isAll(indices[0]), isAll(indices[1])) {
                case (true, true): slot = t
                case (true, false): slot = .array(rows: r, cols: nil, element: .real)
                case (false, true): slot = .array(rows: .one, cols: c, element: .real)
                case (false, false): slot = .real
                }
            } else {
                slot = isAll(indices[0]) ? t : .real
            }
            if slot.isScalar, v.isScalar { return }
            if !program.unify(slot, v) {
                mismatch(.assignmentMismatch, "`\(text(target))` holds \(show(slot)), the value is \(show(v))", value, slot, v, b?.origin)
            }
        case .sequence(let el, let len):
            if let len { checkIndex(indices[0], against: len, base: b, what: "`\(n.spelling)`") }
            if !program.unify(el, v) {
                mismatch(.assignmentMismatch, "`\(n.spelling)` holds \(show(el)), the value is \(show(v))", value, el, v, b?.origin)
            }
        default:
            report(Diagnostic(.invalidOperand, "`\(n.spelling)` is \(show(t)) and has no entries", at: target.span))
        }
    }

    func mismatch(_ code: DiagnosticCode, _ message: String, _ at: Expr, _ expected: SemType, _ actual: SemType, _ origin: Span?) {
        var d = Diagnostic(code, message, at: at.span, label: show(actual))
        if let origin, origin.file == file.source.path { d.labels.append(.init(origin, show(expected))) }
        report(d)
    }

    // MARK: Return and claims

    func returnValue(_ target: Expr?, _ value: Expr, _ v: SemType) {
        var key: String? = nil
        if let target, case .name(let n) = target.kind { key = n.spelling }
        if key == nil, case .name(let n) = value.kind { key = n.spelling }
        guard let k = key, let out = outputs[k] else {
            if !outputs.isEmpty {
                let names = outputs.keys.sorted().map { "`\($0)`" }.joined(separator: ", ")
                report(Diagnostic(.undeclaredSignatureName, "the return names no declared output (\(names))", at: (target ?? value).span))
            }
            return
        }
        let declared = program.resolve(out.type)
        if v.isError || declared.isError { return }
        if case .variable = declared { _ = program.unify(declared, v); return }
        var fits = program.unify(v, declared)
        if fits, case .array(_, _, .probability) = declared, case .array(_, _, let k) = v, k != .probability { fits = false }
        if fits { return }
        var d = Diagnostic(.returnMismatch, "`\(k)` is declared \(show(declared)), but the returned value is \(show(v))",
                           at: value.span, label: show(v))
        if out.origin.file == file.source.path { d.labels.append(.init(out.origin, "declared \(show(declared))")) }
        if case .array(_, _, .probability) = declared, case .array(_, _, .real) = v, program.unify(v, .array(rows: rowsOf(declared), cols: colsOf(declared), element: .real)) {
            d.notes.append("entries in (0,1) come from `softmax`")
        }
        report(d)
    }

    func rowsOf(_ t: SemType) -> Dim { if case .array(let r, _, _) = t { return r } else { return .zero } }
    func colsOf(_ t: SemType) -> Dim? { if case .array(_, let c, _) = t { return c } else { return nil } }

    func checkClaim(_ claim: Claim, _ v: SemType, _ subject: Expr) {
        guard let claimed = convertType(claim.type, allowFree: false) else { return }
        if v.isError || claimed.isError { return }
        if program.unify(v, claimed) { return }
        // The claim or the code is wrong: either way the variable's shape is not to be trusted.
        if case .name(let n) = subject.kind, var b = lookup(n.spelling) {
            if case .indexVariable = b.kind {} else { b.type = .error; define(n.spelling, b) }
        }
        var d = Diagnostic(.claimMismatch,
                           "the claim `\(claim.label.spelling) ∈ \(show(claimed))` does not hold: `\(text(subject))` is \(show(v))",
                           at: claim.span, label: "claimed \(show(claimed))")
        d.labels.append(.init(subject.span, show(v)))
        report(d)
    }
}
