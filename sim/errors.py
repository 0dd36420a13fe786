"""Errors that the command line reports as one line with exit code 2."""

from __future__ import annotations


class InputError(ValueError):
    """Bad input from the user: a file, an option or a field. One line, naming
    the field, the value and what is allowed."""
