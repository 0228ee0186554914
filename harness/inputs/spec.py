"""Load and validate a lab spec (YAML) into frozen dataclasses.

Every problem in a spec is collected, not just the first, and each names the
file, the key path and the line: ``specs/lab1.yaml: questions[2].marks (line 41):
expected a number > 0, got "one"``.  Unknown keys are errors, because a typo such
as ``mark:`` for ``marks:`` would otherwise silently change a grade.  Nothing here
knows the questions of lab 1: a shorter or different lab loads the same way.
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from harness.errors import SpecError
from harness.inputs.rubric import ReviewSpec, read_review
from harness.inputs.schema import (
    ANSWER_TYPES,
    BAND_KEYS,
    CHECK_PARAMS,
    DIAGNOSES,
    ESSENTIALS,
    FLAG_POLICIES,
    FLAGS,
    LIMIT_DEFAULTS,
    MASKED_ESSENTIALS,
    OPTIONAL_CHECK_PARAMS,
    PAPERS,
    PARAM_PASSING,
    QUESTION_KINDS,
    SCHEMA_VERSION,
)
from harness.inputs.yamlsource import KeyPath, YamlDocument, format_key_path, read_yaml
from reference.catalogue import ALGORITHMS, LOWER_BOUNDS

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_DATASETS = ("ratings", "titles")


@dataclass(frozen=True)
class InputSpec:
    """A named input of the lab: a literal matrix, or a dataset supplied at run time."""

    name: str
    matrix: tuple[tuple[float, ...], ...] | None = None
    dataset: str | None = None

    @property
    def shape(self) -> tuple[int, int] | None:
        """The matrix's (rows, columns), or ``None`` for a dataset."""
        if self.matrix is None:
            return None
        return (len(self.matrix), len(self.matrix[0]))


@dataclass(frozen=True)
class ExperimentSpec:
    """One reference computation whose distribution over seeds the checks compare with."""

    name: str
    algorithm: str
    args: Mapping[str, Any]
    seeds: int


@dataclass(frozen=True)
class ParamSpec:
    """One parameter of a function students must write."""

    name: str
    annotation: str | None = None
    has_default: bool = False
    default: Any = None
    keyword: bool = True  # callers pass it by keyword (renaming it breaks them); else by position only


@dataclass(frozen=True)
class FunctionSpec:
    """The signature students must implement: name, parameters in order, return annotation."""

    name: str
    params: tuple[ParamSpec, ...]
    returns: str | None = None


@dataclass(frozen=True)
class BandSpec:
    """How a grading band is derived from a reference distribution (see ``reference.bands``)."""

    quantiles: tuple[float, float] = (0.0, 1.0)
    slack: float = 0.0
    rtol: float = 1e-4
    lower_bound: str = "none"


@dataclass(frozen=True)
class CheckSpec:
    """A check to run for a question: a registered kind and its parameters."""

    kind: str
    params: Mapping[str, Any]
    visible: bool = True
    weight: float = 1.0


@dataclass(frozen=True)
class EssentialSpec:
    """What an answer must do before its shares count; failing it caps the question at ``cap`` x marks."""

    kind: str
    cap: float = 0.0
    reason: str = ""


@dataclass(frozen=True)
class AnswerSpec:
    """A numeric answer students report in ``answers.yaml``."""

    name: str
    type: str
    shape: tuple[int, int] | None = None


@dataclass(frozen=True)
class QuestionSpec:
    """One question of the lab, with its marks, what is checked and what needs a human."""

    id: str
    title: str
    kind: str
    marks: float
    function: FunctionSpec | None
    experiment: str | None
    answers: tuple[AnswerSpec, ...]
    checks: tuple[CheckSpec, ...]
    free_text: tuple[str, ...]
    essentials: tuple[EssentialSpec, ...] = ()
    review: ReviewSpec | None = None  # the part a person marks (its points come out of ``marks``)

    @property
    def automatic_marks(self) -> float:
        """The marks the checks award: all of them, less the reviewed part."""
        return self.marks - (self.review.points if self.review else 0.0)


@dataclass(frozen=True)
class Limits:
    """Sandbox limits for each call of a student function."""

    time_per_call_s: float
    cpu_per_call_s: float
    memory_mib: float
    processes: int
    output_bytes: int


@dataclass(frozen=True)
class SimilaritySpec:
    """The similarity pass's policy: the score from which a pair is listed for review, and the code every student got.

    ``handed_out`` is the code the lab text gives to every student (signatures,
    imports, a function to use): it is excluded from the comparison (MOSS's
    base file), or everyone would match everyone.
    """

    threshold: float = 0.6
    handed_out: str = ""


