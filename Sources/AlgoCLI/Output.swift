import Foundation

/// Where a command writes. Commands never call `print`; tests capture both streams.
public struct Output: Sendable {
    public var stdout = ""
    public var stderr = ""
    /// Whether stderr may use ANSI colour (a terminal, and NO_COLOR unset).
    public var color: Bool
    /// The `algo` process itself (not a test): long runs may write progress to stderr as they go and
    /// handle Ctrl-C.
    public var live = false

    public init(color: Bool = false) { self.color = color }

    public mutating func out(_ s: String) { stdout += s; if !s.hasSuffix("\n") { stdout += "\n" } }
    public mutating func err(_ s: String) { stderr += s; if !s.hasSuffix("\n") { stderr += "\n" } }
}
