#!/usr/bin/env python3
"""PyTorch peer baseline for `algo bench model`: Algorithm 10 (DTransformer) of Phuong & Hutter,
"Formal Algorithms for Transformers" (arXiv:2207.09238v1), its training step (Algorithm 13,
DTraining, and the minibatch variant DTrainingMinibatch, Algorithm 19 of `Algorithms/`), timed in
PyTorch on the same configurations, parameters, tokens and FLOP counts as `algo bench model`.

It imports nothing from `algo`: the model, the configurations, the FLOP formula and the token
stream are restated here from the paper and from `Sources/AlgoBench/ModelConfig.swift` /
`ModelRun.swift`, where `algo bench model` defines them. `Tests/Reference/README.md` says how to
set up the venv and how to use this with `bench_vs_torch.py`.

The model, line by line (Algorithm 10 as `Algorithms/DTransformer.algo` writes it)
---------------------------------------------------------------------------------
PyTorch keeps tokens as rows, the paper as columns: X ∈ ℝ^{d_e×ℓ} is held as a (B, ℓ, d_e) tensor
(B sequences side by side), so W·X + b𝟏ᵀ is `F.linear(X, W, b)` with W in the paper's own shape.

* line 2: e_t = W_e[:, x[t]] + W_p[:, t]; token ids are the paper's 1-based ones (converted once);
* lines 5, 7, 10: layer_norm is Algorithm 6 with NO ε (`Algorithms/LayerNorm.algo`: biased
  variance, ê = (e − m)/√v ⊙ γ + β): `F.layer_norm(…, eps=0.0)` computes exactly that;
* line 6: MHAttention (Algorithm 5) with Attention (Algorithm 4) per head: Q = W_q X̃ + b_q𝟏ᵀ,
  K, V likewise, S = KᵀQ, S[t_z, t_x] = −∞ unless t_z ≤ t_x (the causal Mask), Ṽ = V·softmax(S/√d_attn)
  (softmax over t_z), Y = [Y¹; …; Y^H] (heads stacked), W_o Y + b_o𝟏ᵀ. Mode `eager` writes lines
  4–6 of Algorithm 4 literally (matmul, masked_fill −∞, softmax, matmul); modes `sdpa` and
  `compile` use `F.scaled_dot_product_attention(is_causal=True)`, the same function (its default
  scale is 1/√d_attn);
* line 8: X + W_mlp2 GELU(W_mlp1 X̃ + b_mlp1𝟏ᵀ) + b_mlp2𝟏ᵀ with the exact (erf) GELU of eq. (5);
* line 11: P = softmax(W_u X), W_u ∈ ℝ^{N_V×d_e} its own matrix (not tied to W_e).

Parameters are exactly those `algo params Algorithms/DTransformer.algo --set …` lists, with the
same names and shapes (`W_e` d_e×N_V, `𝓦_l.W^h_q` d_attn×d_e, `γ^1_l`, …). For speed, as
frameworks store them, each layer's W^h_q, W^h_k, W^h_v of all heads are rows of one tensor
W_qkv ∈ ℝ^{H·(2·d_attn + d_mid)×d_e} (queries of heads 1…H, then keys, then values; biases alike),
and W_e, W_p are stored transposed (embedding tables, one row per token/position); the named
parameters are views of these (`Model.named`), so a checkpoint loads into, and is written from,
the same numbers.

Training step: loss(θ) = −Σ_{t=1}^{ℓ−1} log P(θ)[x[t+1], t] (DTraining lines 4–5; for B > 1 the
sum over the B sequences divided by B, DTrainingMinibatch line 3), ∇ by autograd, θ ← θ − η·∇ with
η = 0.01 (SGD without momentum, `torch._foreach_add_`). log P is `log_softmax` of W_u X.

Configurations, FLOPs, tokens (restated from `Sources/AlgoBench/ModelConfig.swift`, `ModelRun.swift`)
-----------------------------------------------------------------------------------------------------
tiny: N_V = 65, ℓ = 64, L = 2, H = 4, d_e = 64, d_mlp = 256; small: N_V = 65, ℓ = 256, L = 6, H = 6,
d_e = 384, d_mlp = 1536; gpt2: N_V = 50257, ℓ = 1024, L = 12, H = 12, d_e = 768, d_mlp = 3072;
d_attn = d_mid = d_e/H, ℓ = ℓ_max (every sequence fills the context).
FLOPs are those of the algorithm's matrix products as written, 2·M·K·N each with the full ℓ×ℓ
scores: forward = L·(2·ℓ·d_e·H·(2·d_attn + d_mid) + 2·ℓ²·H·d_attn + 2·ℓ²·H·d_mid + 2·ℓ·H·d_mid·d_e
+ 4·ℓ·d_e·d_mlp) + 2·ℓ·d_e·N_V per sequence, which with d_attn = d_mid = d_e/H is
L·(8·ℓ·d_e² + 4·ℓ²·d_e + 4·ℓ·d_e·d_mlp) + 2·ℓ·d_e·N_V; a training step over B sequences is
3·B·forward (the ∇ of each product is two products of its size); element-wise work is not counted.
Tokens: sequence s (0-based) is the LCG stream of `ModelRun.tokens` (same ids as algo's bench).
Initial parameters follow `algo run`'s rule (γ = 1, β and biases 0, other weights 𝒩(0, 0.02²)),
drawn with PyTorch's generator (not the same numbers as algo's xoshiro; the speed does not depend
on them, and `check` loads algo's own).

Usage (from the repository root, with the venv of Tests/Reference/README.md)
---------------------------------------------------------------------------
    python Tests/Reference/torch_baseline.py check --algo .build/release/algo
    python Tests/Reference/torch_baseline.py bench --config tiny,small --threads 2 --batch 1,8
    python Tests/Reference/torch_baseline.py bench --config tiny --mode eager,compile --json

`check` first compares with the NumPy reference fixture (float64, no algo needed), then, given
`--algo`, with `algo run`'s own output on algo's own saved parameters (forward in float32 and
float64, one training step of DTraining and DTrainingMinibatch in float64). `bench` runs each
measurement in a child process of its own (its peak RSS is its own; `--in-process` turns it off).
"""
import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
import torch.nn.functional as F

