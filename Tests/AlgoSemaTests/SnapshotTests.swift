import AlgoDiagnostics
import AlgoSyntax
import Foundation
import Testing
@testable import AlgoSema

/// The rendered diagnostics of the paper's errata, pinned in `Fixtures/snapshots/NAME.txt`.
/// Regenerate after a deliberate change with `ALGO_BLESS=1 swift test --filter SnapshotTests`.
@Suite struct SnapshotTests {
    static let errata = ["A1-ETransformer-W_u", "A2-EDTransformer-line13", "A4-DTransformer-d_attn-d_mid",
                         "A4-EDTransformer-d_attn-d_mid", "A4-ETransformer-d_attn-d_mid", "A13-DInference-input",
                         "A13-EDInference-input", "D9-MHAttention-Hd_mid"]

    @Test(arguments: errata)
    func renderedErratum(_ name: String) throws {
        let relative = "Tests/AlgoSyntaxTests/Fixtures/errata/\(name).algo"
        let text = try String(contentsOfFile: Support.path(relative), encoding: .utf8)
        let f = Support.parse(text: text, path: relative)
        let library = Support.files(in: "Algorithms").map { p in
            Support.parse(text: (try? String(contentsOfFile: p, encoding: .utf8)) ?? "", path: "Algorithms/" + (p as NSString).lastPathComponent)
        }
        let (_, ds) = Support.check([f], library: library)
        let rendered = Support.render(ds, [f] + library)
        let snapshot = Support.path("Tests/AlgoSemaTests/Fixtures/snapshots/\(name).txt")
        if ProcessInfo.processInfo.environment["ALGO_BLESS"] == "1" {
            try rendered.write(toFile: snapshot, atomically: true, encoding: .utf8)
            return
        }
        let pinned = try String(contentsOfFile: snapshot, encoding: .utf8)
        #expect(rendered == pinned, "\(name): run with ALGO_BLESS=1 to accept\n\(rendered)")
    }

    /// `algo check --dump shapes Algorithms/*.algo`, pinned: every variable of the 15 algorithms.
    @Test func shapesOfAllAlgorithms() throws {
        let files = Support.files(in: "Algorithms").map { p in
            Support.parse(text: (try? String(contentsOfFile: p, encoding: .utf8)) ?? "", path: "Algorithms/" + (p as NSString).lastPathComponent)
        }
        let (outcome, ds) = Support.check(files, library: [])
        #expect(ds.isEmpty)
        let rendered = outcome.shapes.map(\.rendered).joined()
        let snapshot = Support.path("Tests/AlgoSemaTests/Fixtures/snapshots/shapes.txt")
        if ProcessInfo.processInfo.environment["ALGO_BLESS"] == "1" {
            try rendered.write(toFile: snapshot, atomically: true, encoding: .utf8)
            return
        }
        #expect(rendered == (try String(contentsOfFile: snapshot, encoding: .utf8)), "run with ALGO_BLESS=1 to accept\n\(rendered)")
    }
}
