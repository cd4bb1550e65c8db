/// Solves equations between dimensions by substitution: union-find over unknowns, where an
/// unknown is bound to a dimension (which may itself mention other unknowns, never itself).
/// Dex-style index sets as types: `𝟏ᵀ` gets its length from context, an undeclared `X̃` its
/// shape from its column assignments.
public struct DimSolver: Sendable {
    /// unknown id → what it was bound to (possibly mentioning other unknowns).
    private var bindings: [Int: Dim] = [:]
    private var nextID = 0

    public init() {}

    /// The outcome of `unify`.
    public enum Outcome: Equatable, Sendable {
        /// The two sides are the same dimension.
        case equal
        /// An unknown was bound; the two sides are now equal.
        case solved
        /// The sides differ for every value of the variables: `d_e` vs `d_f`, `ℓ` vs `ℓ + 1`.
        case mismatch
        /// Equality depends on unknowns in a way substitution cannot settle (e.g. `?1·?2 = d_e`).
        case undecided
    }

    /// A fresh unknown dimension.
    public mutating func fresh() -> Dim {
        nextID += 1
        return .unknown(nextID)
    }

    /// `d` with every bound unknown replaced, recursively (bindings never contain cycles).
    public func resolve(_ d: Dim) -> Dim {
        if bindings.isEmpty || !d.hasUnknowns { return d }
        var current = d
        for _ in 0..<(bindings.count + 1) {
            var changed = false
            let next = current.substitute { v in
                guard case .unknown(let id) = v, let b = bindings[id] else { return nil }
                changed = true
                return b
            }
            current = next
            if !changed { break }
        }
        return current
    }

    /// Makes `a` and `b` equal if that can be done by binding one unknown that occurs linearly
    /// with coefficient ±1 in `a − b`; reports whether they were equal, got solved, or differ.
    public mutating func unify(_ a: Dim, _ b: Dim) -> Outcome {
        let diff = resolve(a) - resolve(b)
        if diff == .zero { return .equal }
        let unknowns = diff.variables.filter(\.isUnknown).sorted()
        if unknowns.isEmpty { return .mismatch }
        for u in unknowns {
            // diff = c·u + rest with rest free of u, and u only in the linear term.
            let linear = diff.terms.filter { $0.0.contains(u) }
            guard linear.count == 1, linear[0].0 == Monomial([(u, 1)]), (linear[0].1 == 1 || linear[0].1 == -1) else { continue }
            let c = linear[0].1
            let rest = Dim(terms: diff.terms.filter { !$0.0.contains(u) })
            guard case .unknown(let id) = u else { continue }
            bindings[id] = c == 1 ? -rest : rest
            return .solved
        }
        return .undecided
    }
}