from bench_vs_torch import cpu_name   # this directory (the driver imports no torch)

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

# ---------------------------------------------------------------------------------------------
# Configurations and counts (ModelConfig)

CONFIGS = {
    "tiny": dict(N_V=65, ell=64, L=2, H=4, d_e=64, d_mlp=256),
    "small": dict(N_V=65, ell=256, L=6, H=6, d_e=384, d_mlp=1536),
    "gpt2": dict(N_V=50257, ell=1024, L=12, H=12, d_e=768, d_mlp=3072),
}


def dims(name):
    """A configuration with d_attn = d_mid = d_e/H."""
    c = dict(CONFIGS[name])
    c["d_attn"] = c["d_mid"] = c["d_e"] // c["H"]
    return c


def forward_flops(c):
    """FLOPs of the matrix products of one forward pass over one sequence (see the module doc)."""
    l, d, h, da, dm = c["ell"], c["d_e"], c["H"], c["d_attn"], c["d_mid"]
    per_layer = (2 * l * d * h * (2 * da + dm) + 2 * l * l * h * da + 2 * l * l * h * dm
                 + 2 * l * h * dm * d + 4 * l * d * c["d_mlp"])
    return float(c["L"] * per_layer + 2 * l * d * c["N_V"])


def train_flops(c, batch):
    """A training step over `batch` sequences: forward, ∇ (2× the forward's products), update."""
    return 3.0 * forward_flops(c) * batch


def parameter_count(c):
    """Numbers in θ (Algorithm 10's list; eq. (4) per layer with d_out = d_e; W_u untied)."""
    d, h, da, dm, dmlp = c["d_e"], c["H"], c["d_attn"], c["d_mid"], c["d_mlp"]
    attention = h * (2 * (da * d + da) + dm * d + dm) + d * h * dm + d
    layer = attention + 4 * d + 2 * dmlp * d + dmlp + d
    return d * c["N_V"] + d * c["ell"] + c["L"] * layer + 2 * d + c["N_V"] * d


def tokens(count, vocabulary, stream):
    """`ModelRun.tokens`: 1-based ids from a 64-bit linear congruential stream per sequence."""
    mask = (1 << 64) - 1
    state = (0x2545F4914F6CDD1D + stream * 0x9E3779B97F4A7C15) & mask
    out = []
    for _ in range(count):
        state = (state * 6364136223846793005 + 1442695040888963407) & mask
        out.append((state >> 33) % vocabulary + 1)
    return out


# ---------------------------------------------------------------------------------------------
# The model

def index(n):
    """A bound index in a checkpoint name: `2`, or `{12}` for two or more digits."""
    return str(n) if n < 10 else "{%d}" % n


