"""A PDF report's lines rebuilt from its glyphs' positions: lines, words, fonts, running heads.

The child (``pdftext``) sends each page's glyphs in the order the page draws them.
A line is a run of glyphs that moves right along one baseline: a glyph that goes
back to the left, or leaves the line's height, starts the next.  Drawing order keeps
what a reader sees together: two columns come one after the other, and a typeset
matrix arrives as its label, then its rows one line each, then what follows it (a
reading by height alone would merge the rows of matrices side by side).  Words are
spaced by the gaps between glyphs.  A font whose glyphs all have one advance is
monospace: that is how code is told from prose (``pdfcode``).  Running heads, feet
and page numbers are lines set apart at a page's top or bottom; they are dropped, so
a listing or a paragraph continues across the page break.
"""

from __future__ import annotations

import statistics
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from itertools import pairwise

from labgrade.harness.inputs.pdftext import PdfText


@dataclass(frozen=True)
class Glyph:
    """One drawn glyph: its text, box in points (origin bottom left), size and font."""

    text: str
    x0: float
    x1: float
    y0: float
    y1: float
    size: float
    font: str

    @property
    def middle(self) -> float:
        """The vertical middle of its box."""
        return (self.y0 + self.y1) / 2


@dataclass(frozen=True)
class PageLine:
    """One line of a page: its glyphs left to right, and its text with spaces where the gaps are."""

    page: int
    number: int
    glyphs: tuple[Glyph, ...]
    text: str

    @property
    def x0(self) -> float:
        """Where its first glyph starts."""
        return self.glyphs[0].x0

    @property
    def top(self) -> float:
        """Its highest point."""
        return max(g.y1 for g in self.glyphs)

    @property
    def bottom(self) -> float:
        """Its lowest point."""
        return min(g.y0 for g in self.glyphs)


@dataclass(frozen=True)
class Layout:
    """A PDF's body lines in reading order, its monospace fonts and its pages' sizes."""

    lines: tuple[PageLine, ...]
    mono: frozenset[str]
    page_sizes: tuple[tuple[float, float], ...]
    #: The width of a space glyph, by (font, rounded size), where the PDF draws spaces as glyphs.
    spaces: dict[tuple[str, float], float]


def _keeps(text: str) -> bool:
    """A glyph that carries text: not a space, not a private-use bracket piece, not an unmapped ``(cid:N)``."""
    if not text or text.isspace() or text.startswith("(cid:"):
        return False
    # Accents that math sets above a letter (the hat of \hat A) are drawn apart from it: not text.
    return not all(unicodedata.category(c) in ("Co", "Cn", "Cc", "Lm", "Mn") or c in _ACCENTS for c in text)


_ACCENTS = frozenset("\u02c6\u02dc\u00af\u02d9\u02c7\u00a8\u02d8\u00b4\u02da")


def monospace_fonts(glyphs: list[Glyph]) -> frozenset[str]:
    """Fonts whose glyphs (at least four different ones) all advance by the same fraction of their size."""
    widths: dict[str, dict[str, float]] = defaultdict(dict)
    for g in glyphs:
        if g.size > 0 and len(g.text) == 1:
            widths[g.font][g.text] = (g.x1 - g.x0) / g.size
    # Letters too: the digits of most fonts share one advance (tabular figures), so a gutter's font is not code's.
    return frozenset(
        font
        for font, seen in widths.items()
        if len(seen) >= 4 and any(c.isalpha() for c in seen) and max(seen.values()) - min(seen.values()) < 0.02
    )


def _breaks(line: list[Glyph], glyph: Glyph) -> bool:
    """Whether ``glyph`` starts a new line after ``line``: it goes back left, or leaves the line's height."""
    last = line[-1]
    if glyph.x0 < last.x1 - 0.35 * max(glyph.size, last.size):
        return True
    low = min(g.y0 for g in line if g.size >= 0.8 * last.size) if line else last.y0
    high = max(g.y1 for g in line if g.size >= 0.8 * last.size) if line else last.y1
    slack = 0.15 * last.size
    return not (low - slack <= glyph.middle <= high + slack)


