import Foundation
import Testing
@testable import AlgoCLI

/// What `algo parse` and `algo fmt` do with bad input and bad command lines: each case a clear
/// message and the documented exit code (0 ok, 1 diagnostics, 2 usage, 3 unreadable input,
/// 4 unwritable output). Everything runs in-process through `CLI.run`, on files in a fresh
/// temporary directory per test.
@Suite struct InputErrorTests {
    static let clean = "Algorithm 1: y ← F(x)\n1 y ← x\n2 return y\n"
    static let broken = "Algorithm 1: y ← F(x)\n1 y ← (x\n2 return y\n"

    /// A fresh directory with the given files (name → bytes).
    static func directory(_ files: [String: [UInt8]]) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("algo-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for (name, bytes) in files { try Data(bytes).write(to: dir.appendingPathComponent(name)) }
        return dir
    }

    static func directory(texts: [String: String]) throws -> URL {
        try directory(texts.mapValues { Array($0.utf8) })
    }

    func run(_ args: [String]) -> (ExitCode, Output) {
        var out = Output()
        let code = CLI.run(args, &out)
        return (code, out)
    }

    /// Whether this process can read a file whose permissions are 000 (root can): then the
    /// unreadable-file tests cannot make an unreadable file and are skipped.
    static let permissionsBindUs: Bool = {
        guard let dir = try? directory(texts: ["probe.algo": clean]) else { return false }
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("probe.algo").path
        guard chmod(path, 0) == 0 else { return false }
        return FileManager.default.contents(atPath: path) == nil
    }()

    // MARK: - Unreadable input: exit 3

    @Test func missingFile() throws {
        let dir = try Self.directory(texts: [:])
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("nope.algo").path
        for command in [["parse"], ["fmt"], ["fmt", "--check"], ["fmt", "--write"]] {
            let (code, out) = run(command + [path])
            #expect(code == .input, "\(command)")
            #expect(out.stderr.contains("error[E0001]: no such file `\(path)`"), "\(command): \(out.stderr)")
            #expect(out.stderr.contains("--> \(path)"))
            #expect(out.stdout.isEmpty, "\(command): \(out.stdout)")
        }
    }

    @Test func directoryInsteadOfFile() throws {
        let dir = try Self.directory(texts: [:])
        defer { try? FileManager.default.removeItem(at: dir) }
        for command in [["parse"], ["fmt"]] {
            let (code, out) = run(command + [dir.path])
            #expect(code == .input, "\(command)")
            #expect(out.stderr.contains("error[E0002]: `\(dir.path)` is a directory, not a file"), "\(out.stderr)")
        }
    }

    @Test(.enabled(if: InputErrorTests.permissionsBindUs,
                   "running as root (or without permission checks): a file with mode 000 is still readable, so no unreadable file can be made"))
    func fileWithoutReadPermission() throws {
        let dir = try Self.directory(texts: ["secret.algo": Self.clean])
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("secret.algo").path
        #expect(chmod(path, 0) == 0)
        for command in [["parse"], ["fmt"]] {
            let (code, out) = run(command + [path])
            #expect(code == .input, "\(command)")
            #expect(out.stderr.contains("error[E0002]: cannot read `\(path)`"), "\(out.stderr)")
        }
    }

    @Test func invalidUTF8PointsAtTheBadByte() throws {
        // Line 2, after `1 y ← x` (7 characters, 9 bytes): the byte 0xFF is character 8.
        let bytes = Array("Algorithm 1: y ← F(x)\n1 y ← x".utf8) + [0xFF] + Array(" z\n".utf8)
        let dir = try Self.directory(["bad.algo": bytes])
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("bad.algo").path
        for command in [["parse"], ["fmt"], ["fmt", "--ascii"]] {
            let (code, out) = run(command + [path])
            #expect(code == .input, "\(command)")
            #expect(out.stderr.contains("error[E0003]: file is not valid UTF-8: byte 0xFF at offset \(bytes.firstIndex(of: 0xFF)!)"), "\(out.stderr)")
            #expect(out.stderr.contains("--> \(path):2:8"), "\(out.stderr)")
            #expect(out.stderr.contains("save the file as UTF-8"))
        }
        let (_, json) = run(["parse", "--format", "json", path])
        let entries = try Self.decode(json.stdout)
        #expect(entries.map(\.code) == ["E0003"])
        #expect(entries.first?.line == 2 && entries.first?.column == 8)
    }

    @Test func truncatedUTF8AtTheEndOfTheFile() throws {
        // `ℝ` is E2 84 9D; the file ends after its first two bytes.
        let bytes = Array("Algorithm 1: y ← F(x)\nInput: x ∈ ".utf8) + [0xE2, 0x84]
        let dir = try Self.directory(["cut.algo": bytes])
        defer { try? FileManager.default.removeItem(at: dir) }
        let (code, out) = run(["parse", dir.appendingPathComponent("cut.algo").path])
        #expect(code == .input)
        #expect(out.stderr.contains("error[E0003]"))
        #expect(out.stderr.contains(":2:12"), "\(out.stderr)")
    }