class Model:
    """θ of Algorithm 10 in PyTorch's layout (module doc); `named()` gives the paper's tensors."""

    def __init__(self, c, dtype=torch.float32, seed=0):
        self.c = c
        d, h, da, dm, dmlp, nv = c["d_e"], c["H"], c["d_attn"], c["d_mid"], c["d_mlp"], c["N_V"]
        g = torch.Generator().manual_seed(seed)

        def weight(*shape):
            return (torch.randn(*shape, generator=g, dtype=torch.float64) * 0.02).to(dtype)

        def zeros(*shape):
            return torch.zeros(*shape, dtype=dtype)

        self.emb = weight(nv, d)            # W_eᵀ
        self.pos = weight(c["ell"], d)      # W_pᵀ
        self.layers = []
        for _ in range(c["L"]):
            self.layers.append(dict(
                W_qkv=weight(h * (2 * da + dm), d), b_qkv=zeros(h * (2 * da + dm)),
                W_o=weight(d, h * dm), b_o=zeros(d),
                g1=torch.ones(d, dtype=dtype), b1=zeros(d), g2=torch.ones(d, dtype=dtype), b2=zeros(d),
                W_mlp1=weight(dmlp, d), b_mlp1=zeros(dmlp), W_mlp2=weight(d, dmlp), b_mlp2=zeros(d)))
        self.gamma, self.beta = torch.ones(d, dtype=dtype), zeros(d)
        self.W_u = weight(nv, d)

    def tensors(self):
        """Every stored tensor (the leaves autograd differentiates), in a fixed order."""
        out = [self.emb, self.pos]
        for layer in self.layers:
            out += [layer[k] for k in sorted(layer)]
        return out + [self.gamma, self.beta, self.W_u]

    def named(self):
        """{checkpoint name: view in the paper's shape}, the names and order of `algo params`."""
        c, out = self.c, {}
        h, da, dm = c["H"], c["d_attn"], c["d_mid"]
        out["W_e"], out["W_p"] = self.emb.t(), self.pos.t()
        for l, layer in enumerate(self.layers, start=1):
            w = "𝓦_%s." % index(l)
            for j in range(1, h + 1):
                q, k, v = (j - 1) * da, h * da + (j - 1) * da, 2 * h * da + (j - 1) * dm
                out[w + "W^%s_q" % index(j)] = layer["W_qkv"][q:q + da]
                out[w + "b^%s_q" % index(j)] = layer["b_qkv"][q:q + da]
                out[w + "W^%s_k" % index(j)] = layer["W_qkv"][k:k + da]
                out[w + "b^%s_k" % index(j)] = layer["b_qkv"][k:k + da]
                out[w + "W^%s_v" % index(j)] = layer["W_qkv"][v:v + dm]
                out[w + "b^%s_v" % index(j)] = layer["b_qkv"][v:v + dm]
            out[w + "W_o"], out[w + "b_o"] = layer["W_o"], layer["b_o"]
            s = index(l)
            out["γ^1_" + s], out["β^1_" + s] = layer["g1"], layer["b1"]
            out["γ^2_" + s], out["β^2_" + s] = layer["g2"], layer["b2"]
            out["W^%s_mlp1" % s], out["b^%s_mlp1" % s] = layer["W_mlp1"], layer["b_mlp1"]
            out["W^%s_mlp2" % s], out["b^%s_mlp2" % s] = layer["W_mlp2"], layer["b_mlp2"]
        out["γ"], out["β"], out["W_u"] = self.gamma, self.beta, self.W_u
        return out

    def load(self, arrays):
        """Copies every parameter from {name: array} (a checkpoint); a missing name or a wrong
        shape is an error, and so is a tensor of the checkpoint that is no parameter here
        (other than `input.*`, `output.*`, `hyperparameter.*`)."""
        named = self.named()
        for n, view in named.items():
            if n not in arrays:
                raise KeyError("the checkpoint has no parameter `%s`" % n)
            a = torch.from_numpy(np.ascontiguousarray(arrays[n]))
            if tuple(a.shape) != tuple(view.shape):
                raise ValueError("`%s` has shape %s in the checkpoint, %s here" % (n, tuple(a.shape), tuple(view.shape)))
            with torch.no_grad():
                view.copy_(a.to(view.dtype))
        extra = [n for n in arrays if n not in named and not n.startswith(("input.", "output.", "hyperparameter."))]
        if extra:
            raise KeyError("the checkpoint has tensors that are no parameter of DTransformer: %s" % ", ".join(sorted(extra)))

    def requires_grad_(self):
        for t in self.tensors():
            t.requires_grad_(True)
        return self


def attention_eager(q, k, v, causal=True):
    """Algorithm 4 lines 4–6 on rows: q, k (B, H, ℓ, d_attn), v (B, H, ℓ, d_mid)."""
    s = q @ k.transpose(-1, -2)                       # s[t_x, t_z] = S[t_z, t_x] = k_{t_z}·q_{t_x}
    if causal:
        ell = q.shape[-2]
        future = torch.ones(ell, ell, dtype=torch.bool).triu(1)   # t_z > t_x: ¬Mask[t_z, t_x]
        s = s.masked_fill(future, float("-inf"))
    return torch.softmax(s / math.sqrt(q.shape[-1]), dim=-1) @ v


def attention_sdpa(q, k, v, causal=True):
    return F.scaled_dot_product_attention(q, k, v, is_causal=causal)


