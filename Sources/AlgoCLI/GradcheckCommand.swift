import AlgoDiagnostics
import AlgoEval
import AlgoTensor
import Foundation

/// `algo gradcheck FILE.algo`: the interpreter's reverse-mode `∇loss(θ)` against central finite
/// differences of the algorithm's own `loss(θ)` line, in Float64, element by element on a tiny model
/// (`GradientCheckProblem`). Exit 0 when every tensor of θ passes, 1 otherwise.
struct GradcheckCommand: Command {
    var name: String { "gradcheck" }
    var summary: String { "check ∇loss(θ) against finite differences (Float64, tiny model)" }
    var usage: String {
        """
        usage: algo gradcheck FILE.algo [--set NAME=VALUE,…] [--seed N] [--tolerance T] [--threads N] [--json]

        Checks the gradient `∇loss(θ)` that `algo run` trains with: for every element θ_i of every
        parameter tensor (named as `algo params` lists them), the interpreter's reverse-mode g_i
        against the central difference g_fd = (loss(θ + h e_i) − loss(θ − h e_i)) / 2h, in Float64,
        and prints per tensor the largest relative error |g − g_fd| / max(|g|, |g_fd|, 10⁻³) and
        where it is. Exit 0 when every tensor is within the tolerance, 1 otherwise.

        FILE is a training algorithm (its body takes ∇loss(θ): DTraining, ETraining, EDTraining,
        DTrainingAdam, DTrainingMinibatch) or a model one of them trains (DTransformer,
        DTransformerGopher, ETransformer, EDTransformer: the next-token, masked-token or seq2seq
        loss of DTraining, ETraining or EDTraining, with a variant in place of the model it extends).
        loss(θ) is the algorithm's own `loss(θ) = …` line, evaluated for one dataset element
        (N_data = 1, N_epochs = 1, B = 1) of ℓ = 4 tokens drawn from --seed; ETraining's random
        masks (p_mask = 0.5) are drawn from --seed and replayed identically for every evaluation.
        The model is tiny so that every element is checked: N_V = 7, ℓ_max = 4, L = 1, H = 2,
        d_e = 4, d_mlp = 8, d_attn = d_mid = 2, d_f = 4 (change with --set; `ℓ=5` sets the length).
        θ is drawn 𝒩(0, 0.5²) (γ: 1 + 𝒩(0, 0.5²)) from --seed, far from the near-linear 𝒩(0, 0.02²)
        initialisation, so that the gradients are large and the network non-linear.

        Step h = 10⁻⁵·max(1, |θ_i|): the error of g_fd is truncation O(h²) (h²|L‴|/6 ≈ 10⁻¹¹|L‴|)
        plus rounding O(ε/h) (ε|L|/h ≈ 10⁻¹⁰ times the error growth of one evaluation), balanced
        near h = 10⁻⁵, about 10⁻⁹ in all. Tolerance 10⁻⁵ (relative; gradients below 10⁻³ compared
        absolutely): 50 times the largest error measured on the files of Algorithms/ (2·10⁻⁷), and
        below what a wrong rule gives (a missing term, a transposed cotangent, a GELU VJP off by
        10⁻³: 10⁻⁴ to 1).
        """
    }
    var flags: [Arguments.Spec] {
        [
            Arguments.Spec("set", value: true, help: "dimensions and reals, `d_e=6,H=3,ℓ=5,p_mask=0.3`"),
            Arguments.Spec("seed", value: true, help: "seed of the dataset element, θ and the masks (default 0)"),
            Arguments.Spec("tolerance", value: true, help: "largest relative error that passes (default 1e-5)"),
            Arguments.Spec("json", help: "print a JSON array, one object per tensor"),
            KernelOptions.threadsFlag,
            DiagnosticFormat.flag,
        ]
    }

    func run(_ args: Arguments, _ output: inout Output) -> ExitCode {
        guard let format = DiagnosticFormat.from(args, &output) else { return .usage }
        guard let path = singleFile(args, &output) else { return .usage }
        var seed: UInt64 = 0
        if let s = args.value("seed") {
            guard let v = UInt64(s) else { output.err("algo gradcheck: error: `--seed` takes a natural number, not `\(s)`"); return .usage }
            seed = v
        }
        var tolerance = GradientCheckProblem.tolerance
        if let s = args.value("tolerance") {
            guard let v = Double(s), v > 0, v.isFinite else { output.err("algo gradcheck: error: `--tolerance` takes a positive number, not `\(s)`"); return .usage }
            tolerance = v
        }
        let set: DimensionOverrides
        switch DimensionOverrides.parse(args.value("set"), accepts: .numbers, realNames: RunSession.trainingRealNames) {
        case .success(let o): set = o
        case .failure(let e): output.err("algo gradcheck: error: \(e.message)"); return .usage
        }

        var reporter = Reporter(format: format)
        let (files, failures) = reporter.load([path])
        if !failures.isEmpty { reporter.emit(failures, &output); return .input }
        do {
            let problem = try GradientCheckProblem.prepare(files[0], dims: set.dims, reals: set.reals, seed: seed)
            var names = problem.program.program.settableNames   // the model's and its training algorithm's
            names.naturals.insert("ℓ")                           // the length of the dataset element
            if let e = set.validate(against: names, for: "`\(problem.program.target.name)` or what it calls") {
                output.err("algo gradcheck: error: \(e.message)"); return .usage
            }
            // An unused parameter's zero gradient passes the check: the check's warning (E0308) says why.
            if format == .text, !args.has("json"), !problem.program.diagnostics.isEmpty {   // stdout stays one JSON document
                reporter.add(problem.program.sources)
                reporter.emit(problem.program.diagnostics, &output)
            }
            let start = Date()
            let (loss, results) = try problem.check(tolerance: tolerance)
            let seconds = Date().timeIntervalSince(start)
            let passed = results.allSatisfy(\.passed)
            if args.has("json") {
                output.out(json(results, problem, loss: loss, tolerance: tolerance, path: path))
            } else {
                output.out(text(results, problem, loss: loss, tolerance: tolerance, path: path, seconds: seconds))
            }
            return passed ? .ok : .diagnostics
        } catch {
            return RunCommand.report(error, &reporter, &output)
        }
    }

