"""One small-config training step of the exported DTraining under JAX jit, next to `algo run
Algorithms/DTraining.algo` on the same θ and sequence, measured alternately in one run (issue 19).

    .build/jax-venv/bin/python Tests/Reference/jax_step_time.py .build/release/algo . /tmp/work [rounds]

Small config of `algo bench model` (Sources/AlgoBench/ModelConfig.swift): N_V = 65, ℓ = 256, L = 6,
H = 6, d_e = 384, d_mlp = 1536 (d_attn = d_mid = 64), Float32, SGD with η = 10⁻⁴ (the loss sums 255 tokens; η = 0.01 diverges), one sequence.
algo's figure is its training run's `time:` line divided by its steps (the run's own clock, without
start-up); JAX's is the mean of jitted steps after compiling, with `block_until_ready`. Both use the
machine's cores (algo --threads 2; XLA's CPU client uses every core). Prints the CPU and load.
"""
import os
import subprocess
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np

ALGO, REPO, WORK = sys.argv[1], sys.argv[2], sys.argv[3]
ROUNDS = int(sys.argv[4]) if len(sys.argv) > 4 else 3
ALGS = os.path.join(REPO, "Algorithms")
os.makedirs(WORK, exist_ok=True)
DIMS = "N_V=65,ℓ_max=256,L=6,H=6,d_e=384,d_mlp=1536,d_attn=64,d_mid=64"
STEPS = 10
rng = np.random.default_rng(0)
X = [int(v) for v in rng.integers(1, 66, size=256)]
seq = ",".join(map(str, X))


def algo(*args):
    r = subprocess.run([ALGO, *args], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"algo {' '.join(args)} failed:\n{r.stderr}")
    return r


theta_path = os.path.join(WORK, "small.θ.safetensors")
algo("run", os.path.join(ALGS, "DTransformer.algo"), "--set", DIMS, "--input", f"x={seq}", "--save-params", theta_path)
module_path = os.path.join(WORK, "dtraining_export.py")
algo("export", "--jax", os.path.join(ALGS, "DTraining.algo"), "-o", module_path)
sys.path.insert(0, WORK)
import dtraining_export as module  # noqa: E402

theta, hyper = module.load_params(theta_path)
theta = {k: jnp.asarray(v, dtype=jnp.float32) for k, v in theta.items()}
hyper["η"] = 0.0001
kw = module.hyperparameters(module.DTraining_step, hyper)
x = jnp.asarray(X)
step = module.DTraining_step_jit
jax.block_until_ready(step(theta, x, **kw))   # compile


def jax_ms():
    t = theta
    t0 = time.perf_counter()
    for _ in range(STEPS):
        t = step(t, x, **kw)
    jax.block_until_ready(t)
    return (time.perf_counter() - t0) / STEPS * 1e3


def algo_ms():
    r = algo("run", os.path.join(ALGS, "DTraining.algo"), "--params", theta_path, "--input", f"x_1={seq}",
             "--set", f"N_epochs={STEPS},η=0.0001", "--threads", "2")
    line = next(l for l in r.stdout.splitlines() if l.startswith("time:"))
    return float(line.split()[1]) / STEPS


cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
print(f"CPU: {cpu}; load average {os.getloadavg()[0]:.1f}; jax {jax.__version__}; {jax.device_count()} device(s)")
for r in range(ROUNDS):
    a, j = algo_ms(), jax_ms()
    print(f"round {r + 1}: algo {a:.1f} ms, JAX jit {j:.1f} ms per small-config DTraining step (f32, ℓ = 256); algo ÷ JAX = {a / j:.2f}")
print(f"load average at the end {os.getloadavg()[0]:.1f}")
