import AlgoDiagnostics
import AlgoSema
import AlgoSyntax

/// The training loops (Algorithms 11–13, 18): the body of the innermost loop that takes `∇` becomes
/// three functions, so that the step can be compiled once (`jax.jit`) and spread over devices:
///
/// * `NAME_loss(theta, x_n, *, …)`: the lines up to the loss's definition, returning loss(θ);
/// * `NAME_step(state…, x_n, *, …)`: the update lines as written, with ∇ of that loss (`jax.grad`);
/// * `NAME_batch_step(state…, xs, *, …)`: the same update lines with the loss averaged over a batch
///   `xs` of equal-length sequences (`jax.vmap`), the form that runs data-parallel (README).
///
/// The algorithm itself keeps its loops and calls the jitted step once per sequence.
extension FunctionWriter {
    func isTrainingLoop(_ l: ForLoop) -> Bool {
        func hasGradient(_ s: Statement) -> Bool { s.contains(expression: { if case .unary(.gradient, _) = $0.kind { true } else { false } }) }
        guard l.body.contains(where: hasGradient) else { return false }
        // Innermost: no loop in the body takes ∇ itself.
        return !l.body.contains { s in if case .forLoop = s.kind { return hasGradient(s) } else { return false } }
    }

    func trainingLoop(_ l: ForLoop, _ s: Statement, variable v: String, upper: String) {
        // The loss: the function of θ whose ∇ is taken, and the line that defines it.
        var lossName: String? = nil
        for st in l.body {
            if let c = st.firstExpression({ x -> Call? in
                if case .unary(.gradient, let a) = x.kind, case .call(let c) = a.kind { return c }
                return nil
            }) { lossName = c.callee.spelling; break }
        }
        guard let lossName, let lossIndex = l.body.firstIndex(where: { st in
            if case .assign(let t, _, _) = st.kind, case .call(let c) = t.kind { return c.callee.spelling == lossName }
            return false
        }) else {
            refuse(.exportGradient, "`∇` of a function not defined in this loop's body is not exported", at: s.span)
            return
        }
        let prefix = Array(l.body[...lossIndex]), rest = Array(l.body[(lossIndex + 1)...])
        let prefixAssigned = assignedNames(prefix), restAssigned = assignedNames(rest)
        // State: what the update lines change that exists before the loop (θ, Adam's m, v, s).
        let state = restAssigned.filter { known.contains(names.name($0)) }
        if let bad = prefixAssigned.first(where: { known.contains(names.name($0)) }) {
            refuse(.exportGradient, "the lines before the loss change `\(bad)`, which the loop carries; the step cannot be split from the loss", at: s.span)
            return
        }
        for local in prefixAssigned where local != lossName {
            if rest.contains(where: { $0.contains(expression: { if case .name(let n) = $0.kind { n.spelling == local } else { false } }) }) {
                refuse(.exportGradient, "the update lines read `\(local)`, defined with the loss; only the loss function may use it", at: s.span)
                return
            }
        }
        // The dataset element of this iteration (`x_n`).
        var element: (spelling: String, argument: String)? = nil
        var bad: Span? = nil
        for st in l.body {
            _ = st.firstExpression { x -> Bool? in
                guard case .name(let n) = x.kind, case .familyElement(_, let index)? = algorithm.bindings[x.span] else { return nil }
                if case .name(let iv) = n.scripts[index].value.kind, iv.spelling == l.variable.spelling {
                    if element == nil {
                        scopeNats[l.variable.spelling] = v
                        element = (n.spelling, name(n, x.span).text)
                        scopeNats[l.variable.spelling] = nil
                    }
                } else if arrayFamilies.isEmpty { bad = x.span }
                return nil
            }
        }
        if let bad { refuse(.exportGradient, "the step reads a dataset element other than this iteration's", at: bad); return }
        guard let element else { refuse(.exportGradient, "the loop takes ∇ without reading a dataset element (`x_n`)", at: s.span); return }

        let base = signature.name
        let stateSpellings = Array(state)
        // NAME_loss
        let loss = subWriter()
        let elementKey: String? = { if case .familyElement(let fam, _)? = firstElementBinding(l.body, l.variable.spelling) { return fam } else { return nil } }()
        let thetaSpelling = lossArgument(l.body[lossIndex]) ?? "θ"
        let thetaPy = loss.names.name(thetaSpelling), xPy = loss.names.name(element.spelling)
        loss.known.formUnion([thetaPy, xPy])
        loss.element = elementKey.map { ($0, l.variable.spelling, xPy) }
        loss.write(prefix)
        loss.lineTag = l.body[lossIndex].lineNumber ?? ""
        loss.emit("return \(loss.names.name(lossName))(\(thetaPy))")
        loss.finish(name: base + "_loss", doc: "\(paperName), lines \(lineRange(prefix)): loss(θ) for one sequence \(element.spelling).", inputs: [thetaPy, xPy], params: [])
        let lossKeywords = loss.keywords.map { "\($0.py)=\($0.py)" }.joined(separator: ", ")

        // NAME_step and NAME_batch_step: the update lines, with the loss of one sequence or of a batch.
        func stepFunction(batch: Bool) -> FunctionWriter {
            let w = subWriter()
            let statePy = stateSpellings.map { w.names.name($0) }
            let xs = w.names.name(batch ? "xs" : element.spelling)
            w.known.formUnion(statePy + [xs])
            if !batch { w.element = elementKey.map { ($0, l.variable.spelling, xs) } }
            for k in loss.keywords { w.addKeyword(k.spelling, isDimension: k.isDimension) }
            w.lineTag = lineRange(prefix)
            let lossPy = w.names.name(lossName)
            let call = batch ? "jnp.mean(jax.vmap(lambda x_n: \(base)_loss(theta, x_n\(lossKeywords.isEmpty ? "" : ", " + lossKeywords)))(\(xs)))"
                             : "\(base)_loss(theta, \(xs)\(lossKeywords.isEmpty ? "" : ", " + lossKeywords))"
            w.emit("\(lossPy) = lambda theta: \(call)")
            w.functions[lossName] = lossPy
            w.known.insert(lossPy)
            w.write(rest)
            w.lineTag = ""
            w.emit("return " + (statePy.count == 1 ? statePy[0] : statePy.joined(separator: ", ")))
            let doc = batch ? "\(paperName), lines \(lineRange(l.body)) for a batch xs of equal-length sequences (B × ℓ): the update as written, ∇ of the loss averaged over the batch."
                            : "\(paperName), lines \(lineRange(l.body)): one update on the sequence \(element.spelling); returns \(stateSpellings.joined(separator: ", "))."
            w.finish(name: base + (batch ? "_batch_step" : "_step"), doc: doc, inputs: statePy + [xs], params: [])
            return w
        }
        let step = stepFunction(batch: false)
        let batch = stepFunction(batch: true)
        let statics = step.keywords.filter(\.isDimension).map { "\"\($0.py)\"" }
        for w in [loss, step, batch] { chunks += w.chunks; functionNames += w.functionNames; diagnostics += w.diagnostics }
        chunks.append("\(base)_step_jit = jax.jit(\(base)_step, static_argnames=(\(statics.joined(separator: ", "))\(statics.count == 1 ? "," : "")))\n"
                      + "\(base)_batch_step_jit = jax.jit(\(base)_batch_step, static_argnames=(\(statics.joined(separator: ", "))\(statics.count == 1 ? "," : "")))")
        // The loop in the algorithm: one jitted step per sequence.
        var kwargs: [String] = []
        for k in step.keywords {
            if k.isDimension {
                kwargs.append("\(k.py)=\(dimArgument(.named(k.spelling), calleeName: k.spelling))")
            } else {
                if !known.contains(names.name(k.spelling)) { addKeyword(k.spelling, isDimension: false) }
                kwargs.append("\(k.py)=\(names.name(k.spelling))")
            }
        }
        let statePy = stateSpellings.map { names.name($0) }
        emit("for \(v) in range(1, \(upper) + 1):")
        scopeNats[l.variable.spelling] = v
        indent += 1
        lineTag = lineRange(l.body)
        pendingQuote = "\(lineRange(l.body)): \(base)_step"
        emit("\(statePy.joined(separator: ", ")) = \(base)_step_jit(\(statePy.joined(separator: ", ")), \(element.argument)\(kwargs.isEmpty ? "" : ", " + kwargs.joined(separator: ", ")))")
        indent -= 1
        scopeNats[l.variable.spelling] = nil
    }

