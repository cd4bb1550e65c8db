#!/usr/bin/env python3
"""Independent NumPy reference for the forward passes of Algorithms 1–10 of Phuong & Hutter,
"Formal Algorithms for Transformers" (arXiv:2207.09238v1, CC BY 4.0; adapted from [PH22]).

What it is
----------
Literal float64 transcriptions of Algorithms 1–10 (`../../../shared/paper/formal-algorithms.md`
sections 5 and 7; `Algorithms/*.algo` in this repository), written line by line with the paper's
conventions and NOT derived from `algo` or AlgoTensor:

* token representations are columns: X ∈ ℝ^{d×ℓ} is a numpy array of shape (d, ℓ);
* token ids and positions are 1-based as in the paper; the only conversions to numpy's 0-based
  indexing are `W_e[:, v - 1]` and `W_p[:, t - 1]` (Alg. 1, 2 and line 2 of Alg. 8–10) and the
  0-based storage of the Mask matrix (`Mask[t_z - 1, t_x - 1]` holds the paper's Mask[t_z, t_x]);
* softmax of a matrix normalises each column (eq. 2); masking writes −∞ into S (Alg. 4 line 5),
  then the column softmax gives those entries exactly 0;
* Mask orientation as in eq. (3): rows t_z index the context Z, columns t_x the primary X; the
  causal mask is Mask[t_z, t_x] = [[t_z ≤ t_x]]; Mask ≡ 1 is bidirectional / cross-attention;
* layer_norm is Alg. 6 exactly: biased variance, NO ε (erratum A3; the fixtures keep v ≫ 0);
* GELU is the exact erf form of eq. (5), x·½(1 + erf(x/√2)) with `math.erf` per element; ReLU is
  max(x, 0) (used by Alg. 8, undefined in the paper);
* d_attn and d_mid are free hyperparameters (erratum A4); one-argument MHAttention means Z = X
  (A5); heads are stacked vertically, Y = [Y^1; …; Y^H] ∈ ℝ^{H·d_mid×ℓ_x} (Alg. 5 line 3);
* Alg. 8 (EDTransformer) and Alg. 9 (ETransformer) are post-LN, Alg. 10 (DTransformer) pre-LN;
  Alg. 8's decoder loop uses l (A2); Alg. 9's W_u ∈ ℝ^{N_V×d_f} (A1).

Parameters are random (seeded `numpy.random.Generator`, PCG64): weight matrices and embeddings
𝒩(0, 0.5²), biases and β 𝒩(0, 0.3²), γ = 1 + 𝒩(0, 0.2²), so that outputs are far from uniform
and free of NaN. Inputs (token ids, X, Z, e) are random too.

Parameter naming convention (checkpoints and the interpreter use the same one)
-----------------------------------------------------------------------------
A parameter's checkpoint name is its paper name in canonical Unicode spelling (NFC) with bound
indices replaced by their values: superscript after `^`, then subscript after `_`, e.g. `W_e`,
`W_p`, `W_u`, `γ`, `β`, `γ^1_2` (γ^1_l with l = 2), `W^2_mlp1`, `b^2_mlp2`, `W_f`, `b_f`. An index
value of two or more digits is braced: `γ^1_{12}`. Members of an attention collection are
prefixed by the collection's name and a dot: `𝓦_2.W^3_q` (layer 2, head 3), `𝓦_2.b^3_v`,
`𝓦_2.W_o`, `𝓦_2.b_o`; Algorithm 8 uses `𝓦^enc_1.W^1_k`, `𝓦^dec_1.…` and `𝓦^e/d_1.…`
(𝓦 is U+1D4E6). Algorithm 4 called alone has the unprefixed members `W_q, b_q, W_k, b_k, W_v, b_v`
(Algorithm 3 has the same names); Algorithm 5 called alone has `W^h_q, b^h_q, …` with h
substituted (`W^1_q`) and `W_o`, `b_o`. Vectors (biases, γ, β) are rank-1 tensors of length d;
matrices keep the paper's shape, rows × columns (W_e has shape [d_e, N_V]); safetensors stores
them row-major (the Swift `Checkpoint` converts to AlgoTensor's column-major layout).

Fixture layout (one safetensors file per case in `fixtures/`, all tensors F64)
-----------------------------------------------------------------------------
* `input.<name>`: the algorithm's inputs under their paper names: `input.v` (Alg. 1, rank 0),
  `input.ℓ` (Alg. 2, rank 0), `input.e` and `input.e_{1:T}` (Alg. 3; the context vectors e_t are
  the columns of a [d_in, T] matrix), `input.X`, `input.Z` (Alg. 4, 5; for self-attention cases
  Z is stored too and equals X), `input.e` (Alg. 6, 7), `input.x`, `input.z` (Alg. 8–10).
  **Token ids are stored as F64** (rank-1 for sequences, rank-0 for Alg. 1's v), holding the
  paper's 1-based ids exactly (integers < 2^53), so that `Checkpoint.read`, which loads F32/F64
  only, reads the whole file; readers convert them with `Int(value)`.
  Positions (Alg. 2's ℓ) are stored the same way.
* `hyperparameter.Mask` (Alg. 4, 5 only): the 0/1 Mask ∈ {0,1}^{ℓ_z×ℓ_x}, rows t_z, columns t_x.
* parameters under the naming convention above;
* `output.<name>`: the expected output under its paper name: `output.e` (Alg. 1), `output.e_p`
  (Alg. 2), `output.ṽ` (Alg. 3), `output.Ṽ` (Alg. 4, 5), `output.ê` (Alg. 6), `output.p`
  (Alg. 7), `output.P` (Alg. 8–10).
* `__metadata__` (strings): `algo.hyperparameter.<name>` for every hyperparameter the `.algo`
  file declares (the prefix is `CheckpointMetadata.hyperparameterPrefix`), e.g.
  `algo.hyperparameter.d_e = "6"`; the Mask of Alg. 4/5 as `"1"` or `"[[t_z ≤ t_x]]"`;
  `reference.algorithm` (the number), `reference.name` (the function name of the `.algo` file),
  `reference.case`, `reference.seed`, and `reference.dimension.<name>` for the sizes implied by
  the shapes (N_V, ℓ, ℓ_x, ℓ_z, d_x, d_z, d_out, d_in, T, …).

The safetensors bytes are written with numpy only, as
`Tests/AlgoEvalTests/Fixtures/safetensors_reference.py` does (8-byte LE header length, compact
JSON header padded with spaces to 8 bytes, metadata keys sorted, tensors by dtype then name,
row-major little-endian data).

Identities asserted while generating: Alg. 3 equals Alg. 4 for one query (ℓ_x = 1, Mask ≡ 1);
MHAttention with H = 1 equals W_o·Attention + b_o 𝟏ᵀ; DTransformer (and the EDTransformer decoder)
column t depends only on x[1:t] (the output for the prefix x[1:t] equals the first t columns);
every column of every P (and p of Alg. 7) sums to 1; every stored parameter is read by the forward
pass; no parameter matrix is square (so a transposed matrix cannot go unnoticed); plus known values
of GELU, softmax and the causal mask.

Regenerate (from the repository root):

    python3 Tests/Reference/forward_reference.py            # rewrites Tests/Reference/fixtures/
    python3 Tests/Reference/forward_reference.py --check    # recomputes and compares, writes nothing

The Swift side is `Tests/AlgoEvalTests/DirectAlgorithms.swift` (the same algorithms on
AlgoTensor) and `Tests/AlgoEvalTests/ReferenceForwardTests.swift` (compares with these fixtures).
"""
import json
import math
import os
import struct
import sys
import unicodedata

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "fixtures")
INF = float("inf")


