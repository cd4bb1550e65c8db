import Foundation
import Testing
import AlgoTensor
@testable import AlgoEval

/// `Tests/AlgoEvalTests/Fixtures/<name>`.
func fixturePath(_ name: String) -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").appendingPathComponent(name).path
}

/// The contents of `Fixtures/reference.safetensors`, as `safetensors_reference.py` defines them.
/// Tensors are built column-major from the row-major Python literals.
func referenceContents() -> (tensors: [(name: String, tensor: Tensor)], metadata: [String: String]) {
    let matrix = Tensor(shape: [2, 3], floats: [1, 4, 2, 5, 3, 6])                  // [[1,2,3],[4,5,6]]
    let vector = Tensor(shape: [4], values: [0.1, -2.5, 1e300, -0.0], dtype: .f64)
    let scalar = Tensor(scalar: 3.25)
    // numpy cube[i,j,k] = (4i + 2j + k)/8; column-major: i fastest.
    var cubeValues: [Double] = []
    for k in 0..<2 { for j in 0..<2 { for i in 0..<2 { cubeValues.append(Double(4 * i + 2 * j + k) / 8) } } }
    let cube = Tensor(shape: [2, 2, 2], values: cubeValues, dtype: .f64)
    let empty = Tensor.zeros([0, 3])
    let metadata = [
        "algo.source_sha256": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        "algo.hyperparameter.d_e": "16", "note": "ünïcode \"quoted\"\n",
    ]
    return ([("matrix", matrix), ("vector", vector), ("scalar", scalar), ("cube", cube), ("empty", empty)], metadata)
}

/// Bit equality of two tensors (same dtype, shape and element bits, so -0.0 ≠ 0.0).
func bitEqual(_ a: Tensor, _ b: Tensor) -> Bool {
    a.dtype == b.dtype && a.shape == b.shape && a.doubles.map(\.bitPattern) == b.doubles.map(\.bitPattern)
}

@Suite("Safetensors checkpoints")
struct SafetensorsTests {
    @Test("the Python reference fixture reads with the right values; writing the same contents gives the same bytes")
    func referenceFixture() throws {
        let data = try #require(FileManager.default.contents(atPath: fixturePath("reference.safetensors")))
        let bytes = [UInt8](data)
        let checkpoint = try Checkpoint.decode(bytes).get()
        let expected = referenceContents()
        #expect(checkpoint.metadata == expected.metadata)
        #expect(checkpoint.tensors.map(\.name) == ["cube", "empty", "matrix", "scalar", "vector"])
        for (name, tensor) in expected.tensors {
            let read = try #require(checkpoint[name])
            #expect(bitEqual(read, tensor), "\(name): \(read) vs \(tensor)")
        }
        // The 2×3 matrix: row-major [[1,2,3],[4,5,6]] in the file is M[0,1] = 2, M[1,0] = 4 here.
        let m = try #require(checkpoint["matrix"])
        #expect(m.shape == [2, 3] && m[0, 1] == 2 && m[1, 0] == 4 && m[1, 2] == 6)
        let written = try Checkpoint.encode(tensors: expected.tensors, metadata: expected.metadata).get()
        #expect(written == bytes)
        // The file `Checkpoint.write` streams tensor by tensor holds the same bytes.
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Checkpoint.write(tensors: expected.tensors, metadata: expected.metadata, to: dir + "/r.safetensors").get()
        #expect(FileManager.default.contents(atPath: dir + "/r.safetensors").map([UInt8].init) == bytes)
    }

