// The 512-bit causal-attention blocks, for `CausalAttention` in AlgoKernels (which calls them only on
// a processor with AVX-512): CausalBlocks.swift specialised for `SIMD16<Float>`.
#if arch(x86_64)

/// The vectors of CausalBlocks.swift in this module: 512-bit.
typealias CausalLanes = SIMD16<Float>

/// eˣ on every lane, as two 256-bit halves (`exp8`).
@inline(__always)
func expLanes(_ x: SIMD16<Float>) -> SIMD16<Float> { SIMD16(lowHalf: exp8(x.lowHalf), highHalf: exp8(x.highHalf)) }

/// Σ of the lanes as a tree of halves (4 dependent additions, not 15).
@inline(__always)
func lanesSum(_ v: SIMD16<Float>) -> Float {
    let a = v.lowHalf + v.highHalf, b = a.lowHalf + a.highHalf, c = b.lowHalf + b.highHalf
    return c[0] + c[1]
}

/// The largest lane, as a tree of halves.
@inline(__always)
func lanesMax(_ v: SIMD16<Float>) -> Float {
    let l = v.lowHalf, h = v.highHalf, a = l.replacing(with: h, where: l .< h)
    let b = a.lowHalf.replacing(with: a.highHalf, where: a.lowHalf .< a.highHalf)
    let c = b.lowHalf.replacing(with: b.highHalf, where: b.lowHalf .< b.highHalf)
    return max(c[0], c[1])
}

/// `causalBlockForward` / `causalBlockBackward` (CausalBlocks.swift) on `SIMD16<Float>`.
public enum CausalAttention512 {
    /// One block forward; the contract of `CausalAttention.forward` for one (sequence, head).
    @inline(never)
    public static func forward(n: Int, d: Int, dv: Int, k: UnsafePointer<Float>, ldk: Int, q: UnsafePointer<Float>, ldq: Int,
                               v: UnsafePointer<Float>, ldv: Int, divisor: Float,
                               a: UnsafeMutablePointer<Float>, y: UnsafeMutablePointer<Float>, ldy: Int,
                               scratch: UnsafeMutablePointer<Float>) {
        causalBlockForward(n: n, d: d, dv: dv, k: k, ldk: ldk, q: q, ldq: ldq, v: v, ldv: ldv,
                           divisor: divisor, a: a, y: y, ldy: ldy, scratch: scratch)
    }

    /// One block backward; the contract of `CausalAttention.backward` for one (sequence, head).
    @inline(never)
    public static func backward(n: Int, d: Int, dv: Int, k: UnsafePointer<Float>, ldk: Int, q: UnsafePointer<Float>, ldq: Int,
                                v: UnsafePointer<Float>, ldv: Int, divisor: Float, a: UnsafePointer<Float>,
                                g: UnsafePointer<Float>, ldg: Int,
                                dk: UnsafeMutablePointer<Float>, lddk: Int, dq: UnsafeMutablePointer<Float>, lddq: Int,
                                dvOut: UnsafeMutablePointer<Float>, lddv: Int, scratch: UnsafeMutablePointer<Float>) {
        causalBlockBackward(n: n, d: d, dv: dv, k: k, ldk: ldk, q: q, ldq: ldq, v: v, ldv: ldv,
                            divisor: divisor, a: a, g: g, ldg: ldg, dk: dk, lddk: lddk, dq: dq, lddq: lddq,
                            dvOut: dvOut, lddv: lddv, scratch: scratch)
    }

    /// `causalBlockScratch` (the same for every width).
    public static func scratch(n: Int, d: Int, dv: Int) -> Int { causalBlockScratch(n: n, d: d, dv: dv) }
}

#endif
