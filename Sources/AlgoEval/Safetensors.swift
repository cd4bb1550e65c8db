// The safetensors file format (https://github.com/huggingface/safetensors), byte level:
//
//   8 bytes   N, the header length, unsigned little-endian
//   N bytes   the header: UTF-8 JSON
//             {"__metadata__":{"k":"v",…},"name":{"dtype":"F32","shape":[2,3],"data_offsets":[b,e]},…}
//             padded with spaces so that 8 + N is a multiple of 8
//   rest      the data: each tensor's elements, row-major (C order), little-endian, at
//             data_offsets [b, e) relative to the start of the data
//
// Writing follows the reference implementation's layout, so that equal contents give equal bytes:
// compact JSON (serde_json escaping), `__metadata__` first (omitted when empty), tensors ordered by
// dtype (larger alignment first: U64, I64, F64, F32, U32, I32, BF16, F16, U16, I16, F8…, I8, U8,
// BOOL) then by name (UTF-8 bytes), data packed in that order, header padded with spaces to 8
// bytes. One difference: the reference writes metadata keys in hash-map order (it varies from run
// to run); here they are sorted by UTF-8 bytes, one of the orders the reference may produce.

import AlgoTensor

/// The element types of the safetensors format (the classic set; newer sub-byte types are unknown).
public enum SafetensorsDType: String, Sendable, Hashable, CaseIterable {
    /// Boolean, 1 byte.
    case bool = "BOOL"
    /// Unsigned 8-bit integer.
    case u8 = "U8"
    /// Signed 8-bit integer.
    case i8 = "I8"
    /// 8-bit float, 5 exponent bits.
    case f8e5m2 = "F8_E5M2"
    /// 8-bit float, 4 exponent bits.
    case f8e4m3 = "F8_E4M3"
    /// Signed 16-bit integer.
    case i16 = "I16"
    /// Unsigned 16-bit integer.
    case u16 = "U16"
    /// IEEE half precision.
    case f16 = "F16"
    /// bfloat16.
    case bf16 = "BF16"
    /// Signed 32-bit integer.
    case i32 = "I32"
    /// Unsigned 32-bit integer.
    case u32 = "U32"
    /// IEEE single precision (`DType.f32`).
    case f32 = "F32"
    /// IEEE double precision (`DType.f64`).
    case f64 = "F64"
    /// Signed 64-bit integer.
    case i64 = "I64"
    /// Unsigned 64-bit integer.
    case u64 = "U64"

    /// Bytes per element.
    public var byteSize: Int {
        switch self {
        case .bool, .u8, .i8, .f8e5m2, .f8e4m3: return 1
        case .i16, .u16, .f16, .bf16: return 2
        case .i32, .u32, .f32: return 4
        case .f64, .i64, .u64: return 8
        }
    }

    /// Position in the reference implementation's `Dtype` enum; the writer orders tensors by it, descending.
    var order: Int { SafetensorsDType.allCases.firstIndex(of: self)! }

    /// The dtype of a `Tensor` of `dtype`.
    public init(_ dtype: DType) {
        switch dtype {
        case .f32: self = .f32
        case .f64: self = .f64
        }
    }
}

/// One tensor of a safetensors file, as raw bytes.
public struct SafetensorsEntry: Equatable, Sendable {
    /// The tensor's name (the header key).
    public var name: String
    /// Element type.
    public var dtype: SafetensorsDType
    /// Dimensions, row-major (the last one contiguous).
    public var shape: [Int]
    /// The elements, row-major, little-endian (`Π shape · dtype.byteSize` bytes).
    public var data: [UInt8]

    /// An entry; `Safetensors.encode` checks that `data` has the right length.
    public init(name: String, dtype: SafetensorsDType, shape: [Int], data: [UInt8]) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.data = data
    }

    /// Equal names (byte for byte), dtypes, shapes and data.
    public static func == (a: SafetensorsEntry, b: SafetensorsEntry) -> Bool {
        Array(a.name.utf8) == Array(b.name.utf8) && a.dtype == b.dtype && a.shape == b.shape && a.data == b.data
    }
}

