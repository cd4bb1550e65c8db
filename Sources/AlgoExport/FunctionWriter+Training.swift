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
        // The dataset elements of this iteration (`x_n`; EDTraining's `z_n` and `x_n`), in order of first
        // use, and those of a minibatch's Σ in the loss (DTrainingMinibatch's `Σ_{n=(b−1)B+1}^{bB} … x_n`).
        let minibatch = minibatchSum(prefix)
        var elements: [(family: String, spelling: String, argument: String)] = []
        var bad: Span? = nil
        for st in l.body {
            _ = st.firstExpression { x -> Bool? in
                guard case .name(let n) = x.kind, case .familyElement(let fam, let index)? = algorithm.bindings[x.span] else { return nil }
                if case .name(let iv) = n.scripts[index].value.kind, iv.spelling == minibatch?.variable {
                    return nil
                } else if case .name(let iv) = n.scripts[index].value.kind, iv.spelling == l.variable.spelling {
                    if !elements.contains(where: { $0.family == fam }) {
                        scopeNats[l.variable.spelling] = v
                        elements.append((fam, n.spelling, name(n, x.span).text))
                        scopeNats[l.variable.spelling] = nil
                    }
                } else if arrayFamilies[fam] == nil { bad = x.span }
                return nil
            }
        }
        if let bad {
            refuse(.exportGradient, "the step reads a dataset element other than this iteration's or its minibatch's (`Σ_{n=a}^{b} … x_n`, n read only as the element's index)", at: bad)
            return
        }
        guard !elements.isEmpty || minibatch != nil else { refuse(.exportGradient, "the loop takes ∇ without reading a dataset element (`x_n`)", at: s.span); return }

        let base = signature.name
        let stateSpellings = Array(state)
        let hyperparameters = Set(keywords.map(\.spelling))
        // A minibatch's sequences are given to the step as one list per family (`xs`), in the order of n.
        let lists = (minibatch?.families ?? []).map { (family: $0.family, element: $0.spelling, py: PythonNames.ascii($0.base) + "s") }
        let described = (elements.map(\.spelling) + lists.map { "the minibatch \($0.py) (its \($0.element), in order)" }).joined(separator: ", ")
        // NAME_loss
        let loss = subWriter(hyperparameters)
        let thetaSpelling = lossArgument(l.body[lossIndex]) ?? "θ"
        let thetaPy = loss.names.name(thetaSpelling)
        let lossInputs = elements.map { loss.names.name($0.spelling) } + lists.map(\.py)
        loss.known.formUnion([thetaPy] + lossInputs)
        loss.elements = zip(elements, lossInputs).map { ($0.0.family, l.variable.spelling, $0.1) }
        if let minibatch { loss.batch = (minibatch.variable, lists) }
        loss.write(prefix)
        loss.lineTag = l.body[lossIndex].lineNumber ?? ""
        loss.emit("return \(loss.names.name(lossName))(\(thetaPy))")
        loss.finish(name: base + "_loss", doc: "\(paperName), \(linesPhrase(prefix)): loss(θ) for \(minibatch == nil ? "one example " : "")\(described).",
                    inputs: [thetaPy] + lossInputs, params: [])
        let lossKeywords = loss.keywords.map { "\($0.py)=\($0.py)" }.joined(separator: ", ")
        let kwTail = lossKeywords.isEmpty ? "" : ", " + lossKeywords

        // NAME_step and NAME_batch_step: the update lines, with the loss of one example or of a batch.
        func stepFunction(batch: Bool) -> FunctionWriter {
            let w = subWriter(hyperparameters)
            let statePy = stateSpellings.map { w.names.name($0) }
            let inputs = elements.map { w.names.name(batch ? PythonNames.ascii($0.spelling) + "s" : $0.spelling) } + lists.map(\.py)
            w.known.formUnion(statePy + inputs)
            for k in loss.keywords { w.addKeyword(k.spelling, isDimension: k.isDimension) }
            w.lineTag = lineRange(prefix)
            let lossPy = w.names.name(lossName)
            let one = elements.map { PythonNames.ascii($0.spelling) }
            let call = batch ? "jnp.mean(jax.vmap(lambda \(one.joined(separator: ", ")): \(base)_loss(theta, \(one.joined(separator: ", "))\(kwTail)))(\(inputs.joined(separator: ", "))))"
                             : "\(base)_loss(theta, \(inputs.joined(separator: ", "))\(kwTail))"
            w.emit("\(lossPy) = lambda theta: \(call)")
            w.functions[lossName] = lossPy
            w.known.insert(lossPy)
            w.write(rest)
            w.lineTag = lineRange(l.body)
            w.emit("return " + statePy.joined(separator: ", "))
            let doc = batch ? "\(paperName), \(linesPhrase(l.body)) for a batch (\(inputs.joined(separator: ", ")): B equal-length sequences each, stacked): the update as written, ∇ of the loss averaged over the batch."
                            : "\(paperName), \(linesPhrase(l.body)): one update on \(described); returns \(stateSpellings.joined(separator: ", "))."
            w.finish(name: base + (batch ? "_batch_step" : "_step"), doc: doc, inputs: statePy + inputs, params: [])
            return w
        }
        // A step over a minibatch already averages over its batch: it has no `_batch_step`.
        let steps = [stepFunction(batch: false)] + (minibatch == nil ? [stepFunction(batch: true)] : [])
        let step = steps[0]
        let statics = step.keywords.filter(\.isDimension).map { "\"\($0.py)\"" }
        for w in [loss] + steps { chunks += w.chunks; functionNames += w.functionNames; diagnostics += w.diagnostics }
        let argnames = "static_argnames=(\(statics.joined(separator: ", "))\(statics.count == 1 ? "," : ""))"
        chunks.append(zip(["_step", "_batch_step"], steps).map { "\(base)\($0.0)_jit = jax.jit(\(base)\($0.0), \(argnames))" }.joined(separator: "\n"))
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
        // The minibatch's lists: its sum's bounds, in this loop's iteration (`(b − 1)B + 1 … bB`).
        let batchLists = minibatch.map { m in
            m.families.map { "[\(familyName($0.family))[_n] for _n in range(\(expr(m.lower).text), \(expr(m.upper).text) + 1)]" }
        } ?? []
        let arguments = statePy + elements.map(\.argument) + batchLists + kwargs
        emit("\(statePy.joined(separator: ", ")) = \(base)_step_jit(\(arguments.joined(separator: ", ")))")
        indent -= 1
        scopeNats[l.variable.spelling] = nil
    }

    /// A minibatch's sum in the lines up to the loss, `Σ_{n=a}^{b} … x_n …`: its variable, bounds, and
    /// the dataset families it indexes (with an element's spelling). Only when n is read nowhere in
    /// the body but as the index of those elements (`x_n`), so that the terms are the same function
    /// of one sequence each, whatever a and b.
    func minibatchSum(_ statements: [Statement]) -> (variable: String, lower: Expr, upper: Expr, families: [(family: String, spelling: String, base: String)])? {
        for st in statements {
            if let found = st.firstExpression({ x -> (String, Expr, Expr, [(family: String, spelling: String, base: String)])? in
                guard case .sum(let s) = x.kind, let lower = s.lower, case .binary(.equal, let v, let from) = lower.value.kind,
                      case .name(let vn) = v.kind, let upper = s.upper else { return nil }
                var families: [(family: String, spelling: String, base: String)] = []
                let other = s.body.contains(intoNameScripts: false) { y in
                    guard case .name(let n) = y.kind else { return false }
                    if n.spelling == vn.spelling { return true }
                    guard n.scripts.contains(where: { $0.raw == vn.spelling }) else { return false }
                    guard case .familyElement(let fam, let index)? = algorithm.bindings[y.span], arrayFamilies[fam] == nil, n.scripts.count == 1,
                          index == 0, case .name(let iv) = n.scripts[0].value.kind, iv.spelling == vn.spelling else { return true }
                    if !families.contains(where: { $0.family == fam }) { families.append((fam, n.spelling, n.base)) }
                    return false
                }
                return other || families.isEmpty ? nil : (vn.spelling, from, upper.value, families)
            }) { return found }
        }
        return nil
    }

    /// A writer for a function extracted from this algorithm (same checker tables and names).
    func subWriter(_ hyperparameters: Set<String>) -> FunctionWriter {
        let w = FunctionWriter(algorithm, context: context)
        w.outerHyperparameters = hyperparameters
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

    /// "line 3" or "lines 3–5", for docstrings.
    func linesPhrase(_ statements: [Statement]) -> String {
        let r = lineRange(statements)
        return (r.contains("–") ? "lines " : "line ") + r
    }

    func lineRange(_ statements: [Statement]) -> String {
        let numbers = statements.compactMap(\.lineNumber)
        guard let a = numbers.first, let b = numbers.last else { return "" }
        return a == b ? a : "\(a)–\(b)"
    }
}