@dataclass(frozen=True)
class ReportSpec:
    """What the lab asks of a report's form: at most ``max_pages`` pages of ``paper`` (``None``: no rule)."""

    max_pages: int | None = None
    paper: str | None = None


#: What a function handed in under another name costs: the signature check's share, or nothing.
RENAME_COSTS = ("signature", "none")


@dataclass(frozen=True)
class RenamedSpec:
    """The policy for a lab function handed in under another name (``sgd_factorize``).

    ``recover``: find it and grade it with every check (else it is "not defined").
    ``cost``: ``signature`` fails the signature check (its share is the name's price),
    ``none`` only notes the name.  ``never``: functions that never answer a question
    (the lab's handed-out ones, besides those in ``similarity.handed_out``).
    """

    recover: bool = True
    cost: str = "signature"
    never: tuple[str, ...] = ()


@dataclass(frozen=True)
class Spec:
    """A whole lab as validated data, with the hash that identifies its content."""

    path: str
    schema_version: int
    id: str
    title: str
    inputs: Mapping[str, InputSpec]
    experiments: Mapping[str, ExperimentSpec]
    questions: tuple[QuestionSpec, ...]
    limits: Limits
    total_marks: float
    sha256: str = field(repr=False)
    experiments_sha256: str = field(default="", repr=False)
    flags: Mapping[str, str] = field(default_factory=lambda: MappingProxyType(dict.fromkeys(FLAGS, "keep")))
    similarity: SimilaritySpec = field(default_factory=SimilaritySpec)
    report: ReportSpec = field(default_factory=ReportSpec)
    renamed: RenamedSpec = field(default_factory=RenamedSpec)

    def question(self, question_id: str) -> QuestionSpec:
        """Return the question with id ``question_id`` (``KeyError`` if there is none)."""
        for q in self.questions:
            if q.id == question_id:
                return q
        raise KeyError(question_id)

    def datasets(self) -> set[str]:
        """Names of the datasets (``ratings``, ``titles``) the experiments need."""
        return {i.dataset for i in self.inputs.values() if i.dataset is not None}


class _Problems:
    """Collects validation problems, each with its key path and line."""

    def __init__(self, doc: YamlDocument) -> None:
        self.doc = doc
        self.items: list[str] = list(doc.duplicates)

    def add(self, key_path: KeyPath, message: str) -> None:
        line = self.doc.line_of(key_path)
        where = format_key_path(key_path) + (f" (line {line})" if line else "")
        self.items.append(f"{where}: {message}")


def _show(value: Any) -> str:
    """Describe a bad value briefly for a message (strings quoted, long ones cut)."""
    text = json.dumps(value, default=str) if not isinstance(value, bool) else str(value).lower()
    return text if len(text) <= 60 else text[:57] + "..."


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


class _Missing:
    """A required key that is absent: already reported once, so accessors stay quiet."""


MISSING: Any = _Missing()