def logits(m, x, attention, causal=True):
    """W_u X of Algorithm 10 for token rows x (B, ℓ) of 0-based ids: (B, ℓ, N_V)."""
    c = m.c
    h, da, dm, d = c["H"], c["d_attn"], c["d_mid"], c["d_e"]
    B, ell = x.shape
    X = m.emb[x] + m.pos[:ell]                                        # line 2–3
    for layer in m.layers:                                            # line 4
        Xt = F.layer_norm(X, (d,), layer["g1"], layer["b1"], eps=0.0)  # line 5
        qkv = F.linear(Xt, layer["W_qkv"], layer["b_qkv"])
        q, k, v = qkv.split([h * da, h * da, h * dm], dim=-1)
        q = q.view(B, ell, h, da).transpose(1, 2)
        k = k.view(B, ell, h, da).transpose(1, 2)
        v = v.view(B, ell, h, dm).transpose(1, 2)
        Y = attention(q, k, v, causal).transpose(1, 2).reshape(B, ell, h * dm)   # [Y¹; …; Y^H]
        X = X + F.linear(Y, layer["W_o"], layer["b_o"])               # line 6
        Xt = F.layer_norm(X, (d,), layer["g2"], layer["b2"], eps=0.0)  # line 7
        X = X + F.linear(F.gelu(F.linear(Xt, layer["W_mlp1"], layer["b_mlp1"])), layer["W_mlp2"], layer["b_mlp2"])  # line 8
    X = F.layer_norm(X, (d,), m.gamma, m.beta, eps=0.0)               # line 10
    return F.linear(X, m.W_u)                                         # line 11 (before softmax)


def probabilities(m, x, attention, causal=True):
    """P = softmax(W_u X), as (B, ℓ, N_V): P[b, t, v] is the paper's P[v, t] of sequence b."""
    return torch.softmax(logits(m, x, attention, causal), dim=-1)


def loss(m, x, attention):
    """−Σ_b Σ_{t=1}^{ℓ−1} log P[x_b[t+1], t] / B (DTraining line 5; DTrainingMinibatch line 3)."""
    B = x.shape[0]
    z = logits(m, x, attention)
    return F.cross_entropy(z[:, :-1].reshape(-1, z.shape[-1]), x[:, 1:].reshape(-1), reduction="sum") / B


def generate(m, first, count, generator, record=None):
    """DInference (Algorithm 14) from the one-token prompt `first` (0-based), `count` new tokens,
    τ = 1, with a KV cache: each layer keeps K and V of the positions computed so far and each step
    computes only the new position's column (what `generate(use_cache=True)` does; `torch.cat`
    grows the cache, as HuggingFace's DynamicCache does). The new query attends to every kept
    position, which the causal mask keeps, so no mask is needed. Returns the sampled ids (0-based);
    `record` (a list) receives each step's P column (N_V,) for `check_generate`."""
    c = m.c
    h, da, dm, d = c["H"], c["d_attn"], c["d_mid"], c["d_e"]
    cache = [(None, None)] * len(m.layers)
    x, out = first, []
    with torch.no_grad():
        for pos in range(count):
            X = (m.emb[x] + m.pos[pos]).view(1, 1, d)                             # line 2 of Alg. 10, one column
            for l, layer in enumerate(m.layers):
                Xt = F.layer_norm(X, (d,), layer["g1"], layer["b1"], eps=0.0)
                q, k, v = F.linear(Xt, layer["W_qkv"], layer["b_qkv"]).split([h * da, h * da, h * dm], dim=-1)
                q = q.view(1, 1, h, da).transpose(1, 2)
                k = k.view(1, 1, h, da).transpose(1, 2)
                v = v.view(1, 1, h, dm).transpose(1, 2)
                K, V = cache[l]
                K = k if K is None else torch.cat([K, k], dim=2)
                V = v if V is None else torch.cat([V, v], dim=2)
                cache[l] = (K, V)
                Y = F.scaled_dot_product_attention(q, K, V).transpose(1, 2).reshape(1, 1, h * dm)
                X = X + F.linear(Y, layer["W_o"], layer["b_o"])
                Xt = F.layer_norm(X, (d,), layer["g2"], layer["b2"], eps=0.0)
                X = X + F.linear(F.gelu(F.linear(Xt, layer["W_mlp1"], layer["b_mlp1"])), layer["W_mlp2"], layer["b_mlp2"])
            p = torch.softmax(F.linear(F.layer_norm(X, (d,), m.gamma, m.beta, eps=0.0), m.W_u).view(-1), dim=0)
            if record is not None:
                record.append(p)
            x = int(torch.multinomial(p, 1, generator=generator))                  # q ∝ p^{1/τ}, τ = 1
            out.append(x)
    return out


