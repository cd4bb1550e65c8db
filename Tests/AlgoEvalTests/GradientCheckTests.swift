import Foundation
import Testing
import AlgoTensor
import AlgoDiagnostics
@testable import AlgoEval

/// `GradientCheckProblem` (what `algo gradcheck` runs): it catches a wrong VJP, replays the random
/// masks, refuses a loss that does not depend on θ, and finds the training algorithm of a model file.
@Suite("gradient check: a wrong ∇ is caught, masks are replayed, model files use their training loss")
struct GradientCheckTests {
    func path(_ file: String) -> String { InterpreterFixtures.repository + "/Algorithms/" + file + ".algo" }

    func code(_ body: () throws -> Void) -> DiagnosticCode? {
        do { try body(); return nil } catch let e as RuntimeError { return e.diagnostic.code } catch { return nil }
    }

    // The test hook adds 10⁻³ to GELU's derivative (its value unchanged): W^1_mlp1 and b^1_mlp1 (just
    // before GELU) and every parameter upstream of the MLP get wrong gradients, by a relative 10⁻⁴ to
    // 10⁻¹ (far above the 10⁻⁵ tolerance); the parameters downstream of it (W^1_mlp2, b^1_mlp2, the
    // final layer norm, W_u) keep exact gradients and must still pass. Measured: upstream errors
    // 8·10⁻⁵ (b^1_q) to 0.68 (W^1_mlp1), downstream ≤ 1.2·10⁻⁷.
    @Test("a GELU VJP off by 10⁻³ fails the check of exactly the tensors upstream of GELU; without the fault all pass")
    func wrongVJPIsCaught() throws {
        var p = try GradientCheckProblem.prepare(path: path("DTraining"))
        let (lossClean, clean) = try p.check()
        let failedClean = clean.filter { !$0.passed }.map(\.name)
        #expect(failedClean.isEmpty, "\(failedClean)")
        p.faultyGELUGradient = 1e-3
        let (lossFaulty, faulty) = try p.check()
        #expect(lossFaulty == lossClean, "the fault changes only the gradient, not loss(θ)")
        let failed = Set(faulty.filter { !$0.passed }.map(\.name))
        // Upstream of GELU: everything but the MLP's second layer, the final layer norm and W_u, and
        // but the key biases b^h_k, whose gradient is exactly 0 (softmax ignores a shift common to all keys).
        let downstream: Set<String> = ["W^1_mlp2", "b^1_mlp2", "γ", "β", "W_u"]
        let upstream = Set(p.parameters.map(\.name)).subtracting(downstream).filter { !($0.contains(".b^") && $0.hasSuffix("_k")) }
        #expect(upstream.count == 20)
        #expect(failed == upstream, "failed: \(failed.sorted())")
        if ProcessInfo.processInfo.environment["ALGO_GRADCHECK_PRINT"] != nil { for r in faulty { print("fault \(r.name) \(r.maxError)") } }
        let mlp1 = try #require(faulty.first { $0.name == "W^1_mlp1" })
        #expect(mlp1.maxError > 1e-4, "W^1_mlp1: \(mlp1.maxError)")
    }

    @Test("ETraining: the mask draw is replayed, so loss(θ) is the same in every evaluation and in the ∇ pass")
    func masksReplayed() throws {
        let p = try GradientCheckProblem.prepare(path: path("ETraining"), seed: 3)
        let θ = Dictionary(p.parameters.map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a })
        let a = try p.loss(θ), b = try p.loss(θ), (c, _) = try p.gradient(θ)
        #expect(a == b && b == c)
        #expect(a > 0, "some position is masked")
        #expect(p.kind == "masked-token" && p.reals["p_mask"] == 0.5)
        // Another seed draws other masks (and another x_1 and θ): another loss.
        let q = try GradientCheckProblem.prepare(path: path("ETraining"), seed: 4)
        let other = try q.loss(Dictionary(q.parameters.map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a }))
        #expect(other != a)
    }

    @Test("a loss that does not depend on θ (ETraining masking nothing at p_mask = 10⁻⁶) is E0531, not a vacuous pass")
    func nothingMaskedIsRefused() throws {
        let p = try GradientCheckProblem.prepare(path: path("ETraining"), reals: ["p_mask": 1e-6])
        #expect(code { _ = try p.check() } == .degenerateLoss)
    }

    @Test("model files use the loss of the training algorithm that trains them; a variant replaces the model it extends")
    func modelFiles() throws {
        let gopher = try GradientCheckProblem.prepare(path: path("DTransformerGopher"))
        #expect(gopher.program.target.name == "DTraining")
        #expect(gopher.model?.name == "DTransformerGopher" && gopher.model?.replaces == "DTransformer")
        #expect(gopher.kind == "next-token" && gopher.lossLine.number == "5" && gopher.lossLine.text.hasPrefix("loss(θ) = −Σ"))
        // θ is Gopher's: RMSnorm scales, no β.
        let names = gopher.parameters.map(\.name)
        #expect(names.contains("γ^1_1") && !names.contains { $0.hasPrefix("β") })
        let gopherModel = try Pipeline.load(path: path("DTransformerGopher")).get()
        let specs = try ParameterLayout.parameters(of: gopherModel.target, program: gopherModel.program, dims: gopher.dims)
        #expect(Set(specs.map(\.name)) == Set(names))

        for (model, training, kind) in [("DTransformer", "DTraining", "next-token"), ("ETransformer", "ETraining", "masked-token"), ("EDTransformer", "EDTraining", "seq2seq")] {
            let p = try GradientCheckProblem.prepare(path: path(model))
            #expect(p.program.target.name == training && p.kind == kind && p.model?.replaces == model)
        }
        let adam = try GradientCheckProblem.prepare(path: path("DTrainingAdam"))
        #expect(adam.model == nil && adam.lossLine.number == "8")
        // No loss: a forward algorithm that no training algorithm calls.
        #expect(code { _ = try GradientCheckProblem.prepare(path: path("Attention")) } == .noLoss)
        #expect(code { _ = try GradientCheckProblem.prepare(path: path("RMSnorm")) } == .noLoss)
    }

    @Test("the call substitution replaces whole callee names only")
    func replacingCalls() {
        let line = "P(θ) ← DTransformer(x_n | θ); Q ← EDTransformer(z, x | θ); R ← DTransformerGopher(x | θ)"
        #expect(GradientCheckProblem.replacingCalls(of: "DTransformer", with: "DTransformerGopher", in: line)
                == "P(θ) ← DTransformerGopher(x_n | θ); Q ← EDTransformer(z, x | θ); R ← DTransformerGopher(x | θ)")
    }

    @Test("bad values: ℓ beyond ℓ_max, ℓ < 2, a token outside N_V are E0507")
    func badValues() {
        #expect(code { _ = try GradientCheckProblem.prepare(path: path("DTraining"), dims: ["ℓ": 6, "ℓ_max": 4]) } == .invalidInput)
        #expect(code { _ = try GradientCheckProblem.prepare(path: path("DTraining"), dims: ["ℓ": 1]) } == .invalidInput)
        #expect(code { _ = try GradientCheckProblem.prepare(path: path("DTraining"), sequences: ["x": [1, 9]]) } == .invalidInput)
    }
}