class _Reader:
    """Typed accessors over a mapping that report problems instead of raising.

    Each accessor returns a harmless default after reporting, so validation goes
    on and every problem of the file is listed in one run.
    """

    def __init__(self, problems: _Problems, accepted: dict[str, set[str]] | None = None) -> None:
        self.p = problems
        self.accepted = accepted  # where given: every mapping's allowed keys, by key path (lists as [])

    def mapping(
        self,
        value: Any,
        path: KeyPath,
        required: set[str],
        optional: set[str],
    ) -> dict[str, Any] | None:
        if self.accepted is not None:
            where = ".".join("[]" if isinstance(k, int) else str(k) for k in path).replace(".[]", "[]")
            self.accepted.setdefault(where, set()).update(required | optional)
        if value is MISSING:
            return None
        if not isinstance(value, dict):
            self.p.add(path, f"expected a mapping, got {_show(value)}")
            return None
        for key in value:
            if key not in required | optional:
                allowed = ", ".join(sorted(required | optional))
                self.p.add((*path, str(key)), f"unknown key (allowed: {allowed})")
        for key in sorted(required - set(value)):
            self.p.add(path, f"missing required key '{key}'")
        return {**dict.fromkeys(required, MISSING), **value}

    def string(self, value: Any, path: KeyPath, pattern: re.Pattern[str] | None = None) -> str:
        if value is MISSING:
            return ""
        if not isinstance(value, str) or not value.strip():
            self.p.add(path, f"expected a non-empty string, got {_show(value)}")
            return ""
        if pattern is not None and not pattern.match(value):
            self.p.add(path, f"expected an identifier (letters, digits, _), got {_show(value)}")
        return value

    def number(self, value: Any, path: KeyPath, minimum: float, strict: bool) -> float:
        if value is MISSING:
            return 0.0
        ok = _is_number(value) and (value > minimum if strict else value >= minimum)
        if not ok:
            bound = f"> {minimum:g}" if strict else f">= {minimum:g}"
            self.p.add(path, f"expected a number {bound}, got {_show(value)}")
            return 0.0
        return float(value)

    def integer(self, value: Any, path: KeyPath, minimum: int) -> int:
        if value is MISSING:
            return 0
        if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
            self.p.add(path, f"expected an integer >= {minimum}, got {_show(value)}")
            return 0
        return value

    def boolean(self, value: Any, path: KeyPath) -> bool:
        if not isinstance(value, bool):
            self.p.add(path, f"expected true or false, got {_show(value)}")
            return False
        return value

    def choice(self, value: Any, path: KeyPath, choices: tuple[str, ...]) -> str:
        if value is MISSING:
            return ""
        if value not in choices:
            self.p.add(path, f"expected one of {', '.join(choices)}, got {_show(value)}")
            return ""
        return str(value)

    def sequence(self, value: Any, path: KeyPath) -> list[Any]:
        if value is MISSING:
            return []
        if not isinstance(value, list):
            self.p.add(path, f"expected a list, got {_show(value)}")
            return []
        return value


def _read_matrix(r: _Reader, value: Any, path: KeyPath) -> tuple[tuple[float, ...], ...] | None:
    rows = r.sequence(value, path)
    if not rows:
        if isinstance(value, list):
            r.p.add(path, "expected a non-empty list of rows")
        return None
    width = len(rows[0]) if isinstance(rows[0], list) else -1
    out: list[tuple[float, ...]] = []
    for i, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != width or width == 0:
            r.p.add((*path, i), f"expected a row of {max(width, 1)} numbers, got {_show(row)}")
            return None
        for j, x in enumerate(row):
            if not _is_number(x):
                r.p.add((*path, i, j), f"expected a number, got {_show(x)}")
                return None
        out.append(tuple(float(x) for x in row))
    return tuple(out)


def _read_inputs(r: _Reader, raw: Any) -> dict[str, InputSpec]:
    path: KeyPath = ("inputs",)
    if raw is MISSING:
        return {}
    if not isinstance(raw, dict):
        r.p.add(path, f"expected a mapping of input names, got {_show(raw)}")
        return {}
    inputs: dict[str, InputSpec] = {}
    for name, body in raw.items():
        ipath = (*path, str(name))
        r.string(name, ipath, _IDENTIFIER)
        m = r.mapping(body, ipath, set(), {"matrix", "dataset"})
        if m is None:
            continue
        if ("matrix" in m) == ("dataset" in m):
            r.p.add(ipath, "expected exactly one of 'matrix' or 'dataset'")
            continue
        if "matrix" in m:
            inputs[str(name)] = InputSpec(str(name), matrix=_read_matrix(r, m["matrix"], (*ipath, "matrix")))
        else:
            ds = r.choice(m["dataset"], (*ipath, "dataset"), _DATASETS)
            inputs[str(name)] = InputSpec(str(name), dataset=ds)
    return inputs


def _check_arg(r: _Reader, kind: str, value: Any, path: KeyPath, inputs: Mapping[str, InputSpec]) -> None:
    if kind in ("matrix", "mask", "ratings", "titles"):
        target = inputs.get(value) if isinstance(value, str) else None
        if target is None:
            r.p.add(path, f"expected the name of an input ({', '.join(inputs)}), got {_show(value)}")
        elif kind in ("matrix", "mask") and target.matrix is None:
            r.p.add(path, f"input '{value}' is a dataset; expected a matrix input")
        elif kind in ("ratings", "titles") and target.dataset != kind:
            r.p.add(path, f"input '{value}' is not the {kind} dataset")
        elif (
            kind == "mask"
            and target.matrix is not None
            and any(x not in (0.0, 1.0) for row in target.matrix for x in row)
        ):
            r.p.add(path, f"input '{value}' must hold only 0 and 1 to be used as a mask")
    elif kind == "int":
        r.integer(value, path, 0)
    else:
        r.string(value, path)


