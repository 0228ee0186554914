"""Code listings in a report: find them, strip their line numbers, rejoin wrapped lines, keep indentation.

A report shows its code as listings: Markdown code blocks (numbered or not), or in
a PDF lines set in a monospace font (read from the glyphs' positions by
``pdfcode``).  Only code inside a listing is ever taken: prose that looks like code
is never run.  A listing's numbers are stripped with the one space that follows
them, so the indentation after it is the code's own; a line the author wrapped (no
number, between lines n and n+1) is joined to the line before.  Where the
indentation is lost, the listing is reported as such and not graded, never guessed.
Code a PDF sets in a proportional font is taken only as the block of a ``def`` of a
function the spec asks for (Python's own rule: the lines indented under it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: A line of a report with where it is: page (1 for Markdown) and line on that page.
Line = tuple[int, int, str]

_NUMBERED = re.compile(r"^\s*(\d{1,4})(?: (.*))?$")
_FENCE = re.compile(r"^\s*(```|~~~)\s*([\w+-]*)\s*$")
_CODE_START = re.compile(r"^\s*(def|class|import|from)\s")


@dataclass(frozen=True)
class Listing:
    """One listing's code, where it starts, and whether it can be graded."""

    code: str
    page: int
    line: int
    problem: str | None = None

    def where(self, markdown: bool) -> str:
        """Where it starts: "line 12" in Markdown, "page 2, line 12" in a PDF."""
        return f"line {self.line}" if markdown else f"page {self.page}, line {self.line}"


def _strip_numbers(lines: list[str]) -> list[str] | None:
    """The code of numbered lines 1, 2, 3... (wrapped lines joined), or ``None`` if they are not numbered so."""
    out: list[str] = []
    expected = 1
    for index, text in enumerate(lines):
        match = _NUMBERED.match(text.rstrip())
        if match and int(match.group(1)) == expected:
            out.append((match.group(2) or "").rstrip())
            expected += 1
            continue
        if not text.strip():
            continue
        follows = any(_starts_with(later, expected) for later in lines[index + 1 :])
        if out and follows:  # a line the PDF wrapped: no number, and line `expected` is still to come
            out[-1] = f"{out[-1].rstrip()} {text.strip()}"
            continue
        return None
    return out if expected > 2 else None


def _starts_with(text: str, number: int) -> bool:
    match = _NUMBERED.match(text.rstrip())
    return match is not None and int(match.group(1)) == number


def looks_like_code(code: str) -> bool:
    """Whether a listing holds Python worth grading: a definition or an import at the start of a line."""
    return any(_CODE_START.match(line) for line in code.splitlines())


def indentation_lost(code: str) -> bool:
    """Block openers but not a single indented line: a PDF that dropped its spaces."""
    lines = [line for line in code.splitlines() if line.strip()]
    return any(line.rstrip().endswith(":") for line in lines) and not any(line[:1] in (" ", "\t") for line in lines)


def compiles(code: str) -> bool:
    """Whether ``code`` is valid Python (it is compiled, never run)."""
    try:
        compile(code, "<listing>", "exec")
    except (SyntaxError, ValueError):
        return False
    return True


def markdown_listings(lines: list[Line]) -> list[Listing]:
    """Fenced code blocks (```` ``` ```` or ``~~~``) that hold Python, numbered or not.

    A block inside an HTML comment is not one the reader sees: it is not a listing.
    """
    listings: list[Listing] = []
    block: list[Line] | None = None
    fence = ""
    hidden = False
    for page, number, text in lines:
        if block is None and (hidden or "<!--" in text):
            hidden = "-->" not in text.split("<!--")[-1] if "<!--" in text else "-->" not in text
            continue
        match = _FENCE.match(text)
        if block is None:
            if match:
                block, fence = [], match.group(1)
            continue
        if match and match.group(1) == fence and not match.group(2):
            listings += _listing(block)
            block = None
            continue
        block.append((page, number, text))
    return listings


def _listing(block: list[Line]) -> list[Listing]:
    texts = [text for _, _, text in block]
    stripped = _strip_numbers(texts)
    code = "\n".join(stripped if stripped is not None else [t.rstrip() for t in texts])
    if not looks_like_code(code):
        return []
    first = next(((p, n) for p, n, t in block if t.strip()), (block[0][0], block[0][1]) if block else (1, 1))
    problem = None
    if indentation_lost(code) and not compiles(code):
        problem = "its indentation could not be recovered"
    return [Listing(code + "\n", first[0], first[1], problem)]


def pdf_listings(found: list[Listing], lines: list[Line], functions: tuple[str, ...]) -> list[Listing]:
    """The PDF's monospace listings (``found``), then unnumbered ``def`` blocks of the spec's functions in its text."""
    covered = "\n".join(listing.code for listing in found)
    out = list(found)
    for name in functions:
        if re.search(rf"^\s*def\s+{re.escape(name)}\s*\(", covered, re.MULTILINE):
            continue  # already inside a listing
        out += _def_blocks(lines, name)
    return out


def _def_blocks(lines: list[Line], name: str) -> list[Listing]:
    """The block of ``def name(`` as Python defines it: the signature, then the lines indented under it."""
    out = []
    for i, (page, number, text) in enumerate(lines):
        head = re.match(rf"^(\s*)def\s+{re.escape(name)}\s*\(", text)
        if not head:
            continue
        indent = len(head.group(1))
        body = [text.rstrip()]
        depth = text.count("(") - text.count(")")
        for _, _, more in lines[i + 1 :]:
            if depth > 0 or not more.strip() or len(more) - len(more.lstrip()) > indent:
                body.append(more.rstrip())
                depth += more.count("(") - more.count(")")
                continue
            break
        code = "\n".join(line[indent:] for line in body).rstrip() + "\n"
        problem = "its indentation could not be recovered" if not compiles(code) and indentation_lost(code) else None
        out.append(Listing(code, page, number, problem))
    return out
