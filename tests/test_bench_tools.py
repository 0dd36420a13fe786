"""The benchmark helpers behind the recorded figures: the results file keeps the
sections other benchmarks record, and the step timers file nested parts correctly."""

from __future__ import annotations

import time

from benchmarks.run import check_targets, kept_sections
from benchmarks.step_overhead import Timers, fit
from benchmarks.timing import in_turn


def test_a_new_results_file_keeps_the_recorded_sections_only() -> None:
    old = (
        "# Benchmark results\n\n## Targets\n- met\n\n"
        "## Fixed cost per step of a small market\n\nfigures\n| a | b |\n\n"
        "## Notes\n- shared machine\n"
    )
    kept = kept_sections(old)
    assert kept == "\n## Fixed cost per step of a small market\n\nfigures\n| a | b |\n"
    assert kept_sections(kept) == kept  # a second run keeps it once
    assert kept_sections("# Benchmark results\n\n## Notes\n- n\n") == ""


def _spin(ms: float) -> None:
    end = time.perf_counter() + ms / 1e3
    while time.perf_counter() < end:
        pass


def test_a_part_s_own_time_leaves_out_its_nested_parts_and_kernels_go_to_the_innermost() -> None:
    t = Timers()
    kernel = t.kernel_of(lambda: _spin(2), "k")
    inner = t.part("inner", lambda: (_spin(3), kernel()))
    outer = t.part("outer", lambda: (_spin(1), inner()))
    outer()
    outer()
    assert t.steps == 2  # each outermost call files one step
    for step in range(2):
        inner_ms, outer_ms = t.own["inner"][step] / 1e6, t.own["outer"][step] / 1e6
        assert 5 <= inner_ms < 5 + 20  # its own spin and the kernel's (the machine is shared)
        assert 1 <= outer_ms < 1 + 20  # the nested part is not counted twice
        assert 2 <= t.kernel["inner"][step] / 1e6 < 2 + 20
        assert t.kernel["outer"][step] == 0
        assert t.by_kernel["k"][step] == t.kernel["inner"][step]  # filed by name as well


def test_the_fit_splits_a_step_into_its_fixed_cost_and_its_cost_per_customer(capsys) -> None:  # type: ignore[no-untyped-def]
    sizes = [1000, 2000, 4000, 8000]
    rows = [{"a": 50.0 + 0.02 * n, "b": 300.0 + 0.001 * n, "only here": 1.0} for n in sizes]
    rows[-1].pop("only here")
    fit(sizes, rows, top=5)
    out = capsys.readouterr().out.splitlines()
    parts = [line.split() for line in out[3:]]
    assert [p[0] for p in parts] == ["b", "a"]  # highest fixed cost first; a part missing
    assert [float(x) for x in parts[0][1:]] == [300.0, 1.0]  # at one size is left out
    assert [float(x) for x in parts[1][1:]] == [50.0, 20.0]  # µs fixed, ns a customer


def test_the_event_engine_s_targets_are_judged_from_the_rows() -> None:
    def row(name: str, impl: str, customers: int, cpu_s: float) -> dict[str, object]:
        return {"name": name, "impl": impl, "customers": customers, "steps": 10,
                "run_s": cpu_s, "run_cpu_s": cpu_s, "copy_s": cpu_s / 20, "setup_s": 1.0,
                "model_bytes": 1, "peak_kb": 2, "base_kb": 1, "edges": 0}  # fmt: skip

    rows = [row("100k", "engine", 100_000, 1.0), row("1M", "engine", 1_000_000, 12.0),
            row("1M", "sweep", 1_000_000, 50.0)]  # fmt: skip
    got = check_targets(rows, 0.1, {"customers": 1_000_000, "one_s": 0.09, "two_s": 0.045})
    lines = {t.split(": ", 1)[1].split(":")[0]: t for t in got}
    assert lines["event engine >= 4x the sweep in customer-steps per CPU second at 1M"].startswith(
        "met"
    )  # 50 / 12
    assert lines["CPU per customer-step at 1M within 1.3x of 100k's"].endswith("1.20x")
    assert lines["CPU per customer-step at 1M within 1.3x of 100k's"].startswith("met")
    assert lines["two cores >= 1.8x one in wall time at 1,000,000"] == (
        "met: two cores >= 1.8x one in wall time at 1,000,000: 2.00x"
    )
    step_vs_copy = "event engine, one step <= 1x one copy of every array the model holds"
    assert lines[step_vs_copy].startswith("MISSED")  # a step is 20 copies
    rows[2]["run_cpu_s"] = 40.0
    assert check_targets(rows, 0.1)[-3].startswith("MISSED")  # 40 / 12 < 4


def test_children_in_turn_import_their_tree_s_sim_and_this_checkout_s_benchmarks(
    tmp_path, capsys
) -> None:  # type: ignore[no-untyped-def]
    trees = {}
    for name in ("old", "new"):
        (tmp_path / name / "sim").mkdir(parents=True)
        (tmp_path / name / "sim" / "__init__.py").write_text(f"NAME = {name!r}\n")
        trees[name] = tmp_path / name
    script = tmp_path / "probe.py"
    script.write_text(
        "import json, sys, sim, benchmarks.timing as t\n"
        "print(json.dumps({'sim': sim.NAME, 'in_turn': hasattr(t, 'in_turn'), 'argv': sys.argv[1:]}))\n"
    )
    runs = in_turn(str(script), trees, ["--x", "1"], rounds=2)
    assert runs == {
        name: [{"sim": name, "in_turn": True, "argv": ["--child", "--x", "1"]}] * 2
        for name in ("old", "new")
    }
    order = [line.split(": ")[1] for line in capsys.readouterr().err.splitlines()]
    assert order == ["old done", "new done", "new done", "old done"]


def test_the_benchmark_s_threshold_for_two_threads_is_the_model_s() -> None:
    from benchmarks.run import MIN_PARALLEL_CUSTOMERS
    from sim.jit import CHUNK, PARALLEL_MIN_CHUNKS

    assert MIN_PARALLEL_CUSTOMERS == PARALLEL_MIN_CHUNKS * CHUNK
