import Foundation
import Testing
import AlgoTensor
@testable import AlgoEval

/// Adam's five update lines as one pass per member of θ (`Rules/AdamStep.swift`) against the lines as
/// written: a whole training run gives the same θ̂, bit for bit.
@Suite("adam-step: Adam's update lines in one pass per member, the same bits as written")
struct AdamStepTests {
    @Test("the rule matches the update of every shipped Adam algorithm", arguments: ["DTrainingAdam", "Experiments/EDTrainingAdam", "Experiments/ETrainingAdam"])
    func matches(_ name: String) throws {
        #expect(try InterpreterFixtures.program(name).target.plan.fired.contains { $0.rule == .adamStep })
    }

    /// The executor rounds every entry as the fourteen operations written (`AdamStepKernelTests`);
    /// over a run the moments carry every step's bits into the next, so any difference would grow.
    @Test("a training run gives the same θ̂, bit for bit, with the rule on and off (f32 and f64)",
          arguments: ["DTrainingAdam", "Experiments/EDTrainingAdam", "Experiments/ETrainingAdam"], [DType.f32, .f64])
    func sameParameters(_ name: String, _ dtype: DType) throws {
        func θ̂(_ disabled: Set<RuleID>) throws -> [UInt8] {
            var s = try TrainingResumeTests.setup(name, dtype: dtype, dims: ["N_epochs": 2])
            s.options.disabledRules = disabled
            return try TrainingResumeTests.bytes(try TrainingResumeTests.train(s).parameters)
        }
        let on = try θ̂([]), off = try θ̂([.adamStep]), untrained = try θ̂([.adamStep, .evaluationAdam])
        #expect(!on.isEmpty && on == off)
        #expect(untrained == off)   // evaluation-adam only acts in evaluation passes
    }
}
