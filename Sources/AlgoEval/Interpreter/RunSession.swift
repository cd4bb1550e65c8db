import AlgoDiagnostics
import AlgoSema
import AlgoSyntax
import AlgoTensor
import Foundation

/// A `.algo` file checked together with the library files it calls, ready to run (`Pipeline.load`).
public struct LoadedProgram {
    public let program: EvalProgram
    public let target: LoadedAlgorithm
    public let source: SourceFile
    /// The target's source and its library's, to render a diagnostic in a callee with its snippet.
    public var sources: [SourceFile] = []
    /// Diagnostics of the check (warnings; errors make `load` fail).
    public let diagnostics: [Diagnostic]
}

/// Diagnostics that stop a run before it starts, with the sources they point into (a callee's too).
public struct RunFailure: Error {
    public var diagnostics: [Diagnostic]
    public var sources: [SourceFile]
    public init(_ d: [Diagnostic], sources: [SourceFile] = []) { diagnostics = d; self.sources = sources }
}

/// Loading, defaults, parameters and inputs of `algo run` (the command line is a thin layer on this).
public enum RunSession {
    /// The embedded defaults of a bare `algo run` (README "algo run"): a small model and short inputs.
    public static let defaultDimensions: [String: Int] = [
        "N_V": 65, "ℓ_max": 64, "L": 2, "L_enc": 2, "L_dec": 2, "H": 4, "d_e": 64, "d_mlp": 256,
        "d_attn": 16, "d_mid": 16, "d_f": 64, "ℓ_gen": 8, "d_x": 16, "d_z": 16, "d_out": 16, "d_in": 16,
        "ℓ_x": 6, "ℓ_z": 6, "T": 6,
    ]
    public static let defaultReals: [String: Double] = ["τ": 1.0]
    /// The default token sequence of `x` / `z` (and `v = 5`, `ℓ = 3`).
    public static let defaultTokens = [12, 7, 33, 2, 51, 20, 9, 40]

    /// What one input of the target is: a token sequence, a token, a position, a vector/matrix, a collection.
    public enum InputKind: Equatable { case tokens, token, position, array([Expr]), collection }

    public static func inputKinds(_ a: LoadedAlgorithm) -> [(name: String, kind: InputKind, span: Span)] {
        var out: [(String, InputKind, Span)] = []
        for l in a.header(.input) {
            guard case .declarations(let d) = l.content else { continue }
            for decl in d.declarations {
                for ne in decl.names {
                    guard case .name(let n) = ne.kind else { continue }
                    let kind: InputKind
                    switch decl.type?.kind {
                    case nil: kind = .collection
                    case .sequences?: kind = .tokens
                    case .power(let base, _, _)? where { if case .range = base.kind { return true }; return false }(): kind = .tokens
                    case .power(_, let dims, _)?: kind = .array(dims)
                    case .range?: kind = .position
                    default: kind = .token
                    }
                    out.append((n.spelling, kind, ne.span))
                }
            }
        }
        return out
    }

    /// The signature input a declared input belongs to: `e_t` (declared) is `e_{1:T}` (title), a
    /// family given as the columns of a matrix; returns the title spelling and the family size expression.
    public static func familyInput(_ declared: String, _ a: LoadedAlgorithm) -> (name: String, count: Expr)? {
        for sp in a.inputs {
            guard case .name(let n) = sp.name.kind, n.spelling != declared, let s = n.scripts.last, s.raw.contains(":"),
                  declared.hasPrefix(n.base + s.position.rawValue), case .slice(_, let hi?) = s.value.kind else { continue }
            return (n.spelling, hi)
        }
        return nil
    }

    /// Default inputs for a bare run: `defaultTokens` for sequences, 5 for a token, 3 for a position,
    /// 𝒩(0, 1) vectors and matrices (seeded) of the declared shapes.
    public static func defaultInputs(_ a: LoadedAlgorithm, dims: [String: Int], seed: UInt64, dtype: DType, skip: Set<String> = []) throws -> [String: Value] {
        var rng = RandomGenerator(seed: seed &+ 1)
        var out: [String: Value] = [:]
        for (name, kind, span) in inputKinds(a) where !skip.contains(name) && !skip.contains(familyInput(name, a)?.name ?? "") {
            switch kind {
            case .collection: continue
            case .tokens:
                let n = max(dims["N_V"] ?? 65, 4)   // N_V from a file may be anything; E0518 follows for N_V < 1
                out[name] = .tokens(defaultTokens.map { ($0 - 1) % (n - 3) + 1 })
            case .token: out[name] = .nat(5)
            case .position: out[name] = .nat(3)
            case .array(let dimExprs):
                var shape = try dimExprs.map { try ParameterLayout.dimValue($0, dims, span) }
                var key = name
                if let (fname, count) = familyInput(name, a) { key = fname; shape.append(try ParameterLayout.dimValue(count, dims, span)) }
                try SizeBudget.require(SizeBudget.product(Shape.checkedCount(shape), dtype.byteSize),
                                       "the default input `\(key)` of shape \(shape.map(String.init).joined(separator: "×")) needs", at: span)
                out[key] = .tensor(Variable(Tensor(shape: shape, dtype: dtype) { rng.normal() }))
            }
        }
        return out
    }

