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


def _rows(text: str, per_row: float) -> float:
    return float(max(1, -(-len(text) // max(int(per_row), 1)))) if text else 0.0


def estimated_height(context: dict[str, Any]) -> float:
    """A rough height of the page ``context`` describes, in points: rows of text times the font size.

    It lets :func:`labgrade.harness.outputs.onepage.one_page_pdf` start at the level
    predicted to fit, and pick the next level from a measured spill, instead of
    laying out every level in turn.  Widths are the report's (a body column of
    about 150 mm; check lines indented 23 mm after their kind; boxes with padding)
    and a DejaVu Sans character is about 0.55 em wide; the constant that turns
    rows into page heights is measured on the example submissions' pages
    (:data:`labgrade.harness.outputs.onepage.SURE_OVERFLOW`).
    """
    fit: Fit = context["fit"]
    per_row = 150.0 / (0.55 * fit.font_pt * 0.3528)
    indented = per_row * 127.0 / 150.0
    kind = per_row * 23.0 / 150.0 / 0.8  # the kind's column, in characters of the message's size
    mm = 2.835  # points: paddings, margins and pictures do not shrink with the font
    rows = 4.0 + sum(_rows(n, per_row * 1.2) for n in context["notes"]) + (1 if context["more_notes"] else 0)
    fixed = 8 * mm + (3 * mm if context["flag_count"] else 0.0)
    rows += 1.0 if context["flag_count"] else 0.0
    for q in context["questions"]:
        fixed += 2.6 * mm
        rows += _rows(q["title"] + " mark: " + q["arithmetic"], per_row)
        rows += _rows(q["headline"], per_row)
        fixed += 2.3 * mm if q["headline"] else 0.0
        for f in q["flags"]:
            rows += _rows(f"Flagged for review ({f['kind']}): {f['evidence']}", per_row)
            fixed += 1.6 * mm
        for line in q["lines"]:
            rows += _rows(" " * int(kind) + line["message"], per_row)
            if line["hint"]:
                rows += _rows("Hint: " + line["hint"], indented)
                fixed += 2.5 * mm
        rows += (0.9 if q["more"] else 0) + (0.9 if q["hidden"] else 0)
        fixed += 14 * mm if q["plot"] else 0.0
        rows += sum(_rows(t, per_row) for t in q["free_text"])
    return rows * fit.font_pt * 1.25 + fixed
