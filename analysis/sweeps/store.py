"""The sweep's output folder: one Parquet file per run, a manifest, the compacted table.

Layout of ``--out DIR``::

    manifest.json        spec, seeds, versions, git commit, sessions, status
    samples.parquet      the sample matrix in the sampler's units (SALib needs it)
    runs/<run_id>.parquet  one finished run (written atomically)
    runs/part-<hash>.parquet  finished runs together, one row each (a few thousand
                         per file, so a large sweep leaves a handful of files)
    results.parquet      all runs, one row per (sample row, replication), sorted
    timeseries.parquet   per-step outcomes, long format (only when requested)
    quarantine/          run files that failed validation (kept, never trusted)

A run file carries its run id and the sweep's spec hash in the Parquet metadata;
a file that cannot be read, or that belongs to another run or sweep, is moved to
``quarantine/`` and its run is done again. Runs that finish quickly are held in
memory for up to a second (``hold``) and written together as one part file, since a
file per run would cost more than the run. Folding writes a part file atomically
before it removes the run files it holds, so a run is never lost; a run found both
in a part and in its own file (a fold interrupted) is taken from the part.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
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
PART_PREFIX = "part-"
# Columns of a part file that carry a run file's metadata.
PART_META = ("_task", "_seconds", "_traceback")
#: Runs folded into one part file (one row group) once that many are loose.
FOLD_EVERY = 4096
#: Runs held in memory that are put on disk as one part file rather than a run file each.
PART_MIN = 64
# Columns of results.parquet that describe a run; an outcome of the same name is dropped
# (the summary's own ``seed`` is the seed column).
TABLE_META = ("row", "rep", "run_id", "seed", "status", "error")


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
        # Part file holding each folded run (scan, fold).
        self._part_of: dict[str, Path] = {}
        self.loose = 0  # run files written or found loose, not yet folded
        self._held: dict[str, Any] = {}  # finished runs not yet on disk: run id -> table
        self._held_since = 0.0

    # ---------------------------------------------------------------- folder

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold an exclusive lock on the folder (an OS lock: released if we die)."""
        from filelock import FileLock, Timeout

        self.runs.mkdir(parents=True, exist_ok=True)
        lock = FileLock(self.out / ".lock", timeout=0)
        try:
            lock.acquire()
        except Timeout:
            raise InputError(
                f"--out {str(self.out)!r}: another sweep is writing to this folder"
            ) from None
        try:
            yield
        finally:
            lock.release()

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
        table = self._run_table(record, task, sweep_hash)
        _write_arrow(self.run_path(record["run_id"]), table)
        self._tables[record["run_id"]] = table  # what compaction reads, without the file
        self.loose += 1

    def hold(self, record: dict[str, Any], task: dict[str, Any], sweep_hash: str) -> None:
        """Keep one finished run in memory until ``fold`` or ``spill`` writes it: a run
        file per run costs more than a quick run, a part file of many runs does not."""
        if not self._held:
            self._held_since = time.monotonic()
        self._held[record["run_id"]] = self._run_table(record, task, sweep_hash)

    @property
    def held(self) -> int:
        """Finished runs held in memory, not yet on disk."""
        return len(self._held)

    def held_for(self) -> float:
        """Seconds the oldest run held in memory has waited (0: none held)."""
        return time.monotonic() - self._held_since if self._held else 0.0

    def spill(self, sweep_hash: str) -> None:
        """Put the runs held in memory on disk: folded into a part file with the loose
        run files when there are ``PART_MIN`` of them or more, else a run file each."""
        if len(self._held) >= PART_MIN:
            self.fold(sweep_hash)
            return
        held, self._held = self._held, {}
        for rid, table in held.items():
            _write_arrow(self.run_path(rid), table)
            self._tables[rid] = table  # what compaction reads, without reading the file
            self.loose += 1

    def _run_table(self, record: dict[str, Any], task: dict[str, Any], sweep_hash: str) -> Any:
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
        return pa.table(cols).replace_schema_metadata(meta)

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
        wanted = set(run_ids)
        for path, ids, statuses in self._scan_parts(sweep_hash):
            for rid, status in zip(ids, statuses, strict=True):
                if rid in wanted:
                    done[rid] = status
                    self._part_of[rid] = path
        self.loose = 0
        present = {p.stem for p in self.runs.glob("*.parquet")}  # one listing, not a stat a run
        for rid in run_ids:
            if rid not in present:
                continue
            if rid in done:  # already folded (a fold was interrupted before its clean-up)
                self.run_path(rid).unlink()
                continue
            self.loose += 1
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
            p
            for p in self.runs.glob("*")
            if p.stem not in run_ids
            and not p.name.startswith(".")
            and not p.name.startswith(PART_PREFIX)
        )

    # ---------------------------------------------------------------- part files

    def part_files(self) -> list[Path]:
        return sorted(self.runs.glob(f"{PART_PREFIX}*.parquet"))

    def _scan_parts(self, sweep_hash: str) -> Iterator[tuple[Path, list[str], list[str]]]:
        """(path, run ids, statuses) of every trusted part file; others are quarantined."""
        import pyarrow.parquet as pq

        for path in self.part_files():
            try:
                meta = pq.read_schema(path).metadata or {}
                t = pq.read_table(path, columns=["run_id", "status"])
                ids = t.column("run_id").to_pylist()
                statuses = t.column("status").to_pylist()
                ok = (
                    meta.get(META_KIND) == b"part"
                    and meta.get(META_SWEEP) == sweep_hash.encode()
                    and len(set(ids)) == len(ids)
                    and all(st in ("ok", "error") for st in statuses)
                )
            except Exception:
                ok = False
            if not ok:
                self.quarantine.mkdir(parents=True, exist_ok=True)
                os.replace(path, self.quarantine / path.name)
                continue
            yield path, ids, statuses

    def fold(self, sweep_hash: str) -> Path | None:
        """Fold every loose run file into one part file (one row per run), then remove
        the run files. Returns the part's path (None: nothing to fold)."""
        import hashlib

        import pyarrow as pa

        held, self._held = self._held, {}
        loose = sorted(
            {
                p.stem
                for p in self.runs.glob("*.parquet")
                if not p.name.startswith(PART_PREFIX) and not p.name.startswith(".")
            }
            | held.keys()
        )
        tables, group = [], []
        for rid in loose:
            t = held.pop(rid) if rid in held else self._read_loose(rid, sweep_hash)
            if t is None:  # not ours: left for scan to quarantine
                continue
            meta = t.schema.metadata
            t = t.replace_schema_metadata(None)
            t = t.append_column("_task", pa.array([meta[META_TASK].decode()], pa.string()))
            t = t.append_column(
                "_seconds", pa.array([float(meta[META_SECONDS].decode())], pa.float64())
            )
            t = t.append_column(
                "_traceback", pa.array([meta[META_TRACEBACK].decode()], pa.string())
            )
            group.append(t)
            if len(group) == 256:  # one-row tables are mostly overhead: merge them early
                tables.append(_merge(group))
                group = []
        if group:
            tables.append(_merge(group))
        if not tables:
            self.loose = 0
            return None
        part = _merge(tables)
        ids = part.column("run_id").to_pylist()
        digest = hashlib.sha256("\n".join(ids).encode()).hexdigest()[:16]
        path = self.runs / f"{PART_PREFIX}{digest}.parquet"
        part = part.replace_schema_metadata({META_KIND: b"part", META_SWEEP: sweep_hash.encode()})
        _write_arrow(path, part, row_group_size=len(ids))
        for rid in ids:  # only once the part is safely on disk
            self.run_path(rid).unlink(missing_ok=True)
            self._tables.pop(rid, None)
            self._part_of[rid] = path
        self.loose = 0
        del part, tables
        pa.default_memory_pool().release_unused()  # give the fold's buffers back
        return path

    def _read_loose(self, rid: str, sweep_hash: str) -> Any | None:
        """A run file for folding: validated like ``read_run`` but not cached."""
        table = self._tables.pop(rid, None)
        if table is not None:
            return table
        table = self.read_run(rid, sweep_hash)
        self._tables.pop(rid, None)
        return table

    # ---------------------------------------------------------------- compaction

    def compact(
        self,
        rows: list[tuple[int, int, str]],
        seeds: list[int],
        points: list[dict[str, Any]],
        param_names: list[str],
        sweep_hash: str,
        counts: frozenset[str] = frozenset(),
    ) -> Any:
        """Join every (row, replication) with its run into one tidy table, sorted by
        row then replication; write results.parquet (and timeseries.parquet).

        Only the plan decides the order and the columns, so the table is the same
        whatever the number of workers, the order in which runs finished or how
        they were folded. Runs are read a part file at a time, as columns. Outcomes
        named in ``counts`` are written as integers (missing where a run has none).
        """
        import pandas as pd
        import pyarrow as pa
        import pyarrow.compute as pc

        wanted = {rid for _r, _p, rid in rows}
        frames, ts_frames = [], []

        def take(table: Any) -> None:
            names = table.column_names
            ts_cols = [c for c in names if c.startswith(TS_PREFIX)]
            flat = [c for c in names if not c.startswith(TS_PREFIX) and c not in PART_META]
            frames.append(table.select(flat).replace_schema_metadata(None).to_pandas())
            if ts_cols:
                lengths = pc.list_value_length(table.column(ts_cols[0])).to_numpy()
                ts = {"run_id": pc.take(table.column("run_id"), _repeat_index(lengths))}
                for c in ts_cols:
                    ts[c[len(TS_PREFIX) :]] = pc.list_flatten(table.column(c))
                ts_frames.append(pa.table(ts).to_pandas())

        seen: set[str] = set()
        for path in self.part_files():
            table = _read_arrow(path)
            keep = [rid in wanted and rid not in seen for rid in table.column("run_id").to_pylist()]
            table = table.filter(pa.array(keep))
            seen.update(table.column("run_id").to_pylist())
            take(table)
        loose = []
        for rid in sorted(wanted - seen):
            table = self.read_run(rid, sweep_hash)
            if table is None:
                raise InputError(f"run {rid}: missing or invalid run file; run the sweep again")
            loose.append(table.replace_schema_metadata(None))
            seen.add(rid)
        for i in range(0, len(loose), 256):  # one table of many rows, as a part file is
            take(_merge(loose[i : i + 256]))
        runs = pd.concat(frames, ignore_index=True).set_index("run_id")
        outcome_names = sorted(
            c for c in runs.columns if c not in TABLE_META and c not in param_names
        )
        plan = pd.DataFrame(rows, columns=["row", "rep", "run_id"])
        out: dict[str, Any] = {
            "row": plan["row"].astype("int64"),
            "rep": plan["rep"].astype("int64"),
            "run_id": plan["run_id"],
            "seed": pd.Series([seeds[r] for r in plan["rep"]], dtype="int64"),
        }
        joined = runs.reindex(plan["run_id"])
        for c in ("status", "error"):
            out[c] = pd.Series(
                [None if v is None or v is pd.NA or v != v else v for v in joined[c]],
                dtype=object,
            )
        for name in param_names:
            out[name] = [points[r][name] for r in plan["row"]]
        for name in outcome_names:
            out[name] = joined[name].to_numpy(dtype="float64")
        df = pd.DataFrame(out)
        _write_arrow(self.results_path, results_table(df, counts))

        if ts_frames:
            ts = pd.concat(ts_frames, ignore_index=True)
            ts = plan.merge(ts, on="run_id", how="inner", sort=False)
            ts = ts.sort_values(["row", "rep", "step"], kind="stable").reset_index(drop=True)
            _write_parquet(self.timeseries_path, ts)
        return df


