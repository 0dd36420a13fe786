"""What each part of the install costs: packages and bytes of the core and of each extra.

Reads the metadata of the environment it runs in (which must hold everything, as
``pip install -e '.[dev]'`` does): the closure of the core's requirements, and for each
extra what it adds on top of the core. ``core_only_dir`` builds a folder of links to the
core's files alone, so a test can install the wheel beside the core and nothing else.

    python -m benchmarks.install_size
"""

from __future__ import annotations

import re
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

from packaging.requirements import Requirement

EXTRAS = ("viz", "classroom", "fit", "cluster", "ema")


def _canon(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def closure(requirements: list[str]) -> set[str]:
    """The installed distributions ``requirements`` need, transitively (canonical names)."""
    seen: set[str] = set()
    todo = [Requirement(r) for r in requirements]
    while todo:
        req = todo.pop()
        name = _canon(req.name)
        key = name + "[" + ",".join(sorted(req.extras)) + "]"
        if key in seen:
            continue
        seen.add(key)
        seen.add(name)
        try:
            dist = distribution(req.name)
        except PackageNotFoundError:
            continue  # a requirement for another platform or Python, not installed here
        for text in dist.requires or []:
            sub = Requirement(text)
            envs = [{"extra": e} for e in ("", *req.extras)]
            if sub.marker is None or any(sub.marker.evaluate(env) for env in envs):
                todo.append(sub)
    return {n for n in seen if "[" not in n}


def project_requirements(extra: str | None = None) -> list[str]:
    """The demandsim distribution's own requirements: the core's, or one extra's."""
    out = []
    for text in distribution("demandsim").requires or []:
        req = Requirement(text)
        if req.marker is None:
            if extra is None:
                out.append(text)
        elif extra is not None and req.marker.evaluate({"extra": extra}):
            out.append(str(Requirement(f"{req.name}{req.specifier}")) if not req.extras else text)
    return [r for r in out if _canon(Requirement(r).name) != "demandsim"]


def installed_bytes(names: set[str]) -> int:
    """Bytes on disk of the installed files of ``names``."""
    total = 0
    for name in names:
        try:
            dist = distribution(name)
        except PackageNotFoundError:
            continue
        for f in dist.files or []:
            path = Path(str(dist.locate_file(f)))
            if path.is_file():
                total += path.stat().st_size
    return total


def core_only_dir(dest: Path) -> set[str]:
    """Fill ``dest`` with links to the top-level files of the core's distributions (a
    folder to name in a ``.pth`` file); returns the distributions linked."""
    names = closure(project_requirements())
    dest.mkdir(parents=True, exist_ok=True)
    for name in sorted(names):
        try:
            dist = distribution(name)
        except PackageNotFoundError:
            continue
        root = Path(str(dist.locate_file("")))
        for top in {Path(str(f)).parts[0] for f in dist.files or []}:
            src, link = root / top, dest / top
            if top not in ("..", "") and src.exists() and not link.exists():
                link.symlink_to(src)
    return names


def main() -> None:
    core = closure(project_requirements())
    print(f"{'part':10s} {'packages':>8s} {'MB':>8s}")
    print(f"{'core':10s} {len(core):8d} {installed_bytes(core) / 1e6:8.1f}")
    every = set(core)
    for extra in EXTRAS:
        names = closure(project_requirements(extra)) - core
        every |= names
        print(f"{'+' + extra:10s} {len(names):8d} {installed_bytes(names) / 1e6:8.1f}")
    print(f"{'all':10s} {len(every):8d} {installed_bytes(every) / 1e6:8.1f}")


if __name__ == "__main__":
    main()
