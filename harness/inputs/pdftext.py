"""The text of a PDF report, page by page, extracted in a child process with limits.

A report is untrusted input, and a PDF parser meets compression bombs, reference
loops and 500-page files.  So the parent never parses one itself: it runs
``python -m harness.inputs.pdftext FILE`` under CPU, memory and wall-clock limits,
and reads back JSON (the text of each page, twice: pypdf's plain mode, which keeps
a listing's own spaces and reads two columns one after the other, and its layout
mode, which rebuilds indentation from the glyphs' positions when a PDF has no space
characters).  Anything that goes wrong is that submission's problem, said in one line.

Why pypdf (README, "Reports"): compared on reports rendered from LaTeX-like layouts,
pdfplumber's layout text squeezes monospace indentation by the page's average
character width (9 spaces became 6) and mixes two columns on one line; pypdf's plain
text kept every listing's indentation and the columns' order, it is pure Python, and
it was already a dependency.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

#: Pages read from a report (a lab report has a few); the rest are left out, and said so.
MAX_PAGES = 40
#: Largest PDF read at all.
MAX_PDF_BYTES = 20 << 20
_CPU_S = 30
_MEMORY_BYTES = 1 << 30
_WALL_S = 60.0


@dataclass(frozen=True)
class PdfText:
    """What a PDF holds as text: per page, plain and layout text; or why nothing could be read."""

    plain: tuple[str, ...] = ()
    layout: tuple[str, ...] = ()
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
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "PYTHONPATH": _PROJECT}
    try:
        done = subprocess.run(
            [sys.executable, "-m", "harness.inputs.pdftext", str(path.resolve())],
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
    return PdfText(tuple(body["plain"]), tuple(body["layout"]), int(body["total_pages"]))


_PROJECT = str(Path(__file__).resolve().parents[2])


def _limit() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_CPU, (_CPU_S, _CPU_S))
    resource.setrlimit(resource.RLIMIT_AS, (_MEMORY_BYTES, _MEMORY_BYTES))


def _extract(path: str) -> dict[str, object]:
    import logging

    from pypdf import PdfReader

    logging.disable(logging.WARNING)  # pypdf warns about every oddity of a damaged file
    try:
        reader = PdfReader(path)
        pages = reader.pages
        total = len(pages)
        plain, layout = [], []
        for page in list(pages)[:MAX_PAGES]:
            plain.append(page.extract_text() or "")
            layout.append(page.extract_text(extraction_mode="layout") or "")
    except Exception as exc:  # any parser failure is the file's, said in one line
        return {"problem": f"not a readable PDF ({type(exc).__name__}: {str(exc)[:120]})"}
    return {"plain": plain, "layout": layout, "total_pages": total}


if __name__ == "__main__":
    sys.stdout.write(json.dumps(_extract(sys.argv[1])))