def _read_experiments(r: _Reader, raw: Any, inputs: Mapping[str, InputSpec]) -> dict[str, ExperimentSpec]:
    path: KeyPath = ("experiments",)
    if raw is MISSING:
        return {}
    if not isinstance(raw, dict):
        r.p.add(path, f"expected a mapping of experiment names, got {_show(raw)}")
        return {}
    out: dict[str, ExperimentSpec] = {}
    for name, body in raw.items():
        epath = (*path, str(name))
        r.string(name, epath, _IDENTIFIER)
        m = r.mapping(body, epath, {"algorithm", "args"}, {"seeds"})
        if m is None:
            continue
        algorithm = r.choice(m.get("algorithm"), (*epath, "algorithm"), tuple(ALGORITHMS))
        args = m.get("args")
        seeds = 1
        if algorithm:
            info = ALGORITHMS[algorithm]
            am = r.mapping(args, (*epath, "args"), set(info.args), set())
            if am is not None:
                for arg, kind in info.args.items():
                    if arg in am:
                        _check_arg(r, kind, am[arg], (*epath, "args", arg), inputs)
                _check_rank(r, am, epath, inputs)
            if info.seeded:
                seeds = r.integer(m.get("seeds"), (*epath, "seeds"), 1)
            elif "seeds" in m:
                r.p.add((*epath, "seeds"), f"'{algorithm}' is deterministic; remove 'seeds'")
        out[str(name)] = ExperimentSpec(
            name=str(name),
            algorithm=algorithm,
            args=MappingProxyType(dict(args) if isinstance(args, dict) else {}),
            seeds=seeds,
        )
    return out


def _check_rank(r: _Reader, args: Mapping[str, Any], epath: KeyPath, inputs: Mapping[str, InputSpec]) -> None:
    """A rank must be below min(m, n) (the lab's r < min(m, n)), and a mask fit its matrix."""
    a_name, m_name = args.get("A"), args.get("M")
    matrix = inputs.get(a_name) if isinstance(a_name, str) else None
    if matrix is None or matrix.shape is None:
        return
    rank = args.get("rank")
    if isinstance(rank, int) and not isinstance(rank, bool) and not 0 < rank < min(matrix.shape):
        r.p.add((*epath, "args", "rank"), f"expected 0 < rank < {min(matrix.shape)}, got {rank}")
    mask = inputs.get(m_name) if isinstance(m_name, str) else None
    if mask is not None and mask.shape is not None and mask.shape != matrix.shape:
        r.p.add((*epath, "args", "M"), f"mask shape {mask.shape} differs from A's {matrix.shape}")


def _read_band(r: _Reader, value: Any, path: KeyPath) -> BandSpec:
    m = r.mapping(value, path, set(), set(BAND_KEYS))
    if m is None:
        return BandSpec()
    quantiles = (0.0, 1.0)
    if "quantiles" in m:
        q = m["quantiles"]
        if isinstance(q, list) and len(q) == 2 and all(_is_number(x) for x in q) and 0 <= q[0] <= q[1] <= 1:
            quantiles = (float(q[0]), float(q[1]))
        else:
            r.p.add((*path, "quantiles"), f"expected [low, high] with 0 <= low <= high <= 1, got {_show(q)}")
    slack = r.number(m["slack"], (*path, "slack"), 0, strict=False) if "slack" in m else 0.0
    rtol = r.number(m["rtol"], (*path, "rtol"), 0, strict=False) if "rtol" in m else 1e-4
    bound = "none"
    if "lower_bound" in m:
        bound = r.choice(m["lower_bound"], (*path, "lower_bound"), LOWER_BOUNDS)
    return BandSpec(quantiles=quantiles, slack=slack, rtol=rtol, lower_bound=bound or "none")


