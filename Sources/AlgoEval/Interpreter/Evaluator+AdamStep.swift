import AlgoSyntax
import AlgoTensor
import Foundation

/// The executor of Adam's five update lines (`Rules/AdamStep.swift` states what it replaces, why the
/// values are the same bit for bit, and when).
extension Evaluator {
    /// Runs `lines` (m, v, m̂, v̂ and θ's lines of `form`) as one `Tensor.adamStep` per member of θ and
    /// assigns their targets in order. False when the guard fails (nothing has run then; the lines
    /// run as written).
    func adamStep(_ form: AdamStepForm, _ lines: ArraySlice<Statement>, _ f: Frame) throws -> Bool {
        if let t = options.training, t.skipping { return false }   // resuming: the lines are skipped as written
        let names = form.targets   // m, v, m̂, v̂, θ
        // `sameLayout` admits only tensors on no tape.
        guard let θ = f.vars[names[4]], isParameters(θ), let g = f.vars[form.gradient], Self.sameLayout(θ, g),
              let m = f.vars[names[0]], Self.sameLayout(θ, m), let v = f.vars[names[1]], Self.sameLayout(θ, v) else { return false }
        let start = options.profile ? DispatchTime.now().uptimeNanoseconds : 0
        let opsBefore = ops
        guard let scalars = try adamScalars(form.scalars, f) else { return false }
        // The values the lines replace leave the frame, so that a buffer nothing else holds takes its successor.
        var old = names.map { f.vars[$0] ?? .nat(0) }
        for n in names { f.vars[n] = .nat(0) }
        _ = consume θ; _ = consume m; _ = consume v
        var new = [Value](repeating: .nat(0), count: 5)
        step(&old, g, into: &new, scalars)
        for (k, s) in lines.enumerated() {
            guard case .assign(let target, _, _) = s.kind else { continue }   // not reached: the rule matched assignments
            try SizeBudget.checkHeld(at: s.span)
            try assign(target, new[k], f, s)
            if options.training != nil { try afterAssignment(s, f) }   // θ's line: a step of a training run (TrainingMonitor.swift)
        }
        if options.profile, let first = lines.first { record(first, f, since: start, opsBefore: opsBefore) }
        return true
    }

    /// a, b, c, d, e₁, e₂, h, k as the element-wise operations see them (each converted to the run's
    /// dtype), or nil when one is not a number.
    func adamScalars(_ exprs: [Expr], _ f: Frame) throws -> AdamScalars? {
        var x: [Double] = []
        for e in exprs {
            guard let d = scalarNumber(try eval(e, f)) else { return nil }
            x.append(scalar(d).value.doubles[0])
        }
        return AdamScalars(a: x[0], b: x[1], c: x[2], d: x[3], e1: x[4], e2: x[5], h: x[6], k: x[7])
    }

    /// `Tensor.adamStep` over the members of θ's layout: `old` holds m, v, m̂, v̂, θ (taken apart as
    /// it goes, so that each tensor is its buffer's only holder where the frame's was), `new` receives
    /// the same five. A previous m̂ or v̂ of another layout (or none) is not reused.
    private func step(_ old: inout [Value], _ g: Value, into new: inout [Value], _ s: AdamScalars) {
        switch g {
        case .tensor(let gt):
            let tensors = old.map { v -> Tensor? in if case .tensor(let t) = v { return t.value } else { return nil } }
            for k in old.indices { old[k] = .nat(0) }
            var (m, v, mHat, vHat, θ) = (tensors[0], tensors[1], tensors[2], tensors[3], tensors[4])
            _ = consume tensors
            ops += 1
            let r = Tensor.adamStep(theta: θ.take()!, gradient: gt.value, m: m.take()!, v: v.take()!, mHat: mHat.take(), vHat: vHat.take(), s)
            new = [r.m, r.v, r.mHat, r.vHat, r.theta].map { .tensor(Variable($0)) }
        case .collection(let gc):
            var members = old.map { v -> [(name: String, value: Value)]? in
                var v = v
                guard let ms = Self.takeMembers(&v), ms.map(\.name) == gc.members.map(\.name) else { return nil }
                return ms
            }
            for k in old.indices { old[k] = .nat(0) }
            var out = [Collection](repeating: Collection(), count: 5)
            for (j, member) in gc.members.enumerated() {
                var o = members.map { $0.map { ms in ms[j].value } ?? .nat(0) }
                for k in members.indices where members[k] != nil { members[k]![j].value = .nat(0) }
                var n = [Value](repeating: .nat(0), count: 5)
                step(&o, member.value, into: &n, s)
                for k in 0..<5 { out[k].members.append((member.name, n[k])) }
            }
            new = out.map { .collection($0) }
        default:
            return   // not reached: `sameLayout` admits tensors and collections only
        }
    }
}
