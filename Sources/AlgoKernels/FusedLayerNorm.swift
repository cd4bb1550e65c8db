/// Fused column normalisation, the core of layer_norm (Alg. 6) applied to every column of a dense
/// column-major `[rows, cols]` matrix: `y = (x − m) / √(v + ε)` with `m = Σx/n`, `v = Σ(x − m)²/n`.
/// (γ and β are applied by the algorithm's own text.) With ε = 0 a constant column divides by 0, as
/// the paper's Alg. 6 does (erratum A3).
public enum FusedLayerNorm {
    /// The work of a column in units of an element-wise addition over it (`Parallel.forRanges`'s
    /// `cost` per element): each kernel reads its column two or three times (the mean, the centred
    /// squares or the two sums of the backward, then the output) besides γ, β and its outputs.
    static let passes = 4

    /// Column mean and 1/√(v + ε), two passes (mean, then centred squares).
    @inline(__always)
    static func stats(_ x: UnsafePointer<Float>, _ n: Int, _ eps: Float) -> (Float, Float) {
        var sv = SIMD8<Float>.zero
        var i = 0
        while i + 8 <= n { sv += UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self); i += 8 }
        var s = sv.sum()
        while i < n { s += x[i]; i += 1 }
        let m = s / Float(n)
        let mv = SIMD8<Float>(repeating: m)
        var qv = SIMD8<Float>.zero
        i = 0
        while i + 8 <= n {
            let d = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self) - mv
            qv += d * d
            i += 8
        }
        var q = qv.sum()
        while i < n { let d = x[i] - m; q += d * d; i += 1 }
        let v = q / Float(n)
        return (m, 1 / (v + eps).squareRoot())
    }

    /// `y[:, j] = (x[:, j] − m_j) / √(v_j + ε)`. `x` and `y` may alias.
    public static func forward(x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, rows n: Int, cols: Int, epsilon: Float) {
        FusedMath.forColumns(cols, perColumn: passes * n) { range in
            for j in range {
                let xc = x + j * n, yc = y + j * n
                let (m, r) = stats(xc, n, epsilon)
                let mv = SIMD8<Float>(repeating: m), rv = SIMD8<Float>(repeating: r)
                var i = 0
                while i + 8 <= n {
                    let v = UnsafeRawPointer(xc + i).loadUnaligned(as: SIMD8<Float>.self)
                    UnsafeMutableRawPointer(yc + i).storeBytes(of: (v - mv) * rv, as: SIMD8<Float>.self)
                    i += 8
                }
                while i < n { yc[i] = (xc[i] - m) * r; i += 1 }
            }
        }
    }

    /// VJP of `forward`: `dx = r · (dy − mean(dy) − y · mean(dy ⊙ y))` with `r = 1/√(v + ε)` and `y`
    /// recomputed from `x`. `dx` may alias `dy`.
    public static func backward(x: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>,
                                rows n: Int, cols: Int, epsilon: Float) {
        FusedMath.forColumns(cols, perColumn: passes * n) { range in
            for j in range {
                let xc = x + j * n, gc = dy + j * n, dc = dx + j * n
                let (m, r) = stats(xc, n, epsilon)
                let mv = SIMD8<Float>(repeating: m), rv = SIMD8<Float>(repeating: r)
                var gs = SIMD8<Float>.zero, gys = SIMD8<Float>.zero
                var i = 0
                while i + 8 <= n {
                    let yv = (UnsafeRawPointer(xc + i).loadUnaligned(as: SIMD8<Float>.self) - mv) * rv
                    let gv = UnsafeRawPointer(gc + i).loadUnaligned(as: SIMD8<Float>.self)
                    gs += gv
                    gys += gv * yv
                    i += 8
                }
                var g1 = gs.sum(), g2 = gys.sum()
                while i < n { let yv = (xc[i] - m) * r; g1 += gc[i]; g2 += gc[i] * yv; i += 1 }
                let inv = 1 / Float(n)
                let a = SIMD8<Float>(repeating: g1 * inv), b = SIMD8<Float>(repeating: g2 * inv)
                i = 0
                while i + 8 <= n {
                    let yv = (UnsafeRawPointer(xc + i).loadUnaligned(as: SIMD8<Float>.self) - mv) * rv
                    let gv = UnsafeRawPointer(gc + i).loadUnaligned(as: SIMD8<Float>.self)
                    UnsafeMutableRawPointer(dc + i).storeBytes(of: rv * (gv - a - yv * b), as: SIMD8<Float>.self)
                    i += 8
                }
                while i < n { let yv = (xc[i] - m) * r; dc[i] = r * (gc[i] - a[0] - yv * b[0]); i += 1 }
            }
        }
    }

    // MARK: - With the affine part (γ, β): Alg. 6 line 3 whole

    /// `y[:, j] = n̂_j ⊙ γ + β` with `n̂_j = (x[:, j] − m_j)·r_j`, `r_j = 1/√(v_j + ε)`, for the
    /// columns of dense column-major `[rows, cols]` matrices; `gamma`, `beta` have `rows` entries.
    /// When `normalized` (`[rows, cols]`) and `rstd` (`[cols]`) are given, n̂ and r are stored there
    /// for `affineBackward` (a training step); `y` must not alias `x` or them.
    public static func affineForward(x: UnsafePointer<Float>, gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>,
                                     y: UnsafeMutablePointer<Float>, normalized: UnsafeMutablePointer<Float>?,
                                     rstd: UnsafeMutablePointer<Float>?, rows n: Int, cols: Int, epsilon: Float) {
        FusedMath.forColumns(cols, perColumn: passes * n) { range in
            for j in range {
                let xc = x + j * n, yc = y + j * n, nc = normalized.map { $0 + j * n }
                let (m, r) = stats(xc, n, epsilon)
                rstd?[j] = r
                let mv = SIMD8<Float>(repeating: m), rv = SIMD8<Float>(repeating: r)
                var i = 0
                while i + 8 <= n {
                    let v = (UnsafeRawPointer(xc + i).loadUnaligned(as: SIMD8<Float>.self) - mv) * rv
                    if let nc { UnsafeMutableRawPointer(nc + i).storeBytes(of: v, as: SIMD8<Float>.self) }
                    let g = UnsafeRawPointer(gamma + i).loadUnaligned(as: SIMD8<Float>.self)
                    let b = UnsafeRawPointer(beta + i).loadUnaligned(as: SIMD8<Float>.self)
                    UnsafeMutableRawPointer(yc + i).storeBytes(of: v * g + b, as: SIMD8<Float>.self)
                    i += 8
                }
                while i < n {
                    let v = (xc[i] - m) * r
                    nc?[i] = v
                    yc[i] = v * gamma[i] + beta[i]
                    i += 1
                }
            }
        }
    }

    /// The input's cotangent of `affineForward` from the stored n̂ and r: with `d = dy ⊙ γ` per
    /// column, `dx = r · (d − mean(d) − n̂ · mean(d ⊙ n̂))`. `dx` may alias `dy`.
    public static func affineBackward(normalized: UnsafePointer<Float>, rstd: UnsafePointer<Float>, gamma: UnsafePointer<Float>,
                                      dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, rows n: Int, cols: Int) {
        FusedMath.forColumns(cols, perColumn: passes * n) { range in
            for j in range {
                let nc = normalized + j * n, gc = dy + j * n, dc = dx + j * n
                var s1 = SIMD8<Float>.zero, s2 = SIMD8<Float>.zero
                var i = 0
                while i + 8 <= n {
                    let d = UnsafeRawPointer(gc + i).loadUnaligned(as: SIMD8<Float>.self)
                        * UnsafeRawPointer(gamma + i).loadUnaligned(as: SIMD8<Float>.self)
                    s1 += d
                    s2 += d * UnsafeRawPointer(nc + i).loadUnaligned(as: SIMD8<Float>.self)
                    i += 8
                }
                var d1 = s1.sum(), d2 = s2.sum()
                while i < n { let d = gc[i] * gamma[i]; d1 += d; d2 += d * nc[i]; i += 1 }
                let inv = 1 / Float(n), r = rstd[j]
                let a = d1 * inv, b = d2 * inv
                let av = SIMD8<Float>(repeating: a), bv = SIMD8<Float>(repeating: b), rv = SIMD8<Float>(repeating: r)
                i = 0
                while i + 8 <= n {
                    let d = UnsafeRawPointer(gc + i).loadUnaligned(as: SIMD8<Float>.self)
                        * UnsafeRawPointer(gamma + i).loadUnaligned(as: SIMD8<Float>.self)
                    let v = UnsafeRawPointer(nc + i).loadUnaligned(as: SIMD8<Float>.self)
                    UnsafeMutableRawPointer(dc + i).storeBytes(of: rv * (d - av - v * bv), as: SIMD8<Float>.self)
                    i += 8
                }
                while i < n { dc[i] = r * (gc[i] * gamma[i] - a - nc[i] * b); i += 1 }
            }
        }
    }

    /// The parameters' cotangents of `affineForward`: `dγ = Σ_j dy[:, j] ⊙ n̂_j`, `dβ = Σ_j dy[:, j]`
    /// (`rows` entries each, overwritten). One thread, columns in order: the same sums for any thread count.
    public static func affineParameterBackward(normalized: UnsafePointer<Float>, dy: UnsafePointer<Float>,
                                               dGamma: UnsafeMutablePointer<Float>, dBeta: UnsafeMutablePointer<Float>,
                                               rows n: Int, cols: Int) {
        dGamma.update(repeating: 0, count: n)
        dBeta.update(repeating: 0, count: n)
        for j in 0..<cols {
            let nc = normalized + j * n, gc = dy + j * n
            var i = 0
            while i + 8 <= n {
                let g = UnsafeRawPointer(gc + i).loadUnaligned(as: SIMD8<Float>.self)
                let v = UnsafeRawPointer(nc + i).loadUnaligned(as: SIMD8<Float>.self)
                let pg = UnsafeMutableRawPointer(dGamma + i), pb = UnsafeMutableRawPointer(dBeta + i)
                pg.storeBytes(of: pg.loadUnaligned(as: SIMD8<Float>.self) + g * v, as: SIMD8<Float>.self)
                pb.storeBytes(of: pb.loadUnaligned(as: SIMD8<Float>.self) + g, as: SIMD8<Float>.self)
                i += 8
            }
            while i < n { dGamma[i] += gc[i] * nc[i]; dBeta[i] += gc[i]; i += 1 }
        }
    }
}