# ---------------------------------------------------------------------------------------------
# Naming convention

def index(n):
    """An index value: `2`, or `{12}` for two or more digits."""
    s = str(n)
    return s if len(s) == 1 else "{" + s + "}"


def name(base, sup=None, sub=None):
    """`base^sup_sub` (either part optional), NFC."""
    s = base + ("^" + sup if sup is not None else "") + ("_" + sub if sub is not None else "")
    return unicodedata.normalize("NFC", s)


class Theta:
    """Named parameters; `theta("W_e")`, `theta.collection("𝓦_1")("W^1_q")`. Records what is read."""

    def __init__(self, tensors, prefix="", used=None):
        self.tensors, self.prefix = tensors, prefix
        self.used = set() if used is None else used

    def __call__(self, n):
        key = unicodedata.normalize("NFC", self.prefix + n)
        self.used.add(key)
        return self.tensors[key]

    def collection(self, n):
        return Theta(self.tensors, self.prefix + n + ".", self.used)


def ones(n):
    """𝟏 ∈ ℝ^n."""
    return np.ones(n)


def outer_ones(b, n):
    """b 𝟏ᵀ."""
    return np.outer(b, ones(n))


# ---------------------------------------------------------------------------------------------
# Element-wise functions and softmax

_erf = np.vectorize(math.erf, otypes=[np.float64])


def GELU(x):
    """eq. (5): x·ℙ[X < x] = x·½(1 + erf(x/√2)), element-wise."""
    return x * 0.5 * (1.0 + _erf(x / math.sqrt(2.0)))


def ReLU(x):
    return np.maximum(x, 0.0)


def softmax(A):
    """eq. (2): softmax(A)[t_z, t_x] = exp A[t_z, t_x] / Σ_t exp A[t, t_x] (per column; a vector is
    one column). The column max is subtracted first, which does not change the value."""
    m = np.max(A, axis=0)
    E = np.exp(A - m)
    return E / np.sum(E, axis=0)


# ---------------------------------------------------------------------------------------------
# Algorithms 1–7

def TokenEmbedding(v, W_e):
    """Alg. 1: e = W_e[:, v], v 1-based."""
    return W_e[:, v - 1].copy()


def PositionalEmbedding(l, W_p):
    """Alg. 2: e_p = W_p[:, ℓ], ℓ 1-based."""
    return W_p[:, l - 1].copy()


def BasicAttention(e, e_ctx, W_q, W_k, b_q, b_k, W_v, b_v):
    """Alg. 3, with the context vectors e_t as a list (t = 1 … T)."""
    d_attn = W_q.shape[0]
    T = len(e_ctx)
    q = W_q @ e + b_q                                                   # line 1
    k = [W_k @ e_ctx[t] + b_k for t in range(T)]                        # line 2
    v = [W_v @ e_ctx[t] + b_v for t in range(T)]                        # line 3
    denom = sum(math.exp(q @ k[u] / math.sqrt(d_attn)) for u in range(T))
    alpha = [math.exp(q @ k[t] / math.sqrt(d_attn)) / denom for t in range(T)]   # line 4
    return sum(alpha[t] * v[t] for t in range(T))                       # line 5


