import Foundation
#if arch(x86_64)
import AlgoKernelsAVX512
#endif

/// The vector units the kernels are built for, which of them this processor has, and the one GEMM
/// uses. The 256-bit kernels are AlgoKernels' own (`SIMD8<Float>`; on x86_64 compiled for AVX2 + FMA,
/// on other architectures for their own vector unit, e.g. NEON on arm64 as two 128-bit halves); the
/// 512-bit ones are AlgoKernelsAVX512's (`SIMD16<Float>`, compiled for AVX-512, x86_64 only) and run
/// only where the processor has AVX-512, so one binary runs on both kinds of x86 machine.
public enum VectorUnit: Int, Sendable, CaseIterable, Comparable {
    /// 256-bit vectors, 16×6 register tiles (12 accumulators of 16 registers).
    case bits256 = 256
    /// 512-bit AVX-512 vectors, 32×12 register tiles (24 accumulators of 32 registers).
    case bits512 = 512

    /// The vector width in bits.
    public var bits: Int { rawValue }

    /// What the unit is on this architecture, for benchmark output: "AVX-512 (512-bit, SIMD16<Float>)".
    public var name: String {
        switch self {
        case .bits512: return "AVX-512 (512-bit, SIMD16<Float>)"
        case .bits256:
            #if arch(x86_64)
            return "AVX2+FMA (256-bit, SIMD8<Float>)"
            #elseif arch(arm64)
            return "NEON (SIMD8<Float> as 2 × 128-bit)"
            #else
            return "SIMD8<Float> (the platform's vector unit)"
            #endif
        }
    }

    public static func < (a: VectorUnit, b: VectorUnit) -> Bool { a.rawValue < b.rawValue }

    /// The units this processor can run, narrowest first: always `bits256`, and `bits512` on x86_64
    /// when the processor (and operating system) supports every AVX-512 extension the 512-bit
    /// module is compiled for (`skylake-avx512`: F, CD, BW, DQ, VL).
    public static let available: [VectorUnit] = CPUFeatures.hasAVX512 ? [.bits256, .bits512] : [.bits256]

    /// The widest unit this processor has: the one `algo bench` measures the peak of, and the one
    /// GEMM uses by default (`GEMM.unit`). On AMD Zen 4, which executes a 512-bit FMA as two 256-bit
    /// halves (the same peak for both widths), the 512-bit kernels are still as fast or faster: in
    /// 14 alternating pairs of `algo bench gemm` runs, 0–15 points of the peak ahead on two threads
    /// and none behind by more than the noise (Sources/AlgoKernels/README.md, "Which GEMM runs").
    public static var widest: VectorUnit { available.last! }
}

extension GEMM {
    /// The vector unit GEMM's micro-kernels use. Both compute every entry of C by the same
    /// arithmetic (one FMA chain over k in order, per k-slice), so results are bit-identical
    /// whichever is used: a result does not depend on the machine's vector width. Default:
    /// `VectorUnit.widest`. Set between kernel calls, not during (as `Parallel.threads`);
    /// setting a unit the processor lacks is ignored (so nothing ever runs AVX-512 code without it).
    public static var unit: VectorUnit {
        get { selectedUnit }
        set { if VectorUnit.available.contains(newValue) { selectedUnit = newValue } }
    }
    nonisolated(unsafe) static var selectedUnit: VectorUnit = VectorUnit.widest
}

/// The processor's features, read once: `/proc/cpuinfo`'s flags on Linux (the kernel lists AVX-512
/// only when it saves the `zmm` state), `sysctlbyname("hw.optional.…")` on macOS; on other systems
/// and architectures nothing beyond the baseline.
enum CPUFeatures {
    /// The AVX-512 extensions `-target-cpu skylake-avx512` lets the compiler use.
    static let avx512Names = ["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"]

    /// Whether the processor (and OS) supports every extension in `avx512Names`.
    static let hasAVX512: Bool = {
        #if arch(x86_64)
        #if os(Linux)
        return avx512Names.allSatisfy(linuxFlags.contains)
        #elseif os(macOS)
        return avx512Names.allSatisfy { macFlag("hw.optional." + $0) }
        #else
        return false
        #endif
        #else
        return false
        #endif
    }()

    #if os(Linux)
    /// The words of the first `flags` line of /proc/cpuinfo (empty when unreadable).
    static let linuxFlags: Set<String> = Set((linuxField("flags") ?? "").split(separator: " ").map(String.init))

    /// The value of the first line `name : value` of /proc/cpuinfo (the first processor's), or nil.
    static func linuxField(_ name: String) -> String? {
        for line in cpuinfo.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            if line[..<colon].trimmingCharacters(in: .whitespaces) == name {
                return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
        }
        return nil
    }

    /// /proc/cpuinfo, read once (empty when unreadable: then nothing beyond the baseline is used).
    static let cpuinfo: String = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
    #endif

    #if os(macOS)
    /// A `hw.optional.*` sysctl as a flag (false when absent).
    static func macFlag(_ name: String) -> Bool {
        var value: Int32 = 0
        var size = MemoryLayout<Int32>.size
        return sysctlbyname(name, &value, &size, nil, 0) == 0 && value != 0
    }
    #endif
}
