"""The words a student wrote for a question a person marks: found, said where, and never trusted.

From a report, the prose of the question's section: its listings, headings, typeset
matrices and display maths taken out (the numbers already read are there for the
grader beside it).  From a notebook, the markdown cells after the question's heading,
up to the next question's.  From ``answers.yaml``, a ``text:`` key under the question
(it overrides the others).  Nothing found is said as such: the part scores 0 until a
grader decides otherwise.  The text is data, shown as text wherever it goes.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from labgrade.harness.inputs.listings import Line
from labgrade.harness.inputs.reported import label_pattern, sections

#: The most of a student's text kept for a part (a report's section is short; a hostile one is not).
MAX_TEXT = 4000

_NOT_PROSE = re.compile(r"^[\s\d.,;:+\-−–eE\[\]()|&\\$=^_{}⎡⎢⎣⎤⎥⎦⎛⎜⎝⎞⎟⎠]*$")
_MATH = re.compile(r"^\s*(?:\\\[|\\\]|\$\$|\\begin\{|\\end\{)")


@dataclass(frozen=True)
class AnswerText:
    """A question's answer text and where it was read ("report.md, lines 48-52"), or why there is none."""

    text: str
    where: str

    @property
    def sha256(self) -> str:
        """What a grader's mark was given for: a changed text asks for a second look."""
        return hashlib.sha256(" ".join(self.text.split()).encode()).hexdigest()[:16]


def report_texts(
    lines: Sequence[Line], question_ids: Sequence[str], reviewed: Sequence[str], name: str, markdown: bool,
    code: set[tuple[int, int]] = frozenset(),  # type: ignore[assignment]
) -> dict[str, AnswerText]:  # fmt: skip
    """The prose of each reviewed question's section in a report (``code``: the PDF lines set in monospace)."""
    fenced: set[tuple[int, int]] = set()
    inside = False
    for line in lines:
        if markdown and line[2].lstrip().startswith(("```", "~~~")):
            inside = not inside
            fenced.add(line[:2])
        elif inside:
            fenced.add(line[:2])
    found = sections(lines, question_ids)
    out = {}
    for qid in reviewed:
        kept = [
            line
            for index, line in enumerate(found.get(qid, []))
            if line[:2] not in fenced | code
            and not _NOT_PROSE.match(line[2])
            and not _MATH.match(line[2])
            and not (index == 0 and line[2].lstrip().startswith("#"))
        ]
        if kept:
            out[qid] = AnswerText(_cut("\n".join(line[2] for line in kept)), f"{name}, {_span(kept, markdown)}")
    return out


def notebook_texts(path: Path, question_ids: Sequence[str], reviewed: Sequence[str]) -> dict[str, AnswerText]:
    """The markdown cells after each reviewed question's heading in a notebook, up to the next question's."""
    import nbformat

    try:
        nb = nbformat.read(str(path), as_version=4)  # type: ignore[no-untyped-call]
    except Exception:  # unreadable: the submission's own problem, said when its code is read
        return {}
    labels = {qid: label_pattern(qid) for qid in question_ids}
    texts: dict[str, list[str]] = {}
    cells: dict[str, list[int]] = {}
    current: str | None = None
    for index, cell in enumerate(nb.get("cells", []), start=1):
        if cell.get("cell_type") != "markdown":
            continue
        body = []
        for line in str(cell.get("source", "")).splitlines():
            hit = next((q for q in sorted(labels, key=len, reverse=True) if labels[q].match(line)), None)
            if hit is not None:
                current = hit
                if line.lstrip().startswith("#"):
                    continue
            if current is not None:
                body.append(line)
        if current is not None and current in reviewed and any(b.strip() for b in body):
            texts.setdefault(current, []).append("\n".join(body).strip())
            cells.setdefault(current, []).append(index)
    return {
        qid: AnswerText(_cut("\n\n".join(parts)), f"{path.name}, cell{'s' if len(cells[qid]) > 1 else ''} "
                        + ", ".join(map(str, cells[qid])))
        for qid, parts in texts.items()
    }  # fmt: skip


def _span(kept: Sequence[Line], markdown: bool) -> str:
    first, last = kept[0], kept[-1]
    lines = f"line {first[1]}" if first == last else f"lines {first[1]}-{last[1]}"
    if markdown:
        return lines
    if first[0] == last[0]:
        return f"page {first[0]}, {lines}"
    return f"page {first[0]}, line {first[1]} to page {last[0]}, line {last[1]}"


def _cut(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"
