import AlgoSema
import AlgoSyntax

/// `KᵀQ` (Alg. 4 line 4, Alg. 2's `k_tᵀ q`) as one product with a transposed left operand
/// (`Variable.matmul(_:transposeSelf:)`), without materialising Kᵀ.
///
/// Precondition (proven here): the left factor is a transpose of a matrix the checker typed with
/// more than one column. Run-time guard (`Evaluator.transposedProduct`): K is a matrix (or
/// head-batched) whose rows match the right factor's, and the right factor is no scalar; otherwise
/// the product runs as written.
struct TransposedProductRule: ExpressionRule {
    let id = RuleID.transposedProduct

    func match(_ e: Expr, in a: CheckedAlgorithm) -> FusedExpression? {
        guard case .binary(let op, let kT, let q) = e.kind, Matching.isProduct(op), case .transpose(let k) = kT.kind,
              case .array(_, let cols?, _)? = a.types[k.span], !(cols == Dim.one) else { return nil }
        return .transposedProduct(k: k, q: q)
    }
}