def Attention(X, Z, W_qkv, Mask):
    """Alg. 4. `W_qkv` maps `W_q`, `b_q`, … to arrays; Mask[t_z - 1, t_x - 1] is the paper's Mask[t_z, t_x]."""
    l_x, l_z = X.shape[1], Z.shape[1]
    d_attn = W_qkv("W_q").shape[0]
    Q = W_qkv("W_q") @ X + outer_ones(W_qkv("b_q"), l_x)               # line 1
    K = W_qkv("W_k") @ Z + outer_ones(W_qkv("b_k"), l_z)               # line 2
    V = W_qkv("W_v") @ Z + outer_ones(W_qkv("b_v"), l_z)               # line 3
    S = K.T @ Q                                                         # line 4
    for t_z in range(1, l_z + 1):                                       # line 5
        for t_x in range(1, l_x + 1):
            if not Mask[t_z - 1, t_x - 1]:
                S[t_z - 1, t_x - 1] = -INF
    return V @ softmax(S / math.sqrt(d_attn))                           # line 6


def head(W, h):
    """𝓦^h_qkv of a multi-head collection: W_q ↦ W^h_q, …"""
    return lambda n: W(name(n[0], index(h), n[2:]))


def MHAttention(X, Z, W, H, Mask):
    """Alg. 5 (Z = X for the one-argument calls, A5)."""
    Ys = [Attention(X, Z, head(W, h), Mask) for h in range(1, H + 1)]   # lines 1–2
    Y = np.vstack(Ys)                                                   # line 3: [Y^1; …; Y^H]
    return W("W_o") @ Y + outer_ones(W("b_o"), X.shape[1])              # line 4


def layer_norm(e, gamma, beta):
    """Alg. 6, no ε."""
    d_e = e.shape[0]
    m = sum(e[i] for i in range(d_e)) / d_e                             # line 1
    v = sum((e[i] - m) ** 2 for i in range(d_e)) / d_e                  # line 2
    assert v > 1e-3, "layer_norm: variance too close to 0 for a reference (erratum A3)"
    return (e - m) / math.sqrt(v) * gamma + beta                        # line 3


def layer_norm_columns(X, gamma, beta):
    """`for t ∈ [ℓ] : X[:, t] ← layer_norm(X[:, t] | γ, β)` (into a new array)."""
    out = X.copy()
    for t in range(1, X.shape[1] + 1):
        out[:, t - 1] = layer_norm(X[:, t - 1], gamma, beta)
    return out


def Unembedding(e, W_u):
    """Alg. 7."""
    return softmax(W_u @ e)


def causal_mask(l_z, l_x):
    """Mask[t_z, t_x] = [[t_z ≤ t_x]] (eq. 3), stored 0-based."""
    M = np.zeros((l_z, l_x))
    for t_z in range(1, l_z + 1):
        for t_x in range(1, l_x + 1):
            M[t_z - 1, t_x - 1] = 1.0 if t_z <= t_x else 0.0
    return M


def full_mask(l_z, l_x):
    """Mask ≡ 1."""
    return np.ones((l_z, l_x))


def embed(x, W_e, W_p):
    """Lines 1–3 of Alg. 9/10 (2–3 and 11–12 of Alg. 8): X = [e_1, …, e_ℓ], e_t = W_e[:, x[t]] + W_p[:, t]."""
    l = len(x)
    cols = [W_e[:, x[t - 1] - 1] + W_p[:, t - 1] for t in range(1, l + 1)]
    return np.stack(cols, axis=1)


# ---------------------------------------------------------------------------------------------
# Algorithms 8–10

def EDTransformer(z, x, theta, hp):
    l_z = len(z)                                                                     # line 1
    Z = embed(z, theta("W_e"), theta("W_p"))                                         # lines 2–3
    for l in range(1, hp["L_enc"] + 1):                                              # line 4
        L = index(l)
        Z = Z + MHAttention(Z, Z, theta.collection(name("𝓦", "enc", L)), hp["H"], full_mask(l_z, l_z))   # 5
        Z = layer_norm_columns(Z, theta(name("γ", "1", L)), theta(name("β", "1", L)))                     # 6
        Z = Z + theta(name("W", L, "mlp2")) @ ReLU(theta(name("W", L, "mlp1")) @ Z
                                                   + outer_ones(theta(name("b", L, "mlp1")), l_z)) \
            + outer_ones(theta(name("b", L, "mlp2")), l_z)                                                # 7
        Z = layer_norm_columns(Z, theta(name("γ", "2", L)), theta(name("β", "2", L)))                     # 8
    l_x = len(x)                                                                     # line 10
    X = embed(x, theta("W_e"), theta("W_p"))                                         # lines 11–12
    for l in range(1, hp["L_dec"] + 1):                                              # line 13 (A2)
        L = index(l)
        X = X + MHAttention(X, X, theta.collection(name("𝓦", "dec", L)), hp["H"], causal_mask(l_x, l_x))  # 14
        X = layer_norm_columns(X, theta(name("γ", "3", L)), theta(name("β", "3", L)))                     # 15
        X = X + MHAttention(X, Z, theta.collection(name("𝓦", "e/d", L)), hp["H"], full_mask(l_z, l_x))    # 16
        X = layer_norm_columns(X, theta(name("γ", "4", L)), theta(name("β", "4", L)))                     # 17
        X = X + theta(name("W", L, "mlp4")) @ ReLU(theta(name("W", L, "mlp3")) @ X
                                                   + outer_ones(theta(name("b", L, "mlp3")), l_x)) \
            + outer_ones(theta(name("b", L, "mlp4")), l_x)                                                # 18
        X = layer_norm_columns(X, theta(name("γ", "5", L)), theta(name("β", "5", L)))                     # 19
    return softmax(theta("W_u") @ X)                                                 # line 21


