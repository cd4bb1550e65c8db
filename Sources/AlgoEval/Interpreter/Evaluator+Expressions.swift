import AlgoDiagnostics
import AlgoSema
import AlgoSyntax
import AlgoTensor
import Foundation

extension Evaluator {
    func eval(_ e: Expr, _ f: Frame) throws -> Value {
        switch e.kind {
        case .name(let n): return try lookup(n, e.span, f)
        case .number(let s):
            if let i = Int(s) { return .nat(i) }
            if let d = Double(s) { return .real(d) }
            throw RuntimeError(.invalidInput, "`\(s)` is not a number", at: e.span)
        case .ones: return .ones
        case .infinity: return .real(.infinity)
        case .text(let s): throw RuntimeError(.notExecutable, "the text \"\(s)\" is data of an experiment file, not a value of an algorithm", at: e.span)
        case .transpose(let inner):
            if case .ones = inner.kind { return .onesT }
            let v = try tensor(try eval(inner, f), inner.span)
            ops += 1
            // A head-batched value `[m, n, H]` (Evaluator+Heads) transposes each head.
            return .tensor(v.rank == 1 ? v.reshaped([1, v.shape[0]]) : v.rank == 3 ? v.permuted([1, 0, 2]) : v.transposed)
        case .unary(.gradient, let a):
            return try gradient(a, e, f)
        case .unary(let op, let a):
            let v = try eval(a, f)
            if case .collection = v, op == .negate || op == .sqrt {
                return try memberwiseMap(v) { try self.unary(op, $0, a, e) }
            }
            return try unary(op, v, a, e)
        case .binary(let op, let a, let b):
            return try binary(op, a, b, e, f)
        case .scripted(let inner, let scripts):
            var v = try eval(inner, f)
            for s in scripts {
                guard s.position == .sup else { throw RuntimeError(.notExecutable, "a subscript on an expression is not executable yet", at: s.span) }
                let k = try eval(s.value, f)
                v = try memberwiseMap(v) { try self.power($0, k, e.span) }
            }
            return v
        case .sum(let s): return try sum(s, e, f)
        case .call(let c): return try call(c, e, f)
        case .index(let base, let idx): return try index(base, idx, e, f)
        case .list(let items, let sep): return try list(items, sep, e, f)
        case .iverson(let c):
            let v = try eval(c, f)
            if case .bool(let b) = v { return .nat(b ? 1 : 0) }
            return v
        case .tuple(let items) where items.count == 1: return try eval(items[0], f)
        case .randomChoice(let options, let probabilities): return try randomChoice(options, probabilities, e, f)
        case .setBuilder(let v, let domain, let condition): return try setBuilder(v, domain, condition, e, f)
        case .all, .ellipsis, .slice, .tuple, .set, .membership, .missing:
            throw RuntimeError(.notExecutable, "this expression is not executable yet", at: e.span)
        }
    }

    /// `−v`, `√v`, `¬v` of a value that is not a collection.
    func unary(_ op: UnaryOperator, _ v: Value, _ a: Expr, _ e: Expr) throws -> Value {
        switch op {
        case .negate:
            switch v {
            case .nat(let n): return .nat(try Self.checkedNat(0.subtractingReportingOverflow(n), "−\(n)", e.span))
            case .real(let r): return .real(-r)
            default: ops += 1; return .tensor(-(try tensor(v, a.span)))
            }
        case .sqrt:
            if let x = scalarNumber(v) { return .real(x.squareRoot()) }
            ops += 1
            return .tensor(try tensor(v, a.span).sqrt())
        case .not:
            switch v {
            case .bool(let b): return .bool(!b)
            case .tensor, .grid: ops += 1; return .tensor(scalar(1) - (try tensor(v, a.span)))
            default:
                guard let x = number(v) else { throw RuntimeError(.invalidInput, "`¬` of \(v.kindName)", at: e.span) }
                return .bool(x == 0)
            }
        case .gradient:
            throw RuntimeError(.notExecutable, "`∇` here is not executable yet", at: e.span)
        }
    }

