"""The numbers a report states, found by their question and their quantity, with where they were read.

A question's section runs from its label ("Exercise 1.2", "Ex. 1.2", "Question 1.2",
"1.2" at the start of a line or heading) to the next question's label.  In it, a
number answer is the number that follows "=", ":", "is", "of" or "was" after its
quantity's words ("loss", "error"; "rating"; "SSE"), written plainly, as ``1.22e-01``
or as ``1.22 · 10^{-1}`` (LaTeX's cdot); a matrix answer is a LaTeX ``bmatrix``/``pmatrix``, a
Markdown table, a typeset grid of n lines of m numbers, a printed tensor or a Python
list of the right shape that is not one of the lab's own inputs (a report prints A
before its completion).  Answers are also found where students put them outside a
section: a table's row keyed by the question id under a header that names the
quantity, and a sentence that names the question ("for 3.2 the completion is").
One value found: read, with its page and line.  Several different values:
ambiguous, none taken, all listed.  None: missing, with what was looked for.  Only
numbers are read; nothing in a report is ever run here.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from labgrade.harness.inputs.listings import Line
from labgrade.harness.inputs.spec import AnswerSpec, Spec

_NUMBER = r"[-+−‐‑‒–—﹣－]?\d+(?:\.\d+)?(?:[eE][-+−]?\d+)?"
# "1.221 \cdot 10^{-1}" in LaTeX source, "1.221 · 10−1" as a PDF draws it (the exponent's sign makes it one).
_POWER = r"(?:\s*(?:\\cdot|\\times|⋅|·|×)\s*10(?:\^\{?([-+−]?\d+)\}?|([-−‐]\d+)))?"
# What puts a number after its quantity's words ("loss = 0.12", "the loss was 0.12", "came out at 0.12").
_LEADS = r"(?:=|:|≈|\bis\b|\bof\b|\bequals\b|\bgives\b|\bgave\b|\bwas\b|\bwere\b|\bat\b)"
_AFTER = re.compile(
    rf"{_LEADS}\s*\$?\s*(?:tensor\()?(({_NUMBER}){_POWER})"
    r"(?!\d|\.\d|\s*\\times|\s*[x×]\s*\d|\s*(?:epochs?|iterations?|steps?)\b)"
)  # a full stop may end it
_CELL = re.compile(rf"\s+\$?(({_NUMBER}){_POWER})\$?\s*$")
#: A nested list as Python prints it, in prose or pasted: ``[[0.34, 0.60, 0.17], [1.99, 0.05, 1.84]]``.
_NESTED = re.compile(rf"\[\s*\[((?:\s*{_NUMBER}\s*,?|\s*\]\s*,\s*\[)+)\]\s*\]")
_MATRIX = re.compile(r"\\begin\{([bp]matrix)\}(.*?)\\end\{\1\}", re.DOTALL)

#: Words that name each kind of number answer (the answer's own name always counts).
QUANTITY_WORDS: dict[str, tuple[str, ...]] = {
    "loss": ("loss", "error", "reconstruction"),
    "rating": ("rating", "predict"),
    "sse": ("sse", "sum of squared", "squared error"),
}


@dataclass(frozen=True)
class Reading:
    """What a report says for one answer: the value, and a sentence saying where or why not."""

    value: Any
    note: str


#: What a label may call a question: "Exercise 1.2", "Ex. 1.2", "Question 1.2", "Q1.2", "Task 1.2", "Part 1.2".
_NAMED = r"(?:exercise|ex\.|question|qn?\.?|task|part)\s*"


def label_pattern(question_id: str) -> re.Pattern[str]:
    """What starts a question's section ("Exercise 2.1", "Ex. 2.1", "2.1 SVD", "## 1.3 2.1")."""
    words = _NAMED
    # A typeset heading may carry its own section number first ("1.3 2.1", "2 Exercise 2.1").
    numbered = r"(?:\d+(?:\.\d+)*\.?\s+)?"
    return re.compile(rf"^[\W_]*{numbered}(?:{words})?{re.escape(question_id)}(?![\d.]\d)(?!\d)", re.IGNORECASE)


