import AlgoSema
import AlgoSyntax

/// `W X + b 𝟏ᵀ` (Alg. 4 lines 1–3, Alg. 5 line 4, Alg. 10 line 8's inner affine map) as one product
/// whose C starts as the bias column (`Variable.matmul(_:addingColumn:)`, GEMM with β = 1), instead
/// of a product and then an addition that reads and writes the whole result again.
///
/// Precondition (proven here): W, X and b are names the checker did not type as scalars (so
/// evaluating them again on the fallback is a lookup), W not typed a column vector. Run-time guard
/// (`Evaluator.matmulAddingColumn`): the product is one the generic path would form the same way (a
/// matrix times a matrix, or head-batched), the dtypes agree, b has the result's column shape;
/// otherwise the expression runs as written.
struct AffineBiasRule: ExpressionRule {
    let id = RuleID.affineBias

    func match(_ e: Expr, in a: CheckedAlgorithm) -> FusedExpression? {
        guard case .binary(.add, let product, let biasTerm) = e.kind,
              case .binary(let pop, let w, let x) = product.kind, Matching.isProduct(pop), Matching.isName(w), Matching.isName(x),
              case .binary(let bop, let bias, let onesT) = biasTerm.kind, Matching.isProduct(bop), Matching.isName(bias),
              case .transpose(let ones) = onesT.kind, case .ones = ones.kind,
              !Matching.isScalar(w, a), !Matching.isScalar(x, a), !Matching.isScalar(bias, a)
        else { return nil }
        if case .array(_, nil, _)? = a.types[w.span] { return nil }
        return .affineBias(w: w, x: x, bias: bias)
    }
}
