import Foundation
import Testing
@testable import AlgoCLI

/// `algo run --dump plan` and `--rules`: where the rewrite rules matched, and turning them off.
@Suite("algo run --dump plan and --rules")
struct RunRulesTests {
    static let dTransformer = RunCommandTests.repository + "/Algorithms/DTransformer.algo"

    @Test("--dump plan lists each rule at its lines (Attention's lines 1–4, MHAttention's line 4, LayerNorm as a callee) and runs nothing")
    func dump() {
        var output = Output(color: false)
        let code = CLI.run(["run", Self.dTransformer, "--dump", "plan", "--rules", "-layer-norm"], &output)
        #expect(code == .ok, "\(output.stderr)")
        let text = output.stdout
        #expect(text.contains("layer-norm (off)"))
        #expect(text.contains("causal-attention  4 S ← KᵀQ"))
        #expect(text.contains("affine-bias  1 Q ← W_q X + b_q 𝟏ᵀ"))
        #expect(text.contains("affine-bias  4 return Ṽ = W_o Y + b_o 𝟏ᵀ"))
        #expect(!text.contains("time:"), "a dump does not run the algorithm")
    }

    @Test("--rules none runs the lines as written; a bad --rules or --dump is a usage error (exit 2)")
    func rules() {
        var output = Output(color: false)
        #expect(CLI.run(["run", Self.dTransformer, "--rules", "none"], &output) == .ok, "\(output.stderr)")
        for bad in [["--rules", "fast"], ["--rules", "-no-such-rule"], ["--dump", "shapes"]] {
            var o = Output(color: false)
            #expect(CLI.run(["run", Self.dTransformer] + bad, &o) == .usage, "\(bad)")
        }
    }
}
