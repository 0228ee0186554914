"""Marks in and out of the review log as CSV (a grader who works offline), and the diff after a rubric change.

The CSV has one row per part: ``question, submission, items, adjustment, comment,
grader`` (items space-separated).  An import is checked row by row first; one bad
row names its line and what was expected, and nothing is saved.  A row whose mark
equals the part's current one is skipped, so importing an export changes nothing.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path

from labgrade.harness.errors import UserError
from labgrade.harness.inputs.spec import Spec
from labgrade.harness.judging.marks import rubric_score
from labgrade.harness.review.parts import read_parts
from labgrade.harness.review.store import ReviewStore

COLUMNS = ["question", "submission", "items", "adjustment", "comment", "grader"]


def export_csv(out: Path, target: Path) -> int:
    """Write every confirmed current mark to ``target``; return how many rows."""
    store = ReviewStore(out)
    try:
        current = sorted(store.current().values(), key=lambda e: (e.question, e.submission))
    finally:
        store.close()
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(COLUMNS)
    rows = [e for e in current if e.confirmed]
    for e in rows:
        w.writerow([e.question, e.submission, " ".join(e.items), f"{e.adjustment:g}", e.comment, e.grader])
    target.write_text(buf.getvalue(), encoding="utf-8")
    return len(rows)


@dataclass(frozen=True)
class _Row:
    line: int
    question: str
    submission: str
    items: tuple[str, ...]
    adjustment: float
    comment: str
    grader: str


def import_csv(out: Path, source: Path, spec: Spec) -> int:
    """Validate every row of ``source``, then save them all (or none); return how many marks changed."""
    try:
        text = source.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{source}: cannot be read ({exc})") from None
    parts = read_parts(out, spec)
    known = {(qid, p.submission): p for qid, found in parts.items() for p in found}
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None or [f.strip() for f in reader.fieldnames] != COLUMNS:
        raise UserError(f"{source}, line 1: expected the columns {', '.join(COLUMNS)}, got {reader.fieldnames}")
    rows, problems = [], []
    for record in reader:
        line = reader.line_num
        qid, name = (record.get("question") or "").strip(), (record.get("submission") or "").strip()
        review = spec.question(qid).review if any(q.id == qid for q in spec.questions) else None
        if review is None:
            problems.append(f"{source}, line {line}: question {qid!r} has no review part")
            continue
        if (qid, name) not in known:
            problems.append(f"{source}, line {line}: no submission {name!r} with a {qid} answer in {out}")
            continue
        items = tuple((record.get("items") or "").split())
        unknown = [i for i in items if review.item(i) is None]
        if unknown:
            ids = ", ".join(i.id for i in review.items)
            problems.append(f"{source}, line {line}: unknown item(s) {', '.join(unknown)} (expected some of {ids})")
            continue
        try:
            adjustment = float((record.get("adjustment") or "0").strip() or 0)
        except ValueError:
            adjustment = math.nan
        comment = (record.get("comment") or "").strip()
        if not math.isfinite(adjustment) or abs(adjustment) > review.points:
            problems.append(f"{source}, line {line}: adjustment must be a number within ±{review.points:g}")
            continue
        if adjustment and not comment:
            problems.append(f"{source}, line {line}: an adjustment needs a comment")
            continue
        grader = (record.get("grader") or "").strip() or "import"
        rows.append(_Row(line, qid, name, items, adjustment, comment, grader))
    if problems:
        raise UserError("nothing was imported:\n" + "\n".join(problems))
    store = ReviewStore(out)
    changed = 0
    try:
        current = store.current()
        for row in rows:
            now = current.get((row.question, row.submission))
            same = now is not None and now.confirmed and (now.items, now.adjustment, now.comment) == (
                row.items, row.adjustment, row.comment)  # fmt: skip
            if same:
                continue
            review = spec.question(row.question).review
            assert review is not None
            part = known[(row.question, row.submission)]
            store.save(row.question, row.submission, review, row.items, row.adjustment, row.comment, row.grader,
                       base=now.id if now else 0, text_hash=part.text_hash)  # fmt: skip
            changed += 1
    finally:
        store.close()
    return changed


def rubric_diff(out: Path, spec: Spec) -> list[str]:
    """For each mark given under an older rubric: the student, and the part's score then and now."""
    store = ReviewStore(out)
    lines = []
    try:
        for event in sorted(store.current().values(), key=lambda e: (e.question, e.submission)):
            review = (
                spec.question(event.question).review if any(q.id == event.question for q in spec.questions) else None
            )
            if review is None or not event.confirmed or event.rubric_hash == review.sha256:
                continue
            old_points = store.rubric_points(event.rubric_hash) or {}
            before = sum(old_points.get(i, 0.0) for i in event.items) + event.adjustment
            before = min(max(before, 0.0), review.points)
            after, _ = rubric_score(review, event.items, event.adjustment)
            if abs(after - before) > 1e-9:
                lines.append(f"{event.submission} {event.question}: {before:g} -> {after:g} ({' '.join(event.items)})")
    finally:
        store.close()
    return lines
