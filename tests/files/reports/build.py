"""Rebuild the older PDF fixtures that WeasyPrint makes: ``python tests/files/reports/build.py``.

These stand for a web page printed to PDF (WeasyPrint is a browser-like engine) and for
damaged PDFs; the reports students make with LaTeX, nbconvert, LibreOffice or pandoc are
built by those programs (``build_real.py``).

The PDFs are committed (tests read them as students hand them in); this script says
how each was made.  A tiny Markdown-to-HTML step (headings, paragraphs, fenced code)
is enough for these reports and adds no dependency.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from weasyprint import HTML

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
BASE = "@page { size: A4; margin: 18mm } body { font-family: 'DejaVu Serif'; font-size: 10pt } "
BASE += "pre { font-family: 'DejaVu Sans Mono'; font-size: 8.5pt; white-space: pre-wrap }"


def to_html(markdown: str) -> str:
    out, code = [], None
    for line in markdown.splitlines():
        if line.strip().startswith("```"):
            if code is None:
                code = []
            else:
                out.append("<pre>" + html.escape("\n".join(code)) + "</pre>")
                code = None
            continue
        if code is not None:
            code.append(line)
        elif line.startswith("#"):
            level = len(line) - len(line.lstrip("#"))
            out.append(f"<h{level}>{html.escape(line.lstrip('#').strip())}</h{level}>")
        elif line.strip():
            text = html.escape(line.strip())
            out.append("<p>" + re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", text) + "</p>")
    return "\n".join(out)


def build(markdown: Path, target: Path, css: str = "") -> None:
    HTML(string=f"<style>{BASE} {css}</style>{to_html(markdown.read_text())}").write_pdf(target)


def flattened_listing(source: Path) -> str:
    """Numbered code lines set as prose: every leading space collapses, so no indentation survives."""
    code = [line for line in source.read_text().splitlines() if not line.startswith('"""')]
    rows = "".join(f"<p class='c'>{i} {html.escape(line.strip())}</p>" for i, line in enumerate(code, start=1))
    css = ".c { font-family: 'DejaVu Sans Mono'; font-size: 8pt; margin: 0 }"
    return f"<style>{BASE} {css}</style><h2>Exercise 1.1</h2>{rows}<h2>Exercise 1.2</h2><p>loss = 0.1221</p>"


if __name__ == "__main__":
    # The seed report as a PDF is typeset by pdflatex from submissions/report-pdf.tex (real LaTeX, not
    # an imitation): see build_real.py, which rebuilds every fixture made by a student's own tool.
    build(HERE / "wrapped-lines.md", HERE / "wrapped-lines.pdf", "@page { size: A5 } pre { font-size: 8pt }")
    HTML(string=flattened_listing(ROOT / "submissions" / "correct.py")).write_pdf(HERE / "lost-indentation.pdf")
    HTML(string=f"<style>{BASE}</style><svg width='400' height='200'><rect width='300' height='100' fill='#888'/></svg>").write_pdf(HERE / "scanned.pdf")
