import Foundation
import Testing
import AlgoTensor
@testable import AlgoEval

/// Every rewrite rule (`Sources/AlgoEval/Lowering/Rules/`) against the lines it replaces: every
/// shipped `.algo` file runs with all rules on and with one rule off, and the values (forward
/// algorithms: what `return` gives; training algorithms: every ∇loss(θ) and θ̂) must agree. A new
/// rule gets this test by being added to `RuleID`.
///
/// Bound: Float32, max |a − b| ≤ 1e-4 · max(1, max |b|). A rule computes the same entries by the
/// same arithmetic in another order (GEMM with β = 1 adds the bias inside the product, the causal
/// kernels skip exact zeros, the fused layer norm sums before dividing): ≈ 1e-7 relative per
/// operation, grown by the depth of the model (2 layers, softmax, ~20 operations in a row) to
/// ≈ 1e-5 at most; a wrong rule (a missing bias, the mask not applied, a transposed operand) is
/// off by 1e-2 and more. Sampled tokens (DInference, EDInference) must be identical: a draw
/// flips only if it lands within ~1e-6 of a cumulative probability.
@Suite("rewrite rules: every shipped algorithm gives the same values with each rule on and off")
struct RewriteRuleTests {
    /// Every algorithm file under `Algorithms/` (`GPT2/GPT2` for the subdirectories of the real
    /// models), the experiments left out (their lines call these algorithms).
    static let files: [String] = (Library.algoPaths(under: InterpreterFixtures.repository + "/Algorithms") ?? [])
        .map { String($0.dropFirst(InterpreterFixtures.repository.count + "/Algorithms/".count).dropLast(5)) }
        .filter { !$0.hasPrefix("Experiments/") }

    static let small: [String: Int] = ["N_V": 11, "ℓ_max": 12, "L": 2, "L_enc": 2, "L_dec": 2, "H": 2, "d_e": 16, "d_mlp": 24,
                                       "d_attn": 8, "d_mid": 8, "d_f": 16, "N_epochs": 1, "ℓ_gen": 3, "N_S": 2,
                                       "d_x": 16, "d_z": 16, "d_out": 16, "d_in": 16, "ℓ_x": 6, "ℓ_z": 6, "T": 6]

    /// The values a run produces, flattened: forward output entries, or every gradient and θ̂ of a training run.
    func values(_ file: String, disabled: Set<RuleID>) throws -> [Double] {
        let p = try InterpreterFixtures.program(file)
        let a = p.target
        var o = RunOptions()
        o.seed = 7
        o.disabledRules = disabled
        if RunSession.isTraining(a) {
            o.recordGradients = true
            let (inputs, n) = try RunSession.dataset(RunSession.defaultDatasetElements(a), a)
            let dims = try RunSession.datasetDimensions(a, count: n, given: Self.small)
            let r = try Pipeline.run(p, RunSetup(dims: dims, reals: RunSession.trainingReals(for: a), inputs: inputs, parameters: nil, mask: nil, options: o))
            #expect(!r.evaluator.gradients.isEmpty, "\(file) took no gradient")
            return (r.evaluator.gradients + [r.value]).flatMap { RunSession.flatten($0).flatMap { $0.tensor.contiguous().doubles } }
        }
        let causal = a.hyperparameterNames.contains("Mask")
        var inputs = try RunSession.defaultInputs(a, dims: Self.small, seed: 7, dtype: .f32)
        // BERT's segments s ∈ [N_S]^{length(x)}: the first half of x is text 1, the rest text 2.
        if RunSession.kind(of: "s", a) == .tokens, case .tokens(let x)? = inputs["x"] {
            inputs["s"] = .tokens(x.indices.map { $0 < x.count / 2 ? 1 : 2 })
        }
        // Every parameter 𝒩(0, 0.5²), biases and β included (initialised to 0 they would hide a dropped bias).
        var rng = RandomGenerator(seed: 11)
        var θ: [String: Tensor] = [:]
        for spec in try ParameterLayout.parameters(of: a, program: p.program, dims: Self.small) {
            θ[spec.name] = Tensor.normal(spec.shape, std: 0.5, using: &rng)
        }
        let r = try Pipeline.run(p, RunSetup(dims: Self.small, reals: RunSession.defaultReals, inputs: inputs, parameters: θ,
                                   mask: causal ? .causal : nil, options: o, fallback: Self.small))
        switch r.value {
        case .tensor(let t): return t.value.contiguous().doubles
        case .tokens(let ids): return ids.map(Double.init)
        case .nat(let n): return [Double(n)]
        case .real(let x): return [x]
        case let v: Issue.record("\(file) returned \(v.kindName)"); return []
        }
    }

    @Test("all rules on equals one rule off (Float32, 1e-4 of the largest entry)", arguments: Self.files, RuleID.allCases)
    func ruleOnAndOff(_ file: String, _ rule: RuleID) throws {
        let on = try values(file, disabled: [])
        let off = try values(file, disabled: [rule])
        #expect(on.count == off.count && !on.isEmpty)
        let scale = max(1, off.map(abs).max() ?? 0)
        let worst = zip(on, off).map { abs($0 - $1) }.max() ?? 0
        #expect(worst <= 1e-4 * scale, "\(file) with \(rule.rawValue) off: max difference \(worst) (scale \(scale))")
        if file.hasSuffix("Inference") { #expect(on == off, "\(file): sampled tokens differ") }
    }

    @Test("--rules none equals the lines as written everywhere, and each rule matches in some shipped file")
    func everyRuleMatches() throws {
        var fired: Set<RuleID> = []
        for file in Self.files {
            let p = try InterpreterFixtures.program(file)
            for a in p.program.algorithms { fired.formUnion(a.plan.fired.map(\.rule)) }
            let on = try values(file, disabled: []), none = try values(file, disabled: Set(RuleID.allCases))
            let scale = max(1, none.map(abs).max() ?? 0)
            #expect(on.count == none.count && zip(on, none).allSatisfy { abs($0 - $1) <= 1e-4 * scale }, "\(file) with all rules off")
        }
        #expect(fired == Set(RuleID.allCases), "rules that match no shipped file: \(Set(RuleID.allCases).subtracting(fired))")
    }

    @Test("--rules parses all, none and -NAME lists; anything else is refused")
    func parsing() {
        #expect(RuleID.disabled(by: "all") == [])
        #expect(RuleID.disabled(by: "none") == Set(RuleID.allCases))
        #expect(RuleID.disabled(by: "-layer-norm,-causal-attention") == [.layerNorm, .causalAttention])
        #expect(RuleID.disabled(by: "layer-norm") == nil)
        #expect(RuleID.disabled(by: "-no-such-rule") == nil)
        #expect(RuleID.disabled(by: "") == nil)
    }
}