def _read_check(r: _Reader, raw: Any, path: KeyPath) -> CheckSpec | None:
    if not isinstance(raw, dict):
        r.p.add(path, f"expected a mapping with 'kind', got {_show(raw)}")
        return None
    kind = r.choice(raw.get("kind"), (*path, "kind"), tuple(CHECK_PARAMS))
    if not kind:
        return None
    schema = CHECK_PARAMS[kind]
    optional = OPTIONAL_CHECK_PARAMS.get(kind, set())
    m = r.mapping(raw, path, {"kind"} | (set(schema) - optional), {"visible", "weight"} | optional)
    if m is None:
        return None
    params: dict[str, Any] = {}
    for key, typ in schema.items():
        if key not in m:
            continue
        kpath = (*path, key)
        value = m[key]
        if typ == "str":
            params[key] = r.string(value, kpath)
        elif typ == "number":
            params[key] = r.number(value, kpath, 0, strict=True)
        elif typ == "band":
            params[key] = _read_band(r, value, kpath)
        elif typ == "list[str]":
            items = r.sequence(value, kpath)
            for i, item in enumerate(items):
                r.choice(item, (*kpath, i), DIAGNOSES)
            params[key] = tuple(str(x) for x in items)
    visible = r.boolean(m["visible"], (*path, "visible")) if "visible" in m else True
    weight = r.number(m["weight"], (*path, "weight"), 0, strict=False) if "weight" in m else 1.0
    return CheckSpec(kind=kind, params=MappingProxyType(params), visible=visible, weight=weight)


def _read_function(r: _Reader, raw: Any, path: KeyPath) -> FunctionSpec | None:
    m = r.mapping(raw, path, {"name", "params"}, {"returns"})
    if m is None:
        return None
    name = r.string(m.get("name"), (*path, "name"), _IDENTIFIER)
    params: list[ParamSpec] = []
    seen: set[str] = set()
    for i, p in enumerate(r.sequence(m.get("params"), (*path, "params"))):
        ppath = (*path, "params", i)
        pm = r.mapping(p, ppath, {"name"}, {"annotation", "default", "passed"})
        if pm is None:
            continue
        passed = r.choice(pm["passed"], (*ppath, "passed"), PARAM_PASSING) if "passed" in pm else "keyword"
        pname = r.string(pm.get("name"), (*ppath, "name"), _IDENTIFIER)
        if pname in seen:
            r.p.add((*ppath, "name"), f"parameter '{pname}' appears twice")
        seen.add(pname)
        annotation = r.string(pm["annotation"], (*ppath, "annotation")) if "annotation" in pm else None
        if params and params[-1].has_default and "default" not in pm:
            r.p.add(ppath, "a parameter without a default cannot follow one with a default")
        params.append(ParamSpec(pname, annotation, "default" in pm, pm.get("default"), passed != "position"))
    returns = r.string(m["returns"], (*path, "returns")) if "returns" in m else None
    return FunctionSpec(name=name, params=tuple(params), returns=returns)


def _read_answers(r: _Reader, raw: Any, path: KeyPath) -> tuple[AnswerSpec, ...]:
    if not isinstance(raw, dict):
        r.p.add(path, f"expected a mapping of answer names, got {_show(raw)}")
        return ()
    out: list[AnswerSpec] = []
    for name, body in raw.items():
        apath = (*path, str(name))
        r.string(name, apath, _IDENTIFIER)
        m = r.mapping(body, apath, {"type"}, {"shape"})
        if m is None:
            continue
        typ = r.choice(m.get("type"), (*apath, "type"), ANSWER_TYPES)
        shape = None
        if typ == "matrix":
            s = m.get("shape")
            if isinstance(s, list) and len(s) == 2 and all(isinstance(x, int) and x > 0 for x in s):
                shape = (int(s[0]), int(s[1]))
            else:
                r.p.add((*apath, "shape"), f"expected [rows, columns] for a matrix answer, got {_show(s)}")
        elif "shape" in m:
            r.p.add((*apath, "shape"), "only a matrix answer has a shape")
        out.append(AnswerSpec(name=str(name), type=typ, shape=shape))
    return tuple(out)


def _read_essentials(r: _Reader, raw: Any, path: KeyPath, masked: bool) -> tuple[EssentialSpec, ...]:
    """Essentials with their caps; a cap above 0 must say why (the reason is shown to students)."""
    out: list[EssentialSpec] = []
    seen: set[str] = set()
    for i, item in enumerate(r.sequence(raw, path)):
        epath = (*path, i)
        m = r.mapping(item, epath, {"kind"}, {"cap", "reason"})
        if m is None:
            continue
        kind = r.choice(m["kind"], (*epath, "kind"), ESSENTIALS)
        if kind in seen:
            r.p.add((*epath, "kind"), f"essential '{kind}' appears twice")
        seen.add(kind)
        if kind in MASKED_ESSENTIALS and not masked:
            r.p.add((*epath, "kind"), f"'{kind}' needs a question whose experiment has a mask M")
        cap = r.number(m["cap"], (*epath, "cap"), 0, strict=False) if "cap" in m else 0.0
        if cap > 1:
            r.p.add((*epath, "cap"), f"expected a share of the question's marks between 0 and 1, got {_show(m['cap'])}")
        reason = r.string(m["reason"], (*epath, "reason")) if "reason" in m else ""
        if cap > 0 and not reason:
            r.p.add(epath, "a cap above 0 needs a 'reason' (it is what the student reads)")
        out.append(EssentialSpec(kind, min(cap, 1.0), reason))
    return tuple(out)


