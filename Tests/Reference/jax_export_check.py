"""The JAX export against `algo run`, on the same checkpoints and inputs (run by .ci/check-jax).

For each of DTransformer, ETransformer, EDTransformer, DTraining, DTrainingAdam, DTrainingMinibatch
(and DTraining's batch step against DTrainingMinibatch) this script has `algo run --precision f64` write its parameters and its
result to safetensors files, exports the algorithm with `algo export --jax`, runs the exported
function in JAX with jax_enable_x64 on the same parameters and inputs, and compares:

* forward P: max |P_jax − P_algo| ≤ 1e-12. Both evaluate the same formulas in IEEE double; they
  differ only in the order of sums (matrix products, Σ over d_e, softmax), each a few ulps of values
  ≤ 1 in magnitude (the largest intermediate is |X| ≈ 10 after layer norm): about 1e-15 expected,
  1e-12 leaves three orders of margin and still catches any wrong index, mask or normalisation (≥ 1e-4).
* one training step's θ: max |θ_jax − θ_algo| ≤ 1e-10 over every entry of every tensor. The gradient
  goes through the same forward, so its rounding is ≈ 1e-14 relative; η ≤ 0.1 scales it down, but the
  Adam step divides by √v̂ + ε, which amplifies the relative error of tiny gradients (ε = 1e-8):
  1e-10 is the bound the issue sets, and a wrong update (a missing bias correction, a sign) is ≥ 1e-4.
* the data-parallel batch step on 4 CPU devices (a mesh over the batch, θ replicated) against the
  same step on 1 device: ≤ 1e-12 (only the order of the cross-device sum of the gradient differs),
  and the 1-device batch step against `algo run DTrainingMinibatch` (B = 4, one batch): ≤ 1e-10.

Prints one line per comparison with the measured maximum, and exits 1 if any exceeds its bound.
Usage: XLA_FLAGS=--xla_force_host_platform_device_count=4 python jax_export_check.py ALGO REPO WORKDIR
"""
import importlib.util
import os
import subprocess
import sys
import time

import jax

jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from safetensors.numpy import load_file  # noqa: E402

ALGO, REPO, WORK = sys.argv[1], sys.argv[2], sys.argv[3]
ALGS = os.path.join(REPO, "Algorithms")
FAILED = []

# A small model: two layers, two heads, N_V = 12 (training defaults of `algo run`).
COMMON = "N_V=12,ℓ_max=16,H=2,d_e=16,d_mlp=32,d_attn=8,d_mid=8"
DIMS = {"DTransformer": COMMON + ",L=2", "DTransformerGopher": COMMON + ",L=2", "GPT2": COMMON + ",L=2", "ETransformer": COMMON + ",L=2,d_f=16", "EDTransformer": COMMON + ",L_enc=2,L_dec=2"}
X = [3, 1, 4, 1, 5, 9, 2, 6]
Z = [2, 7, 1, 8, 2, 8]
BATCH = [[3, 1, 4, 1, 5, 9], [2, 7, 1, 8, 2, 8], [1, 4, 1, 4, 2, 1], [1, 7, 3, 2, 5, 8]]


def algo(*args):
    r = subprocess.run([ALGO, *args], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"`algo {' '.join(args)}` failed ({r.returncode}):\n{r.stderr}")
    return r


def export(name, file=None):
    path = os.path.join(WORK, name + ".py")
    algo("export", "--jax", os.path.join(ALGS, (file or name) + ".algo"), "-o", path)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with open(path) as f:
        lines = sum(1 for _ in f)
    return module, lines


def path(name):
    return os.path.join(WORK, name)


def report(what, value, bound):
    ok = value <= bound
    print(f"{'ok  ' if ok else 'FAIL'} {what}: max |difference| = {value:.3e} (bound {bound:g})")
    if not ok:
        FAILED.append(what)


def max_theta_difference(a, b):
    assert set(a) == set(b), sorted(set(a) ^ set(b))
    return max(float(np.max(np.abs(np.asarray(a[k]) - np.asarray(b[k])))) for k in a)


def seq(s):
    return ",".join(map(str, s))


def forward(name, inputs, call, file=None):
    algo("run", os.path.join(ALGS, (file or name) + ".algo"), "--set", DIMS[name], "--input", ";".join(f"{k}={seq(v)}" for k, v in inputs.items()),
         "--precision", "f64", "--seed", "3", "--save-params", path(name + ".θ.safetensors"), "--output", path(name + ".out.safetensors"))
    module, lines = export(name, file)
    theta, hyper = module.load_params(path(name + ".θ.safetensors"))
    expected = load_file(path(name + ".out.safetensors"))["output.P"]
    got = call(module, theta, module.hyperparameters(getattr(module, name), hyper))
    assert got.shape == expected.shape, (got.shape, expected.shape)
    report(f"{name} forward P ({lines} exported lines)", float(np.max(np.abs(np.asarray(got) - expected))), 1e-12)
    return theta


