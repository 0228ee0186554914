"""The user-agent stylesheet our PDF pages are laid out with: WeasyPrint's own, less what they cannot use.

Why: WeasyPrint matches every element of a page against its HTML user-agent
stylesheet, and that sheet also styles forms, footnotes, notes and markers:
pseudo-element rules (``::footnote-call``, ``::note-call``, ``::marker``, ...)
that every element is matched against, and for which it computes styles.  Our
pages are made only by our own templates (student text reaches them escaped,
never as elements), so the element types they hold are known
(:data:`PAGE_TAGS`; ``tests/test_report.py`` fails when a template uses another).
Keeping only the rules that could match one of them lays out the same page in
about 8 % less time.

The sheet is WeasyPrint's own text, filtered selector by selector, never a copy
of it: a WeasyPrint upgrade brings its new rules with it.  The filter keeps a
selector unless it is sure the selector cannot match: its subject names a type
that our pages never hold, or it ends in a pseudo-element (our templates use
none).  At-rules (``@page``) are kept whole, but for ``@counter-style``: WeasyPrint
keeps its counter styles apart (``UA_COUNTER_STYLE``, made from this same sheet),
and ``disc`` and ``decimal`` may be defined only once.  If WeasyPrint's sheet
cannot be read, pages are laid out with WeasyPrint's class as it is.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

# Every element type the report and summary templates write (and WeasyPrint's wrapper around them).
PAGE_TAGS = frozenset(
    "html head meta link title style body div header footer h1 h2 p ul li span b code img "
    "table colgroup col tbody tr td svg rect text line path circle".split()
)


def _selectors(prelude: list[Any]) -> list[list[Any]]:
    """A rule's selector list split at its top-level commas (commas inside ``:is(...)`` stay inside)."""
    out: list[list[Any]] = [[]]
    for token in prelude:
        if token.type == "literal" and token.value == ",":
            out.append([])
        else:
            out[-1].append(token)
    return out


def _may_match(selector: list[Any]) -> bool:
    """False only when ``selector`` surely matches nothing on our pages (see the module's docstring)."""
    tokens = [t for t in selector if t.type != "comment"]
    while tokens and tokens[-1].type == "whitespace":
        tokens.pop()
    for i in range(len(tokens) - 1):
        if tokens[i].type == tokens[i + 1].type == "literal" and tokens[i].value == tokens[i + 1].value == ":":
            return False  # a pseudo-element
    subject = 0  # where the last compound selector starts: after the last combinator
    for i, token in enumerate(tokens):
        if token.type == "whitespace" or (token.type == "literal" and token.value in (">", "+", "~")):
            subject = i + 1
    first = tokens[subject] if subject < len(tokens) else None
    if first is not None and first.type == "ident":
        return str(first.lower_value) in PAGE_TAGS
    return True  # universal, a class, an attribute or a pseudo-class: may match


def page_ua_css(ua: str) -> str:
    """The rules of the user-agent stylesheet ``ua`` that could match an element of our pages."""
    import tinycss2

    kept = []
    for rule in tinycss2.parse_stylesheet(ua, skip_comments=True, skip_whitespace=True):
        if rule.type == "at-rule":
            if rule.lower_at_keyword != "counter-style":  # those live in UA_COUNTER_STYLE, defined once
                kept.append(rule.serialize())
        elif rule.type == "qualified-rule":
            selectors = [s for s in _selectors(rule.prelude) if _may_match(s)]
            if selectors:
                prelude = ", ".join(tinycss2.serialize(s).strip() for s in selectors)
                kept.append(f"{prelude} {{{tinycss2.serialize(rule.content)}}}")
    return "\n".join(kept)


@lru_cache(maxsize=1)
def page_html() -> Any:
    """WeasyPrint's ``HTML`` class with the page user-agent sheet (WeasyPrint's own class if that cannot be made)."""
    from weasyprint import CSS, HTML

    try:
        from weasyprint.html import UA, UA_COUNTER_STYLE

        sheet = CSS(string=page_ua_css(UA), counter_style=UA_COUNTER_STYLE)
    except Exception:  # another WeasyPrint: its own sheet, only slower
        return HTML

    class PageHTML(HTML):  # type: ignore[misc]
        """An HTML document of our templates, matched only against the user-agent rules it can use."""

        def _ua_stylesheets(self, forms: bool = False) -> list[Any]:
            return [sheet]

    return PageHTML
