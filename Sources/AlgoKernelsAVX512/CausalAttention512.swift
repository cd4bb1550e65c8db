// The 512-bit causal-attention blocks, for `CausalAttention` in AlgoKernels (which calls them only on
// a processor with AVX-512): CausalBlocks.swift specialised for `SIMD16<Float>`.
#if arch(x86_64)

/// `causalBlockForward` / `causalBlockBackward` (CausalBlocks.swift) on `SIMD16<Float>`.
public enum CausalAttention512 {
    /// One block forward; the contract of `CausalAttention.forward` for one (sequence, head).
    @inline(never)
    public static func forward(n: Int, d: Int, dv: Int, k: UnsafePointer<Float>, ldk: Int, q: UnsafePointer<Float>, ldq: Int,
                               v: UnsafePointer<Float>, ldv: Int, divisor: Float,
                               a: UnsafeMutablePointer<Float>, y: UnsafeMutablePointer<Float>, ldy: Int,
                               scratch: UnsafeMutablePointer<Float>) {
        causalBlockForward(SIMD16<Float>.self, n: n, d: d, dv: dv, k: k, ldk: ldk, q: q, ldq: ldq, v: v, ldv: ldv,
                           divisor: divisor, a: a, y: y, ldy: ldy, scratch: scratch)
    }

    /// One block backward; the contract of `CausalAttention.backward` for one (sequence, head).
    @inline(never)
    public static func backward(n: Int, d: Int, dv: Int, k: UnsafePointer<Float>, ldk: Int, q: UnsafePointer<Float>, ldq: Int,
                                v: UnsafePointer<Float>, ldv: Int, divisor: Float, a: UnsafePointer<Float>,
                                g: UnsafePointer<Float>, ldg: Int,
                                dk: UnsafeMutablePointer<Float>, lddk: Int, dq: UnsafeMutablePointer<Float>, lddq: Int,
                                dvOut: UnsafeMutablePointer<Float>, lddv: Int, scratch: UnsafeMutablePointer<Float>) {
        causalBlockBackward(SIMD16<Float>.self, n: n, d: d, dv: dv, k: k, ldk: ldk, q: q, ldq: ldq, v: v, ldv: ldv,
                            divisor: divisor, a: a, g: g, ldg: ldg, dk: dk, lddk: lddk, dq: dq, lddq: lddq,
                            dvOut: dvOut, lddv: lddv, scratch: scratch)
    }

    /// `causalBlockScratch` (the same for every width).
    public static func scratch(n: Int, d: Int, dv: Int) -> Int { causalBlockScratch(n: n, d: d, dv: dv) }
}

#endif
