import Foundation
import Testing
@testable import AlgoCLI
import AlgoEval

/// `algo gradcheck` through `CLI.run`: the report, `--json`, exit codes and bad input. (Every training
/// file and model of `Algorithms/` passing is checked by `StatusTableTests`, column "gradcheck".)
@Suite("algo gradcheck through CLI.run")
struct GradcheckCommandTests {
    static let algorithms = RunCommandTests.repository + "/Algorithms/"

    func run(_ args: [String]) -> (code: ExitCode, out: String, err: String) {
        var output = Output(color: false)
        let code = CLI.run(["gradcheck"] + args, &output)
        return (code, output.stdout, output.stderr)
    }

    @Test("DTransformerGopher: DTraining's next-token loss with Gopher in place of DTransformer; every tensor of θ passes, exit 0")
    func gopher() {
        let r = run([Self.algorithms + "DTransformerGopher.algo"])
        #expect(r.code == .ok, "\(r.err)")
        #expect(r.out.contains("line 5 of DTraining") && r.out.contains("next-token loss, with DTransformerGopher in place of DTransformer"), "\(r.out)")
        #expect(r.out.contains("passed: all 24 tensors within 1.0e-05"), "\(r.out)")
        let rows = r.out.split(separator: "\n").filter { $0.hasSuffix("  ok") || $0.hasSuffix("FAIL") }
        #expect(rows.count == 24 && rows.allSatisfy { $0.hasSuffix("ok") })
        // The tensor names are Gopher's: RMSnorm scales, no layer-norm offsets β.
        #expect(rows.contains { $0.hasPrefix("γ^2_1 ") } && !rows.contains { $0.hasPrefix("β") })
    }

    @Test("--json: one object per tensor, named and shaped as `algo params` lists them, each within the tolerance")
    func json() throws {
        let r = run([Self.algorithms + "DTraining.algo", "--json", "--seed", "2"])
        #expect(r.code == .ok, "\(r.err)")
        let items = try #require(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [[String: Any]])
        var params = Output()
        _ = CLI.run(["params", Self.algorithms + "DTraining.algo", "--json", "--set", "N_V=7,ℓ_max=4,L=1,H=2,d_e=4,d_mlp=8,d_attn=2,d_mid=2"], &params)
        let specs = try #require(try JSONSerialization.jsonObject(with: Data(params.stdout.utf8)) as? [[String: Any]])
        #expect(items.map { $0["tensor"] as? String } == specs.map { $0["name"] as? String })
        #expect(items.map { $0["shape"] as? [Int] } == specs.map { $0["shape"] as? [Int] })
        for item in items {
            let e = try #require(item["max_relative_error"] as? Double)
            #expect(e <= 1e-5 && item["passed"] as? Bool == true && item["loss"] as? String == "next-token", "\(item)")
            #expect((item["index"] as? [Int])?.allSatisfy { $0 >= 1 } == true)
        }
        // A gradient far from 0 somewhere: the check compares real numbers.
        #expect(items.contains { ($0["max_abs_gradient"] as? Double ?? 0) > 0.1 })
    }

    @Test("a tolerance below the finite differences' own error (1e-13) fails: FAIL rows, exit 1")
    func tightToleranceFails() {
        let r = run([Self.algorithms + "ETransformer.algo", "--tolerance", "1e-13"])
        #expect(r.code == .diagnostics)
        #expect(r.out.contains("FAILED:") && r.out.contains("FAIL\n"), "\(r.out)")
        #expect(r.out.contains("masked-token loss, for the model ETransformer"), "\(r.out)")
    }