    @Test func aReadableFileIsStillCheckedWhenAnotherIsMissing() throws {
        let dir = try Self.directory(texts: ["broken.algo": Self.broken])
        defer { try? FileManager.default.removeItem(at: dir) }
        let (code, out) = run(["parse", dir.appendingPathComponent("gone.algo").path, dir.appendingPathComponent("broken.algo").path])
        #expect(code == .input, "an unreadable input outranks diagnostics")
        #expect(out.stderr.contains("E0001"))
        #expect(out.stderr.contains("E0203"), "the readable file was not parsed: \(out.stderr)")
        #expect(out.stderr.contains("2 errors found"))
    }

    // MARK: - Bad command lines: exit 2

    @Test func usageErrors() throws {
        let dir = try Self.directory(texts: ["ok.algo": Self.clean])
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("ok.algo").path
        let cases: [([String], String)] = [
            (["parse", "--frobnicate", file], "unknown flag `--frobnicate`"),
            (["parse", "-x", file], "unknown flag `-x`"),
            (["fmt", "--frobnicate", file], "unknown flag `--frobnicate`"),
            (["parse", "--format", "xml", file], "`--format` takes `text` or `json`, not `xml`"),
            (["fmt", "--format=yaml", file], "`--format` takes `text` or `json`, not `yaml`"),
            (["parse", file, "--format"], "flag `--format` needs a value"),
            (["parse", "--dump", "bytes", file], "`--dump` takes `tokens` or `ast`, not `bytes`"),
            (["parse", file, "--dump"], "flag `--dump` needs a value"),
            (["parse", "--spans=yes", file], "flag `--spans` takes no value"),
            (["parse"], "no input files"),
            (["fmt"], "no input files"),
            (["fmt", "--ascii"], "no input files"),
            (["fmt", "--write", "--check", file], "`--write` and `--check` exclude each other"),
            (["frobnicate", file], "unknown command `frobnicate`"),
        ]
        for (args, message) in cases {
            let (code, out) = run(args)
            #expect(code == .usage, "\(args) gave \(code)")
            #expect(out.stderr.contains(message), "\(args): \(out.stderr)")
            #expect(out.stdout.isEmpty, "\(args) wrote to stdout: \(out.stdout)")
        }
    }

    @Test func usageErrorsChangeNothing() throws {
        let dir = try Self.directory(texts: ["messy.algo": "Algorithm 1: y <- F(x)\n1 y <- x\n"])
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("messy.algo").path
        for args in [["fmt", "--write", "--check", path], ["fmt", "--write", "--bogus", path], ["fmt", "--write", "--format", "xml", path]] {
            #expect(run(args).0 == .usage)
            #expect(try String(contentsOfFile: path, encoding: .utf8) == "Algorithm 1: y <- F(x)\n1 y <- x\n", "\(args)")
        }
    }

    // MARK: - Diagnostics (exit 1) and success (exit 0)

    @Test func syntaxErrorsAndCleanFiles() throws {
        let dir = try Self.directory(texts: ["ok.algo": Self.clean, "broken.algo": Self.broken])
        defer { try? FileManager.default.removeItem(at: dir) }
        let ok = dir.appendingPathComponent("ok.algo").path, broken = dir.appendingPathComponent("broken.algo").path
        let (code0, out0) = run(["parse", ok])
        #expect(code0 == .ok)
        #expect(out0.stderr.isEmpty && out0.stdout.isEmpty)
        let (code1, out1) = run(["parse", broken])
        #expect(code1 == .diagnostics)
        #expect(out1.stderr.contains("error[E0203]: expected `)` to close the parenthesis, found end of line"))
        #expect(out1.stderr.contains("--> \(broken):2:9"))
        #expect(out1.stderr.hasSuffix("1 error found\n"))
        #expect(run(["parse", ok, broken]).0 == .diagnostics)
        #expect(run(["parse", "--dump", "ast", ok]).0 == .ok)
        #expect(run(["parse", "--dump", "tokens", broken]).0 == .diagnostics)
        // A file with errors is not formatted.
        let (fcode, fout) = run(["fmt", broken])
        #expect(fcode == .diagnostics)
        #expect(fout.stdout.isEmpty)
        #expect(fout.stderr.contains("E0203"))
    }

    @Test func jsonDiagnosticsParse() throws {
        let dir = try Self.directory(texts: ["ok.algo": Self.clean, "broken.algo": Self.broken + "3 z ← @\n"])
        defer { try? FileManager.default.removeItem(at: dir) }
        let broken = dir.appendingPathComponent("broken.algo").path
        let (code, out) = run(["parse", "--format", "json", broken, dir.appendingPathComponent("gone.algo").path])
        #expect(code == .input)
        #expect(out.stderr.isEmpty, "JSON mode writes diagnostics to stdout only: \(out.stderr)")
        let entries = try Self.decode(out.stdout)
        #expect(entries.map(\.code).sorted() == ["E0001", "E0101", "E0203"])
        let unclosed = try #require(entries.first { $0.code == "E0203" })
        #expect(unclosed.file == broken && unclosed.line == 2 && unclosed.column == 9 && unclosed.severity == "error")
        #expect(unclosed.message == "expected `)` to close the parenthesis, found end of line")
        let unknown = try #require(entries.first { $0.code == "E0101" })
        #expect(unknown.line == 4 && unknown.column == 7)
        // A clean file gives an empty array, still valid JSON.
        let (okCode, okOut) = run(["parse", "--format", "json", dir.appendingPathComponent("ok.algo").path])
        #expect(okCode == .ok)
        #expect(try Self.decode(okOut.stdout).isEmpty)
    }