    func scalarNumber(_ v: Value) -> Double? {
        switch v {
        case .nat(let n): return Double(n)
        case .real(let r): return r
        default: return nil
        }
    }

    func type(_ e: Expr, _ f: Frame) -> SemType? { f.algorithm.types[SpanKey(e.span)] }

    /// Whether the checker typed `e` as a matrix or row vector (a left factor of a matrix product).
    func isMatrixType(_ e: Expr, _ f: Frame, _ v: Variable) -> Bool {
        if case .array(_, let cols, _)? = type(e, f) { return cols != nil }
        if case .transpose = e.kind { return true }
        return v.rank == 2
    }

    func isScalarType(_ e: Expr, _ f: Frame) -> Bool { type(e, f)?.isScalar ?? false }

    func binary(_ op: BinaryOperator, _ a: Expr, _ b: Expr, _ e: Expr, _ f: Frame) throws -> Value {
        // An expression the lowering fused: its executor, or the expression as written when its guard fails.
        let fused = f.algorithm.plan.expressions
        if !fused.isEmpty, let node = fused[SpanKey(e.span)] {
            switch node {
            case .affineBias(let w, let x, let bias):
                if enabled(.affineBias), let v = try matmulAddingColumn(w, x, bias, f) { return v }
            case .transposedProduct(let k, let q):
                if enabled(.transposedProduct), let v = try transposedProduct(k, q, f) { return v }
            case .sgdUpdate(let theta, let rate, let gradient):
                if enabled(.sgdUpdate), let v = try sgdUpdate(theta, rate, gradient, e, f) { return v }
            case .pickedSum, .logSoftmax, .rowSum, .callMemo, .sequences: break   // not a binary expression
            }
        }
        let x = try eval(a, f), y = try eval(b, f)
        if case .collection = x { return try memberwise(op, consume x, consume y, e) }   // consumed: temporaries are reused
        if case .collection = y { return try memberwise(op, consume x, consume y, e) }
        switch op {
        case .juxtapose, .multiply, .times:
            if case .onesT = y { return x }
            if case .ones = y { return x }
            if let p = scalarNumber(x), let q = scalarNumber(y) {
                if case .nat(let m) = x, case .nat(let n) = y { return .nat(try Self.checkedNat(m.multipliedReportingOverflow(by: n), "\(m) · \(n)", e.span)) }
                return .real(p * q)
            }
            let l = try tensor(x, a.span), r = try tensor(y, b.span)
            ops += 1
            if !isScalarType(a, f), !isScalarType(b, f), scalarNumber(x) == nil, scalarNumber(y) == nil,
               isMatrixType(a, f, l), l.rank == 2, r.rank >= 1, l.shape[1] == r.shape[0] {
                return .tensor(l.matmul(r))
            }
            if !isScalarType(a, f), !isScalarType(b, f), isMatrixType(a, f, l), let (lb, rb) = headBatched(l, r, f), lb.shape[1] == rb.shape[0] {
                return .tensor(lb.matmul(rb))
            }
            try broadcastable(l, r, e)
            return .tensor(l * r)
        case .hadamard:
            ops += 1
            let l = try tensor(x, a.span), r = try tensor(y, b.span)
            try broadcastable(l, r, e)
            return .tensor(l * r)
        case .add, .subtract, .divide:
            if case .nat(let m) = x, case .nat(let n) = y, op != .divide {
                return .nat(try Self.checkedNat(op == .add ? m.addingReportingOverflow(n) : m.subtractingReportingOverflow(n), "\(m) \(op == .add ? "+" : "−") \(n)", e.span))
            }
            if let p = scalarNumber(x), let q = scalarNumber(y) {
                switch op { case .add: return .real(p + q); case .subtract: return .real(p - q); default: return .real(p / q) }
            }
            let l = try tensor(x, a.span), r = try tensor(y, b.span)
            ops += 1
            try broadcastable(l, r, e)
            switch op { case .add: return .tensor(l + r); case .subtract: return .tensor(l - r); default: return .tensor(l / r) }
        case .equal, .notEqual, .less, .lessEqual, .greater, .greaterEqual:
            if let p = number(x), let q = number(y), !isGridOrTensor(x), !isGridOrTensor(y) {
                switch op {
                case .equal: return .bool(p == q)
                case .notEqual: return .bool(p != q)
                case .less: return .bool(p < q)
                case .lessEqual: return .bool(p <= q)
                case .greater: return .bool(p > q)
                default: return .bool(p >= q)
                }
            }
            let l = try tensor(x, a.span).value, r = try tensor(y, b.span).value
            ops += 1
            switch op {
            case .equal: return .tensor(Variable(l.compare(.equal, r)))
            case .notEqual: return .tensor(Variable(Tensor.ones([], dtype: dtype) - l.compare(.equal, r)))
            case .less: return .tensor(Variable(l.compare(.less, r)))
            case .lessEqual: return .tensor(Variable(r.compare(.greaterEqual, l)))
            case .greater: return .tensor(Variable(r.compare(.less, l)))
            default: return .tensor(Variable(l.compare(.greaterEqual, r)))
            }
        case .equivalent:
            throw RuntimeError(.notExecutable, "`≡` outside a call is not executable", at: e.span)
        }
    }