def _read_question(r: _Reader, raw: Any, index: int, experiments: Mapping[str, ExperimentSpec]) -> QuestionSpec | None:
    path: KeyPath = ("questions", index)
    m = r.mapping(
        raw,
        path,
        {"id", "title", "kind", "marks", "checks"},
        {"function", "experiment", "answers", "free_text", "essentials", "review"},
    )
    if m is None:
        return None
    qid = m.get("id")
    if qid is MISSING:
        qid = ""
    elif not isinstance(qid, str) or not qid.strip():
        r.p.add((*path, "id"), f'expected a question id as a quoted string such as "1.1", got {_show(qid)}')
        qid = ""
    kind = r.choice(m.get("kind"), (*path, "kind"), QUESTION_KINDS)
    function = None
    if kind == "function":
        if "function" not in m:
            r.p.add(path, "a question of kind 'function' needs a 'function' signature")
        else:
            function = _read_function(r, m["function"], (*path, "function"))
    elif "function" in m:
        r.p.add((*path, "function"), "only a question of kind 'function' has a signature")
    answers: tuple[AnswerSpec, ...] = ()
    if "answers" in m:
        answers = _read_answers(r, m["answers"], (*path, "answers"))
    elif kind == "answer":
        r.p.add(path, "a question of kind 'answer' needs 'answers'")
    experiment = None
    if "experiment" in m:
        experiment = r.choice(m["experiment"], (*path, "experiment"), tuple(experiments))
    checks = []
    for i, c in enumerate(r.sequence(m.get("checks"), (*path, "checks"))):
        check = _read_check(r, c, (*path, "checks", i))
        if check is not None:
            checks.append(check)
    _cross_check(r, path, checks, answers, experiment, experiments)
    essentials: tuple[EssentialSpec, ...] = ()
    if "essentials" in m:
        if kind != "function" or experiment is None:
            r.p.add((*path, "essentials"), "only a question of kind 'function' with an 'experiment' has essentials")
        else:
            masked = "M" in experiments[experiment].args if experiment in experiments else False
            essentials = _read_essentials(r, m["essentials"], (*path, "essentials"), masked)
    free = r.sequence(m.get("free_text", []), (*path, "free_text"))
    for i, text in enumerate(free):
        r.string(text, (*path, "free_text", i))
    marks = r.number(m.get("marks"), (*path, "marks"), 0, strict=True)
    review = read_review(r, m["review"], (*path, "review"), marks) if "review" in m else None
    return QuestionSpec(
        id=qid,
        title=r.string(m.get("title"), (*path, "title")),
        kind=kind,
        marks=marks,
        function=function,
        experiment=experiment,
        answers=answers,
        checks=tuple(checks),
        free_text=tuple(str(t) for t in free),
        essentials=essentials,
        review=review,
    )


def _cross_check(
    r: _Reader,
    path: KeyPath,
    checks: list[CheckSpec],
    answers: tuple[AnswerSpec, ...],
    experiment: str | None,
    experiments: Mapping[str, ExperimentSpec],
) -> None:
    """Names a check uses (answer, experiment, quantity) must exist in the spec."""
    answer_names = {a.name for a in answers}
    for i, check in enumerate(checks):
        cpath = (*path, "checks", i)
        exp_name = check.params.get("experiment", experiment)
        if "answer" in check.params and check.params["answer"] not in answer_names:
            r.p.add((*cpath, "answer"), f"no answer named {_show(check.params['answer'])} in this question")
        if "experiment" in check.params and exp_name not in experiments:
            r.p.add((*cpath, "experiment"), f"no experiment named {_show(exp_name)}")
            continue
        if check.kind in ("loss_band", "step_for_step", "diagnose") and experiment is None:
            r.p.add(cpath, f"check '{check.kind}' needs the question's 'experiment'")
            continue
        algorithm = experiments[exp_name].algorithm if exp_name in experiments else ""
        if not algorithm:
            continue
        info = ALGORITHMS[algorithm]
        quantity = check.params.get("quantity")
        if quantity is not None and quantity not in info.quantities:
            r.p.add(
                (*cpath, "quantity"),
                f"'{algorithm}' yields {', '.join(info.quantities)}; got {_show(quantity)}",
            )
        band = check.params.get("band")
        if (
            isinstance(band, BandSpec)
            and band.lower_bound not in ("none", "zero")
            and (band.lower_bound not in info.bounds or quantity != "loss")
        ):
            r.p.add(
                (*cpath, "band", "lower_bound"),
                f"'{band.lower_bound}' bounds the 'loss' of "
                f"{', '.join(a for a, i in ALGORITHMS.items() if band.lower_bound in i.bounds)}; "
                f"not the {quantity or 'answer'} of '{algorithm}'",
            )


