#!/usr/bin/env python3
"""`algo bench model` against the PyTorch baseline (`torch_baseline.py`), alternately, in one run.

For each round (k of them) and each row (configuration, phase, batch, thread count), it runs the
release `algo` binary (`algo bench model --config C --phase P --batch B --threads T --json`, which
measures its own FMA peak around the job) and `torch_baseline.py bench` on the same row (every
mode, each in a child process), one right after the other; odd rounds run algo first, even rounds
PyTorch first, so that a slow stretch of a shared machine does not always fall on the same side.
Each round gives per row a median time of each side and their ratio algo / PyTorch **in that round**;
the table prints, per row, the median over the rounds of each side's time and of the ratios. The
CPU (`/proc/cpuinfo`) and the load average (before the run, at every row, after) are printed too.

Before timing it runs `torch_baseline.py check --algo ALGO` (the PyTorch model computes algo's P and
training step on algo's own parameters) and stops if that fails (`--skip-check` skips it).

`algo` never runs Python: this script runs algo. Usage (repository root, venv of
Tests/Reference/README.md):

    python Tests/Reference/bench_vs_torch.py .build/release/algo --config tiny,small --threads 2 --rounds 3
    python Tests/Reference/bench_vs_torch.py .build/release/algo --config gpt2 --phase forward --rounds 1
    python Tests/Reference/bench_vs_torch.py .build/release/algo --config small --phase generate --mode kvcache
    python Tests/Reference/bench_vs_torch.py .build/release/algo --quick --json > run.jsonl
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BASELINE = os.path.join(HERE, "torch_baseline.py")
LARGE = {"gpt2"}     # trains on one sequence only, as `algo bench model` does


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def cpu_details():
    """Vendor, family, model and the widest vector extension (`/proc/cpuinfo` flags)."""
    info = {}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                key = key.strip()
                if key in ("vendor_id", "cpu family", "model", "flags") and key not in info:
                    info[key] = value.strip()
    except OSError:
        return ""
    flags = set(info.get("flags", "").split())
    width = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "no AVX2"
    return "%s family %s model %s, %s" % (info.get("vendor_id", "?"), info.get("cpu family", "?"), info.get("model", "?"), width)


def own_autogroup():
    """Puts this process (and so every child: algo, PyTorch) in a scheduling autogroup of its own
    at nice −20, as the top-level README runs `algo bench` on a shared machine: Linux shares CPU
    time between autogroups (sessions) whatever a process's nice value, so on a machine loaded by
    other sessions a benchmark otherwise gets a fraction of each core, and a two-thread PyTorch
    step whose OpenMP thread is preempted waits for it at every barrier (measured: tiny train
    step 30–2500 ms instead of 1.7). Needs root; returns the autogroup line, or why not."""
    try:
        os.setsid()
    except PermissionError:          # a process-group leader cannot: go on in a forked child
        pid = os.fork()
        if pid:
            _, status = os.waitpid(pid, 0)
            sys.exit(os.waitstatus_to_exitcode(status))
        os.setsid()
    try:
        with open("/proc/self/autogroup", "w") as f:
            f.write("-20")
        with open("/proc/self/autogroup") as f:
            return f.read().strip()
    except OSError as e:
        return "not set (%s)" % e


def load():
    return list(os.getloadavg())


def json_lines(text):
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            out.append(json.loads(line))
    return out


def run_algo(algo, row, quick):
    """algo's measurement of one row: its `kind: model` object (or one with `error`)."""
    config, phase, batch, threads = row
    cmd = [algo, "bench", "model", "--config", config, "--phase", phase, "--batch", str(batch),
           "--threads", str(threads), "--json", "--algorithms", os.path.join(ROOT, "Algorithms")]
    if quick:
        cmd.append("--quick")
    r = subprocess.run(cmd, capture_output=True, text=True)
    models = [o for o in json_lines(r.stdout) if o.get("kind") == "model" or "error" in o]
    if not models:
        return dict(error="`%s` printed no measurement (exit %d): %s" % (" ".join(cmd), r.returncode, r.stderr.strip()[-500:]))
    return models[0]


def run_torch(python, row, modes, quick):
    """PyTorch's measurements of one row: {mode: object}."""
    config, phase, batch, threads = row
    cmd = [python, BASELINE, "bench", "--config", config, "--phase", phase, "--batch", str(batch), "--threads", str(threads),
           "--mode", ",".join(modes), "--budget", "1" if quick else "3", "--json"]
    r = subprocess.run(cmd, capture_output=True, text=True)
    got = {o["mode"]: o for o in json_lines(r.stdout) if o.get("kind") == "torch"}
    for m in modes:
        got.setdefault(m, dict(error="`%s` printed nothing for mode %s (exit %d): %s" % (" ".join(cmd), m, r.returncode, r.stderr.strip()[-500:])))
    return got