def ETransformer(x, theta, hp):
    l = len(x)                                                                       # line 1
    X = embed(x, theta("W_e"), theta("W_p"))                                         # lines 2–3
    for layer in range(1, hp["L"] + 1):                                              # line 4
        L = index(layer)
        X = X + MHAttention(X, X, theta.collection(name("𝓦", None, L)), hp["H"], full_mask(l, l))        # 5
        X = layer_norm_columns(X, theta(name("γ", "1", L)), theta(name("β", "1", L)))                     # 6
        X = X + theta(name("W", L, "mlp2")) @ GELU(theta(name("W", L, "mlp1")) @ X
                                                   + outer_ones(theta(name("b", L, "mlp1")), l)) \
            + outer_ones(theta(name("b", L, "mlp2")), l)                                                  # 7
        X = layer_norm_columns(X, theta(name("γ", "2", L)), theta(name("β", "2", L)))                     # 8
    X = GELU(theta("W_f") @ X + outer_ones(theta("b_f"), l))                         # line 10
    X = layer_norm_columns(X, theta("γ"), theta("β"))                                # line 11
    return softmax(theta("W_u") @ X)                                                 # line 12 (A1)


def DTransformer(x, theta, hp):
    l = len(x)                                                                       # line 1
    X = embed(x, theta("W_e"), theta("W_p"))                                         # lines 2–3
    for layer in range(1, hp["L"] + 1):                                              # line 4
        L = index(layer)
        Xt = layer_norm_columns(X, theta(name("γ", "1", L)), theta(name("β", "1", L)))                    # 5
        X = X + MHAttention(Xt, Xt, theta.collection(name("𝓦", None, L)), hp["H"], causal_mask(l, l))    # 6
        Xt = layer_norm_columns(X, theta(name("γ", "2", L)), theta(name("β", "2", L)))                    # 7
        X = X + theta(name("W", L, "mlp2")) @ GELU(theta(name("W", L, "mlp1")) @ Xt
                                                   + outer_ones(theta(name("b", L, "mlp1")), l)) \
            + outer_ones(theta(name("b", L, "mlp2")), l)                                                  # 8
    X = layer_norm_columns(X, theta("γ"), theta("β"))                                # line 10
    return softmax(theta("W_u") @ X)                                                 # line 11


# ---------------------------------------------------------------------------------------------
# Random parameters under the naming convention

class Params:
    def __init__(self, rng):
        self.rng, self.tensors = rng, {}

    def _put(self, n, a):
        n = unicodedata.normalize("NFC", n)
        assert n not in self.tensors, n
        self.tensors[n] = a

    def matrix(self, n, rows, cols, scale=0.5):
        self._put(n, self.rng.normal(0.0, scale, (rows, cols)))

    def bias(self, n, d):
        self._put(n, self.rng.normal(0.0, 0.3, d))

    def gamma(self, n, d):
        self._put(n, 1.0 + self.rng.normal(0.0, 0.2, d))

    def attention(self, prefix, d_attn, d_x, d_z, d_out, h=None):
        """𝓦_qkv of Alg. 4 (h None) or head h of eq. (4)."""
        sup = None if h is None else index(h)
        self.matrix(prefix + name("W", sup, "q"), d_attn, d_x)
        self.bias(prefix + name("b", sup, "q"), d_attn)
        self.matrix(prefix + name("W", sup, "k"), d_attn, d_z)
        self.bias(prefix + name("b", sup, "k"), d_attn)
        self.matrix(prefix + name("W", sup, "v"), d_out, d_z)
        self.bias(prefix + name("b", sup, "v"), d_out)

    def multihead(self, prefix, H, d_attn, d_mid, d_x, d_z, d_out):
        """𝓦 of eq. (4)."""
        for h in range(1, H + 1):
            self.attention(prefix, d_attn, d_x, d_z, d_mid, h)
        self.matrix(prefix + "W_o", d_out, H * d_mid)
        self.bias(prefix + "b_o", d_out)

    def layer_norm(self, sup, sub, d):
        self.gamma(name("γ", sup, sub), d)
        self.bias(name("β", sup, sub), d)

    def mlp(self, L, first, d_e, d_mlp):
        self.matrix(name("W", L, "mlp" + str(first)), d_mlp, d_e)
        self.bias(name("b", L, "mlp" + str(first)), d_mlp)
        self.matrix(name("W", L, "mlp" + str(first + 1)), d_e, d_mlp)
        self.bias(name("b", L, "mlp" + str(first + 1)), d_e)


