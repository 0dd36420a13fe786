"""The sweep's output folder: one Parquet file per run, a manifest, the compacted table.

Layout of ``--out DIR``::

    manifest.json        spec, seeds, versions, git commit, sessions, status
    samples.parquet      the sample matrix in the sampler's units (SALib needs it)
    runs/<run_id>.parquet  one finished run (written atomically as it completes)
    results.parquet      all runs, one row per (sample row, replication), sorted
    timeseries.parquet   per-step outcomes, long format (only when requested)
    quarantine/          run files that failed validation (kept, never trusted)

A run file carries its run id and the sweep's spec hash in the Parquet metadata;
a file that cannot be read, or that belongs to another run or sweep, is moved to
``quarantine/`` and its run is done again.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import subprocess
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from sim.errors import InputError
from sim.io import atomic_write_bytes, atomic_write_json

KIND = "demandsim-sweep"
FORMAT = 1
META_KIND = b"demandsim.kind"
META_RUN = b"demandsim.run_id"
META_SWEEP = b"demandsim.sweep"
META_TASK = b"demandsim.task"
META_SECONDS = b"demandsim.seconds"
META_TRACEBACK = b"demandsim.traceback"
TS_PREFIX = "ts:"
# Columns of results.parquet that describe a run; an outcome of the same name is dropped
# (the summary's own ``seed`` is the seed column).
TABLE_META = ("row", "rep", "run_id", "seed", "status", "error")


def git_commit(path: Path | None = None) -> str | None:
    """The commit of the source tree this package runs from (``+dirty`` if changed)."""
    root = path or Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5
        )
        if head.returncode != 0:
            return None
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=5,
        )
        return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return None


def code_hash() -> str:
    """A hash of the model's source (``sim/*.py``): it changes when results may change."""
    import hashlib

    root = Path(__file__).resolve().parent.parent / "sim"
    h = hashlib.sha256()
    for path in sorted(root.glob("*.py")):
        h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def versions() -> dict[str, str | None]:
    """Versions of the packages a run's result depends on."""
    import importlib.metadata as md
    import platform

    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in ("demandsim", "mesa", "numpy", "pandas", "pyarrow", "SALib", "dask", "distributed"):
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            out[name] = None
    return out


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


