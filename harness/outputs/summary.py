"""The instructor's class overview: what to read first, then the marks and the common failure reasons.

Built from the per-submission results.json files only (the same data the PDFs
use), written as ``OUT/summary.csv`` and a one-page ``OUT/summary.pdf``.  It leads
with what an instructor acts on: the submissions to open first, each with why and
where to look (a flag with its evidence, a pair of submissions whose code is
unusually similar, from ``OUT/similarity.csv``, a submission that could not be
graded, a grade that rests on a recovered form), then the distribution of totals and each
question's mean with its most common diagnosis.  Failure reasons are grouped after
replacing numbers by ``#``, so "row 2 of U never changes" and "row 1 of U never
changes" count as one reason.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labgrade.harness.atomic import atomic_write

# Measured values vary between students; small integers (row 2, num_epochs=0) are part of the reason.
_NUMBER = re.compile(r"-?\d+\.\d+(e[-+]?\d+)?|-?\d+e[-+]?\d+|\d{3,}")
# Where in a student's own file a problem is: the same syntax error on line 22 and on line 36 is one reason.
_LINE = re.compile(r"\b(line|cell) \d+")

#: Why a submission is worth opening first, most urgent first (the order of the list).
READ_FIRST = ("flag", "similar", "not graded", "recovered form")


@dataclass(frozen=True)
class ReadFirst:
    """A submission to open first: why, and where to look."""

    name: str
    why: str
    question: str
    where: str


@dataclass(frozen=True)
class ClassSummary:
    """Counts over a class: totals, marks per question, failure reasons and what to read first."""

    submissions: int
    mean_total: float
    max_total: float
    marks: dict[str, Counter[float]]
    reasons: Counter[tuple[str, str, str]]
    read_first: tuple[ReadFirst, ...] = ()
    totals: tuple[float, ...] = ()
    question_max: dict[str, float] | None = None
    # Parts a person marks that wait for a grader, and marked ones whose answer changed since: by question.
    pending: dict[str, int] = field(default_factory=dict)
    again: dict[str, int] = field(default_factory=dict)

    def mean(self, question: str) -> float:
        """The mean mark of ``question`` over the class."""
        counts = self.marks.get(question, Counter())
        total = sum(counts.values())
        return sum(score * n for score, n in counts.items()) / total if total else 0.0

    def top_reason(self, question: str) -> tuple[str, int] | None:
        """The most common failure reason of ``question`` and how many submissions have it."""
        found = [(reason, n) for (q, _, reason), n in self.reasons.most_common() if q == question]
        return found[0] if found else None


def _reason(text: str) -> str:
    cleaned = _NUMBER.sub("#", text)
    return " ".join(cleaned.split())[:120]


def load_results(out: Path) -> list[dict[str, Any]]:
    """Every ``OUT/*/results.json`` that parses (others are skipped)."""
    found = []
    for path in sorted(out.glob("*/results.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and isinstance(data.get("tests"), list):
            found.append(data)
    return found


def _read_first(result: dict[str, Any], name: str) -> list[ReadFirst]:
    """Why this submission should be opened before the others, if it should."""
    meta = (result.get("extra_data") or {}).get("labgrade") or {}
    out = [
        ReadFirst(name, "flag", str(f.get("question", "")), f"{f.get('kind', '')}: {f.get('evidence', '')}")
        for f in meta.get("flags") or []
        if isinstance(f, dict)
    ]
    if meta.get("status") == "error":
        lines = str(result.get("output", "")).splitlines()[1:]
        out.append(ReadFirst(name, "not graded", "", lines[0] if lines else "could not be graded"))
    for test in result.get("tests", []):
        if not isinstance(test, dict):
            continue
        for check in (test.get("extra_data") or {}).get("checks") or []:
            if isinstance(check, dict) and (check.get("details") or {}).get("recovered"):
                out.append(
                    ReadFirst(name, "recovered form", str(test.get("number", "")), str(check.get("message", "")))
                )
    return out


