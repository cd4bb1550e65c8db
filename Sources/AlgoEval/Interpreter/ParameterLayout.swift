import AlgoDiagnostics
import AlgoSema
import AlgoSyntax
import AlgoTensor

/// One parameter of an algorithm: its checkpoint name and shape.
public struct ParameterSpec: Sendable, Equatable {
    public var name: String
    public var shape: [Int]
}

/// Every parameter an algorithm reads, named by the checkpoint convention (README "Parameter
/// names"): the paper's name in canonical Unicode with bound indices substituted (`γ^1_2`,
/// `W^2_mlp1`), braces from two digits on (`γ^1_{12}`), members of a collection passed to a callee
/// prefixed by the collection's name and a dot (`𝓦_2.W^3_q`).
public enum ParameterLayout {
    public static func parameters(of a: LoadedAlgorithm, program: EvalProgram, dims: [String: Int]) throws -> [ParameterSpec] {
        // Size messages of callees' groups name the outermost algorithm's dimensions.
        if SizeBudget.outerDimensions.isEmpty, !dims.isEmpty {
            return try SizeBudget.$outerDimensions.withValue(dims) { try parameters(of: a, program: program, dims: dims) }
        }
        var out: [ParameterSpec] = []
        for l in a.header(.parameters) {
            switch l.content {
            case .declarations(let d): out += try declarations(d, a, program, dims, [:])
            case .collection(let c):
                for m in c.members {
                    switch m {
                    case .declarations(let d): out += try declarations(d, a, program, dims, [:])
                    case .group(let g):
                        guard case .range(let de) = g.domain.kind else { continue }
                        let n = try dimValue(de, dims, g.domain.span)
                        // Copy 1 is listed first and the whole group checked against the memory
                        // budget before the other n − 1 copies are (a checkpoint's L = 2⁶³−1).
                        let first = try g.members.flatMap { try declarations($0, a, program, dims, [g.variable.spelling: 1]) }
                        try SizeBudget.checkRepeat(count: n, domain: ExprPrinter.print(de), each: first, dims: dims, dtype: .f32, at: g.domain.span)
                        if n >= 1 { out += first }
                        for i in stride(from: 2, through: n, by: 1) {
                            for d in g.members { out += try declarations(d, a, program, dims, [g.variable.spelling: i]) }
                        }
                    case .comment: break
                    }
                }
            }
        }
        // Untyped inputs that are parameter collections (θ̂ of Algorithms 14 and 15).
        for l in a.header(.input) {
            guard case .declarations(let d) = l.content else { continue }
            for decl in d.declarations where decl.type == nil {
                for ne in decl.names {
                    guard case .name(let n) = ne.kind, let (callee, cdims) = calleeTaking(n.spelling, a, program, dims) else { continue }
                    out += try parameters(of: callee, program: program, dims: cdims)
                }
            }
        }
        return out
    }

    static func declarations(_ d: DeclarationLine, _ a: LoadedAlgorithm, _ program: EvalProgram, _ dims: [String: Int], _ subst: [String: Int]) throws -> [ParameterSpec] {
        var out: [ParameterSpec] = []
        for decl in d.declarations {
            for ne in decl.names {
                guard case .name(let n) = ne.kind else { continue }
                let name = Evaluator.spelling(n) { subst[$0] }
                if let t = decl.type {
                    guard case .power(_, let dimExprs, _) = t.kind else {
                        throw RuntimeError(.notExecutable, "the parameter `\(name)` has a type that is no vector or matrix", at: t.span)
                    }
                    out.append(ParameterSpec(name: name, shape: try dimExprs.map { try dimValue($0, dims, $0.span) }))
                } else if let (callee, cdims) = calleeTaking(n.spelling, a, program, dims, subst: subst) {
                    out += try parameters(of: callee, program: program, dims: cdims).map { ParameterSpec(name: name + "." + $0.name, shape: $0.shape) }
                } else {
                    throw RuntimeError(.missingValue, "no call uses the untyped parameter `\(name)`, so its shape is unknown", at: ne.span)
                }
            }
        }
        return out
    }

    /// The algorithm called with `name` as a parameter (`MHAttention(X̃ | 𝓦_l, …)` for `𝓦_l`) and its dimension values.
    static func calleeTaking(_ name: String, _ a: LoadedAlgorithm, _ program: EvalProgram, _ dims: [String: Int], subst: [String: Int] = [:]) -> (LoadedAlgorithm, [String: Int])? {
        for (span, r) in a.checked.calls.sorted(by: { $0.key.start < $1.key.start }) where !r.isBuiltin {
            guard let call = findCall(span, in: a.syntax.body) else { continue }
            let passes = call.parameters.contains { p in
                if p.target == nil, case .name(let n) = p.value.kind { return n.spelling == name }
                return false
            }
            guard passes, let callee = program.find(r.callee, file: r.file) else { continue }
            var cdims: [String: Int] = [:]
            for (k, d) in r.dimensions {
                if let v = d.evaluate({ if case .named(let n) = $0 { return dims[n] } else { return nil } }) { cdims[k] = v }
            }
            return (callee, cdims)
        }
        return nil
    }

    /// The call expression at `span` anywhere in `body`.
    static func findCall(_ span: Span, in body: [Statement]) -> Call? {
        body.lazy.compactMap { s in
            s.firstExpression { e -> Call? in
                if e.span == span, case .call(let c) = e.kind { return c }
                return nil
            }
        }.first
    }