def check_generate(report):
    """The KV-cache loop against recomputation here (float64, the small fixture's model): each
    step's P column equals column t of P on the whole prefix."""
    c = dict(dims("tiny"), ell=24)
    m = Model(c, dtype=torch.float64, seed=3)
    steps = []
    ids = generate(m, 5, c["ell"], torch.Generator().manual_seed(1), record=steps)
    x = torch.tensor([[5] + ids[:-1]])
    with torch.no_grad():
        P = probabilities(m, x, attention_eager)[0]
    diff = max(float((P[t] - steps[t]).abs().max()) for t in range(c["ell"]))
    report.append(dict(check="kv_cache_generate", config="tiny, ℓ = 24", dtype="float64", max_abs_diff=diff, tolerance=TOL_F64,
                       ok=diff <= TOL_F64))


def sgd_update(m, eta):
    """θ ← θ − η·∇loss(θ), then the gradients are dropped (as `zero_grad(set_to_none=True)`)."""
    params = m.tensors()
    with torch.no_grad():
        torch._foreach_add_(params, [p.grad for p in params], alpha=-eta)
    for p in params:
        p.grad = None


# ---------------------------------------------------------------------------------------------
# Checks: the same function as the NumPy reference and as algo

def read_safetensors(path):
    from safetensors.numpy import load_file
    from safetensors import safe_open
    with safe_open(path, "np") as f:
        meta = f.metadata() or {}
    return load_file(path), meta


def config_from(arrays, meta):
    """Dimensions of a DTransformer checkpoint: shapes, and `algo.hyperparameter.*` metadata."""
    hp = {k[len("algo.hyperparameter."):]: v for k, v in meta.items() if k.startswith("algo.hyperparameter.")}
    d_e, N_V = arrays["W_e"].shape
    layers = sum(1 for n in arrays if n.startswith("γ^1_"))
    heads = sum(1 for n in arrays if n.startswith("𝓦_1.W^") and n.endswith("_q"))
    return dict(N_V=N_V, ell=arrays["W_p"].shape[1], L=int(hp.get("L", layers)), H=int(hp.get("H", heads)), d_e=d_e,
                d_mlp=arrays["W^1_mlp1"].shape[0], d_attn=arrays["𝓦_1.W^1_q"].shape[0], d_mid=arrays["𝓦_1.W^1_v"].shape[0])


def model_from(path, dtype):
    arrays, meta = read_safetensors(path)
    m = Model(config_from(arrays, meta), dtype=dtype)
    m.load(arrays)
    return m, arrays


def P_paper(m, ids, attention=attention_sdpa, causal=True):
    """P ∈ ℝ^{N_V×ℓ} (the paper's orientation) for one sequence of 1-based ids, as numpy."""
    x = torch.tensor([[i - 1 for i in ids]])
    with torch.no_grad():
        return probabilities(m, x, attention, causal)[0].t().double().numpy()


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("`%s` failed (exit %d):\n%s%s" % (" ".join(cmd), r.returncode, r.stdout, r.stderr))
    return r.stdout


def set_flag(c, extra=""):
    return ("N_V=%d,ℓ_max=%d,L=%d,H=%d,d_e=%d,d_mlp=%d,d_attn=%d,d_mid=%d" %
            (c["N_V"], c["ell"], c["L"], c["H"], c["d_e"], c["d_mlp"], c["d_attn"], c["d_mid"])) + extra


# Tolerances, each against the largest entry-wise difference of P (P ∈ (0, 1)) or of θ̂.
# float64 (unit roundoff 2⁻⁵³ ≈ 1.1e-16): the same sums in a different order through a few layers
# differ by ~1e-15; 1e-10 leaves 10⁵ of that and is still 10⁶ below any wrong line (≥ 1e-4 here).
TOL_F64 = 1e-10
# float32 (u = 2⁻²⁴ ≈ 6e-8): P of the tiny model is near 1/65 ≈ 0.015 for algo's initialisation, so
# the check is relative, |ΔP| / P (≈ |Δ log P|). The products have k ≤ d_mlp terms and both sides
# round each product and each layer differently (other kernels; algo skips the masked scores), so a
# few u per layer and product are expected (measured 4e-7 ≈ 7 u on tiny, 2 layers; 1.8e-6 on small, 6 layers); 5e-5 allows ~800 u
# (room for small's 6 layers and 1536-term sums) and is still ~7000× below what the same model
# without the causal mask gives (0.37 on tiny, 3.5 on small; checked on every run: `discriminates`).
TOL_F32_RELATIVE = 5e-5


def check_fixture(report):
    """The NumPy reference's DTransformer fixtures (float64, random θ of spread 0.5, d_attn ≠ d_mid)."""
    for case in ["DTransformer-single", "DTransformer-small"]:
        path = os.path.join(HERE, "fixtures", case + ".safetensors")
        m, arrays = model_from(path, torch.float64)
        ids = [int(i) for i in arrays["input.x"]]
        diff = {}
        for name, att in [("eager", attention_eager), ("sdpa", attention_sdpa)]:
            diff[name] = float(np.abs(P_paper(m, ids, att) - arrays["output.P"]).max())
        ok = max(diff.values()) <= TOL_F64
        report.append(dict(check="numpy_fixture", case=case, dtype="float64", max_abs_diff=diff, tolerance=TOL_F64, ok=ok))


