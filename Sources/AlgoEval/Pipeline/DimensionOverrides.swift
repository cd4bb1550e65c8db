import AlgoDiagnostics
import AlgoSyntax
import Foundation

/// `--set NAME=VALUE,…`, parsed in one place for `algo check`, `run`, `params` and `gradcheck` (and
/// passed on to experiments): a natural number is a dimension (`d_e=64`), another number a real
/// (`τ=0.8`), and `Mask=causal|1|0` the mask of Algorithms 4 and 5. Names are read as the lexer reads
/// them, so ASCII spellings work (`\eta`, `\ell_max`, and a bare Greek name: `eta`, `ell_max`).
/// Strict: a name given twice, a value that is not a decimal number, and (`validate`) a name the
/// algorithm does not have or a dimension that is not a natural number are refused (exit 2).
public struct DimensionOverrides {
    public var dims: [String: Int] = [:]
    public var reals: [String: Double] = [:]
    public var mask: MaskValue? = nil
    /// Every name given, as read (canonical), with its value as written, in order.
    public private(set) var given: [(name: String, value: String)] = []

    /// Which values a command takes.
    public enum Accepts: Sendable {
        /// Dimensions only (`check`, `params`).
        case naturals
        /// Dimensions and reals (`gradcheck`).
        case numbers
        /// Dimensions, reals and `Mask` (`run`).
        case numbersAndMask
    }

    public init() {}

    /// Whether nothing was set.
    public var isEmpty: Bool { dims.isEmpty && reals.isEmpty && mask == nil }

    /// Parses the flag's text (nil: no `--set`). `realNames` are reals even when written as a natural
    /// number (`η=1`). The error is the message after `algo CMD: error: `.
    public static func parse(_ text: String?, accepts: Accepts, realNames: Set<String> = []) -> Result<DimensionOverrides, OverrideError> {
        var o = DimensionOverrides()
        guard let text else { return .success(o) }
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let kv = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces).precomposedStringWithCanonicalMapping }
            guard kv.count == 2, !kv[0].isEmpty, !kv[1].isEmpty else {
                return .failure(OverrideError("`--set` takes `NAME=VALUE,…`\(accepts == .naturals ? " with natural numbers" : ""), not `\(part)`"))
            }
            let (name, value) = (canonicalName(kv[0]), kv[1])
            if o.given.contains(where: { $0.name == name }) {
                return .failure(OverrideError("`--set` gives `\(name)` twice"))
            }
            o.given.append((name, value))
            guard name == "Mask" || isDecimal(value) else {
                return .failure(OverrideError("`--set \(name)=\(value)`: not a decimal number"))
            }
            if name == "Mask", accepts == .numbersAndMask {
                guard let m = RunSession.maskValue(value) else { return .failure(OverrideError("`Mask` takes `1`, `0` or `causal`")) }
                o.mask = m
            } else if let i = Int(value), i >= 0, !realNames.contains(name) {
                o.dims[name] = i
            } else if accepts != .naturals, let d = Double(value) {
                o.reals[name] = d
            } else if accepts == .naturals {
                return .failure(OverrideError("`--set` takes `NAME=VALUE,…` with natural numbers, not `\(part)`"))
            } else {
                return .failure(OverrideError("`--set \(name)=\(value)`: not a number"))
            }
        }
        return .success(o)
    }
}

