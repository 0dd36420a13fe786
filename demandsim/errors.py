"""The one way the command line reports bad input: one line, exit code 2.

``one_line`` makes any message a single line of at most ``MAX_LINE`` characters
(long values are elided where they are, so the field and what is allowed stay
readable); ``BadInput`` is the click error carrying it; ``input_errors()`` turns
an ``InputError`` (or ``ScenarioError``) raised inside into one. ``parse_sets``
reads the repeated ``--set key=value`` options every command shares.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Iterator
from typing import Any

import click

from sim.errors import InputError

MAX_LINE = 200
#: The longest text a ``--set`` value may be (a name or a description, not a file).
MAX_TEXT = 10_000
# A run of characters long enough to be a pasted value rather than words or a path.
_LONG = re.compile(r"\S{121,}")


def one_line(message: str, limit: int = MAX_LINE) -> str:
    """``message`` on one line, long tokens elided, at most ``limit`` characters."""
    text = " ".join(str(message).split())
    text = _LONG.sub(lambda m: f"{m.group(0)[:40]}…{m.group(0)[-40:]}", text)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


class BadInput(click.ClickException):
    """Bad input, reported as one line with exit code 2."""

    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(one_line(message))


@contextlib.contextmanager
def input_errors() -> Iterator[None]:
    """Report any ``InputError`` raised inside as a one-line click error (exit 2)."""
    try:
        yield
    except InputError as exc:
        raise BadInput(str(exc)) from None


def parse_sets(items: Iterable[str]) -> dict[str, Any]:
    """Parse repeated ``--set key=value`` options (each may hold ``a=1; b=2``)."""
    from sim.scenario import parse_override_list, show

    out: dict[str, Any] = {}
    for item in items:
        if "=" not in item:
            raise InputError(
                f"--set {show(item)}: expected key=value, e.g. focal.platform.density=0.2"
            )
        parsed = parse_override_list(item)
        for key, value in parsed.items():
            if isinstance(value, str) and len(value) > MAX_TEXT:
                raise InputError(
                    f"--set {key}: a text of {len(value):,} characters; "
                    f"expected at most {MAX_TEXT:,}"
                )
        out.update(parsed)
    return out


#: The schemes a Dask scheduler answers on.
SCHEDULER_SCHEMES = ("tcp", "tls", "inproc", "ucx", "ws", "wss")


def check_scheduler(address: str, option: str = "--scheduler") -> None:
    """Refuse at once a scheduler address Dask would only fail to reach after its timeout."""
    scheme, sep, rest = address.partition("://")
    if sep and scheme not in SCHEDULER_SCHEMES or not (rest if sep else address).strip():
        raise InputError(
            f"{option} {address!r}: not a Dask scheduler address; expected tcp://HOST:PORT "
            f"(or {', '.join(s + '://' for s in SCHEDULER_SCHEMES[1:])})"
        )


def unwritable(option: str, path: Any, exc: OSError) -> InputError:
    """The one-line error for an output path that cannot be written."""
    reason = exc.strerror or exc.__class__.__name__
    return InputError(
        f"{option} {str(path)!r}: cannot write there ({reason}); expected a writable folder"
    )


#: The optional parts of the install (``pip install 'demandsim[NAME]'``) and a module
#: each needs: a command that needs a missing one says which extra to install.
EXTRAS: dict[str, tuple[str, ...]] = {
    "viz": ("solara",),
    "classroom": ("starlette", "uvicorn", "segno"),
    "fit": ("optuna",),
    "cluster": ("distributed",),
    "ema": ("ema_workbench",),
}


def need_extra(extra: str, what: str) -> None:
    """Refuse, in one line, a command whose optional part is not installed.

    Args:
        extra: the name of the extra (a key of ``EXTRAS``).
        what: what needs it, as the user typed it (``demandsim dashboard``).

    Raises:
        InputError: naming the extra and the command that installs it.
    """
    import importlib.util

    missing = [m for m in EXTRAS[extra] if importlib.util.find_spec(m) is None]
    if missing:
        raise InputError(
            f"{what} needs the '{extra}' extra ({', '.join(missing)} not installed): "
            f"pip install 'demandsim[{extra}]'"
        )
