"""Would fewer Philox calls, each serving several customers, make a step faster?

    python -m benchmarks.packed_draws [--customers 1000000] [--steps 10] [--pairs 2]

The workload makes about 2.8 Philox calls per customer-step (``benchmarks.draws``),
and one call costs about 16 ns in a tight loop (``benchmarks.generator_share``). The
two largest items use only part of each call: the demand rule's state draw takes one
call per customer for two categories (two of its four words), and the homogeneous
platform's contact draw one call per covered customer (one word). This times the
engine against a copy of the package (in a temporary folder) whose draws are packed:
the state draws of two customers' two categories share one call, and the contact
draws of four customers share one. The packed copy is a different set of addresses,
so its numbers differ (timing only; it is not a valid change of the package as it
stands: its addresses would need the tests and documentation of ``sim.rng``).

Both run the same workload in fresh processes on one thread, alternately
(``--pairs`` times each); it prints ns of CPU per customer-step, and each run's
served needs and market share (the packed copy must do the same work). The table is
also written to ``benchmarks/packed-draws.md``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from benchmarks.generator_share import Report, arguments, copy_package, measure

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "packed-draws.md"

#: (file, the engine's lines, the packed copy's lines)
PATCHES = (
    (
        "platform.py",
        "        u = np.empty(4 * n_draw, np.float64)  # the draws (block 0, word 0), two a call\n"
        "        customer_blocks_into(rk, step_addr, CONTACT, draw[:n_draw], 1, u)\n",
        "        u = np.empty(4 * ((hi - lo + 3) >> 2), np.float64)  # four customers a block\n"
        "        customer_blocks_into(\n"
        "            rk, step_addr, CONTACT, np.arange(lo >> 2, (hi + 3) >> 2), 1, u\n"
        "        )\n",
    ),
    (
        "platform.py",
        "            contacted[i] = u[4 * r] < np.float64(table[kind[i]])\n",
        "            contacted[i] = u[4 * ((i - lo) >> 2) + (i & 3)] < np.float64(table[kind[i]])\n",
    ),
    (
        "demand.py",
        "    ust = np.empty(4 * nb * (hi - lo), np.float64)\n"
        "    customer_blocks_into(rk, now, DEMAND_STATE, np.arange(lo, hi), nb, ust)\n",
        "    nq = (C + 1) >> 1  # blocks a pair of customers: two categories of two a block\n"
        "    ust = np.empty(4 * nq * ((hi - lo + 1) >> 1), np.float64)\n"
        "    customer_blocks_into(rk, now, DEMAND_STATE, np.arange(lo >> 1, (hi + 1) >> 1), nq, ust)\n",
    ),
    (
        "demand.py",
        "            x = ust[4 * nb * (i - lo) + c]\n",
        "            x = ust[4 * (((i - lo) >> 1) * nq + (c >> 1)) + (((i & 1) << 1) | (c & 1))]\n",
    ),
)


def packed_copy(where: Path) -> Path:
    """The package copied to ``where``, its draws packed (``PATCHES``)."""
    copy_package(where)
    for name, old, new in PATCHES:
        path = where / "sim" / name
        text = path.read_text()
        if text.count(old) != 1:
            raise RuntimeError(f"sim/{name} has changed: the patch no longer applies")
        path.write_text(text.replace(old, new))
    return where


def main(argv: list[str] | None = None) -> int:
    ap = arguments("python -m benchmarks.packed_draws", __doc__)
    ap.add_argument("--pairs", type=int, default=2)
    a = ap.parse_args(argv)
    report = Report()
    say = report.say
    say(
        f"`python -m benchmarks.packed_draws --customers {a.customers} --steps {a.steps} "
        f"--pairs {a.pairs}`, {report.now()}; "
        "one thread, ns of CPU per customer-step:\n"
    )
    say("| draws | whole step | demand | platforms | choice | served | share |")
    say("|---|---:|---:|---:|---:|---:|---:|")
    whole: dict[str, list[float]] = {"as they are": [], "packed": []}
    with tempfile.TemporaryDirectory() as tmp:
        packed = packed_copy(Path(tmp) / "packed")
        for _ in range(a.pairs):
            for label, where in (("as they are", ROOT), ("packed", packed)):
                got = measure(where, a.customers, a.warm, a.steps)
                whole[label].append(got["ns_per_customer_step"])
                say(
                    f"| {label} | {got['ns_per_customer_step']:.1f} | {got['demand_step']:.1f} "
                    f"| {got['platform_step']:.1f} | {got['choice_step']:.1f} "
                    f"| {got['served']:,} | {got['market_share']:.3f} |"
                )
    base, pk = (min(v) for v in whole.values())
    say(f"\nBest of each: {base:.1f} ns as they are, {pk:.1f} ns packed ({base / pk:.2f}x).")
    report.write(OUT, "Packed draws")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