def sections(lines: Sequence[Line], question_ids: Sequence[str]) -> dict[str, list[Line]]:
    """Each question's lines, from its label to the next question's label (its last section if labelled twice)."""
    labels = {qid: label_pattern(qid) for qid in question_ids}
    out: dict[str, list[Line]] = {}
    current: str | None = None
    for line in lines:
        hit = next((qid for qid in sorted(labels, key=len, reverse=True) if labels[qid].match(line[2])), None)
        if hit is not None:
            current = hit
            out[current] = []
        if current is not None:
            out[current].append(line)
    return out


def _where(line: Line, markdown: bool) -> str:
    return f"line {line[1]}" if markdown else f"page {line[0]}, line {line[1]}"


_MINUS = str.maketrans({c: "-" for c in "−‐‑‒–—﹣－"})


def _float(text: str) -> float:
    return float(text.translate(_MINUS))


def _value(match: re.Match[str]) -> tuple[float, str]:
    """A matched number (group 1 as written; 2 its mantissa; 3 or 4 its power of ten) and how it was written."""
    power = match.group(3) or match.group(4)
    value = _float(match.group(2)) * (10.0 ** int(power.translate(_MINUS)) if power else 1.0)
    return value, " ".join(match.group(1).split())


#: A value found in a report: the value, as the report writes it, and where (page and line).
Found = tuple[Any, str, str]


def read_number(section: Sequence[Line], answer: AnswerSpec, markdown: bool) -> list[Found]:
    """Distinct values stated for a number answer in a section, as written, with where each was read."""
    pattern = re.compile("|".join(re.escape(w) for w in _words(answer.name)), re.IGNORECASE)
    found: list[Found] = []
    for index, line in enumerate(section):
        # The next two lines too: a PDF wraps "loss = ||A - UV^T||^2 = 0.1220" onto three; not past a full stop.
        text = line[2]
        for _, _, more in section[index + 1 : index + 3]:
            if text.rstrip().endswith("."):
                break
            text = f"{text} {more}"
        for word in pattern.finditer(line[2]):
            # A table's row: the quantity's words, then its value as the row's last cell.
            match = _AFTER.search(text, word.end()) or _CELL.match(line[2], word.end())
            if match is not None:
                _add(found, *_value(match), _where(line, markdown))
    return found


def _add(found: list[Found], value: float, shown: str, where: str) -> None:
    if not any(math.isclose(value, v, rel_tol=1e-9) for v, _, _ in found):
        found.append((value, shown, where))


def read_table_rows(lines: Sequence[Line], qid: str, answer: AnswerSpec, markdown: bool) -> list[Found]:
    """Values in a table's row keyed by the question id, under a header that names the quantity.

    "Question | Method | Loss" over "1.2 | SGD, rank 2 | 0.1221": the row's last cell is
    the value when the header above the table's rows holds one of the quantity's words.
    """
    label = label_pattern(qid)
    pattern = re.compile("|".join(re.escape(w) for w in _words(answer.name)), re.IGNORECASE)
    rows = re.compile(r"^[\W_]*\d+\.\d+\b")
    found: list[Found] = []
    for index, line in enumerate(lines):
        key = label.match(line[2])
        cell = _CELL.search(line[2], key.end()) if key else None
        if cell is None:
            continue
        above = index - 1
        # past the table's other rows and the stray pieces of a typeset header ("F" of a subscript)
        while above >= 0 and (rows.match(lines[above][2]) or len(lines[above][2].strip()) <= 2):
            above -= 1
        if above >= 0 and index - above <= 12 and pattern.search(lines[above][2]):
            _add(found, *_value(cell), _where(line, markdown))
    return found


def _mentions(lines: Sequence[Line], qid: str) -> list[tuple[int, int]]:
    """Where a sentence names the question ("for 3.2 the completion is"), not as a heading: (line, end)."""
    mention = re.compile(rf"\b(?:for|in)\s+(?:{_NAMED})?{re.escape(qid)}(?![\d.]\d)(?!\d)", re.IGNORECASE)
    return [(i, m.end()) for i, line in enumerate(lines) for m in mention.finditer(line[2])]


