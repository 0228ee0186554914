"""Data -> render context: turn a results.json (Gradescope schema + labgrade extra data) into what templates show.

Everything a submission wrote (names, messages, printed output) arrives here as
data and leaves as plain strings; escaping is the templates' job (Jinja2
autoescape), so nothing here builds markup.  A ``Fit`` level says how much text
to keep, so the renderer can shorten feedback until the page count is 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from labgrade.harness.outputs.plots import plot_from_details


@dataclass(frozen=True)
class Fit:
    """How much text to keep: message length, lines per question, base font size."""

    level: int
    message_chars: int
    lines_per_question: int
    font_pt: float
    notes: int
    plots: bool


FITS = (
    Fit(0, 320, 5, 8.2, 4, True),
    Fit(1, 200, 4, 7.6, 3, True),
    Fit(2, 140, 3, 7.2, 2, True),
    Fit(3, 90, 2, 7.0, 1, False),
    Fit(4, 60, 1, 6.5, 1, False),
)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _cut(text: Any, limit: int) -> str:
    s = " ".join(str(text).split())  # newlines and runs of spaces from student text collapse
    return s if len(s) <= limit else s[: max(limit - 1, 1)] + "…"


def _score(x: Any) -> str:
    try:
        return f"{float(x):.2f}".rstrip("0").rstrip(".")
    except (TypeError, ValueError):
        return "?"


def question_context(test: dict[str, Any], fit: Fit) -> dict[str, Any]:
    """One question's row: marks, verdict, the check lines that matter, a picture, free text."""
    extra = _dict(test.get("extra_data"))
    checks = _list(extra.get("checks"))
    lines: list[dict[str, str]] = []
    hidden = 0
    plot = None
    for c in checks:
        if not isinstance(c, dict):
            continue
        details = _dict(c.get("details"))
        if plot is None and fit.plots:
            plot = plot_from_details(details)
        if not c.get("visible", True):
            hidden += 1
            continue
        passed = c.get("passed")
        status = "pass" if passed is True else "fail" if passed is False else "na"
        lines.append(
            {
                "status": status,
                "kind": _cut(c.get("kind", ""), 30),
                "message": _cut(c.get("message", ""), fit.message_chars),
                "hint": _cut(c.get("hint", ""), fit.message_chars) if passed is False else "",
            }
        )
    # Failures first (they teach), the specific ones (a diagnosis, a wrong result) before the
    # general ones (a loss outside the band), then passes; keep as many as the fit allows.
    specific = ("diagnose", "result", "signature")
    lines.sort(key=lambda line: ({"fail": 0, "pass": 1, "na": 2}[line["status"]], line["kind"] not in specific))
    shown = lines[: fit.lines_per_question]
    free = _list(extra.get("free_text"))
    review = _review(_dict(extra.get("review")), fit) if extra.get("review") else None
    score, max_score = test.get("score", 0), test.get("max_score", 0)
    flags = [_dict(f) for f in _list(extra.get("flags"))]
    return {
        "headline": _cut(extra.get("headline", ""), fit.message_chars + 80),
        "arithmetic": _cut(extra.get("arithmetic", ""), fit.message_chars),
        "flags": [
            {"kind": _cut(f.get("kind", ""), 40), "evidence": _cut(f.get("evidence", ""), fit.message_chars)}
            for f in flags[:3]
        ],
        "number": _cut(test.get("number", ""), 12),
        "title": _cut(str(test.get("name", "")).split(" ", 1)[-1], 80),
        "score": _score(score),
        "max_score": _score(max_score),
        "status": "pass" if test.get("status") == "passed" else "fail",
        "lines": shown,
        "more": len(lines) - len(shown),
        "hidden": hidden,
        "free_text": [] if review else [_cut(t, 140) for t in free[:3]],
        "review": review,
        "plot": plot,
    }


def _review(review: dict[str, Any], fit: Fit) -> dict[str, Any]:
    """A reviewed part for the page: pending, or the grader's items (their explanations) and comment."""
    status = str(review.get("status", "pending"))
    return {
        "status": status,
        "points": _score(review.get("points", 0)),
        "score": _score(review.get("score", 0)),
        "explanations": [_cut(str(e), fit.message_chars) for e in _list(review.get("explanations"))[:4]],
        "comment": _cut(str(review.get("comment", "")), fit.message_chars + 80),
        "where": _cut(str(review.get("where", "")), 80),
    }


def report_context(results: dict[str, Any], fit: Fit = FITS[0]) -> dict[str, Any]:
    """The whole page's context from a results.json dictionary."""
    extra = _dict(results.get("extra_data"))
    meta = _dict(extra.get("labgrade"))
    prov = _dict(meta.get("provenance"))
    tests = [t for t in results.get("tests", []) if isinstance(t, dict)]
    output = str(results.get("output", "")).splitlines()
    # A report's own flag is shown in its box at the top; its note would say it twice.
    notes = [
        _cut(line, fit.message_chars)
        for line in output[1:]
        if line.strip() and not line.lstrip("• ").startswith("Flagged for review (")
    ]
    seeds = _list(prov.get("seeds"))
    flagged = [_dict(f) for f in _list(meta.get("flags"))]
    return {
        "flag_count": len(flagged),
        # Flags of the report as a whole (its pages) belong to no question: their evidence is shown at the top.
        "report_flags": [
            {"kind": _cut(f.get("kind", ""), 40), "evidence": _cut(f.get("evidence", ""), fit.message_chars)}
            for f in flagged
            if f.get("question") == "report"
        ][:2],
        "fit": fit,
        "lab_title": _cut(meta.get("lab_title", "Lab"), 90),
        "name": _cut(meta.get("name", "submission"), 60),
        "score": _score(results.get("score", 0)),
        "max_score": _score(meta.get("max_score", sum(float(t.get("max_score", 0)) for t in tests))),
        "graded_at": _cut(meta.get("graded_at", ""), 40),
        "source": _cut(str(meta.get("source", "")).rsplit("/", 1)[-1], 60),
        "status": _cut(meta.get("status", ""), 20),
        "questions": [question_context(t, fit) for t in tests[:12]],
        "notes": notes[: fit.notes],
        "more_notes": max(len(notes) - fit.notes, 0),
        "provenance": {
            "harness": _cut(prov.get("harness_version", "?"), 20),
            "spec": _cut(f"{prov.get('spec_id', '?')} {str(prov.get('spec_hash', ''))[:12]}", 40),
            "torch": _cut(prov.get("torch_version", "?"), 30),
            "devices": _cut(", ".join(map(str, prov.get("devices", []))), 30),
            "seeds": _cut(", ".join(map(str, seeds)), 40),
            "data": _cut(prov.get("data_source", "?"), 30),
            "unconfined": bool(prov.get("unconfined")),
        },
    }
