"""Find submissions and extract the definitions grading may run.

A submission is a ``.py`` file, a ``.ipynb`` notebook, or a folder holding one of
those plus an optional ``answers.yaml``.  Students' files hold more than their
functions: training loops, prints, plots, ``torch.load('ratings.pt')``, notebook
magics, ``input()``.  Grading runs only what *defines* things: imports, function
and class definitions, and assignments of constants.  Everything else is
skipped, and the feedback says what was.  Parsing uses :mod:`ast`, which never
runs the code it reads.
"""

from __future__ import annotations

import ast
import hashlib
import io
import json
import tokenize
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from labgrade.harness.inputs.answertext import AnswerText, notebook_texts
from labgrade.harness.inputs.pdftext import MAX_PDF_BYTES
from labgrade.harness.inputs.reports import REPORT_SUFFIXES, ReportForm, merge_answers, read_report
from labgrade.harness.inputs.spec import Spec
from labgrade.harness.inputs.yamlsource import NoAliasLoader

CODE_SUFFIXES = (".py", ".ipynb")
SOURCE_SUFFIXES = (*CODE_SUFFIXES, *REPORT_SUFFIXES)
MAX_SOURCE_BYTES = 2 << 20
# Notebooks carry their outputs (plots as base64 images): a real one is often several MiB.
MAX_NOTEBOOK_BYTES = 64 << 20
MAX_ANSWERS_BYTES = 256 << 10
# Calls that only build values (no I/O, no global state): `device = torch.device("cuda" if
# torch.cuda.is_available() else "cpu")` and `A = torch.tensor([...])` stay runnable.
_CONSTANT_CALLS = frozenset(
    "tensor Tensor as_tensor zeros ones eye arange linspace full array device is_available dtype "
    "int float str bool tuple list dict range len".split()
)


@dataclass(frozen=True)
class SourceUnit:
    """One compilable piece of a submission: a file, or one notebook cell."""

    filename: str
    code: str


@dataclass(frozen=True)
class Submission:
    """A submission ready to grade: definitions to run, what was skipped, and answers."""

    name: str
    path: Path
    units: tuple[SourceUnit, ...]
    skipped: tuple[str, ...]
    answers: dict[str, Any] | None
    problems: tuple[str, ...]
    sha256: str
    # Per question and answer, where a report's number was read, or why none was (reports only).
    answer_notes: dict[str, dict[str, str]] = field(default_factory=dict)
    # A report's form (file, pages, paper), for the spec's page rule (reports only).
    report: ReportForm | None = None
    # The student's words for each question a person marks (reports and notebooks), with where they were read.
    texts: dict[str, AnswerText] = field(default_factory=dict)

    @property
    def has_code(self) -> bool:
        """Whether any definitions were found to run."""
        return any(u.code.strip() for u in self.units)


@dataclass(frozen=True)
class Discovery:
    """Submissions found under the given paths, and entries that are not submissions."""

    submissions: tuple[Path, ...]
    ignored: tuple[str, ...] = field(default=())


def _is_constant_expr(node: ast.AST) -> bool:
    """Literals, containers of them, arithmetic, names, attributes, and tensor constructors."""
    if isinstance(node, ast.Constant | ast.Name):
        return True
    if isinstance(node, ast.Attribute):
        return _is_constant_expr(node.value)
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return all(_is_constant_expr(e) for e in node.elts)
    if isinstance(node, ast.Dict):
        return all(k is None or _is_constant_expr(k) for k in node.keys) and all(
            _is_constant_expr(v) for v in node.values
        )
    if isinstance(node, ast.UnaryOp):
        return _is_constant_expr(node.operand)
    if isinstance(node, ast.BinOp):
        return _is_constant_expr(node.left) and _is_constant_expr(node.right)
    if isinstance(node, ast.IfExp):
        return all(_is_constant_expr(n) for n in (node.test, node.body, node.orelse))
    if isinstance(node, ast.Compare):
        return _is_constant_expr(node.left) and all(_is_constant_expr(c) for c in node.comparators)
    if isinstance(node, ast.BoolOp):
        return all(_is_constant_expr(v) for v in node.values)
    if isinstance(node, ast.Subscript):
        return _is_constant_expr(node.value) and _is_constant_expr(node.slice)
    if isinstance(node, ast.Slice):
        return all(p is None or _is_constant_expr(p) for p in (node.lower, node.upper, node.step))
    if isinstance(node, ast.Call):
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        return (
            name in _CONSTANT_CALLS
            and all(_is_constant_expr(a) for a in node.args)
            and all(_is_constant_expr(k.value) for k in node.keywords)
        )
    return False


