import Testing
@testable import AlgoCLI

/// `algo bench gemm`'s causal-attention lines time only after the kept-half path has been checked
/// against the dense path (`Bench.CausalOperands.check`); the check must pass on agreeing paths
/// and catch a wrong entry.
@Suite("bench gemm: causal attention checked against the dense path")
struct BenchCausalTests {
    @Test("the kept half agrees with the dense path (ℓ not a multiple of the kernels' blocks); one wrong entry is caught")
    func checked() {
        let ops = Bench.CausalOperands(.init(label: "test", n: 37, d: 8, heads: 3))
        #expect(ops.check() == nil)
        ops.y[5] += 1e-3   // far above the bound 4·(8 + 37)·2⁻²⁴ ≈ 1.1e-5
        #expect(ops.difference() != nil)
    }
}
