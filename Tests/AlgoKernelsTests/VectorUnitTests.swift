import Foundation
import Testing
@testable import AlgoKernels

/// The run-time choice of vector unit: what is detected, and that nothing asks for a unit the
/// processor lacks.
@Suite struct VectorUnitTests {
    /// On Linux x86_64, `bits512` is available exactly when /proc/cpuinfo lists every AVX-512
    /// extension of `skylake-avx512` (read here with a plain substring search, independently of
    /// `CPUFeatures`'s parsing); `bits256` always is, and `widest` is the last.
    @Test func detectionFollowsTheProcessorsFlags() throws {
        #expect(VectorUnit.available.first == .bits256)
        #expect(VectorUnit.widest == VectorUnit.available.last)
        #if arch(x86_64) && os(Linux)
        let text = try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
        let flags = " " + (text.split(separator: "\n").first { $0.hasPrefix("flags") }.map(String.init) ?? "") + " "
        let has512 = ["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"].allSatisfy { flags.contains(" \($0) ") }
        #expect(VectorUnit.available.contains(.bits512) == has512)
        #elseif !arch(x86_64)
        #expect(VectorUnit.available == [.bits256])
        #endif
    }

    /// `GEMM.unit` refuses a unit the processor lacks (so no AVX-512 code runs without AVX-512) and
    /// defaults to the widest, on every processor (AMD Zen 4 included: README, "Which GEMM runs").
    @Test func gemmUnitIsAlwaysAvailable() {
        #expect(GEMM.unit == VectorUnit.widest)
        for unit in VectorUnit.allCases {
            let saved = GEMM.selectedUnit
            GEMM.unit = unit
            #expect(VectorUnit.available.contains(GEMM.unit))
            GEMM.selectedUnit = saved
        }
    }
}
