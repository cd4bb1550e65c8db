import AlgoDiagnostics
import AlgoSyntax
import AlgoTensor

/// Head batching: `For h ∈ [H]: Y^h ← Attention(X, Z | 𝓦^h_qkv, Mask)` (Alg. 5 lines 1–2) runs the
/// callee once for all H heads instead of H times.
///
/// Each parameter that varies with h (`𝓦^h_qkv`) is evaluated for every h and its members are
/// stacked along a third, trailing dimension: a matrix `[m, k]` becomes `[m, k, H]` laid out as the
/// rows `[W^1; W^2; …; W^H]` (strides `[1, m·H, m]`), so that `W X` for all heads is one matrix product
/// `[m·H, k]·[k, n]` (see `Tensor.matmul`); a vector `[d]` becomes `[d, 1, H]`. Inside the callee a
/// rank-3 value holds one matrix per head: products of a rank-3 and a rank-2 operand broadcast the
/// latter over the heads, `∀t_z, t_x` masks the first two dimensions, softmax works per column.
/// Head h of the result (`[:, :, h]`) is `Y^h`. All of it is recorded on the tape like the loop
/// it replaces (stacking and slicing are differentiable), and the values are the loop's: each
/// entry is the same dot product.
///
/// Only callees whose every line is made of operations with a batched meaning are run this way
/// (`isHeadBatchable`); other loops are interpreted.
extension Evaluator {
    /// Runs the loop head-batched when it has the form above; nil when it does not (then the caller
    /// interprets it).
    func headBatchedLoop(_ loop: ForLoop, _ values: [Int], _ f: Frame) throws -> Flow? {
        let v = loop.variable.spelling
        guard f.heads == nil, values.count >= 2, values == Array(1...values.count), loop.body.count == 1,
              case .assign(let target, _, let value) = loop.body[0].kind,
              case .name(let yName) = target.kind, let yScript = yName.scripts.indices.last, yName.scripts[yScript].raw == v,
              case .call(let c) = value.kind, f.vars[c.callee.spelling] == nil,
              let resolved = f.algorithm.checked.calls[value.span], !resolved.isBuiltin,
              let callee = program.find(resolved.callee, file: resolved.file),
              !c.arguments.contains(where: { $0.mentions(v) }),
              Self.isHeadBatchable(callee.syntax.body)
        else { return nil }
        let heads = values.count
        // Parameters that vary with h: a name with h among its scripts (`𝓦^h_qkv`), each a collection.
        var stacked: [Span: Value] = [:]
        let saved = f.vars[v]
        defer { f.vars[v] = saved }
        for p in c.parameters where p.value.mentions(v) {
            guard case .name(let n) = p.value.kind, n.scripts.contains(where: { $0.raw == v }) else { return nil }
            var perHead: [Collection] = []
            for h in values {
                f.vars[v] = .nat(h)
                guard case .collection(let col) = try eval(p.value, f) else { return nil }
                perHead.append(col)
            }
            guard let s = Self.stack(perHead) else { return nil }
            stacked[p.value.span] = .collection(s)
        }
        f.vars[v] = saved
        guard !stacked.isEmpty else { return nil }
        let result = try callAlgorithm(c, value, f, given: stacked, heads: heads)
        guard case .tensor(let y) = result, y.rank == 3, y.shape[2] == heads else {
            throw RuntimeError(.notExecutable, "the heads of `\(c.callee.spelling)` gave \(result.kindName), not one matrix per head", at: value.span)
        }
        let key = familyKey(yName, yScript)
        var fam = f.families[key] ?? Family()
        if fam.columns != nil { fam = Family() }
        for h in values {
            ops += 1
            fam.elements[h] = .tensor(y.slice(lower: [0, 0, h - 1], upper: [y.shape[0], y.shape[1], h]).reshaped([y.shape[0], y.shape[1]]))
        }
        f.families[key] = fam
        return .normal
    }

    /// Members of H collections stacked per head (same names and shapes in every head), or nil.
    static func stack(_ cols: [Collection]) -> Collection? {
        let first = cols[0]
        var out = Collection()
        for (k, m) in first.members.enumerated() {
            var parts: [Variable] = []
            for c in cols {
                guard k < c.members.count, c.members[k].name == m.name, case .tensor(let t) = c.members[k].value,
                      t.shape == parts.first?.shape ?? t.shape, t.rank == 1 || t.rank == 2 else { return nil }
                parts.append(t)
            }
            let h = parts.count, rows = parts[0].shape[0]
            let all = Variable.concat(parts, axis: 0)  // [W^1; W^2; …] or [b^1; b^2; …]
            if parts[0].rank == 2 {
                out.members.append((m.name, .tensor(all.reshaped([rows, h, parts[0].shape[1]]).permuted([0, 2, 1]))))
            } else {
                out.members.append((m.name, .tensor(all.reshaped([rows, 1, h]))))
            }
        }
        return out
    }

    /// Both operands of a product as rank 3 with the heads last, when one is head-batched (rank 3)
    /// and the other a matrix (broadcast over the heads) or head-batched with the same H.
    func headBatched(_ l: Variable, _ r: Variable, _ f: Frame) -> (Variable, Variable)? {
        guard let heads = f.heads, l.rank == 3 || r.rank == 3, l.rank >= 2, r.rank >= 2 else { return nil }
        func lift(_ x: Variable) -> Variable? {
            if x.rank == 3 { return x.shape[2] == heads ? x : nil }
            return x.rank == 2 ? x.reshaped([x.shape[0], x.shape[1], 1]).broadcast(to: [x.shape[0], x.shape[1], heads]) : nil
        }
        guard let a = lift(l), let b = lift(r) else { return nil }
        return (a, b)
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
            default: return false
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
        case .call(let c): if c.callee.spelling != "softmax" || c.arguments.count != 1 || !c.parameters.isEmpty { return false }
        case .index(let base, let idx):
            guard case .name(let n) = base.kind, n.spelling == "Mask" else { return false }
            return idx.allSatisfy { if case .name = $0.kind { return true } else { return false } }
        case .text, .ellipsis, .all, .scripted, .sum, .slice, .list, .set, .setBuilder, .membership, .randomChoice, .missing:
            return false
        }
        return e.children.allSatisfy(batchable)
    }
}
