#if arch(x86_64)
import AlgoKernelsAVX512
#endif

/// The vectors of CausalBlocks.swift in this module: 256-bit (AVX2 + FMA on x86_64, NEON pairs on arm64).
typealias CausalLanes = SIMD8<Float>

/// eˣ on every lane (`exp8`).
@inline(__always)
func expLanes(_ x: SIMD8<Float>) -> SIMD8<Float> { exp8(x) }

/// Σ of the lanes as a tree of halves (3 dependent additions, not 7).
@inline(__always)
func lanesSum(_ v: SIMD8<Float>) -> Float {
    let a = v.lowHalf + v.highHalf, b = a.lowHalf + a.highHalf
    return b[0] + b[1]
}

/// The largest lane, as a tree of halves.
@inline(__always)
func lanesMax(_ v: SIMD8<Float>) -> Float {
    let l = v.lowHalf, h = v.highHalf, a = l.replacing(with: h, where: l .< h)
    let b = a.lowHalf.replacing(with: a.highHalf, where: a.lowHalf .< a.highHalf)
    return max(b[0], b[1])
}

// Causally masked attention on the kept half (Alg. 4 lines 4–6 with Mask[t_z, t_x] = [[t_z ≤ t_x]]),
// forward and backward, f32, for every head of every sequence of a minibatch in one call.

/// The products and softmax of Algorithm 4, lines 4–6, when the mask is causal:
/// `S ← KᵀQ`, `S[t_z, t_x] ← −∞` for `t_z > t_x`, `Ṽ = V · softmax(S/c)` (c = √d_attn), with
/// `A = softmax(S/c)`, which is 0 below the diagonal; for H heads of B sequences laid side by side
/// (columns `c_s ..< c_s + ℓ_s` are sequence s; attention stays within a sequence). Each (sequence,
/// head) is a *block*; only what the mask keeps is computed: the entries `t_z ≤ t_x` of KᵀQ, the
/// softmax of each column over them, `V·A` summing only those rows, and the backward products
/// likewise. About half the dense path's work, none of its −∞ bookkeeping.
///
/// Kernels (CausalBlocks.swift, written once for 256- and 512-bit vectors): the kept scores of
/// column x as FMA chains over d with the lanes running over t_z (K transposed into rows, a chunk of
/// 4 vectors of t_z kept in L1 while every column uses it); the softmax of a column in three vector
/// passes with a vector eˣ; `V·A`, `dV = dṼ·Aᵀ`, `dQ = K·dS`, `dK = Q·dSᵀ` as register tiles of
/// 2 vectors of rows × 4 columns, each entry one FMA chain in order of t. With d_attn = 16 a
/// column of K is one 512-bit vector. Each entry is computed by the same code whatever the thread
/// count or the split into blocks, so results do not depend on either; they equal the dense masked
/// lines to rounding (other summation orders: `CausalAttentionTests` states the tolerance).
///
/// Layout: an operand of H heads is `Heads` — head h, column j (over all sequences), row i at
/// `base[i + j·ld + h·headStride]`: the interpreter's head-batched `[r, ℓ, H]` values (strides
/// `[1, r·H, r]`) and contiguous ones (`[1, r, r·ℓ]`) alike. The weights A, kept for the backward
/// pass, are `weightsCount(segments:)` floats per head (`CausalLayout`: column x of a block holds its
/// x + 1 kept entries, padded with zeros to a multiple of 16).
public enum CausalAttention {
    /// H matrices of r rows: row i, column j of head h at `base[i + j·ld + h·headStride]`.
    public struct Heads: @unchecked Sendable {
        public var base: UnsafeMutablePointer<Float>
        public var ld: Int
        public var headStride: Int
        public init(base: UnsafeMutablePointer<Float>, ld: Int, headStride: Int) {
            self.base = base; self.ld = ld; self.headStride = headStride
        }
        /// Block (sequence from column `column`, head h).
        @inline(__always)
        func at(column: Int, head: Int) -> UnsafeMutablePointer<Float> { base + column * ld + head * headStride }
    }

    /// The vector unit the blocks run on (default: the widest the processor has). Set between calls;
    /// a unit the processor lacks is ignored. Both compute the same entries by the same chains; the
    /// softmax's sums run over lanes of the unit's width, so results differ by rounding between units.
    public static var unit: VectorUnit {
        get { selectedUnit }
        set { if VectorUnit.available.contains(newValue) { selectedUnit = newValue } }
    }
    nonisolated(unsafe) static var selectedUnit: VectorUnit = VectorUnit.widest

    /// Multiply-adds of a whole call below which it stays on the calling thread (about 10 µs of work).
    public static let parallelThreshold = 1 << 18

    /// Floats of A per head: Σ over the sequences of `CausalLayout.offset(ℓ_s)` (≈ ℓ_s²/2 + 8ℓ_s).
    public static func weightsCount(segments: [Int]) -> Int {
        segments.reduce(0) { $0 + CausalLayout.offset($1) }
    }

    /// `A[z, x]` of block (sequence s, head h) in a `weights` buffer (0 for z > x), for tests.
    public static func weight(_ a: UnsafePointer<Float>, segments: [Int], sequence s: Int, head h: Int, z: Int, x: Int) -> Float {
        guard z <= x else { return 0 }
        let start = h * weightsCount(segments: segments) + weightsCount(segments: Array(segments[..<s]))
        return a[start + CausalLayout.offset(x) + z]
    }

