import AlgoEval
import AlgoTensor
import Foundation
import Testing
@testable import AlgoBench

/// The yardstick of the interpreter's overhead computes what the interpreter computes: the same P
/// from Algorithms/DTransformer.algo and from `Direct.dTransformer` on the same θ and x.
@Suite struct DirectVersusInterpreterTests {
    static let toy = ModelConfig(name: "toy", N_V: 12, ℓ: 9, L: 2, H: 2, d_e: 8, d_mlp: 16)

    /// In Float64 the two differ only by rounding in different orders: sums of ≤ 16 terms through
    /// 2 layers and a softmax, a few hundred u = 1.1·10⁻¹⁶ at most; 1e-12 leaves a margin of 10⁴
    /// and still fails for any real difference (a wrong mask moves P by ~10⁻³).
    @Test func sameProbabilitiesInFloat64() throws {
        let run = try ModelRun(Self.toy, phase: .forward, batch: 1, algorithms: ModelConfigTests.algorithms, dtype: .f64)
        guard case .tensor(let P) = try run.run() else { Issue.record("DTransformer returned no matrix"); return }
        let direct = run.direct()
        #expect(P.shape == [12, 9])
        let diff = try #require(BenchTiming.maxAbsDifference(P.value, direct))
        #expect(diff <= 1e-12)
        // Not a vacuous agreement: P is a distribution per column, and not uniform.
        for t in 0..<9 { #expect(abs(direct.column(t).doubles.reduce(0, +) - 1) < 1e-12) }
        #expect(direct.doubles.max()! - direct.doubles.min()! > 1e-4)
    }

    /// The `overhead` job checks the same agreement in Float32 (`directTolerance`) before timing
    /// and reports it; a wrong direct model would be caught: P of a different x differs by more.
    @Test func overheadJobChecksAgreementFirst() throws {
        let job = ModelJob(kind: .overhead, config: Self.toy, phase: "forward", batch: 1, threads: 1, warmups: 0, minimum: 2, maximum: 2,
                           budget: 0, algorithms: ModelConfigTests.algorithms)
        let sample = try job.measure(isolated: false)
        #expect(sample.seconds.count == 2 && sample.directSeconds?.count == 2)
        #expect(try #require(sample.maxAbsDifference) <= directTolerance)
        // The tolerance separates: another sequence gives a P farther away than it.
        let run = try ModelRun(Self.toy, phase: .forward, batch: 1, algorithms: ModelConfigTests.algorithms)
        let other = Direct.dTransformer(x: ModelRun.tokens(count: 9, vocabulary: 12, stream: 5), Direct.Parameters(run.parameters), ["L": 2, "H": 2]).value
        #expect(try #require(BenchTiming.maxAbsDifference(run.direct(), other)) > 10 * directTolerance)
    }

    /// One training step through the interpreter (DTraining, N_epochs = N_data = 1) changes θ by
    /// −η·∇ and nothing else: the returned θ̂ differs from θ, and the minibatch file runs with B = 3.
    @Test func trainingStepsRun() throws {
        let one = try ModelRun(Self.toy, phase: .train, batch: 1, algorithms: ModelConfigTests.algorithms)
        #expect(one.dims["N_data"] == 1 && one.dims["N_epochs"] == 1)
        let θ̂ = RunSession.flatten(try one.run())
        #expect(θ̂.count == one.parameters.count)
        let moved = θ̂.filter { BenchTiming.maxAbsDifference($0.tensor, one.parameters[$0.name]!.value)! > 0 }
        #expect(!moved.isEmpty)
        let three = try ModelRun(Self.toy, phase: .train, batch: 3, algorithms: ModelConfigTests.algorithms)
        #expect(three.dims["B"] == 3 && three.dims["N_batches"] == 1 && three.sequences.count == 3)
        _ = try three.run()
    }

    /// `--phase generate`: DInference from the first token of sequence 0, ℓ new tokens, twice on one
    /// evaluator (the second run starts a new prefix cache: its prompt is no extension of the last x).
    @Test func generationRuns() throws {
        let run = try ModelRun(Self.toy, phase: .generate, batch: 4, algorithms: ModelConfigTests.algorithms)
        #expect(run.batch == 1 && run.dims["ℓ_gen"] == Self.toy.ℓ)
        for _ in 0..<2 {
            guard case .tokens(let y) = try run.run() else { Issue.record("DInference gave no tokens"); return }
            #expect(y.count == Self.toy.ℓ && y.allSatisfy { (1...Self.toy.N_V).contains($0) })
        }
    }

    @Test func logLogSlopes() {
        let square = [2.0, 4, 8, 16].map { (x: $0, y: 3 * $0 * $0) }
        #expect(abs(LogLog.slope(square)! - 2) < 1e-12)
        #expect(LogLog.slope([(x: 1, y: 1)]) == nil)
        let svg = LogLog.svg([LogLog.Panel(title: "t", xLabel: "ℓ", yLabel: "ms", points: square)], caption: "c")
        #expect(svg.hasPrefix("<svg") && svg.contains("slope 2.00"))
        #expect(svg.components(separatedBy: "<circle").count - 1 == 4)
    }
}
