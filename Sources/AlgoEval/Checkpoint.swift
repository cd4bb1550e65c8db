// Checkpoints: named `Tensor`s plus string metadata in a safetensors file, written atomically.
//
// AlgoTensor is column-major and safetensors is row-major (C order). The shape is kept as it is
// (a 2×3 matrix is written with shape [2, 3] and reads in numpy as the same 2×3 matrix); only the
// element order changes: on write the tensor is viewed with its dimensions reversed (a free
// permutation) and that view's column-major order is the row-major order of the original.

import AlgoDiagnostics
import Foundation
import AlgoTensor

/// A checkpoint: named tensors (f32 or f64) and string metadata.
public struct Checkpoint: Sendable {
    /// The tensors, ordered by name (UTF-8 bytes).
    public var tensors: [(name: String, tensor: Tensor)]
    /// The `__metadata__` map (hyperparameter values, source hash, …).
    public var metadata: [String: String]

    /// The tensor called `name`, if any.
    public subscript(name: String) -> Tensor? { tensors.first { Array($0.name.utf8) == Array(name.utf8) }?.tensor }

    // MARK: - Files

    /// Writes `tensors` and `metadata` to `path` atomically (temporary file in the same directory,
    /// fsync, rename). Byte output is deterministic (see `Safetensors`); duplicate names are refused.
    ///
    /// The file is written tensor by tensor: besides the tensors, the peak memory is the bytes of
    /// the largest one (GPT-2's embedding), not the whole file.
    public static func write(tensors: [(name: String, tensor: Tensor)], metadata: [String: String], to path: String) -> Result<Void, CheckpointError> {
        Safetensors.prefix(tensors.map(info), metadata: metadata).flatMap { (prefix, order) in
            // Made one at a time as the file is written: the header, then each tensor's bytes.
            let chunks = (0...order.count).lazy.map { k in k == 0 ? prefix : entry(name: tensors[order[k - 1]].name, tensor: tensors[order[k - 1]].tensor).data }
            return AtomicFile.write(chunks: chunks, to: path).mapError { .io($0.reason) }
        }
    }

    /// What the header says of a tensor: its name, dtype, shape and byte count.
    static func info(_ t: (name: String, tensor: Tensor)) -> Safetensors.EntryInfo {
        let dtype = SafetensorsDType(t.tensor.dtype)
        return Safetensors.EntryInfo(name: t.name, dtype: dtype, shape: t.tensor.shape, byteCount: t.tensor.count * dtype.byteSize)
    }

