// Algorithms 1–10 of Phuong & Hutter, "Formal Algorithms for Transformers" (arXiv:2207.09238v1,
// CC BY 4.0; adapted from [PH22]), written directly against the AlgoTensor API: no interpreter, one
// Swift statement per line of the paper where possible. It proves the runtime computes what the
// NumPy reference (`Tests/Reference/forward_reference.py`) computes (AlgoEvalTests), and it is the
// yardstick of the interpreter's overhead in `algo bench model` (the same forward pass without the
// interpreter).
//
// Conventions (the paper's, as in the reference script): token representations are columns
// (X ∈ ℝ^{d×ℓ} is a `[d, ℓ]` tensor); token ids and positions are 1-based, converted only where a
// column is read (`W_e.column(v − 1)`); Mask is a 0/1 tensor `[ℓ_z, ℓ_x]`, rows t_z the context,
// columns t_x the primary (eq. 3); softmax is per column (eq. 2); layer_norm has no ε (A3); GELU is
// exact (eq. 5); d_attn and d_mid are read off the parameter shapes (A4); heads stack vertically.
//
// Parameters are looked up by their checkpoint names (see the docstring of the reference script):
// `W_e`, `γ^1_2`, `W^2_mlp1`, `𝓦_2.W^3_q`, `𝓦^e/d_1.b_o`, …; index values of two or more digits
// are braced (`γ^1_{12}`).

import AlgoTensor

/// Algorithms 1–10 on AlgoTensor.
public enum Direct {
    // MARK: - Parameter names

    /// An index value as it appears in a name: `2`, or `{12}` for two or more digits.
    public static func index(_ n: Int) -> String { n >= 10 ? "{\(n)}" : "\(n)" }

    /// `base^sup_sub` (either part optional): `name("γ", sup: "1", sub: index(l))` is `γ^1_2` for l = 2.
    public static func name(_ base: String, sup: String? = nil, sub: String? = nil) -> String {
        base + (sup.map { "^" + $0 } ?? "") + (sub.map { "_" + $0 } ?? "")
    }

    /// θ: named parameters (shared), seen through a collection prefix (`𝓦_2.`). Records the names read,
    /// so a test can check that every stored parameter is used.
    public final class Store {
        public let tensors: [String: Variable]
        public internal(set) var used: Set<String> = []
        public init(_ tensors: [String: Variable]) { self.tensors = tensors }
    }

    public struct Parameters {
        public let store: Store
        public internal(set) var prefix = ""

        public init(_ tensors: [String: Variable]) { store = Store(tensors) }
        private init(store: Store, prefix: String) { self.store = store; self.prefix = prefix }

        /// The parameter `prefix + name`; a missing name is a broken fixture.
        public subscript(_ name: String) -> Variable {
            let key = prefix + name
            guard let v = store.tensors[key] else { preconditionFailure("no parameter `\(key)`") }
            store.used.insert(key)
            return v
        }

        /// The members of the attention collection `name` (`𝓦_2` gives `𝓦_2.W^1_q`, …).
        public func collection(_ name: String) -> Parameters { Parameters(store: store, prefix: prefix + name + ".") }
    }

    /// 𝓦_qkv of Algorithm 4.
    public struct AttentionParameters {
        public var W_q, b_q, W_k, b_k, W_v, b_v: Variable

        /// Unsubscripted members (`W_q`, …: Algorithms 3 and 4 called alone) or head h of eq. (4) (`W^h_q`, …).
        public init(_ θ: Parameters, head h: Int? = nil) {
            let sup = h.map(Direct.index)
            W_q = θ[Direct.name("W", sup: sup, sub: "q")]; b_q = θ[Direct.name("b", sup: sup, sub: "q")]
            W_k = θ[Direct.name("W", sup: sup, sub: "k")]; b_k = θ[Direct.name("b", sup: sup, sub: "k")]
            W_v = θ[Direct.name("W", sup: sup, sub: "v")]; b_v = θ[Direct.name("b", sup: sup, sub: "v")]
        }
    }

    // MARK: - Masks (eq. 3)

    /// Mask ≡ 1 ∈ {0,1}^{ℓ_z×ℓ_x}.
    public static func fullMask(_ ℓ_z: Int, _ ℓ_x: Int, dtype: DType) -> Tensor { Tensor.ones([ℓ_z, ℓ_x], dtype: dtype) }

