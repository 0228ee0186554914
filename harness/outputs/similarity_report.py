"""Write what the similarity detector found: ``similarity.csv`` to sort and filter, ``similarity.html`` to read.

The CSV has one row per listed pair, best first, with the matching line ranges
(``12-18;30-31``), so a spreadsheet or a script can take it from there.  The HTML
is for the instructor deciding whether a flagged pair is a copy: every flagged
pair (up to :data:`SIDE_BY_SIDE`) shows both sources side by side with line
numbers, each matching region in its own colour, the same colour on both sides.

Why one self-contained file: it is opened from a grading folder, perhaps offline,
perhaps mailed to a colleague, so its CSS is inline and nothing (script, font,
image, stylesheet) is fetched.  Why autoescaping: the page shows student code, which
is hostile text; Jinja2 escapes every value, so a ``<script>`` in a submission is
shown, never run.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from labgrade.harness.atomic import atomic_write
from labgrade.harness.judging.similarity import Pair, SimilarityReport, Source, Span
from labgrade.harness.outputs.templating import environment

CSV_NAME = "similarity.csv"
HTML_NAME = "similarity.html"
#: Flagged pairs shown side by side (the rest are in the table and the CSV).
SIDE_BY_SIDE = 50
#: Lines of one source shown in a side-by-side view (a longer source is cut, and says so).
MAX_LINES = 1500
#: Distinct span colours in the template (``.m0`` ... ``.m7``); spans beyond reuse them in turn.
COLOURS = 8
#: What a spreadsheet would take for a formula at the start of a cell.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(text: str) -> str:
    """A name as a CSV cell that a spreadsheet shows as text, never runs as a formula."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def _ranges(ranges: Sequence[tuple[int, int]]) -> str:
    """Line ranges as ``12-18;30-31`` (a single line as ``12``)."""
    return ";".join(f"{lo}" if lo == hi else f"{lo}-{hi}" for lo, hi in ranges)


def similarity_csv(report: SimilarityReport) -> str:
    """The pairs as CSV: ``a,b,score,shared,flagged,a_lines,b_lines``, in the report's order (best first)."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["a", "b", "score", "shared", "flagged", "a_lines", "b_lines"])
    for p in report.pairs:
        w.writerow(
            [
                _cell(p.a),
                _cell(p.b),
                f"{p.score:.3f}",
                p.shared,
                "yes" if p.flagged else "no",
                _ranges([s.a_lines for s in p.spans]),
                _ranges([s.b_lines for s in p.spans]),
            ]
        )
    return buf.getvalue()


def _printable(text: str) -> str:
    """Text that encodes as UTF-8 (a source read with ``surrogateescape`` may hold lone surrogates)."""
    return text.encode("utf-8", "replace").decode("utf-8")


def _side(text: str | None, ranges: Sequence[tuple[int, int]]) -> dict[str, Any]:
    """One source's lines for the side-by-side view, each with the colour of the span it is in (or None)."""
    if text is None:
        return {"lines": [], "cut": 0, "missing": True}
    lines = _printable(text).splitlines()
    shown = []
    for number, line in enumerate(lines[:MAX_LINES], start=1):
        colour = next((i % COLOURS for i, (lo, hi) in enumerate(ranges) if lo <= number <= hi), None)
        shown.append({"number": number, "text": line.expandtabs(4), "colour": colour})
    return {"lines": shown, "cut": max(len(lines) - MAX_LINES, 0), "missing": False}


def _spans(spans: Sequence[Span]) -> list[dict[str, Any]]:
    return [{"colour": i % COLOURS, "a": _ranges([s.a_lines]), "b": _ranges([s.b_lines])} for i, s in enumerate(spans)]


def _row(p: Pair, anchor: str | None) -> dict[str, Any]:
    return {
        "a": _printable(p.a),
        "b": _printable(p.b),
        "score": f"{p.score:.0%}",
        "shared": p.shared,
        "flagged": p.flagged,
        "a_lines": _ranges([s.a_lines for s in p.spans]),
        "b_lines": _ranges([s.b_lines for s in p.spans]),
        "anchor": anchor,
    }


def similarity_context(report: SimilarityReport, sources: Sequence[Source]) -> dict[str, Any]:
    """Render context: the pairs table, what was not compared, and the side-by-side views of flagged pairs."""
    texts = {s.name: s.text for s in sources}
    known = {s.name for s in sources if s.known}
    shown = [p for p in report.pairs if p.flagged][:SIDE_BY_SIDE]
    anchors = {id(p): f"pair-{i + 1}" for i, p in enumerate(shown)}
    flagged = sum(p.flagged for p in report.pairs)
    return {
        "threshold": f"{report.threshold:.0%}",
        "compared": len(sources) - len(report.skipped),
        "known": len(known),
        "seconds": f"{report.seconds:.2f}",
        "flagged": flagged,
        "rows": [_row(p, anchors.get(id(p))) for p in report.pairs],
        "skipped": [{"name": _printable(n), "why": _printable(w)} for n, w in sorted(report.skipped.items())],
        "views": [
            {
                "anchor": anchors[id(p)],
                "pair": _row(p, None),
                "a_known": p.a in known,
                "b_known": p.b in known,
                "spans": _spans(p.spans),
                "a": _side(texts.get(p.a), [s.a_lines for s in p.spans]),
                "b": _side(texts.get(p.b), [s.b_lines for s in p.spans]),
            }
            for p in shown
        ],
        "more_flagged": max(flagged - len(shown), 0),
    }


def render_similarity(report: SimilarityReport, sources: Sequence[Source]) -> str:
    """The similarity page as one self-contained HTML document."""
    return environment().get_template("similarity.html.j2").render(**similarity_context(report, sources))


def write_similarity(out: Path, report: SimilarityReport, sources: Sequence[Source]) -> tuple[Path, Path]:
    """Write ``out/similarity.csv`` and ``out/similarity.html``; return their paths (csv, html)."""
    csv_path = out / CSV_NAME
    html_path = out / HTML_NAME
    atomic_write(csv_path, similarity_csv(report))
    atomic_write(html_path, render_similarity(report, sources))
    return csv_path, html_path