    /// The executor of `W X + b 𝟏ᵀ` (`Rules/AffineBias.swift`): nil when the values do not fit.
    func matmulAddingColumn(_ wE: Expr, _ xE: Expr, _ biasE: Expr, _ f: Frame) throws -> Value? {
        guard case .tensor(let w) = try eval(wE, f), case .tensor(let x) = try eval(xE, f),
              case .tensor(let bias) = try eval(biasE, f), w.dtype == x.dtype, bias.dtype == w.dtype,
              isMatrixType(wE, f, w)
        else { return nil }
        let l: Variable, r: Variable
        if (w.rank == 2 || (w.rank == 3 && w.shape[2] == f.heads)), x.rank == 2, w.shape[1] == x.shape[0] {
            (l, r) = (w, x)   // a head-batched W_q with X shared by every head: one product of the stacked rows
        } else if let (lb, rb) = headBatched(w, x, f), lb.shape[1] == rb.shape[0] {
            (l, r) = (lb, rb)
        } else {
            return nil
        }
        guard Tensor.isColumn(bias.shape, of: [l.shape[0], r.shape[1]] + (l.rank == 3 ? [l.shape[2]] : [])) else { return nil }
        ops += 2
        return .tensor(l.matmul(r, addingColumn: bias))
    }

    /// The executor of `KᵀQ` (`Rules/TransposedProduct.swift`): nil when the values do not fit.
    func transposedProduct(_ kE: Expr, _ qE: Expr, _ f: Frame) throws -> Value? {
        let lhs = try tensor(try eval(kE, f), kE.span)
        let rv = try eval(qE, f)
        if case .tensor(let rhs) = rv, lhs.rank == 2, rhs.rank >= 1, rhs.rank <= 2, lhs.shape[0] == rhs.shape[0], !isScalarType(qE, f) {
            ops += 1
            return .tensor(lhs.matmul(rhs, transposeSelf: true))
        }
        if case .tensor(let rhs) = rv, let (l, r) = headBatched(lhs, rhs, f), l.shape[0] == r.shape[0] {
            ops += 1
            return .tensor(l.matmul(r, transposeSelf: true))
        }
        return nil
    }

    /// A shape mismatch the checker did not rule out (a value given at run time, an evaluator
    /// limitation) is a diagnostic, never a trap in the tensor runtime.
    func broadcastable(_ l: Variable, _ r: Variable, _ e: Expr) throws {
        if Shape.broadcast(l.shape, r.shape) == nil {
            throw RuntimeError(.invalidInput, "values of shapes \(l.shape) and \(r.shape) do not fit here", at: e.span)
        }
    }