def rows_of(args):
    rows = []
    for config in args.config.split(","):
        for phase in args.phase.split(","):
            batches = [1] if phase != "train" or config in LARGE else [int(b) for b in args.batch.split(",")]
            for batch in batches:
                for threads in [int(t) for t in args.threads.split(",")]:
                    rows.append((config, phase, batch, threads))
    return rows


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def summarise(row, rounds, modes):
    """One row over the rounds: median times, median same-round ratios, peak memory, %peak."""
    config, phase, batch, threads = row
    out = dict(config=config, phase=phase, batch=batch, threads=threads, rounds=len(rounds))
    algo_ms = [r["algo"].get("ms_median") for r in rounds]
    out["algo_ms"] = median(algo_ms)
    out["algo_ms_rounds"] = algo_ms
    out["algo_peak_rss_bytes"] = max((r["algo"].get("peak_rss_bytes", 0) for r in rounds), default=0)
    out["algo_peak_fraction"] = median([r["algo"].get("peak_fraction") for r in rounds])
    out["peak_gflops"] = median([r["algo"].get("peak_gflops") for r in rounds])
    out["flops"] = next((r["algo"]["flops"] for r in rounds if "flops" in r["algo"]), None)
    # algo's pool gives a job fewer threads while other processes keep cores busy (Parallel.adapts):
    # how many of its parallel jobs ran on fewer threads than asked, over the rounds.
    out["algo_fewer_thread_jobs"] = sum(r["algo"].get("fewer_thread_jobs", 0) for r in rounds)
    out["algo_parallel_jobs"] = sum(r["algo"].get("parallel_jobs", 0) for r in rounds)
    errors = [r["algo"]["error"] for r in rounds if "error" in r["algo"]]
    for m in modes:
        ms = [r["torch"][m].get("ms_median") for r in rounds]
        out[m + "_ms"] = median(ms)
        out[m + "_ms_rounds"] = ms
        out[m + "_peak_rss_bytes"] = max((r["torch"][m].get("peak_rss_bytes", 0) for r in rounds), default=0)
        # Against algo's FMA peak of the same round (256-bit FMA chains: see the README).
        out[m + "_peak_fraction"] = median([r["torch"][m]["gflops"] / r["algo"]["peak_gflops"] for r in rounds
                                            if "gflops" in r["torch"][m] and r["algo"].get("peak_gflops")])
        ratios = [a / t for a, t in zip(algo_ms, ms) if a is not None and t is not None]
        out["ratio_" + m] = median(ratios)
        out["ratio_" + m + "_rounds"] = ratios
        errors += ["%s: %s" % (m, r["torch"][m]["error"]) for r in rounds if "error" in r["torch"][m]]
    best = [min(v for v in [r["torch"][m].get("ms_median") for m in modes] if v is not None)
            for r in rounds if any(r["torch"][m].get("ms_median") is not None for m in modes)]
    out["ratio_best"] = median([a / b for a, b in zip(algo_ms, best) if a is not None])
    out["load_rounds"] = [r["load"] for r in rounds]
    if errors:
        out["errors"] = sorted(set(errors))
    return out


def fmt_ms(x):
    return "—" if x is None else ("%.2f ms" % x if x < 100 else "{:,.0f} ms".format(x))


def fmt_ratio(x):
    return "—" if x is None else "%.2f×" % x


