"""Code listings in a PDF, read from the glyphs' positions: gutter, columns, wrapped lines, page breaks.

A listing is a run of lines set in a monospace font (``pdflayout`` tells those by
their glyphs' equal advances).  Each line may start with a line number in a gutter
(digits set apart to the left of the code: LaTeX ``listings`` and ``minted``), or a
notebook's ``In [3]:`` prompt.  A line's indentation is the x of its first code
glyph minus the listing's left edge, in the listing's column pitch; the pitch is
found from the lines' starts (``columns=fixed`` sets glyphs on a grid wider than
their advance; ``flexible`` sets them at their advance).  Where the starts do not
sit on one grid, the listing is reported as such and never guessed.

A run ends at prose, at a gap taller than its line spacing (a notebook's next cell),
or where its numbering starts again.  Running heads and page numbers are already
gone, so a listing continues over a page break, its numbering with it.  A line with
no number between numbered ones is a wrapped line (``breaklines``): it is joined to
the one before, without the arrow glyph drawn at its start.  In a notebook PDF, only
input cells (those with an ``In [n]:`` prompt) are code: their outputs never are.
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass
from itertools import pairwise

from labgrade.harness.inputs.listings import Listing, compiles, indentation_lost, looks_like_code
from labgrade.harness.inputs.pdflayout import Glyph, Layout, PageLine

#: Drawn at the start of a wrapped line by listings' and fvextra's ``breaklines`` (postbreak / breaksymbol).
_ARROWS = frozenset("↪→↳⤷⟶↩⏎⤶⇢➥➦←-")
#: A notebook's prompt: ``In [3]:`` (nbconvert 6) or ``[3]:`` (nbconvert 7, inputs and results alike).
_PROMPT = re.compile(r"^(In|Out)?\s*\[\s*[\d*]*\s*\]:$")
#: Largest miss of a line's start from the column grid, in columns, that still counts as on it.
_ON_GRID = 0.3


@dataclass(frozen=True)
class _CodeLine:
    """A line of a listing: its gutter number or prompt, and its code glyphs."""

    line: PageLine
    number: int | None
    prompt: str | None
    glyphs: tuple[Glyph, ...]
    gutter_right: float | None


def _split_gutter(line: PageLine, mono: frozenset[str]) -> _CodeLine | None:
    """The line as code (number or prompt split off), or ``None`` if it is not set in a monospace font."""
    glyphs = [g for g in line.glyphs if g.text != " "]  # positions, not drawn spaces, give the columns
    if not glyphs:
        return None
    number, prompt, right = None, None, None
    digits = 0
    while digits < len(glyphs) and glyphs[digits].text.isdigit():
        digits += 1
    if digits == len(glyphs) and digits <= 4 and glyphs[0].font not in mono:
        return None  # a number alone in a text font: a formula's exponent, a footnote mark
    if digits == len(glyphs) and digits <= 4:  # a numbered blank line of a listing
        return _CodeLine(line, int("".join(g.text for g in glyphs)), None, (), glyphs[-1].x1)
    if 0 < digits < len(glyphs) and digits <= 4:
        head, rest = glyphs[:digits], glyphs[digits:]
        gap = rest[0].x0 - head[-1].x1
        apart = gap >= 0.5 * rest[0].size or head[-1].font not in mono or head[-1].size < 0.9 * rest[0].size
        if apart and rest[0].font in mono:
            number, right, glyphs = int("".join(g.text for g in head)), head[-1].x1, rest
    for end in range(1, min(len(glyphs), 12)):
        words = "".join(g.text for g in glyphs[:end])
        if _PROMPT.match(words.replace(" ", "")) and glyphs[end].x0 - glyphs[end - 1].x1 >= 0.3 * glyphs[end].size:
            prompt, right, glyphs = words.split("[")[0].strip() or "In", glyphs[end - 1].x1, glyphs[end:]
            break
    code = [g for g in glyphs if g.font in mono]
    # A wrapped line's arrow is drawn in a math font: still code when the rest is.
    arrow = len(glyphs) > 1 and glyphs[0].text in _ARROWS and all(g.font in mono for g in glyphs[1:])
    if (not code or len(code) < 0.8 * len(glyphs)) and not arrow:
        return None
    return _CodeLine(line, number, prompt, tuple(glyphs), right)


def _runs(layout: Layout) -> list[list[_CodeLine]]:
    """Consecutive code lines, split at prose, at a tall gap on a page, and where numbering starts again."""
    runs: list[list[_CodeLine]] = []
    current: list[_CodeLine] = []
    for line in layout.lines:
        code = _split_gutter(line, layout.mono)
        if code is None:
            if current:
                runs.append(current)
            current = []
            continue
        if current and _starts_anew(current, code):
            runs.append(current)
            current = []
        current.append(code)
    if current:
        runs.append(current)
    return runs


def _starts_anew(run: list[_CodeLine], code: _CodeLine) -> bool:
    last = run[-1]
    if code.prompt is not None:
        return True
    if code.number == 1 and any(c.number is not None for c in run):
        return True
    if code.line.page != last.line.page:
        return False
    steps = [a.line.bottom - b.line.bottom for a, b in pairwise(run) if a.line.page == b.line.page]
    size = max(g.size for g in code.line.glyphs)  # the code's, not a small gutter's
    step = statistics.median(steps) if steps else 1.25 * size
    return last.line.bottom - code.line.bottom > 1.6 * max(step, 0.8 * size)


def _join_wrapped(run: list[_CodeLine]) -> list[list[Glyph]]:
    """Each numbered line's glyphs, with the unnumbered lines that wrap it appended (arrows dropped)."""
    numbered = any(c.number is not None for c in run)
    out: list[list[Glyph]] = []
    for code in run:
        glyphs = list(code.glyphs)
        if not glyphs:
            out.append([])
            continue
        wrapped = glyphs[0].text in _ARROWS and len(glyphs) > 1
        if wrapped:
            glyphs = glyphs[1:]
        if out and ((numbered and code.number is None) or (not numbered and wrapped)):
            out[-1] = out[-1] + [_Gap(out[-1][-1])] + glyphs
            continue
        out.append(glyphs)
    return out


