"""The results model and its files: Gradescope ``results.json`` and the gradebook CSV.

Results are frozen dataclasses from the checks to the edge; ``to_dict``-style
conversion happens only here, when writing.  Every file is written atomically
(temporary file in the same folder, then rename), so an interrupted run never
leaves half a result.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labgrade.harness.atomic import atomic_write


@dataclass(frozen=True)
class CheckOutcome:
    """The verdict of one check: passed, failed, or not run/applicable (``None``)."""

    kind: str
    passed: bool | None
    message: str
    hint: str = ""
    weight: float = 1.0
    visible: bool = True
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class EssentialOutcome:
    """Whether an answer does what the question is about; a failure caps the question at ``cap`` x marks.

    ``passed`` is ``None`` when the observations cannot tell (no cap then).
    """

    kind: str
    passed: bool | None
    message: str
    cap: float = 0.0
    reason: str = ""


@dataclass(frozen=True)
class Flag:
    """Evidence for a human (a reported number the code cannot produce, a reseeded generator...).

    ``policy`` is the spec's: ``keep`` the mark and flag for review, or ``zero`` it.
    """

    kind: str
    question: str
    evidence: str
    policy: str = "keep"

    def to_dict(self) -> dict[str, str]:
        """As written in results.json."""
        return {"kind": self.kind, "question": self.question, "evidence": self.evidence, "policy": self.policy}


@dataclass(frozen=True)
class ReviewPart:
    """The part of a question a person marks: pending until a grader's event, then their items and words.

    ``text`` is the student's, untrusted, shown as text everywhere; ``text_hash`` is what a
    grader's mark was given for (a changed text asks for re-review, the mark kept).
    """

    points: float
    automatic: float = 0.0  # the question's automatic share, as the checks marked it
    automatic_arithmetic: str = ""  # the line that made it
    status: str = "pending"  # pending | reviewed | re-review
    text: str = ""
    where: str = ""
    text_hash: str = ""
    suggested: tuple[tuple[str, tuple[str, ...]], ...] = ()
    applied: tuple[str, ...] = ()
    adjustment: float = 0.0
    comment: str = ""
    grader: str = ""
    score: float = 0.0
    explanations: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """As written in results.json (``extra_data.review``)."""
        return {
            "status": self.status,
            "points": self.points,
            "automatic": round(self.automatic, 6),
            "automatic_arithmetic": self.automatic_arithmetic,
            "pending_points": self.points if self.status == "pending" else 0.0,
            "score": round(self.score, 6),
            "text": self.text,
            "where": self.where,
            "text_hash": self.text_hash,
            "suggested": [{"item": item, "words": list(words)} for item, words in self.suggested],
            "applied": list(self.applied),
            "adjustment": self.adjustment,
            "comment": self.comment,
            "grader": self.grader,
            "explanations": list(self.explanations),
        }


def review_lines(review: dict[str, Any]) -> list[str]:
    """The review part's lines of a question's feedback (from its results.json form)."""
    points = float(review.get("points", 0))
    if review.get("status") == "pending":
        where = f" (its text: {review['where']})" if review.get("where") else " (no answer text was found)"
        return [f"[review] {points:g} by a grader: pending{where}"]
    lines = [
        f"[review] {float(review.get('score', 0)):g} of {points:g} by a grader"
        + (" (re-review: the answer changed since it was marked)" if review.get("status") == "re-review" else "")
    ]
    lines += [f"[review] + {e}" for e in review.get("explanations", [])]
    if review.get("comment"):
        lines.append(f"[review] grader's comment: {review['comment']}")
    return lines


@dataclass(frozen=True)
class QuestionResult:
    """Marks and feedback for one question, with the one line of arithmetic that made the mark."""

    id: str
    title: str
    score: float
    max_score: float
    checks: tuple[CheckOutcome, ...]
    free_text: tuple[str, ...] = ()
    arithmetic: str = ""
    headline: str = ""  # the sentence that explains a cap or a flag policy, shown first
    essentials: tuple[EssentialOutcome, ...] = ()
    flags: tuple[Flag, ...] = ()
    review: ReviewPart | None = None

    @property
    def passed(self) -> bool:
        """Full marks (of the automatic share, while a grader's part is pending: that is not the student's fault)."""
        waiting = self.review.points if self.review is not None and self.review.status == "pending" else 0.0
        return self.score >= self.max_score - waiting - 1e-9

    def feedback(self, visible_only: bool = False) -> str:
        """The question's feedback as plain text, one line per check (hidden ones summarised)."""
        lines = []
        if self.headline:
            lines.append(self.headline)
        if self.arithmetic:
            lines.append(f"mark: {self.arithmetic}")
        for flag in self.flags:
            lines.append(f"[FLAG] {flag.kind}: {flag.evidence}")
        hidden = 0
        for c in self.checks:
            if not c.visible:
                hidden += 1
                if visible_only:
                    continue
            mark = {True: "PASS", False: "FAIL", None: "----"}[c.passed]
            lines.append(f"[{mark}] {c.kind}: {c.message}")
            if c.hint and c.passed is False:
                lines.append(f"       hint: {c.hint}")
        if visible_only and hidden:
            lines.append(f"({hidden} hidden check(s) not shown)")
        if self.review is not None:
            lines += review_lines(self.review.to_dict())
        else:
            for text in self.free_text:
                lines.append(f"[hand] marked by hand: {text}")
        return "\n".join(lines)


