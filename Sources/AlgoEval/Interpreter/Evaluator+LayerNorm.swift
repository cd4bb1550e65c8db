import AlgoSyntax
import AlgoTensor

/// The executor of the fused layer norm (`Rules/LayerNorm.swift` states what it replaces and when).
extension Evaluator {
    /// The fused result of calling `callee` with the frame `f` (inputs and parameters bound), or
    /// nil when the callee is not Algorithm 6 or the rule is off, the values do not fit (e not
    /// `[d_e]` or `[d_e, n]`, γ or β not `[d_e]`, not f32) or the result is not finite: then the
    /// body runs as written.
    func fusedLayerNorm(_ callee: LoadedAlgorithm, _ f: Frame) -> Value? {
        guard case .layerNorm(let form)? = callee.plan.algorithm, enabled(.layerNorm), dtype == .f32, !f.logReturn,
              case .tensor(let x)? = f.vars[form.input], case .tensor(let γ)? = f.vars[form.gamma],
              case .tensor(let β)? = f.vars[form.beta], let d = f.dims[form.dimension], d >= 1,
              x.rank == 1 || x.rank == 2, x.shape[0] == d, γ.shape == [d], β.shape == [d],
              x.dtype == .f32, γ.dtype == .f32, β.dtype == .f32 else { return nil }
        let y = x.layerNormColumns(γ: γ, β: β, epsilon: 0)
        let seen = y.value.finiteness
        if seen.hasNaN || (options.checkFinite && seen.hasInfinity) { return nil }
        ops += 1
        return .tensor(y)
    }

    /// Whether a rewrite rule is on in this run (`RunOptions.disabledRules`).
    func enabled(_ rule: RuleID) -> Bool { options.disabledRules.isEmpty || !options.disabledRules.contains(rule) }
}
