import AlgoSyntax
import AlgoTensor

/// The executor of the SGD update (`Rules/SGDUpdate.swift` states what it replaces and when).
extension Evaluator {
    /// `θ − η · ∇F(θ)` as one `Tensor.sgdStep` per member of θ, or nil when the guard fails before
    /// `∇` ran (then the expression runs as written). Operands are evaluated in the order the
    /// expression as written evaluates them: θ, η, then `∇`.
    func sgdUpdate(_ thetaExpr: Expr, _ rateExpr: Expr, _ gradientExpr: Expr, _ e: Expr, _ f: Frame) throws -> Value? {
        guard options.applyGradients, case .unary(.gradient, let a) = gradientExpr.kind else { return nil }
        let theta = try eval(thetaExpr, f)
        guard Self.isTensorTree(theta), let rate = scalarNumber(try eval(rateExpr, f)) else { return nil }
        let g = try gradient(a, gradientExpr, f)
        guard Self.sameLayout(theta, g) else {
            // Not θ's structure (∇ always returns it): the member-wise operations as written, on the same values.
            return try memberwise(.subtract, theta, try memberwise(.multiply, .real(rate), g, e), e)
        }
        var steps = g
        _ = consume g
        return sgdSteps(theta, rate, &steps)
    }

    /// θ − η·g member by member, for g of θ's layout (`sameLayout`). g is taken apart: each member is
    /// moved out before its step, so a gradient nothing else holds receives the result in its buffer.
    private func sgdSteps(_ theta: Value, _ rate: Double, _ g: inout Value) -> Value {
        switch theta {
        case .tensor(let t):
            guard let grad = Self.takeTensor(&g) else { return theta }   // not reached (`sameLayout`)
            ops += 1
            return .tensor(Variable(Tensor.sgdStep(t.value, rate: rate, gradient: consume grad)))
        case .collection(let c):
            guard var members = Self.takeMembers(&g) else { return theta }   // not reached
            var out = Collection()
            out.members.reserveCapacity(c.members.count)
            for k in c.members.indices {
                var member = members[k].value
                members[k].value = .nat(0)
                out.members.append((c.members[k].name, sgdSteps(c.members[k].value, rate, &member)))
            }
            return .collection(out)
        default:
            return theta   // not reached: `sameLayout` admits tensors and collections only
        }
    }

    /// The tensor a value holds, leaving `.nat(0)` in its place (so that the returned tensor is its buffer's only holder when the value was).
    static func takeTensor(_ v: inout Value) -> Tensor? {
        guard case .tensor(let x) = v else { return nil }
        v = .nat(0)
        return x.value
    }

    /// Whether g has θ's members (by name, in order), shapes and dtypes, both unrecorded tensors at the leaves.
    static func sameLayout(_ theta: Value, _ g: Value) -> Bool {
        switch (theta, g) {
        case (.tensor(let t), .tensor(let d)):
            return !t.isRecorded && !d.isRecorded && t.shape == d.shape && t.dtype == d.dtype
        case (.collection(let c), .collection(let d)):
            return c.members.count == d.members.count
                && zip(c.members, d.members).allSatisfy { $0.name == $1.name && sameLayout($0.value, $1.value) }
        default:
            return false
        }
    }

    /// A tensor, or a collection whose members are (recursively) tensors.
    static func isTensorTree(_ v: Value) -> Bool {
        switch v {
        case .tensor: return true
        case .collection(let c): return c.members.allSatisfy { isTensorTree($0.value) }
        default: return false
        }
    }
}
