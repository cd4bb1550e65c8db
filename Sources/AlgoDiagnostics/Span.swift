/// A half-open range of UTF-8 byte offsets `start..<end` in the file at `file` (its path).
public struct Span: Hashable, Sendable, Codable {
    public var file: String
    public var start: Int
    public var end: Int

    public init(file: String, start: Int, end: Int) {
        self.file = file
        self.start = start
        self.end = max(start, end)
    }

    /// The smallest span covering both (same file).
    public func union(_ other: Span) -> Span {
        Span(file: file, start: min(start, other.start), end: max(end, other.end))
    }

    /// An empty span at this span's end (for "expected … here").
    public var endPoint: Span { Span(file: file, start: end, end: end) }
}
