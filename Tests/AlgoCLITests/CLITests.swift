import Testing
@testable import AlgoCLI

/// The command line itself: help, unknown commands and flags, exit codes.
@Suite struct CLITests {
    func run(_ args: String...) -> (ExitCode, Output) {
        var out = Output()
        let code = CLI.run(args, &out)
        return (code, out)
    }

    @Test func noArgumentsIsUsageError() {
        let (code, out) = run()
        #expect(code == .usage)
        #expect(out.stderr.contains("usage: algo COMMAND"))
    }

    @Test func topLevelHelpListsEveryCommand() {
        let (code, out) = run("--help")
        #expect(code == .ok)
        for c in CLI.commands { #expect(out.stdout.contains(c.name)) }
    }

    @Test func everyCommandHasHelp() {
        for c in CLI.commands {
            let (code, out) = run(c.name, "--help")
            #expect(code == .ok, "\(c.name) --help")
            #expect(out.stdout.contains("usage: algo \(c.name)"), "\(c.name) --help")
        }
    }

    @Test func unknownCommandAndFlag() {
        #expect(run("frobnicate").0 == .usage)
        for c in CLI.commands {
            let (code, out) = run(c.name, "--no-such-flag")
            #expect(code == .usage, "\(c.name)")
            #expect(out.stderr.contains("unknown flag `--no-such-flag`"))
        }
    }
}