def check_algo_forward(algo, config, report, workdir):
    """`algo run DTransformer.algo --save-params P --output OUT` against this model on P."""
    c = dims(config)
    ids = tokens(c["ell"], c["N_V"], 0)
    x = ",".join(map(str, ids))
    for precision, dtype in [("f32", torch.float32), ("f64", torch.float64)]:
        params, out = os.path.join(workdir, "P-%s.safetensors" % precision), os.path.join(workdir, "OUT-%s.safetensors" % precision)
        run([algo, "run", os.path.join(ROOT, "Algorithms", "DTransformer.algo"), "--set", set_flag(c), "--input", "x=" + x,
             "--precision", precision, "--save-params", params, "--output", out])
        m, _ = model_from(params, dtype)   # every parameter algo saved, with its shape, and no other
        expected, _ = read_safetensors(out)
        P_algo = expected["output.P"].astype(np.float64)
        entry = dict(check="algo_forward", config=config, dtype=str(dtype).replace("torch.", ""))
        # |θ| here (the stored tensors), by the formula of ModelConfig.parameterCount, and algo's: equal.
        entry["parameters"] = sum(t.numel() for t in m.tensors())
        counted = entry["parameters"] == parameter_count(c) == sum(v.numel() for v in m.named().values())
        for name, att in [("eager", attention_eager), ("sdpa", attention_sdpa)]:
            P = P_paper(m, ids, att)
            entry["max_abs_diff_" + name] = float(np.abs(P - P_algo).max())
            entry["max_rel_diff_" + name] = float((np.abs(P - P_algo) / P_algo).max())
        # The same model without the causal mask must fail the check (the tolerance discriminates).
        wrong = P_paper(m, ids, attention_eager, causal=False)
        entry["max_rel_diff_without_mask"] = float((np.abs(wrong - P_algo) / P_algo).max())
        if dtype == torch.float64:
            entry["tolerance_abs"] = TOL_F64
            entry["ok"] = max(entry["max_abs_diff_eager"], entry["max_abs_diff_sdpa"]) <= TOL_F64
        else:
            entry["tolerance_rel"] = TOL_F32_RELATIVE
            entry["ok"] = max(entry["max_rel_diff_eager"], entry["max_rel_diff_sdpa"]) <= TOL_F32_RELATIVE
        entry["discriminates"] = entry["max_rel_diff_without_mask"] > 10 * entry.get("tolerance_rel", TOL_F64)
        entry["ok"] = entry["ok"] and entry["discriminates"] and counted
        report.append(entry)


def check_algo_train(algo, config, batch, report, workdir):
    """One training step (float64): algo's DTraining (B = 1) or DTrainingMinibatch (B > 1) from
    the parameters algo saved, against `loss` + `sgd_update` here; θ̂ compared entry by entry,
    and so are the updates θ̂ − θ (η·∇, far smaller than θ)."""
    c, eta = dims(config), 0.01
    seqs = [tokens(c["ell"], c["N_V"], s) for s in range(batch)]
    params, out = os.path.join(workdir, "T0.safetensors"), os.path.join(workdir, "T1-%d.safetensors" % batch)
    run([algo, "run", os.path.join(ROOT, "Algorithms", "DTransformer.algo"), "--set", set_flag(c), "--input", "x=1",
         "--precision", "f64", "--save-params", params])
    algorithm = "DTraining.algo" if batch == 1 else "DTrainingMinibatch.algo"
    extra = ",N_epochs=1,η=%g" % eta + (",B=%d,N_batches=1" % batch if batch > 1 else "")
    data = ";".join("x_%d=%s" % (n + 1, ",".join(map(str, s))) for n, s in enumerate(seqs))
    run([algo, "run", os.path.join(ROOT, "Algorithms", algorithm), "--set", set_flag(c, extra), "--input", data,
         "--params", params, "--precision", "f64", "--output", out])
    m, before = model_from(params, torch.float64)
    m.requires_grad_()
    loss(m, torch.tensor([[i - 1 for i in s] for s in seqs]), attention_sdpa).backward()
    sgd_update(m, eta)
    after, _ = read_safetensors(out)
    theta, update = 0.0, 0.0
    for n, view in m.named().items():
        mine = view.detach().numpy()
        theta = max(theta, float(np.abs(mine - after[n]).max()))
        update = max(update, float(np.abs((mine - before[n]) - (after[n] - before[n])).max()))
    largest = max(float(np.abs(after[n] - before[n]).max()) for n in before if not n.startswith("input."))
    ok = theta <= TOL_F64 and update <= TOL_F64 and largest > 1e3 * TOL_F64
    report.append(dict(check="algo_train_step", config=config, batch=batch, dtype="float64", eta=eta,
                       max_abs_diff_theta=theta, max_abs_diff_update=update, largest_update=largest, tolerance_abs=TOL_F64, ok=ok))


