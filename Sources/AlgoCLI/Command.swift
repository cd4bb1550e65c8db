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