def _read_flags(r: _Reader, raw: Any) -> dict[str, str]:
    """The mark policy of each integrity flag: ``keep`` (flag for review, the default) or ``zero``."""
    policies = dict.fromkeys(FLAGS, "keep")
    m = r.mapping(raw, ("flags",), set(), set(FLAGS)) if raw is not None else None
    for key, value in (m or {}).items():
        if key in policies:
            policies[key] = r.choice(value, ("flags", key), FLAG_POLICIES) or "keep"
    return policies


def _read_similarity(r: _Reader, raw: Any) -> SimilaritySpec:
    """``similarity: {threshold: 0..1, handed_out: <Python source>}``; both optional."""
    if raw is None:
        return SimilaritySpec()
    m = r.mapping(raw, ("similarity",), set(), {"threshold", "handed_out"})
    if m is None:
        return SimilaritySpec()
    threshold = SimilaritySpec.threshold
    if "threshold" in m:
        threshold = r.number(m["threshold"], ("similarity", "threshold"), 0, strict=True)
        if threshold > 1:
            r.p.add(("similarity", "threshold"), f"expected a share between 0 and 1, got {_show(threshold)}")
    handed_out = r.string(m["handed_out"], ("similarity", "handed_out")) if "handed_out" in m else ""
    try:
        ast.parse(handed_out)
    except SyntaxError as exc:
        r.p.add(("similarity", "handed_out"), f"expected Python source; line {exc.lineno}: {exc.msg}")
    return SimilaritySpec(threshold=threshold, handed_out=handed_out)


def _read_report(r: _Reader, raw: Any) -> ReportSpec:
    """``report: {max_pages: N, paper: A4}``: the form the lab text asks of a report; both optional."""
    if raw is None:
        return ReportSpec()
    m = r.mapping(raw, ("report",), set(), {"max_pages", "paper"})
    if m is None:
        return ReportSpec()
    pages = None
    if "max_pages" in m:
        pages = r.number(m["max_pages"], ("report", "max_pages"), 1, strict=False)
        if pages is not None and pages != int(pages):
            r.p.add(("report", "max_pages"), f"expected a whole number of pages, got {_show(pages)}")
    paper = r.choice(m["paper"], ("report", "paper"), tuple(PAPERS)) or None if "paper" in m else None
    return ReportSpec(int(pages) if pages is not None else None, paper)


def _read_renamed(r: _Reader, raw: Any) -> RenamedSpec:
    """``renamed: {recover: true, cost: signature, never: [gd_factorise_masked]}``; every key optional."""
    if raw is None:
        return RenamedSpec()
    m = r.mapping(raw, ("renamed",), set(), {"recover", "cost", "never"})
    if m is None:
        return RenamedSpec()
    recover = r.boolean(m["recover"], ("renamed", "recover")) if "recover" in m else True
    cost = (r.choice(m["cost"], ("renamed", "cost"), RENAME_COSTS) or "signature") if "cost" in m else "signature"
    never: list[str] = []
    for i, name in enumerate(r.sequence(m.get("never", []), ("renamed", "never"))):
        never.append(r.string(name, ("renamed", "never", i), _IDENTIFIER))
    return RenamedSpec(recover, cost, tuple(never))


def _read_limits(r: _Reader, raw: Any) -> Limits:
    values = dict(LIMIT_DEFAULTS)
    if raw is not None:
        m = r.mapping(raw, ("limits",), set(), set(LIMIT_DEFAULTS))
        for key in LIMIT_DEFAULTS:
            if m is not None and key in m:
                values[key] = r.number(m[key], ("limits", key), 0, strict=True)
    return Limits(
        time_per_call_s=values["time_per_call_s"],
        cpu_per_call_s=values["cpu_per_call_s"],
        memory_mib=values["memory_mib"],
        processes=int(values["processes"]),
        output_bytes=int(values["output_bytes"]),
    )


