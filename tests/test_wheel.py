"""The built wheel works where the source tree is not: installed into a fresh virtual
environment, ``demandsim run baseline`` runs from another folder, and the wheel holds
the scenario schema and the bundled sweeps.

The fresh environment borrows the dependencies of the one running the tests (a
``.pth`` file naming its site-packages; that folder's own ``.pth`` files, such as
the editable install of this tree, are not read), so nothing is downloaded but the
build backend, from pip's cache.
"""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("sim", "analysis", "demandsim", "pyproject.toml", "README.md")


def _sh(*cmd: str | Path, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
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
    (Path(site.stdout.strip()) / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
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
