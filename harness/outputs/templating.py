"""The one Jinja2 environment every labgrade page is rendered with (feedback, summary, similarity, notebook check).

Autoescaping is on for every template: what a submission wrote (names, messages,
code) is hostile text, and it reaches templates only as escaped strings.  Made once
per process (templates compile once), and importing it costs no WeasyPrint, so the
pages that are not PDFs (``similarity.html``, the notebook's check) stay light.
"""

from __future__ import annotations

import base64
from functools import lru_cache

from jinja2 import BytecodeCache, Environment, FileSystemBytecodeCache, FileSystemLoader, select_autoescape

from labgrade.harness.inputs.assets import shipped_dir, user_cache_dir

SVG_DATA = "data:image/svg+xml;base64,"  # how a picture's URL starts (onepage's fetcher decodes these)


def svg_uri(svg: str) -> str:
    """An SVG picture the template drew (already escaped) as a ``data:`` URL for an ``<img>``.

    Why: WeasyPrint parses an inline ``<svg>`` as HTML, in Python, and computes CSS
    for each of its elements; as an image it is parsed by ElementTree, outside the
    page's tree (about 2 % of a page with two strips).
    """
    return SVG_DATA + base64.b64encode(str(svg).encode("utf-8")).decode("ascii")


def _compiled_templates() -> BytecodeCache | None:
    """Where compiled templates are kept between runs: the user's cache folder (``None``: compile each run).

    Why: compiling the report, its pictures and the summary cost about 25 ms of
    every ``labgrade report``.  Jinja2 keys each entry by the template's source
    checksum and its own version, so an edited template or a new Jinja2 compiles
    afresh.
    """
    try:
        folder = user_cache_dir() / "templates"
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:  # an unwritable home: compile every run, as before
        return None
    return FileSystemBytecodeCache(str(folder))


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The Jinja2 environment over the shipped templates, autoescaping HTML."""
    env = Environment(
        loader=FileSystemLoader(str(shipped_dir("templates"))),
        bytecode_cache=_compiled_templates(),
        autoescape=select_autoescape(["html", "j2", "xml"], default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["svg_uri"] = svg_uri
    return env
