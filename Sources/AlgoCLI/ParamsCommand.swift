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
        let set: DimensionOverrides
        switch DimensionOverrides.parse(args.value("set"), accepts: .naturals) {
        case .success(let o): set = o; dims.merge(o.dims) { $1 }
        case .failure(let e): output.err("algo params: error: \(e.message)"); return .usage
        }
        var reporter = Reporter(format: format)
        let (files, failures) = reporter.load([path])
        if !failures.isEmpty { reporter.emit(failures, &output); return .input }
        switch Pipeline.load(files[0]) {
        case .failure(let f):
            return RunCommand.report(f, &reporter, &output)
        case .success(let p):
            if let e = set.validate(against: p.program.settableNames, for: "`\(p.target.name)` or what it calls") {
                output.err("algo params: error: \(e.message)"); return .usage
            }
            do {
                let specs = try ParameterLayout.parameters(of: p.target, program: p.program, dims: dims)
                if args.has("json") {
                    let items = specs.map { "{\"name\": \"\(JSONText.escape($0.name))\", \"shape\": [\($0.shape.map(String.init).joined(separator: ", "))]}" }
                    output.out("[" + items.joined(separator: ",\n ") + "]")
                } else {
                    let width = specs.map(\.name.count).max() ?? 0
                    var s = ""
                    for sp in specs { s += sp.name.paddedByCharacters(to: width + 2) + sp.shape.map(String.init).joined(separator: "×") + "\n" }
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

extension String {
    /// The string followed by spaces up to `width` characters. Not `padding(toLength:)`, which counts
    /// UTF-16 units (`𝓦` is two) and so misaligns checkpoint names.
    func paddedByCharacters(to width: Int) -> String {
        self + String(repeating: " ", count: Swift.max(0, width - count))
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