    /// Reads the checkpoint at `path`; every problem with the file is a `CheckpointError` value.
    ///
    /// The file is read tensor by tensor, largest first, each straight into its tensor: the peak
    /// memory is the tensors plus the bytes of the largest one (GPT-2's embedding), not the file
    /// twice over. `widening` reads F16 and BF16 tensors as F32 (`algo convert`'s input).
    public static func read(_ path: String, widening: Bool = false) -> Result<Checkpoint, CheckpointError> {
        // `.io` holds the system's reason; callers say "cannot read `PATH`: reason".
        let file: FileBytes.RegularFile
        switch FileBytes.open(path) {
        case .success(let f): file = f
        case .failure(let e): return .failure(.io(e.description))
        }
        func bytes(at offset: Int, count: Int) -> Result<[UInt8], CheckpointError> {
            file.read(at: offset, count: count).mapError { .io($0.description) }
        }
        let size = file.size
        guard size >= 8 else { return .failure(.truncated(size: size)) }
        let lengthBytes: [UInt8]
        switch bytes(at: 0, count: 8) {
        case .success(let b): lengthBytes = b
        case .failure(let e): return .failure(e)
        }
        var n: UInt64 = 0
        for k in 0..<8 { n |= UInt64(lengthBytes[k]) << UInt64(8 * k) }
        guard n <= UInt64(Safetensors.maxHeaderLength), n <= UInt64(size - 8) else { return .failure(.headerLengthOutOfRange(length: n, available: size - 8)) }
        let dataStart = 8 + Int(n)
        let spans: [Safetensors.Span], metadata: [String: String]
        switch bytes(at: 8, count: Int(n)).flatMap({ Safetensors.header($0, dataLength: size - dataStart) }) {
        case .success(let h): (spans, metadata) = h
        case .failure(let e): return .failure(e)
        }
        // The tensors and the bytes of the largest (read before it becomes a tensor) must fit the
        // memory budget: a valid header over a 30 GB file is refused here, not by the allocator.
        func held(_ s: Safetensors.Span) -> Int { (s.end - s.begin) * (widening && (s.dtype == .f16 || s.dtype == .bf16) ? 2 : 1) }
        let tensorBytes = spans.reduce(0) { $0 + held($1) }, largest = spans.map { $0.end - $0.begin }.max() ?? 0
        if tensorBytes + largest > SizeBudget.available.bytes {
            return .failure(.exceedsMemory("its tensors hold \(ByteCount.describe(tensorBytes)); \(SizeBudget.available.phrase)"))
        }
        var tensors: [(name: String, tensor: Tensor)] = []
        for s in spans.sorted(by: { $0.end - $0.begin > $1.end - $1.begin }) {
            switch bytes(at: dataStart + s.begin, count: s.end - s.begin).flatMap({ tensor(SafetensorsEntry(name: s.name, dtype: s.dtype, shape: s.shape, data: $0), widening: widening) }) {
            case .success(let t): tensors.append((s.name, t))
            case .failure(let e): return .failure(e)
            }
        }
        tensors.sort { bytesLess(Array($0.name.utf8), Array($1.name.utf8)) }
        return .success(Checkpoint(tensors: tensors, metadata: metadata))
    }

    // MARK: - Bytes

    /// The safetensors bytes of `tensors` and `metadata`.
    public static func encode(tensors: [(name: String, tensor: Tensor)], metadata: [String: String]) -> Result<[UInt8], CheckpointError> {
        Safetensors.encode(tensors.map { entry(name: $0.name, tensor: $0.tensor) }, metadata: metadata)
    }

    /// The checkpoint held in safetensors `bytes`. Tensors must be F32 or F64 of rank ≤ 4.
    public static func decode(_ bytes: [UInt8]) -> Result<Checkpoint, CheckpointError> {
        Safetensors.decode(bytes).flatMap(tensors(of:))
    }

    /// The tensors of decoded entries; each entry's bytes are released as soon as its tensor exists.
    static func tensors(of file: consuming SafetensorsFile) -> Result<Checkpoint, CheckpointError> {
        var entries = file.entries
        let metadata = file.metadata
        _ = consume file
        entries.reverse()
        var tensors: [(name: String, tensor: Tensor)] = []
        while let e = entries.popLast() {
            switch tensor(e) {
            case .success(let t): tensors.append((e.name, t))
            case .failure(let error): return .failure(error)
            }
        }
        return .success(Checkpoint(tensors: tensors, metadata: metadata))
    }

    /// A tensor as a safetensors entry: same shape, elements in row-major order, little-endian.
    public static func entry(name: String, tensor: Tensor) -> SafetensorsEntry {
        #if _endian(big)
        #error("checkpoints are written as the memory of little-endian floats")
        #endif
        // Row-major is the column-major order of the reversed dimensions, laid out once (a view
        // from `algo convert` is not made dense first).
        let data = tensor.permuted(Array((0..<tensor.rank).reversed())).denseBytes
        return SafetensorsEntry(name: name, dtype: SafetensorsDType(tensor.dtype), shape: tensor.shape, data: data)
    }

