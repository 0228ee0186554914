"""How often the review page's rubric suggestions agree with a careful grader, item by item.

Measured on a labelled set of explanations written for it (``tests/files/explanations/
labelled.yaml``: right, wrong, half-right, empty and hostile answers, each with the
items a careful grader awards).  Suggestions are plain concept matches, so they miss
right answers worded otherwise and fire on negations ("the SVD error is *not*
lower"): these figures say how much, so a grader knows what a suggestion is worth.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from labgrade.harness.inputs.spec import Spec
from labgrade.harness.review.suggest import suggestions


@dataclass(frozen=True)
class Agreement:
    """One rubric item's suggestions against the labels: counts of each kind of (dis)agreement."""

    question: str
    item: str
    both: int  # suggested, and the grader awards it
    missed: int  # the grader awards it, not suggested
    wrong: int  # suggested, the grader does not award it
    neither: int

    @property
    def agreement(self) -> float:
        """The share of answers where suggestion and grader agree."""
        total = self.both + self.missed + self.wrong + self.neither
        return (self.both + self.neither) / total if total else 0.0


def bench_suggestions(labelled: Path, spec: Spec) -> list[Agreement]:
    """Every reviewed item's agreement over the labelled answers of its question."""
    data = yaml.safe_load(labelled.read_text(encoding="utf-8"))
    rows = []
    for qid, answers in data["questions"].items():
        review = spec.question(str(qid)).review
        if review is None:
            continue
        for item in review.items:
            counts = {"both": 0, "missed": 0, "wrong": 0, "neither": 0}
            for answer in answers:
                said = {s.item for s in suggestions(review, str(answer.get("text") or ""))}
                awarded = item.id in (answer.get("marks") or [])
                key = (
                    ("both" if item.id in said else "missed")
                    if awarded
                    else ("wrong" if item.id in said else "neither")
                )
                counts[key] += 1
            rows.append(Agreement(str(qid), item.id, **counts))
    return rows


def format_suggestions(rows: list[Agreement]) -> str:
    """The agreement table, with where the suggestions miss said plainly."""
    lines = ["rubric suggestions against a careful grader's marks (labelled explanations):",
             f"  {'item':<14} {'agree':>6} {'both':>5} {'missed':>7} {'wrong':>6} {'neither':>8}"]  # fmt: skip
    for r in rows:
        name = f"{r.question} {r.item}"
        lines.append(f"  {name:<14} {r.agreement:>6.0%} {r.both:>5} {r.missed:>7} {r.wrong:>6} {r.neither:>8}")
    lines.append("  'missed': right answers in other words; 'wrong': the words without the idea (often a negation).")
    return "\n".join(lines)
