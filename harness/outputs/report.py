"""Render feedback PDFs: results.json -> context -> HTML (Jinja2) -> one A4 page (WeasyPrint).

Safety: the Jinja2 environment autoescapes, so a student's message can never
become markup; the page itself is made by :mod:`labgrade.harness.outputs.onepage`, whose
URL fetcher refuses everything but the project's own assets.

One page, always, at one layout: the page is laid out at the most generous fit
whose predicted height (:func:`~labgrade.harness.outputs.pageheight.estimated_height`)
fits; if it still spans more than one page, the fit predicted to hold it (from the
measured spill) is laid out next.
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from labgrade.harness.atomic import atomic_write
from labgrade.harness.errors import UserError
from labgrade.harness.outputs.context import FITS, report_context
from labgrade.harness.outputs.onepage import Rendered, one_page_pdf
from labgrade.harness.outputs.pageheight import estimated_height
from labgrade.harness.outputs.templating import environment

# A line break between two tags: the template's indentation, never text (a space inside a line stays).
_BETWEEN_TAGS = re.compile(r">[ \t]*\n\s*<")


def _compact(page: str) -> str:
    """``page`` without the template's indentation between tags: fewer text nodes for WeasyPrint (about 2 %)."""
    return _BETWEEN_TAGS.sub("><", page)


def _html(context: dict[str, Any], for_pdf: bool) -> str:
    """The report template rendered from ``context``: a page on its own, or (``for_pdf``) for the renderer."""
    return _compact(environment().get_template("report.html.j2").render(**context, for_pdf=for_pdf))


def render_html(results: dict[str, Any], level: int = 0, for_pdf: bool = False) -> str:
    """The report's HTML for ``results`` at fit ``level``: a page on its own, or (``for_pdf``) for the renderer."""
    return _html(report_context(results, FITS[level]), for_pdf)


def render_pdf(results: dict[str, Any]) -> Rendered:
    """Render ``results`` to a one-page PDF, shortening text (measured, then predicted) until it fits.

    Each level's context is built once, and only for the levels the fit asks for:
    the heights it estimates (from level 0 up to the first that fits) and the one
    or two it lays out.
    """
    context = functools.cache(lambda level: report_context(results, FITS[level]))
    return one_page_pdf(
        lambda level: _html(context(level), for_pdf=True), len(FITS), lambda level: estimated_height(context(level))
    )


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


def _fork_is_safe() -> bool:
    """Workers may be forked from this process: Linux, and no other Python thread that could hold a lock."""
    import sys
    import threading

    return sys.platform == "linux" and threading.active_count() == 1


def write_many(results_paths: Iterable[Path], jobs: int | None = None) -> list[Path]:
    """Render many reports on all cores, paying WeasyPrint's start-up once.

    Why fork: WeasyPrint's import, the font configuration, the compact faces and
    the first page's font loading cost about a second of CPU a process.  This
    process pays them by rendering the first report itself, then forks the
    workers, which inherit all of it warm.  Workers only lay out pages (they never
    call torch, whose threads a fork does not carry).  Where forking is not safe
    (another Python thread running, not Linux), workers are spawned and each
    warms up on its own.

    This process is one of the ``jobs``: it renders its share (the first pages)
    while the workers render the rest, so a class costs one worker fewer (each
    new process pays about 35 ms of CPU before its first page), in the same time.
    """
    import gc

    paths = [str(p) for p in results_paths]
    if not paths:
        return []
    written = [Path(_render_one(paths[0]))]  # warms this process: every worker forked below inherits it
    rest = paths[1:]
    workers = max(1, min(jobs or os.cpu_count() or 1, len(rest)))
    if workers == 1 or len(rest) < 2:
        return written + [Path(_render_one(p)) for p in rest]
    mine, theirs = rest[: len(rest) // workers], rest[len(rest) // workers :]
    gc.freeze()  # the warm objects go to a generation the collector never walks: forked pages stay shared
    context = get_context("fork" if _fork_is_safe() else "spawn")
    threshold = gc.get_threshold()
    try:
        with ProcessPoolExecutor(max_workers=workers - 1, mp_context=context, initializer=_page_worker) as pool:
            theirs_written = pool.map(_render_one, theirs)  # submitted now: the workers start on them
            _page_worker()
            written += [Path(_render_one(p)) for p in mine]
            return written + [Path(p) for p in theirs_written]
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


def _page_worker() -> None:
    """A process rendering pages collects its garbage less often.

    A page makes about a hundred thousand short-lived objects, and the collector's
    default (a pass every 700 allocations) walked them over and over: about 2 % of a
    page.  Memory stays where it was (about 77 MB a worker on a class of 200).
    """
    import gc

    gc.set_threshold(10_000, 10, 10)
