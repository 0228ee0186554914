"""``make bench``, pages: the CPU a feedback PDF costs, against a plain WeasyPrint page of the same text.

Both sides are counted the way a user spends them, in a fresh process, CPU of the
process and all its children (``getrusage``), for a class of N reports:

- labgrade: ``labgrade report OUT`` with its start-up, the review marks laid
  over the results, every feedback PDF and the class summary;
- the floor, *lines*: a fresh ``python`` that imports WeasyPrint and writes, for
  each report and for the summary, a plain one-page HTML holding the same
  visible text, each run of it (a check's message, a title, a caption) in an
  unstyled ``<div>`` of its own, in the report's font, DejaVu Sans, at 6 pt on A4
  so that it is one page (the summary's table takes two): the cheapest page that
  still shows the feedback as the lines it is;
- beside it, *paragraph*: the same program and text run together as one
  paragraph at 8 pt, the fewest boxes the characters can take.

Each figure is divided by N, so a small class carries its start-up, as it does
for the instructor who re-renders one tutorial group.  The commands run in
turn, A B C A B C, and the medians are compared.  The goal (issue 21) is at
most 1.5x the floor, at 16 reports and at 200.

Why the floor is the lines page: WeasyPrint's cost is per box, not per character.
The report's text as about 85 unstyled divs already costs about 1.8x the same
text as one paragraph, so no page that lists its checks line by line could come
within 1.5x of the paragraph; against the lines page, the ratio says what
labgrade's styling, pictures and fitting cost.
"""

from __future__ import annotations

import html
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from labgrade.harness.bench import LABGRADE


@dataclass(frozen=True)
class PageBench:
    """CPU seconds per report for ``labgrade report`` of N reports and for plain pages of the same text."""

    reports: int
    report_cpu_s: float
    lines_cpu_s: float  # the floor: the same text, one unstyled div per run of text
    paragraph_cpu_s: float  # the same text as one paragraph
    layouts: float  # mean layouts per feedback page (1 = fitted at the first try)

    @property
    def ratio(self) -> float:
        """How many floor pages one feedback page costs (the goal is at most 1.5)."""
        return self.report_cpu_s / self.lines_cpu_s

    @property
    def paragraph_ratio(self) -> float:
        """How many one-paragraph pages one feedback page costs."""
        return self.report_cpu_s / self.paragraph_cpu_s


class _Text(HTMLParser):
    """The visible text of a page: what a reader sees, without styles, titles or pictures."""

    HIDDEN = frozenset({"style", "svg", "title", "head"})

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.hidden += tag in self.HIDDEN

    def handle_endtag(self, tag: str) -> None:
        self.hidden -= tag in self.HIDDEN

    def handle_data(self, data: str) -> None:
        if not self.hidden and data.strip():
            self.parts.append(" ".join(data.split()))


def plain_page(page_html: str, lines: bool = False) -> str:
    """A plain one-page HTML holding the visible text of ``page_html``: one paragraph, or one div per run of text."""
    parser = _Text()
    parser.feed(page_html)
    # Lines at 6 pt, so that a report's 60-100 runs still fit one page (the summary's table, 140 runs, takes
    # two: one of N + 1 pages a little dearer for the floor).
    if lines:
        body, size = "".join(f"<div>{html.escape(part)}</div>" for part in parser.parts), 6
    else:
        body, size = f"<p>{html.escape(' '.join(parser.parts))}</p>", 8
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8"><style>@page { size: A4; margin: 12mm }'
        f' body {{ font: {size}pt "DejaVu Sans", sans-serif }}</style></head>'
        f"<body>{body}</body></html>"
    )


# The floor's program: a fresh interpreter, WeasyPrint imported, each plain page written to a PDF.
_FLOOR = """
import sys
from pathlib import Path
from weasyprint import HTML
for page in sorted(Path(sys.argv[1]).glob("*.html")):
    HTML(string=page.read_text(encoding="utf-8")).write_pdf(page.with_suffix(".pdf"))
"""


