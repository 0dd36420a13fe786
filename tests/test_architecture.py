"""The architecture, checked: the import-linter contracts of ``.importlinter`` hold (the
layers of ``sim``, rules that never import the model, Mesa only in the model, no import
circle), and only the model and what runs it know ``DemandModel`` or ``FirmAgent``."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: the modules of ``sim`` that may name the model or its Mesa agent: the model itself,
#: what builds and runs one, and the package's lazy public names
MAY_NAME_THE_MODEL = {"model.py", "runs.py", "precompile.py", "__init__.py"}


def test_the_import_contracts_hold() -> None:
    code = (
        "from importlinter.cli import lint_imports; "
        "raise SystemExit(lint_imports(config_filename='.importlinter', no_cache=True, "
        "no_logo=True))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "0 broken" in out.stdout


def test_only_the_model_and_its_runners_name_it() -> None:
    named = re.compile(r"\b(DemandModel|FirmAgent)\b")
    leaks = [
        f"{p.name}:{i}"
        for p in sorted((ROOT / "sim").glob("*.py"))
        if p.name not in MAY_NAME_THE_MODEL
        for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if named.search(line)
    ]
    assert not leaks, f"rules and measures are handed records, not the model: {leaks}"
    # and no rule reaches the model through a firm at run time
    reach = re.compile(r"\bfirm\.model\b|\.model\.(firm_list|spec|state)\b")
    leaks = [
        f"{p.name}:{i}"
        for p in sorted((ROOT / "sim").glob("*.py"))
        if p.name != "model.py"
        for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if reach.search(line)
    ]
    assert not leaks, leaks
