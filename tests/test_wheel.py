"""The built wheel works where the source tree is not, with the core install alone:
installed into a fresh virtual environment beside the core's dependencies and nothing
else, the README's examples run from another folder (a run, a comparison, a bundled
sweep spec and the observed series a bundled calibration names), and a command that
needs an extra says which one in one line.

The fresh environment borrows the core's dependencies from the environment running
the tests: a folder of links to the files of the core's requirement closure
(``benchmarks.install_size.core_only_dir``, read from the installed metadata), named
by a ``.pth`` file, so nothing is downloaded but the build backend, from pip's cache.
"""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("sim", "analysis", "demandsim", "pyproject.toml", "README.md")


def _sh(*cmd: str | Path, cwd: Path, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [str(c) for c in cmd], cwd=cwd, capture_output=True, text=True, timeout=timeout
    )
    assert proc.returncode == 0, f"{cmd}\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
    return proc


@pytest.mark.slow
def test_wheel_installs_and_runs_from_another_folder(tmp_path: Path) -> None:
    files = _sh("git", "ls-files", "-z", *SOURCES, cwd=ROOT).stdout.split("\0")
    src = tmp_path / "src"
    for name in filter(None, files):
        dest = src / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes((ROOT / name).read_bytes())
    _sh(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", "dist", ".", cwd=src)
    wheel = next((src / "dist").glob("demandsim-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {
        "sim/scenarios/scenario.schema.json",
        "sim/scenarios/baseline.toml",
        "analysis/specs/small-grid.toml",
        "analysis/specs/bass.observed.csv",
        "demandsim/main.py",
    } <= names
    # no generic top-level names: the packages, and the wheel's own metadata
    assert {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")} == {
        "sim",
        "analysis",
        "demandsim",
    }

    venv = tmp_path / "venv"
    _sh(sys._base_executable, "-m", "venv", "--without-pip", venv, cwd=tmp_path)  # type: ignore[attr-defined]
    python = venv / "bin" / "python"
    site = _sh(
        python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=tmp_path
    )
    from benchmarks.install_size import core_only_dir

    core = core_only_dir(tmp_path / "core")
    assert "numba" in core and "solara" not in core and "optuna" not in core
    (Path(site.stdout.strip()) / "deps.pth").write_text(str(tmp_path / "core") + "\n")
    _sh(
        sys.executable,
        "-m",
        "pip",
        "--python",
        python,
        "install",
        "-q",
        "--no-deps",
        wheel,
        cwd=tmp_path,
    )

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    where = _sh(
        python,
        "-c",
        "import sim, demandsim; print(sim.__file__, demandsim.__file__)",
        cwd=elsewhere,
    )
    assert str(ROOT) not in where.stdout and str(venv) in where.stdout
    run = _sh(
        venv / "bin" / "demandsim", "run", "baseline", "--set", "run.customers=300",
        "--steps", "4", "--no-plots", "--out", "out", cwd=elsewhere,
    )  # fmt: skip
    assert "baseline: 300 customers, 4 steps" in run.stdout
    assert {"summary.json", "scenario.toml", "demandsim.json"} <= {
        p.name for p in (elsewhere / "out").iterdir()
    }
    # an installed package records its version, not the commit of a repository around it
    prov = json.loads((elsewhere / "out" / "demandsim.json").read_text())
    assert prov["demandsim_version"] and prov["git_commit"] is None
    shown = _sh(venv / "bin" / "demandsim", "scenarios", "list", cwd=elsewhere)
    assert "baseline" in shown.stdout
    demandsim = venv / "bin" / "demandsim"
    comp = _sh(
        demandsim, "compare", "baseline", "insensitive-platform", "--reps", "2", "--steps", "4",
        "--set", "run.customers=300", "--out", "cmp", cwd=elsewhere,
    )  # fmt: skip
    assert (elsewhere / "cmp" / "comparison.json").is_file(), comp.stdout
    plan = _sh(demandsim, "sweep", "small-grid", "--dry-run", "--out", "sw", cwd=elsewhere)
    assert "runs" in plan.stdout and not (elsewhere / "sw").exists()
    # commands that need an extra say which, in one line, exit 2, writing nothing
    for cmd, extra in (
        (["dashboard"], "viz"),
        (["calibrate", "bass-check", "--observed", "bass.observed.csv", "--spec",
          "bass.calibration", "--out", "cal"], "fit"),
        (["classroom"], "classroom"),
    ):  # fmt: skip
        proc = subprocess.run(
            [str(demandsim), *cmd], cwd=elsewhere, capture_output=True, text=True, timeout=120
        )
        lines = proc.stderr.strip().splitlines()
        assert proc.returncode == 2 and len(lines) == 1, (cmd, proc.stderr)
        assert f"pip install 'demandsim[{extra}]'" in lines[0]
    assert not (elsewhere / "cal").exists()
