import AlgoDiagnostics
import AlgoSema
import AlgoSyntax
import Foundation
import Testing
import AlgoTensor
@testable import AlgoEval

/// The pipeline's stages (`Pipeline/`): one library listing, `--set` parsed in one place, one check
/// that keeps every callee, and a run that infers dimensions once and fills a bare run's inputs.
@Suite("Pipeline: read → parse → check → lower → run")
struct PipelineTests {
    static let algorithms = InterpreterFixtures.repository + "/Algorithms"

    @Test("Library: a file's directory; an experiment's directory also lends the directory above")
    func libraryListing() {
        let plain = Library.around(path: Self.algorithms + "/DTransformer.algo")
        let names = plain.files.map { ($0.source.path as NSString).lastPathComponent }
        #expect(names.contains("Attention.algo") && names.contains("DTransformer.algo"))
        #expect(!plain.files.contains { $0.source.path.contains("/Experiments/") }, "Algorithms/ holds no experiment")
        #expect(!plain.excluding([Self.algorithms + "/DTransformer.algo"]).contains { $0.source.path.hasSuffix("/DTransformer.algo") })

        let experiments = Library.around(path: Self.algorithms + "/Experiments/CharGPT.algo")
        #expect(experiments.files.contains { $0.source.path == Self.algorithms + "/Experiments/CharGPT.algo" })
        #expect(experiments.files.contains { $0.source.path == Self.algorithms + "/DTrainingAdam.algo" }, "the paper's algorithms, one level up")
        // Each file once, even when a directory is reached twice.
        #expect(Set(experiments.files.map(\.source.path)).count == experiments.files.count)
    }

    @Test("--set: dimensions, reals and Mask, with the command's restrictions and messages")
    func overrides() throws {
        let run = try DimensionOverrides.parse(" d_e = 64 ,τ=0.8,Mask=causal", accepts: .numbersAndMask).get()
        #expect(run.dims == ["d_e": 64] && run.reals == ["τ": 0.8])
        guard case .causal? = run.mask else { Issue.record("Mask=causal: \(String(describing: run.mask))"); return }
        #expect(try DimensionOverrides.parse(nil, accepts: .naturals).get().isEmpty)
        // NFC: `ℓ` + combining mark and its precomposed form are one name.
        #expect(try DimensionOverrides.parse("e\u{301}=3", accepts: .naturals).get().dims == ["\u{e9}": 3])
        // η written as a natural number is still a real for gradcheck.
        let grad = try DimensionOverrides.parse("η=1,d_e=4", accepts: .numbers, realNames: ["η"]).get()
        #expect(grad.dims == ["d_e": 4] && grad.reals == ["η": 1])
        func message(_ text: String, _ accepts: DimensionOverrides.Accepts) -> String? {
            if case .failure(let e) = DimensionOverrides.parse(text, accepts: accepts) { return e.message }
            return nil
        }
        #expect(message("τ=0.8", .naturals) == "`--set` takes `NAME=VALUE,…` with natural numbers, not `τ=0.8`")
        #expect(message("d_e", .numbers) == "`--set` takes `NAME=VALUE,…`, not `d_e`")
        #expect(message("d_e=x", .numbersAndMask) == "`--set d_e=x`: not a decimal number")
        #expect(message("Mask=upper", .numbersAndMask) == "`Mask` takes `1`, `0` or `causal`")
        #expect(message("Mask=causal", .numbers) == "`--set Mask=causal`: not a number", "only `algo run` takes a mask")
    }

    @Test("load: one check keeps the file's algorithm and every callee, with their sources")
    func loadKeepsEveryCallee() throws {
        let p = try Pipeline.load(path: Self.algorithms + "/DTransformer.algo").get()
        #expect(p.target.name == "DTransformer")
        #expect(Set(p.program.algorithms.map(\.name)) == ["DTransformer", "MHAttention", "Attention", "layer_norm"])
        #expect(p.sources.contains { $0.path.hasSuffix("/Attention.algo") })
        guard case .failure(let f) = Pipeline.load(path: Self.algorithms + "/NoSuchFile.algo") else { Issue.record("a missing file loads"); return }
        #expect(f.diagnostics.first?.code == .fileNotFound)
    }

    @Test("load: an error in a callee fails the caller's load at the callee's line, with its source")
    func brokenCallee() throws {
        let dir = Self.algorithms
        let library = Library.around(path: dir + "/MHAttention.algo")
        let attention = try #require(library.files.first { $0.source.path == dir + "/Attention.algo" })
        let brokenText = attention.source.text.replacingOccurrences(of: "4 S ← KᵀQ ", with: "4 S ← QᵀK ")
        #expect(brokenText != attention.source.text)
        let broken = SourceFile(path: attention.source.path, text: brokenText)
        var ignored = DiagnosticBag()
        let edited = Library(files: library.files.map { $0.source.path == broken.path ? .init(source: broken, tree: Parser.parse(broken, &ignored)) : $0 })
        let caller = try #require(library.files.first { $0.source.path == dir + "/MHAttention.algo" })
        guard case .failure(let f) = Pipeline.load(caller.source, library: edited) else { Issue.record("the caller of a broken callee loads"); return }
        let d = try #require(f.diagnostics.first)
        #expect(d.code.rawValue == "E0404")
        #expect(d.span.file == broken.path)
        #expect(broken.location(of: d.span.start).line == brokenText.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.hasPrefix("4 S ← QᵀK") }.map { $0 + 1 })
        #expect(f.sources.contains { $0.path == broken.path && $0.text == brokenText }, "the edited text renders the snippet")
    }

    @Test("run: a bare run's defaults (dimensions inferred once, inputs filled) equal the same run given them")
    func bareRunEqualsGivenRun() throws {
        let p = try Pipeline.load(path: Self.algorithms + "/DTransformer.algo").get()
        var options = RunOptions()
        options.dtype = .f64
        let bare = try Pipeline.run(p, RunSetup(options: options, fallback: RunSession.defaultDimensions, defaultInputs: true))
        #expect(bare.defaulted == ["x"])
        #expect(bare.dims["d_e"] == RunSession.defaultDimensions["d_e"])
        let given = try Pipeline.run(p, RunSetup(dims: RunSession.defaultDimensions, inputs: bare.inputs, options: options))
        guard case .tensor(let a) = bare.value, case .tensor(let b) = given.value else { Issue.record("P is no tensor"); return }
        // The same θ (seed 0), x and dimensions: the same numbers exactly.
        #expect(a.value.doubles == b.value.doubles)
        #expect(given.defaulted.isEmpty)
    }
}
