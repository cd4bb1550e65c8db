import AlgoKernels
import Foundation
import Testing
@testable import AlgoCLI

/// `--threads N` and `ALGO_THREADS` (one parser, `KernelOptions.threadCount`), `ALGO_VECTOR_BITS`, and
/// results that do not depend on them.
@Suite("--threads, ALGO_THREADS and ALGO_VECTOR_BITS")
struct ThreadsOptionTests {
    static let algorithms = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Algorithms").path

    func run(_ args: [String], environment: [String: String] = [:]) -> (ExitCode, Output) {
        var out = Output()
        let code = CLI.run(args, &out, environment: environment)
        return (code, out)
    }

    @Test("the thread count parser takes whole numbers 1…1024 and nothing else")
    func parser() {
        #expect(KernelOptions.threadCount("1") == 1)
        #expect(KernelOptions.threadCount(" 8 ") == 8)
        #expect(KernelOptions.threadCount("1024") == 1024)
        for bad in ["", "0", "-1", "+2", "1025", "4.5", "0x10", "two", "2,3", "٣", "99999999999999999999999"] {
            #expect(KernelOptions.threadCount(bad) == nil, "`\(bad)`")
        }
    }

    @Test("a bad --threads or ALGO_THREADS is exit 2 with a message naming it, on every command that computes")
    func badValuesAreUsageErrors() {
        let file = Self.algorithms + "/DTransformer.algo"
        for command in [["run", file], ["gradcheck", file], ["bench", "peak"]] {
            for bad in ["0", "x", "4.5", "-3"] {
                let (code, out) = run(command + ["--threads", bad])
                #expect(code == .usage, "\(command[0]) --threads \(bad)")
                #expect(out.stderr.contains("`--threads` needs"), "\(command[0]): \(out.stderr)")
            }
            let (code, out) = run(command, environment: ["ALGO_THREADS": "many"])
            #expect(code == .usage, "\(command[0]) with ALGO_THREADS=many")
            #expect(out.stderr.contains("ALGO_THREADS must be a whole number"), "\(out.stderr)")
            let (vcode, vout) = run(command, environment: ["ALGO_VECTOR_BITS": "128"])
            #expect(vcode == .usage, "\(command[0]) with ALGO_VECTOR_BITS=128")
            #expect(vout.stderr.contains("ALGO_VECTOR_BITS must be"), "\(vout.stderr)")
        }
        // run and gradcheck take one count, bench a list.
        #expect(run(["run", file, "--threads", "2,3"]).0 == .usage)
    }

    @Test("run writes the same bytes of P with --threads 1, 3 and ALGO_THREADS=8, and the setting is restored after")
    func sameResultAnyThreadCount() throws {
        let saved = Parallel.threads
        let file = Self.algorithms + "/DTransformer.algo"
        // d_mlp·d_e·ℓ = 512·64·64 = 2^21 multiply-adds: the MLP's products are split between threads.
        let args = ["run", file, "--set", "ℓ_max=64,d_e=64,d_mlp=512,H=2,L=2,N_V=11",
                    "--input", "x=" + (0..<64).map { String($0 % 11 + 1) }.joined(separator: ",")]
        func output(_ extra: [String], environment: [String: String] = [:]) throws -> Data {
            let path = NSTemporaryDirectory() + "algo-threads-\(UUID().uuidString).safetensors"
            defer { try? FileManager.default.removeItem(atPath: path) }
            let (code, out) = run(args + extra + ["--output", path], environment: environment)
            #expect(code == .ok, "\(out.stderr)")
            return try Data(contentsOf: URL(fileURLWithPath: path))
        }
        let one = try output(["--threads", "1"])
        #expect(one.count > 11 * 64 * 4)
        #expect(try output(["--threads", "3"]) == one)
        #expect(try output([], environment: ["ALGO_THREADS": "8"]) == one)
        #expect(Parallel.threads == saved)
    }

    @Test("the default thread count respects a CPU quota: cgroup v2 cpu.max and v1 cfs files")
    func coreLimits() {
        #expect(Parallel.availableCores >= 1)
        #expect(Parallel.quota(cpuMax: "max 100000\n") == nil)
        #expect(Parallel.quota(cpuMax: "150000 100000\n") == 1.5)
        #expect(Parallel.quota(cpuMax: "garbage") == nil)
        #expect(Parallel.quota(cfsQuota: "-1\n", cfsPeriod: "100000\n") == nil)
        #expect(Parallel.quota(cfsQuota: "200000\n", cfsPeriod: "100000\n") == 2)
        #expect(Parallel.coreLimit(cpus: 16, quota: 1.5) == 2)
        #expect(Parallel.coreLimit(cpus: 16, quota: 0.2) == 1)
        #expect(Parallel.coreLimit(cpus: 4, quota: 8) == 4)
        #expect(Parallel.coreLimit(cpus: 4, quota: nil) == 4)
        #if os(Linux)
        // The affinity mask as /proc/self/status lists it bounds the default.
        if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
           let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Cpus_allowed_list:") }) {
            let count = line.dropFirst("Cpus_allowed_list:".count).split(separator: ",").map { part -> Int in
                let ends = part.trimmingCharacters(in: .whitespaces).split(separator: "-").compactMap { Int($0) }
                return ends.count == 2 ? ends[1] - ends[0] + 1 : 1
            }.reduce(0, +)
            #expect(Parallel.availableCores <= count)
        }
        #endif
    }
}

/// `algo bench peak` measures every vector unit the processor has and names the widest, which the
/// other benches quote their %peak against.
@Suite("algo bench peak names the widest unit")
struct BenchPeakTests {
    @Test func onePeakPerUnitWidestNamed() throws {
        var out = Output()
        let code = CLI.run(["bench", "peak", "--threads", "1", "--quick", "--json"], &out, environment: [:])
        #expect(code == .ok, "\(out.stderr)")
        let rows = try out.stdout.split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        #expect(rows.map { $0["bits"] as? Int } == VectorUnit.available.reversed().map(\.bits))
        #expect(rows.filter { $0["widest"] as? Bool == true }.map { $0["bits"] as? Int } == [VectorUnit.widest.bits])
        #expect(rows.filter { $0["gemm"] as? Bool == true }.map { $0["bits"] as? Int } == [GEMM.unit.bits])
        #expect(rows.allSatisfy { ($0["peak_gflops"] as? Double ?? 0) > 0 && ($0["unit"] as? String ?? "").contains("bit") })
    }
}