    /// A dimension expression's value: names, numbers, products (`H d_mid`), sums.
    static func dimValue(_ e: Expr, _ dims: [String: Int], _ span: Span) throws -> Int {
        switch e.kind {
        case .number(let s): if let v = Int(s) { return v }
        case .name(let n):
            if let v = dims[n.spelling] { return v }
            throw RuntimeError(.missingValue, "the dimension `\(n.spelling)` has no value; give it with `--set \(n.spelling)=…`", at: span)
        case .binary(let op, let a, let b):
            let x = try dimValue(a, dims, span), y = try dimValue(b, dims, span)
            let r: (partialValue: Int, overflow: Bool)?
            switch op {
            case .juxtapose, .multiply, .times: r = x.multipliedReportingOverflow(by: y)
            case .add: r = x.addingReportingOverflow(y)
            case .subtract: r = x.subtractingReportingOverflow(y)
            default: r = nil
            }
            if let r {
                if r.overflow { try SizeBudget.require(nil, "the dimension `\(ExprPrinter.print(e))` with \(x) and \(y) needs", at: span) }
                return r.partialValue
            }
        default: break
        }
        throw RuntimeError(.notExecutable, "this dimension expression is not evaluable", at: span)
    }

    /// The documented initialisation: γ = 1; β and biases (`b…`) = 0; other weights and embeddings
    /// 𝒩(0, 0.02²), drawn in the order of `specs` from one generator seeded with `seed`.
    public static func initialise(_ specs: [ParameterSpec], seed: UInt64, dtype: DType) -> [String: Variable] {
        var rng = RandomGenerator(seed: seed)
        var out: [String: Variable] = [:]
        for s in specs {
            let leaf = s.name.split(separator: ".").last.map(String.init) ?? s.name
            let t: Tensor
            if leaf.hasPrefix("γ") { t = Tensor.ones(s.shape, dtype: dtype) }
            else if leaf.hasPrefix("β") || leaf.hasPrefix("b") { t = Tensor.zeros(s.shape, dtype: dtype) }
            else { t = Tensor.normal(s.shape, mean: 0, std: 0.02, dtype: dtype, using: &rng) }
            out[s.name] = Variable(t)
        }
        return out
    }
}

extension ParameterLayout {
    /// Dimensions fixed by given tensors: `N_V` from `W_e`'s shape, `d_attn` from `W_q` (through
    /// callees: `d_attn` of MHAttention is `d_attn` of the caller), `d_x` from the input X.
    public static func inferDimensions(_ a: LoadedAlgorithm, program: EvalProgram, parameters: [String: [Int]], inputs: [String: [Int]],
                                       into dims: inout [String: Int], prefix: String = "") {
        func visit(_ d: DeclarationLine, _ subst: [String: Int], _ kind: HeaderKind) {
            for decl in d.declarations {
                for ne in decl.names {
                    guard case .name(let n) = ne.kind else { continue }
                    let name = Evaluator.spelling(n) { subst[$0] }
                    if let t = decl.type, case .power(_, let dimExprs, _) = t.kind {
                        let shape = kind == .input ? (inputs[name] ?? RunSession.familyInput(name, a).flatMap { inputs[$0.name] }) : parameters[prefix + name]
                        guard let shape else { continue }
                        for (k, de) in dimExprs.enumerated() where k < shape.count {
                            if case .name(let dn) = de.kind, dims[dn.spelling] == nil { dims[dn.spelling] = shape[k] }
                        }
                        if kind == .input, let fam = RunSession.familyInput(name, a), shape.count == dimExprs.count + 1,
                           case .name(let dn) = fam.count.kind, dims[dn.spelling] == nil { dims[dn.spelling] = shape[dimExprs.count] }
                    } else if decl.type == nil, let (callee, _) = calleeTaking(n.spelling, a, program, dims, subst: subst),
                              let r = a.checked.calls.values.first(where: { $0.callee == callee.name }) {
                        var cdims: [String: Int] = [:]
                        let p = kind == .input ? prefix : prefix + name + "."
                        inferDimensions(callee, program: program, parameters: parameters, inputs: [:], into: &cdims, prefix: p)
                        for (k, d) in r.dimensions {
                            if let v = cdims[k], d.variables.count == 1, case .named(let dn)? = d.variables.first, d == Dim.named(dn), dims[dn] == nil { dims[dn] = v }
                        }
                    }
                }
            }
        }
        for kind in [HeaderKind.input, .parameters] {
            for l in a.header(kind) {
                switch l.content {
                case .declarations(let d): visit(d, [:], kind)
                case .collection(let c):
                    for m in c.members {
                        switch m {
                        case .declarations(let d): visit(d, [:], kind)
                        case .group(let g): for d in g.members { visit(d, [g.variable.spelling: 1], kind) }
                        case .comment: break
                        }
                    }
                }
            }
        }
        // Group domains (L, H): the largest index present.
        for l in a.header(.parameters) {
            guard case .collection(let c) = l.content else { continue }
            for case .group(let g) in c.members {
                guard case .range(let de) = g.domain.kind, case .name(let dn) = de.kind, dims[dn.spelling] == nil,
                      let first = g.members.first?.declarations.first?.names.first, case .name(let n) = first.kind else { continue }
                var i = 1
                func present(_ i: Int) -> Bool {
                    let name = Evaluator.spelling(n) { $0 == g.variable.spelling ? i : nil }
                    return parameters.keys.contains { $0 == prefix + name || $0.hasPrefix(prefix + name + ".") }
                }
                while present(i) { i += 1 }
                if i > 1 { dims[dn.spelling] = i - 1 }
            }
        }
    }
}