def read_mentioned(
    lines: Sequence[Line],
    qid: str,
    answer: AnswerSpec,
    context: tuple[Sequence[str], Sequence[Sequence[Sequence[float]]]],
    markdown: bool,
) -> list[Found]:
    """Values stated right after a sentence names the question: in that sentence, or the matrix that follows it."""
    question_ids, inputs = context
    pattern = re.compile("|".join(re.escape(w) for w in _words(answer.name)), re.IGNORECASE)
    found: list[Found] = []
    for index, end in _mentions(lines, qid):
        line = lines[index]
        tail: list[Line] = [(line[0], line[1], line[2][end:]), *lines[index + 1 : index + 8]]
        if answer.type == "matrix":
            for value, shown, where in read_matrix(_until_label(tail, question_ids), answer, inputs, markdown)[:1]:
                if not any(_near(value, v) for v, _, _ in found):
                    found.append((value, shown, where))
            continue
        # The rest of the sentence only, over the lines it wraps to: the next sentence may be another question's.
        sentence = " ".join(text for _, _, text in tail[:3])
        stop = re.search(r"\.(?=\s|$)", sentence)
        sentence = sentence[: stop.start()] if stop else sentence
        for word in pattern.finditer(sentence):
            match = _AFTER.search(sentence, word.end())
            if match is not None:
                _add(found, *_value(match), _where(line, markdown))
                break
    return found


def _until_label(lines: Sequence[Line], question_ids: Sequence[str]) -> list[Line]:
    """The lines up to the next line that starts a question's section."""
    labels = [label_pattern(qid) for qid in question_ids]
    out: list[Line] = []
    for line in lines:
        if out and any(label.match(line[2]) for label in labels):
            break
        out.append(line)
    return out


def _words(name: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys((name, *QUANTITY_WORDS.get(name, ()))))


def _matrices(section: Sequence[Line]) -> list[tuple[list[list[float]], Line]]:
    """LaTeX bmatrix/pmatrix and Markdown tables of numbers in a section, with the line each starts on."""
    text = "\n".join(line[2] for line in section)
    starts = [0]
    for line in section:
        starts.append(starts[-1] + len(line[2]) + 1)
    found = []
    for match in _MATRIX.finditer(text):
        rows = [r for r in re.split(r"\\\\", match.group(2)) if r.strip()]
        try:
            matrix = [[_float(cell.strip()) for cell in row.split("&")] for row in rows]
        except ValueError:
            continue
        index = max(i for i, s in enumerate(starts[:-1]) if s <= match.start())
        found.append((matrix, section[index]))
    for match in _NESTED.finditer(text.replace("\n", " ")):  # one character per newline: offsets still hold
        rows = re.split(r"\]\s*,\s*\[", match.group(1))
        try:
            matrix = [[_float(cell) for cell in row.split(",") if cell.strip()] for row in rows]
        except ValueError:
            continue
        index = max(i for i, s in enumerate(starts[:-1]) if s <= match.start())
        found.append((matrix, section[index]))
    found += _grids(section)
    table: list[list[float]] = []
    first: Line | None = None
    for line in [*section, (0, 0, "")]:
        cells = [c.strip() for c in line[2].strip().strip("|").split("|")] if line[2].lstrip().startswith("|") else None
        if cells and all(re.fullmatch(_NUMBER, c) for c in cells if c):
            table.append([_float(c) for c in cells if c])
            first = first or line
        elif cells is None and table:
            assert first is not None
            found.append((table, first))
            table, first = [], None
    return found


_ROW = re.compile(rf"^\s*(?:[A-Za-z][\w.]{{0,8}}\s+)?((?:{_NUMBER}\s*){{1,12}})$")


def _printed(text: str) -> str:
    """A row of a printed tensor or array (``tensor([[0.34, 0.60],``) as its numbers alone."""
    bare = re.sub(r"^\s*(?:tensor|array)\(", "", text)
    if bare == text and not re.match(r"^\s*\[", text):
        return text
    bare = re.sub(r",?\s*(?:dtype|device|requires_grad)=.*$", "", bare)
    return re.sub(r"[\[\](),]", " ", bare)


