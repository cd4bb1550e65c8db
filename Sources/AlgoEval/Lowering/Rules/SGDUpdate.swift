import AlgoSema
import AlgoSyntax

/// `θ − η · ∇loss(θ)` (the update of Alg. 11, 12, 13 and 19) as one pass per member of θ:
/// `θ_i − η·g_i` written into the buffer of the gradient fresh from the tape
/// (`Tensor.sgdStep`), instead of `η · g` and then `θ − …` as two element-wise operations per
/// member (each a value, an operation count and a pass over the parameters). Every entry is
/// rounded as the two operations written, so the result is bit-identical to the lines as written.
///
/// Precondition (proven here): the left operand of `−` is a name, the right a product whose left
/// factor is a name or a number (evaluating it again on the fallback is a lookup) and whose right
/// factor is `∇F(…)`. Run-time guard (`Evaluator.sgdUpdate`), checked before `∇` runs: a training
/// pass (`RunOptions.applyGradients`: in an evaluation pass `∇` is zero and the expression runs as
/// written), η a number, θ a tensor or a collection of tensors; otherwise the expression runs as
/// written. After `∇`, a gradient that does not have θ's structure (it always does: `∇` returns
/// θ's members) is combined by the member-wise operations as written.
struct SGDUpdateRule: ExpressionRule {
    let id = RuleID.sgdUpdate

    func match(_ e: Expr, in a: CheckedAlgorithm) -> FusedExpression? {
        guard case .binary(.subtract, let theta, let step) = e.kind, Matching.isName(theta),
              case .binary(let op, let rate, let gradient) = Matching.unparenthesised(step).kind, Matching.isProduct(op),
              Matching.isName(rate) || Matching.isNumber(rate),
              case .unary(.gradient, _) = Matching.unparenthesised(gradient).kind
        else { return nil }
        return .sgdUpdate(theta: theta, rate: rate, gradient: Matching.unparenthesised(gradient))
    }
}
