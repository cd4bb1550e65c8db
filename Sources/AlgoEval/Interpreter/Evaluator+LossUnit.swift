import AlgoDiagnostics
import AlgoSyntax
import Foundation

/// One loss unit everywhere (issue 15): **nats per predicted token**. The paper's training
/// algorithms define loss(θ) per sequence (DTraining line 5 sums −log P over the ℓ − 1 predicted
/// positions of x_n; ETraining over the masked positions T̃; DTrainingMinibatch sums over the B
/// sequences of a batch and divides each term by B). Each time `∇loss(θ)` evaluates the loss, the
/// evaluator also counts the terms of its Σ (the predicted tokens of this step) and the number each
/// term is divided by, with the frame's values of this step (ℓ, T̃, b):
///
///     loss per token = loss(θ) · divisor / terms
///
/// so that DTraining gives loss/(ℓ − 1), ETraining loss/|T̃|, DTrainingMinibatch
/// loss · B / Σ_n (ℓ_n − 1): the mean of −log P over every token the step predicted.
extension Evaluator {
    /// The terms of a loss `−Σ … Σ term` (nested sums multiply out; bounds evaluated in `f` with
    /// the outer indices bound) and the number each term is divided by (`term/B`), or nil for a
    /// loss of another form (then no per-token value is reported).
    func lossTerms(_ e: Expr, _ f: Frame) -> (terms: Int, divisor: Double)? {
        switch e.kind {
        case .unary(.negate, let x): return lossTerms(x, f)
        case .binary(.divide, let x, let d):
            guard case .sum = x.kind, let inner = lossTerms(x, f), let v = (try? eval(d, f)).flatMap(number) else { return nil }
            return (inner.terms, inner.divisor * v)
        case .sum(let s):
            guard let (variable, values) = sumIndices(s, f) else { return nil }
            if case .sum = s.body.kind {} else if case .unary(.negate, _) = s.body.kind {} else {
                // The innermost Σ: its values are the predicted tokens; a term `… / d` names d.
                var divisor = 1.0
                if case .binary(.divide, _, let d) = s.body.kind {
                    guard !d.mentions(variable), let v = (try? eval(d, f)).flatMap(number) else { return nil }
                    divisor = v
                }
                return (values.count, divisor)
            }
            let saved = f.vars[variable]
            defer { f.vars[variable] = saved }
            var terms = 0, divisor: Double? = nil
            for i in values {
                f.vars[variable] = .nat(i)
                guard let inner = lossTerms(s.body, f), divisor == nil || divisor == inner.divisor else { return nil }
                terms += inner.terms
                divisor = inner.divisor
            }
            return (terms, divisor ?? 1)
        default: return nil
        }
    }

    /// The index and its values of `Σ_{t=a}^{b}` or `Σ_{t∈T̃}` in `f`.
    private func sumIndices(_ s: Sum, _ f: Frame) -> (String, [Int])? {
        guard let lower = s.lower else { return nil }
        switch lower.value.kind {
        case .binary(.equal, let v, let from):
            guard case .name(let n) = v.kind, case .nat(let a)? = try? eval(from, f), let up = s.upper, case .nat(let b)? = try? eval(up.value, f) else { return nil }
            return (n.spelling, b >= a ? Array(a...b) : [])
        case .membership(let v, let set):
            guard case .name(let n) = v.kind, let ts = try? members(set, f) else { return nil }
            return (n.spelling, ts)
        default: return nil
        }
    }

    /// Records the per-token value of the loss `l` just computed by `∇fn(θ)` (NaN when its form
    /// is not a Σ of terms or it predicted no token).
    func recordLossUnit(_ fn: FunctionValue, _ l: Double) {
        if let t = lossTerms(fn.body, fn.frame), t.terms > 0 {
            predictedTokens.append(t.terms)
            tokenLosses.append(l * t.divisor / Double(t.terms))
        } else {
            predictedTokens.append(0)
            tokenLosses.append(.nan)
        }
    }

    /// The mean loss per predicted token over every `∇loss(θ)` of this run (an evaluation pass):
    /// Σ_k loss_k · divisor_k / Σ_k terms_k; NaN when no step predicted a token.
    public var meanLossPerToken: Double {
        var sum = 0.0, n = 0
        for (l, k) in zip(tokenLosses, predictedTokens) where k > 0 { sum += l * Double(k); n += k }
        return n == 0 ? .nan : sum / Double(n)
    }
}
