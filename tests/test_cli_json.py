"""Machine-readable output: ``--json`` prints one JSON document on stdout (messages
stay on stderr), and a reader that closes the pipe early ends the command quietly."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from demandsim.main import cli

ROOT = Path(__file__).resolve().parent.parent
SMALL = ["--set", "run.customers=300", "--steps", "3"]


def _cli(*args: str, stdout: int | None = subprocess.PIPE) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "demandsim", *args],
        cwd=ROOT,
        env=env,
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        timeout=300,
    )


def test_run_json_is_the_summary_and_round_trips(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["run", "baseline", *SMALL, "--json", "--out", str(out)])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["scenario"] == "baseline" and doc["steps"] == 3
    assert doc == json.loads((out / "summary.json").read_text())
    assert json.loads(json.dumps(doc)) == doc
    assert "wrote" in result.stderr and "wrote" not in result.stdout


def test_run_json_of_replications_carries_the_means() -> None:
    result = CliRunner().invoke(cli, ["run", "baseline", *SMALL, "--reps", "2", "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["reps"] == 2 and len(doc["runs"]) == 2 and "profit_total" in doc["mean"]


def test_compare_json_has_every_outcome_as_b_minus_a() -> None:
    args = ["compare", "baseline", "low-coverage", *SMALL, "--reps", "2", "--jobs", "1"]
    result = CliRunner().invoke(cli, [*args, "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["direction"] == "B - A" and doc["seeds"] == [doc["seeds"][0], doc["seeds"][0] + 1]
    rows = {r["outcome"]: r for r in doc["outcomes"]}
    assert "profit_total" in rows
    assert {"mean_a", "mean_b", "paired_lo", "paired_hi"} <= set(rows["profit_total"])
    assert json.loads(json.dumps(doc)) == doc


def test_tables_go_to_stdout_and_json_is_valid_through_a_real_pipe() -> None:
    proc = _cli("run", "baseline", *SMALL, "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["scenario"] == "baseline"
    table = _cli("run", "baseline", *SMALL)
    assert table.returncode == 0 and "profit" in table.stdout


@pytest.mark.parametrize(
    "args",
    [["scenarios", "list"], ["scenarios", "show", "baseline"], ["--help"]],
)
def test_a_closed_pipe_ends_quietly_with_exit_0(args: list[str]) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    # the shell's `demandsim ... | head -1`: the reader leaves after its first line
    proc = subprocess.run(
        f"{sys.executable} -m demandsim {' '.join(args)} | head -c 1 >/dev/null; "
        "echo ${PIPESTATUS[0]}",
        shell=True,
        executable="/bin/bash",
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.stdout.strip() == "0", proc.stderr
    assert proc.stderr == ""


def test_a_pipe_closed_before_a_long_output_ends_quietly() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    reader = subprocess.Popen(
        [sys.executable, "-m", "demandsim", "scenarios", "show", "baseline"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert reader.stdout is not None and reader.stderr is not None
    reader.stdout.read(1)
    reader.stdout.close()  # before the rest is written
    err = reader.stderr.read()
    assert reader.wait(timeout=120) == 0, err
    assert err == b""


def test_the_dashboard_address_is_printed_when_the_server_answers(tmp_path: Path) -> None:
    import socket
    import time

    from demandsim.dashboard import answers_when_up, local_url

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # a server that takes two seconds to start, as the dashboard's does
    server = subprocess.Popen(
        [sys.executable, "-c", f"import time, http.server as h; time.sleep(2); "
         f"h.HTTPServer(('127.0.0.1', {port}), h.SimpleHTTPRequestHandler).serve_forever()"],
        cwd=tmp_path,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        t0 = time.monotonic()
        assert answers_when_up(local_url("0.0.0.0", port), server)
        assert time.monotonic() - t0 >= 1.5  # not before it answers
    finally:
        server.terminate()
        server.wait()
    # a server that ends without answering: no address
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    assert not answers_when_up(local_url("127.0.0.1", port), gone)


def test_analyze_json_carries_every_table_it_wrote(tmp_path: Path) -> None:
    from demandsim.sweep import tables_written

    csv = tmp_path / "sensitivity-sobol.csv"
    csv.write_text("outcome,parameter,S1,ST\nprofit_total,focal.platform.density,0.5,\n")
    png = tmp_path / "sensitivity-sobol.png"
    png.write_bytes(b"\x89PNG")
    doc = json.loads(json.dumps(tables_written([csv, png])))
    assert doc == {
        "sensitivity-sobol": [
            {
                "outcome": "profit_total",
                "parameter": "focal.platform.density",
                "S1": 0.5,
                "ST": None,
            }
        ]
    }
