import Foundation

/// The processor's level-2 cache per core, read once: it decides `GEMM.Blocking.standard` (how many
/// rows of op(A) stay in L2 as one block, and how two threads share packing).
public enum CacheSize {
    /// Bytes of L2 cache per core of the first core's cache, or nil where the system does not say.
    /// An L2 shared by a cluster of cores (Apple's performance clusters: 12–16 MB for 4–6 cores;
    /// Intel's efficiency-core modules) counts as its share per core, what one thread has when
    /// every core runs. On Linux the `level 2` unified or data cache in
    /// `/sys/devices/system/cpu/cpu0/cache/index*/` divided by the CPUs of its `shared_cpu_list`; on
    /// macOS `hw.perflevel0.l2cachesize` (the performance cores) divided by
    /// `hw.perflevel0.cpusperl2`, else `hw.l2cachesize` (one core's, on Intel Macs).
    public static let l2Bytes: Int? = {
        #if os(Linux)
        for index in 0..<8 {
            let dir = "/sys/devices/system/cpu/cpu0/cache/index\(index)/"
            guard let level = read(dir + "level"), level == "2",
                  let type = read(dir + "type"), type == "Unified" || type == "Data",
                  let size = read(dir + "size").flatMap(bytes) else { continue }
            return size / (read(dir + "shared_cpu_list").flatMap(cpuCount) ?? 1)
        }
        return nil
        #elseif os(macOS)
        func number(_ name: String) -> Int? {
            var value: Int64 = 0
            var size = MemoryLayout<Int64>.size
            return sysctlbyname(name, &value, &size, nil, 0) == 0 && value > 0 ? Int(value) : nil
        }
        if let cluster = number("hw.perflevel0.l2cachesize") { return cluster / (number("hw.perflevel0.cpusperl2") ?? 1) }
        return number("hw.l2cachesize")
        #else
        return nil
        #endif
    }()

    /// The CPUs of a list as sysfs writes it (`"0"`, `"0-3"`, `"0-1,8-9"`, `"2,4"`); nil when not of that form.
    public static func cpuCount(_ text: String) -> Int? {
        var count = 0
        for part in text.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ",", omittingEmptySubsequences: false) {
            let ends = part.split(separator: "-", omittingEmptySubsequences: false)
            guard ends.count <= 2, let first = Int(ends[0]), let last = Int(ends[ends.count - 1]), first >= 0, last >= first else { return nil }
            count += last - first + 1
        }
        return count > 0 ? count : nil
    }

    /// A size as sysfs writes it: `"1024K"`, `"2M"`, `"512"` (bytes); nil when not of that form.
    public static func bytes(_ text: String) -> Int? {
        var digits = Substring(text.trimmingCharacters(in: .whitespacesAndNewlines))
        var scale = 1
        switch digits.last {
        case "K": scale = 1 << 10; digits = digits.dropLast()
        case "M": scale = 1 << 20; digits = digits.dropLast()
        case "G": scale = 1 << 30; digits = digits.dropLast()
        default: break
        }
        guard let value = Int(digits), value > 0, value <= Int.max / scale else { return nil }
        return value * scale
    }

    /// A small text file's contents without surrounding whitespace, or nil.
    static func read(_ path: String) -> String? {
        (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
