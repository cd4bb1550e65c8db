import Foundation
import Testing
import AlgoTensor
@testable import AlgoEval

/// Issue 12's "Algorithm 30": next-token training where every prediction reruns the transformer on
/// the prefix only, `log DTransformer(x_n[1:t] | θ)[x_n[t+1], t]`. The call memo must key the call
/// by t, which appears only inside the slice (it once handed back the t = 1 result for t = 2:
/// E0502). By causality (Mask[t, t′] = [[t ≤ t′]]), column t of DTransformer(x) depends on x[1:t]
/// only, so PrefixTraining's loss(θ) is DTraining's as a function of θ: the same losses and, after
/// SGD steps from the same θ, the same θ̂.
@Suite("PrefixTraining (issue 12): a call keyed by a variable inside a slice trains, and equals DTraining by causality")
struct PrefixTrainingTests {
    static let text = """
    Algorithm 30: θ̂ ← PrefixTraining(x_{1:N_data}, θ)
    /* Next-token training where each prediction reruns the transformer on the prefix only */
    Input:  {x_n}_{n=1}^{N_data}, a dataset of sequences.
    Input:  θ, initial decoder-only transformer parameters.
    Output: θ̂, the trained parameters.
    Hyperparameters: N_epochs ∈ ℕ, η ∈ (0, ∞)
    1 for i = 1, 2, . . . , N_epochs do
    2     for n = 1, 2, . . . N_data do
    3         ℓ ← length(x_n)
    4         loss(θ) = −Σ_{t=1}^{ℓ−1} log DTransformer(x_n[1:t] | θ)[x_n[t+1], t]
    5         θ ← θ − η · ∇loss(θ)
    6     end
    7 end
    8 return θ̂ = θ

    """

    /// A directory holding PrefixTraining.algo beside copies of DTraining and the algorithms
    /// DTransformer calls (the library is the file's directory).
    static func directory() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("algo-prefix-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for name in ["DTraining", "DTransformer", "MHAttention", "Attention", "LayerNorm"] {
            try FileManager.default.copyItem(atPath: InterpreterFixtures.repository + "/Algorithms/\(name).algo", toPath: dir + "/\(name).algo")
        }
        try text.write(toFile: dir + "/PrefixTraining.algo", atomically: true, encoding: .utf8)
        return dir
    }

    func train(_ path: String, epochs: Int) throws -> RunSession.TrainingResult {
        let p: LoadedProgram
        switch Pipeline.load(path: path) {
        case .success(let l): p = l
        case .failure(let f): throw f
        }
        var elements: [String: [Int: [Int]]] = [:]
        for (name, _) in RunSession.datasetInputs(p.target) { elements[name] = [1: [1, 4, 2, 5, 3], 2: [2, 5, 1, 3]] }
        let (inputs, n) = try RunSession.dataset(elements, p.target)
        var dims = TrainingGradientTests.tiny
        dims["N_data"] = n; dims["N_epochs"] = epochs
        var o = RunOptions()
        o.dtype = .f64
        o.seed = 3
        return try RunSession.train(p, dims: dims, reals: ["η": 0.2], inputs: inputs, parameters: nil, options: o)
    }

    // Tolerances: the two algorithms compute the same entries of the same products, DTransformer on
    // a prefix of length t against the whole sequence; in Float64 the only differences are the
    // order of additions inside GEMM blocks and log(softmax) (PrefixTraining: `log` of the
    // callee's softmax) against log-softmax (DTraining: `log P(θ)`), ≈ 1e-16 relative per
    // operation; 1e-10 is far above that and far below any wrong column (1e-2 and more).
    @Test("f64: loss(θ) before training equals DTraining's on the same data and θ; two epochs of SGD give the same losses and θ̂")
    func equalsDTraining() throws {
        let dir = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let prefix = try train(dir + "/PrefixTraining.algo", epochs: 2)
        let whole = try train(dir + "/DTraining.algo", epochs: 2)
        #expect(prefix.initial.map(\.name) == whole.initial.map(\.name))
        func close(_ a: Double, _ b: Double) -> Bool { abs(a - b) <= 1e-10 * max(1, abs(a), abs(b)) }
        #expect(close(prefix.lossBefore, whole.lossBefore), "loss before: \(prefix.lossBefore) vs DTraining \(whole.lossBefore)")
        #expect(prefix.stepLosses.count == 4)
        #expect(prefix.stepLosses.count == whole.stepLosses.count && zip(prefix.stepLosses, whole.stepLosses).allSatisfy(close),
                "step losses \(prefix.stepLosses) vs \(whole.stepLosses)")
        #expect(prefix.lossAfter < prefix.lossBefore, "SGD lowers the loss: \(prefix.lossBefore) → \(prefix.lossAfter)")
        let theirs = Dictionary(whole.parameters.map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a })
        var worst = 0.0
        for (name, t) in prefix.parameters {
            let u = t.contiguous().doubles, v = try #require(theirs[name]).contiguous().doubles
            for (a, b) in zip(u, v) { worst = max(worst, abs(a - b) / max(1, abs(a), abs(b))) }
        }
        #expect(worst <= 1e-10, "θ̂ of PrefixTraining against DTraining: max difference (relative above 1) \(worst)")
    }
}
