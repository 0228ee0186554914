"""One A4 page from HTML, at the cost of about one layout: the renderer every labgrade PDF goes through.

Safety: WeasyPrint gets a URL fetcher that refuses every URL except the
project's own template assets and its compact fonts, so even markup that got
into a page could not load ``file:///etc/passwd`` or a remote image.

Speed (a page should cost one layout):
- what does not change between pages is made once per process: the font
  configuration with the compact faces (:mod:`labgrade.harness.outputs.fonts`)
  and ``report.css``, parsed once and laid over each page in place of its link;
- the level laid out first is the most generous one whose predicted height
  (:mod:`labgrade.harness.outputs.pageheight`, in millimetres, within about 2 %
  of WeasyPrint's on real pages) fits :data:`CONTENT_MM` with :data:`MARGIN` to
  spare, so a page is laid out once, whatever its length;
- when a layout still spills over, the spill is *measured* (anchors at the start
  and end of the body give its height) and the level predicted to fit is laid
  out next, instead of trying every level in turn.  The prediction is checked by
  the layout itself: a page that still spills goes one level further.

One page, always: a page still too long after the last level keeps its first
page, which holds the header, the total and the first questions.
"""

from __future__ import annotations

import base64
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from weasyprint.urls import URLFetcher, URLFetcherResponse, URLFetchingError

from labgrade.harness.inputs.assets import shipped_dir
from labgrade.harness.outputs.fonts import font_face_css
from labgrade.harness.outputs.templating import SVG_DATA
from labgrade.harness.outputs.uasheet import page_html

TEMPLATES = shipped_dir("templates")
START, END = "labgrade-start", "labgrade-end"  # the anchors templates put around their body's content
SAFETY = 0.98  # after a spill: the predicted level must bring the measured spill this far under a page
CONTENT_MM = 297.0 - 12.0 - 14.0  # A4 less the page's top and bottom margins (templates/report.css)
# The predicted height may be this far under the page's: on the example submissions' and a generated
# class's pages (every level) the prediction is within 2.3 % of the laid-out height.
MARGIN = 0.975


class AssetFetcher(URLFetcher):  # type: ignore[misc]
    """A WeasyPrint URL fetcher that serves only files inside the templates folder (and the compact fonts).

    It also decodes the pages' own pictures, SVG written inline as ``data:image/svg+xml``
    URLs: a data URL holds its content, so it reads no file and reaches nothing (a
    link inside the picture comes back here and is refused like any other).
    Everything else (``file:///etc/passwd``, any http URL, a path that climbs out
    of the allowed folders) is refused and listed in :attr:`refused`; WeasyPrint
    then renders without the resource.
    """

    def __init__(self, *roots: Path) -> None:
        super().__init__(allowed_protocols=("file",), fail_on_errors=False)
        self.roots = tuple(r.resolve() for r in (roots or (TEMPLATES,)))
        self.refused: list[str] = []

    def fetch(self, url: str, headers: Any = None) -> Any:
        """Return the asset for ``url``, or refuse it."""
        if url.startswith(SVG_DATA):
            with contextlib.suppress(ValueError):  # not base64: refused below, like any other data URL
                body = base64.b64decode(url[len(SVG_DATA) :], validate=True)
                return URLFetcherResponse(url, body=body, headers={"Content-Type": "image/svg+xml"})
        parsed = urlparse(url)
        if parsed.scheme == "file":
            path = Path(unquote(parsed.path)).resolve()
            if any(path.is_relative_to(root) for root in self.roots) and path.is_file():
                return URLFetcherResponse(url, body=path.read_bytes(), headers={"Content-Type": _mime(path)})
        self.refused.append(url[:200])
        raise URLFetchingError(f"refused: {url[:80]}")


def _mime(path: Path) -> str:
    return {".css": "text/css", ".svg": "image/svg+xml", ".png": "image/png", ".ttf": "font/ttf"}.get(
        path.suffix, "text/plain"
    )