def _text(glyphs: list[Glyph]) -> str:
    """The line's text: its drawn spaces as they are, and one space for a gap where none is drawn."""
    out = [glyphs[0].text]
    for before, glyph in pairwise(glyphs):
        gap = glyph.x0 - before.x1
        if gap > 0.18 * min(glyph.size, before.size) and not (before.text == " " or glyph.text == " "):
            out.append(" ")
        out.append(glyph.text)
    return "".join(out).rstrip()


def _running(lines: list[list[Glyph]]) -> set[int]:
    """The indices of a page's running head, foot or page number: short lines set apart at its top or bottom."""
    if len(lines) < 3:
        return set()
    tops = [max(g.y1 for g in line) for line in lines]
    bottoms = [min(g.y0 for g in line) for line in lines]
    order = sorted(range(len(lines)), key=lambda i: bottoms[i])
    steps = [tops[a] - bottoms[b] for a, b in pairwise(order)]
    typical = statistics.median([max(s, 0.0) for s in steps]) if steps else 0.0
    size = statistics.median(g.size for line in lines for g in line)
    dropped = set()
    for end, neighbour in ((order[0], order[1]), (order[-1], order[-2])):
        short = len(lines[end]) <= 40 and max(g.size for g in lines[end]) <= size * 1.05  # a title is larger
        apart = (bottoms[neighbour] - tops[end] if end == order[0] else bottoms[end] - tops[neighbour]) > max(
            2.0 * typical, 1.2 * size
        )
        if short and apart:
            dropped.add(end)
    return dropped


def _repeated(pages: list[list[list[Glyph]]], mono: frozenset[str]) -> list[set[int]]:
    """Each page's top or bottom lines that recur on another page at the same height (page numbers aside).

    A running head such as "COMP6248 Lab 1 ... Name" may be too long to count as
    short, but it is set in the same place on every page.  Code is never one: two
    listings may each end a page with the same ``return U, V``.
    """

    def key(line: list[Glyph]) -> tuple[str, int]:
        text = "".join("#" if g.text.isdigit() else g.text for g in line if g.text != " ")
        return text, round(min(g.y0 for g in line))

    ends: list[dict[tuple[str, int], int]] = []
    for lines in pages:
        order = sorted(range(len(lines)), key=lambda i: min(g.y0 for g in lines[i]))
        picked = order[:2] + order[-2:] if len(order) > 4 else []
        ends.append({key(lines[i]): i for i in picked if not any(g.font in mono for g in lines[i])})
    seen: dict[tuple[str, int], int] = defaultdict(int)
    for found in ends:
        for k in found:
            seen[k] += 1
    return [{i for k, i in found.items() if seen[k] >= 2} for found in ends]


def layout(pdf: PdfText) -> Layout:
    """The report's body lines (running heads and feet dropped), page by page, in drawing order."""
    pages: list[list[Glyph]] = []
    spaces: dict[tuple[str, float], float] = {}
    for page in pdf.pages:
        glyphs = []
        for text, x0, x1, y0, y1, size, font in page.glyphs:
            name = pdf.fonts[font] if 0 <= font < len(pdf.fonts) else "?"
            if text == " " and x1 > x0:
                spaces.setdefault((name, round(size, 1)), x1 - x0)
            # A space the PDF draws (Word, LibreOffice) is kept: it is the text's own, leading ones too.
            if (_keeps(text) or (text == " " and x1 > x0)) and x1 >= x0:
                glyphs.append(Glyph(text, x0, x1, y0, y1, size, name))
        pages.append(glyphs)
    mono = monospace_fonts([g for page in pages for g in page if g.text != " "])
    out: list[PageLine] = []
    paged: list[list[list[Glyph]]] = []
    for glyphs in pages:
        lines: list[list[Glyph]] = []
        for glyph in glyphs:
            if lines and not _breaks(lines[-1], glyph):
                lines[-1].append(glyph)
            else:
                lines.append([glyph])
        paged.append([line for line in lines if any(g.text != " " for g in line)])
    for number, (lines, again) in enumerate(zip(paged, _repeated(paged, mono), strict=True), start=1):
        drop = _running(lines) | again
        kept = [line for i, line in enumerate(lines) if i not in drop]
        out += [PageLine(number, i, tuple(line), _text(line)) for i, line in enumerate(kept, start=1)]
    sizes = tuple((page.width, page.height) for page in pdf.pages)
    return Layout(tuple(out), mono, sizes, spaces)
