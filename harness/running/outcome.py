"""What grading one submission produced: the one record a local worker and a Dask worker both send back.

Its own module so that ``batch`` (which may hand a class to ``cluster``) and ``cluster``
(which returns these) depend on it, not on each other.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Outcome:
    """What grading one submission produced (small, sent back from a worker)."""

    name: str
    status: str  # graded, error, internal_error, skipped
    score: float = 0.0
    max_score: float = 0.0
    detail: str = ""