    /// Parses `--input` text for one input: token ids `3,1,4`, one id, or numbers for a vector.
    public static func parseInput(_ text: String, kind: InputKind, name: String, dtype: DType, at span: Span) throws -> Value {
        let parts = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        switch kind {
        case .tokens, .token, .position:
            let ids = parts.compactMap { Int($0) }
            guard ids.count == parts.count, !ids.isEmpty else {
                throw RuntimeError(.invalidInput, "`--input \(name)=\(text)`: expected token ids such as `3,1,4` (1-based)", at: span)
            }
            return kind == .tokens ? .tokens(ids) : .nat(ids[0])
        case .array:
            let xs = parts.compactMap { Double($0) }
            guard xs.count == parts.count, !xs.isEmpty else { throw RuntimeError(.invalidInput, "`--input \(name)=\(text)`: expected numbers", at: span) }
            return .tensor(Variable(Tensor(shape: [xs.count], values: xs, dtype: dtype)))
        case .collection:
            throw RuntimeError(.invalidInput, "`\(name)` is a parameter collection: give it with `--params`", at: span)
        }
    }

    /// Checks given parameters against the layout: every one present with its shape.
    /// The given tensors that no parameter of `specs` reads (sorted; training state `train.*` left out).
    public static func unread(_ given: [String: Tensor], _ specs: [ParameterSpec]) -> [String] {
        let read = Set(specs.map(\.name))
        return given.keys.filter { !read.contains($0) && !$0.hasPrefix("train.") }.sorted()
    }

    public static func verify(_ given: [String: Tensor], _ specs: [ParameterSpec], at span: Span) throws {
        for s in specs {
            guard let t = given[s.name] else {
                throw RuntimeError(.parameterMismatch, "the parameter `\(s.name)` (shape \(s.shape)) is missing from the checkpoint", at: span,
                                   notes: ["`algo params FILE.algo --set …` lists every parameter's name and shape"])
            }
            guard t.shape == s.shape else {
                throw RuntimeError(.parameterMismatch, "the parameter `\(s.name)` has shape \(t.shape) in the checkpoint, the algorithm needs \(s.shape)", at: span)
            }
        }
    }
}

extension RunSession {
    /// Every vector or matrix input has its declared shape (E0507), so no shape error reaches the runtime.
    static func checkInputs(_ a: LoadedAlgorithm, _ inputs: [String: Value], _ dims: [String: Int]) throws {
        for (name, kind, span) in inputKinds(a) {
            guard case .array(let dimExprs) = kind else { continue }
            let fam = familyInput(name, a)
            guard case .tensor(let t)? = inputs[name] ?? fam.flatMap({ inputs[$0.name] }) else { continue }
            var expected = dimExprs.map { try? ParameterLayout.dimValue($0, dims, span) }
            if let fam { expected.append(try? ParameterLayout.dimValue(fam.count, dims, span)) }
            let ok = t.rank == expected.count && zip(t.shape, expected).allSatisfy { $1 == nil || $0 == $1 }
            if !ok {
                let want = expected.map { $0.map(String.init) ?? "?" }.joined(separator: "×")
                throw RuntimeError(.invalidInput, "the input `\(fam?.name ?? name)` has shape \(t.shape.map(String.init).joined(separator: "×")), its declaration needs \(want)", at: span)
            }
        }
    }

    /// Real hyperparameters lie in their declared interval (`τ ∈ (0, ∞)`).
    static func checkReals(_ a: LoadedAlgorithm, _ reals: [String: Double]) throws {
        for l in a.header(.hyperparameters) {
            guard case .declarations(let d) = l.content else { continue }
            for decl in d.declarations {
                guard case .interval(let lo, let hi)? = decl.type?.kind else { continue }
                func bound(_ e: Expr) -> Double? {
                    if case .number(let s) = e.kind { return Double(s) }
                    if case .infinity = e.kind { return .infinity }
                    return nil
                }
                for ne in decl.names {
                    guard case .name(let n) = ne.kind, let v = reals[n.spelling] else { continue }
                    if let a = bound(lo), let b = bound(hi), !(v > a && v < b) {
                        throw RuntimeError(.invalidInput, "`\(n.spelling)` = \(v) is outside its declared interval", at: decl.span)
                    }
                }
            }
        }
    }

