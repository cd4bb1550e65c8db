import AlgoDiagnostics
import AlgoEval
import Foundation

/// `algo params FILE.algo [--set …] [--json]`: every parameter's checkpoint name and shape, so that
/// other tools can produce or read checkpoints (naming convention in the README, "Parameter names").
struct ParamsCommand: Command {
    var name: String { "params" }
    var summary: String { "list every parameter's checkpoint name and shape" }
    var usage: String {
        """
        usage: algo params FILE.algo [--set NAME=VALUE,…] [--json]

        Lists the parameters `algo run FILE.algo` reads, by checkpoint name (the paper's name with
        bound indices substituted: `γ^1_2`, `W^2_mlp1`, `𝓦_2.W^3_q`) and shape (rows × columns),
        for the embedded default dimensions changed by `--set`.
        """
    }
    var flags: [Arguments.Spec] {
        [
            Arguments.Spec("set", value: true, help: "dimension values, `d_e=64,H=4`"),
            Arguments.Spec("json", help: "print a JSON array of {name, shape}"),
            DiagnosticFormat.flag,
        ]
    }

    func run(_ args: Arguments, _ output: inout Output) -> ExitCode {
        guard let format = DiagnosticFormat.from(args, &output) else { return .usage }
        guard let path = singleFile(args, &output) else { return .usage }
        var dims = RunSession.defaultDimensions
        if let set = args.value("set") {
            for part in set.split(separator: ",") {
                let kv = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces).precomposedStringWithCanonicalMapping }
                guard kv.count == 2, let v = Int(kv[1]), v >= 0 else {
                    output.err("algo params: error: `--set` takes `NAME=VALUE,…` with natural numbers, not `\(part)`"); return .usage
                }
                dims[kv[0]] = v
            }
        }
        var reporter = Reporter(format: format)
        let (_, failures) = reporter.load([path])
        if !failures.isEmpty { reporter.emit(failures, &output); return .input }
        switch RunSession.load(path: path) {
        case .failure(let f):
            reporter.emit(f.diagnostics, &output); return .diagnostics
        case .success(let p):
            do {
                let specs = try ParameterLayout.parameters(of: p.target, program: p.program, dims: dims)
                if args.has("json") {
                    let items = specs.map { "{\"name\": \"\(JSONText.escape($0.name))\", \"shape\": [\($0.shape.map(String.init).joined(separator: ", "))]}" }
                    output.out("[" + items.joined(separator: ",\n ") + "]")
                } else {
                    let width = specs.map(\.name.count).max() ?? 0
                    var s = ""
                    for sp in specs { s += sp.name.padding(toLength: width + 2, withPad: " ", startingAt: 0) + sp.shape.map(String.init).joined(separator: "×") + "\n" }
                    s += "\(specs.count) parameters, \(SizeBudget.elements(specs).map(String.init) ?? "more than 2⁶³") numbers\n"
                    output.out(s)
                }
                return .ok
            } catch let e as RuntimeError {
                reporter.emit([e.diagnostic], &output); return .diagnostics
            } catch {
                output.err("algo params: error: \(error)"); return .diagnostics
            }
        }
    }
}

enum JSONText {
    static func escape(_ s: String) -> String {
        var o = ""
        for c in s.unicodeScalars {
            switch c {
            case "\"": o += "\\\""
            case "\\": o += "\\\\"
            case "\n": o += "\\n"
            default: o.unicodeScalars.append(c)
            }
        }
        return o
    }
}
