"""Render feedback PDFs: results.json -> context -> HTML (Jinja2) -> one A4 page (WeasyPrint).

Safety: the Jinja2 environment autoescapes, so a student's message can never
become markup; and WeasyPrint gets a URL fetcher that refuses every URL except
the project's own template assets, so even markup that got in could not load
``file:///etc/passwd`` or a remote image.

One page, always: the page is rendered at the most generous fit, and while it
spans more than one page the text is shortened (:data:`FITS`); a page that is
still too long after the last fit keeps its first page, which holds the header,
the total and the first questions.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from jinja2 import Environment, FileSystemLoader, select_autoescape
from weasyprint.urls import URLFetcher, URLFetcherResponse, URLFetchingError

from harness.atomic import atomic_write
from harness.errors import UserError
from harness.inputs.assets import shipped_dir
from harness.outputs.context import FITS, report_context

TEMPLATES = shipped_dir("templates")


def environment() -> Environment:
    """The Jinja2 environment for reports, autoescaping HTML."""
    return Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html", "j2", "xml"], default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )


class AssetFetcher(URLFetcher):  # type: ignore[misc]
    """A WeasyPrint URL fetcher that serves only files inside the templates folder.

    Everything else (``file:///etc/passwd``, any http URL, a path that climbs out
    of the templates folder) is refused and listed in :attr:`refused`; WeasyPrint
    then renders without the resource.
    """

    def __init__(self, root: Path = TEMPLATES) -> None:
        super().__init__(allowed_protocols=("file",), fail_on_errors=False)
        self.root = root.resolve()
        self.refused: list[str] = []

    def fetch(self, url: str, headers: Any = None) -> Any:
        """Return the asset for ``url``, or refuse it."""
        parsed = urlparse(url)
        if parsed.scheme == "file":
            path = Path(unquote(parsed.path)).resolve()
            if path.is_relative_to(self.root) and path.is_file():
                return URLFetcherResponse(url, body=path.read_bytes(), headers={"Content-Type": _mime(path)})
        self.refused.append(url[:200])
        raise URLFetchingError(f"refused: {url[:80]}")


def _mime(path: Path) -> str:
    return {".css": "text/css", ".svg": "image/svg+xml", ".png": "image/png"}.get(path.suffix, "text/plain")


def render_html(results: dict[str, Any], level: int = 0) -> str:
    """The report's HTML for ``results`` at fit ``level``."""
    return environment().get_template("report.html.j2").render(**report_context(results, FITS[level]))


@dataclass(frozen=True)
class Rendered:
    """A rendered PDF with the fit it needed and any URL the fetcher refused."""

    pdf: bytes
    level: int
    pages_before_cut: int
    refused: tuple[str, ...]


def one_page_pdf(html_at: Callable[[int], str], levels: int) -> Rendered:
    """Lay out ``html_at(0)``, ``html_at(1)``... (ever shorter) until one fits a page; keep page 1 of the last.

    Every one-page document (feedback, class summary) goes through here, with the
    asset-only URL fetcher.
    """
    from weasyprint import HTML

    fetcher = AssetFetcher()
    document = None
    level = 0
    for level in range(levels):
        document = HTML(string=html_at(level), base_url=str(TEMPLATES) + "/", url_fetcher=fetcher).render()
        if len(document.pages) == 1:
            break
    assert document is not None
    pages = len(document.pages)
    if pages > 1:
        document = document.copy(document.pages[:1])
    pdf = document.write_pdf()
    assert isinstance(pdf, bytes)
    return Rendered(pdf, level, pages, tuple(fetcher.refused))


def render_pdf(results: dict[str, Any]) -> Rendered:
    """Render ``results`` to a one-page PDF, shortening text until it fits."""
    return one_page_pdf(lambda level: render_html(results, level), len(FITS))


def write_feedback(results_path: Path, pdf_path: Path | None = None) -> Path:
    """Render ``OUT/<name>/results.json`` into ``feedback.pdf`` beside it (or ``pdf_path``).

    Raises:
        UserError: the results file is missing or not JSON.
    """
    try:
        results = json.loads(results_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{results_path}: results file not found") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(f"{results_path}: not a results.json ({type(exc).__name__})") from None
    if not isinstance(results, dict) or "tests" not in results:
        raise UserError(f"{results_path}: not a labgrade/Gradescope results.json (no 'tests')")
    target = pdf_path or results_path.with_name("feedback.pdf")
    atomic_write(target, render_pdf(results).pdf)
    return target


def _render_one(path: str) -> str:
    return str(write_feedback(Path(path)))


def write_many(results_paths: Iterable[Path], jobs: int | None = None) -> list[Path]:
    """Render many reports on all cores (``spawn``: the workers never inherit torch threads)."""
    paths = [str(p) for p in results_paths]
    workers = max(1, min(jobs or os.cpu_count() or 1, len(paths)))
    if workers == 1:
        return [Path(_render_one(p)) for p in paths]
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
        return [Path(p) for p in pool.map(_render_one, paths)]