def _keeps(node: ast.stmt) -> bool:
    """Whether a top-level statement only defines things (safe and quick to run)."""
    if isinstance(node, ast.Import | ast.ImportFrom | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return True
    if isinstance(node, ast.Assign | ast.AnnAssign):
        value = node.value
        return value is None or _is_constant_expr(value)
    if isinstance(node, ast.Try):
        blocks = [node.body, node.orelse, node.finalbody, *[h.body for h in node.handlers]]
        return all(_keeps(s) or isinstance(s, ast.Pass) for b in blocks for s in b)
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)  # a docstring


def _describe(node: ast.stmt, lines: list[str]) -> str:
    first = lines[node.lineno - 1].strip() if node.lineno - 1 < len(lines) else ""
    end = getattr(node, "end_lineno", node.lineno) or node.lineno
    where = f"line {node.lineno}" if end == node.lineno else f"lines {node.lineno}-{end}"
    return f"{where}: {first[:60]}"


def extract(code: str, filename: str) -> tuple[str, list[str], str | None]:
    """Keep only defining statements of ``code``, on their original lines.

    Returns:
        The code to run (skipped lines blanked, so line numbers stay the student's),
        descriptions of what was skipped, and a syntax error message or ``None``.
    """
    try:
        tree = ast.parse(code, filename=filename)
    except SyntaxError as exc:
        return "", [], f"{filename}, line {exc.lineno}: syntax error: {exc.msg}"
    except RecursionError:
        return "", [], f"{filename}: an expression is nested too deeply to be parsed (RecursionError)"
    except (ValueError, MemoryError) as exc:
        return "", [], f"{filename}: cannot be parsed ({type(exc).__name__}: {str(exc)[:100]})"
    lines = code.splitlines()
    keep = [True] * len(lines)
    skipped = []
    for node in tree.body:
        try:
            keeps = _keeps(node)
        except RecursionError:  # `x = 1+1+...+1` (thousands of terms) parses but nests too deeply to inspect
            return "", [], f"{filename}, line {node.lineno}: an expression is nested too deeply to be graded"
        if keeps:
            continue
        skipped.append(f"{filename} {_describe(node, lines)}")
        end = getattr(node, "end_lineno", node.lineno) or node.lineno
        for i in range(node.lineno - 1, min(end, len(lines))):
            keep[i] = False
    kept = "\n".join(line if k else "" for line, k in zip(lines, keep, strict=True))
    return kept, skipped, None


def _notebook_cells(path: Path) -> tuple[list[tuple[str, str]], list[str]]:
    """Code cells of a notebook with IPython-only lines blanked, or problems."""
    import nbformat

    try:
        nb = nbformat.read(str(path), as_version=4)  # type: ignore[no-untyped-call]
    except Exception as exc:  # nbformat raises many types for broken files
        return [], [f"{path.name}: not a readable notebook ({type(exc).__name__}: {str(exc)[:120]})"]
    cells = []
    for index, cell in enumerate(nb.get("cells", []), start=1):
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        lines = source.splitlines()
        if lines and lines[0].lstrip().startswith("%%"):
            magic = lines[0].split()[0]
            if magic not in ("%%time", "%%timeit", "%%capture"):
                continue  # %%bash, %%writefile...: not Python
            lines[0] = ""
        cleaned = [
            "" if line.lstrip().startswith(("%", "!", "?")) or line.rstrip().endswith("?") else line for line in lines
        ]
        cells.append((f"{path.name}, cell {index}", "\n".join(cleaned)))
    if not cells:
        return [], [f"{path.name}: the notebook has no code cells"]
    return cells, []


def _read_answers(path: Path) -> tuple[dict[str, Any] | None, list[str]]:
    if path.is_symlink():
        return None, ["answers.yaml is a symbolic link; it was not read"]
    if not path.is_file():
        return None, []
    if path.stat().st_size > MAX_ANSWERS_BYTES:
        return None, [f"answers.yaml is larger than {MAX_ANSWERS_BYTES // 1024} KiB"]
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=NoAliasLoader)  # a safe loader, without aliases
    except (yaml.YAMLError, UnicodeDecodeError, RecursionError) as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        problem = getattr(exc, "problem", None)
        why = f": {problem}" if isinstance(problem, str) and "alias" in problem else ""
        return None, [f"answers.yaml{where}: not valid YAML{why}"]
    if data is None:
        return {}, []
    if not isinstance(data, dict):
        return None, ["answers.yaml: expected a mapping of question ids to answers"]
    return {str(k): v for k, v in data.items()}, []


def load_submission(path: Path, spec: Spec | None = None) -> Submission:
    """Read one submission (file or folder) into definitions, skipped code and answers.

    A report (``.md``, ``.pdf``) gives code from its listings and answers from its
    numbers, which ``spec`` says to look for; a folder may hold one code file and one
    report (code from the file, numbers from the report) and an ``answers.yaml``.
    Never raises for the submission's own faults: a file that cannot be read (gone,
    no permission, not a regular file) becomes a problem of that submission.
    """
    try:
        return _load(path, spec)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        return _finish(path, (), [], None, [f"{path.name}: could not be read ({reason})"])


