"""What a check may look at (:class:`Context`), and the small helpers every check uses."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import torch

from labgrade.harness.inputs.spec import CheckSpec, QuestionSpec, Spec
from labgrade.harness.judging.observe import CallObservation, FunctionObservations
from labgrade.harness.outputs.results import CheckOutcome
from labgrade.harness.untrusted.verdicts import describe_stop
from labgrade.reference.expectations import Expectations
from labgrade.reference.experiments import matrix_input


@dataclass(frozen=True)
class Context:
    """What a check may look at for one question of one submission."""

    spec: Spec
    question: QuestionSpec
    expectations: Expectations
    observations: FunctionObservations | None
    answers: Mapping[str, Any] | None
    related: Mapping[str, FunctionObservations]
    problems: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()
    answer_notes: Mapping[str, str] = field(default_factory=dict)  # a report: where each answer was read

    def inputs(self) -> tuple[torch.Tensor, torch.Tensor | None, int]:
        """The experiment's A, M (or None) and rank."""
        assert self.question.experiment is not None
        exp = self.spec.experiments[self.question.experiment]
        A = matrix_input(self.spec, exp.args["A"])
        M = matrix_input(self.spec, exp.args["M"]) if "M" in exp.args else None
        return A, M, int(exp.args["rank"])


Check = Callable[[Context, CheckSpec], CheckOutcome]


def _out(check: CheckSpec, passed: bool | None, message: str, hint: str = "", **details: Any) -> CheckOutcome:
    return CheckOutcome(check.kind, passed, message, hint, check.weight, check.visible, details)


def _fmt(x: float) -> str:
    return f"{x:.6g}"


def _where(error: Mapping[str, Any]) -> str:
    frames = error.get("frames") or []
    if frames:
        f = frames[-1]
        code = f" `{f.get('code', '')}`" if f.get("code") else ""
        return f" at {f.get('file')}, line {f.get('line')}:{code}"
    return ""


def describe_failure(call: CallObservation, limits_s: float) -> str:
    """A sentence for a call that did not return normally."""
    stopped = describe_stop(call.status, call.signal, call.cpu_s, limits_s)
    if stopped is not None:
        return stopped
    if call.error is not None:
        kind = call.error.get("type", "Exception")
        message = call.error.get("message", "")
        if kind == "MemoryError" or "can't allocate memory" in message or "Cannot allocate memory" in message:
            return f"ran out of memory (memory limit): raised {kind}: {message[:160]}{_where(call.error)}".strip()
        return f"raised {kind}: {message}{_where(call.error)}".strip()
    return call.status


def _load_problem(obs: FunctionObservations) -> str:
    errors = obs.load.get("errors") or []
    if errors:
        e = errors[0]
        return f"; loading your file raised {e.get('type')}: {e.get('message')}{_where(e)}"
    return ""