def similar_pairs(out: Path) -> list[ReadFirst]:
    """The pairs ``OUT/similarity.csv`` marks as flagged, best first (none when the file is absent or unreadable)."""
    from labgrade.harness.outputs.similarity_report import CSV_NAME

    path = out / CSV_NAME
    try:
        rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    except (OSError, UnicodeDecodeError, csv.Error):
        return []
    pairs = []
    for row in rows:
        if str(row.get("flagged", "")).strip().lower() not in ("1", "true", "yes"):
            continue
        a, b = str(row.get("a", "?")), str(row.get("b", "?"))
        try:
            score = f"{float(row.get('score') or 0):.0%}"
        except ValueError:
            score = "?"
        lines_a, lines_b = (str(row.get(k, "")).replace(";", ", ") for k in ("a_lines", "b_lines"))
        where = f"{score} alike: lines {lines_a} ~ lines {lines_b}; side by side in similarity.html"
        pairs.append(ReadFirst(f"{a} ~ {b}", "similar", "", where))
    return pairs


def summarise(results: list[dict[str, Any]], similar: list[ReadFirst] | None = None) -> ClassSummary:
    """Count totals, marks per question and failure reasons (diagnoses split into their findings).

    ``similar`` are the class's similar pairs (:func:`similar_pairs`), listed to read first.
    """
    marks: dict[str, Counter[float]] = {}
    reasons: Counter[tuple[str, str, str]] = Counter()
    totals = []
    max_total = 0.0
    read_first: list[ReadFirst] = list(similar or [])
    question_max: dict[str, float] = {}
    pending: dict[str, int] = {}
    again: dict[str, int] = {}
    for r in results:
        totals.append(float(r.get("score", 0)))
        meta = (r.get("extra_data") or {}).get("labgrade") or {}
        read_first += _read_first(r, str(meta.get("name", "?")))
        tests = [t for t in r["tests"] if isinstance(t, dict)]
        max_total = max(max_total, sum(float(t.get("max_score", 0)) for t in tests))
        for t in tests:
            number = str(t.get("number", "?"))
            status = ((t.get("extra_data") or {}).get("review") or {}).get("status")
            if status in ("pending", "re-review"):
                counts = pending if status == "pending" else again
                counts[number] = counts.get(number, 0) + 1
            question_max[number] = max(question_max.get(number, 0.0), float(t.get("max_score", 0)))
            marks.setdefault(number, Counter())[round(float(t.get("score", 0)), 2)] += 1
            checks = (t.get("extra_data") or {}).get("checks") or []
            for c in checks:
                if not isinstance(c, dict) or c.get("passed") is not False:
                    continue
                message = str(c.get("message", ""))
                if message.startswith("not run"):
                    continue
                findings = (c.get("details") or {}).get("findings")
                items = findings if isinstance(findings, list) and findings else [message.split(";")[0]]
                for item in items:
                    reasons[(number, str(c.get("kind", "")), _reason(str(item)))] += 1
    mean = sum(totals) / len(totals) if totals else 0.0
    order = {id(e): i for i, e in enumerate(read_first)}  # similar pairs keep their order: best first
    read_first.sort(
        key=lambda e: (READ_FIRST.index(e.why), order[id(e)] if e.why == "similar" else 0, e.name, e.question)
    )
    return ClassSummary(
        len(results), mean, max_total, marks, reasons, tuple(read_first), tuple(totals), question_max, pending, again
    )


