import Testing
import AlgoTensor
@testable import AlgoEval

/// Every value the evaluator holds, passes and returns is a `Value`: its size is copied on every
/// name read, assignment and return. A function of θ once held its log form inline, which made
/// every `Value` several times the size of a tensor and the tiny model's forward pass ~8% slower;
/// the rare large cases (mask, family, function) are boxed so that the largest inline case is the
/// tensor's `Variable`.
@Suite("Value stays as small as a tensor")
struct ValueLayoutTests {
    @Test("MemoryLayout<Value>.size ≤ MemoryLayout<Variable>.size + 1 (the case tag)")
    func size() {
        #expect(MemoryLayout<Value>.size <= MemoryLayout<Variable>.size + 1,
                "Value: \(MemoryLayout<Value>.size) bytes, Variable: \(MemoryLayout<Variable>.size)")
    }
}