def table(summary, modes, header):
    lines = [header, ""]
    cols = ["config, phase", "threads", "algo"] + ["PyTorch " + m for m in modes] + ["algo / " + m for m in modes] + ["algo / best", "RSS algo / torch"]
    lines.append("| " + " | ".join(cols) + " |")
    lines.append("|" + "---|" * len(cols))
    for s in summary:
        what = {"forward": "forward", "generate": "generate ℓ tokens"}.get(s["phase"], "train step, B = %d" % s["batch"])
        name = "%s %s" % (s["config"], what)
        torch_rss = max(s[m + "_peak_rss_bytes"] for m in modes)
        cells = [name, str(s["threads"]), fmt_ms(s["algo_ms"])] + [fmt_ms(s[m + "_ms"]) for m in modes] \
            + [fmt_ratio(s["ratio_" + m]) for m in modes] + [fmt_ratio(s["ratio_best"]),
                                                             "%.0f / %.0f MB" % (s["algo_peak_rss_bytes"] / 2 ** 20, torch_rss / 2 ** 20)]
        lines.append("| " + " | ".join(cells) + " |")
    for s in summary:
        if s.get("algo_fewer_thread_jobs"):
            lines.append("note: %s %s B=%d: %d of algo's %d parallel jobs ran on fewer threads than asked (other processes kept cores busy)"
                         % (s["config"], s["phase"], s["batch"], s["algo_fewer_thread_jobs"], s["algo_parallel_jobs"]))
        for e in s.get("errors", []):
            lines.append("error: %s %s B=%d: %s" % (s["config"], s["phase"], s["batch"], e))
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description="algo bench model against the PyTorch baseline, alternately in one run (module doc).")
    p.add_argument("algo", help="the algo binary, a release build (e.g. .build/release/algo)")
    p.add_argument("--python", default=sys.executable, help="the Python with torch (default: this one)")
    p.add_argument("--config", default="tiny,small")
    p.add_argument("--phase", default="forward,train")
    p.add_argument("--batch", default="1,8")
    p.add_argument("--threads", default="2")
    p.add_argument("--mode", default="eager,sdpa,compile",
                   help="PyTorch modes (torch_baseline.py); `--phase generate` takes `--mode kvcache` (alone)")
    p.add_argument("--rounds", type=int, default=3, help="k: rounds of alternating runs")
    p.add_argument("--quick", action="store_true", help="1 s per measurement on each side instead of 3")
    p.add_argument("--skip-check", action="store_true", help="do not run torch_baseline.py check first")
    p.add_argument("--json", action="store_true", help="one JSON object per row (and a first one about the run)")
    p.add_argument("--save", metavar="FILE", help="also write the JSON lines (as --json prints them) to FILE")
    p.add_argument("--autogroup", action="store_true",
                   help="run in a scheduling autogroup of its own at nice −20 (root; for a machine shared with other sessions)")
    args = p.parse_args(argv)
    modes = args.mode.split(",")
    if not os.access(args.algo, os.X_OK):
        print("bench_vs_torch: error: `%s` is not an executable algo binary" % args.algo, file=sys.stderr)
        return 2
    log = sys.stderr if args.json else sys.stdout
    group = own_autogroup() if args.autogroup else "shared (no --autogroup)"
    started, load_before = time.time(), load()
    if not args.skip_check:
        r = subprocess.run([args.python, BASELINE, "check", "--algo", args.algo], capture_output=True, text=True)
        print(r.stdout.rstrip(), file=log)
        if r.returncode != 0:
            print("bench_vs_torch: error: the PyTorch baseline does not compute algo's function; not timing\n" + r.stderr, file=sys.stderr)
            return 1
    rows = rows_of(args)
    results = {row: [] for row in rows}
    for k in range(args.rounds):
        for row in rows:
            entry = dict(load=load()[0])
            if k % 2 == 0:
                entry["algo"] = run_algo(args.algo, row, args.quick)
                entry["torch"] = run_torch(args.python, row, modes, args.quick)
            else:
                entry["torch"] = run_torch(args.python, row, modes, args.quick)
                entry["algo"] = run_algo(args.algo, row, args.quick)
            results[row].append(entry)
            print("round %d/%d %s: algo %s, %s (load %.1f)" % (
                k + 1, args.rounds, " ".join(map(str, row)), fmt_ms(entry["algo"].get("ms_median")),
                ", ".join("%s %s" % (m, fmt_ms(entry["torch"][m].get("ms_median"))) for m in modes), entry["load"]), file=log, flush=True)
    summary = [summarise(row, results[row], modes) for row in rows]
    torch_version = next((e["torch"][m].get("torch") for rs in results.values() for e in rs for m in modes if "torch" in e["torch"][m]), "?")
    meta = dict(kind="run", cpu=cpu_name(), cpu_details=cpu_details(), load_before=load_before, load_after=load(),
                started_utc=time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(started)), seconds=round(time.time() - started, 1),
                rounds=args.rounds, autogroup=group, algo=os.path.abspath(args.algo), torch=torch_version, modes=modes, quick=args.quick)
    lines = [json.dumps(meta, ensure_ascii=False)] + [json.dumps(dict(s, kind="row"), ensure_ascii=False) for s in summary]
    if args.save:
        with open(args.save, "w") as f:
            f.write("\n".join(lines) + "\n")
    if args.json:
        print("\n".join(lines))
    else:
        header = ("%s (%s); PyTorch %s; %d round(s) from %s UTC, %.0f s; load average before %s, after %s; autogroup %s\n"
                  "times: median over the rounds of each side's median; ratios: median of the same-round ratios algo / PyTorch"
                  % (meta["cpu"], meta["cpu_details"], torch_version, args.rounds, meta["started_utc"], meta["seconds"],
                     "/".join("%.1f" % x for x in load_before), "/".join("%.1f" % x for x in meta["load_after"]), group))
        print(table(summary, modes, header))
    failed = any("errors" in s for s in summary)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
