@testable import AlgoEval
import AlgoTensor
import Foundation
import Testing
@testable import AlgoCLI

/// Issue 16: what a run keeps alive (a training step's values for ∇) is held to the memory budget
/// while it runs, not only the sizes the checker sees before it starts.
@Suite("memory held while running (issue 16)")
struct HeldMemoryTests {
    /// `algo ARGS` in-process under `budget`, with a pool of its own so that tests running beside
    /// it do not count.
    static func run(_ args: [String], budget: Int) -> (code: ExitCode, err: String) {
        BufferPool.$current.withValue(BufferPool()) {
            SizeBudget.$limitOverride.withValue(budget) {
                var o = Output(color: false)
                let code = CLI.run(args, &o)
                return (code, o.stderr)
            }
        }
    }

    /// One DTraining step on a 256-token sequence (ℓ_max = 256, the embedded defaults otherwise):
    /// its parameters and each variable fit 400 kB (the checks before the run pass), but the
    /// step keeps L × H attention matrices of 256×256 for ∇ (about 700 kB at the peak).
    static let step = ["run", BadInputTests.algorithms + "DTraining.algo", "--set", "ℓ_max=256,N_epochs=1",
                       "--input", "x_1=" + (1...256).map { String($0 % 5 + 1) }.joined(separator: ",")]

    @Test("a training step whose kept values pass the budget stops with E0517 at the line that crossed it, naming the bytes")
    func activationsPastTheBudget() {
        let r = Self.run(Self.step, budget: 400_000)
        #expect(r.code == .diagnostics, "\(r.err)")
        #expect(r.err.contains("error[E0517]: the run's tensors need") && r.err.contains("the memory budget is 400 kB"), "\(r.err)")
        // The line is a line of the paper (here inside MHAttention or Attention), with its snippet.
        #expect(r.err.contains(".algo:") && r.err.contains(" | "), "\(r.err)")
    }

    @Test("the same step under a budget it fits runs to the end (the guard does not fire on ordinary runs)")
    func activationsWithinTheBudget() {
        let r = Self.run(Self.step, budget: 4_000_000)
        #expect(r.code == .ok, "\(r.err)")
    }
}
