"""Kept so that ``python -m sim.cli`` goes on working: the command line is ``cli.main``."""

from __future__ import annotations

from cli.main import cli, main

__all__ = ["cli", "main"]

if __name__ == "__main__":  # pragma: no cover
    main()
