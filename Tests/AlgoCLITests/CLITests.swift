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

/// Usage errors say what was wrong in one line, with the closest spelling, and the command's usage line
/// rather than its whole help (issue 15).
@Suite struct UsageErrorTests {
    func run(_ args: String...) -> (ExitCode, Output) {
        var out = Output()
        let code = CLI.run(args, &out)
        return (code, out)
    }

    @Test func misspeltCommandSuggestsTheClosest() {
        let (code, out) = run("chekc", "x.algo")
        #expect(code == .usage)
        #expect(out.stderr.contains("unknown command `chekc`; did you mean `check`?"))
        #expect(!out.stderr.contains("commands:"), "the whole command list buries the message")
    }

    @Test func unrelatedCommandSuggestsNothing() {
        let (_, out) = run("frobnicate")
        #expect(!out.stderr.contains("did you mean"))
    }

    @Test func misspeltFlagSuggestsTheClosestAndPrintsTheUsageLineOnly() {
        let (code, out) = run("check", "--quite", "x.algo")
        #expect(code == .usage)
        #expect(out.stderr.contains("unknown flag `--quite`"))
        let (code2, out2) = run("run", "--seeed", "3", "x.algo")
        #expect(code2 == .usage)
        #expect(out2.stderr.contains("unknown flag `--seeed`; did you mean `--seed`?"))
        #expect(out2.stderr.contains("usage: algo run"))
        #expect(out2.stderr.contains("`algo run --help` describes every flag"))
        #expect(!out2.stderr.contains("flags:"), "the flag table belongs to --help")
        #expect(out2.stderr.split(separator: "\n").count <= 3)
    }

    @Test func aFlagGivenTwiceIsRefused() {
        let (code, out) = run("run", "--seed", "1", "--seed=2", "x.algo")
        #expect(code == .usage)
        #expect(out.stderr.contains("flag `--seed` is given twice"))
    }

    @Test func paramsAlignsNamesWithCharactersOutsideTheBasicPlane() throws {
        // 𝓦 (U+1D4E6) is two UTF-16 units: padding by UTF-16 put its rows one column left.
        var out = Output()
        let code = CLI.run(["params", RunCommandTests.repository + "/Algorithms/DTransformer.algo"], &out)
        #expect(code == .ok)
        let rows = out.stdout.split(separator: "\n").filter { $0.contains("×") || $0.last?.isNumber == true }.dropLast()
        let columns = Set(rows.map { row -> Int in
            let chars = Array(row)
            var i = chars.count
            while i > 0, chars[i - 1] != " " { i -= 1 }
            return i
        })
        #expect(rows.contains { $0.hasPrefix("𝓦") })
        #expect(columns.count == 1, "shapes start in one column: \(columns)")
    }
}
