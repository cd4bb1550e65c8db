import AlgoKernels
import Foundation

/// `algo bench gemm`'s causal-attention lines: Algorithm 4 lines 4–6 with the causal mask on H
/// heads of d×ℓ queries, keys and values, as the runtime runs them (`CausalAttention.forward`: the
/// kept half, every head in one call), against the dense path (per head the whole KᵀQ by GEMM, −∞
/// below the diagonal, S/√d, `FusedSoftmax`, V·A by GEMM). Both are first checked
/// to agree, then timed in alternating rounds on each thread count.
extension Bench {
    struct CausalShape { let label: String; let n: Int, d: Int, heads: Int }

    /// The small model's attention (ℓ = 256, d_attn = 64, H = 6) and GPT-2's (1024, 64, 12).
    var causalShapes: [CausalShape] {
        [CausalShape(label: "small ℓ=256 H=6", n: 256, d: 64, heads: 6)]
            + (quick ? [] : [CausalShape(label: "gpt2 ℓ=1024 H=12", n: 1024, d: 64, heads: 12)])
    }

    /// Buffers of one shape: K, Q, V (d×ℓ per head, head h at h·d·ℓ, uniform in [-1, 1)), the
    /// weights (ℓ×ℓ per head) and the output (d×ℓ per head) of each path.
    final class CausalOperands {
        let shape: CausalShape
        let k, q, v, a, y, s, yDense: UnsafeMutablePointer<Float>

        init(_ shape: CausalShape) {
            self.shape = shape
            let operand = shape.d * shape.n * shape.heads, square = shape.n * shape.n * shape.heads
            k = .allocate(capacity: operand); q = .allocate(capacity: operand); v = .allocate(capacity: operand)
            y = .allocate(capacity: operand); yDense = .allocate(capacity: operand)
            a = .allocate(capacity: square); s = .allocate(capacity: square)
            var state: UInt64 = 0x9E37_79B9_7F4A_7C15 &+ UInt64(shape.n * 31 + shape.heads)
            func next() -> Float {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                return Float(Int64(bitPattern: state) >> 40) / Float(1 << 23)
            }
            for p in [k, q, v] { for i in 0..<operand { p[i] = next() } }
        }

        deinit { for p in [k, q, v, a, y, s, yDense] { p.deallocate() } }

        func heads(_ p: UnsafeMutablePointer<Float>) -> CausalAttention.Heads {
            CausalAttention.Heads(base: p, ld: shape.d, headStride: shape.d * shape.n)
        }

        /// The runtime's causal path: the kept half of the weights and V·A over t_z ≤ t_x, every head in one call.
        func causal() {
            CausalAttention.forward(segments: [shape.n], heads: shape.heads, d: shape.d, dv: shape.d, keys: heads(k), queries: heads(q),
                                    values: heads(v), divisor: Float(shape.d).squareRoot(), weights: a, output: heads(y))
        }

        /// The dense path: every score, then the mask, the scale, the softmax and the whole V·A.
        func dense() {
            let n = shape.n, d = shape.d, c = Float(d).squareRoot()
            for h in 0..<shape.heads {
                let kh = k + h * d * n, qh = q + h * d * n, vh = v + h * d * n, sh = s + h * n * n
                GEMM.sgemm(transA: true, transB: false, m: n, n: n, k: d, alpha: 1, a: kh, lda: d, b: qh, ldb: d, beta: 0, c: sh, ldc: n)
                for x in 0..<n { for z in 0..<n { sh[z + x * n] = z > x ? -.infinity : sh[z + x * n] / c } }
                FusedSoftmax.forward(x: sh, y: sh, rows: n, cols: n)
                GEMM.sgemm(transA: false, transB: false, m: d, n: n, k: n, alpha: 1, a: vh, lda: d, b: sh, ldb: n, beta: 0,
                           c: yDense + h * d * n, ldc: d)
            }
        }

        /// Runs both paths and compares them (`difference`).
        func check() -> String? {
            causal()
            dense()
            return difference()
        }

        /// Nil when the two outputs agree within 4·(d + ℓ)·2⁻²⁴ (each output entry is a convex
        /// combination of entries of V in [-1, 1); the bound of `CausalAttentionTests`), else the gap.
        func difference() -> String? {
            let count = shape.d * shape.n * shape.heads, bound = 4 * Double(shape.d + shape.n) * 0x1p-24
            var worst = 0.0
            for i in 0..<count { worst = max(worst, Double(abs(y[i] - yDense[i]))) }
            return worst <= bound ? nil : "max |Ṽ − Ṽ_dense| = \(worst) > \(bound)"
        }
    }

    /// Checks and times every causal shape; prints one line (or JSON object) per shape and thread
    /// count: both paths' median ms, the dense / causal ratio, and the causal path's speed on the
    /// FLOPs it does (2·H·d·ℓ(ℓ+1): the kept halves of KᵀQ and V·A) against `peaks`. True if all agree.
    func causalLines(peaks: [Int: Double], _ output: inout Output) -> Bool {
        var ok = true
        if !json {
            output.out("")
            output.out("causal attention (Alg. 4 lines 4–6, causal mask): the kept half vs the dense path (GEMM + FusedSoftmax)")
            output.out("shape".padding(toLength: 20, withPad: " ", startingAt: 0) + "threads  causal ms   dense ms  dense/causal  GFLOP/s (kept half) %peak")
        }
        for shape in causalShapes {
            let ops = CausalOperands(shape)
            Parallel.threads = threads.max()!
            if let problem = ops.check() {
                output.err("algo bench: error: causal attention \(shape.label): the kept half disagrees with the dense path: \(problem)")
                ok = false
                continue
            }
            let rounds = quick ? 3 : 9
            var causal: [Int: [Double]] = [:], dense: [Int: [Double]] = [:]
            for _ in 0..<rounds {
                for t in threads {
                    Parallel.threads = t
                    causal[t, default: []].append(Stopwatch.seconds { ops.causal() })
                    dense[t, default: []].append(Stopwatch.seconds { ops.dense() })
                }
            }
            let flops = 2 * Double(shape.heads * shape.d * shape.n * (shape.n + 1))
            for t in threads {
                let c = median(causal[t]!), d = median(dense[t]!), gflops = flops / c / 1e9
                if json {
                    output.out("{\"kind\":\"causal_attention\",\"shape\":\"\(shape.label)\",\"length\":\(shape.n),\"d\":\(shape.d),"
                        + "\"heads\":\(shape.heads),\"threads\":\(t),\"causal_seconds\":\(String(format: "%.6f", c)),"
                        + "\"dense_seconds\":\(String(format: "%.6f", d)),\"gflops\":\(fmt(gflops, 2)),"
                        + "\"peak_fraction\":\(fmt(gflops / peaks[t]!, 4)),\"rounds\":\(rounds)}")
                } else {
                    output.out(shape.label.padding(toLength: 20, withPad: " ", startingAt: 0)
                        + String(format: "%7d %10.2f %10.2f %13.2f %20.1f %4.0f%%", t, 1000 * c, 1000 * d, d / c, gflops, 100 * gflops / peaks[t]!))
                }
            }
        }
        return ok
    }
}
