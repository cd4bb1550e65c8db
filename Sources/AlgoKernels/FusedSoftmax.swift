import Foundation

/// Fused softmax and log-softmax over the columns of a dense column-major matrix `[rows, cols]`
/// (eq. 2: each column is normalised). One pass for the max, one for exp and Σ, one to scale.
///
/// −∞ entries (masked scores, Alg. 4 line 5) give exactly 0 (log-softmax: −∞). A column whose
/// entries are all −∞ (or an empty column) is defined to give all 0 (log-softmax: all −∞) and a zero
/// gradient (softmax) / the incoming gradient (log-softmax), matching the composite.
public enum FusedSoftmax {
    /// `y[:, j] = softmax(x[:, j])`. `x` and `y` may alias.
    public static func forward(x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, rows: Int, cols: Int) {
        FusedMath.forColumns(cols, perColumn: rows) { range in
            for j in range { column(x + j * rows, y + j * rows, rows, log: false) }
        }
    }

    /// `y[:, j] = log softmax(x[:, j]) = x − max − log Σ exp(x − max)`. `x` and `y` may alias.
    public static func logForward(x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, rows: Int, cols: Int) {
        FusedMath.forColumns(cols, perColumn: rows) { range in
            for j in range { column(x + j * rows, y + j * rows, rows, log: true) }
        }
    }

    @inline(__always)
    static func columnMax(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
        var i = 0
        var mv = SIMD8<Float>(repeating: -.infinity)
        while i + 8 <= n {
            let v = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
            mv = mv.replacing(with: v, where: mv .< v)
            i += 8
        }
        var m: Float = -.infinity
        for l in 0..<8 where m < mv[l] { m = mv[l] }
        while i < n { if m < x[i] { m = x[i] }; i += 1 }
        return m
    }

    @inline(__always)
    static func column(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int, log: Bool) {
        let m = columnMax(x, n)
        if !(m > -.infinity) {  // all −∞ (fully masked) or empty: defined as 0 / −∞; NaN stays NaN
            let fill: Float = m.isNaN ? .nan : (log ? -.infinity : 0)
            for i in 0..<n { y[i] = fill }
            return
        }
        let mv = SIMD8<Float>(repeating: m)
        var sv = SIMD8<Float>.zero
        var i = 0
        while i + 8 <= n {
            let v = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
            let e = FusedMath.exp(v - mv)
            if !log { UnsafeMutableRawPointer(y + i).storeBytes(of: e, as: SIMD8<Float>.self) }
            sv += e
            i += 8
        }
        var s = sv.sum()
        while i < n {
            let e = FusedMath.exp(x[i] - m)
            if !log { y[i] = e }
            s += e
            i += 1
        }
        if log {
            let ls = Foundation.log(s)
            let lsv = SIMD8<Float>(repeating: ls)
            i = 0
            while i + 8 <= n {
                let v = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
                UnsafeMutableRawPointer(y + i).storeBytes(of: (v - mv) - lsv, as: SIMD8<Float>.self)
                i += 8
            }
            while i < n { y[i] = (x[i] - m) - ls; i += 1 }
        } else {
            let inv = SIMD8<Float>(repeating: 1 / s)
            i = 0
            while i + 8 <= n {
                let v = UnsafeRawPointer(y + i).loadUnaligned(as: SIMD8<Float>.self)
                UnsafeMutableRawPointer(y + i).storeBytes(of: v * inv, as: SIMD8<Float>.self)
                i += 8
            }
            while i < n { y[i] *= inv[0]; i += 1 }
        }
    }

    /// Softmax VJP: `dx = y ⊙ (dy − Σᵢ dy[i]·y[i])` per column. `dx` may alias `dy`.
    public static func backward(y: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>,
                                rows n: Int, cols: Int) {
        FusedMath.forColumns(cols, perColumn: n) { range in
            for j in range {
                let yc = y + j * n, gc = dy + j * n, dc = dx + j * n
                let s = dot(yc, gc, n)
                let sv = SIMD8<Float>(repeating: s)
                var i = 0
                while i + 8 <= n {
                    let yv = UnsafeRawPointer(yc + i).loadUnaligned(as: SIMD8<Float>.self)
                    let gv = UnsafeRawPointer(gc + i).loadUnaligned(as: SIMD8<Float>.self)
                    UnsafeMutableRawPointer(dc + i).storeBytes(of: yv * (gv - sv), as: SIMD8<Float>.self)
                    i += 8
                }
                while i < n { dc[i] = yc[i] * (gc[i] - s); i += 1 }
            }
        }
    }

    /// Log-softmax VJP: `dx = dy − exp(y) · Σᵢ dy[i]` per column (exp(−∞) = 0 for masked entries).
    /// `dx` may alias `dy`.
    public static func logBackward(y: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>,
                                   rows n: Int, cols: Int) {
        FusedMath.forColumns(cols, perColumn: n) { range in
            for j in range {
                let yc = y + j * n, gc = dy + j * n, dc = dx + j * n
                var sv = SIMD8<Float>.zero
                var i = 0
                while i + 8 <= n { sv += UnsafeRawPointer(gc + i).loadUnaligned(as: SIMD8<Float>.self); i += 8 }
                var s = sv.sum()
                while i < n { s += gc[i]; i += 1 }
                let ss = SIMD8<Float>(repeating: s)
                i = 0
                while i + 8 <= n {
                    let yv = UnsafeRawPointer(yc + i).loadUnaligned(as: SIMD8<Float>.self)
                    let gv = UnsafeRawPointer(gc + i).loadUnaligned(as: SIMD8<Float>.self)
                    UnsafeMutableRawPointer(dc + i).storeBytes(of: gv - FusedMath.exp(yv) * ss, as: SIMD8<Float>.self)
                    i += 8
                }
                while i < n { dc[i] = gc[i] - FusedMath.exp(yc[i]) * s; i += 1 }
            }
        }
    }

    /// Σᵢ a[i]·b[i] with 8-lane accumulators (fixed order for a given n).
    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = SIMD8<Float>.zero
        var i = 0
        while i + 8 <= n {
            acc += UnsafeRawPointer(a + i).loadUnaligned(as: SIMD8<Float>.self)
                 * UnsafeRawPointer(b + i).loadUnaligned(as: SIMD8<Float>.self)
            i += 8
        }
        var s = acc.sum()
        while i < n { s += a[i] * b[i]; i += 1 }
        return s
    }
}
