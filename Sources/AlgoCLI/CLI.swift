import AlgoDiagnostics
import AlgoKernels
import Foundation

/// The `algo` command line: dispatch to subcommands, `--help` everywhere, documented exit codes.
public enum CLI {
    /// Every subcommand, in the order `algo --help` lists them.
    public static let commands: [any Command] = [
        ParseCommand(),
        FmtCommand(),
        RunCommand(),
        CheckCommand(),
        ParamsCommand(),
        ConvertCommand(),
        BenchCommand(),
        GradcheckCommand(),
        LspCommand(),
        RenderCommand(),
        ExportCommand(),
    ]

    static let version = "algo 0.1.0"

    /// Runs `algo ARGS…` and returns the exit code, having written to the given streams. The kernel
    /// settings (`KernelOptions`: threads, vector unit) are read from `environment` and restored after.
    public static func run(_ args: [String], _ output: inout Output,
                           environment: [String: String] = ProcessInfo.processInfo.environment) -> ExitCode {
        guard let first = args.first else {
            output.err(topHelp())
            return .usage
        }
        if first == "--help" || first == "-h" || first == "help" {
            if first == "help", args.count > 1 { return run([args[1], "--help"], &output, environment: environment) }
            output.out(topHelp())
            return .ok
        }
        if first == "--version" { output.out(version); return .ok }
        guard let command = commands.first(where: { $0.name == first }) else {
            var message = "algo: error: unknown command `\(first)`"
            if let best = Suggestion.closest(to: first, among: commands.map(\.name)) { message += "; did you mean `\(best)`?" }
            output.err(message + "\nusage: algo COMMAND [FLAGS] [FILES]; `algo --help` lists the commands")
            return .usage
        }
        switch Arguments.parse(Array(args.dropFirst()), specs: command.flags) {
        case .failure(let e):
            output.err("algo \(command.name): error: \(e.message)\n" + shortUsage(for: command))
            return .usage
        case .success(let parsed):
            if parsed.has("help") {
                output.out(help(for: command))
                return .ok
            }
            let (threads, unit) = (Parallel.threads, GEMM.unit)
            defer { (Parallel.threads, GEMM.unit) = (threads, unit) }
            guard KernelOptions.apply(parsed, command: command, environment: environment, &output) else {
                output.err("\n" + help(for: command))
                return .usage
            }
            return command.run(parsed, &output)
        }
    }

    /// Entry point of the executable: real streams, colour when stderr is a terminal and NO_COLOR is unset.
    public static func main(_ args: [String]) -> Int32 {
        OutputStreams.reserveStandardDescriptors()
        let env = ProcessInfo.processInfo.environment
        var output = Output(color: isatty(2) != 0 && env["NO_COLOR"] == nil)
        output.live = true
        TerminationSignals.shared.install()
        let code = run(args, &output)
        return OutputStreams.flush(output, code: code).rawValue
    }

    static func topHelp() -> String {
        var s = "usage: algo COMMAND [FLAGS] [FILES]\n\n"
        s += "The pseudocode of \"Formal Algorithms for Transformers\" (Phuong & Hutter, 2022), executable.\n\ncommands:\n"
        let width = commands.map(\.name.count).max() ?? 0
        for c in commands {
            s += "  " + c.name.padding(toLength: width + 2, withPad: " ", startingAt: 0) + c.summary + "\n"
        }
        s += "\n`algo COMMAND --help` describes a command.\n"
        s += "exit codes: 0 ok, 1 errors in the input (diagnostics), 2 bad command line, 3 unreadable input,\n"
        s += "            4 unwritable output, 130 interrupted\n"
        return s
    }

    /// The first line of a command's usage and where the rest is: what a usage error prints
    /// (the whole help would bury the one line that says what was wrong).
    static func shortUsage(for c: any Command) -> String {
        let first = c.usage.split(separator: "\n", maxSplits: 1).first.map(String.init) ?? "usage: algo \(c.name)"
        return first + "\n`algo \(c.name) --help` describes every flag"
    }

    static func help(for c: any Command) -> String {
        var s = c.usage
        if !s.hasSuffix("\n") { s += "\n" }
        s += "\nflags:\n"
        let rows = c.flags.map { ("--" + $0.name + ($0.takesValue ? " VALUE" : ""), $0.help) } + [("--help", "print this help")]
        let width = rows.map(\.0.count).max() ?? 0
        for (f, h) in rows { s += "  " + f.padding(toLength: width + 2, withPad: " ", startingAt: 0) + h + "\n" }
        return s
    }
}