    func isGridOrTensor(_ v: Value) -> Bool {
        switch v { case .grid, .tensor: return true; default: return false }
    }

    // MARK: Σ

    func sum(_ s: Sum, _ e: Expr, _ f: Frame) throws -> Value {
        guard let lower = s.lower else { throw RuntimeError(.notExecutable, "a Σ without an index is not executable", at: e.span) }
        var variable: String
        var start = 1
        var count: Int
        switch lower.value.kind {
        case .binary(.equal, let v, let from):
            guard case .name(let n) = v.kind, case .nat(let a) = try eval(from, f) else {
                throw RuntimeError(.notExecutable, "this Σ is not executable yet", at: lower.span)
            }
            variable = n.spelling; start = a
            guard let up = s.upper, case .nat(let b) = try eval(up.value, f) else {
                throw RuntimeError(.notExecutable, "a Σ without an upper bound is not executable yet", at: e.span)
            }
            count = max(0, b - a + 1)
        case .membership(let v, let set):
            // `Σ_{t∈T̃}`: interpreted over the set's elements, ascending.
            guard case .name(let n) = v.kind else { throw RuntimeError(.notExecutable, "this Σ is not executable yet", at: lower.span) }
            let saved = f.vars[n.spelling]
            defer { f.vars[n.spelling] = saved }
            let ts = try members(set, f)
            if let v = try pickedSum(e, ts, f) { return v }
            var total: Value? = nil
            for i in ts {
                f.vars[n.spelling] = .nat(i)
                let term = try eval(s.body, f)
                if let t = total {
                    if let p = scalarNumber(t), let q = scalarNumber(term) { total = .real(p + q) }
                    else { ops += 1; total = .tensor(try tensor(t, e.span) + tensor(term, e.span)) }
                } else { total = term }
            }
            return total ?? .real(0)
        case .name(let n):
            variable = n.spelling
            guard let r = try rangeOf(variable, in: s.body, f) else {
                throw RuntimeError(.notExecutable, "the range of `Σ_\(variable)` cannot be found", at: e.span)
            }
            count = r
        default:
            throw RuntimeError(.notExecutable, "this Σ is not executable yet (training)", at: lower.span)
        }
        if let v = try batchSequences(e, Array(start..<(start + count)), f) { return v }   // a minibatch as one call (Evaluator+Sequences)
        let saved = f.vars[variable]
        defer { f.vars[variable] = saved }
        // A row sum (`Rules/RowSum.swift`): the variable is only ever a whole index `e[i]`.
        if start == 1, count >= 1, enabled(.rowSum), case .rowSum? = f.algorithm.plan.expressions[SpanKey(e.span)] {
            f.vars[variable] = .grid(count: count, axis: 0)
            let v = try tensor(try eval(s.body, f), s.body.span)
            if v.rank >= 1, v.shape[0] == count {
                ops += 1
                return .tensor(v.sum(axis: 0))
            }
        }
        if let v = try pickedSum(e, Array(start..<(start + count)), f) { return v }
        var total: Value? = nil
        for i in stride(from: start, to: start + count, by: 1) {
            f.vars[variable] = .nat(i)
            let term = try eval(s.body, f)
            if let t = total {
                if let p = scalarNumber(t), let q = scalarNumber(term) { total = .real(p + q) }
                else { ops += 1; total = .tensor(try tensor(t, e.span) + tensor(term, e.span)) }
            } else { total = term }
        }
        return total ?? .real(0)
    }

