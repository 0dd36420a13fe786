"""Bad input on the strategist's commands: one line naming the problem, exit 2,
nothing written — through click's runner and as real subprocesses."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from demandsim.main import cli

DEMANDSIM = Path(sys.executable).parent / "demandsim"

# (file content or None for a missing file, words the one-line message must contain)
BAD_FILES: dict[str, tuple[str | None, tuple[str, ...]]] = {
    "malformed": ('[run]\nname = "x\n', ("malformed TOML",)),
    "unknown_field": ("[run]\nnmae = 'x'\n", ("run.nmae", "unknown field", "name")),
    "wrong_type": ("[run]\ncustomers = 'many'\n", ("run.customers", "'many'", "integer")),
    "out_of_range": (
        "[focal.platform]\ndensity = 1.5\n",
        ("focal.platform.density", "1.5", "[0, 1]"),
    ),
    "bad_choice": ("[network]\nkind = 'ring'\n", ("network.kind", "'ring'", "watts-strogatz")),
    "missing": (None, ("no such file",)),
}

BAD_SETS: dict[str, tuple[str, tuple[str, ...]]] = {
    "no_equals": ("focal.platform.density", ("--set", "key=value")),
    "unknown_key": (
        "focal.platform.densty=0.2",
        ("focal.platform.densty", "did you mean 'density'"),
    ),
    "bad_value": ("focal.platform.density=abc", ("focal.platform.density", "'abc'", "number")),
    "out_of_range": ("focal.platform.density=-0.1", ("focal.platform.density", "-0.1")),
    "bad_index": ("competitors.5.platform.density=0.2", ("competitors.5", "out of range")),
}


def _scenario(tmp_path: Path, key: str) -> str:
    content, _ = BAD_FILES[key]
    path = tmp_path / f"{key}.toml"
    if content is not None:
        path.write_text(content)
    return str(path)


def _commands(scenario: str, out: Path) -> dict[str, list[str]]:
    return {
        "validate": ["scenarios", "validate", scenario],
        "show": ["scenarios", "show", scenario],
        "compare": [
            "compare",
            scenario,
            "baseline",
            "--reps",
            "2",
            "--steps",
            "2",
            "--out",
            str(out),
        ],
        "compare_b": [
            "compare",
            "baseline",
            scenario,
            "--reps",
            "2",
            "--steps",
            "2",
            "--out",
            str(out),
        ],
    }


def _one_line(text: str) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    assert len(lines) == 1, f"expected one line, got: {text!r}"
    return lines[0]


def _nothing_written(tmp_path: Path, before: set[Path]) -> None:
    assert set(tmp_path.iterdir()) == before, "a failed command left files behind"


@pytest.mark.parametrize("key", sorted(BAD_FILES))
@pytest.mark.parametrize("command", ["validate", "show", "compare", "compare_b"])
def test_bad_scenario_file_runner(tmp_path: Path, key: str, command: str) -> None:
    scenario = _scenario(tmp_path, key)
    before = set(tmp_path.iterdir())
    args = _commands(scenario, tmp_path / "out")[command]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    line = _one_line(result.stderr)
    for word in BAD_FILES[key][1]:
        assert word in line
    assert result.stdout == ""
    _nothing_written(tmp_path, before)


@pytest.mark.parametrize("key", sorted(BAD_SETS))
@pytest.mark.parametrize("command", ["validate", "show", "compare"])
def test_bad_set_runner(tmp_path: Path, key: str, command: str) -> None:
    item, words = BAD_SETS[key]
    args = _commands("baseline", tmp_path / "out")[command] + ["--set", item]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    line = _one_line(result.stderr)
    for word in words:
        assert word in line
    assert list(tmp_path.iterdir()) == []


def test_compare_without_own_comparison_is_refused(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["compare", "baseline", "--reps", "2", "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 2
    assert "[compare]" in _one_line(result.stderr)
    assert list(tmp_path.iterdir()) == []


def test_compare_out_is_a_file(tmp_path: Path) -> None:
    target = tmp_path / "taken"
    target.write_text("keep me")
    result = CliRunner().invoke(
        cli,
        ["compare", "baseline", "baseline", "--reps", "2", "--steps", "2", "--out", str(target)],
    )
    assert result.exit_code == 2
    assert "is a file" in _one_line(result.stderr)
    assert target.read_text() == "keep me"


def test_report_on_missing_or_foreign_folder(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["report", str(tmp_path / "nope")])
    assert result.exit_code == 2 and "no such folder" in _one_line(result.stderr)
    (tmp_path / "other").mkdir()
    result = CliRunner().invoke(cli, ["report", str(tmp_path / "other")])
    assert result.exit_code == 2 and "not a run or comparison folder" in _one_line(result.stderr)
    assert list((tmp_path / "other").iterdir()) == []


def test_validate_ok_and_exit_zero() -> None:
    result = CliRunner().invoke(cli, ["scenarios", "validate", "baseline"])
    assert result.exit_code == 0
    assert result.stdout.startswith("OK ")


# ---------------------------------------------------------------- real subprocesses


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(DEMANDSIM), *args], cwd=cwd, capture_output=True, text=True, timeout=60, check=False
    )


@pytest.mark.parametrize(
    "key", ["malformed", "unknown_field", "wrong_type", "out_of_range", "missing"]
)
def test_bad_scenario_subprocess(tmp_path: Path, key: str) -> None:
    scenario = _scenario(tmp_path, key)
    before = set(tmp_path.iterdir())
    for args in (
        ["scenarios", "validate", scenario],
        [
            "compare",
            scenario,
            "baseline",
            "--reps",
            "2",
            "--steps",
            "2",
            "--out",
            str(tmp_path / "out"),
        ],
    ):
        proc = _run(args, tmp_path)
        assert proc.returncode == 2, proc.stderr
        line = _one_line(proc.stderr)
        assert line.startswith("demandsim: error")
        for word in BAD_FILES[key][1]:
            assert word in line
        assert proc.stdout == ""
    _nothing_written(tmp_path, before)


def test_bad_set_and_usage_subprocess(tmp_path: Path) -> None:
    for args, word in (
        (
            ["compare", "baseline", "baseline", "--set", "focal.platform.densty=0.2", "--out", "o"],
            "densty",
        ),
        (["compare", "baseline", "baseline", "--reps", "1", "--out", "o"], "--reps"),
        (["compare", "baseline", "baseline", "--steps", "x", "--out", "o"], "--steps"),
        (["report", "nowhere"], "no such folder"),
    ):
        proc = _run(args, tmp_path)
        assert proc.returncode == 2, proc.stderr
        assert word in _one_line(proc.stderr)
    assert list(tmp_path.iterdir()) == []
