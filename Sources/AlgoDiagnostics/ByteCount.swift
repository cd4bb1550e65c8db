import Foundation

/// Sizes in messages: `52 GB`, `3.1 MB`, `640 bytes` (decimal units, as `df -H`).
public enum ByteCount {
    public static func describe(_ bytes: Int) -> String {
        let units: [(Double, String)] = [(1e18, "EB"), (1e15, "PB"), (1e12, "TB"), (1e9, "GB"), (1e6, "MB"), (1e3, "kB")]
        for (scale, unit) in units where Double(bytes) >= scale {
            let v = Double(bytes) / scale
            return v >= 10 ? String(format: "%.0f %@", v, unit) : String(format: "%.1f %@", v, unit)
        }
        return "\(bytes) bytes"
    }
}