    /// Mask[t_z, t_x] = [[t_z ≤ t_x]] (1-based t_z, t_x; stored 0-based).
    public static func causalMask(_ ℓ_z: Int, _ ℓ_x: Int, dtype: DType) -> Tensor {
        var values = [Double](repeating: 0, count: ℓ_z * ℓ_x)       // column-major: [t_z − 1 + (t_x − 1)·ℓ_z]
        for t_x in 1...ℓ_x {
            for t_z in 1...min(t_x, ℓ_z) { values[t_z - 1 + (t_x - 1) * ℓ_z] = 1 }
        }
        return Tensor(shape: [ℓ_z, ℓ_x], values: values, dtype: dtype)
    }

    // MARK: - Algorithms 1–7

    /// Algorithm 1: e = W_e[:, v] (v 1-based).
    public static func tokenEmbedding(_ v: Int, W_e: Variable) -> Variable { W_e.column(v - 1) }

    /// Algorithm 2: e_p = W_p[:, ℓ] (ℓ 1-based).
    public static func positionalEmbedding(_ ℓ: Int, W_p: Variable) -> Variable { W_p.column(ℓ - 1) }

    /// Algorithm 3 with the context vectors e_1 … e_T as a list.
    public static func basicAttention(_ e: Variable, _ e_ctx: [Variable], _ θ: Parameters) -> Variable {
        let p = AttentionParameters(θ)
        let d_attn = Double(p.W_q.shape[0])
        let q = p.W_q.matmul(e) + p.b_q                                         // 1
        let k = e_ctx.map { p.W_k.matmul($0) + p.b_k }                          // 2
        let v = e_ctx.map { p.W_v.matmul($0) + p.b_v }                          // 3
        let score = k.map { (q * $0).sum() / d_attn.squareRoot() }              // qᵀk_t / √d_attn (rank 0)
        let denominator = score.dropFirst().reduce(score[0].exp()) { $0 + $1.exp() }
        let α = score.map { $0.exp() / denominator }                            // 4
        return zip(α, v).dropFirst().reduce(α[0] * v[0]) { $0 + $1.0 * $1.1 } // 5
    }

    /// Algorithm 4: Ṽ ← Attention(X, Z | 𝓦_qkv, Mask). A causal mask computes lines 4–6 on the kept
    /// half only (`Variable.causalAttention`), as the interpreter does.
    public static func attention(_ X: Variable, _ Z: Variable, _ 𝓦_qkv: AttentionParameters, mask: Tensor) -> Variable {
        let d_attn = Double(𝓦_qkv.W_q.shape[0])
        let Q = 𝓦_qkv.W_q.matmul(X, addingColumn: 𝓦_qkv.b_q)                  // 1 (W X + b 𝟏ᵀ as one product, as the interpreter runs it)
        let K = 𝓦_qkv.W_k.matmul(Z, addingColumn: 𝓦_qkv.b_k)                  // 2
        let V = 𝓦_qkv.W_v.matmul(Z, addingColumn: 𝓦_qkv.b_v)                  // 3
        if (Tensor.ones([], dtype: mask.dtype) - mask).isStrictlyLowerIndicator(Q.shape[1]) {
            return Variable.causalAttention(keys: K, queries: Q, values: V, divisor: d_attn.squareRoot())  // 4–6
        }
        var S = K.matmul(Q, transposeSelf: true)                                // 4: KᵀQ
        let minusInfinity = Tensor(scalar: -.infinity, dtype: mask.dtype)
        S = S + Variable(Tensor.select(mask, mask.scalarZero, minusInfinity))   // 5: ¬Mask → −∞
        return V.matmul((S / d_attn.squareRoot()).softmaxColumns())             // 6
    }

    /// Algorithm 5: Ṽ ← MHAttention(X, Z | 𝓦, Mask) (Z = X for the one-argument calls, A5).
    public static func mhAttention(_ X: Variable, Z: Variable? = nil, _ 𝓦: Parameters, H: Int, mask: Tensor) -> Variable {
        let Z = Z ?? X
        let Ys = (1...H).map { h in attention(X, Z, AttentionParameters(𝓦, head: h), mask: mask) }  // 1–2
        let Y = Variable.concat(Ys, axis: 0)                                    // 3: [Y¹; Y²; …; Y^H]
        return 𝓦["W_o"].matmul(Y, addingColumn: 𝓦["b_o"])                      // 4
    }

