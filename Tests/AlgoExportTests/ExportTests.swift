import AlgoDiagnostics
import Foundation
import Testing
@testable import AlgoCLI

/// `algo export --jax` without Python: the text of a small exported module is pinned, every line of
/// the paper's algorithms carries its line number, every file of `Algorithms/` either exports or is
/// refused with an E056x diagnostic at the line that cannot be exported (each code triggered here),
/// and the command line's usage errors and output failures keep an existing output file intact.
/// (The exported modules run against `algo run` in `.ci/check-jax`.)
///
/// The pinned module is `Fixtures/Tiny.py`. After a deliberate change regenerate it with
///
///     ALGO_BLESS=1 swift test --filter ExportTests
///
/// and review `git diff Tests/AlgoExportTests/Fixtures` before committing.
@Suite struct ExportTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    static func path(_ p: String) -> String { root + "/" + p }
    static let fixtures = "Tests/AlgoExportTests/Fixtures"

    func run(_ args: [String]) -> (ExitCode, Output) {
        var out = Output()
        let code = CLI.run(args, &out)
        return (code, out)
    }

    /// The module for `file` (relative to the repository), with the repository's path taken out.
    func export(_ file: String) -> (ExitCode, String, String) {
        let (code, out) = run(["export", "--jax", Self.path(file)])
        return (code, out.stdout.replacingOccurrences(of: Self.root + "/", with: ""), out.stderr.replacingOccurrences(of: Self.root + "/", with: ""))
    }

    func temporary() -> String {
        let dir = NSTemporaryDirectory() + "algo-export-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    // MARK: The text

    @Test func tinyModuleIsPinned() throws {
        let (code, text, err) = export(Self.fixtures + "/Tiny.algo")
        #expect(code == .ok, "\(err)")
        let golden = Self.path(Self.fixtures + "/Tiny.py")
        if ProcessInfo.processInfo.environment["ALGO_BLESS"] == "1" {
            try text.write(toFile: golden, atomically: true, encoding: .utf8)
        }
        let expected = try String(contentsOfFile: golden, encoding: .utf8)
        let a = text.split(separator: "\n", omittingEmptySubsequences: false), b = expected.split(separator: "\n", omittingEmptySubsequences: false)
        if let k = zip(a, b).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset {
            Issue.record("line \(k + 1) differs:\n  got:      \(a[k])\n  expected: \(b[k])")
        }
        #expect(a.count == b.count)
    }

    /// The constructs of the paper's forward pass, each as the Python it becomes.
    @Test func transformerConstructs() {
        let (code, text, _) = export("Algorithms/DTransformer.algo")
        #expect(code == .ok)
        for line in [
            // 1-based ids and positions, a family built by an independent loop (vmap), stacked as columns.
            #"e = _columns(lambda t: theta["W_e"][:, x[t - 1] - 1] + theta["W_p"][:, t - 1], ell)  # 2: for t ∈ [ℓ] : e_t ← W_e[:, x[t]] + W_p[:, t]"#,
            #"X = e  # 3: X ← [e_1, e_2, . . . e_ℓ]"#,
            // a checker-proved column loop over layer_norm; a layer's checkpoint names with l substituted.
            #"X_tilde = _columns(lambda t: layer_norm(X[:, t - 1], gamma=theta[f"γ^1_{_i(l)}"], beta=theta[f"β^1_{_i(l)}"]), ell)"#,
            // a collection passed on under its prefix, the mask rule as a function of 1-based indices.
            #"X = X + MHAttention(X_tilde, W=_sub(theta, f"𝓦_{_i(l)}"), Mask=lambda t, t_prime: jnp.where(t <= t_prime, 1.0, 0.0), H=H)"#,
            // b 𝟏ᵀ as a broadcast column, GELU with erf, softmax per column.
            #"theta[f"b^{_i(l)}_mlp1"][:, None], approximate=False)"#,
            #"P = jax.nn.softmax(theta["W_u"] @ X, axis=0)  # 11: return P = softmax(W_u X)"#,
            // shapes the checker proved, with the dimensions bound at run time.
            #"assert P.shape == (N_V, ell), P.shape  # 11"#,
            // Attention: KᵀQ, the ∀ over the mask, √d_attn; MHAttention: heads stacked.
            #"S = K.T @ Q  # 4"#,
            #"S = jnp.where(Mask(t_z, t_x) == 0, -jnp.inf, S)  # 5"#,
            #"Y = jnp.concatenate([Ys[_k] for _k in range(1, H + 1)], axis=0)  # 3: Y ← [Y^1; Y^2; . . . ; Y^H]"#,
            // layer_norm's Σ over the rows.
            #"m = _sum(lambda i: e[i - 1] / d_e, 1, d_e)  # 1: m ← Σ_{i=1}^{d_e} e[i]/d_e"#,
        ] {
            #expect(text.contains(line), "missing: \(line)")
        }
    }

    /// The training step: ∇ as jax.grad, Adam's update member by member, the loop calling the jitted step.
    @Test func trainingConstructs() {
        let (code, text, _) = export("Algorithms/DTrainingAdam.algo")
        #expect(code == .ok)
        for line in [
            "def DTrainingAdam_loss(theta, x_n, *, ell_max, L, H, d_e, d_mlp, d_attn, d_mid):",
            "g = jax.grad(loss)(theta)  # 10: g ← ∇loss(θ)",
            "m = jax.tree_util.tree_map(lambda m, g: beta_1 * m + (1 - beta_1) * g, m, g)  # 11",
            "m_hat = jax.tree_util.tree_map(lambda m: m / (1 - beta_1 ** s), m)  # 13",
            "theta = jax.tree_util.tree_map(lambda theta, m_hat, v_hat: theta - eta * m_hat / (jnp.sqrt(v_hat) + epsilon), theta, m_hat, v_hat)  # 15",
            "s, m, v, theta = DTrainingAdam_step_jit(s, m, v, theta, x[n], ",
            "loss = lambda theta: jnp.mean(jax.vmap(lambda x_n: DTrainingAdam_loss(theta, x_n, ",
        ] {
            #expect(text.contains(line), "missing: \(line)")
        }
    }

    /// Sampling draws with jax.random from an explicit key (1-based ids).
    @Test func samplingUsesJaxRandom() {
        let (code, text, _) = export("Algorithms/DInference.algo")
        #expect(code == .ok)
        #expect(text.contains("def DInference(x, theta_hat, *, ell_gen, tau, ell_max, L, H, d_e, d_mlp, d_attn, d_mid, key):"))
        #expect(text.contains("y = jax.random.categorical(key_y, jnp.log(p ** (1 / tau))) + 1  # 5"))
    }

    /// Every statement line of a function body ends with the paper's line number (or names the
    /// header line it comes from); every name is ASCII (Python reads `ℓ` as `l`).
    @Test func everyLineCarriesItsLineNumber() {
        for file in ["Algorithms/DTransformer.algo", "Algorithms/EDTransformer.algo", "Algorithms/DTrainingAdam.algo"] {
            let (_, text, _) = export(file)
            var inBody = false
            for line in text.split(separator: "\n") {
                if line.hasPrefix("def ") { inBody = !line.hasPrefix("def _") && !line.hasPrefix("def load_params") && !line.hasPrefix("def save_params") && !line.hasPrefix("def hyperparameters"); continue }
                guard inBody, line.hasPrefix("    "), !line.trimmingCharacters(in: .whitespaces).hasPrefix("\"\"\"") else { continue }
                let code = line.components(separatedBy: "  # ").first ?? ""
                #expect(line.contains("  # ") || line.trimmingCharacters(in: .whitespaces).hasPrefix("# "), "no line number: \(line)")
                let identifiers = code.replacingOccurrences(of: #""[^"]*""#, with: "", options: .regularExpression)
                let ascii = identifiers.unicodeScalars.allSatisfy { $0.isASCII }
                #expect(ascii, "non-ASCII code: \(line)")
            }
        }
    }

    // MARK: What cannot be exported

    /// Each file of the corpus exports (exit 0, a module) or is refused with E056x (exit 1, nothing on stdout).
    @Test func corpusExportsOrIsRefused() throws {
        let refused: [String: String] = [
            "BasicAttention.algo": "E0560", "EDInference.algo": "E0560", "ETraining.algo": "E0560", "DInferenceWindow.algo": "E0560",
            "Experiments/ETrainingAdam.algo": "E0560",
            "Experiments/CharGPT.algo": "E0562", "Experiments/MLM.algo": "E0562", "Experiments/Seq2seq.algo": "E0562",
        ]
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.path("Algorithms")).filter { $0.hasSuffix(".algo") }
            + FileManager.default.contentsOfDirectory(atPath: Self.path("Algorithms/Experiments")).filter { $0.hasSuffix(".algo") }.map { "Experiments/" + $0 }
        #expect(files.count >= 20)
        for f in files {
            let (code, text, err) = export("Algorithms/" + f)
            if let c = refused[f] {
                #expect(code == .diagnostics, "\(f)")
                #expect(err.contains("error[\(c)]"), "\(f): \(err)")
                #expect(text.isEmpty, "\(f) wrote Python although refused")
            } else {
                #expect(code == .ok, "\(f): \(err)")
                #expect(text.contains("import jax"), "\(f)")
            }
        }
    }

    /// E0560: a `while` loop, at its line (EDInference line 3).
    @Test func whileIsE0560() {
        let (code, _, err) = export("Algorithms/EDInference.algo")
        #expect(code == .diagnostics)
        #expect(err.contains("error[E0560]: a `while` loop is not exported yet"))
        #expect(err.contains("--> Algorithms/EDInference.algo:12:1"))
    }

    /// E0560 for expressions: a random choice, a set builder and a Σ over a set (ETraining 5, 7, 9).
    @Test func randomChoiceAndSetsAreE0560() {
        let (_, _, err) = export("Algorithms/ETraining.algo")
        #expect(err.components(separatedBy: "error[E0560]").count - 1 == 3)
        #expect(err.contains("randomly with probability p_mask or 1−p_mask` is not exported yet"))
        #expect(err.contains("only `Σ_{i=a}^{b}` sums are exported yet"))
    }

    /// E0561: ∇ of a loss defined outside the loop that takes it (the step cannot be split off).
    @Test func gradientOutsideTheLoopIsE0561() {
        let (code, text, err) = export(Self.fixtures + "/UnsplitSteps.algo")
        #expect(code == .diagnostics)
        #expect(text.isEmpty)
        #expect(err.contains("error[E0561]: `∇` of a function not defined in this loop's body is not exported"))
        #expect(err.contains("UnsplitSteps.algo:19:1"))
    }

    /// DTrainingMinibatch's Σ over a batch: the loss and the step take the batch's sequences as a list
    /// `xs` (a Python sum over it), the loop gives each step its batch by line 3's bounds, and there
    /// is no `_batch_step` (the step already averages over a batch). Its values: `.ci/check-jax`.
    @Test func minibatchSumTakesTheBatch() {
        let (code, text, err) = export("Algorithms/DTrainingMinibatch.algo")
        #expect(code == .ok, "\(err)")
        #expect(text.contains("def DTrainingMinibatch_loss(theta, xs, *,"))
        #expect(text.contains("for x_n in xs)  # 3"))
        #expect(text.contains("DTrainingMinibatch_step_jit(theta, [x[_n] for _n in range((b - 1) * B + 1, b * B + 1)], "))
        #expect(!text.contains("_batch_step"))
    }

    /// E0561: a minibatch's Σ whose variable is read beyond the elements' index (`n Σ_t …`): its terms
    /// are not one function of a sequence each.
    @Test func minibatchSumReadingItsIndexIsE0561() {
        let (_, _, err) = export(Self.fixtures + "/UnsplitSteps.algo")
        #expect(err.contains("error[E0561]: the step reads a dataset element other than this iteration's or its minibatch's"))
        #expect(err.contains("UnsplitSteps.algo:32:89"))
    }

    /// E0562: an experiment file.
    @Test func experimentIsE0562() {
        let (code, _, err) = export("Algorithms/Experiments/CharGPT.algo")
        #expect(code == .diagnostics)
        #expect(err.contains("error[E0562]: an experiment file is not exported"))
        #expect(err.contains("CharGPT.algo:3:1"))
    }

    // MARK: The command line

    @Test func usageErrors() {
        let file = Self.path("Algorithms/Attention.algo")
        for args in [["export", file], ["export", "--jax"], ["export", "--jax", file, file], ["export", "--jax", "--torch", file],
                     ["export", "--jax", file, "-o"], ["export", "--jax", file, "--output="]] {
            let (code, out) = run(args)
            #expect(code == .usage, "\(args)")
            #expect(out.stdout.isEmpty)
            #expect(out.stderr.contains("error"), "\(args)")
        }
        let (code, out) = run(["export", "--help"])
        #expect(code == .ok)
        #expect(out.stdout.contains("usage: algo export --jax FILE.algo [-o module.py]"))
    }

    @Test func missingInputIsExit3() {
        let (code, out) = run(["export", "--jax", Self.path("Algorithms/NoSuchFile.algo")])
        #expect(code == .input)
        #expect(out.stderr.contains("E0001"))
    }

    @Test func writesAndReplacesTheOutput() throws {
        let dir = temporary()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let target = dir + "/module.py"
        try "previous\n".write(toFile: target, atomically: true, encoding: .utf8)
        let (code, out) = run(["export", "--jax", Self.path("Algorithms/Attention.algo"), "-o", target])
        #expect(code == .ok)
        #expect(out.stderr.contains("wrote \(target) (Attention;"))
        #expect(try String(contentsOfFile: target, encoding: .utf8).contains("def Attention(X, Z, *, W_qkv, Mask):"))
    }

    /// A refused export, a bad flag or an unwritable `-o` leaves the previous file as it was.
    @Test func failuresKeepThePreviousFile() throws {
        let dir = temporary()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let target = dir + "/module.py"
        try "previous\n".write(toFile: target, atomically: true, encoding: .utf8)
        for (args, expected) in [
            (["export", "--jax", Self.path("Algorithms/EDInference.algo"), "-o", target], ExitCode.diagnostics),
            (["export", "--jax", Self.path("Algorithms/Attention.algo"), "-o", target, "--bogus"], .usage),
            (["export", Self.path("Algorithms/Attention.algo"), "-o", target], .usage),
            (["export", "--jax", Self.path("Algorithms/NoSuchFile.algo"), "-o", target], .input),
        ] {
            let (code, _) = run(args)
            #expect(code == expected, "\(args)")
            #expect(try String(contentsOfFile: target, encoding: .utf8) == "previous\n", "\(args)")
        }
        // A missing directory or a directory as the output: exit 4, nothing created or replaced.
        let (c1, o1) = run(["export", "--jax", Self.path("Algorithms/Attention.algo"), "-o", dir + "/missing/module.py"])
        #expect(c1 == .output)
        #expect(o1.stderr.contains("E0007"), "\(o1.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/missing"))
        let (c2, _) = run(["export", "--jax", Self.path("Algorithms/Attention.algo"), "-o", dir])
        #expect(c2 == .output)
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "previous\n")
    }
}
