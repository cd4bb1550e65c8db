import Foundation
import Testing

/// Guards the code generation of the micro-kernel: without `-target-cpu haswell` (or with a
/// rewrite LLVM cannot keep in registers) the same Swift runs 2–150× slower and every test still
/// passes. So the optimised object file is disassembled and its loop inspected.
@Suite struct GEMMCodegenTests {
    /// The package root, from this file's path (Tests/AlgoKernelsTests/…).
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    /// The release build's object file of the micro-kernel. A debug build (`-Onone`) has no FMAs by
    /// design, so `swift test` (debug) checks the object from the last `swift build -c release`, if any.
    static let object = root.appendingPathComponent(".build/release/AlgoKernels.build/GEMMKernel.swift.o").path
    /// The edge kernels' object file (same module).
    static let edgeObject = root.appendingPathComponent(".build/release/AlgoKernels.build/GEMMEdgeKernel.swift.o").path
    /// The 512-bit kernels' object file (x86_64 builds only; compiled for AVX-512 whatever the
    /// processor, so this test checks it on every x86_64 machine: it disassembles, never runs it).
    static let object512 = root.appendingPathComponent(".build/release/AlgoKernelsAVX512.build/GEMMKernel512.swift.o").path
    static let objdump = ["/usr/bin/objdump", "/usr/local/bin/objdump", "/opt/swift/usr/bin/llvm-objdump"]
        .first { FileManager.default.isExecutableFile(atPath: $0) }
    static let available = objdump != nil && FileManager.default.fileExists(atPath: object)
    static let availableEdge = available && FileManager.default.fileExists(atPath: edgeObject)
    #if arch(x86_64)
    static let available512 = objdump != nil && FileManager.default.fileExists(atPath: object512)
    #else
    static let available512 = false
    #endif

    /// The disassembly of the first function whose mangled name contains `name`.
    static func disassembly(of name: String, in object: String = object) throws -> [String] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: objdump!)
        process.arguments = ["-d", "--no-show-raw-insn", object]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        var body: [String] = [], inside = false
        for line in lines {
            if line.hasSuffix(">:") {
                if !body.isEmpty { break }
                inside = line.contains(name)
            } else if inside && !line.isEmpty {
                body.append(String(line))
            }
        }
        return body
    }

    /// The 16×6 tile, for a packed B and for B read with strides. Names as mangled
    /// (length-prefixed), so that `kernel16x6` does not also match `kernel16x6Packed`.
    @Test(.enabled(if: available, "objdump or the release object file is missing: run `swift build -c release` first"),
          arguments: ["16kernel16x6Packed", "10kernel16x6"])
    func microKernelLoopIsFMAsWithoutCallsOrSpills(kernel: String) throws {
        let code = try Self.disassembly(of: "GEMMO" + kernel)
        #expect(!code.isEmpty, "no \(kernel) in \(Self.object)")
        checkLoop(code, kernel: kernel, fmas: [12], register: "%ymm")
    }

    /// The edge kernels (GEMMEdgeKernel.swift, the rows past the last full 16-row panel): dot products
    /// along k (4×3, 2×6, 1×8 entries) and rows along n (4×3, 2×6, 1×12 vectors of 8). Their loops
    /// hold 12 FMAs per step (8 for 1×8), or twice that where LLVM unrolls two steps; no calls, no spills.
    @Test(.enabled(if: availableEdge, "objdump or the release object file is missing: run `swift build -c release` first"),
          arguments: [("10edgeDot4x3", 12), ("10edgeDot2x6", 12), ("10edgeDot1x8", 8),
                      ("10edgeRow4x3", 12), ("10edgeRow2x6", 12), ("11edgeRow1x12", 12)])
    func edgeKernelLoopIsFMAsWithoutCallsOrSpills(kernel: String, fmas: Int) throws {
        let code = try Self.disassembly(of: "GEMMO" + kernel, in: Self.edgeObject)
        #expect(!code.isEmpty, "no \(kernel) in \(Self.edgeObject)")
        checkLoop(code, kernel: kernel, fmas: [fmas, 2 * fmas], register: "%ymm")
    }

    /// The 512-bit kernels (AlgoKernelsAVX512, `-target-cpu skylake-avx512`): the 32×12 tile's loop
    /// is 24 `vfmadd231ps` on `zmm` registers, the 16×12 tile's 12; no calls, no spills. Without
    /// the flag a `SIMD16<Float>` FMA becomes two `ymm` halves or calls to `fmaf`.
    @Test(.enabled(if: available512, "objdump or the release object file of AlgoKernelsAVX512 is missing (x86_64 only): run `swift build -c release` first"),
          arguments: [("17kernel32x12Packed", 24), ("11kernel32x12", 24), ("17kernel16x12Packed", 12), ("11kernel16x12", 12)])
    func wideMicroKernelLoopIsZmmFMAsWithoutCallsOrSpills(kernel: String, fmas: Int) throws {
        let code = try Self.disassembly(of: "GEMMKernel512O" + kernel, in: Self.object512)
        #expect(!code.isEmpty, "no \(kernel) in \(Self.object512)")
        checkLoop(code, kernel: kernel, fmas: [fmas], register: "%zmm")
    }

    /// Checks that `code` has a loop over FMAs on `register`s (`%ymm`, `%zmm`) holding one of the
    /// counts `fmas` expected, with no call and no stack access.
    func checkLoop(_ code: [String], kernel: String, fmas expected: [Int], register: String) {
        // The k-loop: from the target of the first conditional branch after the first FMA to that branch.
        guard let firstFMA = code.firstIndex(where: { $0.contains("vfmadd231ps") }) else {
            Issue.record("no vfmadd231ps in \(kernel): is -target-cpu still set for its module (Package.swift)?")
            return
        }
        guard let end = code[firstFMA...].firstIndex(where: { $0.contains("\tj") && !$0.contains("jmp") }),
              case let words = code[end].split(whereSeparator: \.isWhitespace), words.count > 2,
              case let target = String(words[2]),
              let start = code.firstIndex(where: { $0.trimmingCharacters(in: .whitespaces).hasPrefix(target + ":") }),
              start <= firstFMA else {
            Issue.record("no loop branch back over the FMAs")
            return
        }
        let loop = code[start...end]
        let fmas = loop.filter { $0.contains("vfmadd231ps") && $0.contains(register) }.count
        #expect(expected.contains(fmas), "the \(kernel) loop should hold \(expected.map(String.init).joined(separator: " or ")) vfmadd231ps on \(register), found \(fmas)")
        #expect(!loop.contains { $0.contains("call") }, "a call in the micro-kernel loop")
        #expect(!loop.contains { $0.contains("(%rsp)") || $0.contains("(%rbp)") }, "a spill in the micro-kernel loop")
    }
}