    /// Algorithm 6: ê ← layer_norm(e | γ, β), e ∈ ℝ^{d_e}, no ε.
    public static func layerNorm(_ e: Variable, γ: Variable, β: Variable) -> Variable {
        let d_e = Double(e.shape[0])
        let m = e.sum(axis: 0) / d_e                                            // 1
        let v = ((e - m) * (e - m)).sum(axis: 0) / d_e                          // 2
        return (e - m) / v.sqrt() * γ + β                                       // 3
    }

    /// `for t ∈ [ℓ] : X[:, t] ← layer_norm(X[:, t] | γ, β)`, all columns at once: (X − m)/√v ⊙ γ + β
    /// per column (`layerNormColumns(γ:β:epsilon: 0)`, one fused kernel in f32).
    public static func layerNormColumns(_ X: Variable, γ: Variable, β: Variable) -> Variable {
        X.layerNormColumns(γ: γ, β: β, epsilon: 0)
    }

    /// The same loop written column by column with Algorithm 6 (`replacingColumn`), for the identity test.
    public static func layerNormColumnByColumn(_ X: Variable, γ: Variable, β: Variable) -> Variable {
        var X = X
        for t in 1...X.shape[1] { X = X.replacingColumn(t - 1, with: layerNorm(X.column(t - 1), γ: γ, β: β)) }
        return X
    }

    /// Algorithm 7: p = softmax(W_u e).
    public static func unembedding(_ e: Variable, W_u: Variable) -> Variable {
        W_u.matmul(e).reshaped([W_u.shape[0], 1]).softmaxColumns().reshaped([W_u.shape[0]])
    }

    // MARK: - Algorithms 8–10

    /// Hyperparameters of Algorithms 8–10 by name (`L`, `H`, `L_enc`, …).
    public typealias Hyperparameters = [String: Int]

    /// `for t ∈ [ℓ] : e_t ← W_e[:, x[t]] + W_p[:, t]; X ← [e_1, e_2, … e_ℓ]` (x 1-based ids).
    public static func embed(_ x: [Int], _ θ: Parameters) -> Variable {
        let W_e = θ["W_e"], W_p = θ["W_p"]
        let e = (1...x.count).map { t in W_e.column(x[t - 1] - 1) + W_p.column(t - 1) }
        return Variable.stackColumns(e)
    }

    /// Algorithm 8: P ← EDTransformer(z, x | θ) (post-LN, ReLU; decoder loop over l, A2).
    public static func edTransformer(z: [Int], x: [Int], _ θ: Parameters, _ hp: Hyperparameters) -> Variable {
        let dtype = θ["W_e"].dtype
        let H = hp["H"]!
        let ℓ_z = z.count                                                                          // 1
        var Z = embed(z, θ)                                                                        // 2–3
        let encoderMask = fullMask(ℓ_z, ℓ_z, dtype: dtype)                                         // the same in every layer
        for l in 1...hp["L_enc"]! {                                                                // 4
            let L = index(l)
            Z = Z + mhAttention(Z, θ.collection(name("𝓦", sup: "enc", sub: L)), H: H, mask: encoderMask)  // 5
            Z = layerNormColumns(Z, γ: θ[name("γ", sup: "1", sub: L)], β: θ[name("β", sup: "1", sub: L)])  // 6
            Z = Z + θ[name("W", sup: L, sub: "mlp2")].matmul((θ[name("W", sup: L, sub: "mlp1")].matmul(Z)
                    + θ[name("b", sup: L, sub: "mlp1")]).relu()) + θ[name("b", sup: L, sub: "mlp2")]          // 7
            Z = layerNormColumns(Z, γ: θ[name("γ", sup: "2", sub: L)], β: θ[name("β", sup: "2", sub: L)])  // 8
        }
        let ℓ_x = x.count                                                                          // 10
        var X = embed(x, θ)                                                                        // 11–12
        let decoderMask = causalMask(ℓ_x, ℓ_x, dtype: dtype), crossMask = fullMask(ℓ_z, ℓ_x, dtype: dtype)
        for l in 1...hp["L_dec"]! {                                                                // 13
            let L = index(l)
            X = X + mhAttention(X, θ.collection(name("𝓦", sup: "dec", sub: L)), H: H, mask: decoderMask)  // 14
            X = layerNormColumns(X, γ: θ[name("γ", sup: "3", sub: L)], β: θ[name("β", sup: "3", sub: L)])  // 15
            X = X + mhAttention(X, Z: Z, θ.collection(name("𝓦", sup: "e/d", sub: L)), H: H, mask: crossMask)  // 16
            X = layerNormColumns(X, γ: θ[name("γ", sup: "4", sub: L)], β: θ[name("β", sup: "4", sub: L)])  // 17
            X = X + θ[name("W", sup: L, sub: "mlp4")].matmul((θ[name("W", sup: L, sub: "mlp3")].matmul(X)
                    + θ[name("b", sup: L, sub: "mlp3")]).relu()) + θ[name("b", sup: L, sub: "mlp4")]          // 18
            X = layerNormColumns(X, γ: θ[name("γ", sup: "5", sub: L)], β: θ[name("β", sup: "5", sub: L)])  // 19
        }
        return θ["W_u"].matmul(X).softmaxColumns()                                                 // 21
    }

