"""Writing outputs atomically: a temporary name in the same folder, then a rename.

An interrupted command leaves either the complete file or none. ``staged_dir``
does the same for a whole output folder: it is written beside the old one and
swapped into place; ``clean_stale`` removes what killed runs left behind.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see all of it or nothing."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        # mkstemp makes the file private (0600); give it the mode a plain open() would
        # (os.chmod by name: os.fchmod does not exist everywhere)
        os.chmod(tmp, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_text(path: str | Path, text: str) -> None:
    """Text version of ``atomic_write_bytes`` (UTF-8)."""
    atomic_write_bytes(path, text.encode("utf-8"))


def _json_default(obj: Any) -> Any:
    import numpy as np

    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return None if not np.isfinite(obj) else float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def to_json(obj: Any) -> str:
    """JSON with numpy scalars converted and non-finite floats as null."""
    return json.dumps(_finite(obj), indent=2, default=_json_default, sort_keys=False) + "\n"


def _finite(obj: Any) -> Any:
    if isinstance(obj, float):
        return obj if obj == obj and obj not in (float("inf"), float("-inf")) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite(v) for v in obj]
    return obj


def atomic_write_json(path: str | Path, obj: Any) -> None:
    """Write ``obj`` as JSON, atomically."""
    atomic_write_text(path, to_json(obj))


def atomic_write_parquet(path: str | Path, df: Any) -> None:
    """Write a pandas DataFrame as Parquet, atomically."""
    import io

    buf = io.BytesIO()
    df.to_parquet(buf, index=False)
    atomic_write_bytes(path, buf.getvalue())


# The file that marks a folder as a demandsim output (and records where it came from):
# only such folders, or empty ones, are replaced by a new run.
MARKER = "demandsim.json"
# Files that marked output folders before MARKER existed.
_LEGACY_MARKERS = ("summary.json", "comparison.json")


def check_output_folder(out: str | Path, option: str = "--out", kind: str | None = None) -> Path:
    """Check, before any work, that ``out`` can be written as a whole.

    Args:
        out: the folder.
        option: the option that named it.
        kind: what will be written (``"run"``, ``"calibration"``, ...): a folder another
            command wrote (its ``demandsim.json`` names another kind) is refused.

    Raises:
        InputError: ``out`` is a file, holds files demandsim did not write or another
            command's output, or its parent cannot be written.
    """
    from sim.errors import InputError

    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InputError(f"{option} {str(out)!r}: is a file; expected a folder")
    if out.is_dir():
        names = {p.name for p in out.iterdir()}
        if names and not names & {MARKER, *_LEGACY_MARKERS}:
            raise InputError(
                f"{option} {str(out)!r}: holds files demandsim did not write; "
                "expected a new, empty or demandsim output folder"
            )
        if kind is not None and MARKER in names:
            written = _written_kind(out / MARKER)
            if written != kind:
                raise InputError(
                    f"{option} {str(out)!r}: holds a {written} written by another command; "
                    f"expected a new, empty or {kind} folder"
                )
    check_writable(out.absolute().parent, option, shown=out)
    return out


def _written_kind(marker: Path) -> str:
    """The kind of output a folder's marker records (``"damaged output"`` if unreadable)."""
    try:
        kind = json.loads(marker.read_text()).get("kind")
    except (OSError, ValueError, AttributeError):
        return "damaged output"
    return str(kind) if kind else "output of unknown kind"


def check_writable(folder: str | Path, option: str, shown: str | Path | None = None) -> None:
    """Check that ``folder`` can be written, or created inside a writable folder.

    Raises:
        InputError: naming ``option`` and ``shown`` (default: ``folder``).
    """
    from sim.errors import InputError

    path = Path(folder).absolute()
    while not path.exists() and not path.is_symlink():
        path = path.parent
    if not path.is_dir():
        reason = "is not a folder"
    elif not os.access(path, os.W_OK | os.X_OK):
        reason = "permission denied"
    else:
        return
    raise InputError(
        f"{option} {str(shown if shown is not None else folder)!r}: cannot write in "
        f"{str(path)!r} ({reason}); expected a writable folder"
    )


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_stale(out: str | Path) -> list[Path]:
    """Remove what killed runs left beside ``out``; put back a folder a kill moved aside.

    Staging folders are named ``.NAME.PID.XXXX.partial`` (the new folder being
    written) and ``.NAME.PID.XXXX.old`` (the previous folder, moved aside only where
    the system cannot swap two folders in one step). Those of processes that are no
    longer running are removed, except an ``.old`` folder when ``out`` itself is
    missing: that is the previous output, and it is renamed back.

    Returns:
        The paths removed or restored.
    """
    out = Path(out).absolute()
    if not out.parent.is_dir():
        return []
    touched = []
    for path in sorted(out.parent.glob(f".{out.name}.*.*")):
        parts = path.name[len(out.name) + 2 :].split(".")
        if len(parts) != 3 or parts[2] not in ("partial", "old") or not parts[0].isdigit():
            continue
        if _pid_alive(int(parts[0])) and int(parts[0]) != os.getpid():
            continue
        if parts[2] == "old" and not out.exists():
            os.rename(path, out)
        else:
            shutil.rmtree(path, ignore_errors=True)
        touched.append(path)
    return touched


def _exchange(a: Path, b: Path) -> bool:
    """Swap two directory entries in one step (Linux ``renameat2(RENAME_EXCHANGE)``).

    Returns False where the system cannot (then the caller falls back to two renames).
    """
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    rc = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in (22, 38, 95):  # EINVAL, ENOSYS, EOPNOTSUPP: not supported here
        return False
    raise OSError(err, os.strerror(err), str(b))


def replace_dir(stage: Path, out: Path) -> None:
    """Put the folder ``stage`` at ``out``, replacing any folder there as a whole.

    Readers see the old folder or the new one, never a mix: a missing ``out`` is
    created by one rename; an existing one is swapped with ``stage`` in one step
    where the system can, else moved aside first (a kill between the two renames
    leaves it under ``.NAME.PID.XXXX.old``, which ``clean_stale`` renames back).
    """
    if not out.exists():
        os.rename(stage, out)
        return
    if _exchange(stage, out):
        shutil.rmtree(stage, ignore_errors=True)  # now holds the old folder
        return
    aside = stage.with_name(stage.name[: -len(".partial")] + ".old")
    os.rename(out, aside)
    os.rename(stage, out)
    shutil.rmtree(aside, ignore_errors=True)


@contextlib.contextmanager
def staged_dir(out: str | Path) -> Iterator[Path]:
    """Build a whole output folder beside ``out``, then swap it into place.

    The new folder replaces the old one as a whole (``replace_dir``): files of an
    earlier run that this run does not write are gone with it. On any error, or if
    the process is killed, ``out`` is left exactly as it was; what a killed run
    left behind is cleaned up by the next one (``clean_stale``).

    Raises:
        InputError: ``out`` cannot be written (see ``check_output_folder``).
    """
    out = check_output_folder(out).absolute()
    clean_stale(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(
        tempfile.mkdtemp(prefix=f".{out.name}.{os.getpid()}.", suffix=".partial", dir=out.parent)
    )
    try:
        yield stage
        replace_dir(stage, out)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
