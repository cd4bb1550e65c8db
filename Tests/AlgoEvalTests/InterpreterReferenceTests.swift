import Foundation
import Testing
import AlgoTensor
@testable import AlgoEval

/// `algo run`'s evaluator (through the library API) against the NumPy fixtures of
/// `Tests/Reference/fixtures/` (written by `Tests/Reference/forward_reference.py`, not by `algo`).
enum InterpreterFixtures {
    static let repository: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    /// `Algorithms/DTransformer.algo` for the case `DTransformer-small`.
    static func algoPath(_ caseName: String) -> String {
        repository + "/Algorithms/" + String(caseName.prefix { $0 != "-" }) + ".algo"
    }

    /// The loaded `Algorithms/NAME.algo` for a file name (`Attention`) or a case name (`DTransformer-small`).
    static func program(_ caseName: String) throws -> LoadedProgram {
        switch Pipeline.load(path: algoPath(caseName)) {
        case .success(let p): return p
        case .failure(let f): throw f
        }
    }

    /// How many times the profile of `ev` counts the first line of the `.algo` file at `path` that
    /// contains `marker` (e.g. a transformer's `ℓ ← length(x)`: one per call).
    static func executions(_ ev: Evaluator, ofLineContaining marker: String, in path: String) throws -> Int {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let line = try #require(text.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.contains(marker) }) + 1
        let file = "/" + (path as NSString).lastPathComponent
        return ev.profile.filter { $0.key.file.hasSuffix(file) && $0.key.line == line }.map(\.value.calls).reduce(0, +)
    }

    /// `Algorithms/`'s files `names` copied into a new temporary directory, the text `old` (which must
    /// occur) of `edited` replaced by `new` there, and the program of `target` loaded from it. The
    /// caller removes the directory.
    static func editedCopy(_ names: [String], editing edited: String, replacing old: String, with new: String,
                           load target: String) throws -> (program: LoadedProgram, directory: String) {
        let dir = NSTemporaryDirectory() + "algo-edited-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for name in names {
            var text = try String(contentsOfFile: algoPath(name), encoding: .utf8)
            if name == edited {
                #expect(text.contains(old))
                text = text.replacingOccurrences(of: old, with: new)
            }
            try text.write(toFile: dir + "/" + name + ".algo", atomically: true, encoding: .utf8)
        }
        switch Pipeline.load(path: dir + "/" + target + ".algo") {
        case .success(let p): return (p, dir)
        case .failure(let f): throw f
        }
    }

    /// A training algorithm run on `sequences` (its first dataset input, `x_1 … x_N`) with `dims`
    /// (N_data and, for a minibatch, N_batches follow from the dataset), its training reals with
    /// `reals` over them, initialised θ, seed 5, profiled; `options` adjusts the rest.
    /// `pairedWith`: the second dataset input's sequences (EDTraining's x_1 … x_N beside z_1 … z_N).
    static func trainingRun(_ p: LoadedProgram, _ sequences: [[Int]], pairedWith second: [[Int]]? = nil, dims: [String: Int],
                            reals: [String: Double] = [:], options: (inout RunOptions) -> Void) throws -> RunResult {
        var o = RunOptions()
        o.seed = 5
        o.profile = true
        options(&o)
        var datasets: [String: [Int: [Int]]] = [:]
        let names = RunSession.datasetInputs(p.target).map(\.name)
        for (name, data) in zip(names, [sequences] + (second.map { [$0] } ?? [])) {
            var elements: [Int: [Int]] = [:]
            for (k, x) in data.enumerated() { elements[k + 1] = x }
            datasets[name] = elements
        }
        _ = try #require(names.first)
        let (inputs, n) = try RunSession.dataset(datasets, p.target)
        let r = RunSession.trainingReals(for: p.target).merging(reals) { _, b in b }
        return try Pipeline.run(p, RunSetup(dims: try RunSession.datasetDimensions(p.target, count: n, given: dims), reals: r, inputs: inputs,
                                            parameters: nil, mask: nil, options: o))
    }

    /// Runs the fixture's algorithm from its `.algo` text with the fixture's parameters and inputs.
    static func run(_ fixture: Fixture, _ caseName: String, _ dtype: DType, inputs override: [String: Value] = [:]) throws -> Value {
        let p = try program(caseName)
        let c = fixture.checkpoint
        let (dims, reals) = RunSession.hyperparameters(from: c)
        var options = RunOptions()
        options.dtype = dtype
        var inputs = try RunSession.inputs(from: c, p.target, dtype: dtype)
        for (k, v) in override { inputs[k] = v }
        return try Pipeline.run(p, RunSetup(dims: dims, reals: reals, inputs: inputs, parameters: RunSession.parameters(from: c),
                                  mask: RunSession.mask(from: c), options: options)).value
    }
}

func tensorOf(_ v: Value) -> Tensor? { if case .tensor(let t) = v { return t.value } else { return nil } }

@Suite("algo run's evaluator against the NumPy reference (Algorithms 1–10)")
struct InterpreterReferenceTests {
    @Test("each fixture: the `.algo` text run by the evaluator equals NumPy in Float64 (1e-10) and Float32 (1e-4)",
          arguments: ReferenceFixtures.names())
    func matchesNumPy(_ caseName: String) throws {
        let fixture = try ReferenceFixtures.load(caseName)
        let expected = fixture.tensor(fixture.outputName)
        var report: [String] = []
        for dtype in [DType.f64, .f32] {
            let value = try InterpreterFixtures.run(fixture, caseName, dtype)
            guard var got = tensorOf(value) else { Issue.record("\(caseName): not a tensor"); continue }
            #expect(got.dtype == dtype)
            if got.shape != expected.shape, got.count == expected.count { got = got.contiguous().reshaped(expected.shape) }
            #expect(got.shape == expected.shape, "\(caseName): shape \(got.shape), expected \(expected.shape)")
            guard got.shape == expected.shape else { continue }
            let error = scaledError(got, expected)
            #expect(error <= ReferenceTolerance.of(dtype), "\(caseName) \(dtype): error \(error)")
            report.append("\(dtype) \(String(format: "%.2e", error))")
        }
        print("interpreter \(caseName): \(report.joined(separator: ", "))")
    }
}