    @Test("F16 and BF16 tensors (HF checkpoints) read as F32 with `widening`, exactly; without it they are refused")
    func halfPrecisionWidening() throws {
        // Row-major 2×3 F16: 1, −2.5, 2⁻²⁴ (the smallest subnormal), 65504 (the largest), +∞, −0.
        let f16: [UInt16] = [0x3C00, 0xC100, 0x0001, 0x7BFF, 0x7C00, 0x8000]
        // BF16 keeps float's exponent: the high 16 bits of 1, −2.5, 3.140625.
        let bf16: [UInt16] = [0x3F80, 0xC020, 0x4049]
        func le(_ w: [UInt16]) -> [UInt8] { w.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] } }
        let bytes = try Safetensors.encode([
            SafetensorsEntry(name: "h", dtype: .f16, shape: [2, 3], data: le(f16)),
            SafetensorsEntry(name: "b", dtype: .bf16, shape: [3], data: le(bf16)),
        ], metadata: [:]).get()
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/half.safetensors"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let c = try Checkpoint.read(path, widening: true).get()
        let h = try #require(c["h"]), b = try #require(c["b"])
        #expect(h.dtype == .f32 && h.shape == [2, 3] && b.dtype == .f32)
        let expected: [[Float]] = [[1, -2.5, 0x1p-24], [65504, .infinity, -0.0]]
        for i in 0..<2 { for j in 0..<3 { #expect(Float(h[i, j]).bitPattern == expected[i][j].bitPattern, "h[\(i), \(j)] = \(h[i, j])") } }
        #expect(b.floats == [1, -2.5, 3.140625])
        guard case .failure(.unsupportedDType) = Checkpoint.read(path) else {
            Issue.record("a half-precision tensor was read without widening"); return
        }
    }

    @Test("the file layout: 8-byte length, header padded with spaces to 8, row-major data")
    func layout() throws {
        let m = Tensor(shape: [2, 3], floats: [1, 4, 2, 5, 3, 6])
        let bytes = try Checkpoint.encode(tensors: [("m", m)], metadata: [:]).get()
        let header = #"{"m":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]}}"#
        let padded = header + String(repeating: " ", count: (8 - header.utf8.count % 8) % 8)
        #expect(bytes[0..<8].elementsEqual([UInt8(padded.utf8.count), 0, 0, 0, 0, 0, 0, 0]))
        #expect(String(decoding: bytes[8..<(8 + padded.utf8.count)], as: UTF8.self) == padded)
        let floats = stride(from: 8 + padded.utf8.count, to: bytes.count, by: 4).map { i in
            Float(bitPattern: UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 24)
        }
        #expect(floats == [1, 2, 3, 4, 5, 6])
    }

    @Test("write and read round trip through a file, atomically, deterministically")
    func fileRoundTrip() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var rng = RandomGenerator(seed: 7)
        var tensors: [(name: String, tensor: Tensor)] = []
        for (k, shape) in [[3], [2, 5], [1, 4, 3], [2, 3, 1, 2], [], [7, 1]].enumerated() {
            let t = Tensor.normal(shape, dtype: k % 2 == 0 ? .f32 : .f64, using: &rng)
            tensors.append(("layer\(k).W", t))
        }
        // A transposed (non-contiguous) view is written as what it shows.
        tensors.append(("transposed", tensors[1].tensor.transposed))
        let path = dir + "/model.safetensors"
        let metadata = CheckpointMetadata.make(source: "Algorithm 1: …", hyperparameters: ["d_e": "16", "L": "2"])
        try Checkpoint.write(tensors: tensors, metadata: metadata, to: path).get()
        let first = try #require(FileManager.default.contents(atPath: path))
        try Checkpoint.write(tensors: tensors.reversed(), metadata: metadata, to: path).get()
        #expect(FileManager.default.contents(atPath: path) == first)       // input order does not matter
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["model.safetensors"])
        let read = try Checkpoint.read(path).get()
        #expect(read.metadata == metadata)
        #expect(CheckpointMetadata.hyperparameters(read.metadata) == ["d_e": "16", "L": "2"])
        #expect(read.metadata[CheckpointMetadata.sourceHashKey] == SHA256.hexDigest("Algorithm 1: …"))
        for (name, t) in tensors { #expect(bitEqual(try #require(read[name]), t.copy()), "\(name)") }
        #expect(read["transposed"]?.shape == [5, 2])
    }

    @Test("writing refuses duplicate names and reports unwritable paths")
    func writeErrors() {
        let t = Tensor.zeros([2])
        #expect(Checkpoint.encode(tensors: [("a", t), ("a", t)], metadata: [:]).map { _ in 0 } == .failure(.duplicateName("a")))
        guard case .failure(.io) = Checkpoint.write(tensors: [("a", t)], metadata: [:], to: "/nonexistent/dir/x.safetensors") else {
            Issue.record("write into a missing directory succeeded")
            return
        }
        guard case .failure(.io) = Checkpoint.read("/nonexistent/x.safetensors") else { Issue.record("read"); return }
    }

    /// A file with header `json` and `data` bytes.
    func file(_ json: String, _ data: [UInt8] = []) -> [UInt8] {
        let h = Array(json.utf8)
        return (0..<8).map { UInt8(truncatingIfNeeded: UInt64(h.count) >> UInt64(8 * $0)) } + h + data
    }

    @Test("each malformation is reported as its own error")
    func malformations() {
        func error(_ bytes: [UInt8]) -> CheckpointError? {
            if case .failure(let e) = Checkpoint.decode(bytes) { return e }
            return nil
        }
        let f4 = [UInt8](repeating: 0, count: 4)
        #expect(error([1, 2, 3]) == .truncated(size: 3))
        #expect(error([100, 0, 0, 0, 0, 0, 0, 0, 0x7B]) == .headerLengthOutOfRange(length: 100, available: 1))
        #expect(error([255, 255, 255, 255, 255, 255, 255, 255]) == .headerLengthOutOfRange(length: UInt64.max, available: 0))
        #expect(error(file("{\u{0}")) != nil)
        #expect(error([2, 0, 0, 0, 0, 0, 0, 0, 0x7B, 0xFF]) == .headerNotUTF8)
        guard case .malformedHeader? = error(file(#"{"a":"#)) else { Issue.record("truncated JSON"); return }
        guard case .malformedHeader? = error(file(#"[]"#)) else { Issue.record("array header"); return }
        guard case .malformedHeader? = error(file(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":1}}"#, f4)) else { Issue.record("extra field"); return }
        guard case .malformedHeader? = error(file(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, f4)) else { Issue.record("dup"); return }
        #expect(error(file(#"{"a":{"dtype":"F17","shape":[1],"data_offsets":[0,4]}}"#, f4)) == .unknownDType(tensor: "a", dtype: "F17"))
        #expect(error(file(#"{"a":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}"#, f4 + f4)) == .unsupportedDType(tensor: "a", dtype: "I64"))
        #expect(error(file(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}"#, f4)) == .byteCountMismatch(tensor: "a", expected: 8, actual: 4))
        #expect(error(file(#"{"a":{"dtype":"F32","shape":[1,1,1,1,1],"data_offsets":[0,4]}}"#, f4)) == .unsupportedRank(tensor: "a", rank: 5))
        guard case .invalidShape? = error(file(#"{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#, f4)) else { Issue.record("negative"); return }
        guard case .invalidShape? = error(file(#"{"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}"#, f4)) else { Issue.record("fraction"); return }
        guard case .invalidShape? = error(file(#"{"a":{"dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,8]}}"#, f4 + f4)) else { Issue.record("overflow"); return }
        guard case .badOffsets? = error(file(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, [])) else { Issue.record("past end"); return }
        guard case .badOffsets? = error(file(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, f4 + f4)) else { Issue.record("not covering"); return }
        guard case .badOffsets? = error(file(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, f4 + f4)) else { Issue.record("gap"); return }
        guard case .badOffsets? = error(file(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, f4)) else { Issue.record("overlap"); return }
        guard case .badOffsets? = error(file(#"{"a":{"dtype":"F32","shape":[0],"data_offsets":[4,0]}}"#, f4)) else { Issue.record("reversed"); return }
        guard case .badOffsets? = error(file(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,99999999999999999999]}}"#, f4)) else { Issue.record("huge"); return }
        guard case .invalidMetadata? = error(file(#"{"__metadata__":{"k":1}}"#)) else { Issue.record("metadata value"); return }
        guard case .invalidMetadata? = error(file(#"{"__metadata__":[]}"#)) else { Issue.record("metadata array"); return }
        let deep = #"{"a":"# + String(repeating: "[", count: 100_000)
        guard case .malformedHeader? = error(file(deep)) else { Issue.record("deep nesting"); return }
        #expect(Checkpoint.decode(file(#"{}     "#)).map(\.tensors.count) == .success(0))
        #expect(Checkpoint.decode(file(#"{"__metadata__":{"k":"v"}}"#)).map(\.metadata) == .success(["k": "v"]))
    }

    @Test("truncations and seeded random byte flips of a valid file never crash")
    func fuzz() throws {
        let data = try #require(FileManager.default.contents(atPath: fixturePath("reference.safetensors")))
        let valid = [UInt8](data)
        var failures = 0, successes = 0
        func check(_ bytes: [UInt8]) {
            switch Checkpoint.decode(bytes) {
            case .success: successes += 1
            case .failure(let e): failures += 1; _ = e.description
            }
        }
        for n in 0..<valid.count { check(Array(valid[0..<n])) }        // every truncation
        let jsonCharacters = Array("{}[],:\"0123456789-e. ".utf8)
        var rng = RandomGenerator(seed: 11)
        for _ in 0..<3000 {
            var bytes = valid
            for _ in 0..<(1 + rng.int(below: 4)) {
                let i = rng.int(below: bytes.count)
                switch rng.int(below: 3) {
                case 0: bytes[i] ^= UInt8(1 << rng.int(below: 8))            // a bit flip
                case 1: bytes[i] = UInt8(rng.int(below: 256))               // a random byte
                default: bytes[i] = jsonCharacters[rng.int(below: jsonCharacters.count)]
                }
            }
            check(bytes)
        }
        #expect(failures > 1000 && successes > 100)
        #expect(failures + successes == valid.count + 3000)
    }
}

@Suite("SHA-256 (FIPS 180-4 test vectors)")
struct SHA256Tests {
    @Test func vectors() {
        #expect(SHA256.hexDigest("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hexDigest("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hexDigest("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(SHA256.hexDigest("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu")
                == "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1")
    }

    @Test("one million 'a', fed in uneven pieces")
    func million() {
        var h = SHA256()
        var fed = 0
        var step = 1
        while fed < 1_000_000 {
            let n = min(step, 1_000_000 - fed)
            h.update(repeatElement(UInt8(ascii: "a"), count: n))
            fed += n
            step = step * 3 % 1000 + 1
        }
        #expect(SHA256.hex(h.finalize()) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }
}
