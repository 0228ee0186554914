"""``make bench``, pages: the CPU a feedback PDF costs, against a plain WeasyPrint page of the same text.

The candidate is counted the way a user spends it: ``labgrade report OUT`` in a
fresh process, with its worker start-up, every feedback PDF and the class
summary, divided by the number of reports (CPU of the process and all its
children, from ``getrusage``).  The baseline is what WeasyPrint needs for a
plain one-page HTML holding the same visible text (each report's text as one
paragraph, in the report's font, DejaVu Sans, at 8 pt on A4 so that it is one
page: WeasyPrint's default serif at 12 pt spills some reports onto a second
page, and costs more), rendered warm in this process.  The goal (issue 13) is a
ratio of at most 1.5.
"""

from __future__ import annotations

import html
import json
import resource
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from labgrade.harness.bench import LABGRADE


@dataclass(frozen=True)
class PageBench:
    """CPU seconds per report for ``labgrade report`` and for a plain page, over the same reports."""

    reports: int
    report_cpu_s: float
    plain_cpu_s: float
    layouts: float  # mean layouts per feedback page (1 = fitted at the first try)

    @property
    def ratio(self) -> float:
        """How many plain pages one feedback page costs (the goal is at most 1.5)."""
        return self.report_cpu_s / self.plain_cpu_s


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


def plain_page(page_html: str) -> str:
    """A plain one-page HTML holding the visible text of ``page_html``, as one paragraph."""
    parser = _Text()
    parser.feed(page_html)
    body = html.escape(" ".join(parser.parts))
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8"><style>@page { size: A4; margin: 12mm }'
        ' body { font: 8pt "DejaVu Sans", sans-serif }</style></head>'
        f"<body><p>{body}</p></body></html>"
    )


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def bench_pages(out: Path, log: Callable[[str], None], sample: int = 40) -> PageBench:
    """Time ``labgrade report out`` (all of it) and plain pages of the same text (a sample of ``sample`` reports)."""
    from weasyprint import HTML

    from labgrade.harness.outputs.report import render_html, render_pdf

    paths = sorted(out.glob("*/results.json"))
    log(f"bench: labgrade report on {len(paths)} results (a fresh process, all cores)")
    before = _children_cpu()
    command = [*LABGRADE, "report", str(out)]
    subprocess.run(command, check=True, capture_output=True)
    report_cpu = (_children_cpu() - before) / len(paths)
    step = max(1, len(paths) // sample)
    chosen = [json.loads(p.read_text()) for p in paths[::step]]
    plains = [plain_page(render_html(results)) for results in chosen]
    HTML(string=plains[0]).write_pdf()  # warm: WeasyPrint's first page loads fonts and its stylesheets
    log(f"bench: {len(plains)} plain WeasyPrint pages of the same text, warm")
    started = time.process_time()
    for page in plains:
        HTML(string=page).write_pdf()
    plain_cpu = (time.process_time() - started) / len(plains)
    spilled = sum(len(HTML(string=page).render().pages) > 1 for page in plains)
    if spilled:
        log(f"bench: {spilled} plain page(s) of {len(plains)} spill onto a second page")
    layouts = sum(render_pdf(results).layouts for results in chosen) / len(chosen)
    return PageBench(len(paths), report_cpu, plain_cpu, layouts)


def format_pages(row: PageBench) -> str:
    """The page figures side by side, in one table."""
    return "\n".join(
        [
            f"feedback PDFs: CPU per report, labgrade report OUT ({row.reports} reports) vs a plain page, same text",
            f"  plain WeasyPrint page (one paragraph, same font)     {1000 * row.plain_cpu_s:6.0f} ms",
            f"  labgrade report (start-up, pages, summary; all CPUs)  {1000 * row.report_cpu_s:6.0f} ms"
            f"   ({row.layouts:.2f} layouts a page)",
            f"  ratio                                                {row.ratio:6.2f}x   (goal <= 1.5x)",
        ]
    )
