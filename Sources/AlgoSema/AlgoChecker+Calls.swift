import AlgoDiagnostics
import AlgoSyntax

// MARK: - Calls: builtins, local functions, algorithms with hyperparameters bound by name

extension AlgoChecker {
    func call(_ c: Call, _ e: Expr) -> SemType {
        let callee = c.callee.spelling
        if let t = experimentBuiltin(c, e) { return t }
        if let b = Builtin(rawValue: callee), !(b.yieldsToDeclarations && lookup(callee) != nil) { return builtin(b, c, e) }
        if let b = lookup(callee), b.kind == .function, case .function(let arg, let result) = program.resolve(b.type) {
            guard c.arguments.count == 1 else {
                report(Diagnostic(.argumentCount, "`\(callee)` takes 1 argument, the call passes \(c.arguments.count)", at: e.span))
                return .error
            }
            let t = check(c.arguments[0])
            if !program.unify(t, arg) {
                report(Diagnostic(.argumentMismatch, "`\(callee)` is a function of \(show(arg)), not of \(show(t))", at: c.arguments[0].span))
            }
            return result
        }
        guard let (f, i) = program.lookup(callee, from: file) else {
            c.arguments.forEach { check($0) }
            var d = Diagnostic(.unknownAlgorithm, "no algorithm `\(callee)` in this file or its directory", at: c.callee.span,
                               label: "called here")
            let names = program.algorithmNames(from: file)
            if let best = Suggestion.closest(to: callee, among: names, within: max(2, callee.count / 3)) {
                d.notes.append("did you mean `\(best)`?")
            }
            d.notes.append("a call resolves to an algorithm of the same file or of another `.algo` file in the same directory")
            report(d)
            return .error
        }
        let calleeChecker = program.checker(file: f, index: i)
        let s: Summary
        if calleeChecker === self || calleeChecker.state == .running {
            if calleeChecker.state == .fresh { calleeChecker.declare() }
            s = calleeChecker.summaryDeclared()
        } else {
            s = calleeChecker.summary()
        }
        return algorithmCall(c, e, s)
    }

    func builtin(_ b: Builtin, _ c: Call, _ e: Expr) -> SemType {
        let callee = c.callee.spelling
        guard c.arguments.count == 1, c.parameters.isEmpty else {
            report(Diagnostic(.argumentCount, "`\(callee)` takes one argument", at: e.span))
            c.arguments.forEach { check($0) }
            return .error
        }
        let t = check(c.arguments[0])
        calls[e.span] = ResolvedCall(callee: callee, file: "", isBuiltin: true, dimensions: [:], defaulted: [], builtin: b)
        if t.isError { return .error }
        switch b {
        case .length:
            guard case .sequence(_, let len) = t else { return invalid("`length` takes a sequence, not \(show(t))", c.arguments[0]) }
            return .nat(len ?? .named("length(\(text(c.arguments[0])))"))
        case .softmax:
            // Normalises each column (eq. 2).
            guard case .array(let r, let col, _) = t else { return invalid("`softmax` takes a vector or matrix, not \(show(t))", c.arguments[0]) }
            return .array(rows: r, cols: col, element: .probability)
        case .exp, .log, .tanh, .sigma, .GELU, .ReLU:
            if case .array = t { return elementwiseResult(t) }
            if t.isScalar { return .real }
            return invalid("`\(callee)` applies element-wise to numbers, vectors and matrices, not \(show(t))", c.arguments[0])
        }
    }

    /// The summary of an algorithm whose body is being checked (a recursive call): declarations only.
    func summaryDeclared() -> Summary {
        let saved = state
        state = .done
        let s = summary()
        state = saved
        cachedSummary = nil
        return s
    }

