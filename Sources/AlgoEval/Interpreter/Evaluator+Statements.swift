import AlgoDiagnostics
import AlgoSema
import AlgoSyntax
import AlgoTensor
import Foundation

extension Evaluator {
    enum Flow { case normal, returned(Value) }

    /// Runs an algorithm's body in `f`; returns what `return` gives.
    func execute(_ a: LoadedAlgorithm, _ f: Frame) throws -> Value {
        try a.requireExecutable()
        // Functions of θ hold their frame: drop them so the frame is freed (only an algorithm that
        // defines one, `P(θ) ← …`, can hold one).
        defer { if a.definesFunctions { for (k, v) in f.vars.all { if case .function = v { f.vars[k] = nil } } } }
        if case .returned(let v) = try block(a.syntax.body, f) { return v }
        throw RuntimeError(.notExecutable, "`\(a.name)` ended without `return`", at: a.syntax.span)
    }

    func block(_ body: [Statement], _ f: Frame) throws -> Flow {
        let fused = f.algorithm.plan.statements
        var skip = 0
        for (i, s) in body.enumerated() {
            if skip > 0 { skip -= 1; continue }
            // A run of statements the lowering fused (Alg. 4 lines 4–6 with a causal mask): its
            // executor, or the lines as written when its guard fails.
            if !fused.isEmpty, let node = fused[SpanKey(s.span)] {
                switch node {
                case .causalAttention(let form):
                    if enabled(.causalAttention), let v = try causalAttention(form, f) { return .returned(v) }
                case .evaluationAdam(let form):
                    // Adam's six lines in an evaluation pass (Rules/EvaluationAdam.swift).
                    if !options.applyGradients, enabled(.evaluationAdam), try evaluationAdam(form, s, f) { skip = 5; continue }
                case .adamStep(let form):
                    // Adam's five update lines in one pass per member (Rules/AdamStep.swift).
                    if enabled(.adamStep), try adamStep(form, body[i..<(i + 5)], f) { skip = 4; continue }
                case .headBatching, .columnLoop, .sequenceLoop: break   // need the loop's values: `forLoop`
                case .maskedSelect: break                 // `forAll`
                case .logSoftmaxReturn: break             // a `return` under a log: `statement`; a definition: `defineFunction`
                case .evaluationUpdate: break             // an assignment: `statement`
                }
            }
            if case .returned(let v) = try statement(s, f) { return .returned(v) }
        }
        return .normal
    }

    func statement(_ s: Statement, _ f: Frame) throws -> Flow {
        if options.training != nil, try skipForResume(s, f) { return .normal }   // resuming a training run (TrainingMonitor.swift)
        let start = options.profile ? DispatchTime.now().uptimeNanoseconds : 0
        let opsBefore = ops, monitorBefore = monitorNanos
        // Inside `∇`: the tape's nodes recorded by this line carry its tag (backward time per line).
        let savedTag = profileTape?.tag
        if let t = profileTape, !isInlineLoop(s) { t.tag = profileTag(s, f) }
        defer { if let savedTag { profileTape?.tag = savedTag } }
        // Every statement counts with what it runs: a loop's line includes its body (marked as a
        // loop), a call's line its callee's lines; a batched column loop's body shows 1 execution.
        defer { if options.profile, !isInlineLoop(s) { record(s, f, since: start + (monitorNanos - monitorBefore), opsBefore: opsBefore) } }
        switch s.kind {
        case .comment, .error: return .normal
        case .assign(let target, _, let value):
            if case .call(let c) = target.kind { try defineFunction(c, value, s, f); return .normal }
            let v: Value
            // An evaluation pass's `θ ← θ − η · ∇loss(θ)` keeps θ (`Rules/EvaluationUpdate.swift`).
            if !options.applyGradients, case .evaluationUpdate(let form)? = f.algorithm.plan.statements[SpanKey(s.span)],
               enabled(.evaluationUpdate), let kept = try keptParameters(form, f) {
                v = kept
            } else {
                v = try f.sequences?.cache == nil ? eval(value, f) : sharedValue(value, s, f)   // decoding: computed once (Evaluator+SequenceContext)
            }
            try SizeBudget.checkHeld(at: s.span)
            try assign(target, v, f, s)
            if options.training != nil { try afterAssignment(s, f) }   // a step of a training run (TrainingMonitor.swift)
            return .normal
        case .returnValue(_, let value):
            // `log P(θ)` of a caller: the log of what is returned (`Rules/LogSoftmax.swift`).
            let v = f.logReturn ? try logOfReturn(value, s, f) : try eval(value, f)
            try checkFinite(v, s, f)
            return .returned(v)
        case .forLoop(let loop):
            return try forLoop(loop, s, f)
        case .forAll(let variables, let body):
            try forAll(variables, body, s, f)
            return .normal
        case .ifThen(let i):
            if try truth(try eval(i.condition, f), i.condition.span) { return try block(i.body, f) }
            return .normal
        case .whileLoop(let w):
            var steps = 0
            while try truth(try eval(w.condition, f), w.condition.span) {
                if steps >= options.maxSteps {
                    var d = Diagnostic(.stepLimit, "the `while` loop was stopped after \(steps) steps (the step limit `--max-steps \(options.maxSteps)`): its condition still held", at: s.span)
                    d.notes = ["erratum A10: nothing bounds this loop; the result is what the loop had built when it was stopped"]
                    warnings.append(d)
                    break
                }
                steps += 1
                if case .returned(let v) = try block(w.body, f) { return .returned(v) }
            }
            return .normal
        case .sample(let sm):
            let y = try sample(sm, f, s.span)
            try assign(sm.target, .nat(y), f, s)
            return .normal
        }
    }

