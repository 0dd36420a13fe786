"""Sweeps at scale: the dry run, --set, and folding finished runs into part files."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from analysis.sweeps.run import run_sweep

DEMANDSIM = str(Path(sys.executable).parent / "demandsim")
SPEC = """runner = "analysis.sensitivity.testfunctions:linear_runner"
steps = 4
replications = 2
seed = 8
[sampler]
method = "grid"
points = 3
[parameters]
"focal.platform.density" = { range = [0.0, 1.0] }
"focal.platform.strength" = { range = [0.0, 1.0] }
"focal.platform.coverage" = { levels = [0.2, 0.6] }
[outcomes]
timeseries = ["mix"]
analyze = ["linear"]
"""
RUNS = 18 * 2


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([DEMANDSIM, *args], capture_output=True, text=True, timeout=240)


def _tree(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The spec swept with one file per run (nothing folded)."""
    tmp = tmp_path_factory.mktemp("plain")
    spec = tmp / "spec.toml"
    spec.write_text(SPEC)
    res = run_sweep(spec, tmp / "out", workers=2)
    assert res.complete and res.ran == RUNS
    assert not list((tmp / "out" / "runs").glob("part-*"))
    return spec, tmp / "out"


def test_dry_run_prints_the_plan_and_writes_nothing(
    plain: tuple[Path, Path], tmp_path: Path
) -> None:
    spec, done = plain
    out = tmp_path / "new"
    proc = _cli("sweep", str(spec), "--out", str(out), "--dry-run")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == f"plan: grid: 18 points x 2 replications = {RUNS} runs ({RUNS} distinct)"
    assert lines[1] == f"runs: {RUNS} distinct; 0 already in {out}, {RUNS} to run"
    assert lines[-1].startswith("time: ") and "s per run (median of 2 timed here)" in lines[-1]
    assert not out.exists()
    # On a finished folder: everything is there, nothing to time, nothing changed.
    before = _tree(done)
    proc = _cli("sweep", str(spec), "--out", str(done), "--dry-run")
    assert proc.returncode == 0, proc.stderr
    assert f"{RUNS} already in {done}, 0 to run" in proc.stdout and "time:" not in proc.stdout
    assert _tree(done) == before


def test_set_fixes_a_field_and_bad_sets_are_one_line(
    plain: tuple[Path, Path], tmp_path: Path
) -> None:
    spec, done = plain
    out = tmp_path / "set"
    proc = _cli("sweep", str(spec), "--out", str(out), "--set", "run.customers=321", "-q")
    assert proc.returncode == 0, proc.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["spec"]["set"] == {"run.customers": 321}
    assert manifest["base_scenario"]["run"]["customers"] == 321
    plain_manifest = json.loads((done / "manifest.json").read_text())
    assert manifest["spec_hash"] != plain_manifest["spec_hash"]  # another sweep
    before = _tree(done)
    for args, fragment in (
        (["--set", "run.customers=-5"], "run.customers"),
        (["--set", "nonsense"], "--set 'nonsense': expected key=value"),
        (["--set", "focal.platform.density=0.3"], "--set focal.platform.density: a parameter"),
        (["--set", "no.such.field=1"], "set.no: unknown field"),
        (["--set", "run.customers=300"], "holds another sweep"),  # the folder of the plain sweep
    ):
        target = done if "another" in fragment else tmp_path / "bad"
        proc = _cli("sweep", str(spec), "--out", str(target), *args, "--dry-run")
        if "another" in fragment:  # a dry run only reads; the sweep itself refuses
            proc = _cli("sweep", str(spec), "--out", str(target), *args)
        assert proc.returncode == 2, (args, proc.stderr)
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and len(lines[0]) <= 200 and fragment in lines[0], (args, lines)
        assert not (tmp_path / "bad").exists()
    assert _tree(done) == before


def test_folded_runs_give_the_same_tables(plain: tuple[Path, Path], tmp_path: Path) -> None:
    spec, done = plain
    out = tmp_path / "folded"
    res = run_sweep(spec, out, workers=2, fold_every=7)
    assert res.complete and res.ran == RUNS
    files = sorted(p.name for p in (out / "runs").iterdir())
    assert files and all(f.startswith("part-") for f in files)  # ends with no loose run file
    assert len(files) == -(-RUNS // 7)  # folds of 7, then the rest
    for name in ("results.parquet", "timeseries.parquet"):
        pd.testing.assert_frame_equal(pd.read_parquet(out / name), pd.read_parquet(done / name))
    # Resuming a folded sweep finds every run.
    again = run_sweep(spec, out, workers=2, fold_every=7)
    assert again.ran == 0 and again.skipped == RUNS


def test_an_interrupted_fold_and_a_broken_part(plain: tuple[Path, Path], tmp_path: Path) -> None:
    spec, done = plain
    out = tmp_path / "folded"
    run_sweep(spec, out, workers=2, fold_every=10)
    parts = sorted((out / "runs").glob("part-*.parquet"))
    # A fold that stopped after writing its part but before removing the run files:
    # the same runs are found twice; the part wins and the loose copies go.
    held = pd.read_parquet(parts[0], columns=["run_id"])["run_id"].tolist()
    for rid in held[:3]:
        shutil.copy(done / "runs" / f"{rid}.parquet", out / "runs" / f"{rid}.parquet")
    again = run_sweep(spec, out, workers=2, fold_every=10)
    assert again.ran == 0 and again.skipped == RUNS
    assert not [p for p in (out / "runs").iterdir() if not p.name.startswith("part-")]
    # A part that cannot be read is quarantined and its runs are done again.
    broken = sorted((out / "runs").glob("part-*.parquet"))[0]
    n = len(pd.read_parquet(broken, columns=["run_id"]))
    broken.write_bytes(b"not parquet")
    again = run_sweep(spec, out, workers=2, fold_every=10)
    assert again.ran == n and again.complete
    assert (out / "quarantine" / broken.name).exists()
    pd.testing.assert_frame_equal(
        pd.read_parquet(out / "results.parquet"), pd.read_parquet(done / "results.parquet")
    )
