"""Load and validate a lab spec (YAML) into frozen dataclasses.

Every problem in a spec is collected, not just the first, and each names the
file, the key path and the line: ``specs/lab1.yaml: questions[2].marks (line 41):
expected a number > 0, got "one"``.  Unknown keys are errors, because a typo such
as ``mark:`` for ``marks:`` would otherwise silently change a grade.  Nothing here
knows the questions of lab 1: a shorter or different lab loads the same way.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from types import MappingProxyType
from typing import Any

from labgrade.harness.errors import SpecError
from labgrade.harness.inputs.schema import (
    SCHEMA_VERSION,
)
from labgrade.harness.inputs.specmodel import (
    RENAME_COSTS,
    AnswerSpec,
    BandSpec,
    CheckSpec,
    EssentialSpec,
    ExperimentSpec,
    FunctionSpec,
    InputSpec,
    Limits,
    ParamSpec,
    QuestionSpec,
    RenamedSpec,
    ReportSpec,
    SimilaritySpec,
    Spec,
)
from labgrade.harness.inputs.specquestions import _read_question
from labgrade.harness.inputs.specreader import MISSING, _Problems, _Reader, _show
from labgrade.harness.inputs.specsections import (
    _read_experiments,
    _read_flags,
    _read_inputs,
    _read_limits,
    _read_renamed,
    _read_report,
    _read_similarity,
)
from labgrade.harness.inputs.yamlsource import YamlDocument, read_yaml

__all__ = [
    "RENAME_COSTS",
    "AnswerSpec",
    "BandSpec",
    "CheckSpec",
    "EssentialSpec",
    "ExperimentSpec",
    "FunctionSpec",
    "InputSpec",
    "Limits",
    "ParamSpec",
    "QuestionSpec",
    "RenamedSpec",
    "ReportSpec",
    "SimilaritySpec",
    "Spec",
    "accepted_keys",
    "content_hash",
    "load_spec",
    "validate_spec",
]


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
