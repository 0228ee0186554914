"""How tall a feedback page will be, before WeasyPrint lays it out: so a page costs one layout.

Why: laying a page out is most of what a feedback PDF costs, and a page that
spills over has to be laid out again at a shorter fit.  Choosing the fit from a
prediction precise enough to be right the first time makes that second layout
rare.  The prediction wraps every block of text the way the page will: the
real advance widths of the page's own font (the compact faces of
:mod:`labgrade.harness.outputs.fonts`, regular and bold), the widths and font
sizes of ``templates/report.css``, line height ``normal`` (DejaVu Sans's
ascent plus descent, 1.164 em), and the paddings and margins in millimetres.
Where no compact face can be read, a character is taken as 0.55 em wide.

The layout still decides: :func:`labgrade.harness.outputs.onepage.one_page_pdf`
measures the page it laid out, and a page that spills goes to a shorter fit.
The prediction only has to be close; ``tests/test_report.py`` holds it within a
few per cent of WeasyPrint's own heights on real pages.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

PT = 0.3528  # millimetres in a point
PX = 0.2646  # millimetres in a CSS pixel (SVG user units)
LINE = 1.164  # line-height: normal for DejaVu Sans, in em: (ascent + descent) / units per em
DEFAULT_ADVANCE = 0.55  # em, when no font file can be read
# The page's geometry, from templates/report.css (millimetres).
BODY = 184.0 - 15.0 - 17.0  # a question's body column: the page width less the qid and marks columns
KIND = 23.0  # a check line's kind column (and a hint's indent)
BOX = 3.0 + 0.7  # a coloured box's side paddings and its 2 pt left border


@lru_cache(maxsize=1)
def _advances() -> tuple[Mapping[int, float], Mapping[int, float]]:
    """Advance widths in em of the regular and bold compact faces, by code point (empty if unreadable)."""
    try:
        from fontTools.ttLib import TTFont

        from labgrade.harness.outputs.fonts import compact_files

        faces = []
        for path in compact_files():
            if path is None:
                return {}, {}
            font = TTFont(path, lazy=True)
            scale = 1.0 / font["head"].unitsPerEm
            metrics = font["hmtx"].metrics
            faces.append({c: metrics[g][0] * scale for c, g in font.getBestCmap().items()})
        return faces[0], faces[1]
    except Exception:  # any failure: the plain average width
        return {}, {}


def text_width(text: str, size_pt: float, bold: bool = False, spacing_em: float = 0.0) -> float:
    """The width of ``text`` in millimetres at ``size_pt``, in the page's regular or bold face."""
    advances = _advances()[1 if bold else 0]
    return sum(advances.get(ord(c), DEFAULT_ADVANCE) + spacing_em for c in text) * size_pt * PT


def line_count(
    text: str, width_mm: float, size_pt: float, bold: bool = False, first_mm: float = 0.0, spacing_em: float = 0.0
) -> int:
    """How many lines ``text`` takes in a column ``width_mm`` wide (greedy wrapping at spaces).

    ``first_mm`` is taken from the first line (an inline label before the text).  A
    word wider than the column breaks anywhere (the page's ``overflow-wrap: anywhere``).
    """
    if not text:
        return 0
    space = text_width(" ", size_pt, bold, spacing_em)
    lines, used = 1, first_mm
    for word in text.split(" "):
        width = text_width(word, size_pt, bold, spacing_em)
        if used and used + space + width > width_mm:
            lines, used = lines + 1, 0.0
        elif used:
            used += space
        while width > width_mm:  # a long word fills whole lines
            lines, width = lines + 1, width - width_mm
        used += width
    return lines


def _block(text: str, width_mm: float, size_pt: float, bold: bool = False, first_mm: float = 0.0) -> float:
    return line_count(text, width_mm, size_pt, bold, first_mm) * size_pt * LINE * PT