def _Gap(after: Glyph) -> Glyph:
    return Glyph(" ", after.x1, after.x1, after.y0, after.y1, after.size, "")


def _pitch(starts: list[float], advance: float, steps: list[float]) -> tuple[float, float]:
    """The column pitch that puts the lines' starts on one grid, and the largest miss (in columns).

    ``steps`` are the distances between neighbouring glyphs of a line: their median is
    the pitch (a fixed grid is wider than the advance), refined within 5% so that the
    lines' starts fit.  A wider pitch alone could fit starts that are all multiples of 4
    columns (4/3 of the true one does), so the glyphs, not the starts, choose it.
    """
    left = min(starts)
    offsets = [s - left for s in starts]
    near = [d for d in steps if 0.9 * advance <= d <= 1.45 * advance]
    base = statistics.median(near) if near else advance
    best = (base, max(abs(o / base - round(o / base)) for o in offsets))
    for step in range(-25, 26):
        pitch = base * (1 + step * 0.002)
        miss = max(abs(o / pitch - round(o / pitch)) for o in offsets)
        if miss < best[1] - 0.02:
            best = (pitch, miss)
    return best


def _code(run: list[_CodeLine]) -> tuple[str, str | None]:
    """The run's code as text (indentation rebuilt), or why its indentation cannot be trusted."""
    lines = _join_wrapped(run)
    first = [code for code in run if not (any(c.number is not None for c in run) and code.number is None)]
    rights = [c.gutter_right for c in first]
    # Starts measured from each line's gutter where there is one (it is right-aligned with the code's edge),
    # else from the page: a listing's part on the next page has its own gutter.
    starts = [g[0].x0 - (r if r is not None else 0.0) for g, r in zip(lines, rights, strict=False) if g]
    advance = statistics.median(g.x1 - g.x0 for line in lines for g in line if g.font)
    steps = [b.x0 - a.x0 for line in lines for a, b in pairwise(line) if a.font and b.font]
    pitch, miss = _pitch(starts, advance, steps) if starts else (advance, 0.0)
    left = min(starts) if starts else 0.0
    text = []
    for glyphs, right in zip(lines, rights, strict=False):
        origin = (right or 0.0) + left
        column, out = 0, []
        for glyph in glyphs:
            if not glyph.font:  # where a wrapped line was joined
                out.append(" ")
                column += 1
                continue
            at = max(column, round((glyph.x0 - origin) / pitch))
            out.append(" " * (at - column) + glyph.text.replace("␣", " "))  # a visible space (showspaces)
            column = at + len(glyph.text)
        text.append("".join(out).rstrip())
    code = "\n".join(text) + "\n"
    problem = None
    if miss > _ON_GRID:
        problem = "its indentation could not be recovered (the lines' starts sit on no column grid)"
    elif indentation_lost(code) and not compiles(code):
        problem = "its indentation could not be recovered (every line starts at the left edge)"
    return code, problem


def pdf_code_listings(layout: Layout) -> list[Listing]:
    """Every listing of Python in the PDF, with where it starts and whether its indentation held."""
    runs = _runs(layout)
    notebook = any(run[0].prompt == "In" for run in runs)
    out = []
    for run in runs:
        if notebook and run[0].prompt != "In":
            continue  # a cell's output: printed text, never the student's code
        code, problem = _code(run)
        if not looks_like_code(code):
            continue
        first = run[0].line
        out.append(Listing(code, first.page, first.number, problem))
    return out
