import Foundation

/// A seeded, reproducible random generator: **xoshiro256\*\*** (Blackman & Vigna, 2018) with its
/// 256-bit state filled from the 64-bit seed by **splitmix64**, as its authors recommend.
///
/// - `uniform()`: the top 53 bits of `next()` times 2⁻⁵³, in [0, 1).
/// - `normal()`: **Box–Muller** (basic form): u₁ ∈ (0, 1], u₂ ∈ [0, 1), r = √(−2 ln u₁),
///   returns r·cos 2πu₂ and keeps r·sin 2πu₂ for the next call.
/// - `int(below:)`: rejection of the biased low range, then `mod n`.
/// - `categorical(_:)`: inverse CDF: one `uniform()` u, the first index whose running sum of the
///   (unnormalised, non-negative) weights exceeds u·Σw.
///
/// The same seed gives the same sequence on every platform (only integer arithmetic and libm `log`,
/// `cos`, `sin` in Double).
public struct RandomGenerator: RandomNumberGenerator, Sendable {
    private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64
    private var spare: Double? = nil

    /// A generator whose state is four successive splitmix64 outputs from `seed`.
    public init(seed: UInt64) {
        var x = seed
        func splitmix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitmix(); s1 = splitmix(); s2 = splitmix(); s3 = splitmix()
    }

    /// The whole generator state, to save in a checkpoint and resume bit-exactly: the four
    /// xoshiro256** words, then 1 and the bit pattern of the kept Box–Muller value, or 0 and 0.
    public var state: [UInt64] {
        get { [s0, s1, s2, s3, spare == nil ? 0 : 1, spare?.bitPattern ?? 0] }
        set {
            precondition(newValue.count == 6, "RandomGenerator.state holds 6 words")
            s0 = newValue[0]; s1 = newValue[1]; s2 = newValue[2]; s3 = newValue[3]
            spare = newValue[4] == 0 ? nil : Double(bitPattern: newValue[5])
        }
    }

    /// The next 64 random bits (xoshiro256**).
    public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = (s3 << 45) | (s3 >> 19)
        return result
    }

    /// Uniform in [0, 1) with 53 random bits.
    public mutating func uniform() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// Uniform in [lower, upper).
    public mutating func uniform(_ lower: Double, _ upper: Double) -> Double { lower + (upper - lower) * uniform() }

    /// Standard normal 𝒩(0, 1) by Box–Muller (pairs; the second value is returned by the next call).
    public mutating func normal() -> Double {
        if let s = spare { spare = nil; return s }
        let u1 = 1 - uniform()  // (0, 1]: log is finite
        let u2 = uniform()
        let r = (-2 * Foundation.log(u1)).squareRoot()
        let a = 2 * Double.pi * u2
        spare = r * Foundation.sin(a)
        return r * Foundation.cos(a)
    }

    /// 𝒩(mean, std²).
    public mutating func normal(mean: Double, std: Double) -> Double { mean + std * normal() }

    /// An index i with probability weights[i]/Σ weights (weights ≥ 0, Σ > 0), by inverse CDF.
    public mutating func categorical(_ weights: [Double]) -> Int {
        precondition(!weights.isEmpty, "categorical: no weights")
        var total = 0.0
        for w in weights { precondition(w >= 0, "categorical: negative weight \(w)"); total += w }
        precondition(total > 0, "categorical: weights sum to 0")
        let u = uniform() * total
        var acc = 0.0
        for (i, w) in weights.enumerated() {
            acc += w
            if u < acc { return i }
        }
        return weights.lastIndex { $0 > 0 }!  // rounding: u·Σ landed on the total
    }

    /// A uniform integer in 0..<n (n > 0): `next() mod n`, rejecting draws below `2⁶⁴ mod n` so that
    /// every residue is equally likely (own code rather than the standard library's, whose algorithm
    /// may change between releases).
    public mutating func int(below n: Int) -> Int {
        precondition(n > 0, "int(below:): n = \(n)")
        let bound = UInt64(n)
        let threshold = (0 &- bound) % bound
        while true {
            let r = next()
            if r >= threshold { return Int(r % bound) }
        }
    }
}

extension Tensor {
    /// Elements drawn from 𝒩(mean, std²) in column-major order (Box–Muller).
    public static func normal(_ shape: [Int], mean: Double = 0, std: Double = 1, dtype: DType = .f32,
                              using rng: inout RandomGenerator) -> Tensor {
        Tensor(shape: shape, dtype: dtype) { rng.normal(mean: mean, std: std) }
    }

    /// Elements uniform in [lower, upper), column-major order.
    public static func uniform(_ shape: [Int], _ lower: Double = 0, _ upper: Double = 1, dtype: DType = .f32,
                               using rng: inout RandomGenerator) -> Tensor {
        Tensor(shape: shape, dtype: dtype) { rng.uniform(lower, upper) }
    }
}
