"""The glyphs of a PDF report, page by page, extracted in a child process with limits.

A report is untrusted input, and a PDF parser meets compression bombs, reference
loops and 500-page files.  So the parent never parses one itself: it runs
``python -m labgrade.harness.inputs.pdftext FILE`` under CPU, memory and wall-clock limits,
and reads back JSON: each page's size and its glyphs in the order the page draws
them, each with its box, size and font.  The parent rebuilds lines, indentation and
listings from those positions (``pdflayout``, ``pdfcode``), never from the spaces a
text extractor guesses.  Anything that goes wrong is that submission's problem, said
in one line.

Why pdfminer.six (README, "Reports", has the comparison's figures): it gives every
glyph in drawing order with its box, font name and size, and the box spans the
glyph's advance (the font's own width), so a monospace font is told by its equal
advances and a line's indentation is measured in them.  It is pure Python, so a
hostile PDF meets a memory-safe parser, and a failure is an exception, not a crash.
pypdfium2 was about 4x faster on the seed report (0.07 s against 0.31 s) but its
boxes are the glyphs' ink, and a font needs one more call per glyph; pypdf's visitor
gives text runs (492 on the seed report, for 2,559 glyphs), not glyphs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from labgrade.harness import import_root

if TYPE_CHECKING:
    from pdfminer.layout import LTPage

#: Pages read from a report (a lab report has a few); the rest are left out, and said so.
MAX_PAGES = 40
#: Largest PDF read at all.
MAX_PDF_BYTES = 20 << 20
_CPU_S = 30
_MEMORY_BYTES = 1 << 30
_WALL_S = 60.0


#: One glyph as the child sends it: text, x0, x1, y0, y1 (points, origin bottom left), size, font index.
RawGlyph = tuple[str, float, float, float, float, float, int]


@dataclass(frozen=True)
class PdfPage:
    """One page: its size in points and its glyphs in drawing order."""

    width: float
    height: float
    glyphs: tuple[RawGlyph, ...]


@dataclass(frozen=True)
class PdfText:
    """What a PDF holds: its pages' glyphs and font names; or why nothing could be read."""

    pages: tuple[PdfPage, ...] = ()
    fonts: tuple[str, ...] = ()
    total_pages: int = 0
    problem: str | None = None


def read_pdf(path: Path) -> PdfText:
    """Extract the text of ``path`` in a limited child process (never raises for the file's faults)."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        return PdfText(problem=f"{path.name}: could not be read ({exc.strerror or type(exc).__name__})")
    if size > MAX_PDF_BYTES:
        return PdfText(problem=f"{path.name} is larger than {MAX_PDF_BYTES >> 20} MiB")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "PYTHONPATH": import_root()}
    try:
        done = subprocess.run(
            [sys.executable, "-m", "labgrade.harness.inputs.pdftext", str(path.resolve())],
            capture_output=True,
            timeout=_WALL_S,
            env=env,
            preexec_fn=_limit,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return PdfText(problem=f"{path.name}: reading its text took longer than {_WALL_S:g} s (stopped)")
    try:
        body = json.loads(done.stdout.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        why = "ran out of memory or time" if done.returncode < 0 else f"exit status {done.returncode}"
        return PdfText(problem=f"{path.name}: not a readable PDF (the reader {why})")
    if body.get("problem"):
        return PdfText(problem=f"{path.name}: {str(body['problem'])[:200]}")
    try:
        pages = tuple(
            PdfPage(float(w), float(h), tuple((str(g[0]), *map(float, g[1:6]), int(g[6])) for g in glyphs))  # type: ignore[misc]
            for w, h, glyphs in body["pages"]
        )
        return PdfText(pages, tuple(str(f) for f in body["fonts"]), int(body["total_pages"]))
    except (KeyError, TypeError, ValueError, IndexError):
        return PdfText(problem=f"{path.name}: not a readable PDF (the reader's answer was malformed)")


def _limit() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_CPU, (_CPU_S, _CPU_S))
    resource.setrlimit(resource.RLIMIT_AS, (_MEMORY_BYTES, _MEMORY_BYTES))


def _extract(path: str) -> dict[str, object]:
    import logging

    from pdfminer.layout import LTChar
    from pdfminer.pdfpage import PDFPage

    logging.disable(logging.WARNING)  # pdfminer warns about every oddity of a damaged file
    fonts: dict[str, int] = {}
    pages: list[object] = []
    try:
        with open(path, "rb") as f:
            total = sum(1 for _ in PDFPage.get_pages(f))
            f.seek(0)
            for number, page in enumerate(PDFPage.get_pages(f)):
                if number >= MAX_PAGES:
                    break
                layout: LTPage = _render(page)
                glyphs = [
                    (
                        obj.get_text(),
                        round(obj.x0, 2),
                        round(obj.x1, 2),
                        round(obj.y0, 2),
                        round(obj.y1, 2),
                        round(obj.size, 2),
                        fonts.setdefault(obj.fontname, len(fonts)),
                    )
                    for obj in layout
                    if isinstance(obj, LTChar)
                ]
                pages.append((round(layout.width, 2), round(layout.height, 2), glyphs))
    except Exception as exc:  # any parser failure is the file's, said in one line
        return {"problem": f"not a readable PDF ({type(exc).__name__}: {str(exc)[:120]})"}
    return {"pages": pages, "fonts": list(fonts), "total_pages": total}


def _render(page: object) -> LTPage:
    """The page's objects as pdfminer lays them out with no analysis: glyphs in drawing order."""
    from pdfminer.converter import PDFPageAggregator
    from pdfminer.pdfinterp import PDFPageInterpreter, PDFResourceManager

    resources = PDFResourceManager()
    device = PDFPageAggregator(resources, laparams=None)
    PDFPageInterpreter(resources, device).process_page(page)  # type: ignore[arg-type]
    return device.get_result()


if __name__ == "__main__":
    sys.stdout.write(json.dumps(_extract(sys.argv[1])))