    /// The tensor of a safetensors entry (F32 or F64, rank ≤ 4), dense column-major; with
    /// `widening`, F16 and BF16 entries too, as F32 (exact: every half is a float).
    public static func tensor(_ e: SafetensorsEntry, widening: Bool = false) -> Result<Tensor, CheckpointError> {
        guard e.shape.count <= 4 else { return .failure(.unsupportedRank(tensor: e.name, rank: e.shape.count)) }
        guard let count = Safetensors.elementCount(e.shape),
              count.multipliedReportingOverflow(by: e.dtype.byteSize) == (e.data.count, false) else {
            return .failure(.byteCountMismatch(tensor: e.name, expected: (Safetensors.elementCount(e.shape) ?? 0) &* e.dtype.byteSize, actual: e.data.count))
        }
        // Element k of the row-major data goes to its column-major place, computed with a running
        // multi-index (no intermediate array besides the result's).
        let shape = e.shape
        let rank = shape.count
        var columnStride = [Int](repeating: 1, count: rank)
        for d in stride(from: 1, to: rank, by: 1) { columnStride[d] = columnStride[d - 1] * shape[d - 1] }
        func place(_ body: (_ k: Int, _ to: Int) -> Void) {
            var index = [Int](repeating: 0, count: rank), to = 0
            for k in 0..<count {
                body(k, to)
                var d = rank - 1
                while d >= 0 {
                    index[d] += 1
                    to += columnStride[d]
                    if index[d] < shape[d] { break }
                    to -= columnStride[d] * shape[d]
                    index[d] = 0
                    d -= 1
                }
            }
        }
        switch e.dtype {
        case .f32:
            var values = [Float](repeating: 0, count: count)
            e.data.withUnsafeBytes { raw in
                values.withUnsafeMutableBufferPointer { out in
                    place { k, to in out[to] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * k, as: UInt32.self))) }
                }
            }
            return .success(Tensor(shape: shape, floats: values))
        case .f64:
            var values = [Double](repeating: 0, count: count)
            e.data.withUnsafeBytes { raw in
                values.withUnsafeMutableBufferPointer { out in
                    place { k, to in out[to] = Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * k, as: UInt64.self))) }
                }
            }
            return .success(Tensor(shape: shape, values: values, dtype: .f64))
        case .f16 where widening, .bf16 where widening:
            let brain = e.dtype == .bf16
            var values = [Float](repeating: 0, count: count)
            e.data.withUnsafeBytes { raw in
                values.withUnsafeMutableBufferPointer { out in
                    place { k, to in
                        let h = UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * k, as: UInt16.self))
                        out[to] = Float(bitPattern: brain ? UInt32(h) << 16 : halfToFloatBits(h))
                    }
                }
            }
            return .success(Tensor(shape: shape, floats: values))
        case .bool, .u8, .i8, .f8e5m2, .f8e4m3, .i16, .u16, .f16, .bf16, .i32, .u32, .i64, .u64:
            return .failure(.unsupportedDType(tensor: e.name, dtype: e.dtype.rawValue))
        }
    }
}

/// IEEE half → single precision bit pattern (exact: every half is a float).
func halfToFloatBits(_ h: UInt16) -> UInt32 {
    let sign = UInt32(h & 0x8000) << 16, exponent = Int((h >> 10) & 0x1F), mantissa = UInt32(h & 0x3FF)
    if exponent == 0x1F { return sign | 0x7F80_0000 | mantissa << 13 }
    if exponent == 0 {
        guard mantissa != 0 else { return sign }
        var e = 1, m = mantissa                       // subnormal: normalise
        while m & 0x400 == 0 { m <<= 1; e -= 1 }
        return sign | UInt32(e - 15 + 127) << 23 | (m & 0x3FF) << 13
    }
    return sign | UInt32(exponent - 15 + 127) << 23 | mantissa << 13
}

/// Metadata conventions of `algo` checkpoints.
public enum CheckpointMetadata {
    /// Key of the SHA-256 (hex) of the `.algo` source.
    public static let sourceHashKey = "algo.source_sha256"
    /// Key of the tokenizer a checkpoint carries: its vocabulary file (`algo`'s JSON or a HuggingFace
    /// tokenizer.json) as text, so that `algo run --params F --text …` needs no `--tokenizer`.
    public static let tokenizerKey = "algo.tokenizer"
    /// Prefix of hyperparameter keys: `algo.hyperparameter.d_e` = `"16"`.
    public static let hyperparameterPrefix = "algo.hyperparameter."

