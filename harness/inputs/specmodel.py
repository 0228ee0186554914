"""The validated spec as frozen dataclasses: what every other wing reads (``labgrade.harness.inputs.spec`` loads it)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from labgrade.harness.inputs.rubric import ReviewSpec
from labgrade.harness.inputs.schema import (
    FLAGS,
)

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
    """How a grading band is derived from a reference distribution (see ``labgrade.reference.bands``)."""

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