    /// A call of another algorithm. Its dimensions are bound, in order: by a named argument at the call,
    /// by the caller's hyperparameter of the same name (not for dimensions of the callee's inputs, which
    /// the arguments fix), to themselves when the parameters come from an untyped input (`θ̂`), and
    /// otherwise by unification with the arguments' shapes; whatever stays unknown is an error (A4).
    func algorithmCall(_ c: Call, _ e: Expr, _ s: Summary) -> SemType {
        let before = diagnostics.count
        let result = algorithmCallUnchecked(c, e, s)
        if diagnostics.count > before {
            // A call with a bad argument: its unbound dimensions and its result are not to be trusted.
            pendingCalls.removeAll { $0.span == e.span }
            return .error
        }
        return result
    }

    private func algorithmCallUnchecked(_ c: Call, _ e: Expr, _ s: Summary) -> SemType {
        // Inputs: positional, then defaults (`Z = X`).
        let argTypes = c.arguments.map { check($0) }
        let needed = s.inputs.filter { $0.defaultValue == nil }.count
        if c.arguments.count > s.inputs.count || c.arguments.count < needed {
            let names = s.inputs.map { "`\($0.key)`" }.joined(separator: ", ")
            var d = Diagnostic(.argumentCount,
                               "`\(s.name)` takes \(s.inputs.count) input\(s.inputs.count == 1 ? "" : "s") (\(names)), the call passes \(c.arguments.count)",
                               at: e.span, label: "\(c.arguments.count) input\(c.arguments.count == 1 ? "" : "s")")
            if c.arguments.count < s.inputs.count, s.name == "MHAttention" || s.inputs.count == 2 {
                d.notes.append("self-attention is called \"with token sequence Z = X\" (Section 5): give the second input a default, `Z = X`, in the title of `\(s.name)`")
            }
            report(d)
            return .error
        }
        // Parameters: named ones by name, the rest positionally.
        var paramArgs: [String: CallParameter] = [:]
        var dimArgs: [String: Dim] = [:]
        var positional: [CallParameter] = []
        for p in c.parameters {
            guard let target = p.target else { positional.append(p); continue }
            var targetName: String? = nil
            if case .name(let n) = target.kind { targetName = n.spelling }
            if case .index(let b, _) = target.kind, case .name(let n) = b.kind { targetName = n.spelling }
            guard let tn = targetName else {
                report(Diagnostic(.unknownParameter, "a named argument is written `Name ≡ value` or `Name[i, j] = value`", at: target.span))
                continue
            }
            if s.params.contains(where: { $0.key == tn }) { paramArgs[tn] = p; continue }
            if s.allDims.contains(tn), case .name = target.kind, let d = dimOf(p.value, allowFree: false) { dimArgs[tn] = d; continue }
            var d = Diagnostic(.unknownParameter, "`\(s.name)` has no parameter or hyperparameter `\(tn)`", at: target.span,
                               label: "not a parameter of `\(s.name)`")
            let all = s.params.map(\.key) + s.allDims
            if let best = Suggestion.closest(to: tn, among: all, within: 2) {
                d.notes.append("did you mean `\(best)`?")
            }
            report(d)
        }
        let free = s.params.filter { paramArgs[$0.key] == nil }
        if positional.count > free.count {
            report(Diagnostic(.argumentCount, "`\(s.name)` takes \(s.params.count) parameter\(s.params.count == 1 ? "" : "s") after `|`, the call passes \(c.parameters.count)",
                              at: positional[free.count].span, label: "one too many"))
            positional.forEach { check($0.value) }
            return .error
        }
        for (p, arg) in zip(free, positional) { paramArgs[p.key] = arg }

        // Parameter argument types (needed to know which ones are untyped inputs).
        var paramTypes: [String: SemType] = [:]
        for (k, p) in paramArgs where p.target == nil || isPlainName(p.target) {
            if p.target == nil { paramTypes[k] = check(p.value) }
        }

        // Dimension bindings.
        var map: [String: Dim] = [:]
        var fresh: [(String, Dim)] = []
        var selfBound: Set<String> = []
        for p in s.params {
            guard let t = paramTypes[p.key], case .variable = t, isUntypedInput(paramArgs[p.key]!.value) else { continue }
            for d in p.type.dims { for v in d.variables { if case .named(let n) = v { selfBound.insert(n) } } }
        }
        for name in s.allDims {
            if let d = dimArgs[name] { map[name] = d; continue }
            if name.hasPrefix("length(") {
                // An input's length is its argument's; an output's (`y ∈ V*` of DInference) is the callee's to decide.
                if let i = s.inputs.firstIndex(where: { "length(\($0.key))" == name }), i < argTypes.count,
                   case .sequence(_, let len) = argTypes[i] {
                    map[name] = len ?? .named("length(\(text(c.arguments[i])))")
                } else {
                    map[name] = program.solver.fresh()
                }
                continue
            }
            if !s.inputDims.contains(name), hyperparameters.contains(name), case .nat? = lookup(name).map({ program.resolve($0.type) }) {
                map[name] = lookup(name).flatMap { b -> Dim? in if case .nat(let v) = program.resolve(b.type) { return v } else { return nil } } ?? .named(name)
                continue
            }
            if selfBound.contains(name) { map[name] = .named(name); continue }
            let u = program.solver.fresh()
            map[name] = u
            if !s.inputDims.contains(name) { fresh.append((name, u)) }
        }
        func inst(_ t: SemType) -> SemType {
            t.mapDims { d in d.substitute { v in if case .named(let n) = v { return map[n] } else { return nil } } }
        }

        // Inputs.
        var defaulted: [String] = []
        var inputTypes: [String: SemType] = [:]
        for (i, input) in s.inputs.enumerated() {
            let expected = inst(input.type)
            inputTypes[input.key] = expected
            if i < argTypes.count {
                argument(argTypes[i], c.arguments[i], expected, "input `\(input.key)`", s)
            } else if let dv = input.defaultValue, case .name(let dn) = dv.kind, let src = inputTypes[dn.spelling] {
                defaulted.append(input.key)
                if !program.unify(expected, src) {
                    report(Diagnostic(.argumentMismatch,
                                      "the default `\(input.key) = \(dn.spelling)` of `\(s.name)` needs \(show(expected)), but `\(dn.spelling)` is \(show(src)) here",
                                      at: e.span))
                }
            }
        }
        // Parameters.
        for p in s.params {
            let expected = inst(p.type)
            guard let arg = paramArgs[p.key] else {
                if s.hyperparameters.contains(p.key), let b = lookup(p.key), b.kind == .hyperparameter {
                    argument(program.resolve(b.type), Expr(.name(c.callee), c.callee.span), expected, "parameter `\(p.key)` (bound by name)", s)
                } else {
                    report(Diagnostic(.unknownParameter, "the call does not bind parameter `\(p.key)` of `\(s.name)`", at: e.span,
                                      label: "`\(p.key)` missing"))
                }
                continue
            }
            if let target = arg.target, case .index(_, let pattern) = target.kind {
                // `Mask[t, t′] = [[t ≤ t′]]`: the value of each entry, with t, t′ ranging over the dimensions.
                guard case .array(let r, let col, _) = program.resolve(expected), pattern.count == (col == nil ? 1 : 2) else {
                    report(Diagnostic(.invalidOperand, "`\(p.key)` of `\(s.name)` is \(show(expected)) and cannot be given entry by entry", at: target.span))
                    continue
                }
                push()
                let dims = col.map { [r, $0] } ?? [r]
                for (x, d) in zip(pattern, dims) {
                    guard case .name(let v) = x.kind else { report(Diagnostic(.expectedName, "an entry pattern binds names", at: x.span)); continue }
                    define(v.spelling, Binding(type: .index(d), origin: v.span, kind: .indexVariable(strict: true), loopDepth: loopDepth))
                }
                let vt = check(arg.value)
                pop()
                if !vt.isScalar && !vt.isError {
                    report(Diagnostic(.argumentMismatch, "each entry of `\(p.key)` is a number, not \(show(vt))", at: arg.value.span))
                }
                continue
            }
            let t = paramTypes[p.key] ?? check(arg.value)
            if arg.target != nil, t.isScalar { continue }  // `Mask ≡ 1`: every entry
            argument(t, arg.value, expected, "parameter `\(p.key)`", s)
        }
        let poisoned = argTypes.contains(where: \.isError) || paramTypes.values.contains(where: \.isError)
        if !fresh.isEmpty && !poisoned { pendingCalls.append((e.span, s.name, fresh)) }
        if poisoned { return .error }
        calls[e.span] = ResolvedCall(callee: s.name, file: s.file, isBuiltin: false, dimensions: map, defaulted: defaulted)
        return s.output.map(inst) ?? .error
    }