    /// Adds the time since `start` and the operations since `opsBefore` to the profile of `s`'s line.
    func record(_ s: Statement, _ f: Frame, since start: UInt64, opsBefore: Int) {
        let cached = lineCache[s.span]
        guard let line = cached ?? lineOf(s, f) else { return }
        if cached == nil { lineCache[s.span] = line }
        let key = ProfileKey(file: f.algorithm.file, line: line)
        var e = profile[key] ?? profileEntry(s, f, line: line)
        e.seconds += Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
        e.operations += ops - opsBefore
        e.calls += 1
        profile[key] = e
    }

    func isLeaf(_ s: Statement) -> Bool {
        switch s.kind {
        case .forLoop, .whileLoop, .ifThen: return false
        default: return true
        }
    }

    func lineOf(_ s: Statement, _ f: Frame) -> Int? {
        // The source line (1-based) of the statement's start.
        guard let text = sourceText(f.algorithm.file) else { return nil }
        let bytes = text.utf8
        var line = 1, i = 0
        for b in bytes { if i >= s.span.start { break }; if b == 0x0A { line += 1 }; i += 1 }
        return line
    }

    func sourceText(_ file: String) -> String? {
        if let t = sourceCache[file] { return t }
        guard let t = try? String(contentsOfFile: file, encoding: .utf8) else { return nil }
        sourceCache[file] = t
        return t
    }

    func truth(_ v: Value, _ span: Span) throws -> Bool {
        switch v {
        case .bool(let b): return b
        default:
            guard let n = number(v) else { throw RuntimeError(.invalidInput, "a condition is \(v.kindName)", at: span) }
            return n != 0
        }
    }

    // MARK: - Assignment

