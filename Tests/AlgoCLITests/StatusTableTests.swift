import Foundation
import Testing
@testable import AlgoCLI

/// Keeps `Algorithms/README.md` true: every "yes" in its status table is re-checked by running the
/// command behind that column on that file.
@Suite struct StatusTableTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// (file, column name, cell) for every row of a status table: table 0 is the paper's 15 algorithms,
    /// table 1 the section 8 variants; nil reads every table.
    func cells(table: Int? = nil) throws -> [(file: String, column: String, value: String)] {
        let text = try String(contentsOf: Self.root.appendingPathComponent("Algorithms/README.md"), encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let headers = lines.indices.filter { lines[$0].hasPrefix("| # |") }
        guard let table else { return try headers.indices.flatMap { try cells(table: $0) } }
        guard table < headers.count else { return [] }
        let headerIndex = headers[table]
        let header = lines[headerIndex].split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
        var result: [(String, String, String)] = []
        for line in lines[(headerIndex + 2)...] {
            guard line.hasPrefix("|") else { break }
            let row = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard row.count == header.count, let fileCell = row.firstIndex(where: { $0.contains(".algo](") }) else { continue }
            let file = row[fileCell].split(separator: "(").last.map { String($0.dropLast()) } ?? ""
            for (i, column) in header.enumerated() where ["parses", "checks", "runs", "trains", "gradcheck"].contains(column) {
                result.append((file, column, row[i]))
            }
        }
        return result
    }

    @Test func tableHasFifteenRows() throws {
        let files = Set(try cells(table: 0).map(\.file))
        #expect(files.count == 15)
    }

    @Test func variantsTableHasFourRows() throws {
        let files = Set(try cells(table: 1).map(\.file))
        #expect(files == ["RMSnorm.algo", "DTransformerGopher.algo", "DTrainingAdam.algo", "DTrainingMinibatch.algo"])
    }

    @Test func everyYesIsTrue() throws {
        for cell in try cells() where cell.value == "yes" {
            let path = Self.root.appendingPathComponent("Algorithms").appendingPathComponent(cell.file).path
            let command: String
            switch cell.column {
            case "parses": command = "parse"
            case "checks": command = "check"
            case "runs": command = "run"
            case "gradcheck": command = "gradcheck"   // exit 0: every tensor of θ within the tolerance
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