    func isPlainName(_ e: Expr?) -> Bool {
        guard let e, case .name = e.kind else { return false }
        return true
    }

    /// An untyped `Input:` (θ, θ̂): its parameters carry the callee's own dimension names.
    func isUntypedInput(_ e: Expr) -> Bool {
        guard case .name(let n) = e.kind, let b = lookup(n.spelling) else { return false }
        return b.kind == .input
    }

    func argument(_ actual: SemType, _ e: Expr, _ expected: SemType, _ what: String, _ s: Summary) {
        if actual.isError { return }
        // Collections with the same members: name the first member whose shape differs.
        if case .collection(let a) = program.resolve(actual), case .collection(let x) = program.resolve(expected),
           a.members.map(\.key) == x.members.map(\.key) {
            for (ma, mx) in zip(a.members, x.members) where !program.unify(ma.type, mx.type) {
                var d = Diagnostic(.argumentMismatch,
                                   "\(what) of `\(s.name)` needs its member `\(mx.key)` to be \(show(mx.type)), but in `\(text(e))` it is \(show(ma.type))",
                                   at: e.span, label: "`\(mx.key)` ∈ \(show(ma.type))")
                d.notes.append("the other inputs and parameters of the call fix the dimensions of `\(s.name)` to this")
                d.notes.append("`\(s.name)` is Algorithm \(s.number) in \(s.file)")
                report(d)
                return
            }
            return
        }
        if program.unify(actual, expected) { return }
        var d = Diagnostic(.argumentMismatch,
                           "\(what) of `\(s.name)` is declared \(show(expected)), but `\(text(e))` is \(show(actual))",
                           at: e.span, label: show(actual))
        d.labels += provenance(e)
        d.notes.append("`\(s.name)` is Algorithm \(s.number) in \(s.file)")
        report(d)
    }

    /// After a statement: every callee dimension still unknown is an unbound hyperparameter (A4).
    func flushPendingCalls() {
        for p in pendingCalls {
            let unbound = p.dims.filter { program.solver.resolve($0.1).hasUnknowns }.map(\.0).filter { !reportedHyper.contains($0) }
            guard !unbound.isEmpty else { continue }
            reportedHyper.formUnion(unbound)
            let list = unbound.map { "`\($0)`" }
            let names = list.count == 1 ? list[0] : list.dropLast().joined(separator: ", ") + " and " + list.last!
            let plural = unbound.count > 1
            var d = Diagnostic(.unboundHyperparameter,
                               "hyperparameter\(plural ? "s" : "") \(names) of `\(p.callee)` \(plural ? "are" : "is") not bound",
                               at: p.span, label: "`\(p.callee)` needs \(names) here")
            d.notes.append("no named argument, no hyperparameter of `\(name)` with \(plural ? "these names" : "this name"), and no argument shape fixes \(plural ? "them" : "it")")
            d.help = "declare \(plural ? "them" : "it") in `\(name)`: `Hyperparameters: \(unbound.joined(separator: ", ")) ∈ ℕ`"
            report(d)
        }
        pendingCalls.removeAll()
    }
}
