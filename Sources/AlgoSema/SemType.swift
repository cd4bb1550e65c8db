/// What the entries of an array are: ℝ, the open interval (0,1) of probabilities, or {0,1}.
public enum ElementKind: String, Sendable, Equatable {
    case real = "ℝ", probability = "(0,1)", bit = "{0,1}"
}

/// A parameter collection (`𝓦_qkv`, `θ`): members by key (the declared name with the family index
/// removed, `W_q` for `W^h_q`). Two collections are the same type when they have the same keys and
/// their members unify.
public struct CollectionType: Sendable, Equatable {
    /// The algorithm and collection it was declared as (`Attention.𝓦_qkv`), for messages.
    public var origin: String
    public var members: [(key: String, type: SemType)]

    public static func == (a: CollectionType, b: CollectionType) -> Bool {
        a.origin == b.origin && a.members.count == b.members.count
            && zip(a.members, b.members).allSatisfy { $0.key == $1.key && $0.type == $1.type }
    }
}

/// The type of a value, with symbolic dimensions (section 2 of NOTATION.md).
///
/// Vectors are columns: `ℝ^{d}` is `.array(rows: d, cols: nil)`; `ℝ^{m×n}` is `.array(m, n)`; a row
/// vector (`𝟏ᵀ`, `qᵀ`) is `.array(1, n)`.
public indirect enum SemType: Sendable, Equatable {
    /// A real scalar (ℝ, an interval such as (0, ∞)).
    case real
    /// A natural number; `value` is its symbolic value when known (`ℓ ← length(x)` has `length(x)`).
    case nat(Dim?)
    /// An element of [N] (1-based); `N` is the upper bound. Tokens (V ≅ [N_V]) are `.index(N_V)`.
    case index(Dim)
    /// A truth value (comparisons, `¬`).
    case bool
    /// A number literal: fits every scalar.
    case number
    /// Vectors and matrices.
    case array(rows: Dim, cols: Dim?, element: ElementKind)
    /// A finite sequence (`V*`); `length` when tracked.
    case sequence(element: SemType, length: Dim?)
    /// A finite set of elements (`T̃ = {t ∈ [ℓ] : …}`).
    case set(of: SemType)
    case collection(CollectionType)
    /// Values indexed by a bound variable over [domain]: `e_t`, `Y^h`, `γ^1_l`, `x_n`.
    case family(domain: Dim, element: SemType)
    /// A function of a parameter collection: `P(θ)`, `loss(θ)`.
    case function(argument: SemType, result: SemType)
    /// An unknown type (an undeclared-type name such as `θ` or `𝓦_l`), solved by its first use.
    case variable(Int)
    /// A text: the contents of a data file named in an experiment (`corpus = "prose.txt"`).
    case text
    /// A poisoned type: an error was reported; silences every follow-on error.
    case error

    public var isError: Bool { if case .error = self { return true } else { return false } }

    /// Scalars of every kind.
    public var isScalar: Bool {
        switch self {
        case .real, .nat, .index, .bool, .number: return true
        case .array, .sequence, .set, .collection, .family, .function, .variable, .error, .text: return false
        }
    }

    /// Rewrites every dimension.
    public func mapDims(_ f: (Dim) -> Dim) -> SemType {
        switch self {
        case .real, .bool, .number, .variable, .error, .text: return self
        case .nat(let d): return .nat(d.map(f))
        case .index(let d): return .index(f(d))
        case .array(let r, let c, let e): return .array(rows: f(r), cols: c.map(f), element: e)
        case .sequence(let e, let l): return .sequence(element: e.mapDims(f), length: l.map(f))
        case .set(let e): return .set(of: e.mapDims(f))
        case .collection(let c):
            return .collection(CollectionType(origin: c.origin, members: c.members.map { ($0.key, $0.type.mapDims(f)) }))
        case .family(let d, let e): return .family(domain: f(d), element: e.mapDims(f))
        case .function(let a, let r): return .function(argument: a.mapDims(f), result: r.mapDims(f))
        }
    }

    /// Every dimension that occurs (for instantiation and the unbound-hyperparameter check).
    public var dims: [Dim] {
        switch self {
        case .real, .bool, .number, .variable, .error, .text: return []
        case .nat(let d): return d.map { [$0] } ?? []
        case .index(let d): return [d]
        case .array(let r, let c, _): return [r] + (c.map { [$0] } ?? [])
        case .sequence(let e, let l): return e.dims + (l.map { [$0] } ?? [])
        case .set(let e): return e.dims
        case .collection(let c): return c.members.flatMap { $0.type.dims }
        case .family(let d, let e): return [d] + e.dims
        case .function(let a, let r): return a.dims + r.dims
        }
    }

    /// Whether the type contains the poisoned type anywhere.
    public var containsError: Bool {
        switch self {
        case .error: return true
        case .real, .bool, .number, .variable, .nat, .index, .array, .text: return false
        case .sequence(let e, _): return e.containsError
        case .set(let e): return e.containsError
        case .collection(let c): return c.members.contains { $0.type.containsError }
        case .family(_, let e): return e.containsError
        case .function(let a, let r): return a.containsError || r.containsError
        }
    }
}

/// Prints types in the paper's notation: `ℝ^{d_attn×ℓ_x}`, `(0,1)^{N_V×ℓ}`, `V*`, `[ℓ]`.
public struct TypePrinter: Sendable {
    /// Dimension display names (`length(x)` is shown as `ℓ` after `ℓ ← length(x)`).
    public var aliases: [String: String] = [:]
    public init(aliases: [String: String] = [:]) { self.aliases = aliases }

    public func dim(_ d: Dim) -> String {
        let shown = d.substitute { v in
            if case .named(let n) = v, let a = aliases[n] { return .named(a) }
            return nil
        }
        return shown.description
    }

    public func type(_ t: SemType) -> String {
        switch t {
        case .real: return "ℝ"
        case .nat(let d): return d.map { "ℕ (= \(dim($0)))" } ?? "ℕ"
        case .index(let d): return "[\(dim(d))]"
        case .bool: return "a truth value"
        case .number: return "a number"
        case .array(let r, let c, let e):
            if let c { return "\(e.rawValue)^{\(dim(r))×\(dim(c))}" }
            return "\(e.rawValue)^{\(dim(r))}"
        case .sequence(let e, _):
            if case .index = e { return "V*" }
            return "(\(type(e)))*"
        case .set(let e): return "a set of \(type(e))"
        case .collection(let c): return "the collection `\(c.origin)`"
        case .family(let d, let e): return "a family over [\(dim(d))] of \(type(e))"
        case .function(let a, let r): return "a function of \(type(a)) to \(type(r))"
        case .variable: return "a value of unknown type"
        case .text: return "a text"
        case .error: return "an erroneous value"
        }
    }
}