    static func e(_ x: Double) -> String { x.isNaN ? "NaN" : String(format: "%.1e", x) }

    func text(_ results: [GradientCheckResult], _ p: GradientCheckProblem, loss: Double, tolerance: Double, path: String, seconds: Double) -> String {
        let a = p.program.target
        var s = "gradcheck: \(path)\n"
        s += "loss(θ): line \(p.lossLine.number.isEmpty ? "" : p.lossLine.number + " ")of \(a.name) (\((p.lossLine.file as NSString).lastPathComponent)), `\(p.lossLine.text)`, the \(p.kind) loss"
        if let m = p.model {
            s += m.name == m.replaces ? ", for the model \(m.name)" : ", with \(m.name) in place of \(m.replaces)"
        }
        s += "\n"
        let shown = ["N_V", "ℓ_max", "L", "L_enc", "L_dec", "H", "d_e", "d_mlp", "d_attn", "d_mid", "d_f"].filter { p.dims[$0] != nil && Self.uses(p, $0) }
        s += "dimensions: " + shown.map { "\($0) = \(p.dims[$0]!)" }.joined(separator: ", ") + " (N_data = N_epochs = 1)\n"
        s += "dataset element: " + p.sequences.map { "\($0.name) = \($0.tokens.map(String.init).joined(separator: ","))" }.joined(separator: "; ")
        s += p.reals["p_mask"].map { " (masks drawn with p_mask = \($0), seed \(p.seed), replayed for every evaluation)" } ?? " (seed \(p.seed))"
        s += "\n"
        let numbers = p.parameters.reduce(0) { $0 + $1.tensor.count }
        s += "θ: \(p.parameters.count) tensors, \(numbers) numbers, 𝒩(0, 0.5²) (γ: 1 + 𝒩(0, 0.5²)), seed \(p.seed); loss(θ) = \(String(format: "%.6f", loss))\n"
        s += "check: every element, central differences with h = \(Self.e(GradientCheckProblem.step))·max(1, |θ_i|), Float64, \(2 * numbers) evaluations of loss(θ)\n"
        s += "error: |g − g_fd| / max(|g|, |g_fd|, \(Self.e(GradientCheckProblem.floor))); tolerance \(Self.e(tolerance))\n\n"
        let rows = results.map { r in
            [r.name, r.shape.map(String.init).joined(separator: "×"), Self.e(r.maxError), "[" + r.index.map(String.init).joined(separator: ", ") + "]",
             String(format: "% .6e", r.gradient), String(format: "% .6e", r.finiteDifference), Self.e(r.largestGradient), r.passed ? "ok" : "FAIL"]
        }
        let header = ["tensor", "shape", "max error", "at", "∇loss(θ)", "finite difference", "max |∇|", ""]
        let widths = header.indices.map { i in ([header[i]] + rows.map { $0[i] }).map(\.count).max()! }
        for row in [header] + rows {
            s += row.indices.map { row[$0].paddedByCharacters(to: widths[$0]) }.joined(separator: "  ").trimmingCharacters(in: .whitespaces) + "\n"
        }
        let worst = results.max { ($0.maxError.isNaN ? .infinity : $0.maxError) < ($1.maxError.isNaN ? .infinity : $1.maxError) }
        let failed = results.filter { !$0.passed }
        s += "\n"
        if failed.isEmpty {
            s += "passed: all \(results.count) tensors within \(Self.e(tolerance)) (max relative error \(Self.e(worst?.maxError ?? 0)), \(worst?.name ?? "")); \(String(format: "%.1f", seconds)) s\n"
        } else {
            s += "FAILED: \(failed.count) of \(results.count) tensors beyond \(Self.e(tolerance)): \(failed.map(\.name).joined(separator: ", "))\n"
        }
        return s
    }

    /// Whether the dimension appears in the checked program (L_enc only for EDTransformer, …).
    static func uses(_ p: GradientCheckProblem, _ dim: String) -> Bool {
        RunReport.dimensionsUsed(p.program.target, p.program.program).union(RunReport.modelDimensions(p.program)).contains(dim)
    }

    func json(_ results: [GradientCheckResult], _ p: GradientCheckProblem, loss: Double, tolerance: Double, path: String) -> String {
        func num(_ x: Double) -> String { x.isFinite ? "\(x)" : "null" }
        let items = results.map { r in
            "{\"file\": \"\(JSONText.escape(path))\", \"algorithm\": \"\(JSONText.escape(p.program.target.name))\", \"loss\": \"\(p.kind)\", "
                + "\"tensor\": \"\(JSONText.escape(r.name))\", \"shape\": [\(r.shape.map(String.init).joined(separator: ", "))], "
                + "\"max_relative_error\": \(num(r.maxError)), \"index\": [\(r.index.map(String.init).joined(separator: ", "))], "
                + "\"gradient\": \(num(r.gradient)), \"finite_difference\": \(num(r.finiteDifference)), \"max_abs_gradient\": \(num(r.largestGradient)), "
                + "\"step\": \(GradientCheckProblem.step), \"floor\": \(GradientCheckProblem.floor), \"tolerance\": \(tolerance), \"loss_value\": \(num(loss)), \"passed\": \(r.passed)}"
        }
        return "[" + items.joined(separator: ",\n ") + "]"
    }
}
