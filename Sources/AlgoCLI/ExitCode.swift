/// The documented exit codes of every `algo` command (README, "Exit codes").
public enum ExitCode: Int32, Sendable {
    /// Success: the command did what was asked and found nothing wrong.
    case ok = 0
    /// The input was read but is wrong: syntax, shape or runtime errors were reported,
    /// or `algo fmt --check` found a file that is not in canonical form.
    case diagnostics = 1
    /// The command line is wrong: unknown command or flag, missing or bad value.
    case usage = 2
    /// An input could not be read: missing file, unreadable file, invalid UTF-8.
    case input = 3
    /// An output could not be written.
    case output = 4
    /// Interrupted (Ctrl-C) after cleaning up.
    case interrupted = 130
}
