import AlgoDiagnostics
import AlgoSema
import AlgoTensor
import Foundation

/// The one place where sizes that come from outside — `--set` values, checkpoint metadata and
/// tensor shapes, `--input` indices, tokenizer files, experiment data — are validated before
/// anything is allocated or looped over:
/// - a dimension that shapes a tensor is ≥ 1 (E0518; `d_e = 0` would compute on empty tensors);
/// - products of dimensions are checked (no overflow trap, `Shape.checkedCount`);
/// - the memory a run needs, estimated from the checked shapes (parameters, ×4 when training for
///   the gradient, Adam's moments and the tape; every fully-sized variable; the loss history), fits
///   the memory available: `/proc/meminfo`'s MemTotal, lowered by a cgroup `memory.max` (E0517).
///
/// The estimate is a lower bound of what a run allocates: a refused run could never have finished
/// on this machine; an accepted one may still be large.
public enum SizeBudget {
    /// A budget in bytes that replaces the machine's (the fuzz tests run under a small one).
    @TaskLocal public static var limitOverride: Int? = nil

    /// The memory a run may use and where that number comes from.
    public struct Memory: Sendable {
        public var bytes: Int
        /// `this machine has 24 GB`, `the cgroup memory.max allows 2 GB`, …
        public var phrase: String
    }

    /// The budget in force (`limitOverride`, else the machine's).
    public static var available: Memory {
        if let b = limitOverride { return Memory(bytes: b, phrase: "the memory budget is \(ByteCount.describe(b))") }
        return machine
    }

