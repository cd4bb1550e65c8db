import AlgoSyntax
import AlgoTensor
import Foundation

/// The executor of Adam's update in an evaluation pass (`Rules/EvaluationAdam.swift` states what it
/// replaces, why the values are the same bit for bit, and when).
extension Evaluator {
    /// Runs the six lines of `form` (the first is `s`) as their values in an evaluation pass: loss(θ)
    /// evaluated and recorded as `∇` does, g, m, v, m̂, v̂ assigned the shared tree of +0, θ kept.
    /// False when the guard fails (nothing has run then; the lines run as written).
    func evaluationAdam(_ form: EvaluationAdamForm, _ s: Statement, _ f: Frame) throws -> Bool {
        guard !options.applyGradients, options.training == nil, case .unary(.gradient, let loss) = form.gradient.kind,
              let θ = f.vars[form.names[5]], isParameters(θ),
              let m = f.vars[form.names[1]], let v = f.vars[form.names[2]] else { return false }
        let start = options.profile ? DispatchTime.now().uptimeNanoseconds : 0
        let opsBefore = ops
        guard let x = try adamScalars(form.scalars, f) else { return false }
        func clearSign(_ y: Double) -> Bool { y.isFinite && y.sign == .plus }
        guard x.a.isFinite, clearSign(x.b), x.c.isFinite, clearSign(x.d), x.e1 > 0, x.e2 > 0, clearSign(x.h), x.k > 0 else { return false }
        let zeros: Value
        if let z = adamZeros, Self.sameLayout(z, θ) { zeros = z } else { zeros = self.zeros(like: θ) }
        guard isZero(m, zeros), isZero(v, zeros) else { return false }
        adamZeros = zeros
        ops += 1
        _ = try differentiatedLoss(loss, form.gradient, f, tape: nil)
        for name in form.names.prefix(5) { f.vars[name] = zeros }
        if options.profile { record(s, f, since: start, opsBefore: opsBefore) }
        return true
    }

    /// Whether `v` holds only ±0 with the layout of `zeros`: its own tensors (by storage), or entry by entry.
    private func isZero(_ v: Value, _ zeros: Value) -> Bool {
        switch (v, zeros) {
        case (.tensor(let t), .tensor(let z)):
            if t.value.storage === z.value.storage, t.value.offset == z.value.offset, t.shape == z.shape { return true }
            return !t.isRecorded && t.shape == z.shape && t.dtype == z.dtype && t.value.contiguous().doubles.allSatisfy { $0 == 0 }
        case (.collection(let c), .collection(let z)):
            return c.members.count == z.members.count
                && zip(c.members, z.members).allSatisfy { $0.name == $1.name && isZero($0.value, $1.value) }
        default:
            return false
        }
    }
}