    @Test("bad input: no loss E0530, nothing masked E0531, ℓ > ℓ_max E0507 (exit 1); a missing file E0001 (exit 3); bad flags exit 2")
    func badInput() {
        let attention = run([Self.algorithms + "Attention.algo"])
        #expect(attention.code == .diagnostics && attention.err.contains("E0530") && attention.err.contains("Attention.algo:"), "\(attention.err)")
        let json = run([Self.algorithms + "Attention.algo", "--format", "json"])
        #expect(json.code == .diagnostics && json.out.contains("\"E0530\""), "\(json.out)")
        let unmasked = run([Self.algorithms + "ETraining.algo", "--set", "p_mask=0.000001"])
        #expect(unmasked.code == .diagnostics && unmasked.err.contains("E0531") && unmasked.err.contains("masked no position"), "\(unmasked.err)")
        let long = run([Self.algorithms + "DTraining.algo", "--set", "ℓ=6,ℓ_max=4"])
        #expect(long.code == .diagnostics && long.err.contains("E0507"), "\(long.err)")
        let missing = run([Self.algorithms + "NoSuchFile.algo"])
        #expect(missing.code == .input && missing.err.contains("E0001"), "\(missing.err)")
        for args in [[String](), ["a.algo", "b.algo"], [Self.algorithms + "DTraining.algo", "--seed", "x"],
                     [Self.algorithms + "DTraining.algo", "--tolerance", "-1"], [Self.algorithms + "DTraining.algo", "--set", "d_e"],
                     [Self.algorithms + "DTraining.algo", "--set", "d_e=four"], [Self.algorithms + "DTraining.algo", "--bogus"],
                     [Self.algorithms + "DTraining.algo", "--format", "xml"]] {
            let r = run(args)
            #expect(r.code == .usage, "\(args): \(r.code) \(r.err)")
            #expect(!r.err.isEmpty)
        }
    }

    @Test("a training algorithm that updates θ twice per dataset element: E0532 (the check needs exactly one ∇loss(θ))")
    func twoUpdatesPerStep() throws {
        let fm = FileManager.default
        let dir = fm.temporaryDirectory.appendingPathComponent("gradcheck-steps-\(UUID().uuidString)").path
        try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? fm.removeItem(atPath: dir) }
        for f in try fm.contentsOfDirectory(atPath: Self.algorithms) where f.hasSuffix(".algo") && f != "DTraining.algo" {
            try fm.copyItem(atPath: Self.algorithms + f, toPath: dir + "/" + f)
        }
        let twice = """
            Algorithm 13: θ̂ ← DTrainingTwice(x_{1:N_data}, θ)
            Input:  {x_n}_{n=1}^{N_data}, a dataset of sequences.
            Input:  θ, initial decoder-only transformer parameters.
            Output: θ̂, the trained parameters.
            Hyperparameters: N_epochs ∈ ℕ, η ∈ (0, ∞)
            1 for i = 1, 2, . . . , N_epochs do
            2     for n = 1, 2, . . . N_data do
            3         ℓ ← length(x_n)
            4         P(θ) ← DTransformer(x_n | θ)
            5         loss(θ) = −Σ_{t=1}^{ℓ−1} log P(θ)[x_n[t+1], t]
            6         θ ← θ − η · ∇loss(θ)
            7         θ ← θ − η · ∇loss(θ)
            8     end
            9 end
            10 return θ̂ = θ

            """
        try twice.write(toFile: dir + "/DTrainingTwice.algo", atomically: true, encoding: .utf8)
        let r = run([dir + "/DTrainingTwice.algo"])
        #expect(r.code == .diagnostics && r.err.contains("E0532") && r.err.contains("took 2 gradients"), "\(r.code) \(r.err)")
    }

    @Test("--help describes the loss, the step, the tolerance and its reason; `algo --help` lists gradcheck")
    func help() {
        let r = run(["--help"])
        #expect(r.code == .ok)
        for phrase in ["usage: algo gradcheck FILE.algo", "central difference", "O(h²)", "O(ε/h)", "--tolerance", "DTransformerGopher", "replayed"] {
            #expect(r.out.contains(phrase), "\(phrase)")
        }
        var top = Output()
        _ = CLI.run(["--help"], &top)
        #expect(top.stdout.contains("gradcheck"))
    }
}