    /// MemTotal of /proc/meminfo (the physical memory elsewhere), lowered by a cgroup limit.
    static let machine: Memory = {
        var total = Int(clamping: ProcessInfo.processInfo.physicalMemory)
        if let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8),
           let line = text.split(separator: "\n").first(where: { $0.hasPrefix("MemTotal:") }),
           let kb = line.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) {
            total = kb.multipliedReportingOverflow(by: 1024).overflow ? Int.max : kb * 1024
        }
        var m = Memory(bytes: total, phrase: "this machine has \(ByteCount.describe(total))")
        for file in ["/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"] {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8),
                  let limit = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)), limit > 0, limit < m.bytes else { continue }
            m = Memory(bytes: limit, phrase: "the cgroup limit (\(file)) allows \(ByteCount.describe(limit))")
        }
        return m
    }()

    /// Refuses with E0517 when `bytes` (nil: beyond what an Int holds) exceeds the budget.
    /// `what` says what needs it: `d_e = 100000000 needs` is followed by the bytes.
    public static func require(_ bytes: Int?, _ what: @autoclosure () -> String, at span: Span, notes: [String] = []) throws {
        let memory = available
        if let bytes, bytes <= memory.bytes { return }
        let amount = bytes.map(ByteCount.describe) ?? "more than 9.2 EB (the product overflows a 64-bit integer)"
        throw RuntimeError(.memoryBudget, "\(what()) \(amount); \(memory.phrase)", at: span, notes: notes)
    }

    /// `a · b`, nil on overflow or a negative factor.
    public static func product(_ a: Int?, _ b: Int?) -> Int? {
        guard let a, let b, a >= 0, b >= 0 else { return nil }
        let (p, o) = a.multipliedReportingOverflow(by: b)
        return o ? nil : p
    }

    /// `a + b`, nil on overflow.
    public static func sum(_ a: Int?, _ b: Int?) -> Int? {
        guard let a, let b else { return nil }
        let (s, o) = a.addingReportingOverflow(b)
        return o ? nil : s
    }

    // MARK: - Parameters

    /// The elements of all `specs` (nil on overflow).
    public static func elements(_ specs: [ParameterSpec]) -> Int? {
        specs.reduce(Int?(0)) { sum($0, Shape.checkedCount($1.shape)) }
    }

    /// The dimensions of the outermost algorithm being laid out (`ParameterLayout.parameters`):
    /// a message names `d_e`, not the `d_x` a callee calls it.
    @TaskLocal static var outerDimensions: [String: Int] = [:]

    /// The dimension names whose value is `value` (for naming the culprit of a size), the outer
    /// algorithm's names first.
    static func names(of value: Int, in dims: [String: Int]) -> String {
        var n = outerDimensions.filter { $0.value == value }.keys.sorted()
        if n.isEmpty { n = dims.filter { $0.value == value }.keys.sorted() }
        return n.isEmpty ? "\(value)" : n.map { "\($0) = \(value)" }.joined(separator: ", ")
    }

    /// A group of `count` copies (`for l ∈ [L]`) of `each` (the specs of copy 1) fits the budget:
    /// checked before the copies are listed, so `L = 2⁶³−1` is refused at once.
    public static func checkRepeat(count: Int, domain: String, each: [ParameterSpec], dims: [String: Int], dtype: DType, at span: Span) throws {
        guard count > 1 else { return }
        let bytes = product(product(count, elements(each)), dtype.byteSize)
        if let bytes, bytes <= available.bytes { return }
        let largest = each.max { (Shape.checkedCount($0.shape) ?? .max) < (Shape.checkedCount($1.shape) ?? .max) }
        // The culprit: the count itself (`L` = 2⁶³−1), or a dimension of the largest tensor (`d_e`).
        var culprit = ""
        if let largest, let extent = largest.shape.max(), extent > count {
            culprit = "\(names(of: extent, in: dims)) makes `\(largest.name)` \(largest.shape.map(String.init).joined(separator: "×")); "
        }
        try require(bytes, "\(culprit)`\(domain)` = \(count) copies of \(each.count) parameter tensors need", at: span)
    }

    /// The parameters fit the budget (×4 when training: θ, its gradient, Adam's two moments).
    public static func checkParameters(_ specs: [ParameterSpec], dims: [String: Int], dtype: DType, training: Bool, at span: Span) throws {
        let factor = training ? 4 : 1
        let bytes = product(product(elements(specs), dtype.byteSize), factor)
        if let bytes, bytes <= available.bytes { return }
        // Name the culprit: the largest extent of the largest tensor.
        let largest = specs.max { (Shape.checkedCount($0.shape) ?? .max) < (Shape.checkedCount($1.shape) ?? .max) }
        let extent = largest?.shape.max() ?? 0
        let shape = largest.map { "`\($0.name)` ∈ ℝ^{\($0.shape.map(String.init).joined(separator: "×"))}" } ?? ""
        try require(bytes, "\(names(of: extent, in: dims)) needs \(shape), and the parameters\(training ? " with their gradients and optimiser state" : "") need", at: span)
    }

    // MARK: - Dimensions and variables

    /// Every dimension that shapes a variable of `program` and has a value is ≥ 1 (E0518), and
    /// every variable whose dimensions are all known fits the budget (E0517). `ℓ` (an input's
    /// length) is taken as `longest`.
    public static func checkDimensions(_ program: EvalProgram, dims: [String: Int], dtype: DType, longest: Int?, at span: Span) throws {
        try checkPositive(program, dims: dims, at: span)
        var bound = dims
        if let longest, bound["ℓ"] == nil { bound["ℓ"] = longest }
        var total: Int? = 0
        for a in program.algorithms {
            for (name, t) in a.checked.variables {
                guard case .array = t else { continue }
                var elements: Int? = 1
                var complete = true
                for d in t.dims {
                    guard d.variables.allSatisfy({ if case .named(let n) = $0 { return bound[n] != nil } else { return false } }) else { complete = false; break }
                    elements = product(elements, d.evaluate { if case .named(let n) = $0 { return bound[n] } else { return nil } })
                }
                guard complete else { continue }
                let bytes = product(elements, dtype.byteSize)
                let dimNames = t.dims.map(\.description).joined(separator: "×")
                var values: [String] = []
                for d in t.dims { for case .named(let n) in d.variables.sorted() where !values.contains(where: { $0.hasPrefix(n + " =") }) { values.append("\(n) = \(bound[n]!)") } }
                try require(bytes, "`\(name)` ∈ ℝ^{\(dimNames)} of `\(a.name)` (\(values.joined(separator: ", "))) needs", at: span)
                total = sum(total, bytes)
            }
        }
        try require(total, "the variables of the algorithms, with these dimensions, need", at: span)
    }

    /// Every dimension that shapes a variable of `program` and has a value is ≥ 1 (E0518):
    /// checked first, before any shape is computed from it.
    public static func checkPositive(_ program: EvalProgram, dims: [String: Int], at span: Span) throws {
        var used: Set<String> = []
        for a in program.algorithms {
            for (_, t) in a.checked.variables { for d in t.dims { for case .named(let n) in d.variables { used.insert(n) } } }
        }
        for name in used.sorted() {
            guard let v = dims[name], v < 1 else { continue }
            throw RuntimeError(.degenerateDimension, "the dimension `\(name)` = \(v) shapes tensors of the algorithm; it must be at least 1", at: span,
                               notes: ["give it with `--set \(name)=…` (a positive number)"])
        }
    }

    // MARK: - While running

    /// The tensors alive now, with the pool's free buffers, fit the budget (E0517 at `span`, the
    /// line just run). The static checks above see each variable once; this one sees what a run
    /// keeps: a training step holds every line's values for ∇ until the step ends (L layers × H
    /// heads × ℓ×ℓ scores), which no single variable shows. Checked after every assignment, so a
    /// run stops within one line of crossing the budget, naming that line.
    public static func checkHeld(at span: Span) throws {
        let pool = BufferPool.current
        let memory = available
        guard pool.heldBytes > memory.bytes else { return }
        pool.drain()   // free buffers are memory the run can give back first
        let live = pool.liveBytes
        guard live > memory.bytes else { return }
        throw RuntimeError(.memoryBudget, "the run's tensors need \(ByteCount.describe(live)) after this line; \(memory.phrase)", at: span,
                           notes: ["a training step keeps every line's values for ∇ until the step ends: shorter sequences, fewer layers or heads, or a smaller minibatch need less"])
    }

    // MARK: - Loops

    /// A training run of `epochs` × `stepsPerEpoch` steps: the product is checked and the loss
    /// history (one f64 per step) fits the budget, before the first step.
    public static func checkSteps(epochs: Int, stepsPerEpoch: Int, at span: Span) throws {
        guard epochs >= 0 else {
            throw RuntimeError(.degenerateDimension, "`N_epochs` = \(epochs) is negative", at: span)
        }
        let steps = product(epochs, stepsPerEpoch)
        try require(product(steps, 8), "N_epochs = \(epochs) × \(stepsPerEpoch) steps per epoch = \(steps.map(String.init) ?? "more than 2⁶³") steps: their loss history needs", at: span,
                    notes: ["choose a smaller N_epochs (`--set N_epochs=…`)"])
    }

    /// Every token sequence `callee` will see (an input, or an input grown by ℓ_gen generated
    /// tokens) is at most ℓ_max long (E0515): checked before the generation loop starts. A
    /// generating algorithm that declares ℓ_max itself keeps what it passes within it
    /// (`DInferenceWindow` slides a window over its prompt): it is not checked here, and a position
    /// beyond ℓ_max would still be E0502 where it is read.
    public static func checkSequenceLengths(_ callee: LoadedAlgorithm, inputs: [String: Value], dims: [String: Int], at span: Span) throws {
        guard let ℓmax = dims["ℓ_max"] else { return }
        if callee.hyperparameterNames.contains("ℓ_gen") && callee.hyperparameterNames.contains("ℓ_max") { return }
        let generated = callee.hyperparameterNames.contains("ℓ_gen") ? max(0, (dims["ℓ_gen"] ?? 0) - 1) : 0
        var longest = 0
        for v in inputs.values {
            switch v {
            case .tokens(let ids): longest = max(longest, sum(ids.count, generated) ?? .max)
            case .family(let f): for x in f.elements.values { if case .tokens(let ids) = x { longest = max(longest, ids.count) } }
            default: break
            }
        }
        if longest > ℓmax {
            let what = generated > 0 ? "\(longest - generated) tokens and ℓ_gen = \(dims["ℓ_gen"] ?? 0) generated ones" : "\(longest) tokens"
            throw RuntimeError(.sequenceTooLong, "`\(callee.name)` would see a sequence of \(what), longer than ℓ_max = \(ℓmax)", at: span,
                               notes: ["positions beyond ℓ_max have no positional embedding (erratum A10); shorten the sequences, lower ℓ_gen or raise ℓ_max"])
        }
    }
}

extension SizeBudget {
    /// The checks of a run of `p` before its parameters are listed: positive dimensions, the
    /// variables' sizes, and for a generating algorithm (ℓ_gen) the length it grows its input to.
    public static func check(_ p: LoadedProgram, dims: [String: Int], inputs: [String: Value], dtype: DType) throws {
        let span = p.target.syntax.title.span
        var longest: Int? = nil
        for v in inputs.values { if case .tokens(let ids) = v { longest = max(longest ?? 0, ids.count) } }
        try checkDimensions(p.program, dims: dims, dtype: dtype, longest: longest, at: span)
        if p.target.hyperparameterNames.contains("ℓ_gen") { try checkSequenceLengths(p.target, inputs: inputs, dims: dims, at: span) }
    }
}