/// The contents of a safetensors file: its tensors (ordered by name, UTF-8 bytes) and metadata.
public struct SafetensorsFile: Equatable, Sendable {
    /// The tensors, ordered by name.
    public var entries: [SafetensorsEntry]
    /// The `__metadata__` map (empty when absent).
    public var metadata: [String: String]
}

/// Encoding and decoding of the safetensors format in memory.
public enum Safetensors {
    /// The largest header accepted when reading (the reference implementation's limit).
    public static let maxHeaderLength = 100_000_000

    /// The bytes of a file holding `entries` and `metadata` (layout: see the file comment).
    /// Fails on duplicate names, a data length that does not match the shape, a negative dimension,
    /// or a metadata key `__metadata__`-like clash (a tensor named `__metadata__`).
    public static func encode(_ entries: [SafetensorsEntry], metadata: [String: String]) -> Result<[UInt8], CheckpointError> {
        prefix(entries.map { EntryInfo(name: $0.name, dtype: $0.dtype, shape: $0.shape, byteCount: $0.data.count) }, metadata: metadata).map { prefix, order in
            var out = prefix
            out.reserveCapacity(prefix.count + entries.reduce(0) { $0 + $1.data.count })
            for i in order { out += entries[i].data }
            return out
        }
    }

    /// What the header says of one entry, before its bytes exist.
    public struct EntryInfo: Sendable {
        public var name: String, dtype: SafetensorsDType, shape: [Int], byteCount: Int
        public init(name: String, dtype: SafetensorsDType, shape: [Int], byteCount: Int) {
            self.name = name; self.dtype = dtype; self.shape = shape; self.byteCount = byteCount
        }
    }

    /// The first bytes of a file holding entries described by `infos` (the 8-byte header length
    /// and the header, padded to 8 bytes), and the order (indices into `infos`) in which their
    /// bytes follow. Fails as `encode` does.
    public static func prefix(_ infos: [EntryInfo], metadata: [String: String]) -> Result<(bytes: [UInt8], order: [Int]), CheckpointError> {
        var names = Set<[UInt8]>()
        for e in infos {
            guard names.insert(Array(e.name.utf8)).inserted else { return .failure(.duplicateName(e.name)) }
            guard e.name != "__metadata__" else { return .failure(.invalidName(e.name)) }
            guard let count = elementCount(e.shape) else { return .failure(.invalidShape(tensor: e.name, "shape \(e.shape) has a negative dimension or overflows")) }
            let (bytes, overflow) = count.multipliedReportingOverflow(by: e.dtype.byteSize)
            guard !overflow, bytes == e.byteCount else {
                return .failure(.byteCountMismatch(tensor: e.name, expected: count &* e.dtype.byteSize, actual: e.byteCount))
            }
        }
        let order = infos.indices.sorted { i, j in
            let (a, b) = (infos[i], infos[j])
            return a.dtype.order != b.dtype.order ? a.dtype.order > b.dtype.order : bytesLess(Array(a.name.utf8), Array(b.name.utf8))
        }
        var members: [(key: String, value: JSONValue)] = []
        if !metadata.isEmpty {
            let keys = metadata.keys.sorted { bytesLess(Array($0.utf8), Array($1.utf8)) }
            members.append(("__metadata__", .object(keys.map { ($0, .string(metadata[$0]!)) })))
        }
        var offset = 0
        for e in order.map({ infos[$0] }) {
            let info: JSONValue = .object([
                ("dtype", .string(e.dtype.rawValue)),
                ("shape", .array(e.shape.map { .number(String($0)) })),
                ("data_offsets", .array([.number(String(offset)), .number(String(offset + e.byteCount))])),
            ])
            members.append((e.name, info))
            offset += e.byteCount
        }
        var header = JSONWriter.write(.object(members))
        header += [UInt8](repeating: 0x20, count: (8 - header.count % 8) % 8)
        let n = UInt64(header.count)
        let out = (0..<8).map { UInt8(truncatingIfNeeded: n >> UInt64(8 * $0)) } + header
        return .success((out, order))
    }