def check(args):
    report = []
    check_fixture(report)
    check_generate(report)
    if args.algo:
        try:
            with tempfile.TemporaryDirectory(prefix="torch-baseline-") as workdir:
                check_algo_forward(args.algo, args.check_config, report, workdir)
                for b in (1, 2):
                    check_algo_train(args.algo, args.check_config, b, report, workdir)
        except (OSError, RuntimeError, KeyError, ValueError) as e:   # algo missing or failing, a checkpoint not DTransformer's
            print("torch_baseline: error: %s" % e, file=sys.stderr)
            return 2
    ok = all(r["ok"] for r in report)
    if args.json:
        for r in report:
            print(json.dumps(r, ensure_ascii=False))
    else:
        for r in report:
            figures = ", ".join("%s = %.3g" % (k, v) if isinstance(v, float) else "%s = %s" % (k, v)
                                for k, v in r.items() if k not in ("check", "ok"))
            print("%-4s %s: %s" % ("ok" if r["ok"] else "FAIL", r["check"], figures))
        if not args.algo:
            print("(no --algo: only the NumPy fixtures were compared; give --algo .build/release/algo for algo's own output)")
    return 0 if ok else 1


# ---------------------------------------------------------------------------------------------
# Timing

MODES = ["eager", "sdpa", "compile"]
# `generate` (DInference, ℓ new tokens from a one-token prompt) has one mode: the KV-cache loop.
GENERATE_MODES = ["kvcache"]


def peak_rss_bytes():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024   # Linux: kilobytes


def repeated(body, warmups, budget, minimum=3, maximum=50):
    """`BenchTiming.repeated`: warm-ups untimed, then between `minimum` and `maximum` timed runs,
    as many as fit in `budget` seconds judged by the last warm-up. Seconds of each timed run."""
    last = 0.0
    for _ in range(warmups):
        t0 = time.perf_counter()
        body()
        last = time.perf_counter() - t0
    count = max(minimum, min(maximum, int(budget / max(last, 1e-6))))
    times = []
    for _ in range(count):
        t0 = time.perf_counter()
        body()
        times.append(time.perf_counter() - t0)
    return times


def measure(job):
    """One measurement in this process: {config, phase, batch, threads, mode} → a result dict."""
    torch.set_num_threads(job["threads"])
    c = dims(job["config"])
    phase, mode = job["phase"], job["mode"]
    batch = job["batch"] if phase == "train" else 1
    large = forward_flops(c) > 5e10        # gpt2: `BenchModel.isLarge`
    baseline = peak_rss_bytes()
    m = Model(c)
    x = torch.tensor([[i - 1 for i in tokens(c["ell"], c["N_V"], s)] for s in range(batch)])
    attention = attention_eager if mode == "eager" else attention_sdpa
    compile_seconds = None
    if phase == "generate":
        generator = torch.Generator().manual_seed(0)

        def body():
            generate(m, int(x[0, 0]), c["ell"], generator)
    elif phase == "forward":
        fn = (lambda xs: probabilities(m, xs, attention))
        if mode == "compile":
            fn = torch.compile(fn, dynamic=False)

        def body():
            with torch.no_grad():
                fn(x)
    else:
        m.requires_grad_()
        fn = (lambda xs: loss(m, xs, attention))
        if mode == "compile":
            fn = torch.compile(fn, dynamic=False)

        def body():
            fn(x).backward()
            sgd_update(m, 0.01)
    warmups = 2   # PyTorch's first call sets up its kernels (oneDNN primitives, allocator): untimed
    if mode == "compile":   # the first call compiles: timed apart, then the usual warm-up
        t0 = time.perf_counter()
        body()
        compile_seconds = time.perf_counter() - t0
    if large:
        times = repeated(body, 0 if phase == "train" else 1, 0, minimum=1 if phase == "train" else 3, maximum=1 if phase == "train" else 3)
    else:
        times = repeated(body, warmups, job["budget"])
    flops = train_flops(c, batch) if phase == "train" else forward_flops(c)   # generate: each position's column once
    med = float(np.median(times))
    out = dict(kind="torch", config=job["config"], phase=phase, batch=batch, threads=job["threads"], mode=mode,
               ms_median=1000 * med, ms_min=1000 * min(times), ms_max=1000 * max(times), repeats=len(times),
               tokens=batch * c["ell"], tokens_per_s=batch * c["ell"] / med, flops=flops, gflops=flops / med / 1e9,
               peak_rss_bytes=peak_rss_bytes(), baseline_rss_bytes=baseline, parameters=parameter_count(c),
               torch=torch.__version__, torch_threads=torch.get_num_threads())
    if compile_seconds is not None:
        out["compile_seconds"] = compile_seconds
    return out