def _plot_mm(plot: dict[str, Any] | None, font_pt: float) -> float:
    """A picture: its SVG strips (heights in CSS pixels) and the caption under them."""
    if not plot:
        return 0.0
    if plot.get("kind") == "strip":
        strip = plot["strip"]
        caption = f"{strip.title}; shaded: the grading band; red line: the Eckart-Young optimum"
        return 1.1 + float(strip.height) * PX + 1.3 + _block(caption, BODY, 0.75 * font_pt)
    rows = plot.get("rows", [])
    strips = sum(max((cell.height for cell in row), default=0.0) * PX + 1.3 for row in rows)
    return 1.1 + strips + _block(str(plot.get("title", "")), BODY, 0.75 * font_pt)


def _title_lines(title: str, arithmetic: str, pt: float) -> int:
    """A question's bold title followed, on the same line, by its mark's arithmetic in small type."""
    lines = line_count(title, BODY, pt, bold=True)
    if not arithmetic:
        return lines
    last = text_width(title, pt, bold=True) % BODY if lines == 1 else BODY / 2  # where the title ends
    arithmetic = "mark: " + arithmetic
    return lines - 1 + line_count(arithmetic, BODY, 0.72 * pt, first_mm=last + 2.0, spacing_em=0.02)


def _question_mm(q: dict[str, Any], pt: float) -> float:
    """One question row: its body column (title, headline, flags, lines, hints, picture, review, free text)."""
    height = _title_lines(q["title"], q["arithmetic"], pt) * pt * LINE * PT + 0.5
    if q["headline"]:
        height += _block(q["headline"], BODY - BOX, pt, bold=True) + 1.2 + 1.1
    for f in q["flags"]:
        height += _block(f"Flagged for review ({f['kind']}): {f['evidence']}", BODY - BOX, pt) + 1.0 + 0.3
    for line in q["lines"]:
        height += _block(line["message"], BODY - KIND, pt) + 0.3
        if line["hint"]:
            height += _block("Hint: " + line["hint"], BODY - KIND - BOX, pt, bold=True) + 1.2 + 0.8
    height += sum(_block("… more", BODY, 0.85 * pt) for key in ("more", "hidden") if q[key])
    height += _plot_mm(q["plot"], pt)
    height += sum(_block("Marked by hand: " + t, BODY, 0.85 * pt) for t in q["free_text"])
    review = q["review"]
    if review:
        where = review.get("where") or "no answer text was found"
        height += _block(f"{review['points']} by a grader: pending (your answer: {where})", BODY, 0.85 * pt)
        height += sum(_block(e, BODY - KIND, pt) + 0.3 for e in review.get("explanations", []))
        if review.get("comment"):
            height += _block("Grader's comment: " + review["comment"], BODY - KIND - BOX, pt, bold=True) + 2.0
    return max(height, 1.2 * pt * LINE * PT) + 2.4 + 0.2


def estimated_height(context: dict[str, Any]) -> float:
    """The height in millimetres of the content of the page ``context`` describes (header to last question)."""
    pt = float(context["fit"].font_pt)
    heading = 184.0 - 48.0
    height = _block(context["lab_title"], heading, 0.95 * pt) + _block(context["name"], heading, 1.8 * pt, True)
    height += 1.2 + _block(f"graded {context['graded_at']} · {context['source']}", heading, 0.85 * pt)
    height = max(height, 3.2 * pt * LINE * PT) + 2.0 + 0.7 + 2.0
    if context["provenance"].get("unconfined"):
        height += _block("Graded unconfined: this machine could not sandbox student code.", 184.0 - 4.5, pt) + 4.5
    if context["flag_count"]:
        height += (
            _block(
                "0 flag(s) for a human to review: evidence under the question(s) below. A flag is not a "
                "penalty unless the lab's policy says so in the mark.",
                184.0 - BOX,
                0.85 * pt,
            )
            + 2.5
        )
        for f in context["report_flags"]:
            height += _block(f"Flagged for review ({f['kind']}): {f['evidence']}", 184.0 - BOX, pt) + 1.3
    notes = list(context["notes"]) + (["… and more"] if context["more_notes"] else [])
    if notes:
        height += sum(_block(n, 184.0 - 4.0, 0.85 * pt) for n in notes) + 2.0
    return height + sum(_question_mm(q, pt) for q in context["questions"])
