"""The one Jinja2 environment every labgrade page is rendered with (feedback, summary, similarity, notebook check).

Autoescaping is on for every template: what a submission wrote (names, messages,
code) is hostile text, and it reaches templates only as escaped strings.  Made once
per process (templates compile once), and importing it costs no WeasyPrint, so the
pages that are not PDFs (``similarity.html``, the notebook's check) stay light.
"""

from __future__ import annotations

from functools import lru_cache

from jinja2 import Environment, FileSystemLoader, select_autoescape

from labgrade.harness.inputs.assets import shipped_dir


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The Jinja2 environment over the shipped templates, autoescaping HTML."""
    return Environment(
        loader=FileSystemLoader(str(shipped_dir("templates"))),
        autoescape=select_autoescape(["html", "j2", "xml"], default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