    func assign(_ target: Expr, _ v: Value, _ f: Frame, _ s: Statement) throws {
        try checkFinite(v, s, f)
        switch target.kind {
        case .name(let n):
            // A script that is a bound index variable makes the target a family element (`e_t`, `Y^h`).
            if let i = n.scripts.lastIndex(where: { sc in
                if case .nat? = f.vars[sc.raw] { return true }
                if case .grid? = f.vars[sc.raw] { return true }
                return false
            }) {
                let key = familyKey(n, i)
                // Taken out of the frame while it changes, so that its elements are not copied for one write.
                var fam = f.families.removeValue(forKey: key) ?? Family()
                defer { f.families[key] = fam }
                switch f.vars[n.scripts[i].raw]! {
                case .nat(let t):
                    if fam.columns != nil { fam = Family() }
                    fam.elements[t] = v
                case .grid(let count, _):
                    var m = try tensor(v, target.span)
                    if m.rank == 1 { m = m.reshaped([m.shape[0], 1]).broadcast(to: [m.shape[0], count]) }
                    fam = Family(columns: m)
                default: break
                }
            } else {
                f.vars[n.spelling] = v
            }
        case .index(let base, let indices):
            guard case .name(let n) = base.kind else { throw RuntimeError(.notExecutable, "this assignment target is not executable yet", at: target.span) }
            let idx = try indices.map { i -> Value in
                if case .all = i.kind { return .grid(count: -1, axis: -1) }
                return try eval(i, f)
            }
            if indices.count == 1, case .nat(let t) = idx[0], case .nat(let token) = v {
                if case .familyElement(let key, let i)? = f.algorithm.names[SpanKey(base.span)]?.binding {
                    // `x̃_n[t] ← token`: a position of element n of the family x̃.
                    guard case .nat(let k) = try eval(n.scripts[i].value, f) else {
                        throw RuntimeError(.notExecutable, "this assignment target is not executable yet", at: target.span)
                    }
                    // Taken out of the frame while it changes, so that its elements are not copied for one position.
                    var fam = f.families.removeValue(forKey: key) ?? Family()
                    defer { f.families[key] = fam }
                    fam.elements[k] = try settingToken(fam.elements[k], t, token, of: n.spelling, f, target.span)
                    return
                }
                switch f.vars[n.spelling] {
                case .tokens?, nil: f.vars[n.spelling] = try settingToken(f.vars[n.spelling], t, token, of: n.spelling, f, target.span); return
                default: break
                }
            }
            let value = try tensor(v, target.span)
            let old = f.vars[n.spelling]
            if indices.count == 2, case .all = indices[0].kind {
                switch idx[1] {
                case .grid(let count, _):
                    // Batched `X̃[:, t] ← …`: every column at once.
                    var m = value
                    if m.rank == 1 { m = m.reshaped([m.shape[0], 1]).broadcast(to: [m.shape[0], count]) }
                    if case .tensor(let o)? = old, o.shape != m.shape {
                        throw RuntimeError(.runtimeIndexOutOfRange, "`\(n.spelling)` has shape \(o.shape), the loop writes \(m.shape)", at: target.span)
                    }
                    f.vars[n.spelling] = .tensor(m)
                case .nat(let t):
                    var o: Variable
                    if case .tensor(let x)? = old { o = x } else {
                        let cols = try loopCount(f) ?? t
                        o = Variable(Tensor.zeros([value.shape[0], cols], dtype: dtype))
                    }
                    guard t >= 1, t <= o.shape[1] else {
                        throw RuntimeError(.runtimeIndexOutOfRange, "column \(t) of `\(n.spelling)` is outside 1…\(o.shape[1])", at: target.span)
                    }
                    ops += 1
                    f.vars[n.spelling] = .tensor(o.replacingColumn(t - 1, with: value.reshaped([value.shape[0]])))
                default:
                    throw RuntimeError(.notExecutable, "this column assignment is not executable yet", at: target.span)
                }
            } else if indices.count == 2, case .nat(let r) = idx[0], case .nat(let c) = idx[1], case .tensor(let o)? = old {
                guard r >= 1, r <= o.shape[0], c >= 1, c <= o.shape[1] else {
                    throw RuntimeError(.runtimeIndexOutOfRange, "entry [\(r), \(c)] of `\(n.spelling)` is outside its \(o.shape[0])×\(o.shape[1])", at: target.span)
                }
                ops += 1
                f.vars[n.spelling] = .tensor(o.replacing(lower: [r - 1, c - 1], upper: [r, c], with: value.reshaped([1, 1])))
            } else {
                throw RuntimeError(.notExecutable, "this indexed assignment is not executable yet", at: target.span)
            }
        default:
            throw RuntimeError(.notExecutable, "this assignment target is not executable yet", at: target.span)
        }
    }

    /// The number of iterations of the innermost interpreted loop: the length of a column or token
    /// sequence its body creates (`X̃[:, t] ← …`, `x̃_n[t] ← …`).
    func loopCount(_ f: Frame) throws -> Int? { f.loopCounts.last }

    /// NaN is always an error; infinities under `--check-finite` (except a deliberate `−∞`).
    func checkFinite(_ v: Value, _ s: Statement, _ f: Frame) throws {
        guard case .tensor(let t) = v else { return }
        // One bit-test pass (no copy); the values are read only to report what was found.
        let seen = t.value.finiteness
        if !seen.hasNaN && !(options.checkFinite && seen.hasInfinity) { return }
        let values = t.value.doubles
        if let bad = values.first(where: { $0.isNaN || (options.checkFinite && $0.isInfinite && !assignsInfinity(s)) }) {
            throw RuntimeError(.nonFinite, "\(lineLabel(s, f)) of `\(f.algorithm.name)` produced \(bad.isNaN ? "NaN" : "\(bad)") (shape \(t.shape))", at: s.span,
                               notes: ["erratum A3: layer_norm divides by √v, which is 0 for a constant vector (no ε in the paper)"]
                                      + (losses.isEmpty ? [] : ["after \(losses.count) SGD step(s): training may have diverged; a smaller η (`--set η=…`) may keep it stable"]))
        }
    }

    func assignsInfinity(_ s: Statement) -> Bool {
        if case .assign(_, _, let v) = s.kind, case .unary(.negate, let i) = v.kind, case .infinity = i.kind { return true }
        if case .ifThen(let i) = s.kind { return i.body.contains(where: assignsInfinity) }
        if case .forAll(_, let b) = s.kind { return assignsInfinity(b) }
        return false
    }