@dataclass(frozen=True)
class Provenance:
    """What a grade was computed with: enough to reproduce it."""

    harness_version: str
    spec_id: str
    spec_hash: str
    expectations_hash: str
    torch_version: str
    devices: tuple[str, ...]
    seeds: tuple[int, ...]
    data_source: str
    confinement: dict[str, str]
    unconfined: bool


@dataclass(frozen=True)
class GradeReport:
    """Everything graded for one submission."""

    name: str
    lab_title: str
    graded_at: str
    source: str
    submission_hash: str
    status: str  # "graded" or "error"
    score: float
    max_score: float
    questions: tuple[QuestionResult, ...]
    notes: tuple[str, ...]
    execution_time: float
    provenance: Provenance
    student_seconds: float = 0.0
    # Each function's calls and their own run time (``default@s0``, ``lr0``...): what the call plan
    # cost, for the benchmark's comparison with other plans; never part of a mark.
    call_seconds: dict[str, dict[str, float]] = field(default_factory=dict)
    # Flags of the submission as a whole (its report's form), with ``question`` "report".
    report_flags: tuple[Flag, ...] = ()

    @property
    def flags(self) -> tuple[Flag, ...]:
        """The report's flags, then every question's, in question order."""
        return self.report_flags + tuple(f for q in self.questions for f in q.flags)

    def check_text(self) -> str:
        """The self-check as text (``labgrade check``, ``labgrade.check()`` outside Jupyter): visible checks only."""
        lines = [f"note: {note}" for note in self.notes]
        for q in self.questions:
            lines.append(f"{'ok ' if q.passed else '!! '}{q.id:>5}  {q.score:.2f}/{q.max_score:g}  {q.title}")
            lines += [f"          {line}" for line in q.feedback(visible_only=True).splitlines()]
        lines.append(f"total {self.score:.2f} / {self.max_score:g}")
        return "\n".join(lines)

    def to_gradescope(self) -> dict[str, Any]:
        """Gradescope's ``results.json`` schema: score, execution_time, output, tests[]."""
        header = [f"{self.name}: {self.score:g} / {self.max_score:g}"]
        if self.provenance.unconfined:
            header.append("WARNING: graded unconfined (--unconfined): student code was not sandboxed.")
        header += self.notes
        return {
            "score": round(self.score, 6),
            "execution_time": round(self.execution_time, 3),
            "output": "\n".join(header),
            "tests": [
                {
                    "name": f"{q.id} {q.title}",
                    "number": q.id,
                    "score": round(q.score, 6),
                    "max_score": q.max_score,
                    "status": "passed" if q.passed else "failed",
                    "output": q.feedback(),
                    "visibility": "visible",
                    "extra_data": {
                        "arithmetic": q.arithmetic,
                        "headline": q.headline,
                        "essentials": [vars(e) for e in q.essentials],
                        "flags": [f.to_dict() for f in q.flags],
                        "checks": [
                            {
                                "kind": c.kind,
                                "passed": c.passed,
                                "message": c.message,
                                "hint": c.hint,
                                "weight": c.weight,
                                "visible": c.visible,
                                "details": c.details,
                            }
                            for c in q.checks
                        ],
                        "free_text": list(q.free_text),
                        **({"review": q.review.to_dict()} if q.review else {}),
                    },
                }
                for q in self.questions
            ],
            "extra_data": {
                "labgrade": {
                    "name": self.name,
                    "lab_title": self.lab_title,
                    "graded_at": self.graded_at,
                    "source": self.source,
                    "submission_hash": self.submission_hash,
                    "status": self.status,
                    "max_score": self.max_score,
                    "flags": [f.to_dict() for f in self.flags],
                    "student_seconds": round(self.student_seconds, 4),
                    "call_seconds": {
                        name: {label: round(s, 4) for label, s in calls.items()}
                        for name, calls in self.call_seconds.items()
                    },
                    "provenance": {
                        **vars(self.provenance),
                        "devices": list(self.provenance.devices),
                        "seeds": list(self.provenance.seeds),
                    },
                }
            },
        }