    /// The executor of a picked sum (`Rules/PickedSum.swift`) at the Σ `e` over `values`: nil when
    /// the lowering fused no sum there, the rule is off or the run-time guard fails.
    func pickedSum(_ e: Expr, _ values: [Int], _ f: Frame) throws -> Value? {
        let count = values.count
        guard count >= 2, enabled(.pickedSum), case .pickedSum(let form)? = f.algorithm.plan.expressions[SpanKey(e.span)] else { return nil }
        let variable = form.variable, base = form.base, idx = [form.rows, form.columns]
        let b: Value
        if let pc = form.logOf {
            guard case .function(let fn)? = f.vars[pc.callee.spelling], functionMemo != nil else { return nil }
            // log P(θ): its log form (log-softmax) when that rule is on, else the log of P(θ) as written.
            b = enabled(.logSoftmax) ? try applyFunction(fn, pc, base, f, log: true)
                                     : try logOfValue(try applyFunction(fn, pc, base, f), base.span)
        } else {
            b = try eval(base, f)
        }
        guard case .tensor(let a) = b, a.rank == 2 else { return nil }
        var rows: [Int] = [], cols: [Int] = []
        rows.reserveCapacity(count); cols.reserveCapacity(count)
        for t in values {
            f.vars[variable] = .nat(t)
            guard case .nat(let i) = try eval(idx[0], f), case .nat(let j) = try eval(idx[1], f),
                  i >= 1, i <= a.shape[0], j >= 1, j <= a.shape[1] else { return nil }
            rows.append(i - 1); cols.append(j - 1)
        }
        let first = cols[0]
        let consecutive = cols.indices.allSatisfy { cols[$0] == first + $0 }
        var m = a
        if consecutive {
            if first != 0 || count != a.shape[1] { ops += 1; m = a.slice(lower: [0, first], upper: [a.shape[0], first + count]) }
        } else {
            ops += 1; m = a.gather(axis: 1, indices: cols)
        }
        var picked = m.pick(rows: rows)
        if form.logOfEntries { ops += 1; picked = picked.log() }
        if let d = form.divisor {
            let q = try tensor(try eval(d, f), d.span)
            guard q.value.count == 1 else { return nil }
            ops += 1
            picked = picked / q
        }
        ops += 2
        return .tensor(picked.sum(axis: 0))
    }

    // MARK: Calls

    /// `logReturn`: the callee's `return P = softmax(Z)` returns log-softmax(Z) (`log P(θ)`, `apply`).
    func call(_ c: Call, _ e: Expr, _ f: Frame, logReturn: Bool = false) throws -> Value {
        if case .function(let fn)? = f.vars[c.callee.spelling] { return try applyFunction(fn, c, e, f) }
        guard let resolved = f.algorithm.calls[SpanKey(e.span)] else {
            throw RuntimeError(.notExecutable, "the call to `\(c.callee.spelling)` was not resolved by the checker", at: e.span)
        }
        if resolved.isBuiltin {
            guard let b = resolved.builtin else {
                throw RuntimeError(.notExecutable, "`\(c.callee.spelling)` is a builtin of experiment files, not of algorithms", at: e.span)
            }
            return try builtin(b, c, e, f)
        }
        if !logReturn, let v = try reusePrefix(c, e, f) { return v }   // decoding that reuses the prefix (Evaluator+Sequences)
        if !sequenceLoops.isEmpty, let v = try loopBatchResult(c, e, f, logReturn: logReturn) { return v }   // a loop over sequences (Evaluator+SequenceLoop)
        if let key = callMemoKey(e, f, log: logReturn) {
            if let v = functionMemo?[key] { return v }
            let v = try callAlgorithm(c, e, f, logReturn: logReturn)
            functionMemo?[key] = v
            return v
        }
        return try callAlgorithm(c, e, f, logReturn: logReturn)
    }

