"""Run the fixed workloads, the engine and the per-agent peer, and record the table.

    python -m benchmarks.run                      # all workloads, peer at 1k and 10k
    python -m benchmarks.run --sizes 1k,10k --peer-sizes 10k --steps 52

Two implementations of the same rules run the same workloads: the engine (the
compiled rules of ``sim/``) and the per-agent Mesa peer; the engine runs on the event
engine, the default, and (``--sweep-sizes``, 1M by default) on the sweep engine it
replaced, and one workload's step (``--threads-size``, 1M) is timed on one and on two
threads, the count alternating step by step. Every
workload runs in its own subprocess, so peak memory (``ru_maxrss``) belongs to
that workload alone; before them one short run compiles the kernels into numba's
on-disk cache (timed and reported), so every workload loads them from the cache as
any later run does. A child reports the resident memory after its imports
(the interpreter, numpy, pandas, Mesa) and the compiled kernels' code, and the peak;
the model's own memory is the difference. Wall and CPU time are both shown: the machine may be shared, and CPU
time is what the code itself costs. The table is printed and written to
``benchmarks/results.md`` together with the machine it ran on and the targets.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results.md"

#: targets of the performance issue
TARGET_RATIO_10K = 200.0
TARGET_RATE_1M = 30e6  # customer-steps per CPU second
TARGET_WALL_1M = 15.0
TARGET_COPY_RATIO = 2.0  # one step against one numpy copy of every array the model holds
TARGET_BYTES_PER_CUSTOMER = 200
TARGET_BYTES_PER_EDGE = 16
TARGET_NETWORK_1M = 5.0
TARGET_HELP = 0.3
#: targets of the event engine (docs/performance.md, "The event-driven engine")
TARGET_OVER_SWEEP_1M = 4.0  # customer-steps per CPU second, against the sweep engine
TARGET_1M_OVER_100K = 1.3  # CPU per customer-step at 1M against 100k
TARGET_TWO_CORES = 1.8  # wall time of a 1M step, one thread against two
TARGET_COPY_RATIO_EVENTS = 1.0
#: the smallest market whose rules run on all cores (``sim.jit.threads_for``: 32 chunks
#: of 2,048 customers), kept here so that the driver does not import the model
MIN_PARALLEL_CUSTOMERS = 32 * 2048


# --------------------------------------------------------------------------- children


def _rss_now_kb() -> int:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def child_engine(customers: int, steps: int, seed: int) -> dict[str, Any]:
    """One engine run: set-up (network timed on its own), steps, peak memory."""
    import numba  # noqa: F401  (imports belong to the baseline, not to the model)
    import numpy  # noqa: F401
    import pandas  # noqa: F401

    import sim.model
    import sim.network
    from benchmarks.workloads import workload
    from sim.model import load_kernels

    spec = workload(customers, steps)
    # the compiled kernels' code is the program's, not the model's: loaded (from the
    # cache) before the baseline, and timed as part of the set-up
    code_kb = _rss_now_kb()
    tk, ck = time.perf_counter(), _cpu()
    load_kernels(spec.network.kind == "mean-field")
    kernels_s, kernels_cpu_s = time.perf_counter() - tk, _cpu() - ck
    base_kb = _rss_now_kb()
    code_kb = base_kb - code_kb
    timing: dict[str, float] = {}
    build = sim.network.build

    def timed_build(*args: Any, **kwargs: Any) -> Any:
        t = time.perf_counter()
        c = _cpu()
        g = build(*args, **kwargs)
        # the first build is the workload's (loading the kernels builds a tiny one after)
        timing.setdefault("network_s", time.perf_counter() - t)
        timing.setdefault("network_cpu_s", _cpu() - c)
        return g

    sim.network.build = timed_build  # type: ignore[assignment]
    t0, c0 = time.perf_counter(), _cpu()
    model = sim.model.DemandModel(spec, rng=seed)
    t1, c1 = time.perf_counter(), _cpu()
    model.run(steps)
    t2, c2 = time.perf_counter(), _cpu()
    ts = model.datacollector.get_model_vars_dataframe()
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    copy_s = copy_time(model)
    return {
        "impl": "engine",
        "customers": customers,
        "steps": steps,
        "edges": model.graph.edges,
        "setup_s": t1 - t0 + kernels_s,
        "setup_cpu_s": c1 - c0 + kernels_cpu_s,
        "code_kb": code_kb,
        "run_s": t2 - t1,
        "run_cpu_s": c2 - c1,
        "base_kb": base_kb,
        "peak_kb": peak_kb,
        "market_share_final": float(ts["market_share"].iloc[-1]),
        "copy_s": copy_s,
        "model_bytes": model_bytes(model),
        **timing,
    }


def model_arrays(model: Any) -> list[Any]:
    """Every numpy array the model holds: the customers, each firm's records, the
    ledger, the detection tracker, the kept counts and work arrays, the network."""
    import numpy as np

    seen: dict[int, Any] = {}
    roots = [model.state, model.ledger, model.tracker, model.work, model.graph]
    roots += [f.records for f in model.books]
    todo = list(roots)
    while todo:
        obj = todo.pop()
        if isinstance(obj, np.ndarray):
            base = obj if obj.base is None else obj.base
            if isinstance(base, np.ndarray):
                seen.setdefault(id(base), base)
            continue
        if isinstance(obj, dict):
            todo.extend(obj.values())
        elif isinstance(obj, list | tuple):
            todo.extend(obj)
        elif hasattr(obj, "__dict__"):
            todo.extend(vars(obj).values())
    return list(seen.values())


def model_bytes(model: Any) -> int:
    return sum(a.nbytes for a in model_arrays(model))


def copy_time(model: Any, repeats: int = 5) -> float:
    """Seconds to copy every array the model holds once (the best of ``repeats``): the
    memory-bandwidth floor of a step that touches all its state."""
    import numpy as np

    arrays = model_arrays(model)
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        for a in arrays:
            np.copy(a)
        best = min(best, time.perf_counter() - t)
    return best


def child_peer(customers: int, steps: int, seed: int) -> dict[str, Any]:
    """One run of the per-agent Mesa peer on the same workload."""
    import numpy  # noqa: F401
    import pandas  # noqa: F401

    from benchmarks.peer import PeerModel
    from benchmarks.workloads import workload

    spec = workload(customers, steps)
    base_kb = _rss_now_kb()
    t0, c0 = time.perf_counter(), _cpu()
    model = PeerModel(spec, seed)
    t1, c1 = time.perf_counter(), _cpu()
    model.run(steps)
    t2, c2 = time.perf_counter(), _cpu()
    ts = model.datacollector.get_model_vars_dataframe()
    return {
        "impl": "peer",
        "customers": customers,
        "steps": steps,
        "edges": None,
        "setup_s": t1 - t0,
        "setup_cpu_s": c1 - c0,
        "run_s": t2 - t1,
        "run_cpu_s": c2 - c1,
        "base_kb": base_kb,
        "peak_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "market_share_final": float(ts["market_share"].iloc[-1]),
    }


def child_profile(customers: int, steps: int, seed: int) -> dict[str, Any]:
    """Where the engine's step time goes: cProfile on process CPU time over ``steps``."""
    import cProfile
    import pstats

    import sim.model
    from benchmarks.workloads import workload

    model = sim.model.DemandModel(workload(customers, steps), rng=seed)
    prof = cProfile.Profile(time.process_time)
    prof.runcall(model.run, steps)
    stats = pstats.Stats(prof).stats  # type: ignore[attr-defined]
    rows = []
    for (path, line, fn), (_, ncalls, tottime, cumtime, _) in stats.items():
        where = f"{Path(path).parent.name}/{Path(path).name}:{line}({fn})" if line else fn
        rows.append({"where": where, "calls": ncalls, "own_s": tottime, "cum_s": cumtime})
    rows.sort(key=lambda r: -r["own_s"])
    total = sum(r["own_s"] for r in rows)
    return {"customers": customers, "steps": steps, "total_s": total, "top": rows[:18]}


