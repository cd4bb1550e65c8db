import Foundation
import Synchronization

/// How many cores other processes keep busy, sampled from the whole machine's CPU time
/// (`/proc/stat`) minus this process's own (`CLOCK_PROCESS_CPUTIME_ID`) at most every `interval`
/// seconds. `WorkerPool` gives a job only as many threads as there are cores left: a helper
/// whose core another process holds is descheduled for a scheduler slice (milliseconds) while the
/// caller waits for its item, so on a busy machine two threads are slower than one (measured on
/// the tiny model's training step, B = 1 and B = 8, under load 6–7 from other builds: 3.4 and
/// 17–23 ms on 2 threads against 1.6 and 6.9–15 on 1). libgomp's `OMP_DYNAMIC` makes the same
/// choice from the load average; the load average follows a minute, this follows `interval`.
/// Linux only (elsewhere `busyCores` is nil and only the wait check of `WorkerPool` applies).
final class Contention: @unchecked Sendable {
    static let shared = Contention()

    /// Seconds between samples: long enough that reading `/proc/stat` (tens of µs) costs nothing and
    /// that its clock ticks (10 ms) count the others' cores within about ±0.1 (so an idle machine is
    /// not taken for a busy one at `busyThreshold`), short enough that a build starting on the
    /// other core is seen within a few training steps.
    static let interval = 0.25
    /// Cores of other processes' work at which a job gets one thread fewer (`freeCores`).
    static let busyThreshold = 0.5

    private let lock = NSLock()
    private var lastTime = 0.0, lastMachine = 0.0, lastOwn = 0.0
    /// Cores other processes used over the last interval (0 until two samples exist).
    private var others = 0.0
    /// `Stopwatch.now()` of the next sample, as a bit pattern (read without the lock).
    private let nextSample = Atomic<UInt64>(0)
    /// Whether samples are taken (false where `/proc/stat` cannot be read).
    private var works = true

    /// The machine's online CPUs (what `/proc/stat` counts).
    static let cpus = max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))

    /// The number of the machine's cores not kept busy by other processes, at least 1: its CPUs
    /// minus the other processes' busy cores rounded up from `busyThreshold` (0.4 → 0, 0.6 → 1).
    func freeCores() -> Int {
        let cpus = Self.cpus
        let now = Stopwatch.now()
        if now >= Double(bitPattern: nextSample.load(ordering: .relaxed)) { sample(now) }
        lock.lock()
        let busy = others
        lock.unlock()
        return max(1, cpus - Int((busy + 1 - Self.busyThreshold).rounded(.down)))
    }

    private func sample(_ now: Double) {
        lock.lock()
        defer { lock.unlock() }
        guard works, now >= Double(bitPattern: nextSample.load(ordering: .relaxed)) else { return }
        nextSample.store((now + Self.interval).bitPattern, ordering: .relaxed)
        guard let machine = Self.machineBusySeconds() else { works = false; return }
        let own = Self.processSeconds()
        if lastTime > 0, now > lastTime {
            others = max(0, ((machine - lastMachine) - (own - lastOwn)) / (now - lastTime))
        }
        lastTime = now; lastMachine = machine; lastOwn = own
    }

    /// CPU seconds this process has used (all its threads).
    static func processSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    /// CPU seconds all CPUs have spent busy since boot (user, nice, system, irq, softirq, steal of
    /// `/proc/stat`'s `cpu` line, in clock ticks), or nil where it cannot be read.
    static func machineBusySeconds() -> Double? {
        #if os(Linux)
        let fd = open("/proc/stat", O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 256)
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard n > 4, buffer[0] == UInt8(ascii: "c"), buffer[3] == UInt8(ascii: " ") else { return nil }
        var fields: [Double] = []
        var value = 0.0, inNumber = false
        for byte in buffer[4..<n] {
            if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
                value = value * 10 + Double(byte - UInt8(ascii: "0")); inNumber = true
            } else {
                if inNumber { fields.append(value); value = 0; inNumber = false }
                if byte == UInt8(ascii: "\n") { break }
            }
        }
        guard fields.count >= 8 else { return nil }
        // user nice system idle iowait irq softirq steal: busy = all but idle and iowait.
        let busy = fields[0] + fields[1] + fields[2] + fields[5] + fields[6] + fields[7]
        return busy / Double(max(1, sysconf(Int32(_SC_CLK_TCK))))
        #else
        return nil
        #endif
    }
}