def summary_csv(summary: ClassSummary) -> str:
    """Every table in one CSV: ``read_first``, ``question``, ``total``, ``marks`` and ``failure`` rows."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["table", "question", "check", "value", "count"])
    for e in summary.read_first:
        w.writerow(["read_first", e.question, e.why, f"{e.name}: {e.where}", 1])
    for question in sorted(summary.marks):
        top = summary.top_reason(question)
        w.writerow(
            ["question", question, "mean", f"{summary.mean(question):.2f}", sum(summary.marks[question].values())]
        )
        if top:
            w.writerow(["question", question, "most common diagnosis", top[0], top[1]])
    for total, count in sorted(Counter(round(t * 2) / 2 for t in summary.totals).items()):
        w.writerow(["total", "", "", f"{total:g}", count])
    for question in sorted(summary.marks):
        for score, count in sorted(summary.marks[question].items()):
            w.writerow(["marks", question, "", f"{score:g}", count])
    for (question, kind, reason), count in summary.reasons.most_common():
        w.writerow(["failure", question, kind, reason, count])
    return buf.getvalue()


def _histogram(summary: ClassSummary) -> list[dict[str, Any]]:
    """Bars of the totals in half-mark bins from 0 to the maximum, heights relative to the tallest."""
    steps = int(summary.max_total * 2) + 1
    counts = Counter(min(int(t * 2 + 1e-9), steps - 1) for t in summary.totals)
    peak = max(counts.values()) if counts else 1
    return [
        {"label": f"{i / 2:g}", "count": counts.get(i, 0), "height": 40.0 * counts.get(i, 0) / peak}
        for i in range(steps)
    ]


def _grouped(entries: tuple[ReadFirst, ...], names_shown: int = 6) -> list[dict[str, Any]]:
    """One row per reason (why, question, message with numbers as #), naming the submissions that share it.

    In a class of 200 the same syntax error or the same transposed V comes back many
    times: one row that names them reads faster than a page of copies.
    """
    groups: dict[tuple[str, str, str], list[ReadFirst]] = {}
    for e in entries:
        # a similar pair is its own reason: two pairs never share their evidence
        reason = e.where if e.why == "similar" else _reason(_LINE.sub(r"\1 #", e.where.replace(e.name, "<name>")))
        groups.setdefault((e.why, e.question, reason), []).append(e)
    rows = []
    for (why, question, _), members in groups.items():
        names = [m.name[:40] for m in members]
        shown = ", ".join(names[:names_shown]) + (
            f" and {len(names) - names_shown} more" if len(names) > names_shown else ""
        )
        first = members[0]
        where = first.where if len(members) == 1 else _LINE.sub(r"\1 #", first.where.replace(first.name, "<name>"))
        rows.append({"names": shown, "count": len(names), "why": why, "question": question, "where": where[:150]})
    return rows


def summary_context(summary: ClassSummary, title: str, top: int = 14) -> dict[str, Any]:
    """Render context: what to read first, the totals, each question's mean and most common diagnosis."""
    kinds = Counter(e.why for e in summary.read_first)
    grouped = _grouped(summary.read_first)
    return {
        "title": title,
        "submissions": summary.submissions,
        "mean_total": f"{summary.mean_total:.2f}",
        "max_total": f"{summary.max_total:g}",
        "histogram": _histogram(summary),
        "questions": [
            {
                "id": q,
                "mean": f"{summary.mean(q):.2f}",
                "max": f"{(summary.question_max or {}).get(q, 0):g}",
                "reason": (summary.top_reason(q) or ("", 0))[0],
                "count": (summary.top_reason(q) or ("", 0))[1],
            }
            for q in sorted(summary.marks)
        ],
        "review_left": "; ".join(f"{n} part(s) of {q} wait for a grader" for q, n in sorted(summary.pending.items()))
        + "".join(f"; {n} part(s) of {q} changed since marked" for q, n in sorted(summary.again.items())),
        "read_first": grouped[:top],
        "read_first_counts": ", ".join(f"{n} {why}" for why, n in kinds.items()),
        "more_read_first": max(len(grouped) - top, 0),
        "reasons": [
            {"question": q, "check": k, "reason": r, "count": c} for (q, k, r), c in summary.reasons.most_common(top)
        ],
        "more_reasons": max(len(summary.reasons) - top, 0),
    }


TOPS = (14, 10, 7, 4)  # entries listed in each table, fewer at each fit level


def _page(out: Path) -> tuple[ClassSummary, Callable[[int], str]] | None:
    """The class summary of ``out``, and its page's HTML at each fit level (``None``: no results)."""
    from labgrade.harness.outputs.templating import environment

    results = load_results(out)
    if not results:
        return None
    summary = summarise(results, similar_pairs(out))
    title = str(((results[0].get("extra_data") or {}).get("labgrade") or {}).get("lab_title", "Lab"))
    template = environment().get_template("summary.html.j2")
    return summary, lambda level: template.render(**summary_context(summary, title, TOPS[level]), for_pdf=True)


def summary_html(out: Path) -> str | None:
    """The summary page's HTML at its most generous fit, as laid out for its PDF (``make bench``'s text)."""
    page = _page(out)
    return page[1](0) if page else None


def write_summary(out: Path) -> tuple[Path, Path] | None:
    """Write ``OUT/summary.csv`` and ``OUT/summary.pdf`` from the results in ``out``."""
    from labgrade.harness.outputs.onepage import one_page_pdf

    page = _page(out)
    if page is None:
        return None
    summary, html_at = page
    csv_path = out / "summary.csv"
    atomic_write(csv_path, summary_csv(summary))
    pdf_path = out / "summary.pdf"
    atomic_write(pdf_path, one_page_pdf(html_at, len(TOPS)).pdf)
    return csv_path, pdf_path