# --------------------------------------------------------------------------- parent


def child_warm(customers: int, steps: int, seed: int) -> dict[str, Any]:
    """What ``make demo`` runs first on a fresh clone (``sim.precompile``): it compiles
    every kernel into numba's cache, or loads them. (A run of only a few steps would leave
    the kernels a run calls later, such as the detection of a rival's launch, to compile
    inside the first timed workload.)"""
    from sim.precompile import compile_kernels

    t = time.perf_counter()
    compile_kernels()
    return {"warm_s": time.perf_counter() - t}


def child_threads(customers: int, steps: int, seed: int) -> dict[str, Any]:
    """Wall time of a step on one and on two numba threads: after 12 steps, ``steps``
    steps on each, the count alternating step by step (1, 2, 2, 1, ...) so that the
    machine's drift over minutes does not enter the ratio; medians."""
    import numba

    from benchmarks.workloads import workload
    from sim.model import DemandModel

    warm = 12
    model = DemandModel(workload(customers, warm + 2 * steps), rng=seed).run(warm)
    counts = [1 + (k % 2) if (k // 2) % 2 == 0 else 2 - (k % 2) for k in range(2 * steps)]
    took: dict[int, list[float]] = {1: [], 2: []}
    for th in counts:
        numba.set_num_threads(th)
        t = time.perf_counter()
        model.run(1)
        took[th].append(time.perf_counter() - t)
    return {
        "customers": customers,
        "steps": steps,
        "one_s": statistics.median(took[1]),
        "two_s": statistics.median(took[2]),
    }


CHILDREN = {
    "engine": child_engine,
    "threads": child_threads,
    "peer": child_peer,
    "profile": child_profile,
    "warm": child_warm,
}


def _spawn(
    impl: str,
    customers: int,
    steps: int,
    seed: int,
    threads: int | None = None,
    engine: str | None = None,
) -> dict[str, Any]:
    """Run one child; ``threads`` sets numba's threads (default: one per core),
    ``engine`` the model's engine (default: the model's own)."""
    cmd = [sys.executable, "-m", "benchmarks.run", "--child", impl, "--customers", str(customers)]
    cmd += ["--steps", str(steps), "--seed", str(seed)]
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    )
    if threads is not None:
        env["NUMBA_NUM_THREADS"] = str(threads)
    if engine is not None:
        env["DEMANDSIM_ENGINE"] = engine
    t = time.perf_counter()
    out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"{impl} {customers}: child failed\n{out.stderr}")
    row: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    row["process_s"] = time.perf_counter() - t
    return row


