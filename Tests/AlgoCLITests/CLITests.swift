import Testing
@testable import AlgoCLI

/// `algo ARGS…` in-process: the exit code and what it wrote.
func runCLI(_ args: [String]) -> (ExitCode, Output) {
    var out = Output()
    let code = CLI.run(args, &out)
    return (code, out)
}

/// The command line itself: help, unknown commands and flags, exit codes.
@Suite struct CLITests {
    func run(_ args: String...) -> (ExitCode, Output) { runCLI(args) }

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
    func run(_ args: String...) -> (ExitCode, Output) { runCLI(args) }

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

/// `--set` is one strict parser for every command (issue 15): ASCII spellings are names, and a name
/// the algorithm does not have, a name given twice or a dimension that is not a natural number is a
/// usage error (exit 2) with the closest name, never a silently ignored value.
@Suite struct StrictSetTests {
    static let dtraining = RunCommandTests.repository + "/Algorithms/DTraining.algo"
    static let dtransformer = RunCommandTests.repository + "/Algorithms/DTransformer.algo"

    func run(_ args: [String]) -> (ExitCode, Output) { runCLI(args) }

    @Test(arguments: [
        ("de=30", "names no hyperparameter or dimension of `DTraining` or what it calls; did you mean `d_e`?"),
        ("etaa=0.1", "did you mean `η`?"),
        ("d_e=-4", "`d_e` is a dimension, a natural number"),
        ("d_e=4.5", "`d_e` is a dimension, a natural number"),
        ("d_e=9223372036854775808", "`d_e` is a dimension, a natural number"),
        ("d_e=0x10", "not a decimal number"),
        ("η=nan", "not a decimal number"),
        ("d_e=8,d_e=16", "gives `d_e` twice"),
        ("eta=0.1,\\eta=0.2", "gives `η` twice"),
        ("x=,2", "takes `NAME=VALUE,…`"),
    ])
    func refused(_ set: String, _ message: String) {
        let (code, out) = run(["run", Self.dtraining, "--set", set])
        #expect(code == .usage, "\(set): \(out.stderr)")
        #expect(out.stderr.contains(message), "\(set): \(out.stderr)")
    }

    /// ASCII spellings reach the same hyperparameter as the Unicode name: the runs agree exactly.
    @Test func asciiSpellingsAreTheNames() {
        let unicode = run(["run", Self.dtraining, "--set", "N_epochs=2,η=0.2,ℓ_max=8"])
        #expect(unicode.0 == .ok, "\(unicode.1.stderr)")
        func loss(_ o: Output) -> Substring? { o.stdout.split(separator: "\n").first { $0.hasPrefix("loss after") } }
        for spelling in ["N_epochs=2,eta=0.2,ell_max=8", "N_epochs=2,\\eta=0.2,\\ell_max=8", "N_epochs=2,\\eta=0.2,\\ell_{max}=8"] {
            let ascii = run(["run", Self.dtraining, "--set", spelling])
            #expect(ascii.0 == .ok, "\(spelling): \(ascii.1.stderr)")
            #expect(loss(ascii.1) != nil && loss(ascii.1) == loss(unicode.1), "\(spelling)")
        }
        let other = run(["run", Self.dtraining, "--set", "N_epochs=2,η=0.05,ℓ_max=8"])
        #expect(loss(other.1) != loss(unicode.1), "η must change the result, or the comparison shows nothing")
    }

    @Test func everyCommandRefusesAnUnknownName() {
        for args in [["params", Self.dtransformer, "--set", "dmlp=3"], ["check", Self.dtransformer, "--set", "dmlp=3"],
                     ["gradcheck", Self.dtransformer, "--set", "dmlp=3"], ["run", Self.dtransformer, "--set", "dmlp=3"]] {
            let (code, out) = run(args)
            #expect(code == .usage, "\(args[0]): \(out.stderr)")
            #expect(out.stderr.contains("did you mean `d_mlp`?"), "\(args[0]): \(out.stderr)")
        }
    }
}

/// A flag that means nothing for what `algo run` runs is refused (exit 2), not silently ignored
/// (issue 15): training flags on a forward run, `--text` on training (and `--eval-every` without
/// `--held-out`), and the
/// flags an experiment does not read (`Sources/AlgoCLI/README.md` has the whole table).
@Suite struct InapplicableFlagTests {
    static let algorithms = RunCommandTests.repository + "/Algorithms/"

    @Test(arguments: [
        ("DTransformer.algo", ["--resume", "r.safetensors"], "`--resume` applies to training algorithms"),
        ("DTransformer.algo", ["--loss-svg", "l.svg"], "`--loss-svg` applies to training algorithms"),
        ("DTransformer.algo", ["--data", "d.txt"], "`--data` applies to experiment files"),
        ("DTransformer.algo", ["--eval-every", "5"], "`--eval-every` applies to training algorithms"),
        ("DTransformer.algo", ["--held-out", "x_1=1,2"], "`--held-out` applies to training algorithms"),
        ("DTraining.algo", ["--eval-every", "5"], "`--eval-every` needs a held-out set: give it with `--held-out"),
        ("Experiments/CharGPT.algo", ["--held-out", "x_1=1,2"], "`--held-out` is not read by experiment files"),
        ("DTraining.algo", ["--data", "d.txt"], "`--data` applies to experiment files"),
        ("Experiments/CharGPT.algo", ["--input", "x=1,2"], "`--input` is not read by experiment files"),
        ("Experiments/CharGPT.algo", ["--save-params", "p.safetensors"], "`--save-params` is not read by experiment files"),
    ])
    func refused(_ file: String, _ flags: [String], _ message: String) {
        let (code, out) = runCLI(["run", Self.algorithms + file] + flags)
        #expect(code == .usage, "\(file) \(flags): \(out.stderr)")
        #expect(out.stderr.contains(message), "\(file) \(flags): \(out.stderr)")
        #expect(out.stdout.isEmpty, "nothing runs")
    }
}
