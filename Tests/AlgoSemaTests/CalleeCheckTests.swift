import AlgoDiagnostics
import AlgoSyntax
import Foundation
import Testing
@testable import AlgoSema

/// `ShapeChecker.check` returns every algorithm it checked, callees included, each once and with its
/// own diagnostics (so `algo run` needs one check, and a broken callee fails its caller's check).
@Suite struct CalleeCheckTests {
    static func file(_ name: String) -> ParsedFile {
        Support.algorithms.first { ($0.source.path as NSString).lastPathComponent == name }!
    }

    @Test func theProgramHoldsTheNamedFileAndEveryCalleeOnce() {
        let target = Self.file("DTransformer.algo")
        let library = Support.algorithms.filter { $0.source.path != target.source.path }
        let (outcome, ds) = Support.check([target], library: library)
        #expect(ds.isEmpty)
        let names = outcome.program?.algorithms.map { $0.syntax.title.signature?.name.spelling ?? "" } ?? []
        #expect(names.first == "DTransformer")
        #expect(Set(names) == ["DTransformer", "layer_norm", "MHAttention", "Attention"], "\(names)")
        #expect(names.count == Set(names).count, "each algorithm once: \(names)")
        // Each callee carries its own file; shapes stay those of the named file.
        for a in outcome.program?.algorithms ?? [] where a.syntax.title.signature?.name.spelling == "Attention" {
            #expect(a.file.hasSuffix("Attention.algo"))
        }
        #expect(outcome.shapes.count == 1)
    }

    @Test func aCalleesErrorIsReportedInItsFileAndFailsTheCaller() {
        let attention = Self.file("Attention.algo")
        let broken = Support.parse(text: attention.source.text.replacingOccurrences(of: "4 S ← KᵀQ ", with: "4 S ← QᵀK "), path: attention.source.path)
        #expect(broken.source.text != attention.source.text)
        let caller = Self.file("MHAttention.algo")
        let library = [broken] + Support.algorithms.filter { $0.source.path != caller.source.path && $0.source.path != attention.source.path }
        let (outcome, ds) = Support.check([caller], library: library)
        #expect(outcome.program == nil)
        #expect(Support.codesAndLines(ds, in: broken) == ["E0404:\(Support.line(of: "4 S ← QᵀK", in: broken))"], "\(Support.render(ds, [broken]))")
        #expect(Support.codesAndLines(ds, in: caller).isEmpty)
    }
}
