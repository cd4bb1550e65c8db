import Foundation

/// `--set NAME=VALUE,…`, parsed in one place for `algo check`, `run`, `params` and `gradcheck` (and
/// passed on to experiments): a natural number is a dimension (`d_e=64`), another number a real
/// (`τ=0.8`), and `Mask=causal|1|0` the mask of Algorithms 4 and 5. Names are NFC-normalised.
public struct DimensionOverrides {
    public var dims: [String: Int] = [:]
    public var reals: [String: Double] = [:]
    public var mask: MaskValue? = nil

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
        for part in text.split(separator: ",") {
            let kv = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces).precomposedStringWithCanonicalMapping }
            guard kv.count == 2, !kv[0].isEmpty else {
                return .failure(OverrideError("`--set` takes `NAME=VALUE,…`\(accepts == .naturals ? " with natural numbers" : ""), not `\(part)`"))
            }
            let (name, value) = (kv[0], kv[1])
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

/// A `--set` text that does not parse.
public struct OverrideError: Error, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
}