    /// The mathematics the paper takes as given (`Builtin`): softmax, GELU, ReLU, exp, log, length;
    /// and tanh and the logistic σ(x) = 1/(1 + e⁻ˣ) (GPT-2's GELU, gates).
    func builtin(_ b: Builtin, _ c: Call, _ e: Expr, _ f: Frame) throws -> Value {
        let name = c.callee.spelling
        guard c.arguments.count == 1 else { throw RuntimeError(.notExecutable, "`\(name)` with \(c.arguments.count) arguments", at: e.span) }
        let arg = c.arguments[0]
        if b == .length {
            switch try eval(arg, f) {
            case .tokens(let t): return .nat(t.count)
            case .tensor(let t): return .nat(t.rank == 2 ? t.shape[1] : t.shape.first ?? 1)
            default: throw RuntimeError(.invalidInput, "`length` of this value", at: e.span)
            }
        }
        // `log softmax(Z)`, `log P(θ)`, `log P(θ)[…]` the lowering fused (`Rules/LogSoftmax.swift`).
        if b == .log, enabled(.logSoftmax), case .logSoftmax(let form)? = f.algorithm.plan.expressions[SpanKey(e.span)],
           let v = try logOf(form, f) { return v }
        let v = try eval(arg, f)
        if let x = scalarNumber(v) {
            switch b {
            case .exp: return .real(Foundation.exp(x))
            case .log: return .real(Foundation.log(x))
            case .tanh: return .real(Foundation.tanh(x))
            case .sigma: return .real(x >= 0 ? 1 / (1 + Foundation.exp(-x)) : Foundation.exp(x) / (1 + Foundation.exp(x)))
            case .softmax, .GELU, .ReLU, .length: break
            }
        }
        let x = try tensor(v, arg.span)
        ops += 1
        switch b {
        case .softmax: return .tensor(columns(x) { $0.softmaxColumns() })
        case .GELU:
            // The test hook adds ε·(x − x): zero in value, ε in the gradient (RunOptions.faultyGELUGradient).
            if let ε = options.faultyGELUGradient { return .tensor(x.gelu() + (x - Variable(x.value)) * scalar(ε)) }
            return .tensor(x.gelu())
        case .ReLU: return .tensor(x.relu())
        case .exp: return .tensor(x.exp())
        case .log: return .tensor(x.log())
        case .tanh: return .tensor(x.tanh())
        case .sigma: return .tensor(x.sigmoid())
        case .length: throw RuntimeError(.invalidInput, "`length` of this value", at: e.span)
        }
    }

    /// Applies a column-wise function to a vector (as one column) or a matrix.
    func columns(_ x: Variable, _ g: (Variable) -> Variable) -> Variable {
        if x.rank == 1 { return g(x.reshaped([x.shape[0], 1])).reshaped([x.shape[0]]) }
        if x.rank == 0 { return g(x.reshaped([1, 1])).reshaped([]) }
        return g(x)
    }

    // MARK: Indexing

    func index(_ base: Expr, _ idx: [Expr], _ e: Expr, _ f: Frame, baseValue: Value? = nil) throws -> Value {
        let b = try baseValue ?? eval(base, f)
        let what = base.kind.spellingHint
        if case .mask(let m) = b {
            let values = try idx.map { try eval($0, f) }
            switch m {
            case .constant(let c): return .real(c)
            case .causal:
                guard values.count == 2 else { throw RuntimeError(.invalidInput, "Mask has two indices", at: e.span) }
                let l = try tensor(values[0], idx[0].span).value, r = try tensor(values[1], idx[1].span).value
                return .tensor(Variable(r.compare(.greaterEqual, l)))
            case .matrix(let t): return try indexTensor(Variable(t.converted(to: dtype)), values, idx, e, what)
            case .rule(let vars, let body, let frame):
                let g = frame.copy()
                for (k, v) in vars.enumerated() where k < values.count { g.vars[v] = values[k] }
                return try eval(body, g)
            }
        }
        var values = try idx.map { i -> Value in
            if case .all = i.kind { return .grid(count: -1, axis: -1) }
            if case .slice(let lo, let hi) = i.kind {
                guard let lo, let hi, case .nat(let a) = try eval(lo, f), case .nat(let z) = try eval(hi, f) else {
                    throw RuntimeError(.notExecutable, "this slice is not executable yet", at: i.span)
                }
                return .tokens([a, z])   // an inclusive range a…z, marked by the slice form
            }
            return try eval(i, f)
        }
        if f.sequences != nil { values = try positionalIndices(values, e, f) }   // `W_p[:, t]` in a sequence run (Evaluator+Sequences)
        switch b {
        case .tokens(let seq):
            guard values.count == 1 else { throw RuntimeError(.invalidInput, "a sequence has one index", at: e.span) }
            if case .slice = idx[0].kind, case .tokens(let r) = values[0] {
                guard r[0] >= 1, r[1] <= seq.count else {
                    throw RuntimeError(.runtimeIndexOutOfRange, "`\(what)[\(r[0]) : \(r[1])]` is outside 1…\(seq.count)", at: e.span)
                }
                return .tokens(r[0] <= r[1] ? Array(seq[(r[0] - 1)..<r[1]]) : [])
            }
            switch values[0] {
            case .nat(let t):
                guard t >= 1, t <= seq.count else { throw RuntimeError(.runtimeIndexOutOfRange, "`\(what)[\(t)]` is outside 1…\(seq.count)", at: e.span) }
                return .nat(seq[t - 1])
            case .grid(let n, _):
                guard n <= seq.count else { throw RuntimeError(.runtimeIndexOutOfRange, "`\(what)` has \(seq.count) tokens, not \(n)", at: e.span) }
                return .tokens(Array(seq.prefix(n)))
            default: throw RuntimeError(.invalidInput, "a sequence index is \(values[0].kindName)", at: e.span)
            }
        case .tensor(let t):
            return try indexTensor(t, values, idx, e, what)
        default:
            throw RuntimeError(.invalidInput, "indexing \(b.kindName)", at: e.span)
        }
    }