def validate_spec(doc: YamlDocument, sha256: str, accepted: dict[str, set[str]] | None = None) -> Spec:
    """Validate parsed YAML as a spec; raise :class:`SpecError` listing every problem.

    ``accepted``, where given, collects every key the loader accepts at each key path it
    visits: the spec reference (docs/) is generated from it, so the two cannot drift.
    """
    problems = _Problems(doc)
    r = _Reader(problems, accepted)
    top = r.mapping(
        doc.data,
        (),
        {"schema_version", "id", "title", "inputs", "experiments", "questions"},
        {"limits", "total_marks", "flags", "similarity", "report", "renamed"},
    )
    if top is None:
        raise SpecError(doc.path, problems.items)
    version = top.get("schema_version")
    if version is not MISSING and version != SCHEMA_VERSION:
        # Nothing else is meaningful under another schema: report this alone.
        problems.add(
            ("schema_version",),
            f"this harness reads schema_version {SCHEMA_VERSION}, got {_show(version)}",
        )
        raise SpecError(doc.path, problems.items)
    inputs = _read_inputs(r, top.get("inputs", {}))
    experiments = _read_experiments(r, top.get("experiments", {}), inputs)
    questions: list[QuestionSpec] = []
    seen: dict[str, int] = {}
    for i, raw in enumerate(r.sequence(top.get("questions"), ("questions",))):
        q = _read_question(r, raw, i, experiments)
        if q is None:
            continue
        if q.id and q.id in seen:
            problems.add(("questions", i, "id"), f'duplicate question id "{q.id}" (also questions[{seen[q.id]}])')
        seen.setdefault(q.id, i)
        questions.append(q)
    if "questions" in top and isinstance(top["questions"], list) and not top["questions"]:
        problems.add(("questions",), "expected at least one question")
    total = sum(q.marks for q in questions)
    if "total_marks" in top:
        declared = r.number(top["total_marks"], ("total_marks",), 0, strict=True)
        if declared and abs(declared - total) > 1e-9:
            problems.add(("total_marks",), f"declared {declared:g} but the questions' marks add up to {total:g}")
    limits = _read_limits(r, top.get("limits"))
    flags = _read_flags(r, top.get("flags"))
    similarity = _read_similarity(r, top.get("similarity"))
    report = _read_report(r, top.get("report"))
    renamed = _read_renamed(r, top.get("renamed"))
    if problems.items:
        raise SpecError(doc.path, problems.items)
    return Spec(
        path=doc.path,
        schema_version=SCHEMA_VERSION,
        id=r.string(top["id"], ("id",)),
        title=r.string(top["title"], ("title",)),
        inputs=MappingProxyType(inputs),
        experiments=MappingProxyType(experiments),
        questions=tuple(questions),
        limits=limits,
        total_marks=total,
        sha256=sha256,
        experiments_sha256=content_hash({"inputs": top["inputs"], "experiments": top["experiments"]}),
        flags=MappingProxyType(flags),
        similarity=similarity,
        report=report,
        renamed=renamed,
    )


def load_spec(path: Path | str) -> Spec:
    """Load and validate the spec at ``path``.

    Raises:
        UserError: the file cannot be read or is not YAML.
        SpecError: the YAML does not follow the schema; every problem is listed.
    """
    doc = read_yaml(Path(path))
    return validate_spec(doc, content_hash(doc.data))


def content_hash(data: Any) -> str:
    """Hash of a spec's parsed content: comments and layout do not change it, values do."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


#: Sections whose keys are names the spec's author chooses (an input, an experiment, an answer).
NAMED = ("inputs", "experiments", "questions[].answers")


def accepted_keys(*paths: Path) -> dict[str, set[str]]:
    """Every key the loader accepts at each key path, as it reads these specs.

    Lists are shown as ``[]`` and author-chosen names as ``<name>``
    (``experiments.<name>.args``), so the paths are the schema's, not one spec's.
    """
    accepted: dict[str, set[str]] = {}
    for path in paths:
        doc = read_yaml(path)
        found: dict[str, set[str]] = {}
        validate_spec(doc, content_hash(doc.data), found)
        for where, keys in found.items():
            for named in NAMED:
                if where.startswith(named + "."):
                    rest = where[len(named) + 1 :].split(".", 1)
                    where = ".".join([named, "<name>", *rest[1:]])
            accepted.setdefault(where, set()).update(keys)
    return accepted
