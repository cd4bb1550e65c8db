/// One `algo` subcommand. Each lives in its own file `<Name>Command.swift` and is listed in `CLI.commands`.
public protocol Command: Sendable {
    /// The word after `algo`.
    var name: String { get }
    /// One line for `algo --help`.
    var summary: String { get }
    /// `algo NAME --help`: usage line and description (the flags are appended from `flags`).
    var usage: String { get }
    /// The flags this command accepts (besides `--help`, which every command has).
    var flags: [Arguments.Spec] { get }
    /// Runs with parsed arguments; writes only to `output`; returns the exit code.
    func run(_ args: Arguments, _ output: inout Output) -> ExitCode
}

extension Command {
    /// The one `.algo` file a command takes (`algo run|params|gradcheck FILE.algo`), or nil after
    /// printing the usage error.
    func singleFile(_ args: Arguments, _ output: inout Output) -> String? {
        guard args.positionals.count == 1, let path = args.positionals.first else {
            output.err("algo \(name): error: expected one .algo file\n\n" + usage)
            return nil
        }
        return path
    }
}
