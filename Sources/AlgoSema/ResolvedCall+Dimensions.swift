/// A call's dimensions as numbers: what the evaluator and the experiment runner bind in the callee.
extension ResolvedCall {
    /// Each dimension of the callee whose binding (`d_x` → `d_e`, `ℓ_x` → `ℓ`) evaluates under the
    /// caller's values of its named dimensions (`value("d_e")`); the others are left out (the
    /// callee's own shapes or defaults fix them).
    public func dimensionValues(_ value: (String) -> Int?) -> [String: Int] {
        var dims: [String: Int] = [:]
        for (k, d) in dimensions {
            if let v = d.evaluate({ if case .named(let n) = $0 { return value(n) } else { return nil } }) { dims[k] = v }
        }
        return dims
    }
}
