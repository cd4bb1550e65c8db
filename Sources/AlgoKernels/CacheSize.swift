import Foundation

/// The processor's level-2 cache per core, read once: it decides `GEMM.Blocking.standard` (how many
/// rows of op(A) stay in L2 as one block, and how two threads share packing).
public enum CacheSize {
    /// Bytes of L2 cache of the first core, or nil where the system does not say: on Linux the
    /// `level 2` unified or data cache in `/sys/devices/system/cpu/cpu0/cache/index*/`, on macOS
    /// `hw.perflevel0.l2cachesize` (the performance cores) or `hw.l2cachesize`.
    public static let l2Bytes: Int? = {
        #if os(Linux)
        for index in 0..<8 {
            let dir = "/sys/devices/system/cpu/cpu0/cache/index\(index)/"
            guard let level = read(dir + "level"), level == "2",
                  let type = read(dir + "type"), type == "Unified" || type == "Data",
                  let size = read(dir + "size") else { continue }
            return bytes(size)
        }
        return nil
        #elseif os(macOS)
        for name in ["hw.perflevel0.l2cachesize", "hw.l2cachesize"] {
            var value: Int64 = 0
            var size = MemoryLayout<Int64>.size
            if sysctlbyname(name, &value, &size, nil, 0) == 0, value > 0 { return Int(value) }
        }
        return nil
        #else
        return nil
        #endif
    }()

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