    func indexTensor(_ t: Variable, _ values: [Value], _ idx: [Expr], _ e: Expr, _ what: String) throws -> Value {
        // Positions along each indexed axis (0-based ranges), or gathered columns.
        var lower = [Int](repeating: 0, count: t.rank), upper = t.shape
        var squeeze: [Bool] = Array(repeating: false, count: t.rank)
        var gather: (axis: Int, ids: [Int])? = nil
        guard values.count <= max(t.rank, 1) else { throw RuntimeError(.invalidInput, "`\(what)` has \(t.rank) dimensions, indexed with \(values.count)", at: e.span) }
        for (k, v) in values.enumerated() {
            let size = t.shape[k]
            func outside(_ i: Int) -> RuntimeError {
                let dim = k == 0 ? "rows" : "columns"
                var notes: [String] = []
                if what == "W_p" { notes = ["erratum A10: positions beyond ℓ_max = \(size) have no positional embedding; the sequence is too long for this model"] }
                return RuntimeError(.runtimeIndexOutOfRange, "index \(i) is beyond the \(size) \(dim) of `\(what)`", at: idx[k].span, notes: notes)
            }
            switch v {
            case .grid(let n, _) where n < 0: break   // `:`
            case .grid(let n, _):
                guard n <= size else { throw outside(n) }
                upper[k] = n
            case .nat(let i):
                guard i >= 1, i <= size else { throw outside(i) }
                lower[k] = i - 1; upper[k] = i; squeeze[k] = true
            case .tokens(let ids):
                if let bad = ids.first(where: { $0 < 1 || $0 > size }) { throw outside(bad) }
                gather = (k, ids.map { $0 - 1 })
            default:
                throw RuntimeError(.invalidInput, "an index is \(v.kindName)", at: idx[k].span)
            }
        }
        var r = t
        if lower != [Int](repeating: 0, count: t.rank) || upper != t.shape { ops += 1; r = r.slice(lower: lower, upper: upper) }
        if let g = gather { ops += 1; r = r.gather(axis: g.axis, indices: g.ids) }
        // `W_e[:, v]` is a vector; `e[i]` of a vector is a scalar [1]; `S[t_z, t_x]` a scalar.
        if t.rank == 2, values.count == 2 {
            if squeeze[1] && !squeeze[0] { return .tensor(r.reshaped([r.shape[0]])) }
            if squeeze[0] && squeeze[1] { return .tensor(r.reshaped([1])) }
        }
        return .tensor(r)
    }

    // MARK: Lists