def _decode_source(raw: bytes, name: str) -> tuple[str | None, str | None]:
    """The text of a .py file in the encoding Python itself would use (PEP 263 cookie, else UTF-8)."""
    advice = "save it as UTF-8, or declare its encoding on line 1 (# -*- coding: latin-1 -*-)"
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
        return raw.decode(encoding), None
    except SyntaxError as exc:  # bad bytes in the first two lines, or an unknown encoding in the cookie
        try:
            raw.decode("utf-8-sig")
        except UnicodeDecodeError as bad:
            return None, f"{name}: not UTF-8 text (byte {bad.start}); {advice}"
        return None, f"{name}: {exc.msg}"
    except UnicodeDecodeError as exc:
        return None, f"{name}: not {exc.encoding.upper().replace('-SIG', '')} text (byte {exc.start}); {advice}"


def _load(path: Path, spec: Spec | None) -> Submission:
    problems: list[str] = []
    answers: dict[str, Any] | None = None
    source_path = path
    report: Path | None = None
    if path.is_dir():
        answers, answer_problems = _read_answers(path / "answers.yaml")
        problems += answer_problems
        candidates = sorted(
            p for p in path.iterdir() if p.suffix in SOURCE_SUFFIXES and p.is_file() and not p.is_symlink()
        )
        links = sorted(p.name for p in path.iterdir() if p.suffix in SOURCE_SUFFIXES and p.is_symlink())
        if links:
            problems.append(f"{', '.join(links)}: a symbolic link, not a file; it was not followed")
        code = [p for p in candidates if p.suffix in CODE_SUFFIXES]
        reports = [p for p in candidates if p.suffix in REPORT_SUFFIXES]
        if len(code) > 1 or len(reports) > 1 or not candidates:
            names = ", ".join(p.name for p in candidates) or "none"
            what = "one .py or .ipynb file" if len(reports) <= 1 else "one report (.md or .pdf)"
            problems.append(f"expected exactly {what} in the folder, found {names}")
            return _finish(path, (), [], answers, problems)
        source_path = code[0] if code else reports[0]
        report = reports[0] if code and reports else None
    if not source_path.is_file() or source_path.is_symlink():  # a FIFO would block the read for ever
        problems.append(f"{source_path.name}: not a regular file")
        return _finish(path, (), [], answers, problems)
    limit = {".ipynb": MAX_NOTEBOOK_BYTES, ".pdf": MAX_PDF_BYTES}.get(source_path.suffix, MAX_SOURCE_BYTES)
    if source_path.stat().st_size > limit:
        problems.append(f"{source_path.name} is larger than {limit >> 20} MiB")
        return _finish(path, (), [], answers, problems)
    if source_path.suffix == ".ipynb":
        cells, nb_problems = _notebook_cells(source_path)
        problems += nb_problems
        pieces = cells
        if sum(len(code) for _, code in cells) > MAX_SOURCE_BYTES:
            problems.append(f"{source_path.name}: its code cells hold more than {MAX_SOURCE_BYTES >> 20} MiB")
            return _finish(path, (), [], answers, problems)
        if spec is not None and any(q.review for q in spec.questions):
            ids, reviewed = [q.id for q in spec.questions], [q.id for q in spec.questions if q.review]
            texts = notebook_texts(source_path, ids, reviewed)
            done = _from_report(path, report, answers, problems, spec, pieces) if report else None
            done = done or _from_pieces(path, pieces, answers, problems)
            return replace(done, texts={**done.texts, **texts})
    elif source_path.suffix in REPORT_SUFFIXES:
        return _from_report(path, source_path, answers, problems, spec, [])
    else:
        text, error = _decode_source(source_path.read_bytes(), source_path.name)
        if text is None:
            problems.append(error or f"{source_path.name}: cannot be decoded")
            return _finish(path, (), [], answers, problems)
        pieces = [(source_path.name, text)]
        if not text.strip():
            problems.append(f"{source_path.name} is empty")
    if report is not None:  # code from the code file, the numbers from the report beside it
        return _from_report(path, report, answers, problems, spec, pieces)
    return _from_pieces(path, pieces, answers, problems)


