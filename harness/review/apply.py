"""Graders' marks into every output: each ``results.json``, then the gradebook and the PDFs made from them.

Grading writes a reviewed part as *pending* with its automatic share only.  Here the
review log's current events are laid over those results: a confirmed event sets the
part's score from the items it applied, at the rubric's *current* points (items are
referenced, not copied), plus its adjustment, clamped to the part's points.  A part
whose answer text changed since it was marked keeps its mark and is marked
``re-review``.  Regrading rewrites results.json from the code; running this again
brings every human mark back, so a regrade never loses one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from labgrade.harness.inputs.rubric import ReviewSpec
from labgrade.harness.inputs.spec import Spec
from labgrade.harness.judging.marks import rubric_score, with_review
from labgrade.harness.outputs.results import review_lines, write_results
from labgrade.harness.review.store import STORE_NAME, Event, ReviewStore


@dataclass(frozen=True)
class Applied:
    """What applying the review log did: parts marked, parts pending, parts to look at again."""

    reviewed: int
    pending: int
    again: int


def result_files(out: Path) -> list[Path]:
    """Every submission's results.json under ``out``, by name."""
    return sorted(p for p in out.glob("*/results.json") if p.is_file())


def apply_reviews(out: Path, spec: Spec) -> Applied:
    """Lay the current review events over every results.json in ``out``; write those that change."""
    current = _current(out)
    counts = {"reviewed": 0, "pending": 0, "re-review": 0}
    for path in result_files(out):
        results = json.loads(path.read_text())
        name = str(results.get("extra_data", {}).get("labgrade", {}).get("name", path.parent.name))
        before = json.dumps(results, sort_keys=True)
        for test in results.get("tests", []):
            review = (test.get("extra_data") or {}).get("review")
            question = next((q for q in spec.questions if q.id == str(test.get("number"))), None)
            if not isinstance(review, dict) or question is None or question.review is None:
                continue
            event = current.get((question.id, name))
            if event is None and review.get("status") == "pending":
                counts["pending"] += 1  # as grading left it: nothing to write
                continue
            status = apply_event(test, review, question.review, event)
            counts[status] += 1
        results["score"] = round(sum(float(t.get("score", 0)) for t in results.get("tests", [])), 6)
        lines = str(results.get("output", "")).split("\n")
        maximum = results.get("extra_data", {}).get("labgrade", {}).get("max_score", 0)
        lines[0] = f"{name}: {results['score']:g} / {float(maximum):g}"
        results["output"] = "\n".join(lines)
        if json.dumps(results, sort_keys=True) != before:
            write_results(out, path.parent.name, results)
    return Applied(counts["reviewed"], counts["pending"], counts["re-review"])


def _current(out: Path) -> dict[tuple[str, str], Event]:
    if not (out / STORE_NAME).is_file():
        return {}
    store = ReviewStore(out)
    try:
        return store.current()
    finally:
        store.close()


def apply_event(test: dict[str, Any], review: dict[str, Any], spec_rubric: ReviewSpec, event: Event | None) -> str:
    """Set one test's score, arithmetic, review part and feedback lines from its current event (or none)."""
    automatic = float(review.get("automatic", 0))
    auto_line = str(review.get("automatic_arithmetic", ""))
    if event is None or not event.confirmed:
        review.update(status="pending", score=0.0, pending_points=review.get("points", 0), applied=[],
                      adjustment=0.0, comment="", grader="", explanations=[])  # fmt: skip
        if event is not None:
            review["proposed"] = list(event.items)
        rubric, line = None, ""
    else:
        rubric, line = rubric_score(spec_rubric, event.items, event.adjustment)
        changed = bool(review.get("text_hash")) and event.text_hash != review.get("text_hash")
        explanations = [i.explanation for i in spec_rubric.items if i.id in event.items]
        review.update(status="re-review" if changed else "reviewed", score=round(rubric, 6), pending_points=0.0,
                      applied=list(event.items), adjustment=event.adjustment, comment=event.comment,
                      grader=event.grader, explanations=explanations, event=event.id)  # fmt: skip
        review.pop("proposed", None)
    score = automatic + (rubric or 0.0)
    arithmetic = with_review(automatic, rubric, line, float(review.get("points", 0)))
    test["score"] = round(score, 6)
    test["status"] = "passed" if score >= float(test.get("max_score", 0)) - 1e-9 else "failed"
    test["extra_data"]["arithmetic"] = f"{arithmetic} (automatic: {auto_line})" if auto_line else arithmetic
    lines = [ln for ln in str(test.get("output", "")).split("\n") if not ln.startswith("[review]")]
    mark = f"mark: {test['extra_data']['arithmetic']}"
    at = next((i for i, ln in enumerate(lines) if ln.startswith("mark: ")), None)
    if at is None:
        lines.insert(0, mark)
    else:
        lines[at] = mark
    test["output"] = "\n".join([*lines, *review_lines(review)])
    return str(review["status"])


def write_reviewed(out: Path, spec: Spec) -> Applied:
    """Apply the review log to every results.json in ``out``, then rewrite the gradebook from them."""
    from labgrade.harness.atomic import atomic_write
    from labgrade.harness.outputs.results import gradebook_rows

    applied = apply_reviews(out, spec)
    rows = [json.loads(p.read_text()) for p in result_files(out)]
    if rows:
        atomic_write(out / "gradebook.csv", gradebook_rows(rows, [q.id for q in spec.questions]))
    return applied