    /// Algorithm 9: P ← ETransformer(x | θ) (BERT: post-LN, GELU; W_u ∈ ℝ^{N_V×d_f}, A1).
    public static func eTransformer(x: [Int], _ θ: Parameters, _ hp: Hyperparameters) -> Variable {
        let dtype = θ["W_e"].dtype
        let ℓ = x.count                                                                            // 1
        var X = embed(x, θ)                                                                        // 2–3
        let mask = fullMask(ℓ, ℓ, dtype: dtype)                                                    // the same in every layer
        for l in 1...hp["L"]! {                                                                    // 4
            let L = index(l)
            X = X + mhAttention(X, θ.collection(name("𝓦", sub: L)), H: hp["H"]!, mask: mask)       // 5
            X = layerNormColumns(X, γ: θ[name("γ", sup: "1", sub: L)], β: θ[name("β", sup: "1", sub: L)])  // 6
            X = X + θ[name("W", sup: L, sub: "mlp2")].matmul((θ[name("W", sup: L, sub: "mlp1")].matmul(X)
                    + θ[name("b", sup: L, sub: "mlp1")]).gelu()) + θ[name("b", sup: L, sub: "mlp2")]          // 7
            X = layerNormColumns(X, γ: θ[name("γ", sup: "2", sub: L)], β: θ[name("β", sup: "2", sub: L)])  // 8
        }
        X = (θ["W_f"].matmul(X) + θ["b_f"]).gelu()                                                 // 10
        X = layerNormColumns(X, γ: θ["γ"], β: θ["β"])                                              // 11
        return θ["W_u"].matmul(X).softmaxColumns()                                                 // 12
    }

    /// Algorithm 10: P ← DTransformer(x | θ) (GPT: pre-LN, GELU, causal mask).
    public static func dTransformer(x: [Int], _ θ: Parameters, _ hp: Hyperparameters) -> Variable {
        let dtype = θ["W_e"].dtype
        let ℓ = x.count                                                                            // 1
        var X = embed(x, θ)                                                                        // 2–3
        let mask = causalMask(ℓ, ℓ, dtype: dtype)                                                  // Mask[t, t′] = [[t ≤ t′]], every layer
        for l in 1...hp["L"]! {                                                                    // 4
            let L = index(l)
            var X̃ = layerNormColumns(X, γ: θ[name("γ", sup: "1", sub: L)], β: θ[name("β", sup: "1", sub: L)])  // 5
            X = X + mhAttention(X̃, θ.collection(name("𝓦", sub: L)), H: hp["H"]!, mask: mask)      // 6
            X̃ = layerNormColumns(X, γ: θ[name("γ", sup: "2", sub: L)], β: θ[name("β", sup: "2", sub: L)])  // 7
            X = X + θ[name("W", sup: L, sub: "mlp2")].matmul(θ[name("W", sup: L, sub: "mlp1")].matmul(X̃,
                    addingColumn: θ[name("b", sup: L, sub: "mlp1")]).gelu()) + θ[name("b", sup: L, sub: "mlp2")]  // 8
        }
        X = layerNormColumns(X, γ: θ["γ"], β: θ["β"])                                              // 10
        return θ["W_u"].matmul(X).softmaxColumns()                                                 // 11
    }
}

private extension Tensor {
    /// A rank-0 zero of this dtype.
    var scalarZero: Tensor { Tensor(scalar: 0, dtype: dtype) }
}