    // MARK: - Loops

    func forLoop(_ loop: ForLoop, _ s: Statement, _ f: Frame) throws -> Flow {
        let v = loop.variable.spelling
        var values: [Int] = []
        switch loop.range {
        case .domain(let t):
            guard case .range(let e) = t.kind, case .nat(let n) = try eval(e, f) else {
                throw RuntimeError(.notExecutable, "a loop over this set is not executable yet", at: t.span)
            }
            values = n >= 1 ? Array(1...n) : []
        case .counting(let list):
            let items = list.filter { if case .ellipsis = $0.kind { return false } else { return true } }
            guard let first = items.first, let last = items.last, case .nat(let a) = try eval(first, f), case .nat(let b) = try eval(last, f) else {
                throw RuntimeError(.notExecutable, "this counting loop is not executable yet", at: s.span)
            }
            var step = 1
            if items.count >= 3, case .nat(let a2) = try eval(items[1], f) { step = max(1, a2 - a) }
            values = b >= a ? Array(stride(from: a, through: b, by: step)) : []
        }
        let node = f.algorithm.plan.statements[SpanKey(s.span)]
        // A loop over sequences (`SequenceLoopBatchingRule`): its call runs on chunks of them (Evaluator+SequenceLoop).
        let batched = beginSequenceLoop(node, values, f)
        defer { if let batched { sequenceLoops[batched] = nil } }
        // A column loop (`Rules/ColumnLoop.swift`): once, t bound to all of 1…n.
        if case .columnLoop? = node, enabled(.columnLoop), values.first == 1, values == Array(1...values.count) {
            let saved = f.vars[v]
            f.vars[v] = .grid(count: values.count, axis: 1)
            defer { f.vars[v] = saved }
            if case .returned(let r) = try statement(loop.body[0], f) { return .returned(r) }
            return .normal
        }
        if case .headBatching(let form)? = node, enabled(.headBatching) {
            let start = options.profile ? DispatchTime.now().uptimeNanoseconds : 0, opsBefore = ops
            let savedTag = profileTape?.tag
            if let t = profileTape, let body = loop.body.first { t.tag = profileTag(body, f) }
            defer { if let savedTag { profileTape?.tag = savedTag } }
            if let flow = try headBatchedLoop(form, values, f) {
                // The body's line ran once for all heads (MHAttention line 2): it keeps its row.
                if options.profile, let body = loop.body.first { record(body, f, since: start, opsBefore: opsBefore) }
                return flow
            }
        }
        f.loopCounts.append(values.count)
        defer { f.loopCounts.removeLast() }
        for i in values {
            f.vars[v] = .nat(i)
            // A prelude drawn ahead by a loop over sequences: its values taken, not drawn again (Evaluator+SequenceLoop).
            if let batched, case let skip = replayPrelude(batched, i, f), skip > 0 {
                if case .returned(let r) = try block(Array(loop.body[skip...]), f) { return .returned(r) }
                continue
            }
            if case .returned(let r) = try block(loop.body, f) { return .returned(r) }
        }
        return .normal
    }

    func forAll(_ variables: [Name], _ body: Statement, _ s: Statement, _ f: Frame) throws {
        if f.sequences != nil { throw SequenceFallback() }   // a sequence run proves only the fused causal attention
        if case .maskedSelect(let form)? = f.algorithm.plan.statements[SpanKey(s.span)], enabled(.maskedSelect),
           try maskedSelect(form, f) { return }
        try forAllInterpreted(variables.map(\.spelling), 0, body, s, f)
    }

    /// The executor of a masked select (`Rules/MaskedSelect.swift`): false when the guard fails
    /// (S is not a tensor with one axis per variable, the value is not a number; nothing is
    /// assigned then and the `∀` runs entry by entry).
    func maskedSelect(_ form: MaskedSelectForm, _ f: Frame) throws -> Bool {
        let names = form.variables
        guard case .tensor(let S)? = f.vars[form.target], S.rank == names.count || (f.heads != nil && S.rank == names.count + 1) else { return false }
        let saved = names.map { f.vars[$0] }
        for (k, n) in names.enumerated() { f.vars[n] = .grid(count: S.shape[k], axis: k) }
        defer { for (k, n) in names.enumerated() { f.vars[n] = saved[k] } }
        guard let constant = number(try eval(form.value, f)) else { return false }
        let c = try form.condition.map { try tensor(try eval($0, f), $0.span) } ?? scalar(1)
        // S + bias with bias = constant where the condition holds, 0 elsewhere (differentiable in S);
        // the bias is over the indexed dimensions and broadcasts over the heads of a batched S.
        let mask = c.value.broadcast(to: Array(S.shape.prefix(names.count))).contiguous()
        if constant.isInfinite {
            let bias = Tensor.select(mask, Tensor(repeating: constant, shape: [], dtype: dtype), Tensor.zeros([], dtype: dtype))
            ops += 2
            f.vars[form.target] = .tensor(S + Variable(bias))
        } else {
            let keep = Tensor.select(mask, Tensor.zeros([], dtype: dtype), Tensor.ones([], dtype: dtype))
            let add = Tensor.select(mask, Tensor(repeating: constant, shape: [], dtype: dtype), Tensor.zeros([], dtype: dtype))
            ops += 3
            f.vars[form.target] = .tensor(S * Variable(keep) + Variable(add))
        }
        return true
    }