    /// The kind of an input given under a signature or declared name (`e_{1:T}` is an array family).
    public static func kind(of name: String, _ a: LoadedAlgorithm) -> InputKind? {
        for (n, k, _) in inputKinds(a) {
            if n == name { return k }
            if let fam = familyInput(n, a), fam.name == name { return k }
        }
        return nil
    }

    /// Inputs stored in a checkpoint as `input.NAME` (token ids stored as F64 exact integers).
    /// A token sequence is a vector of whole numbers ≥ 1, a token or position one such number:
    /// anything else (NaN, 1e30, 1.5, a 2×2 matrix) is refused naming `path` and the tensor (E0507).
    public static func inputs(from c: Checkpoint, _ a: LoadedAlgorithm, dtype: DType, path: String = "the checkpoint") throws -> [String: Value] {
        var out: [String: Value] = [:]
        for (name, t) in c.tensors where name.hasPrefix("input.") {
            let n = String(name.dropFirst("input.".count))
            switch kind(of: n, a) {
            case .tokens?: out[n] = .tokens(try tokenIDs(t, name: name, path: path, single: false, at: a.syntax.title.span))
            case .token?, .position?: out[n] = .nat(try tokenIDs(t, name: name, path: path, single: true, at: a.syntax.title.span)[0])
            default: out[n] = .tensor(Variable(t.converted(to: dtype)))
            }
        }
        return out
    }

    /// The whole numbers ≥ 1 a checkpoint tensor holds as token ids (exactly one when `single`).
    static func tokenIDs(_ t: Tensor, name: String, path: String, single: Bool, at span: Span) throws -> [Int] {
        func refuse(_ why: String) -> RuntimeError {
            RuntimeError(.invalidInput, "`\(path)`: the tensor `\(name)` \(why)", at: span,
                         notes: ["token ids are stored as whole numbers ≥ 1 (F64), a sequence as a vector"])
        }
        guard single ? t.count == 1 : t.rank <= 1 else {
            throw refuse("has shape \(t.shape.map(String.init).joined(separator: "×")), not \(single ? "one number" : "a vector of token ids")")
        }
        let values = t.doubles
        guard !values.isEmpty else { throw refuse("holds no token") }
        var ids: [Int] = []
        ids.reserveCapacity(values.count)
        for (i, v) in values.enumerated() {
            // 2⁵³: every whole number up to it is exact in F64, and Int(v) cannot trap.
            guard v.isFinite, v == v.rounded(), v >= 1, v <= 9_007_199_254_740_992 else {
                throw refuse("holds \(v) at position \(i + 1), which is no token id")
            }
            ids.append(Int(v))
        }
        return ids
    }

    /// Parameters of a checkpoint: every tensor not named `input.*`, `output.*`, `hyperparameter.*`.
    public static func parameters(from c: Checkpoint) -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        for (name, t) in c.tensors where !name.hasPrefix("input.") && !name.hasPrefix("output.") && !name.hasPrefix("hyperparameter.") { out[name] = t }
        return out
    }

    /// The Mask of a checkpoint: the tensor `hyperparameter.Mask`, else the metadata text (`1`, `[[t_z ≤ t_x]]`).
    public static func mask(from c: Checkpoint) -> MaskValue? {
        if let t = c["hyperparameter.Mask"] { return .matrix(t) }
        if let m = c.metadata[CheckpointMetadata.hyperparameterPrefix + "Mask"] { return maskValue(m) }
        return nil
    }

    /// `1`/`0` → a constant; `causal` or `[[t_z ≤ t_x]]` → the causal matrix rule (built when indexed).
    public static func maskValue(_ text: String) -> MaskValue? {
        if let d = Double(text) { return .constant(d) }
        if text == "causal" || text.replacingOccurrences(of: " ", with: "") == "[[t_z≤t_x]]" { return .causal }
        return nil
    }

    /// Integer hyperparameters (dimensions) and real ones (τ) of checkpoint metadata.
    public static func hyperparameters(from c: Checkpoint) -> (dims: [String: Int], reals: [String: Double]) {
        var dims: [String: Int] = [:], reals: [String: Double] = [:]
        for (k, v) in CheckpointMetadata.hyperparameters(c.metadata) {
            if let i = Int(v) { dims[k] = i } else if let d = Double(v) { reals[k] = d }
        }
        return (dims, reals)
    }
}