    /// A writer for a function extracted from this algorithm (same checker tables and names).
    func subWriter() -> FunctionWriter {
        let w = FunctionWriter(algorithm, context: context)
        w.masks = masks
        w.requireKeywords = true
        w.lines = []
        w.indent = 1
        w.keywords = []
        return w
    }

    func firstElementBinding(_ body: [Statement], _ variable: String) -> NameBinding? {
        for st in body {
            if let b = st.firstExpression({ x -> NameBinding? in
                guard case .name(let n) = x.kind, case .familyElement(_, let index)? = algorithm.bindings[x.span],
                      case .name(let iv) = n.scripts[index].value.kind, iv.spelling == variable else { return nil }
                return algorithm.bindings[x.span]
            }) { return b }
        }
        return nil
    }

    func write(_ statements: [Statement]) {
        headerEnd = lines.count
        for s in statements { statement(s) }
    }

    /// The names (spellings) the statements assign: locals, functions of θ.
    func assignedNames(_ statements: [Statement]) -> [String] {
        var out: [String] = []
        func visit(_ s: Statement) {
            if case .assign(let t, _, _) = s.kind {
                switch t.kind {
                case .name(let n): if !out.contains(n.spelling) { out.append(n.spelling) }
                case .call(let c): if !out.contains(c.callee.spelling) { out.append(c.callee.spelling) }
                case .index(let b, _): if case .name(let n) = b.kind, !out.contains(n.spelling) { out.append(n.spelling) }
                default: break
                }
            }
            s.substatements.forEach(visit)
        }
        statements.forEach(visit)
        return out
    }

    func lossArgument(_ s: Statement) -> String? {
        if case .assign(let t, _, _) = s.kind, case .call(let c) = t.kind, let a = c.arguments.first, case .name(let n) = a.kind { return n.spelling }
        return nil
    }

    func lineRange(_ statements: [Statement]) -> String {
        let numbers = statements.compactMap(\.lineNumber)
        guard let a = numbers.first, let b = numbers.last else { return "" }
        return a == b ? a : "\(a)–\(b)"
    }
}