def tokens(rng, n_v, l):
    """l random 1-based token ids in [N_V]."""
    return [int(t) for t in rng.integers(1, n_v + 1, size=l)]


# ---------------------------------------------------------------------------------------------
# Cases: (case name, algorithm number, function name, seed, builder(rng, dims) → fixture)

def case_token_embedding(rng, d):
    p = Params(rng)
    p.matrix("W_e", d["d_e"], d["N_V"])
    v = d["v"]
    out = TokenEmbedding(v, Theta(p.tensors)("W_e"))
    return {"input.v": np.array(float(v))}, p.tensors, {"output.e": out}, {}, {"N_V": d["N_V"], "d_e": d["d_e"]}


def case_positional_embedding(rng, d):
    p = Params(rng)
    p.matrix("W_p", d["d_e"], d["ℓ_max"])
    out = PositionalEmbedding(d["ℓ"], Theta(p.tensors)("W_p"))
    return {"input.ℓ": np.array(float(d["ℓ"]))}, p.tensors, {"output.e_p": out}, {}, {"ℓ_max": d["ℓ_max"], "d_e": d["d_e"]}


def case_basic_attention(rng, d):
    p = Params(rng)
    d_in, d_attn, d_out, T = d["d_in"], d["d_attn"], d["d_out"], d["T"]
    p.matrix("W_q", d_attn, d_in)
    p.matrix("W_k", d_attn, d_in)
    p.bias("b_q", d_attn)
    p.bias("b_k", d_attn)
    p.matrix("W_v", d_out, d_in)
    p.bias("b_v", d_out)
    e = rng.normal(0.0, 1.0, d_in)
    E = rng.normal(0.0, 1.0, (d_in, T))
    th = Theta(p.tensors)
    out = BasicAttention(e, [E[:, t] for t in range(T)], th("W_q"), th("W_k"), th("b_q"), th("b_k"), th("W_v"), th("b_v"))
    # Identity: Alg. 3 is Alg. 4 for one query (X = e as one column, Z = [e_1 … e_T], Mask ≡ 1).
    one_query = Attention(e[:, None], E, th, full_mask(T, 1))[:, 0]
    assert np.allclose(one_query, out, rtol=1e-13, atol=1e-14), "Alg. 3 ≠ Alg. 4 for one query"
    return {"input.e": e, "input.e_{1:T}": E}, p.tensors, {"output.ṽ": out}, {}, {"d_in": d_in, "d_attn": d_attn, "d_out": d_out, "T": T}


def mask_for(kind, l_z, l_x):
    return (causal_mask if kind == "causal" else full_mask)(l_z, l_x)


MASK_TEXT = {"causal": "[[t_z ≤ t_x]]", "full": "1"}


def inputs_XZ(rng, d):
    X = rng.normal(0.0, 1.0, (d["d_x"], d["ℓ_x"]))
    if d.get("self"):
        assert d["d_x"] == d["d_z"] and d["ℓ_x"] == d["ℓ_z"]
        Z = X.copy()
    else:
        Z = rng.normal(0.0, 1.0, (d["d_z"], d["ℓ_z"]))
    return X, Z


def case_attention(rng, d):
    p = Params(rng)
    p.attention("", d["d_attn"], d["d_x"], d["d_z"], d["d_out"])
    X, Z = inputs_XZ(rng, d)
    M = mask_for(d["Mask"], d["ℓ_z"], d["ℓ_x"])
    out = Attention(X, Z, Theta(p.tensors), M)
    dims = {k: d[k] for k in ("d_x", "d_z", "d_attn", "d_out", "ℓ_x", "ℓ_z")}
    return {"input.X": X, "input.Z": Z, "hyperparameter.Mask": M}, p.tensors, {"output.Ṽ": out}, \
        {"Mask": MASK_TEXT[d["Mask"]]}, dims


def case_mh_attention(rng, d):
    p = Params(rng)
    p.multihead("", d["H"], d["d_attn"], d["d_mid"], d["d_x"], d["d_z"], d["d_out"])
    X, Z = inputs_XZ(rng, d)
    M = mask_for(d["Mask"], d["ℓ_z"], d["ℓ_x"])
    th = Theta(p.tensors)
    out = MHAttention(X, Z, th, d["H"], M)
    # Identity: MHAttention with H = 1 is W_o·Attention + b_o 𝟏ᵀ (head 1, first d_mid columns of W_o).
    one = {name("W", "1", s): p.tensors[name("W", "1", s)] for s in "qkv"}
    one.update({name("b", "1", s): p.tensors[name("b", "1", s)] for s in "qkv"})
    one["W_o"] = p.tensors["W_o"][:, :d["d_mid"]]
    one["b_o"] = p.tensors["b_o"]
    mh1 = MHAttention(X, Z, Theta(one), 1, M)
    direct = one["W_o"] @ Attention(X, Z, head(Theta(one), 1), M) + outer_ones(one["b_o"], d["ℓ_x"])
    assert np.allclose(mh1, direct, rtol=1e-13, atol=1e-14), "MHAttention(H = 1) ≠ W_o·Attention + b_o"
    dims = {k: d[k] for k in ("d_x", "d_z", "d_attn", "d_mid", "d_out", "ℓ_x", "ℓ_z")}
    return {"input.X": X, "input.Z": Z, "hyperparameter.Mask": M}, p.tensors, {"output.Ṽ": out}, \
        {"H": d["H"], "Mask": MASK_TEXT[d["Mask"]]}, dims