@dataclass(frozen=True)
class Rendered:
    """A rendered PDF with the fit it needed, how many layouts it took, and any URL the fetcher refused."""

    pdf: bytes
    level: int
    pages_before_cut: int
    refused: tuple[str, ...]
    layouts: int = 1


@lru_cache(maxsize=1)
def _shared() -> tuple[Any, list[Any], Any]:
    """What every page of this process shares, made once: fonts, the compact faces' rules, ``report.css``.

    ``report.css`` is parsed here once: each page parsing it again cost about 10 % of a page.
    """
    from weasyprint import CSS
    from weasyprint.text.fonts import FontConfiguration

    config = FontConfiguration()
    sheet = CSS(filename=str(TEMPLATES / "report.css"), font_config=config, url_fetcher=AssetFetcher())
    rules, folder = font_face_css()
    if not rules or folder is None:
        return config, [], sheet
    return config, [CSS(string=rules, font_config=config, url_fetcher=AssetFetcher(folder))], sheet


def lay_out(page: str, fetcher: AssetFetcher | None = None) -> Any:
    """``page`` laid out by WeasyPrint with what this process shares (fonts, parsed ``report.css``).

    ``page`` is a template rendered ``for_pdf``: without its link to ``report.css``,
    whose parsed copy is laid over it here.  WeasyPrint counts the copy as a user
    stylesheet: it still beats WeasyPrint's defaults, and the page's own
    ``<style>`` still beats it (every example page and summary renders pixel for
    pixel as with the link).  A page that kept its link is laid out right, only
    slower.  The user-agent stylesheet is WeasyPrint's, less the rules our pages
    cannot use (:mod:`labgrade.harness.outputs.uasheet`).
    """
    config, faces, sheet = _shared()
    return page_html()(string=page, base_url=str(TEMPLATES) + "/", url_fetcher=fetcher or AssetFetcher()).render(
        stylesheets=[sheet, *faces], font_config=config
    )


def _spill(document: Any) -> float:
    """How many pages' worth of content ``document`` holds (1.0 = exactly full), from its anchors."""
    pages = document.pages
    first = pages[0].anchors.get(START)
    last = pages[-1].anchors.get(END)
    if first is None or last is None:
        return float(len(pages))
    top = float(first[1])
    usable = max(float(pages[0].height) - 2 * top, 1.0)  # top and bottom margins are about equal
    return (len(pages) - 1) + (float(last[1]) - top) / usable


def predict_level(spill: float, size: Callable[[int], float], start: int, levels: int) -> int:
    """The first level after ``start`` whose estimated size brings ``spill`` pages under one."""
    for level in range(start + 1, levels):
        if spill * size(level) / max(size(start), 1e-9) <= SAFETY:
            return level
    return levels - 1


def one_page_pdf(html_at: Callable[[int], str], levels: int, size_at: Callable[[int], float] | None = None) -> Rendered:
    """Lay out the first level that could fit; while it spills over one page, lay out the level predicted to fit.

    ``size_at(level)`` predicts the content's height in millimetres at each level
    (:func:`labgrade.harness.outputs.pageheight.estimated_height`); without it, levels
    are tried in turn from 0.  The last level's page 1 is kept if nothing fits.
    """
    fetcher = AssetFetcher()
    size = lru_cache(maxsize=None)(size_at) if size_at else None  # estimated only as far as needed
    level = 0
    if size:
        level = next((lv for lv in range(levels) if size(lv) <= CONTENT_MM * MARGIN), levels - 1)
    layouts = 0
    while True:
        layouts += 1
        document = lay_out(html_at(level), fetcher)
        if len(document.pages) == 1 or level == levels - 1:
            break
        level = predict_level(_spill(document), size, level, levels) if size else level + 1
    pages = len(document.pages)
    if pages > 1:
        document = document.copy(document.pages[:1])
    pdf = document.write_pdf()
    assert isinstance(pdf, bytes)
    return Rendered(pdf, level, pages, tuple(fetcher.refused), layouts)