    /// The contents of a safetensors file. Every malformation is a `CheckpointError` value:
    /// a file shorter than 8 bytes, a header length beyond the file, a header that is not UTF-8 or
    /// not a JSON object, a malformed entry or metadata, an unknown dtype, a shape whose byte
    /// count does not match its offsets, and offsets that are out of range, overlap, leave gaps
    /// or do not cover the data exactly.
    /// `bytes` is any byte collection indexed from 0 (an array, or the `Data` of a file read whole,
    /// which then needs no copy: a checkpoint as large as GPT-2's is not held twice).
    public static func decode<Bytes: RandomAccessCollection>(_ bytes: Bytes) -> Result<SafetensorsFile, CheckpointError>
    where Bytes.Element == UInt8, Bytes.Index == Int {
        guard bytes.startIndex == 0 else { return decode(Array(bytes)) }
        guard bytes.count >= 8 else { return .failure(.truncated(size: bytes.count)) }
        var n: UInt64 = 0
        for k in 0..<8 { n |= UInt64(bytes[k]) << UInt64(8 * k) }
        guard n <= UInt64(maxHeaderLength), n <= UInt64(bytes.count - 8) else {
            return .failure(.headerLengthOutOfRange(length: n, available: bytes.count - 8))
        }
        let headerBytes = Array(bytes[8..<(8 + Int(n))])
        let dataStart = 8 + Int(n)
        return header(headerBytes, dataLength: bytes.count - dataStart).map { spans, metadata in
            var entries = spans.map { s in
                SafetensorsEntry(name: s.name, dtype: s.dtype, shape: s.shape, data: Array(bytes[(dataStart + s.begin)..<(dataStart + s.end)]))
            }
            entries.sort { bytesLess(Array($0.name.utf8), Array($1.name.utf8)) }
            return SafetensorsFile(entries: entries, metadata: metadata)
        }
    }

    /// One tensor's place in the data section, as the header gives it.
    public struct Span: Sendable {
        public var name: String
        public var dtype: SafetensorsDType
        public var shape: [Int]
        /// Byte offsets [begin, end) relative to the start of the data.
        public var begin: Int, end: Int
    }

    /// The tensors' places and the metadata of a header (the JSON after the 8-byte length) whose
    /// data section has `dataLength` bytes; the offsets are checked to tile it exactly.
    public static func header(_ headerBytes: [UInt8], dataLength: Int) -> Result<([Span], [String: String]), CheckpointError> {
        guard String(validating: headerBytes, as: UTF8.self) != nil else { return .failure(.headerNotUTF8) }
        guard headerBytes.first == UInt8(ascii: "{") else { return .failure(.malformedHeader("the header does not start with `{`")) }
        let json: JSONValue
        switch JSONParser.parse(headerBytes) {
        case .success(let v): json = v
        case .failure(let e): return .failure(.malformedHeader("\(e.message) at header byte \(e.offset)"))
        }
        guard case .object(let members) = json else { return .failure(.malformedHeader("the header is not a JSON object")) }
        var metadata: [String: String] = [:]
        var spans: [Span] = []
        for (key, value) in members {
            if key == "__metadata__" {
                switch parseMetadata(value) {
                case .success(let m): metadata = m
                case .failure(let e): return .failure(e)
                }
                continue
            }
            switch parseInfo(key, value) {
            case .success(let info): spans.append(Span(name: key, dtype: info.0, shape: info.1, begin: info.2, end: info.3))
            case .failure(let e): return .failure(e)
            }
        }
        // Offsets: sorted by begin they must tile [0, dataLength) exactly.
        spans.sort { $0.begin != $1.begin ? $0.begin < $1.begin : $0.end < $1.end }
        var position = 0
        for s in spans {
            guard s.begin == position else {
                return .failure(.badOffsets(tensor: s.name, s.begin < position
                    ? "data_offsets [\(s.begin), \(s.end)] overlap the previous tensor (which ends at \(position))"
                    : "data_offsets [\(s.begin), \(s.end)] leave a gap after byte \(position)"))
            }
            guard s.end <= dataLength else {
                return .failure(.badOffsets(tensor: s.name, "data_offsets [\(s.begin), \(s.end)] go past the end of the data (\(dataLength) bytes)"))
            }
            position = s.end
        }
        guard position == dataLength else {
            return .failure(.badOffsets(tensor: spans.last?.name ?? "", "the tensors cover \(position) of the \(dataLength) data bytes"))
        }
        return .success((spans, metadata))
    }