extension DimensionOverrides {
    /// Refuses a name that `names` does not hold (with the closest one that it does), and a value
    /// for a dimension that is not a natural number (`d_e=-4`, `d_e=4.5`, one past `Int.max`).
    /// The error is the message after `algo CMD: error: `.
    public func validate(against names: SettableNames, for what: String) -> OverrideError? {
        for (name, value) in given {
            if name == "Mask", names.mask { continue }
            if names.reals.contains(name) { continue }
            if names.naturals.contains(name) {
                if dims[name] == nil { return OverrideError("`--set \(name)=\(value)`: `\(name)` is a dimension, a natural number") }
                continue
            }
            var message = "`--set \(name)=…` names no hyperparameter or dimension of \(what)"
            let all = names.naturals.union(names.reals).union(names.mask ? ["Mask"] : [])
            // The list is short, so even a two-letter name gets a guess one edit away (`de` → `d_e`).
            // Each name is also matched in its ASCII spellings, so `etaa` finds `η` through `eta`.
            var spelled: [String: String] = [:]
            for n in all.sorted() {
                let ascii = Spellings.asciiIdentifier(n)
                for form in [n, ascii, ascii.replacingOccurrences(of: "\\", with: "")] where spelled[form] == nil { spelled[form] = n }
            }
            if let best = Suggestion.closest(to: name, among: spelled.keys.sorted(), within: max(1, Suggestion.defaultLimit(name))) {
                message += "; did you mean `\(spelled[best]!)`?"
            }
            else { message += " (it has \(all.sorted().map { "`\($0)`" }.joined(separator: ", ")))" }
            return OverrideError(message)
        }
        return nil
    }

    /// A name as the lexer reads it: `\ell_max` → `ℓ_max`, `\tilde{X}` → `X̃`; a bare Greek
    /// letter name at the start (`eta`, `ell_max`, `beta_1`) is the letter. Anything the lexer does
    /// not read as a name is kept as written (and then named as unknown).
    static func canonicalName(_ raw: String) -> String {
        var tokens = Lexer.tokenize(raw, lineStart: false).filter { $0.kind != .newline && $0.kind != .endOfFile }
        guard !tokens.isEmpty else { return raw }
        if !raw.contains("\\"), tokens[0].kind == .identifier,
           let letter = Spellings.letters.first(where: { $0.ascii == "\\" + tokens[0].text }) {
            tokens[0].value = letter.unicode
        }
        var out = ""
        for t in tokens {
            switch t.kind {
            case .identifier, .scriptWord, .symbol(.underscore), .symbol(.caret): out += t.value
            case .symbol(.leftBrace), .symbol(.rightBrace): continue
            default: return raw
            }
        }
        return out.precomposedStringWithCanonicalMapping
    }

    /// A decimal number as people write one: digits, an optional sign, point and exponent; not
    /// `0x10` (hexadecimal), `inf` or `nan`, which `Double.init` would take.
    static func isDecimal(_ s: String) -> Bool {
        var rest = Substring(s)
        if rest.first == "-" || rest.first == "+" { rest = rest.dropFirst() }
        let mantissa = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
        guard mantissa.contains(where: \.isNumber), mantissa.filter({ $0 == "." }).count <= 1 else { return false }
        rest = rest.dropFirst(mantissa.count)
        if rest.isEmpty { return true }
        guard rest.first == "e" || rest.first == "E" else { return false }
        rest = rest.dropFirst()
        if rest.first == "-" || rest.first == "+" { rest = rest.dropFirst() }
        return !rest.isEmpty && rest.allSatisfy { $0.isASCII && $0.isNumber }
    }
}

/// What `--set` may name in a run: the dimensions and hyperparameters of the target and of every
/// algorithm it calls, natural and real, and whether a mask is taken.
public struct SettableNames: Sendable {
    public var naturals: Set<String>
    public var reals: Set<String>
    public var mask: Bool
    public init(naturals: Set<String>, reals: Set<String>, mask: Bool) {
        self.naturals = naturals; self.reals = reals; self.mask = mask
    }
}

extension EvalProgram {
    /// Every dimension (named in a declared shape, a family's range or the header) and hyperparameter
    /// of the algorithms of this program: the target and everything it calls.
    public var settableNames: SettableNames {
        var naturals: Set<String> = [], reals: Set<String> = [], mask = false
        for a in algorithms {
            for n in a.hyperparameterNames {
                if n == "Mask" { mask = true } else if a.isRealHyperparameter(n) { reals.insert(n) } else { naturals.insert(n) }
            }
            for (_, t) in a.checked.variables {
                // `length(x)` is a dimension of the checker's, not a name one could set.
                for d in t.dims { for v in d.variables { if case .named(let n) = v, !n.contains("(") { naturals.insert(n) } } }
            }
        }
        return SettableNames(naturals: naturals.subtracting(reals), reals: reals, mask: mask)
    }
}

/// A `--set` text that does not parse.
public struct OverrideError: Error, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
}