def write_report(out: Path, report: GradeReport) -> Path:
    """Write ``OUT/<name>/results.json``; return its path."""
    return write_results(out, report.name, report.to_gradescope())


def write_results(out: Path, name: str, results: dict[str, Any]) -> Path:
    """Write a results dictionary (Gradescope schema) to ``OUT/<name>/results.json`` atomically."""
    path = out / name / "results.json"
    atomic_write(path, json.dumps(results, indent=2, sort_keys=False))
    return path


def gradebook_rows(results: Iterable[dict[str, Any]], question_ids: list[str]) -> str:
    """The gradebook CSV from results.json contents: name, total, max, a column per question, status, flags."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["name", "total", "max", *question_ids, "status", "flags", "review"])
    rows = []
    for r in results:
        meta = r.get("extra_data", {}).get("labgrade", {})
        by_id = {str(t.get("number")): float(t.get("score", 0)) for t in r.get("tests", [])}
        rows.append(
            [
                str(meta.get("name", "")),
                f"{float(r.get('score', 0)):g}",
                f"{float(meta.get('max_score', 0)):g}",
                *(f"{by_id.get(q, 0):g}" for q in question_ids),
                str(meta.get("status", "")),
                "; ".join(  # a kind once per question: its evidence (pages, paper) is in results.json
                    dict.fromkeys(
                        f"{f.get('question')}: {f.get('kind')}" for f in meta.get("flags") or [] if isinstance(f, dict)
                    )
                ),
                review_column(r),
            ]
        )
    w.writerows(sorted(rows))
    return buf.getvalue()


def review_column(results: dict[str, Any]) -> str:
    """The gradebook's ``review`` cell: the parts a person has still to mark, or to look at again."""
    pending, again = [], []
    for test in results.get("tests", []):
        review = (test.get("extra_data") or {}).get("review")
        if isinstance(review, dict):
            if review.get("status") == "pending":
                pending.append(str(test.get("number")))
            elif review.get("status") == "re-review":
                again.append(str(test.get("number")))
    parts = ([f"pending: {', '.join(pending)}"] if pending else []) + (
        [f"re-review: {', '.join(again)}"] if again else []
    )
    return "; ".join(parts) or (
        "reviewed" if any((t.get("extra_data") or {}).get("review") for t in results.get("tests", [])) else ""
    )