def main():
    print(f"jax {jax.__version__}, devices: {jax.devices()}")
    forward("DTransformer", {"x": X}, lambda m, θ, kw: m.DTransformer(X, theta=θ, **kw))
    forward("DTransformerGopher", {"x": X}, lambda m, θ, kw: m.DTransformerGopher(X, theta=θ, **kw))
    forward("GPT2", {"x": X}, lambda m, θ, kw: m.GPT2(X, theta=θ, **kw), file="GPT2/GPT2")
    forward("ETransformer", {"x": X}, lambda m, θ, kw: m.ETransformer(X, theta=θ, **kw))
    forward("EDTransformer", {"z": Z, "x": X}, lambda m, θ, kw: m.EDTransformer(Z, X, theta=θ, **kw))
    θ0 = path("DTransformer.θ.safetensors")

    # One SGD step (DTraining, N_data = 1, N_epochs = 1) and one Adam step (DTrainingAdam).
    # The real hyperparameters are given to both sides (checkpoint metadata records dimensions only).
    adam = {"η": 0.01, "β_1": 0.9, "β_2": 0.999, "ε": 1e-8}
    for name, reals in [("DTraining", {"η": 0.1}), ("DTrainingAdam", adam)]:
        given = ",".join(f"{k}={v!r}" for k, v in reals.items())
        algo("run", os.path.join(ALGS, name + ".algo"), "--params", θ0, "--input", f"x_1={seq(X)}", "--set", f"N_epochs=1,{given}",
             "--precision", "f64", "--output", path(name + ".out.safetensors"))
        module, lines = export(name)
        theta, hyper = module.load_params(θ0)
        expected, trained_hyper = module.load_params(path(name + ".out.safetensors"))
        hyper.update(trained_hyper)
        hyper.update(reals)
        hyper["N_epochs"] = 1
        kw = module.hyperparameters(getattr(module, name), hyper)
        got = getattr(module, name)([X], theta, **kw)
        report(f"{name}: θ after one step ({lines} exported lines)", max_theta_difference(got, expected), 1e-10)

    # EDTraining: one step on one (z, x) pair, from EDTransformer's checkpoint.
    algo("run", os.path.join(ALGS, "EDTraining.algo"), "--params", path("EDTransformer.θ.safetensors"), "--input", f"z_1={seq(Z)};x_1={seq(X)}",
         "--set", "N_epochs=1,η=0.1", "--precision", "f64", "--output", path("EDTraining.out.safetensors"))
    module, lines = export("EDTraining")
    theta, hyper = module.load_params(path("EDTransformer.θ.safetensors"))
    expected, _ = module.load_params(path("EDTraining.out.safetensors"))
    hyper.update({"η": 0.1, "N_epochs": 1})
    got = module.EDTraining([Z], [X], theta, **module.hyperparameters(module.EDTraining, hyper))
    report(f"EDTraining: θ after one step ({lines} exported lines)", max_theta_difference(got, expected), 1e-10)

    # The batch step: against algo's DTrainingMinibatch (B = 4, one batch), and on 4 devices.
    module, _ = export("DTraining")
    theta, hyper = module.load_params(θ0)
    algo("run", os.path.join(ALGS, "DTrainingMinibatch.algo"), "--params", θ0,
         "--input", ";".join(f"x_{n}={seq(s)}" for n, s in enumerate(BATCH, start=1)), "--set", "N_epochs=1,η=0.1,B=4,N_batches=1",
         "--precision", "f64", "--output", path("minibatch.out.safetensors"))
    expected, _ = module.load_params(path("minibatch.out.safetensors"))
    hyper["η"] = 0.1
    kw = module.hyperparameters(module.DTraining_batch_step, hyper)
    xs = jnp.asarray(BATCH)
    one = module.DTraining_batch_step_jit(theta, xs, **kw)
    report("DTraining_batch_step (1 device) vs algo DTrainingMinibatch, B = 4", max_theta_difference(one, expected), 1e-10)

    # DTrainingMinibatch itself: two epochs of two batches (B = 2) of unequal-length sequences, so the
    # batch bounds (b − 1)B + 1 … bB and the per-sequence lengths are both exercised (4 updates; ≤ 1e-10
    # as for one step: the rounding, ≈ 1e-14 relative per step, does not grow past 1e-13 in 4 steps).
    uneven = [[3, 1, 4, 1, 5, 9], [2, 7, 1, 8, 2], [1, 4, 1, 4, 2, 1, 3], [1, 7, 3, 2, 5, 8]]
    algo("run", os.path.join(ALGS, "DTrainingMinibatch.algo"), "--params", θ0,
         "--input", ";".join(f"x_{n}={seq(s)}" for n, s in enumerate(uneven, start=1)), "--set", "N_epochs=2,η=0.1,B=2",
         "--precision", "f64", "--output", path("minibatch2.out.safetensors"))
    expected2, _ = module.load_params(path("minibatch2.out.safetensors"))
    minibatch, lines = export("DTrainingMinibatch")
    got = minibatch.DTrainingMinibatch(uneven, theta, **minibatch.hyperparameters(minibatch.DTrainingMinibatch, {**hyper, "N_epochs": 2, "B": 2, "N_batches": 2}))
    report(f"DTrainingMinibatch: θ after 2 epochs of 2 batches, B = 2, lengths 6, 5, 7, 6 ({lines} exported lines)", max_theta_difference(got, expected2), 1e-10)

    from jax.sharding import NamedSharding, PartitionSpec as P
    devices = jax.devices()
    if len(devices) < 4:
        report(f"data-parallel step: only {len(devices)} device(s); set XLA_FLAGS=--xla_force_host_platform_device_count=4", float("inf"), 0)
    else:
        # Auto axes: XLA (GSPMD) partitions the step from the input shardings and inserts the gradient's
        # all-reduce; recent JAX makes Explicit axes the default, which asks for every gather's sharding.
        mesh = jax.make_mesh((4,), ("batch",), axis_types=(jax.sharding.AxisType.Auto,))
        xs4 = jax.device_put(xs, NamedSharding(mesh, P("batch")))
        theta4 = jax.device_put(theta, NamedSharding(mesh, P()))
        four = module.DTraining_batch_step_jit(theta4, xs4, **kw)
        hlo = module.DTraining_batch_step_jit.lower(theta4, xs4, **kw).compile().as_text()
        assert "all-reduce" in hlo, "the 4-device step has no all-reduce: it did not run data-parallel"
        assert all(v.sharding.is_fully_replicated for v in four.values()), "θ after the step is not replicated"
        report("DTraining_batch_step on 4 devices (batch sharded, θ replicated) vs 1 device", max_theta_difference(four, one), 1e-12)

    # Sampling (DInference) runs with jax.random: its stream is not algo's, so only the form is checked.
    inference, _ = export("DInference")
    kw = inference.hyperparameters(inference.DInference, {**hyper, "τ": 1.0, "ℓ_gen": 4})
    y = np.asarray(inference.DInference(X[:3], theta, key=jax.random.PRNGKey(0), **kw))
    ok = y.shape == (4,) and bool(np.all((y >= 1) & (y <= 12)))
    if not ok:
        report(f"DInference: 4 sampled ids in 1…N_V, got {y.tolist()}", float("inf"), 0)
    else:
        print(f"ok   DInference: ℓ_gen = 4 ids sampled with jax.random, all in 1…N_V: {y.tolist()}")

    # Timing: one jitted DTraining step, after compilation, next to algo's (same model, same precision).
    step = module.DTraining_step_jit
    skw = module.hyperparameters(module.DTraining_step, hyper)
    jax.block_until_ready(step(theta, jnp.asarray(X), **skw))
    n = 50
    t0 = time.perf_counter()
    t = theta
    for _ in range(n):
        t = step(t, jnp.asarray(X), **skw)
    jax.block_until_ready(t)
    jax_ms = (time.perf_counter() - t0) / n * 1e3
    r = algo("run", os.path.join(ALGS, "DTraining.algo"), "--params", θ0, "--input", f"x_1={seq(X)}", "--set", f"N_epochs={n},η=0.1",
             "--precision", "f64", "--threads", "1")
    line = next((l for l in r.stdout.splitlines() if l.startswith("time:")), "time: ? ms")
    try:
        algo_ms = f"{float(line.split()[1]) / n:.2f} ms"
    except ValueError:
        algo_ms = "?"
    print(f"time of one DTraining step (f64, ℓ = {len(X)}, d_e = 16, L = 2, H = 2): JAX jit {jax_ms:.2f} ms (mean of {n}, after compiling); "
          f"algo {algo_ms} ({line.strip()} for {n} steps, 1 thread; {os.path.basename(ALGO)} build at {ALGO})")

    # Every other file of Algorithms/ that exports is importable Python (no syntax or name error at
    # import); those the export refuses say so with a diagnostic and write nothing.
    for f in sorted(os.listdir(ALGS)):
        if not f.endswith(".algo"):
            continue
        out = os.path.join(WORK, "corpus_" + f[:-5] + ".py")
        r = subprocess.run([ALGO, "export", "--jax", os.path.join(ALGS, f), "-o", out], capture_output=True, text=True)
        if r.returncode == 0:
            spec = importlib.util.spec_from_file_location("corpus_" + f[:-5], out)
            spec.loader.exec_module(importlib.util.module_from_spec(spec))
        elif r.returncode != 1 or "error[E056" not in r.stderr or os.path.exists(out):
            report(f"export of {f}: exit {r.returncode} without an E056x diagnostic, or a file written", float("inf"), 0)
    print("every exported module of Algorithms/ imports; the refused ones have E056x diagnostics and no file")

    if FAILED:
        sys.exit(f"{len(FAILED)} comparison(s) failed: {', '.join(FAILED)}")
    print("all comparisons within their bounds")


main()
