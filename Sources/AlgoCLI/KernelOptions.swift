import AlgoKernels
import Foundation

/// The kernel settings every command that computes shares (`run`, `gradcheck`, `bench`): how many
/// threads (`--threads N`, else `ALGO_THREADS`, else the cores the process may use) and which vector
/// unit GEMM uses (`ALGO_VECTOR_BITS=256|512`, else the widest the processor has). Results do not
/// depend on either (bit-identical for any thread count and either unit); speed does.
enum KernelOptions {
    /// `--threads N` of `run` and `gradcheck` (`bench` takes a list, `BenchCommand.list`).
    static let threadsFlag = Arguments.Spec(
        "threads", value: true,
        help: "kernel threads, 1…\(threadRange.upperBound) (default: ALGO_THREADS, else the cores this process may use, here \(Parallel.availableCores))")

    /// The thread counts accepted anywhere.
    static let threadRange = 1...1024

    /// A thread count: a decimal whole number in `threadRange` (surrounding spaces allowed), else nil.
    static func threadCount(_ text: String) -> Int? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty, trimmed.allSatisfy(\.isASCII), trimmed.allSatisfy(\.isNumber),
              let n = Int(trimmed), threadRange.contains(n) else { return nil }
        return n
    }

    /// The default thread count: `ALGO_THREADS` when set, else `Parallel.availableCores`; nil (with
    /// a usage message naming `command`) when `ALGO_THREADS` is not a valid count.
    static func defaultThreads(_ environment: [String: String], command: String, _ output: inout Output) -> Int? {
        guard let text = environment["ALGO_THREADS"] else { return Parallel.availableCores }
        guard let n = threadCount(text) else {
            output.err("algo \(command): error: ALGO_THREADS must be a whole number of threads in 1…\(threadRange.upperBound) (got `\(text)`)")
            return nil
        }
        return n
    }

    /// Applies the settings for `command`: `Parallel.threads` (from `--threads` when the command has
    /// the single-count flag, else the default) and `GEMM.unit`. False after a usage message (exit 2).
    static func apply(_ args: Arguments, command: any Command, environment: [String: String], _ output: inout Output) -> Bool {
        guard command.flags.contains(where: { $0.name == threadsFlag.name }) else { return true }
        if let text = environment["ALGO_VECTOR_BITS"] {
            guard let unit = Int(text).flatMap(VectorUnit.init(rawValue:)), VectorUnit.available.contains(unit) else {
                let have = VectorUnit.available.map { String($0.bits) }.joined(separator: " or ")
                output.err("algo \(command.name): error: ALGO_VECTOR_BITS must be \(have) on this processor (got `\(text)`)")
                return false
            }
            GEMM.unit = unit
        }
        guard let threads = defaultThreads(environment, command: command.name, &output) else { return false }
        Parallel.threads = threads
        if command is BenchCommand { return true }  // its `--threads` is a list of counts to measure
        if let text = args.value(threadsFlag.name) {
            guard let n = threadCount(text) else {
                output.err("algo \(command.name): error: `--threads` needs a whole number of threads in 1…\(threadRange.upperBound) (got `\(text)`)")
                return false
            }
            Parallel.threads = n
        }
        return true
    }
}