    func forAllInterpreted(_ names: [String], _ k: Int, _ body: Statement, _ s: Statement, _ f: Frame) throws {
        if k == names.count { _ = try statement(body, f); return }
        guard let n = try rangeOf(names[k], in: body, f) else {
            throw RuntimeError(.notExecutable, "the range of `∀\(names[k])` cannot be found from the statement", at: s.span)
        }
        let saved = f.vars[names[k]]
        defer { f.vars[names[k]] = saved }
        for i in stride(from: 1, through: n, by: 1) {
            f.vars[names[k]] = .nat(i)
            try forAllInterpreted(names, k + 1, body, s, f)
        }
    }

    /// The range of an index variable: the size of a family it indexes (`e_t` → T), or of the
    /// dimension of a matrix it indexes.
    func rangeOf(_ v: String, in s: Statement, _ f: Frame) throws -> Int? {
        var exprs: [Expr] = []
        switch s.kind {
        case .assign(let t, _, let e): exprs = [e, t]
        case .ifThen(let i): exprs = [i.condition]; for b in i.body { if let r = try rangeOf(v, in: b, f) { return r } }
        default: break
        }
        for e in exprs { if let r = rangeOf(v, in: e, f) { return r } }
        return nil
    }

    func rangeOf(_ v: String, in e: Expr, _ f: Frame) -> Int? {
        e.first { x in
            switch x.kind {
            case .name(let n):
                for (i, sc) in n.scripts.enumerated() where sc.raw == v {
                    if let fam = f.families[familyKey(n, i)] { return fam.count }
                }
            case .index(let base, let idx):
                if case .name(let bn) = base.kind, case .tensor(let t)? = f.vars[bn.spelling] {
                    for (k, i) in idx.enumerated() where k < t.rank { if case .name(let n) = i.kind, n.spelling == v { return t.shape[k] } }
                }
            default: break
            }
            return nil
        }
    }

    // MARK: - Sampling

    /// `sample a token y from q ∝ p^{1/τ}`: weights computed as exp((log p − max log p)/τ) when
    /// written as a power (no underflow for small τ; the same distribution), then categorical.
    func sample(_ sm: Sample, _ f: Frame, _ span: Span) throws -> Int {
        var logw: [Double]
        if case .name(let n) = sm.weights.kind, case .power(let baseBinding, let exponent)? = f.algorithm.names[SpanKey(sm.weights.span)]?.binding {
            let baseName = Name(base: n.base, scripts: Array(n.scripts.dropLast()), span: n.span)
            let base = try tensor(try value(of: baseBinding, baseName, span, f), span)
            guard let k = number(try eval(exponent, f)) else { throw RuntimeError(.invalidInput, "the exponent is not a number", at: exponent.span) }
            logw = base.value.doubles.map { Foundation.log($0) * k }
        } else {
            logw = try tensor(try eval(sm.weights, f), span).value.doubles.map { Foundation.log($0) }
        }
        if logw.contains(where: { $0.isNaN }) { throw RuntimeError(.nonFinite, "the distribution to sample from holds NaN", at: span) }
        // Top-k: every token but the k heaviest (ties broken by the smaller id) gets weight 0.
        if let k = options.topK, k < logw.count {
            let order = logw.indices.sorted { logw[$0] > logw[$1] || (logw[$0] == logw[$1] && $0 < $1) }
            for i in order[k...] { logw[i] = -.infinity }
        }
        let m = logw.max() ?? 0
        guard m.isFinite else { throw RuntimeError(.nonFinite, "the distribution to sample from has no positive finite weight", at: span) }
        let w = logw.map { Foundation.exp($0 - m) }
        return rng.categorical(w) + 1
    }
}