def results_table(df: Any, counts: frozenset[str] = frozenset()) -> Any:
    """The results table with its explicit schema: the run's identity as int64 and
    strings (``error`` a string column even when no run failed), parameters as their
    values' types, outcomes as float64 but ``counts``, which are int64 (null where a run
    has none: pandas reads such a column back as float64 with NaN)."""
    import numpy as np
    import pyarrow as pa

    inferred = pa.Table.from_pandas(df, preserve_index=False).schema
    fields, columns = [], []
    for f in inferred:
        kind = f.type
        column = df[f.name]
        if f.name in counts and f.name not in TABLE_META:
            values = column.to_numpy(dtype="float64")
            missing = ~np.isfinite(values)
            columns.append(pa.array(np.where(missing, 0, values).astype("int64"), mask=missing))
            fields.append(pa.field(f.name, pa.int64()))
            continue
        if f.name in ("row", "rep", "seed"):
            kind = pa.int64()
        elif (
            f.name in ("run_id", "status", "error")
            or pa.types.is_null(kind)
            or pa.types.is_large_string(kind)
        ):
            kind = pa.string()
        fields.append(pa.field(f.name, kind))
        columns.append(pa.Array.from_pandas(column, type=kind))
    return pa.Table.from_arrays(columns, schema=pa.schema(fields))


def _merge(tables: list[Any]) -> Any:
    """One table of contiguous columns from tables whose columns may differ."""
    import pyarrow as pa

    return pa.concat_tables(tables, promote_options="default").combine_chunks()


def _repeat_index(lengths: Any) -> Any:
    import numpy as np

    return np.repeat(np.arange(len(lengths)), lengths)


def _read_arrow(path: Path) -> Any:
    import pyarrow.parquet as pq

    return pq.read_table(path)


def _write_parquet(path: Path, df: Any) -> None:
    import pyarrow as pa

    _write_arrow(path, pa.Table.from_pandas(df, preserve_index=False))


def _write_arrow(path: Path, table: Any, row_group_size: int | None = None) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, row_group_size=row_group_size)
    atomic_write_bytes(path, sink.getvalue().to_pybytes())
