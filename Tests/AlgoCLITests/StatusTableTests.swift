import Foundation
import Testing
@testable import AlgoCLI

/// Keeps `Algorithms/README.md` true: every "yes" in its status table is re-checked by running the
/// command behind that column on that file.
@Suite struct StatusTableTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// (file, column name, cell) for every row of the status table.
    func cells() throws -> [(file: String, column: String, value: String)] {
        let text = try String(contentsOf: Self.root.appendingPathComponent("Algorithms/README.md"), encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let headerIndex = lines.firstIndex(where: { $0.hasPrefix("| # |") }) else { return [] }
        let header = lines[headerIndex].split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
        var result: [(String, String, String)] = []
        for line in lines[(headerIndex + 2)...] {
            guard line.hasPrefix("|") else { break }
            let row = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard row.count == header.count, let fileCell = row.firstIndex(where: { $0.contains(".algo](") }) else { continue }
            let file = row[fileCell].split(separator: "(").last.map { String($0.dropLast()) } ?? ""
            for (i, column) in header.enumerated() where ["parses", "checks", "runs", "trains"].contains(column) {
                result.append((file, column, row[i]))
            }
        }
        return result
    }

    @Test func tableHasFifteenRows() throws {
        let files = Set(try cells().map(\.file))
        #expect(files.count == 15)
    }

    @Test func everyYesIsTrue() throws {
        for cell in try cells() where cell.value == "yes" {
            let path = Self.root.appendingPathComponent("Algorithms").appendingPathComponent(cell.file).path
            let command: String
            switch cell.column {
            case "parses": command = "parse"
            case "checks": command = "check"
            case "runs": command = "run"
            case "trains":
                // A bare training run prints `loss before:` and `loss after:`; the loss must fall.
                var output = Output()
                let code = CLI.run(["run", path], &output)
                #expect(code == .ok, "`algo run \(cell.file)` exited \(code): \(output.stderr)")
                let before = TrainCommandTests.losses(output.stdout)
                #expect(before != nil && before!.after < before!.before, "`algo run \(cell.file)`: the loss did not fall: \(output.stdout)")
                continue
            default:
                Issue.record("no test backs a \"yes\" in column `\(cell.column)` yet (\(cell.file))")
                continue
            }
            var output = Output()
            let code = CLI.run([command, path], &output)
            #expect(code == .ok, "`algo \(command) \(cell.file)` exited \(code): \(output.stderr)")
        }
    }
}
