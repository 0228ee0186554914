"""Rubric items a grader may want to apply, from the ``suggest`` concepts found in the student's words.

A suggestion is a pointer for the grader, never a mark: the review page shows it with
the matched words highlighted, and only a click applies the item.  Matching is plain:
a concept is found or not, so a negation ("the SVD error is *not* lower") still
matches; the benchmark (``make bench``) measures how often suggestions agree with a
careful grader, item by item.
"""

from __future__ import annotations

from dataclasses import dataclass

from labgrade.harness.inputs.rubric import ReviewSpec


@dataclass(frozen=True)
class Suggestion:
    """An item the text suggests, and the words in it that did (as written, in order, no repeats)."""

    item: str
    words: tuple[str, ...]


def suggestions(review: ReviewSpec, text: str) -> tuple[Suggestion, ...]:
    """The rubric items whose concepts occur in ``text``, in the rubric's order."""
    out = []
    for item in review.items:
        found: dict[str, None] = {}
        for pattern in item.patterns():
            for match in pattern.finditer(text):
                found.setdefault(match.group(0), None)
        if found:
            out.append(Suggestion(item.id, tuple(found)))
    return tuple(out)


def spans(review: ReviewSpec, text: str) -> list[tuple[int, int, str]]:
    """Where each suggesting concept matched: (start, end, item id), sorted, not overlapping."""
    hits = sorted(
        (m.start(), m.end(), item.id) for item in review.items for p in item.patterns() for m in p.finditer(text)
    )
    out: list[tuple[int, int, str]] = []
    for start, end, item in hits:
        if end > start and (not out or start >= out[-1][1]):
            out.append((start, end, item))
    return out