def case_layer_norm(rng, d):
    p = Params(rng)
    p.layer_norm(None, None, d["d_e"])
    e = rng.normal(0.5, 1.0, d["d_e"])
    th = Theta(p.tensors)
    out = layer_norm(e, th("γ"), th("β"))
    return {"input.e": e}, p.tensors, {"output.ê": out}, {}, {"d_e": d["d_e"]}


def case_unembedding(rng, d):
    p = Params(rng)
    p.matrix("W_u", d["N_V"], d["d_e"], scale=0.8)
    e = rng.normal(0.0, 1.0, d["d_e"])
    out = Unembedding(e, Theta(p.tensors)("W_u"))
    assert abs(out.sum() - 1.0) < 1e-14
    return {"input.e": e}, p.tensors, {"output.p": out}, {}, {"N_V": d["N_V"], "d_e": d["d_e"]}


def check_columns_sum_to_one(P):
    assert np.all(P > 0) and np.allclose(P.sum(axis=0), 1.0, rtol=0, atol=1e-14), "a column of P does not sum to 1"


def case_ed_transformer(rng, d):
    p = Params(rng)
    d_e, d_mlp, H, d_attn, d_mid = d["d_e"], d["d_mlp"], d["H"], d["d_attn"], d["d_mid"]
    p.matrix("W_e", d_e, d["N_V"])
    p.matrix("W_p", d_e, d["ℓ_max"])
    for l in range(1, d["L_enc"] + 1):
        L = index(l)
        p.multihead(name("𝓦", "enc", L) + ".", H, d_attn, d_mid, d_e, d_e, d_e)
        p.layer_norm("1", L, d_e)
        p.layer_norm("2", L, d_e)
        p.mlp(L, 1, d_e, d_mlp)
    for l in range(1, d["L_dec"] + 1):
        L = index(l)
        p.multihead(name("𝓦", "dec", L) + ".", H, d_attn, d_mid, d_e, d_e, d_e)
        p.multihead(name("𝓦", "e/d", L) + ".", H, d_attn, d_mid, d_e, d_e, d_e)
        p.layer_norm("3", L, d_e)
        p.layer_norm("4", L, d_e)
        p.layer_norm("5", L, d_e)
        p.mlp(L, 3, d_e, d_mlp)
    p.matrix("W_u", d["N_V"], d_e)
    z, x = tokens(rng, d["N_V"], d["ℓ_z"]), tokens(rng, d["N_V"], d["ℓ_x"])
    theta = Theta(p.tensors)
    P = EDTransformer(z, x, theta, d)
    assert theta.used == set(p.tensors), "unused parameters: %s" % (set(p.tensors) - theta.used)
    check_columns_sum_to_one(P)
    for t in range(1, len(x)):  # the decoder is causal in x: column t depends on x[1:t] (and all of z)
        assert np.allclose(EDTransformer(z, x[:t], theta, d), P[:, :t], rtol=1e-12, atol=1e-15), "EDTransformer not causal"
    hp = {k: d[k] for k in ("ℓ_max", "L_enc", "L_dec", "H", "d_e", "d_mlp", "d_attn", "d_mid")}
    return {"input.z": np.array(z, dtype=float), "input.x": np.array(x, dtype=float)}, p.tensors, {"output.P": P}, hp, \
        {"N_V": d["N_V"], "ℓ_z": d["ℓ_z"], "ℓ_x": d["ℓ_x"]}


def encoder_layers(p, d):
    d_e = d["d_e"]
    p.matrix("W_e", d_e, d["N_V"])
    p.matrix("W_p", d_e, d["ℓ_max"])
    for l in range(1, d["L"] + 1):
        L = index(l)
        p.multihead(name("𝓦", None, L) + ".", d["H"], d["d_attn"], d["d_mid"], d_e, d_e, d_e)
        p.layer_norm("1", L, d_e)
        p.layer_norm("2", L, d_e)
        p.mlp(L, 1, d_e, d["d_mlp"])


def case_e_transformer(rng, d):
    p = Params(rng)
    encoder_layers(p, d)
    p.matrix("W_f", d["d_f"], d["d_e"])
    p.bias("b_f", d["d_f"])
    p.layer_norm(None, None, d["d_f"])
    p.matrix("W_u", d["N_V"], d["d_f"])  # A1
    x = tokens(rng, d["N_V"], d["ℓ"])
    theta = Theta(p.tensors)
    P = ETransformer(x, theta, d)
    assert theta.used == set(p.tensors), "unused parameters"
    check_columns_sum_to_one(P)
    hp = {k: d[k] for k in ("ℓ_max", "L", "H", "d_e", "d_mlp", "d_f", "d_attn", "d_mid")}
    return {"input.x": np.array(x, dtype=float)}, p.tensors, {"output.P": P}, hp, {"N_V": d["N_V"], "ℓ": d["ℓ"]}


