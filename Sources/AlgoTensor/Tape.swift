import Dispatch

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
///
/// Memory: a node keeps only the values its VJP reads (`PrimitiveRule.vjpReadsInput`/`vjpReadsOutput`:
/// a matrix product the operands whose partner needs a cotangent, softmax its output, GELU its input, an addition nothing,
/// a quotient its output only when the divisor needs a cotangent), and the residuals its forward made for it
/// (fused layer norm: the normalised columns and 1/σ instead of its input); the
/// others are replaced by a shape-only placeholder, so intermediates nothing needs are freed during
/// the forward pass. `gradients(…, releasing: true)` also drops each node's values once its VJP has
/// run, so activations are freed while the gradients accumulate.
public final class Tape {
    struct Node {
        /// nil for a leaf (parameter).
        let primitive: Primitive?
        /// Node ids of the inputs, −1 for constants.
        let inputs: [Int]
        /// Inputs (placeholders where the VJP does not read them).
        var inputValues: [Tensor]
        /// The output (a placeholder when the VJP does not read it; leaves keep theirs).
        var value: Tensor
        /// What the forward computed for the VJP besides inputs and output (`PrimitiveRule.forward(_:residuals:)`).
        var residuals: [Tensor] = []
        /// `Tape.tag` when the node was recorded (the source line that issued it, for a profile).
        var tag: Int = -1
    }
    var nodes: [Node] = []

    /// A caller's label for the nodes recorded from now on (`algo run --profile`: the source line
    /// running); −1 for none. With `timesBackward`, `gradients` adds each node's VJP time to its
    /// tag's entry of `backwardNanos`.
    public var tag = -1
    public var timesBackward = false
    public private(set) var backwardNanos: [Int: UInt64] = [:]

    nonisolated(unsafe) static let zeroF32 = Tensor(scalar: 0, dtype: .f32)
    nonisolated(unsafe) static let zeroF64 = Tensor(scalar: 0, dtype: .f64)

    /// All-zero strides for each rank 0…`Shape.maxRank`, shared by every placeholder.
    static let zeroStrides: [[Int]] = (0...Shape.maxRank).map { [Int](repeating: 0, count: $0) }

    /// A stride-0 view of one shared zero with `t`'s shape and dtype: keeps the shape, no memory
    /// (what `zero.broadcast(to: t.shape)` gives, built without allocating: one per recorded node).
    static func placeholder(like t: Tensor) -> Tensor {
        Tensor(storage: (t.dtype == .f32 ? zeroF32 : zeroF64).storage, shape: t.shape, strides: zeroStrides[t.rank], offset: 0)
    }

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

    func record(_ p: Primitive, _ inputs: [Variable], _ value: Tensor, residuals: [Tensor] = []) -> Variable {
        let rule = p.rule
        let recorded = inputs.map { $0.tape === self }
        let saved = inputs.enumerated().map { k, v in
            rule.vjpReadsInput(k, recorded: recorded) ? v.value : Tape.placeholder(like: v.value)
        }
        nodes.append(Node(primitive: p, inputs: inputs.map { $0.tape === self ? $0.id : -1 }, inputValues: saved,
                          value: rule.vjpReadsOutput(recorded: recorded) ? value : Tape.placeholder(like: value),
                          residuals: residuals, tag: tag))
        return Variable(value: value, tape: self, id: nodes.count - 1)
    }

    /// Bytes of distinct buffers the tape's nodes keep alive (leaves, i.e. parameters, and the
    /// placeholders' shared zero excluded).
    public var savedBytes: Int {
        var seen = Set<ObjectIdentifier>()
        var leafStorage = Set(nodes.filter { $0.primitive == nil }.map { ObjectIdentifier($0.value.storage) })
        leafStorage.insert(ObjectIdentifier(Tape.zeroF32.storage))  // placeholders: shared, not kept per node
        leafStorage.insert(ObjectIdentifier(Tape.zeroF64.storage))
        var total = 0
        for n in nodes where n.primitive != nil {
            for t in n.inputValues + [n.value] + n.residuals {
                let id = ObjectIdentifier(t.storage)
                if !leafStorage.contains(id), seen.insert(id).inserted { total += t.storage.count * t.dtype.byteSize }
            }
        }
        return total
    }

    /// ∂(seed · output)/∂leaf for each leaf in `wrt`: the gradient of a scalar `output` when `seed` is nil
    /// (seed 1; for a non-scalar output, nil seeds ones, i.e. the gradient of its sum).
    /// A leaf the output does not depend on gets zeros. Results are dense, of each leaf's shape.
    /// `releasing`: drop each node's saved values once its VJP has run (the tape cannot be
    /// differentiated again; for a training step, where the activations are then not needed).
    public func gradients(of output: Variable, wrt leaves: [Variable], seed: Tensor? = nil, releasing: Bool = false) -> [Tensor] {
        var grads = [Tensor?](repeating: nil, count: nodes.count)
        let keep = Set(leaves.map(\.id))
        if output.tape === self && output.id >= 0 {
            if let seed { precondition(seed.shape == output.shape, "gradients: seed \(Shape.describe(seed.shape)) for output \(Shape.describe(output.shape))") }
            grads[output.id] = seed ?? Tensor.ones(output.shape, dtype: output.dtype)
            for i in stride(from: output.id, through: 0, by: -1) {
                guard let g = grads[i], let p = nodes[i].primitive else { continue }
                let node = nodes[i]
                let started = timesBackward ? DispatchTime.now().uptimeNanoseconds : 0
                defer { if timesBackward { backwardNanos[node.tag, default: 0] += DispatchTime.now().uptimeNanoseconds - started } }
                if releasing { nodes[i].inputValues = []; nodes[i].value = Tape.placeholder(like: node.value); nodes[i].residuals = [] }
                var cts = p.rule.vjp(node.inputValues, output: node.value, residuals: node.residuals, cotangent: g,
                                     needed: node.inputs.map { $0 >= 0 })
                for (k, j) in node.inputs.enumerated() where j >= 0 {
                    var ct = cts[k].sumToShape(node.inputValues[k].shape)  // un-broadcast: the one place
                    cts[k] = Tape.placeholder(like: ct)
                    // Accumulate: into the buffer of the sum so far or of ct when nothing else holds it,
                    // else into a fresh one (one pass; never a copy and then an addition).
                    if var sum = grads[j] { grads[j] = nil; grads[j] = Tensor.binary(.add, reusing: &sum, &ct) } else { grads[j] = ct }
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
        var tape: Tape? = nil
        for v in inputs {
            guard let t = v.tape else { continue }
            if let tape { precondition(tape === t, "\(p): inputs recorded on different tapes") }
            tape = t
        }
        let (value, residuals) = rule.forward(inputs.map(\.value), residuals: tape != nil)
        assert(value.shape == shape, "\(p): forward gave \(Shape.describe(value.shape)), rule says \(Shape.describe(shape))")
        if let tape { return tape.record(p, inputs, value, residuals: residuals) }
        return Variable(value)
    }
}
