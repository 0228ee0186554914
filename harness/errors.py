"""The three kinds of failure, kept apart, and the exit codes they map to.

A student's failure is a score, never an exception that leaves the engine.  An
instructor's failure (a bad spec, a missing data file, a wrong option) is a
:class:`UserError`: one clear message naming the file, key or line, and exit code 2.
Anything else is a bug of ours: exit code 3 with a traceback.
"""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    """Process exit codes of the ``labgrade`` command (like pytest's ``ExitCode``)."""

    OK = 0
    CHECKS_FAILED = 1
    USAGE_ERROR = 2
    INTERNAL_ERROR = 3


class UserError(Exception):
    """An error in what a user gave us: shown as a message, never as a traceback."""


class SpecError(UserError):
    """A spec file failed validation; the message lists every problem found."""

    def __init__(self, path: str, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        super().__init__("\n".join(f"{path}: {p}" for p in problems))


class DataError(UserError):
    """A data file (ratings tensor, titles CSV, config) is missing or malformed."""


class CacheMismatch(Exception):
    """A reference cache exists but its provenance differs from what is asked for."""
