"""The benchmark helpers behind the recorded figures: the results file keeps the
sections other benchmarks record, and the step timers file nested parts correctly."""

from __future__ import annotations

import time

from benchmarks.run import kept_sections
from benchmarks.step_overhead import Timers


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
    kernel = t.kernel_of(lambda: _spin(2))
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