def _from_report(
    path: Path,
    report: Path,
    given: dict[str, Any] | None,
    problems: list[str],
    spec: Spec | None,
    pieces: list[tuple[str, str]],
) -> Submission:
    """A submission from a report: its listings (unless ``pieces`` hold the code) and its numbers."""
    text = None
    if report.suffix == ".md":
        if report.stat().st_size > MAX_SOURCE_BYTES:
            problems.append(f"{report.name} is larger than {MAX_SOURCE_BYTES >> 20} MiB")
            return _finish(path, (), [], given, problems)
        text, error = _decode_source(report.read_bytes(), report.name)
        if text is None:
            problems.append(error or f"{report.name}: cannot be decoded")
            return _finish(path, (), [], given, problems)
    found = read_report(report, text, spec, code_too=not pieces)
    answers, notes = merge_answers(found, given)
    done = _from_pieces(path, pieces or found.pieces, answers, problems + found.problems)
    return replace(done, answer_notes=notes, report=found.form, texts=found.texts)


def _from_pieces(
    path: Path, pieces: list[tuple[str, str]], answers: dict[str, Any] | None, problems: list[str]
) -> Submission:
    """A submission from named pieces of source: only their definitions are kept (see :func:`extract`)."""
    units: list[SourceUnit] = []
    skipped: list[str] = []
    for filename, code in pieces:
        kept, skip, error = extract(code, filename)
        if error:
            problems.append(error)
            continue
        skipped += skip
        units.append(SourceUnit(filename, kept))
    return _finish(path, tuple(units), skipped, answers, problems)


def submission_from_cells(name: str, cells: list[tuple[str, str]]) -> Submission:
    """A submission from code that is not in a file (a kernel's cells), named ``name``.

    Each cell is a unit of its own, so a message says "cell 3, line 4"; a cell that
    does not parse is reported and the others are still graded.
    """
    problems = [] if any(code.strip() for _, code in cells) else ["no code has been run yet"]
    return _from_pieces(Path(name), cells, None, problems)


def _finish(
    path: Path,
    units: tuple[SourceUnit, ...],
    skipped: list[str],
    answers: dict[str, Any] | None,
    problems: list[str],
) -> Submission:
    h = hashlib.sha256()
    for u in units:
        h.update(u.filename.encode() + b"\0" + u.code.encode() + b"\0")
    h.update(json.dumps(answers, sort_keys=True, default=str).encode())
    name = path.stem if path.is_file() else path.name
    return Submission(name, path, units, tuple(skipped), answers, tuple(problems), h.hexdigest())


def is_submission(path: Path) -> bool:
    """Whether ``path`` is one submission: a source file, or a folder of exactly one (or with answers).

    A folder holding several source files and no ``answers.yaml`` is a folder *of*
    submissions, not one submission.
    """
    if path.is_symlink():
        return False
    if path.is_file():
        return path.suffix in SOURCE_SUFFIXES
    if path.is_dir():
        if (path / "answers.yaml").is_file():
            return True
        sources = [p for p in path.iterdir() if p.suffix in SOURCE_SUFFIXES and p.is_file()]
        subfolders = [p for p in path.iterdir() if p.is_dir() and not p.name.startswith(".")]
        return len(sources) == 1 and not subfolders
    return False


def _is_student_folder(path: Path) -> bool:
    """A folder inside a class folder that holds source files is one student's, even with several.

    Grading it reports "expected exactly one file" to that student; treating it as a
    folder of submissions would grade old drafts, and ignoring it would lose a student.
    """
    if path.is_symlink() or not path.is_dir():
        return False
    return any(p.suffix in SOURCE_SUFFIXES for p in path.iterdir())


def discover(paths: list[Path], out: Path | None = None) -> Discovery:
    """Expand the given paths into submissions; a folder of submissions yields each of them.

    A folder counts as one submission when it directly holds a source file or an
    ``answers.yaml``; otherwise each entry inside is considered.  Anything that is
    not a submission is listed in ``ignored`` with the reason, never fatal.  The
    output folder ``out`` is never a submission (``grade . --out out`` would
    otherwise grade its own feedback PDFs as a report on the second run).
    """
    found: list[Path] = []
    ignored: list[str] = []
    skip = out.resolve() if out is not None else None
    for path in paths:
        if skip is not None and path.resolve() == skip:
            ignored.append(f"{path}: the output folder, not a submission")
        elif not path.exists():
            ignored.append(f"{path}: does not exist")
        elif is_submission(path):
            found.append(path)
        elif path.is_dir():
            for entry in sorted(path.iterdir()):
                if entry.name.startswith("."):
                    continue
                if skip is not None and entry.resolve() == skip:
                    ignored.append(f"{entry}: the output folder, not a submission")
                elif is_submission(entry) or _is_student_folder(entry):
                    found.append(entry)
                else:
                    ignored.append(f"{entry}: not a submission (.py, .ipynb or a folder of one)")
        else:
            ignored.append(f"{path}: not a submission (.py, .ipynb or a folder of one)")
    return Discovery(tuple(found), tuple(ignored))