def _warm(clear: bool) -> float:
    """Wall time of a short run in a fresh process; ``clear`` empties numba's cache of
    the project's kernels first, so that the run compiles them."""
    if clear:
        for path in (ROOT / "sim" / "__pycache__").glob("*.nb[ci]"):
            path.unlink()
    return float(_spawn("warm", 1000, 2, 1)["process_s"])


def help_time(repeats: int = 5) -> float:
    """Median wall time of ``demandsim --help`` (a fresh interpreter each time)."""
    exe = Path(sys.executable).parent / "demandsim"
    cmd = [str(exe), "--help"] if exe.exists() else [sys.executable, "-m", "sim.cli", "--help"]
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        subprocess.run(cmd, cwd=ROOT, capture_output=True, check=True)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def machine() -> dict[str, str]:
    cpu = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as fh:
            names = [ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name")]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    mem = "?"
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            kb = int(fh.readline().split()[1])
        mem = f"{kb / 2**20:.1f} GiB"
    except OSError:
        pass
    import mesa
    import numpy

    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "memory": mem,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "mesa": mesa.__version__,
        "load": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def rate(row: dict[str, Any], cpu: bool = False) -> float:
    return float(row["customers"] * row["steps"] / row["run_cpu_s" if cpu else "run_s"])


def _mb(kb: float) -> str:
    return f"{kb / 1024:.0f}"


def render(
    rows: list[dict[str, Any]],
    info: dict[str, str],
    help_s: float,
    note: str,
    profiles: list[dict[str, Any]] | None = None,
    warm: dict[str, Any] | None = None,
    threads: dict[str, Any] | None = None,
) -> str:
    """The results as Markdown: machine, table, ratios, targets."""
    lines = [
        "# Benchmark results",
        "",
        f"Recorded {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')} with `python -m benchmarks.run`"
        + (f" ({note})" if note else "")
        + ".",
        "",
        "Machine: "
        + ", ".join(f"{k} {v}" for k, v in info.items() if k != "load")
        + f"; load average when the run began: {info['load']}.",
        "",
        "| workload | impl | customers | steps | edges | customer-steps/s (wall) | customer-steps/s (CPU) "
        "| set-up s | network s | run s (wall) | run s (CPU) | total s | peak RSS MB | model MB "
        "| bytes/customer |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        model_kb = r["peak_kb"] - r["base_kb"]
        edges = r["edges"]
        lines.append(
            f"| {r['name']} | {r['impl']} | {r['customers']:,} | {r['steps']} | "
            f"{f'{edges:,}' if edges is not None else '-'} | {rate(r):,.0f} | {rate(r, cpu=True):,.0f} | "
            f"{r['setup_s']:.2f} | {r.get('network_s', float('nan')):.2f} | {r['run_s']:.2f} | "
            f"{r['run_cpu_s']:.2f} | {r['setup_s'] + r['run_s']:.2f} | {_mb(r['peak_kb'])} | "
            f"{_mb(model_kb)} | {model_kb * 1024 / r['customers']:.0f} |"
        )
    lines += [
        "",
        "Model MB is the peak resident memory less the memory after imports and after "
        "loading the compiled kernels from numba's cache (their code: "
        + ", ".join(f"{r['name']} {_mb(r['code_kb'])} MB" for r in rows if "code_kb" in r)
        + "; it does not grow with the market). Set-up includes loading the kernels.",
        "",
    ]
    by = {(r["name"], r["impl"]): r for r in rows}
    for base, other, title in (
        ("engine", "peer", "engine / peer"),
        ("engine-1t", "peer", "engine on one thread / peer"),
        ("engine", "engine-1t", "all threads / one thread"),
        ("engine", "sweep", "event engine / sweep"),
    ):
        ratios = []
        for name in dict.fromkeys(r["name"] for r in rows):
            e, p = by.get((name, base)), by.get((name, other))
            if e and p:
                ratios.append((name, rate(e) / rate(p), rate(e, True) / rate(p, True)))
        if ratios:
            lines += [f"| workload | {title} (wall) | {title} (CPU) |", "|---|---:|---:|"]
            lines += [f"| {n} | {w:,.1f}x | {c:,.1f}x |" for n, w, c in ratios]
            lines.append("")
    if warm:
        lines += [
            f"Compiling the kernels into numba's on-disk cache (`python -m sim.precompile`, "
            f"what `make demo` runs first on a fresh checkout): {warm['first_s']:.1f} s; the "
            f"same with the cache: {warm['cached_s']:.1f} s. Every workload above loaded "
            "them from the cache.",
            "",
        ]
    if threads:
        lines += [
            f"Two threads against one, {threads['customers']:,} customers ({threads['steps']} "
            "steps on each after 12, the count alternating step by step in one process): "
            f"one thread {threads['one_s'] * 1e3:.1f} ms a step, "
            f"two {threads['two_s'] * 1e3:.1f} ms (median wall time), "
            f"{threads['one_s'] / threads['two_s']:.2f}x.",
            "",
        ]
    lines += [f"`demandsim --help`: {help_s:.3f} s (median of 5).", ""]
    targets = check_targets(rows, help_s, threads)
    lines += ["## Targets", ""] + [f"- {t}" for t in targets] + [""]
    for profile in profiles or []:
        per_step = profile["total_s"] / profile["steps"]
        lines += [
            f"## Where the time goes: {profile['name']}, {profile['steps']} steps",
            "",
            f"cProfile on process CPU time: {per_step * 1000:.1f} ms per step in all "
            "(the profiler adds a little). Own time per function, largest first. The "
            "profiler does not see inside compiled code: a kernel's time is the own time "
            "of the rule module's wrapper that calls it, random "
            "draws included (they are generated inside the kernels).",
            "",
            "| function | calls | own ms/step | with callees ms/step |",
            "|---|---:|---:|---:|",
        ]
        for r in profile["top"]:
            lines.append(
                f"| `{r['where']}` | {r['calls']} | {r['own_s'] / profile['steps'] * 1000:.2f} "
                f"| {r['cum_s'] / profile['steps'] * 1000:.2f} |"
            )
        lines.append("")
    lines += [
        "## Notes",
        "",
        "- numba: the per-customer rules (demand, platforms, choice) and the counting "
        "passes (complaints, opportunity ledger, metrics) are compiled loops, each rule "
        "written once. See docs/performance.md.",
        "- The machine is shared: compare ratios within one run, and CPU time where wall "
        "time is disturbed by other work (the load average above). The two-thread "
        "figure needs a quiet machine: another process, even at the lowest priority, "
        "takes the second core often enough to hold it down (docs/performance.md, "
        '"Two threads against one at 1M, part by part").',
        "",
    ]
    return "\n".join(lines)


def check_targets(
    rows: list[dict[str, Any]], help_s: float, threads: dict[str, Any] | None = None
) -> list[str]:
    """Each target, met or missed, with the measured number: the engine's, then the
    event engine's (those the workloads run measure)."""
    out = []
    by = {(r["name"], r["impl"]): r for r in rows}

    def mark(ok: bool) -> str:
        return "met" if ok else "MISSED"

    e10, p10 = by.get(("10k", "engine")), by.get(("10k", "peer"))
    if e10 and p10:
        ratio = rate(e10, cpu=True) / rate(p10, cpu=True)  # per CPU second
        out.append(
            f"{mark(ratio >= TARGET_RATIO_10K)}: >= {TARGET_RATIO_10K:.0f}x the peer at 10k: {ratio:,.0f}x"
        )
    e1m = by.get(("1M", "engine"))
    if e1m:
        r = rate(e1m, cpu=True)
        out.append(
            f"{mark(r >= TARGET_RATE_1M)}: >= 30M customer-steps per CPU second at 1M: "
            f"{r / 1e6:.2f}M"
        )
        step_s = e1m["run_s"] / e1m["steps"]
        ratio = step_s / max(e1m["copy_s"], 1e-12)
        out.append(
            f"{mark(ratio <= TARGET_COPY_RATIO)}: one step <= 2x one copy of every array the "
            f"model holds ({e1m['model_bytes'] / 2**20:.0f} MB, {e1m['copy_s'] * 1e3:.1f} ms): "
            f"step {step_s * 1e3:.1f} ms, {ratio:.1f}x"
        )
        total = e1m["setup_s"] + e1m["run_s"]
        out.append(
            f"{mark(total < TARGET_WALL_1M)}: 1M x {e1m['steps']} in < 15 s with set-up: {total:.1f} s"
        )
        budget = TARGET_BYTES_PER_CUSTOMER * e1m["customers"] + TARGET_BYTES_PER_EDGE * e1m["edges"]
        used = (e1m["peak_kb"] - e1m["base_kb"]) * 1024
        out.append(
            f"{mark(used <= budget)}: peak memory <= 200 B/customer + 16 B/edge "
            f"({budget / 2**20:.0f} MB): model {used / 2**20:.0f} MB (compiled kernels "
            f"{e1m.get('code_kb', 0) / 1024:.0f} MB; whole process {e1m['peak_kb'] / 1024:.0f} MB)"
        )
        out.append(
            f"{mark(e1m.get('network_s', 1e9) < TARGET_NETWORK_1M)}: 1M-customer network in < 5 s: "
            f"{e1m.get('network_s', float('nan')):.2f} s"
        )
    out.append(f"{mark(help_s < TARGET_HELP)}: `demandsim --help` < 0.3 s: {help_s:.3f} s")
    s1m, e100k = by.get(("1M", "sweep")), by.get(("100k", "engine"))
    judged = []  # (ratio, met, what): the event engine's targets
    if e1m and s1m:
        r = rate(e1m, cpu=True) / rate(s1m, cpu=True)
        judged.append((r, r >= TARGET_OVER_SWEEP_1M, "event engine >= 4x the sweep in "
                       "customer-steps per CPU second at 1M"))  # fmt: skip
    if e1m:
        r = e1m["run_s"] / e1m["steps"] / max(e1m["copy_s"], 1e-12)
        judged.append((r, r <= TARGET_COPY_RATIO_EVENTS, "event engine, one step <= 1x one "
                       "copy of every array the model holds"))  # fmt: skip
    if e1m and e100k:
        r = rate(e100k, cpu=True) / rate(e1m, cpu=True)
        judged.append((r, r <= TARGET_1M_OVER_100K, "CPU per customer-step at 1M within "
                       "1.3x of 100k's"))  # fmt: skip
    if threads:
        r = threads["one_s"] / threads["two_s"]
        judged.append((r, r >= TARGET_TWO_CORES, "two cores >= 1.8x one in wall time at "
                       f"{threads['customers']:,}"))  # fmt: skip
    out += [f"{mark(ok)}: {what}: {r:.2f}x" for r, ok, what in judged]
    return out


def main(argv: list[str] | None = None) -> int:
    from benchmarks.workloads import SEED, SIZES, STEPS

    ap = argparse.ArgumentParser(
        prog="python -m benchmarks.run", description=__doc__.split("\n")[0]
    )
    ap.add_argument("--sizes", default=",".join(SIZES), help="engine workloads (default: all)")
    ap.add_argument(
        "--peer-sizes", default="1k,10k", help="workloads also run by the peer ('' = none)"
    )
    ap.add_argument(
        "--one-thread-sizes",
        default="",
        help="engine workloads also run on one thread (NUMBA_NUM_THREADS=1), as 'engine-1t'",
    )
    ap.add_argument(
        "--sweep-sizes", default="1M", help="workloads also run by the sweep engine ('' = none)"
    )
    ap.add_argument(
        "--threads-size",
        default="1M",
        help="workload whose step is timed on one and two threads, alternating ('' = none)",
    )
    ap.add_argument("--steps", type=int, default=STEPS)
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument(
        "--out", default=str(RESULTS), help="Markdown file to write ('' = do not write)"
    )
    ap.add_argument(
        "--profile",
        default="1M:20,10k:260",
        help="workload:steps,... to profile (cProfile, CPU time) into the results ('' = none)",
    )
    ap.add_argument("--child", choices=tuple(CHILDREN), help=argparse.SUPPRESS)
    ap.add_argument("--customers", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(CHILDREN[args.child](args.customers, args.steps, args.seed)))
        return 0
    info = machine()
    sizes = [s for s in args.sizes.split(",") if s]
    peer_sizes = [s for s in args.peer_sizes.split(",") if s]
    one_sizes = [s for s in args.one_thread_sizes.split(",") if s]
    sweep_sizes = [s for s in args.sweep_sizes.split(",") if s]
    threads_size = [args.threads_size] if args.threads_size else []
    for s in sizes + peer_sizes + one_sizes + sweep_sizes + threads_size:
        if s not in SIZES:
            ap.error(f"unknown workload {s!r}; known: {', '.join(SIZES)}")
    if threads_size and SIZES[args.threads_size] < MIN_PARALLEL_CUSTOMERS:
        ap.error(
            f"--threads-size {args.threads_size}: runs on one thread whatever numba's count;"
            f" known workloads of {MIN_PARALLEL_CUSTOMERS:,} customers or more: "
            + ", ".join(k for k, n in SIZES.items() if n >= MIN_PARALLEL_CUSTOMERS)
        )
    to_profile = []  # checked before anything runs
    for item in filter(None, args.profile.split(",")):
        name, _, k = item.partition(":")
        if name not in SIZES or not (k or "20").isdigit() or int(k or 20) < 1:
            ap.error(f"--profile {item!r}: want workload:steps, workload one of {', '.join(SIZES)}")
        to_profile.append((name, int(k or 20)))
    print("compiling the kernels (numba cache) ...", file=sys.stderr, flush=True)
    warm = {"first_s": _warm(clear=True), "cached_s": _warm(clear=False)}
    rows = []
    wanted = {"engine": sizes, "engine-1t": one_sizes, "sweep": sweep_sizes, "peer": peer_sizes}
    for name in dict.fromkeys(sizes + one_sizes + sweep_sizes + peer_sizes):
        for impl in ("engine", "engine-1t", "sweep", "peer"):
            if name not in wanted[impl]:
                continue
            print(f"running {impl} {name} ...", file=sys.stderr, flush=True)
            child, threads, engine = {
                "engine-1t": ("engine", 1, None),
                "sweep": ("engine", None, "sweep"),
            }.get(impl, (impl, None, None))
            row = _spawn(child, SIZES[name], args.steps, args.seed, threads, engine)
            row["name"] = name
            row["impl"] = impl
            rows.append(row)
            print(
                f"  {rate(row):,.0f} customer-steps/s, set-up {row['setup_s']:.2f} s, "
                f"run {row['run_s']:.2f} s, peak {row['peak_kb'] / 1024:.0f} MB",
                file=sys.stderr,
                flush=True,
            )
    profiles = []
    for name, k in to_profile:
        print(f"profiling engine {name} ...", file=sys.stderr, flush=True)
        profile = _spawn("profile", SIZES[name], k, args.seed)
        profile["name"] = name
        profiles.append(profile)
    two = None
    if args.threads_size:
        print(f"one and two threads, {args.threads_size} ...", file=sys.stderr, flush=True)
        two = _spawn("threads", SIZES[args.threads_size], 12, args.seed)
    help_s = help_time()
    note = "" if args.steps == STEPS else f"{args.steps} steps"
    text = render(rows, info, help_s, note, profiles, warm, two)
    print(text)
    if args.out:
        out = Path(args.out)
        old = out.read_text(encoding="utf-8") if out.exists() else ""
        Path(args.out).write_text(text + kept_sections(old), encoding="utf-8")
    return 0


#: sections of the results file recorded by other benchmarks, which a new run keeps
KEPT = (
    "## The switch to the event engine",
    "## Fixed cost per step of a small market",
    "## Sweep machinery: cost per run of a known-answer sweep",
    "## Small runs: `platform-sobol` before and after",
)


def kept_sections(old: str) -> str:
    """The ``KEPT`` sections of the results file ``old``, each up to the next section."""
    out = []
    for part in old.split("\n## ")[1:]:
        if f"## {part}".startswith(KEPT):
            out.append(f"\n## {part.rstrip()}\n")
    return "".join(out)


if __name__ == "__main__":
    raise SystemExit(main())
