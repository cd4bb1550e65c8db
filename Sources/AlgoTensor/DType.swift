/// The element type of a `Tensor`.
///
/// A runtime tag rather than a generic `Tensor<Scalar>`: the interpreter handles one `Tensor` type,
/// and cross-module generics would cost witness-table calls per element unless specialised.
/// `f32` is the working precision (kernels, GEMM, fused ops); `f64` exists for finite-difference
/// gradient checks and runs through plain reference loops.
public enum DType: Sendable, Hashable, CustomStringConvertible {
    /// IEEE single precision, the training/inference type.
    case f32
    /// IEEE double precision, for gradient checks.
    case f64

    /// Bytes per element.
    public var byteSize: Int {
        switch self {
        case .f32: return 4
        case .f64: return 8
        }
    }

    /// `f32` or `f64`.
    public var description: String {
        switch self {
        case .f32: return "f32"
        case .f64: return "f64"
        }
    }
}
