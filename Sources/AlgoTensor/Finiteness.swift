import AlgoKernels
import Synchronization

/// Whether a tensor holds NaN or ±∞: one pass over the elements, no copies (the interpreter checks
/// every value a line assigns).
public struct Finiteness: Sendable, Equatable {
    /// Some element is NaN.
    public var hasNaN: Bool
    /// Some element is +∞ or −∞.
    public var hasInfinity: Bool
}

/// The non-finite kinds the pieces of one parallel scan found (bit 0: NaN, bit 1: ±∞).
final class FoundKinds: Sendable {
    let bits = Atomic<Int>(0)
}

extension Tensor {
    /// Which non-finite values occur among the elements (any layout).
    public var finiteness: Finiteness {
        // The elements of a dense block in any order (a permuted or head-stacked view) are scanned
        // where they lie; other layouts are copied first.
        let c = isDenseBlock ? Tensor(storage: storage, shape: [count], strides: [1], offset: offset) : contiguous()
        let n = c.count
        switch dtype {
        case .f32:
            return c.storage.raw.withMemoryRebound(to: UInt32.self, capacity: c.offset + n) { p in
                // Large tensors are scanned in pieces on the kernel threads; the kinds found are OR-ed.
                let found = FoundKinds()
                Parallel.forRanges(n) { r in
                    let f = Tensor.scan32(p + c.offset + r.lowerBound, r.count)
                    if f.hasNaN || f.hasInfinity {
                        found.bits.bitwiseOr((f.hasNaN ? 1 : 0) | (f.hasInfinity ? 2 : 0), ordering: .relaxed)
                    }
                }
                let bits = found.bits.load(ordering: .relaxed)
                return Finiteness(hasNaN: bits & 1 != 0, hasInfinity: bits & 2 != 0)
            }
        case .f64:
            return c.storage.raw.withMemoryRebound(to: UInt64.self, capacity: c.offset + n) { p in
                Tensor.scan64(p + c.offset, n)
            }
        }
    }

    /// Whether the elements fill `count` consecutive storage slots from `offset`, in some order:
    /// the strides of the dimensions longer than 1, sorted, are those of a dense tensor.
    var isDenseBlock: Bool {
        var dims = zip(shape, strides).filter { $0.0 != 1 }
        if dims.contains(where: { $0.0 == 0 }) { return true }
        dims.sort { $0.1 < $1.1 }
        var s = 1
        for (n, stride) in dims {
            if stride != s { return false }
            s *= n
        }
        return true
    }

    /// f32 bit test: exponent all ones means ∞ (mantissa 0) or NaN (mantissa ≠ 0). The first pass
    /// ORs the masked bits' "all ones" flag over blocks of 8 (branch-free, vector registers, concrete
    /// types so nothing goes through generics); the rare non-finite case is classified afterwards.
    static func scan32(_ p: UnsafeMutablePointer<UInt32>, _ n: Int) -> Finiteness {
        let exponent: UInt32 = 0x7F80_0000
        var any = SIMD8<UInt32>.zero
        let e = SIMD8<UInt32>(repeating: exponent), one = SIMD8<UInt32>(repeating: 1)
        var i = 0
        while i + 8 <= n {
            let v = UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<UInt32>.self)
            any |= SIMD8<UInt32>.zero.replacing(with: one, where: (v & e) .== e)
            i += 8
        }
        var found = any != .zero
        while i < n { if (p[i] & exponent) == exponent { found = true }; i += 1 }
        if !found { return Finiteness(hasNaN: false, hasInfinity: false) }
        var nan = false, inf = false
        for k in 0..<n where (p[k] & exponent) == exponent {
            if p[k] & 0x007F_FFFF != 0 { nan = true } else { inf = true }
        }
        return Finiteness(hasNaN: nan, hasInfinity: inf)
    }

    /// f64 bit test (as `scan32`).
    static func scan64(_ p: UnsafeMutablePointer<UInt64>, _ n: Int) -> Finiteness {
        let exponent: UInt64 = 0x7FF0_0000_0000_0000
        var any: UInt64 = 0
        for i in 0..<n { any |= (p[i] & exponent) == exponent ? 1 : 0 }
        if any == 0 { return Finiteness(hasNaN: false, hasInfinity: false) }
        var nan = false, inf = false
        for k in 0..<n where (p[k] & exponent) == exponent {
            if p[k] & 0x000F_FFFF_FFFF_FFFF != 0 { nan = true } else { inf = true }
        }
        return Finiteness(hasNaN: nan, hasInfinity: inf)
    }
}