def case_d_transformer(rng, d):
    p = Params(rng)
    encoder_layers(p, d)
    p.layer_norm(None, None, d["d_e"])
    p.matrix("W_u", d["N_V"], d["d_e"])
    x = tokens(rng, d["N_V"], d["ℓ"])
    theta = Theta(p.tensors)
    P = DTransformer(x, theta, d)
    assert theta.used == set(p.tensors), "unused parameters"
    check_columns_sum_to_one(P)
    for t in range(1, len(x)):  # column t depends only on x[1:t]
        assert np.allclose(DTransformer(x[:t], theta, d), P[:, :t], rtol=1e-12, atol=1e-15), "DTransformer not causal"
    hp = {k: d[k] for k in ("ℓ_max", "L", "H", "d_e", "d_mlp", "d_attn", "d_mid")}
    return {"input.x": np.array(x, dtype=float)}, p.tensors, {"output.P": P}, hp, {"N_V": d["N_V"], "ℓ": d["ℓ"]}


CASES = [
    # (case, algorithm, name, seed, builder, dimensions)
    ("TokenEmbedding-small", 1, "TokenEmbedding", 101, case_token_embedding, {"d_e": 3, "N_V": 5, "v": 5}),
    ("TokenEmbedding-first", 1, "TokenEmbedding", 102, case_token_embedding, {"d_e": 7, "N_V": 2, "v": 1}),
    ("PositionalEmbedding-small", 2, "PositionalEmbedding", 201, case_positional_embedding, {"d_e": 4, "ℓ_max": 6, "ℓ": 6}),
    ("PositionalEmbedding-first", 2, "PositionalEmbedding", 202, case_positional_embedding, {"d_e": 5, "ℓ_max": 3, "ℓ": 1}),
    ("BasicAttention-small", 3, "BasicAttention", 301, case_basic_attention, {"d_in": 5, "d_attn": 3, "d_out": 2, "T": 4}),
    ("BasicAttention-single", 3, "BasicAttention", 302, case_basic_attention, {"d_in": 2, "d_attn": 4, "d_out": 3, "T": 1}),
    ("Attention-cross", 4, "Attention", 401, case_attention,
     {"d_x": 4, "d_z": 6, "d_attn": 3, "d_out": 5, "ℓ_x": 3, "ℓ_z": 5, "Mask": "full"}),
    ("Attention-causal", 4, "Attention", 402, case_attention,
     {"d_x": 5, "d_z": 5, "d_attn": 2, "d_out": 3, "ℓ_x": 4, "ℓ_z": 4, "Mask": "causal", "self": True}),
    ("Attention-single", 4, "Attention", 403, case_attention,
     {"d_x": 3, "d_z": 2, "d_attn": 4, "d_out": 3, "ℓ_x": 1, "ℓ_z": 1, "Mask": "causal"}),
    ("MHAttention-cross", 5, "MHAttention", 501, case_mh_attention,
     {"H": 3, "d_x": 4, "d_z": 6, "d_attn": 2, "d_mid": 3, "d_out": 5, "ℓ_x": 3, "ℓ_z": 2, "Mask": "full"}),
    ("MHAttention-causal", 5, "MHAttention", 502, case_mh_attention,
     {"H": 2, "d_x": 6, "d_z": 6, "d_attn": 3, "d_mid": 4, "d_out": 6, "ℓ_x": 5, "ℓ_z": 5, "Mask": "causal", "self": True}),
    ("MHAttention-single", 5, "MHAttention", 503, case_mh_attention,
     {"H": 2, "d_x": 3, "d_z": 3, "d_attn": 5, "d_mid": 2, "d_out": 5, "ℓ_x": 1, "ℓ_z": 1, "Mask": "causal", "self": True}),
    ("LayerNorm-small", 6, "layer_norm", 601, case_layer_norm, {"d_e": 5}),
    ("LayerNorm-pair", 6, "layer_norm", 602, case_layer_norm, {"d_e": 2}),
    ("Unembedding-small", 7, "Unembedding", 701, case_unembedding, {"N_V": 6, "d_e": 4}),
    ("Unembedding-wide", 7, "Unembedding", 702, case_unembedding, {"N_V": 3, "d_e": 7}),
    ("EDTransformer-small", 8, "EDTransformer", 801, case_ed_transformer,
     {"N_V": 7, "ℓ_max": 8, "L_enc": 2, "L_dec": 2, "H": 2, "d_e": 6, "d_mlp": 5, "d_attn": 3, "d_mid": 4, "ℓ_z": 5, "ℓ_x": 3}),
    ("EDTransformer-single", 8, "EDTransformer", 802, case_ed_transformer,
     {"N_V": 5, "ℓ_max": 3, "L_enc": 1, "L_dec": 2, "H": 3, "d_e": 4, "d_mlp": 7, "d_attn": 2, "d_mid": 5, "ℓ_z": 1, "ℓ_x": 1}),
    ("EDTransformer-shortcontext", 8, "EDTransformer", 803, case_ed_transformer,
     {"N_V": 7, "ℓ_max": 6, "L_enc": 1, "L_dec": 1, "H": 2, "d_e": 5, "d_mlp": 3, "d_attn": 3, "d_mid": 2, "ℓ_z": 2, "ℓ_x": 6}),
    ("ETransformer-small", 9, "ETransformer", 901, case_e_transformer,
     {"N_V": 9, "ℓ_max": 7, "L": 2, "H": 2, "d_e": 6, "d_mlp": 7, "d_f": 5, "d_attn": 3, "d_mid": 4, "ℓ": 5}),
    ("ETransformer-single", 9, "ETransformer", 902, case_e_transformer,
     {"N_V": 4, "ℓ_max": 3, "L": 1, "H": 3, "d_e": 5, "d_mlp": 2, "d_f": 7, "d_attn": 2, "d_mid": 3, "ℓ": 1}),
    ("DTransformer-small", 10, "DTransformer", 1001, case_d_transformer,
     {"N_V": 11, "ℓ_max": 8, "L": 2, "H": 2, "d_e": 6, "d_mlp": 10, "d_attn": 4, "d_mid": 5, "ℓ": 6}),
    ("DTransformer-single", 10, "DTransformer", 1002, case_d_transformer,
     {"N_V": 5, "ℓ_max": 2, "L": 3, "H": 3, "d_e": 4, "d_mlp": 6, "d_attn": 2, "d_mid": 5, "ℓ": 1}),
]


