import AlgoSema
import AlgoSyntax

/// Head batching: `For h ∈ [H]: Y^h ← Attention(X, Z | 𝓦^h_qkv, Mask)` (Alg. 5 lines 1–2) runs the
/// callee once for all H heads instead of H times (`Evaluator+Heads` executes it: the parameters
/// that vary with h stacked along a third, trailing dimension, the callee run with `Frame.heads`,
/// head h of the result written to `Y^h`). The values are the loop's: each entry is the same dot
/// product.
///
/// Precondition (proven here): the loop's body is one assignment to a family element indexed by
/// the loop variable, whose value is a call of an algorithm (not a builtin) whose arguments do not
/// mention the variable, whose parameters that mention it are names with it among their scripts
/// (`𝓦^h_qkv`; at least one), and whose every line has a head-batched meaning
/// (`isHeadBatchable`). Run-time guard: the loop runs over 1…H with H ≥ 2, not already inside a
/// head-batched call, and the per-head parameters are collections of equal shapes; otherwise the
/// loop runs as written.
struct HeadBatchingRule: StatementRule {
    let id = RuleID.headBatching
    /// The checked algorithm a call resolves to (`Lowering.lower`'s program).
    let callee: @Sendable (ResolvedCall) -> CheckedAlgorithm?

    func match(_ body: [Statement], at i: Int, in a: CheckedAlgorithm) -> FusedStatement? {
        guard case .forLoop(let loop) = body[i].kind, loop.body.count == 1,
              case .assign(let target, _, let value) = loop.body[0].kind,
              case .name(let y) = target.kind, let script = y.scripts.indices.last, y.scripts[script].raw == loop.variable.spelling,
              case .call(let c) = value.kind, let resolved = a.calls[value.span], !resolved.isBuiltin,
              let algorithm = callee(resolved), Self.isHeadBatchable(algorithm.syntax.body)
        else { return nil }
        let v = loop.variable.spelling
        guard !c.arguments.contains(where: { $0.mentions(v) }) else { return nil }
        let varying = c.parameters.filter { $0.value.mentions(v) }
        guard !varying.isEmpty, varying.allSatisfy({ p in
            if case .name(let n) = p.value.kind { return n.scripts.contains { $0.raw == v } } else { return false }
        }) else { return nil }
        return .headBatching(HeadBatchingForm(variable: v, target: y, script: script, call: c, value: value, varying: varying.map(\.value)))
    }

    /// Whether every statement of a callee has a meaning on head-batched values: assignments to
    /// plain names, `∀ … if … then S[…] ← c`, and `return`, built from names, numbers, 𝟏ᵀ, sums,
    /// differences, products (a transpose only as the left factor of one), quotients, √, ¬,
    /// comparisons, `Mask[…]` and softmax.
    static func isHeadBatchable(_ body: [Statement]) -> Bool {
        body.allSatisfy { s in
            switch s.kind {
            case .comment: return true
            case .assign(let t, _, let e):
                guard case .name(let n) = t.kind, n.scripts.isEmpty else { return false }
                return batchable(e)
            case .returnValue(_, let e): return batchable(e)
            case .forAll(let vars, let b):
                var a = b
                if case .ifThen(let i) = b.kind {
                    guard i.body.count == 1, batchable(i.condition) else { return false }
                    a = i.body[0]
                }
                guard case .assign(let t, _, let e) = a.kind, case .index(let base, let idx) = t.kind, case .name = base.kind,
                      idx.count == vars.count, batchable(e) else { return false }
                return true
            case .forLoop, .ifThen, .whileLoop, .sample, .error: return false
            }
        }
    }

    /// Whether `e` and everything inside it (`Expr.children`) has a head-batched meaning.
    static func batchable(_ e: Expr) -> Bool {
        switch e.kind {
        case .name, .number, .infinity, .ones: return true
        case .transpose(let inner): if case .ones = inner.kind { return true } else { return false }
        case .binary(let op, let a, let b):
            switch op {
            case .juxtapose, .multiply, .times:
                if case .transpose(let inner) = a.kind, case .name = inner.kind { return batchable(b) }
            case .add, .subtract, .divide, .hadamard, .equal, .notEqual, .less, .lessEqual, .greater, .greaterEqual: break
            case .equivalent: return false
            }
        case .unary(let op, _): if op == .gradient { return false }
        case .iverson: break
        case .tuple(let items): if items.count != 1 { return false }
        case .call(let c): if c.callee.spelling != Builtin.softmax.rawValue || c.arguments.count != 1 || !c.parameters.isEmpty { return false }
        case .index(let base, let idx):
            guard case .name(let n) = base.kind, n.spelling == "Mask" else { return false }
            return idx.allSatisfy { if case .name = $0.kind { return true } else { return false } }
        case .text, .ellipsis, .all, .scripted, .sum, .slice, .list, .set, .setBuilder, .membership, .randomChoice, .missing:
            return false
        }
        return e.children.allSatisfy(batchable)
    }
}

/// The parts of a matched head-batched loop.
struct HeadBatchingForm: Sendable {
    /// The loop variable (`h`), the family element written (`Y^h`) and which of its scripts is h.
    let variable: String, target: Name, script: Int
    /// The call and its expression.
    let call: Call, value: Expr
    /// The parameter expressions that vary with h (`𝓦^h_qkv`), stacked per head.
    let varying: [Expr]
}