def jobs_of(args):
    jobs = []
    for config in args.config.split(","):
        if config not in CONFIGS:
            raise SystemExit("torch_baseline: --config takes tiny, small, gpt2 (got `%s`)" % config)
        for phase in args.phase.split(","):
            if phase not in ("forward", "train", "generate"):
                raise SystemExit("torch_baseline: --phase takes forward, train, generate (got `%s`)" % phase)
            large = forward_flops(dims(config)) > 5e10
            valid = GENERATE_MODES if phase == "generate" else MODES
            for batch in ([1] if phase != "train" or large else [int(b) for b in args.batch.split(",")]):
                for threads in [int(t) for t in args.threads.split(",")]:
                    for mode in args.mode.split(","):
                        if mode not in valid:
                            raise SystemExit("torch_baseline: --mode of phase %s takes %s (got `%s`)" % (phase, ", ".join(valid), mode))
                        jobs.append(dict(config=config, phase=phase, batch=batch, threads=threads, mode=mode, budget=args.budget))
    return jobs


def in_child(job):
    """Runs `measure(job)` in a child process of this script (its peak RSS its own)."""
    r = subprocess.run([sys.executable, os.path.abspath(__file__), "bench", "--child", json.dumps(job)],
                       capture_output=True, text=True)
    lines = r.stdout.strip().splitlines()
    if r.returncode != 0 or not lines:
        tail = (r.stderr.strip().splitlines() or ["no message"])[-1]
        return dict(job, kind="torch", error="the child process failed (exit %d): %s" % (r.returncode, tail))
    return json.loads(lines[-1])


def table_line(r):
    name = "%-6s %-8s %5d %7d  %-8s" % (r["config"], r["phase"], r["batch"], r["threads"], r["mode"])
    if "error" in r:
        return name + "  error: " + r["error"]
    return name + "  %9.2f [%.2f – %.2f] %9.0f %8.1f %9.1f MB" % (
        r["ms_median"], r["ms_min"], r["ms_max"], r["tokens_per_s"], r["gflops"], r["peak_rss_bytes"] / 2 ** 20)


def bench(args):
    if args.child:
        job = json.loads(args.child)
        try:
            print(json.dumps(measure(job)))
        except Exception as e:    # a mode that does not work here (e.g. torch.compile without a compiler)
            print(json.dumps(dict(job, kind="torch", error="%s: %s" % (type(e).__name__, str(e).splitlines()[0] if str(e) else ""))))
        return 0
    results, jobs = [], jobs_of(args)
    if not args.json:
        print("PyTorch %s, %s; config phase batch threads mode  ms median [min – max]  tokens/s  GFLOP/s  peak RSS"
              % (torch.__version__, cpu_name()))
    for job in jobs:
        r = measure(job) if args.in_process else in_child(job)
        results.append(r)
        print(json.dumps(r) if args.json else table_line(r), flush=True)
    return 1 if any("error" in r for r in results) else 0


def main(argv=None):
    p = argparse.ArgumentParser(description="PyTorch baseline of `algo bench model` (module doc: python -m pydoc).")
    sub = p.add_subparsers(dest="command", required=True)
    c = sub.add_parser("check", help="the same function as the NumPy reference and as algo (run it first)")
    c.add_argument("--algo", help="the algo binary (e.g. .build/release/algo); without it only the NumPy fixtures")
    c.add_argument("--check-config", default="tiny", choices=["tiny", "small"], help="configuration of the algo checks (default tiny)")
    c.add_argument("--json", action="store_true")
    b = sub.add_parser("bench", help="time forward and training steps")
    b.add_argument("--config", default="tiny,small")
    b.add_argument("--phase", default="forward,train", help="forward, train, generate (DInference, ℓ tokens with a KV cache)")
    b.add_argument("--batch", default="1,8", help="sequences per training step (forward is one sequence)")
    b.add_argument("--threads", default="2", help="torch.set_num_threads for each measurement")
    b.add_argument("--mode", default="eager,sdpa,compile", help="forward, train: eager, sdpa, compile; generate: kvcache")
    b.add_argument("--budget", type=float, default=3.0, help="seconds of timed runs per measurement (as algo: 3; --quick 1)")
    b.add_argument("--json", action="store_true", help="one JSON object per measurement")
    b.add_argument("--in-process", action="store_true", help="no child process per measurement (peak RSS is then cumulative)")
    b.add_argument("--child", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    return check(args) if args.command == "check" else bench(args)


if __name__ == "__main__":
    sys.exit(main())
