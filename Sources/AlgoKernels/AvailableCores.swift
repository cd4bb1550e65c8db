import Foundation

extension Parallel {
    /// The number of cores this process may use, the default of `Parallel.threads`: the CPUs in
    /// its affinity mask (`sched_getaffinity`; all online CPUs where that cannot be read), capped by
    /// its cgroup's CPU quota rounded up (cgroup v2 `cpu.max`, v1 `cpu.cfs_quota_us` /
    /// `cpu.cfs_period_us`, of the process's own cgroup, else of the root). At least 1.
    public static let availableCores: Int = {
        let online = max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        #if os(Linux)
        return coreLimit(cpus: affinityCount() ?? online, quota: cgroupQuota())
        #else
        return online
        #endif
    }()

    /// `cpus` capped by a CPU quota (cores, possibly fractional; nil: none), rounded up, at least 1.
    public static func coreLimit(cpus: Int, quota: Double?) -> Int {
        guard let quota, quota > 0 else { return max(1, cpus) }
        return max(1, min(cpus, Int(quota.rounded(.up))))
    }

    /// The quota in a cgroup v2 `cpu.max` file (`"max 100000"`: none; `"150000 100000"`: 1.5
    /// cores), or nil when there is none or the text is not of that form.
    public static func quota(cpuMax text: String) -> Double? {
        let words = text.split(whereSeparator: \.isWhitespace)
        guard words.count == 2, let quota = Double(words[0]), let period = Double(words[1]), period > 0 else { return nil }
        return quota / period
    }

    /// The quota of cgroup v1 files `cpu.cfs_quota_us` (−1: none) and `cpu.cfs_period_us`.
    public static func quota(cfsQuota: String, cfsPeriod: String) -> Double? {
        guard let quota = Double(cfsQuota.trimmingCharacters(in: .whitespacesAndNewlines)),
              let period = Double(cfsPeriod.trimmingCharacters(in: .whitespacesAndNewlines)),
              quota > 0, period > 0 else { return nil }
        return quota / period
    }

    #if os(Linux)
    /// The CPUs in this process's affinity mask (glibc's `sched_getaffinity`, looked up as
    /// `Affinity`'s functions are), or nil.
    static func affinityCount() -> Int? {
        typealias GetAffinity = @convention(c) (Int32, Int, UnsafeMutableRawPointer) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "sched_getaffinity") else { return nil }
        let get = unsafeBitCast(symbol, to: GetAffinity.self)
        var mask = [UInt64](repeating: 0, count: 16)  // 1024 CPUs: glibc's cpu_set_t
        let ok = mask.withUnsafeMutableBytes { get(0, $0.count, $0.baseAddress!) } == 0
        let count = mask.reduce(0) { $0 + $1.nonzeroBitCount }
        return ok && count > 0 ? count : nil
    }

    /// The CPU quota of this process's cgroup (v2, then v1), in cores, or nil when unlimited.
    static func cgroupQuota() -> Double? {
        func read(_ path: String) -> String? { try? String(contentsOfFile: path, encoding: .utf8) }
        let lines = (read("/proc/self/cgroup") ?? "").split(separator: "\n")
        // v2: "0::/path"; v1: "N:cpu,cpuacct:/path".
        let v2 = lines.first { $0.hasPrefix("0::") }.map { String($0.dropFirst(3)) }
        let v1 = lines.compactMap { line -> String? in
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3, parts[1].split(separator: ",").contains("cpu") else { return nil }
            return String(parts[2])
        }.first
        for dir in [v2.map { "/sys/fs/cgroup" + $0 }, "/sys/fs/cgroup"].compactMap({ $0 }) {
            if let text = read(dir + "/cpu.max") { return quota(cpuMax: text) }
        }
        for dir in [v1.map { "/sys/fs/cgroup/cpu" + $0 }, "/sys/fs/cgroup/cpu"].compactMap({ $0 }) {
            if let q = read(dir + "/cpu.cfs_quota_us"), let p = read(dir + "/cpu.cfs_period_us") {
                return quota(cfsQuota: q, cfsPeriod: p)
            }
        }
        return nil
    }
    #endif
}