    func list(_ items: [Expr], _ sep: ListSeparator, _ e: Expr, _ f: Frame) throws -> Value {
        var values: [Value] = []
        if let ell = items.firstIndex(where: { if case .ellipsis = $0.kind { return true } else { return false } }) {
            // `[e_1, e_2, . . . e_ℓ]`, `[Y^1; Y^2; . . . ; Y^H]`: the family between the first and last element.
            guard let firstE = items.first, let lastE = items.last, case .name(let first) = firstE.kind, case .name(let last) = lastE.kind, ell > 0 else {
                throw RuntimeError(.notExecutable, "this list with `. . .` is not executable yet", at: e.span)
            }
            var found: (Family, Int, Int)? = nil
            for i in last.scripts.indices.reversed() where i < first.scripts.count {
                if let fam = f.families[familyKey(last, i)], case .nat(let a) = try eval(first.scripts[i].value, f), case .nat(let z) = try eval(last.scripts[i].value, f) {
                    found = (fam, a, z); break
                }
            }
            guard let (fam, a, z) = found else {
                throw RuntimeError(.missingValue, "no family `\(last.spelling)` to list", at: e.span)
            }
            if sep == .comma, a == 1, let c = fam.columns, z == fam.count { return .tensor(c) }
            if sep == .semicolon, a == 1, let y = fam.heads, y.rank == 3, z == y.shape[2], fam.elements.isEmpty || fam.elements.count == z {
                // `[Y^1; …; Y^H]` of head-batched Y `[d, n, H]`: row d·(h−1) + i is Y^h's row i.
                ops += 1
                return .tensor(y.permuted([0, 2, 1]).reshaped([y.shape[0] * y.shape[2], y.shape[1]]))
            }
            for t in stride(from: a, through: z, by: 1) {
                guard let v = fam.element(t) else { throw RuntimeError(.runtimeIndexOutOfRange, "`\(last.spelling)`: element \(t) is missing", at: e.span) }
                values.append(v)
            }
        } else {
            values = try items.map { try eval($0, f) }
        }
        // Sequences: `[x, y]` appends, `[bos_token]` is a one-token sequence.
        if values.allSatisfy({ if case .tokens = $0 { return true }; if case .nat = $0 { return true }; return false }) {
            var seq: [Int] = []
            for v in values { if case .tokens(let t) = v { seq += t } else if case .nat(let n) = v { seq.append(n) } }
            return .tokens(seq)
        }
        let ts = try values.map { try tensor($0, e.span) }
        let fits = sep == .semicolon ? Set(ts.map { $0.rank == 2 ? $0.shape[1] : 1 }).count <= 1 && ts.allSatisfy { $0.rank >= 1 }
                                     : Set(ts.map { $0.shape.first ?? 1 }).count <= 1 && ts.allSatisfy { $0.rank >= 1 && $0.rank <= 2 }
        guard fits, !ts.isEmpty else { throw RuntimeError(.invalidInput, "blocks of shapes \(ts.map(\.shape)) cannot be stacked", at: e.span) }
        ops += 1
        if sep == .semicolon { return .tensor(Variable.concat(ts, axis: 0)) }
        return .tensor(Variable.stackColumns(ts))
    }
}

extension ExprKind {
    /// A short spelling of an indexed base for messages (`W_p`).
    var spellingHint: String {
        if case .name(let n) = self { return n.spelling }
        return "the value"
    }
}

extension Evaluator {
    /// The value of natural-number arithmetic, or E0519 when it overflows 64 bits (a step counter
    /// of 2⁶³−1 restored from a resume checkpoint, then `s ← s + 1`).
    static func checkedNat(_ r: (partialValue: Int, overflow: Bool), _ what: String, _ span: Span) throws -> Int {
        guard r.overflow else { return r.partialValue }
        throw RuntimeError(.integerOverflow, "`\(what)` overflows a 64-bit integer", at: span,
                           notes: ["a natural number this large comes from outside: a `--set` value or a resume checkpoint's state"])
    }
}
