import Foundation

/// ASCII Python identifiers for the paper's names. Python reads identifiers in NFKC, which makes `ℓ`
/// the same name as `l` and `𝓦` the same as `W` (DTransformer has both `ℓ` and `l`), so every name is
/// spelled in ASCII: Greek letters by their English names (`γ^1_l` → `gamma_1_l`), `ℓ` → `ell`,
/// `𝓦` → `W`, accents and primes as suffixes (`X̃` → `X_tilde`, `t′` → `t_prime`, `m̂` → `m_hat`).
/// The comment after each line keeps the paper's spelling.
public struct PythonNames {
    /// Spelling → identifier, per function (`assign` keeps them unique).
    private var byspelling: [String: String] = [:]
    private var taken: Set<String>

    /// Names the module itself defines or imports: never given to a variable.
    static let reserved: Set<String> = [
        "jax", "jnp", "np", "functools", "math", "theta_from_algo", "load_params", "save_params",
        "_i", "_sub", "_sum", "_columns", "_grid", "_family", "_heads",
    ]
    static let keywords: Set<String> = [
        "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue", "def", "del", "elif",
        "else", "except", "finally", "for", "from", "global", "if", "import", "in", "is", "lambda", "nonlocal", "not", "or",
        "pass", "raise", "return", "try", "while", "with", "yield", "len", "range", "sum", "print", "list", "dict", "key",
    ]

    public init(taken: Set<String> = []) { self.taken = taken.union(Self.reserved) }

    /// The identifier of `spelling` in this function, chosen on first use and then fixed.
    public mutating func name(_ spelling: String) -> String {
        if let n = byspelling[spelling] { return n }
        var candidate = Self.ascii(spelling)
        let base = candidate
        var k = 2
        while taken.contains(candidate) { candidate = "\(base)_\(k)"; k += 1 }
        taken.insert(candidate)
        byspelling[spelling] = candidate
        return candidate
    }

    /// Reserves an identifier (a helper variable the generator introduces).
    public mutating func fresh(_ wanted: String) -> String {
        var candidate = wanted
        var k = 2
        while taken.contains(candidate) { candidate = "\(wanted)_\(k)"; k += 1 }
        taken.insert(candidate)
        return candidate
    }

    static let greek: [Character: String] = [
        "α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "epsilon", "ζ": "zeta", "η": "eta", "θ": "theta",
        "ι": "iota", "κ": "kappa", "λ": "lam", "μ": "mu", "ν": "nu", "ξ": "xi", "π": "pi", "ρ": "rho", "σ": "sigma",
        "τ": "tau", "υ": "upsilon", "φ": "phi", "χ": "chi", "ψ": "psi", "ω": "omega", "Γ": "Gamma", "Δ": "Delta",
        "Θ": "Theta", "Λ": "Lambda", "Σ": "Sigma", "Φ": "Phi", "Ψ": "Psi", "Ω": "Omega", "ϵ": "epsilon", "ϑ": "theta",
        "ℓ": "ell", "𝓦": "W", "∇": "grad",
    ]
    static let marks: [Unicode.Scalar: String] = [
        "\u{0303}": "tilde", "\u{0302}": "hat", "\u{0304}": "bar", "\u{0307}": "dot", "\u{0308}": "ddot",
        "′": "prime", "″": "pprime", "*": "star",
    ]

    /// The ASCII identifier for a spelling (not yet made unique).
    public static func ascii(_ spelling: String) -> String {
        var parts: [String] = []
        var current = ""
        func flush() { if !current.isEmpty { parts.append(current); current = "" } }
        for ch in spelling.decomposedStringWithCanonicalMapping {
            for u in ch.unicodeScalars {
                if let g = greek[Character(u)] { flush(); parts.append(g) }
                else if u.isASCII, (u.properties.isAlphabetic || ("0"..."9").contains(u)) {
                    current.unicodeScalars.append(u)
                } else if let m = marks[u] {
                    flush(); parts.append(m)
                } else if u.isASCII {
                    flush()   // `_`, `^`, braces, `/`, `:` separate parts
                } else {
                    flush(); parts.append("u\(String(u.value, radix: 16))")
                }
            }
        }
        flush()
        var s = parts.joined(separator: "_")
        if s.isEmpty { s = "v" }
        if let f = s.unicodeScalars.first, ("0"..."9").contains(f) { s = "v" + s }
        if keywords.contains(s) { s += "_" }
        return s
    }
}