    /// The metadata for a checkpoint of a program with this `.algo` source and these hyperparameter
    /// values (already formatted as text), plus any `extra` entries.
    public static func make(source: String, hyperparameters: [String: String], extra: [String: String] = [:]) -> [String: String] {
        var m = extra
        m[sourceHashKey] = SHA256.hexDigest(source)
        for (k, v) in hyperparameters { m[hyperparameterPrefix + k] = v }
        return m
    }

    /// The hyperparameter values recorded in `metadata`.
    public static func hyperparameters(_ metadata: [String: String]) -> [String: String] {
        var out: [String: String] = [:]
        for (k, v) in metadata where k.hasPrefix(hyperparameterPrefix) { out[String(k.dropFirst(hyperparameterPrefix.count))] = v }
        return out
    }
}

/// A checkpoint failure: a value with a message, never a trap.
public enum CheckpointError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file could not be read or written.
    case io(String)
    /// The tensors would not fit the memory budget (`SizeBudget`).
    case exceedsMemory(String)
    /// The file is shorter than the 8-byte header length.
    case truncated(size: Int)
    /// The header length N exceeds the bytes after it (or the 100 MB limit).
    case headerLengthOutOfRange(length: UInt64, available: Int)
    /// The header is not valid UTF-8.
    case headerNotUTF8
    /// The header is not the expected JSON (syntax or structure).
    case malformedHeader(String)
    /// `__metadata__` is not a map of strings to strings.
    case invalidMetadata(String)
    /// A dtype outside the safetensors set.
    case unknownDType(tensor: String, dtype: String)
    /// A safetensors dtype that `Tensor` does not hold (only F32 and F64 load as tensors).
    case unsupportedDType(tensor: String, dtype: String)
    /// A rank above `Tensor`'s limit of 4.
    case unsupportedRank(tensor: String, rank: Int)
    /// A malformed or overflowing shape.
    case invalidShape(tensor: String, String)
    /// Offsets out of range, overlapping, leaving gaps or not covering the data.
    case badOffsets(tensor: String, String)
    /// The shape's byte count differs from the byte span of the data.
    case byteCountMismatch(tensor: String, expected: Int, actual: Int)
    /// Two tensors with the same name in a write.
    case duplicateName(String)
    /// A tensor name the format reserves (`__metadata__`).
    case invalidName(String)

    /// One lowercase line without a trailing period.
    public var description: String {
        switch self {
        case let .io(m): return m
        case let .exceedsMemory(m): return m
        case let .truncated(size): return "not a safetensors file: \(size) bytes, fewer than the 8-byte header length"
        case let .headerLengthOutOfRange(n, available): return "header length \(n) exceeds the \(available) bytes that follow it (or the 100 MB limit)"
        case .headerNotUTF8: return "the header is not valid UTF-8"
        case let .malformedHeader(m): return "malformed header: \(m)"
        case let .invalidMetadata(m): return "invalid `__metadata__`: \(m)"
        case let .unknownDType(t, d): return "tensor `\(t)` has unknown dtype `\(d)`"
        case let .unsupportedDType(t, d): return "tensor `\(t)` has dtype `\(d)`; only F32 and F64 load as tensors"
        case let .unsupportedRank(t, r): return "tensor `\(t)` has rank \(r); tensors have rank ≤ 4"
        case let .invalidShape(t, m): return "tensor `\(t)`: \(m)"
        case let .badOffsets(t, m): return "tensor `\(t)`: \(m)"
        case let .byteCountMismatch(t, e, a): return "tensor `\(t)`: its shape needs \(e) bytes but its data has \(a)"
        case let .duplicateName(n): return "two tensors are named `\(n)`"
        case let .invalidName(n): return "`\(n)` cannot name a tensor"
        }
    }
}
