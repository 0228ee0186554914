"""A lab report (Markdown or PDF) read as a submission: code from its listings, answers from its numbers.

The report's text becomes lines that know their page and line; its listings (see
``listings``) become source units graded exactly like a ``.py`` (definitions only,
in the sandbox), one unit per listing so a broken one hides nothing else; the
numbers it states (see ``reported``) become answers, each with the sentence that
says where it was read.  An ``answers.yaml`` beside the report overrides any value
it names.  Everything that cannot be read is that submission's problem.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labgrade.harness.inputs.answertext import AnswerText, report_texts
from labgrade.harness.inputs.listings import Line, Listing, markdown_listings, pdf_listings
from labgrade.harness.inputs.pdfcode import pdf_code_listings
from labgrade.harness.inputs.pdflayout import layout
from labgrade.harness.inputs.pdftext import MAX_PAGES, read_pdf
from labgrade.harness.inputs.reported import read_answers
from labgrade.harness.inputs.schema import PAPERS
from labgrade.harness.inputs.spec import Spec

REPORT_SUFFIXES = (".md", ".pdf")

#: What a report's listings usually leave out, added when no listing imports torch (and said so).
PREAMBLE = "import torch\nfrom torch import Tensor\nfrom typing import Tuple\n"


@dataclass(frozen=True)
class ReportForm:
    """A report's form as handed in: its file, and for a PDF its pages and paper (``None`` for Markdown)."""

    file: str
    pages: int | None = None
    paper: str | None = None  # "A4", "Letter", or the size in mm where it is neither


def paper_of(width: float, height: float) -> str:
    """The paper a page of ``width`` x ``height`` points is on (either orientation), or its size in mm."""
    for name, (w, h) in PAPERS.items():
        if {round(width), round(height)} <= {
            round(w) - 1,
            round(w),
            round(w) + 1,
            round(h) - 1,
            round(h),
            round(h) + 1,
        }:
            return name
    return f"{width / 72 * 25.4:.0f} x {height / 72 * 25.4:.0f} mm"


@dataclass
class ReadReport:
    """What a report gave: source pieces, answers, where each answer was read, problems."""

    pieces: list[tuple[str, str]] = field(default_factory=list)
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)
    notes: dict[str, dict[str, str]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    form: ReportForm | None = None
    texts: dict[str, AnswerText] = field(default_factory=dict)  # prose of the questions a person marks


def _lines(text: str, page: int = 1) -> list[Line]:
    return [(page, number, line) for number, line in enumerate(text.splitlines(), start=1)]


def read_report(path: Path, text: str | None, spec: Spec | None, code_too: bool = True) -> ReadReport:
    """Read the report at ``path`` (``text``: a Markdown file's decoded text, ``None`` for a PDF).

    Args:
        path: the report file.
        text: the Markdown text, already decoded with the submission's rules.
        spec: the lab, whose questions say which numbers to look for and which functions to find.
        code_too: take code from the listings (not when a ``.py`` beside the report holds it).
    """
    out = ReadReport()
    markdown = path.suffix == ".md"
    functions = tuple(q.function.name for q in spec.questions if q.function) if spec else ()
    if markdown:
        out.form = ReportForm(path.name)
        lines = _lines(text or "")
        listings = markdown_listings(lines) if code_too else []
    else:
        pdf = read_pdf(path)
        if pdf.problem:
            out.problems.append(pdf.problem)
            return out
        if pdf.total_pages > MAX_PAGES:
            out.problems.append(f"{path.name} has {pdf.total_pages} pages; only the first {MAX_PAGES} were read")
        if not any(page.glyphs for page in pdf.pages):
            out.problems.append(
                f"{path.name} has no text layer (a scanned or image-only PDF?): nothing in it could be read; "
                "hand in the PDF your editor exports, or the .md or .py"
            )
            return out
        papers = {paper_of(w, h) for w, h in ((p.width, p.height) for p in pdf.pages)}
        out.form = ReportForm(path.name, pdf.total_pages, " and ".join(sorted(papers)))
        found = layout(pdf)
        lines = [(line.page, line.number, line.text) for line in found.lines]
        code = {
            (ln.page, ln.number)
            for ln in found.lines
            if sum(g.font in found.mono for g in ln.glyphs) * 2 > len(ln.glyphs)
        }
        listings = pdf_listings(pdf_code_listings(found), lines, functions) if code_too else []
    _take_listings(out, path.name, listings, markdown)
    if spec is not None:
        ids = [q.id for q in spec.questions]
        reviewed = [q.id for q in spec.questions if q.review]
        out.texts = report_texts(lines, ids, reviewed, path.name, markdown, set() if markdown else code)
        for qid, readings in read_answers(lines, spec, markdown).items():
            for name, reading in readings.items():
                out.notes.setdefault(qid, {})[name] = reading.note
                if reading.value is not None:
                    out.answers.setdefault(qid, {})[name] = reading.value
    return out


def _take_listings(out: ReadReport, name: str, listings: list[Listing], markdown: bool) -> None:
    for number, listing in enumerate(listings, start=1):
        label = f"{name}, listing {number} ({listing.where(markdown)})"
        if listing.problem:
            out.problems.append(f"{label}: {listing.problem}; it was not graded (hand in the .py or the .md)")
            continue
        out.pieces.append((label, listing.code))
    if out.pieces and not any("import torch" in code for _, code in out.pieces):
        out.pieces.insert(0, (f"{name} (imports the listings leave out)", PREAMBLE))
        out.problems.append(
            f"{name}: its listings import nothing; graded with `import torch`, `from torch import Tensor` "
            "and `from typing import Tuple` added"
        )
    elif not out.pieces and not any(p.startswith(name) for p in out.problems):
        out.problems.append(f"{name}: no code listing found (a code block, or numbered code lines)")


def merge_answers(found: ReadReport, given: dict[str, Any] | None) -> tuple[dict[str, Any], dict[str, dict[str, str]]]:
    """The report's answers with ``answers.yaml``'s on top (it overrides any value it names), and their notes."""
    answers: dict[str, Any] = {qid: dict(values) for qid, values in found.answers.items()}
    notes = {qid: dict(n) for qid, n in found.notes.items()}
    for qid, value in (given or {}).items():
        if isinstance(value, dict) and isinstance(answers.get(qid), dict):
            answers[qid].update(value)
            for name in value:
                notes.setdefault(qid, {})[str(name)] = f"from answers.yaml (it overrides the report) for {qid}"
        else:
            answers[qid] = value
            notes[qid] = {}
    return answers, notes