class SweepStore:
    """Reads and writes one sweep's output folder."""

    def __init__(self, out: str | Path) -> None:
        self.out = Path(out)
        self.runs = self.out / "runs"
        self.quarantine = self.out / "quarantine"
        self.manifest_path = self.out / "manifest.json"
        self.results_path = self.out / "results.parquet"
        self.timeseries_path = self.out / "timeseries.parquet"
        self.samples_path = self.out / "samples.parquet"
        # Run tables read and validated in this session (scan, then compaction).
        self._tables: dict[str, Any] = {}

    # ---------------------------------------------------------------- folder

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold an exclusive lock on the folder (released by the OS if we die)."""
        self.runs.mkdir(parents=True, exist_ok=True)
        fh = open(self.out / ".lock", "a+")  # noqa: SIM115 - held for the whole sweep
        try:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise InputError(
                    f"--out {str(self.out)!r}: another sweep is writing to this folder"
                ) from None
            yield
        finally:
            fh.close()

    def clean_temporaries(self) -> int:
        """Remove half-written temporary files left by an interrupted session."""
        n = 0
        for p in list(self.runs.glob(".*.tmp")) + list(self.out.glob(".*.tmp")):
            with contextlib.suppress(FileNotFoundError):
                p.unlink()
                n += 1
        return n

    # ---------------------------------------------------------------- manifest

    def read_manifest(self) -> dict[str, Any] | None:
        if not self.manifest_path.exists():
            return None
        try:
            data = json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise InputError(f"{self.manifest_path}: not a readable sweep manifest") from None
        if not isinstance(data, dict) or data.get("kind") != KIND:
            raise InputError(f"{self.manifest_path}: not a demandsim sweep manifest")
        return data

    def write_manifest(self, data: dict[str, Any]) -> None:
        atomic_write_json(self.manifest_path, data)

    def write_samples(self, names: list[str], matrix: Any) -> None:
        import pandas as pd

        df = pd.DataFrame(matrix, columns=names)
        df.insert(0, "row", range(len(df)))
        _write_parquet(self.samples_path, df)

    def read_samples(self, names: list[str]) -> Any:
        import pandas as pd

        df = pd.read_parquet(self.samples_path)
        return df.sort_values("row")[names].to_numpy(dtype="float64")

    # ---------------------------------------------------------------- run files

    def run_path(self, rid: str) -> Path:
        return self.runs / f"{rid}.parquet"

    def write_run(self, record: dict[str, Any], task: dict[str, Any], sweep_hash: str) -> None:
        """Write one finished run atomically (one row; time series as list columns)."""
        import pyarrow as pa

        cols: dict[str, Any] = {
            "run_id": pa.array([record["run_id"]], pa.string()),
            "status": pa.array([record["status"]], pa.string()),
            "error": pa.array([record["error"]], pa.string()),
        }
        for name in sorted(record["outcomes"]):
            cols[name] = pa.array([record["outcomes"][name]], pa.float64())
        ts = record.get("timeseries")
        if ts:
            cols[TS_PREFIX + "step"] = pa.array([ts["step"]], pa.list_(pa.int64()))
            for name in ts:
                if name != "step":
                    cols[TS_PREFIX + name] = pa.array([ts[name]], pa.list_(pa.float64()))
        meta = {
            META_KIND: b"run",
            META_RUN: record["run_id"].encode(),
            META_SWEEP: sweep_hash.encode(),
            META_TASK: json.dumps(
                {k: task[k] for k in ("overrides", "seed", "steps", "timeseries", "runner")},
                sort_keys=True,
            ).encode(),
            META_SECONDS: repr(float(record.get("seconds", 0.0))).encode(),
            META_TRACEBACK: (record.get("traceback") or "").encode(),
        }
        table = pa.table(cols).replace_schema_metadata(meta)
        self._tables.pop(record["run_id"], None)
        _write_arrow(self.run_path(record["run_id"]), table)

    def read_run(self, rid: str, sweep_hash: str) -> Any | None:
        """The run's one-row table, or None if the file is missing or not to be trusted."""
        import pyarrow.parquet as pq

        if rid in self._tables:
            return self._tables[rid]
        path = self.run_path(rid)
        if not path.exists():
            return None
        try:
            table = pq.read_table(path)
        except Exception:
            return None
        meta = table.schema.metadata or {}
        ok = (
            meta.get(META_KIND) == b"run"
            and meta.get(META_RUN) == rid.encode()
            and meta.get(META_SWEEP) == sweep_hash.encode()
            and table.num_rows == 1
            and "run_id" in table.column_names
            and "status" in table.column_names
            and table.column("run_id")[0].as_py() == rid
            and table.column("status")[0].as_py() in ("ok", "error")
        )
        if not ok:
            return None
        self._tables[rid] = table
        return table

    def scan(self, run_ids: Iterable[str], sweep_hash: str) -> tuple[dict[str, str], list[str]]:
        """Check the run files already on disk.

        Returns:
            (status by run id for every trusted file, run ids whose file was quarantined).
        """
        done: dict[str, str] = {}
        bad: list[str] = []
        for rid in run_ids:
            if not self.run_path(rid).exists():
                continue
            table = self.read_run(rid, sweep_hash)
            if table is None:
                self.quarantine_run(rid)
                bad.append(rid)
            else:
                done[rid] = table.column("status")[0].as_py()
        return done, bad

    def quarantine_run(self, rid: str) -> None:
        self._tables.pop(rid, None)
        self.quarantine.mkdir(parents=True, exist_ok=True)
        src = self.run_path(rid)
        n = 0
        while (dest := self.quarantine / f"{rid}.{n}.parquet").exists():
            n += 1
        os.replace(src, dest)

    def unexpected_files(self, run_ids: set[str]) -> list[Path]:
        """Files in runs/ that no run of this sweep would write."""
        return sorted(
            p for p in self.runs.glob("*") if p.stem not in run_ids and not p.name.startswith(".")
        )

    # ---------------------------------------------------------------- compaction

    def compact(
        self,
        rows: list[tuple[int, int, str]],
        seeds: list[int],
        points: list[dict[str, Any]],
        param_names: list[str],
        sweep_hash: str,
    ) -> Any:
        """Join every (row, replication) with its run into one tidy table, sorted by
        row then replication; write results.parquet (and timeseries.parquet).

        Only the plan decides the order and the columns, so the table is the same
        whatever the number of workers or the order in which runs finished.
        """
        import pandas as pd

        tables: dict[str, Any] = {}
        for _row, _rep, rid in rows:
            if rid not in tables:
                table = self.read_run(rid, sweep_hash)
                if table is None:
                    raise InputError(f"run {rid}: missing or invalid run file; run the sweep again")
                tables[rid] = table
        outcome_names = sorted(
            {
                c
                for t in tables.values()
                for c in t.column_names
                if c not in TABLE_META and c not in param_names and not c.startswith(TS_PREFIX)
            }
        )
        records: dict[str, dict[str, Any]] = {}
        for rid, t in tables.items():
            d = {c: t.column(c)[0].as_py() for c in t.column_names if not c.startswith(TS_PREFIX)}
            records[rid] = d
        out: dict[str, list[Any]] = {
            "row": [],
            "rep": [],
            "run_id": [],
            "seed": [],
            "status": [],
            "error": [],
        }
        for name in param_names:
            out[name] = []
        for name in outcome_names:
            out[name] = []
        for row, rep, rid in rows:
            rec = records[rid]
            out["row"].append(row)
            out["rep"].append(rep)
            out["run_id"].append(rid)
            out["seed"].append(seeds[rep])
            out["status"].append(rec["status"])
            out["error"].append(rec["error"])
            for name in param_names:
                out[name].append(points[row][name])
            for name in outcome_names:
                v = rec.get(name)
                out[name].append(float("nan") if v is None else v)
        df = pd.DataFrame(out)
        df["row"] = df["row"].astype("int64")
        df["rep"] = df["rep"].astype("int64")
        df["seed"] = df["seed"].astype("int64")
        for name in outcome_names:
            df[name] = df[name].astype("float64")
        _write_parquet(self.results_path, df)

        ts_frames = []
        for row, rep, rid in rows:
            t = tables[rid]
            ts_cols = [c for c in t.column_names if c.startswith(TS_PREFIX)]
            if not ts_cols:
                continue
            part = pd.DataFrame({c[len(TS_PREFIX) :]: t.column(c)[0].as_py() for c in ts_cols})
            part.insert(0, "run_id", rid)
            part.insert(0, "rep", rep)
            part.insert(0, "row", row)
            ts_frames.append(part)
        if ts_frames:
            ts = pd.concat(ts_frames, ignore_index=True)
            _write_parquet(self.timeseries_path, ts)
        return df


def _write_parquet(path: Path, df: Any) -> None:
    import pyarrow as pa

    _write_arrow(path, pa.Table.from_pandas(df, preserve_index=False))


def _write_arrow(path: Path, table: Any) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    atomic_write_bytes(path, sink.getvalue().to_pybytes())