# ---------------------------------------------------------------------------------------------
# safetensors (numpy only), as Tests/AlgoEvalTests/Fixtures/safetensors_reference.py

def serialize(named, meta):
    """named: name → float64 array. All F64, so the order is by name (UTF-8 bytes)."""
    order = sorted(named, key=lambda n: n.encode("utf-8"))
    header = {"__metadata__": {k: meta[k] for k in sorted(meta, key=lambda k: k.encode("utf-8"))}}
    data = b""
    for n in order:
        raw = np.ascontiguousarray(named[n], dtype="<f8").tobytes(order="C")
        header[n] = {"dtype": "F64", "shape": list(np.shape(named[n])), "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + data


def deserialize(blob):
    n = struct.unpack("<Q", blob[:8])[0]
    header = json.loads(blob[8:8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", {})
    data = blob[8 + n:]
    out = {}
    for k, info in header.items():
        a, b = info["data_offsets"]
        out[k] = np.frombuffer(data[a:b], dtype="<f8").reshape(info["shape"])
    return out, meta


def build(case):
    case_name, number, fn, seed, builder, dims = case
    rng = np.random.default_rng(seed)
    inputs, params, outputs, hyper, dimensions = builder(rng, dims)
    for k, v in params.items():  # non-square matrices, so that a transposed parameter cannot pass
        assert v.ndim != 2 or v.shape[0] != v.shape[1], "%s: %s is square" % (case_name, k)
    named = {}
    for group in (inputs, params, outputs):
        for k, v in group.items():
            k = unicodedata.normalize("NFC", k)
            assert k not in named, k
            assert np.all(np.isfinite(v)), "%s: %s is not finite" % (case_name, k)
            named[k] = np.asarray(v, dtype=np.float64)
    meta = {"reference.algorithm": str(number), "reference.name": fn, "reference.case": case_name,
            "reference.seed": str(seed), "reference.generator": "Tests/Reference/forward_reference.py"}
    for k, v in hyper.items():
        meta["algo.hyperparameter." + k] = str(v)
    for k, v in dimensions.items():
        if k not in hyper:
            meta["reference.dimension." + k] = str(v)
    meta = {unicodedata.normalize("NFC", k): unicodedata.normalize("NFC", v) for k, v in meta.items()}
    return case_name, named, meta


def sanity():
    """Known values: GELU(±1) = ±Φ(±1) (Φ(1) = 0.841344746068543), GELU(0) = 0; softmax per column."""
    g = GELU(np.array([1.0, -1.0, 0.0]))
    assert abs(g[0] - 0.8413447460685429) < 1e-15 and abs(g[1] + 0.15865525393145707) < 1e-15 and g[2] == 0.0
    A = np.array([[0.0, 1.0], [math.log(3.0), -INF]])
    assert np.allclose(softmax(A), [[0.25, 1.0], [0.75, 0.0]], rtol=0, atol=1e-15)
    assert causal_mask(2, 3).tolist() == [[1, 1, 1], [0, 1, 1]]  # rows t_z, columns t_x


def main():
    sanity()
    check = "--check" in sys.argv
    os.makedirs(FIXTURES, exist_ok=True)
    total, failures = 0, []
    for case in CASES:
        case_name, named, meta = build(case)
        path = os.path.join(FIXTURES, case_name + ".safetensors")
        blob = serialize(named, meta)
        total += len(blob)
        if check:
            with open(path, "rb") as f:
                old, old_meta = deserialize(f.read())
            same = old_meta == meta and set(old) == set(named) and all(
                old[k].shape == named[k].shape and np.allclose(old[k], named[k], rtol=1e-13, atol=1e-15) for k in named)
            if not same:
                failures.append(case_name)
            print(("ok       " if same else "DIFFERS  ") + path)
        else:
            with open(path, "wb") as f:
                f.write(blob)
            print("wrote %s (%d bytes, %d tensors)" % (path, len(blob), len(named)))
    print("%d cases, %d bytes" % (len(CASES), total))
    if failures:
        sys.exit("fixtures differ from the script: " + ", ".join(failures))


if __name__ == "__main__":
    main()
