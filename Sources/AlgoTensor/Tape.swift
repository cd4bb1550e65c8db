/// Records the forward pass for reverse-mode differentiation.
///
/// Usage (one training step):
/// ```
/// let tape = Tape()
/// let W = tape.parameter(wTensor)            // leaves to differentiate: the parameters θ
/// let X = Variable(xTensor)                  // a constant (no gradient)
/// let loss = (W.matmul(X)).softmaxColumns().log().sum()
/// let dW = tape.gradients(of: loss, wrt: [W])[0]   // ∂loss/∂W, shape of W
/// ```
/// Nodes are appended in evaluation order, which is a topological order, so the backward pass walks
/// them from the loss down. Only values that depend on a parameter are recorded. The engine owns the
/// cross-cutting rules: un-broadcasting each cotangent to its input's shape (`Tensor.sumToShape`) and
/// accumulating cotangents of values used more than once. A tape is single-threaded and used for one
/// forward/backward; drop it afterwards (its buffers return to the `BufferPool`).
public final class Tape {
    struct Node {
        /// nil for a leaf (parameter).
        let primitive: Primitive?
        /// Node ids of the inputs, −1 for constants.
        let inputs: [Int]
        let inputValues: [Tensor]
        let value: Tensor
    }
    var nodes: [Node] = []

    /// An empty tape.
    public init() {}

    /// Number of recorded nodes (leaves included).
    public var count: Int { nodes.count }

    /// One line per node: `%3 = matmul(A B)(%0, const) f32[4×5]` (leaves are `param`), for traces.
    public func dump() -> String {
        nodes.enumerated().map { i, n in
            let args = n.inputs.map { $0 >= 0 ? "%\($0)" : "const" }.joined(separator: ", ")
            let op = n.primitive.map { "\($0)(\(args))" } ?? "param"
            return "%\(i) = \(op) \(n.value.dtype)\(Shape.describe(n.value.shape))"
        }.joined(separator: "\n")
    }

    /// A leaf to differentiate with respect to (a parameter of θ).
    public func parameter(_ value: Tensor) -> Variable {
        nodes.append(Node(primitive: nil, inputs: [], inputValues: [], value: value))
        return Variable(value: value, tape: self, id: nodes.count - 1)
    }

    func record(_ p: Primitive, _ inputs: [Variable], _ value: Tensor) -> Variable {
        nodes.append(Node(primitive: p, inputs: inputs.map { $0.tape === self ? $0.id : -1 },
                          inputValues: inputs.map(\.value), value: value))
        return Variable(value: value, tape: self, id: nodes.count - 1)
    }

    /// ∂(seed · output)/∂leaf for each leaf in `wrt`: the gradient of a scalar `output` when `seed` is nil
    /// (seed 1; for a non-scalar output, nil seeds ones, i.e. the gradient of its sum).
    /// A leaf the output does not depend on gets zeros. Results are dense, of each leaf's shape.
    public func gradients(of output: Variable, wrt leaves: [Variable], seed: Tensor? = nil) -> [Tensor] {
        var grads = [Tensor?](repeating: nil, count: nodes.count)
        let keep = Set(leaves.map(\.id))
        if output.tape === self && output.id >= 0 {
            if let seed { precondition(seed.shape == output.shape, "gradients: seed \(Shape.describe(seed.shape)) for output \(Shape.describe(output.shape))") }
            grads[output.id] = seed ?? Tensor.ones(output.shape, dtype: output.dtype)
            for i in stride(from: output.id, through: 0, by: -1) {
                guard let g = grads[i], let p = nodes[i].primitive else { continue }
                let node = nodes[i]
                let cts = p.rule.vjp(node.inputValues, output: node.value, cotangent: g)
                for (k, j) in node.inputs.enumerated() where j >= 0 {
                    let ct = cts[k].sumToShape(node.inputValues[k].shape)  // un-broadcast: the one place
                    if grads[j] == nil { grads[j] = ct } else { grads[j]!.addInPlace(ct) }  // accumulate
                }
                if !keep.contains(i) { grads[i] = nil }
            }
        }
        return leaves.map { leaf in
            precondition(leaf.tape === self && leaf.id >= 0, "gradients: wrt a value not recorded on this tape")
            return grads[leaf.id]?.contiguous() ?? Tensor.zeros(leaf.shape, dtype: leaf.dtype)
        }
    }
}

/// A value in a computation: a `Tensor`, and, when it depends on a parameter, its node on a `Tape`.
/// Without a tape (constants, or inference) operations only compute values: the same code runs
/// training and inference.
public struct Variable {
    /// The value.
    public let value: Tensor
    /// The tape recording it, nil for constants.
    public let tape: Tape?
    let id: Int

    init(value: Tensor, tape: Tape?, id: Int) {
        self.value = value
        self.tape = tape
        self.id = id
    }

    /// A constant (no gradient flows into it).
    public init(_ value: Tensor) { self.init(value: value, tape: nil, id: -1) }

    /// A rank-0 constant.
    public init(scalar: Double, dtype: DType = .f32) { self.init(Tensor(scalar: scalar, dtype: dtype)) }

    /// Shape of the value.
    public var shape: [Int] { value.shape }
    /// Element type.
    public var dtype: DType { value.dtype }
    /// Whether gradients flow into this value (it is recorded on a tape).
    public var isRecorded: Bool { tape != nil }

    /// Applies a primitive: checks the shape rule, computes the forward value, and records a node when
    /// an input is recorded. All recorded inputs must share one tape.
    public static func apply(_ p: Primitive, _ inputs: [Variable]) -> Variable {
        let rule = p.rule
        let shape = rule.shape(inputs.map(\.shape))
        let value = rule.forward(inputs.map(\.value))
        assert(value.shape == shape, "\(p): forward gave \(Shape.describe(value.shape)), rule says \(Shape.describe(shape))")
        var tape: Tape? = nil
        for v in inputs {
            guard let t = v.tape else { continue }
            if let tape { precondition(tape === t, "\(p): inputs recorded on different tapes") }
            tape = t
        }
        if let tape { return tape.record(p, inputs, value) }
        return Variable(value)
    }
}