def _cpu_of(command: Sequence[str]) -> float:
    """CPU seconds (user + system) that ``command`` and all its children spent; a failed run raises."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:  # a time that failed measures nothing
        raise RuntimeError(f"bench: {command[-2:]} failed ({done.returncode}): {done.stderr[-500:]}")
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _class_of(out: Path, count: int, folder: Path) -> tuple[Path, Path, Path]:
    """The first ``count`` graded results of ``out`` as a class of their own, and its text's plain and lines pages."""
    from labgrade.harness.outputs.report import render_html
    from labgrade.harness.outputs.summary import summary_html

    graded, plain, lines = folder / "out", folder / "plain", folder / "lines"
    plain.mkdir(parents=True)
    lines.mkdir()
    pages = {}
    for path in sorted(out.glob("*/results.json"))[:count]:
        (graded / path.parent.name).mkdir(parents=True)
        shutil.copy(path, graded / path.parent.name / "results.json")
        pages[path.parent.name] = render_html(json.loads(path.read_text(encoding="utf-8")))
    pages["summary"] = summary_html(graded) or ""
    for name, page in pages.items():
        (plain / f"{name}.html").write_text(plain_page(page), encoding="utf-8")
        (lines / f"{name}.html").write_text(plain_page(page, lines=True), encoding="utf-8")
    (folder / "floor.py").write_text(_FLOOR, encoding="utf-8")
    return graded, plain, lines


def bench_pages(out: Path, counts: Sequence[int], log: Callable[[str], None], sample: int = 40) -> list[PageBench]:
    """``labgrade report`` of the first N results of ``out`` against its floor, for each N in ``counts``.

    Runs in turn, three times each (once at more than 50 reports, where a run is
    long and steady); the layouts per page are counted in this process on a
    sample of ``sample`` reports.
    """
    from labgrade.harness.outputs.report import render_pdf

    rows = []
    for count in counts:
        with tempfile.TemporaryDirectory(prefix="labgrade-bench-pages-") as tmp:
            graded, plain, lines = _class_of(out, count, Path(tmp))
            repeats = 1 if count > 50 else 3
            log(f"bench: labgrade report of {count} report(s) and its floors, {repeats} run(s) each, in turn")
            floor = [sys.executable, str(Path(tmp) / "floor.py")]
            runs: dict[str, list[float]] = {"report": [], "plain": [], "lines": []}
            for _ in range(repeats):
                runs["report"].append(_cpu_of([*LABGRADE, "report", str(graded)]))
                runs["plain"].append(_cpu_of([*floor, str(plain)]))
                runs["lines"].append(_cpu_of([*floor, str(lines)]))
            paths = sorted(graded.glob("*/results.json"))
            chosen = paths[:: max(1, len(paths) // sample)]
            layouts = sum(render_pdf(json.loads(p.read_text())).layouts for p in chosen) / len(chosen)
            per = {name: statistics.median(cpu) / count for name, cpu in runs.items()}
            rows.append(PageBench(count, per["report"], per["lines"], per["plain"], layouts))
    return rows


def format_pages(rows: list[PageBench]) -> str:
    """The page figures side by side, one row per class size."""
    lines = [
        "feedback PDFs: CPU per report, labgrade report OUT against plain pages of the same text (medians, in turn)",
        f"  {'N':>4} {'floor':>9} {'report':>9} {'ratio':>7} {'paragraph':>10} {'to it':>7} {'layouts':>8}",
    ]
    lines += [
        f"  {r.reports:>4} {1000 * r.lines_cpu_s:>6.0f} ms {1000 * r.report_cpu_s:>6.0f} ms {r.ratio:>6.2f}x"
        f" {1000 * r.paragraph_cpu_s:>7.0f} ms {r.paragraph_ratio:>6.2f}x {r.layouts:>8.2f}"
        for r in rows
    ]
    lines.append(
        "  floor: a fresh python importing WeasyPrint that writes each report's and the summary's visible text,"
        " each run of it an unstyled line, same font (goal <= 1.5x)"
    )
    lines.append("  paragraph: the same program and text as one paragraph (the fewest boxes it can take)")
    return "\n".join(lines)