    /// `Π shape`, or nil for a negative dimension or an overflow.
    static func elementCount(_ shape: [Int]) -> Int? {
        var count = 1
        for d in shape {
            guard d >= 0 else { return nil }
            let (p, overflow) = count.multipliedReportingOverflow(by: d)
            if overflow { return nil }
            count = p
        }
        return count
    }

    private static func parseMetadata(_ value: JSONValue) -> Result<[String: String], CheckpointError> {
        guard case .object(let items) = value else { return .failure(.invalidMetadata("`__metadata__` is not a JSON object")) }
        var out: [String: String] = [:]
        for (k, v) in items {
            guard case .string(let s) = v else { return .failure(.invalidMetadata("the value of `\(k)` is not a string")) }
            guard out.updateValue(s, forKey: k) == nil else {
                return .failure(.invalidMetadata("keys canonically equivalent to `\(k)` appear twice"))
            }
        }
        return .success(out)
    }

    /// (dtype, shape, begin, end) of one tensor entry, checked against its byte count.
    private static func parseInfo(_ name: String, _ value: JSONValue) -> Result<(SafetensorsDType, [Int], Int, Int), CheckpointError> {
        guard case .object(let fields) = value else { return .failure(.malformedHeader("the entry of tensor `\(name)` is not a JSON object")) }
        var dtypeValue: JSONValue?, shapeValue: JSONValue?, offsetsValue: JSONValue?
        for (k, v) in fields {
            switch k {
            case "dtype": dtypeValue = v
            case "shape": shapeValue = v
            case "data_offsets": offsetsValue = v
            default: return .failure(.malformedHeader("tensor `\(name)` has an unknown field `\(k)`"))
            }
        }
        guard case .string(let dtypeName)? = dtypeValue else { return .failure(.malformedHeader("tensor `\(name)` has no string `dtype`")) }
        guard let dtype = SafetensorsDType(rawValue: dtypeName) else { return .failure(.unknownDType(tensor: name, dtype: dtypeName)) }
        guard case .array(let dims)? = shapeValue else { return .failure(.invalidShape(tensor: name, "`shape` is missing or not an array")) }
        var shape: [Int] = []
        for d in dims {
            guard let v = d.nonNegativeInt else { return .failure(.invalidShape(tensor: name, "`shape` holds something other than a non-negative integer")) }
            shape.append(v)
        }
        guard case .array(let offsets)? = offsetsValue, offsets.count == 2,
              let begin = offsets[0].nonNegativeInt, let end = offsets[1].nonNegativeInt else {
            return .failure(.badOffsets(tensor: name, "`data_offsets` is not a pair of non-negative integers"))
        }
        guard begin <= end else { return .failure(.badOffsets(tensor: name, "data_offsets [\(begin), \(end)] end before they begin")) }
        guard let count = elementCount(shape) else { return .failure(.invalidShape(tensor: name, "the element count of shape \(shape) overflows")) }
        let (expected, overflow) = count.multipliedReportingOverflow(by: dtype.byteSize)
        guard !overflow, expected == end - begin else {
            return .failure(.byteCountMismatch(tensor: name, expected: overflow ? Int.max : expected, actual: end - begin))
        }
        return .success((dtype, shape, begin, end))
    }
}