def _grids(section: Sequence[Line]) -> list[tuple[list[list[float]], Line]]:
    """Typeset matrices and tables as a PDF gives them: consecutive lines of the same count of numbers.

    A ``bmatrix`` reaches the text as n lines of m numbers after its label (its brackets are
    glyphs, not text); a table's rows may start with a row header, and its header line is
    not a row.
    """
    found = []
    rows: list[list[float]] = []
    first: Line | None = None
    for line in [*section, (0, 0, "")]:
        match = _ROW.match(_printed(line[2]).translate(_MINUS))
        row = [_float(x) for x in re.findall(_NUMBER, match.group(1))] if match else None
        if row is not None and (not rows or len(row) == len(rows[0])):
            rows.append(row)
            first = first or line
            continue
        if rows and first is not None:
            found.append((rows, first))
        rows, first = ([row], line) if row is not None else ([], None)
    return found


def read_matrix(
    section: Sequence[Line], answer: AnswerSpec, inputs: Sequence[Sequence[Sequence[float]]], markdown: bool
) -> list[Found]:
    """Distinct matrices of the answer's shape in a section that are not one of the lab's inputs."""
    shape = answer.shape
    found: list[Found] = []
    for matrix, line in _matrices(section):
        if shape is None or len(matrix) != shape[0] or any(len(row) != shape[1] for row in matrix):
            continue
        if any(_near(matrix, given) for given in inputs) or any(_near(matrix, v) for v, _, _ in found):
            continue
        found.append((matrix, _show(matrix), _where(line, markdown)))
    return found


def _near(a: Sequence[Sequence[float]], b: Sequence[Sequence[float]], tol: float = 0.01) -> bool:
    return len(a) == len(b) and all(
        len(ra) == len(rb) and all(abs(x - y) <= tol for x, y in zip(ra, rb, strict=True))
        for ra, rb in zip(a, b, strict=True)
    )


def read_answers(lines: Sequence[Line], spec: Spec, markdown: bool) -> dict[str, dict[str, Reading]]:
    """Every answer of the spec's answer questions as the report states it (or why not)."""
    ids = [q.id for q in spec.questions]
    found = sections(lines, ids)
    inputs = [i.matrix for i in spec.inputs.values() if i.matrix is not None]
    out: dict[str, dict[str, Reading]] = {}
    for q in spec.questions:
        for answer in q.answers:
            section = found.get(q.id, [])
            elsewhere = read_mentioned(lines, q.id, answer, (ids, inputs), markdown)
            if answer.type == "matrix":
                values = read_matrix(section, answer, inputs, markdown)
                values += [f for f in elsewhere if not any(_near(f[0], v) for v, _, _ in values)]
                looked = f"a {answer.shape[0]}x{answer.shape[1]} bmatrix, pmatrix or table" if answer.shape else ""
            else:
                values = read_number(section, answer, markdown)
                for value, shown, where in [*read_table_rows(lines, q.id, answer, markdown), *elsewhere]:
                    _add(values, value, shown, where)
                words = ", ".join(f"'{w}'" for w in _words(answer.name))
                looked = f"{words} followed by '=' or ':' and a number"
            if not section and not values and not _mentions(lines, q.id):
                note = f"no section for {q.id} in the report (looked for a heading or label such as 'Exercise {q.id}')"
                out.setdefault(q.id, {})[answer.name] = Reading(None, note)
                continue
            out.setdefault(q.id, {})[answer.name] = _reading(q.id, answer.name, values, looked)
    return out


def _show(matrix: list[list[float]]) -> str:
    return "[" + "; ".join(" ".join(f"{x:g}" for x in row) for row in matrix) + "]"


def _reading(qid: str, name: str, found: Sequence[Found], looked: str) -> Reading:
    if len(found) == 1:
        value, shown, where = found[0]
        return Reading(value, f"read {shown} for {qid} from {where}")
    if not found:
        return Reading(None, f"no {name} found for {qid} in its section or a sentence naming it (looked for {looked})")
    listed = "; ".join(f"{shown} ({where})" for _, shown, where in found)
    return Reading(None, f"{name} for {qid} is ambiguous, so neither was taken: {listed}")