    struct Entry: Decodable {
        var code: String
        var severity: String
        var message: String
        var file: String
        var line: Int?
        var column: Int?
    }

    static func decode(_ json: String) throws -> [Entry] {
        try JSONDecoder().decode([Entry].self, from: Data(json.utf8))
    }

    // MARK: - fmt: --check, --ascii, --write

    @Test func fmtCheckAndAscii() throws {
        let messy = "Algorithm 1: y <- F(x)\n1 y <- x\n"
        let dir = try Self.directory(texts: ["ok.algo": Self.clean, "messy.algo": messy])
        defer { try? FileManager.default.removeItem(at: dir) }
        let ok = dir.appendingPathComponent("ok.algo").path, messyPath = dir.appendingPathComponent("messy.algo").path
        #expect(run(["fmt", "--check", ok]).0 == .ok)
        let (code, out) = run(["fmt", "--check", ok, messyPath])
        #expect(code == .diagnostics)
        #expect(out.stdout == messyPath + "\n", "--check lists the files not in canonical form")
        #expect(try String(contentsOfFile: messyPath, encoding: .utf8) == messy, "--check changed the file")
        let (acode, aout) = run(["fmt", "--ascii", ok])
        #expect(acode == .ok)
        #expect(aout.stdout == "Algorithm 1: y \\gets F(x)\n1 y \\gets x\n2 return y\n")
        #expect(run(["fmt", "--ascii", "--check", ok]).0 == .diagnostics, "the Unicode file is not in ASCII canonical form")
        let (ucode, uout) = run(["fmt", messyPath])
        #expect(ucode == .ok)
        #expect(uout.stdout == "Algorithm 1: y ← F(x)\n1 y ← x\n")
    }

    @Test func fmtWriteIsAtomicAndLeavesBrokenFilesAlone() throws {
        let messy = "Algorithm 1: y <- F(x)\n1 y <- x\n"
        let brokenMessy = "Algorithm 1: y <- F(x)\n1 y <- (x\n"
        let dir = try Self.directory(texts: ["messy.algo": messy, "broken.algo": brokenMessy])
        defer { try? FileManager.default.removeItem(at: dir) }
        let messyPath = dir.appendingPathComponent("messy.algo").path
        let brokenPath = dir.appendingPathComponent("broken.algo").path
        let before = try FileManager.default.attributesOfItem(atPath: brokenPath)

        let (code, out) = run(["fmt", "--write", messyPath, brokenPath])
        #expect(code == .diagnostics, "one file had errors")
        #expect(out.stdout.isEmpty, "--write prints no text")
        #expect(out.stderr.contains("E0203"))
        #expect(try String(contentsOfFile: messyPath, encoding: .utf8) == "Algorithm 1: y ← F(x)\n1 y ← x\n")
        #expect(try String(contentsOfFile: brokenPath, encoding: .utf8) == brokenMessy, "a file with errors was rewritten")
        let after = try FileManager.default.attributesOfItem(atPath: brokenPath)
        #expect(before[.modificationDate] as? Date == after[.modificationDate] as? Date)
        #expect(before[.systemFileNumber] as? Int == after[.systemFileNumber] as? Int, "the broken file was replaced")
        // No temporary files are left behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == ["broken.algo", "messy.algo"])
        // Writing again changes nothing and succeeds.
        #expect(run(["fmt", "--write", messyPath]).0 == .ok)
        #expect(run(["fmt", "--check", messyPath]).0 == .ok)
    }

    @Test(.enabled(if: InputErrorTests.permissionsBindUs,
                   "running as root (or without permission checks): a read-only directory is still writable, so no unwritable output can be made"))
    func fmtWriteIntoAReadOnlyDirectoryIsExit4() throws {
        let messy = "Algorithm 1: y <- F(x)\n1 y <- x\n"
        let dir = try Self.directory(texts: ["messy.algo": messy])
        defer {
            chmod(dir.path, 0o755)
            try? FileManager.default.removeItem(at: dir)
        }
        let path = dir.appendingPathComponent("messy.algo").path
        #expect(chmod(dir.path, 0o555) == 0)
        let (code, out) = run(["fmt", "--write", path])
        #expect(code == .output)
        #expect(out.stderr.contains("cannot write `\(path)`"), "\(out.stderr)")
        #expect(try String(contentsOfFile: path, encoding: .utf8) == messy)
    }
}