    /// The blocks of a call: (first column, length, head, offset of its weights), sequence by
    /// sequence (every head of the first sequence, then of the second, …), so that a contiguous run
    /// of blocks (`forBlocks`' share of a thread) covers contiguous columns: the same columns as the
    /// thread's share of the products and element-wise passes around it (`Parallel.forEach`).
    static func blocks(_ segments: [Int], heads: Int) -> [(column: Int, n: Int, head: Int, weights: Int)] {
        let perHead = weightsCount(segments: segments)
        var out: [(column: Int, n: Int, head: Int, weights: Int)] = []
        out.reserveCapacity(segments.count * heads)
        var column = 0, offset = 0
        for n in segments {
            for h in 0..<heads { out.append((column, n, h, h * perHead + offset)) }
            column += n; offset += CausalLayout.offset(n)
        }
        return out
    }

    /// Runs `body(block, scratch)` for every block: in order on the calling thread when the call's
    /// work is below `parallelThreshold` (or one thread), else as `Parallel.threads` contiguous runs
    /// of blocks, one per thread, each with its own scratch. One scratch allocation per call.
    static func forBlocks(_ segments: [Int], heads: Int, d: Int, dv: Int,
                          _ body: ((column: Int, n: Int, head: Int, weights: Int), UnsafeMutablePointer<Float>) -> Void) {
        let list = blocks(segments, heads: heads)
        guard !list.isEmpty else { return }
        let longest = segments.max() ?? 0
        let perScratch = causalBlockScratch(n: longest, d: d, dv: dv)
        let work = segments.reduce(0) { $0 + $1 * ($1 + 1) / 2 } * heads * (d + dv)
        let pieces = work < parallelThreshold ? 1 : min(Parallel.threads, list.count)
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: max(1, perScratch * pieces))
        defer { scratch.deallocate() }
        if pieces <= 1 {
            for b in list { body(b, scratch) }
        } else {
            Parallel.forEach(pieces) { p in
                for i in (list.count * p / pieces)..<(list.count * (p + 1) / pieces) { body(list[i], scratch + p * perScratch) }
            }
        }
    }

    /// Forward: for every block, `A = softmax(KᵀQ / divisor)` on the kept half into `weights`
    /// (`weightsCount(segments:)` floats per head) and `Y = V·A` into `output`. K and Q have d rows,
    /// V and Y dv rows; `segments` are the sequences' lengths (their sum is the columns).
    public static func forward(segments: [Int], heads: Int, d: Int, dv: Int, keys: Heads, queries: Heads, values: Heads,
                               divisor: Float, weights a: UnsafeMutablePointer<Float>, output y: Heads) {
        let wide = unit == .bits512
        forBlocks(segments, heads: heads, d: d, dv: dv) { b, scratch in
            let k = UnsafePointer(keys.at(column: b.column, head: b.head)), q = UnsafePointer(queries.at(column: b.column, head: b.head))
            let v = UnsafePointer(values.at(column: b.column, head: b.head)), out = y.at(column: b.column, head: b.head)
            #if arch(x86_64)
            if wide {
                CausalAttention512.forward(n: b.n, d: d, dv: dv, k: k, ldk: keys.ld, q: q, ldq: queries.ld, v: v, ldv: values.ld,
                                           divisor: divisor, a: a + b.weights, y: out, ldy: y.ld, scratch: scratch)
                return
            }
            #endif
            _ = wide
            causalBlockForward(n: b.n, d: d, dv: dv, k: k, ldk: keys.ld, q: q, ldq: queries.ld, v: v, ldv: values.ld,
                               divisor: divisor, a: a + b.weights, y: out, ldy: y.ld, scratch: scratch)
        }
    }

    /// Backward for the cotangent G of Y: `dK`, `dQ` (d rows) and `dV` (dv rows) of every block, from
    /// the same operands and the `weights` the forward pass made.
    public static func backward(segments: [Int], heads: Int, d: Int, dv: Int, keys: Heads, queries: Heads, values: Heads,
                                divisor: Float, weights a: UnsafePointer<Float>, cotangent g: Heads,
                                dKeys: Heads, dQueries: Heads, dValues: Heads) {
        let wide = unit == .bits512
        forBlocks(segments, heads: heads, d: d, dv: dv) { b, scratch in
            let c = b.column, h = b.head
            let k = UnsafePointer(keys.at(column: c, head: h)), q = UnsafePointer(queries.at(column: c, head: h))
            let v = UnsafePointer(values.at(column: c, head: h)), gb = UnsafePointer(g.at(column: c, head: h))
            let dk = dKeys.at(column: c, head: h), dq = dQueries.at(column: c, head: h), dvb = dValues.at(column: c, head: h)
            #if arch(x86_64)
            if wide {
                CausalAttention512.backward(n: b.n, d: d, dv: dv, k: k, ldk: keys.ld, q: q, ldq: queries.ld, v: v, ldv: values.ld,
                                            divisor: divisor, a: a + b.weights, g: gb, ldg: g.ld, dk: dk, lddk: dKeys.ld,
                                            dq: dq, lddq: dQueries.ld, dvOut: dvb, lddv: dValues.ld, scratch: scratch)
                return
            }
            #endif
            _ = wide
            causalBlockBackward(n: b.n, d: d, dv: dv, k: k, ldk: keys.ld, q: q, ldq: queries.ld, v: v, ldv: values.ld,
                                divisor: divisor, a: a + b.weights, g: gb, ldg: g.ld, dk: dk, lddk: dKeys.ld,
                                dq: dq, lddq: dQueries.ld, dvOut: dvb, lddv: dValues.ld, scratch: scratch)
        }
    }
}
