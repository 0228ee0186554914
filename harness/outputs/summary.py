"""The instructor's class overview: flags to review, mark distribution per question, common failure reasons.

Built from the per-submission results.json files only (the same data the PDFs
use), written as ``OUT/summary.csv`` and a one-page ``OUT/summary.pdf``.
Failure reasons are grouped after replacing numbers by ``#``, so "row 2 of U
never changes" and "row 1 of U never changes" count as one reason.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.atomic import atomic_write

# Measured values vary between students; small integers (row 2, num_epochs=0) are part of the reason.
_NUMBER = re.compile(r"-?\d+\.\d+(e[-+]?\d+)?|-?\d+e[-+]?\d+|\d{3,}")


@dataclass(frozen=True)
class ClassSummary:
    """Counts over a class: marks per question and failure reasons."""

    submissions: int
    mean_total: float
    max_total: float
    marks: dict[str, Counter[float]]
    reasons: Counter[tuple[str, str, str]]
    flags: tuple[tuple[str, str, str, str], ...] = ()  # (submission, question, kind, evidence) for a human


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


def summarise(results: list[dict[str, Any]]) -> ClassSummary:
    """Count marks per question and failure reasons (diagnoses split into their findings)."""
    marks: dict[str, Counter[float]] = {}
    reasons: Counter[tuple[str, str, str]] = Counter()
    totals = []
    max_total = 0.0
    flags: list[tuple[str, str, str, str]] = []
    for r in results:
        totals.append(float(r.get("score", 0)))
        meta = (r.get("extra_data") or {}).get("labgrade") or {}
        for f in meta.get("flags") or []:
            if isinstance(f, dict):
                fields = (meta.get("name", "?"), f.get("question", "?"), f.get("kind", "?"), f.get("evidence", ""))
                flags.append((str(fields[0]), str(fields[1]), str(fields[2]), str(fields[3])))
        tests = [t for t in r["tests"] if isinstance(t, dict)]
        max_total = max(max_total, sum(float(t.get("max_score", 0)) for t in tests))
        for t in tests:
            number = str(t.get("number", "?"))
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
    return ClassSummary(len(results), mean, max_total, marks, reasons, tuple(sorted(flags)))


def summary_csv(summary: ClassSummary) -> str:
    """Both tables in one CSV: ``marks`` rows (question, score, count) and ``failure`` rows."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["table", "question", "check", "value", "count"])
    for question in sorted(summary.marks):
        for score, count in sorted(summary.marks[question].items()):
            w.writerow(["marks", question, "", f"{score:g}", count])
    for (question, kind, reason), count in summary.reasons.most_common():
        w.writerow(["failure", question, kind, reason, count])
    for name, question, kind, evidence in summary.flags:
        w.writerow(["flag", question, kind, f"{name}: {evidence}", 1])
    return buf.getvalue()


def summary_context(summary: ClassSummary, title: str, top: int = 14) -> dict[str, Any]:
    """Render context: flags for review first, bar geometry per question, and the top failure reasons."""
    questions = []
    for question in sorted(summary.marks):
        counts = summary.marks[question]
        peak = max(counts.values()) if counts else 1
        bars = [
            {"label": f"{score:g}", "count": count, "height": 40.0 * count / peak}
            for score, count in sorted(counts.items())
        ]
        questions.append({"id": question, "bars": bars})
    return {
        "title": title,
        "submissions": summary.submissions,
        "mean_total": f"{summary.mean_total:.2f}",
        "max_total": f"{summary.max_total:g}",
        "questions": questions,
        "reasons": [
            {"question": q, "check": k, "reason": r, "count": c} for (q, k, r), c in summary.reasons.most_common(top)
        ],
        "more_reasons": max(len(summary.reasons) - top, 0),
        "flags": [
            {"name": n[:60], "question": q, "kind": k, "evidence": e[:160]} for n, q, k, e in summary.flags[:top]
        ],
        "more_flags": max(len(summary.flags) - top, 0),
    }


def write_summary(out: Path) -> tuple[Path, Path] | None:
    """Write ``OUT/summary.csv`` and ``OUT/summary.pdf`` from the results in ``out``."""
    from harness.outputs.report import environment, one_page_pdf

    results = load_results(out)
    if not results:
        return None
    summary = summarise(results)
    csv_path = out / "summary.csv"
    atomic_write(csv_path, summary_csv(summary))
    title = str(((results[0].get("extra_data") or {}).get("labgrade") or {}).get("lab_title", "Lab"))
    pdf_path = out / "summary.pdf"
    template = environment().get_template("summary.html.j2")
    tops = (14, 8, 4)  # failure reasons listed, fewer at each step
    rendered = one_page_pdf(lambda level: template.render(**summary_context(summary, title, tops[level])), len(tops))
    atomic_write(pdf_path, rendered.pdf)
    return csv_path, pdf_path
