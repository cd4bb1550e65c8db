import Foundation

/// The two element types, with the libm functions the primitives need. Internal: generic code over
/// it is specialised inside this module, never called through witness tables from outside.
protocol TensorScalar: BinaryFloatingPoint {
    static func exp_(_ x: Self) -> Self
    static func log_(_ x: Self) -> Self
    static func sqrt_(_ x: Self) -> Self
    static func erf_(_ x: Self) -> Self
    static func tanh_(_ x: Self) -> Self
    static func pointer(_ s: Storage) -> UnsafeMutablePointer<Self>
}

extension Float: TensorScalar {
    @inline(__always) static func exp_(_ x: Float) -> Float { Foundation.exp(x) }
    @inline(__always) static func log_(_ x: Float) -> Float { Foundation.log(x) }
    @inline(__always) static func sqrt_(_ x: Float) -> Float { x.squareRoot() }
    @inline(__always) static func erf_(_ x: Float) -> Float { Foundation.erf(x) }
    @inline(__always) static func tanh_(_ x: Float) -> Float { Foundation.tanh(x) }
    @inline(__always) static func pointer(_ s: Storage) -> UnsafeMutablePointer<Float> { s.floats }
}

extension Double: TensorScalar {
    @inline(__always) static func exp_(_ x: Double) -> Double { Foundation.exp(x) }
    @inline(__always) static func log_(_ x: Double) -> Double { Foundation.log(x) }
    @inline(__always) static func sqrt_(_ x: Double) -> Double { x.squareRoot() }
    @inline(__always) static func erf_(_ x: Double) -> Double { Foundation.erf(x) }
    @inline(__always) static func tanh_(_ x: Double) -> Double { Foundation.tanh(x) }
    @inline(__always) static func pointer(_ s: Storage) -> UnsafeMutablePointer<Double> { s.doubles }
}
