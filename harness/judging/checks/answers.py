"""The answer checks: a reported number or matrix against the reference's band or value."""

from __future__ import annotations

import math
from typing import Any

import torch

from labgrade.harness.inputs.spec import CheckSpec
from labgrade.harness.judging.checks.bands import _band, _strip_plot, student_losses
from labgrade.harness.judging.checks.context import Context, _fmt, _out
from labgrade.harness.outputs.results import CheckOutcome


def _answer(ctx: Context, name: str) -> tuple[Any, str | None]:
    note = ctx.answer_notes.get(name)
    if note and (ctx.answers is None or name not in ctx.answers):
        return None, note  # a report: what was looked for, or the candidates that made it ambiguous
    if ctx.answers is None:
        unreadable = [p for p in ctx.problems if p.startswith("answers.yaml")]
        if unreadable:
            return None, f"no answer for {ctx.question.id}: {unreadable[0]}"
        return None, f"no answer for {ctx.question.id} in answers.yaml"
    if name not in ctx.answers:
        return None, f"no answer `{name}` for {ctx.question.id} in answers.yaml"
    return ctx.answers[name], None


def _read_from(ctx: Context, name: str) -> str:
    """Where a report's answer was read ("read 0.122 for 1.2 from page 1, line 24: "), else nothing."""
    note = ctx.answer_notes.get(name)
    return f"{note}: " if note else ""


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(float(value)) else None


def _numeric_answer(ctx: Context, check: CheckSpec, name: str) -> float | CheckOutcome:
    """The reported number ``name``, or the failed outcome saying why there is none."""
    value, missing = _answer(ctx, name)
    if missing:
        hint = f'add `"{ctx.question.id}": {{{name}: <number>}}` to answers.yaml'
        return _out(check, False, missing, hint)
    number = _number(value)
    if number is None:
        return _out(check, False, f"{ctx.question.id} {name}: expected a number, got {str(value)[:40]!r}")
    return number


def code_cannot_give(ctx: Context, experiment: str, quantity: str, value: float) -> str | None:
    """Evidence when a reported number cannot come from the submitted code's own runs, else ``None``."""
    obs = ctx.related.get(experiment)
    if obs is None or quantity not in ("loss", "loss_observed"):
        return None
    spec_q = next((q for q in ctx.spec.questions if q.experiment == experiment and q.function), None)
    if spec_q is None:
        return None
    sub = Context(ctx.spec, spec_q, ctx.expectations, obs, None, {})
    losses = [v for _, v in student_losses(sub, quantity)]
    if not losses or any(abs(v - value) <= 0.05 * max(abs(value), 1e-9) for v in losses):
        return None
    shown = ", ".join(_fmt(v) for v in losses)
    return (
        f"your submitted code gives {shown} under the harness's seeds; the reported {_fmt(value)} cannot come from it"
    )


def _provenance_note(ctx: Context, experiment: str, quantity: str, value: float) -> str:
    """Say so when a reported number cannot come from the submitted code's own runs."""
    evidence = code_cannot_give(ctx, experiment, quantity, value)
    return f" Note: {evidence}." if evidence else ""


def check_answer_band(ctx: Context, check: CheckSpec) -> CheckOutcome:
    """A reported number lies in the reference band of the experiment's quantity."""
    name, experiment, quantity = (str(check.params[k]) for k in ("answer", "experiment", "quantity"))
    number = _numeric_answer(ctx, check, name)
    if isinstance(number, CheckOutcome):
        return number
    band = _band(ctx, experiment, quantity, check.params["band"])
    note = _provenance_note(ctx, experiment, quantity, number)
    source = ctx.expectations.provenance.data.get("ratings_source")
    data = (
        " (on the synthetic ratings; pass --ratings for the real data)"
        if source == "synthetic" and experiment == "netflix"
        else ""
    )
    samples = ctx.expectations.samples(experiment, quantity)
    plot = _strip_plot(f"your {name} (dot) against {samples.numel()} reference runs", samples, band, [number])
    if bool(band.contains(number)):
        message = (
            f"{_read_from(ctx, name)}{name} = {_fmt(number)} is in the reference band {band.describe()}{data}.{note}"
        )
        return _out(check, True, message, plot=plot)
    return _out(
        check,
        False,
        f"{_read_from(ctx, name)}{name} = {_fmt(number)} is outside the reference band {band.describe()}{data}.{note}",
        "recompute it with the lab's defaults",
        plot=plot,
    )


def check_answer_close(ctx: Context, check: CheckSpec) -> CheckOutcome:
    """A reported number is within ``rtol`` of an exact reference value."""
    name, experiment, quantity = (str(check.params[k]) for k in ("answer", "experiment", "quantity"))
    rtol = float(check.params["rtol"])
    number = _numeric_answer(ctx, check, name)
    if isinstance(number, CheckOutcome):
        return number
    ref = float(ctx.expectations.samples(experiment, quantity).reshape(-1)[0])
    if abs(number - ref) <= rtol * abs(ref):
        message = f"{name} = {_fmt(number)} matches {_fmt(ref)} (within {rtol:g} relative)"
        return _out(check, True, _read_from(ctx, name) + message)
    return _out(
        check,
        False,
        f"{_read_from(ctx, name)}{name} = {_fmt(number)}; expected {_fmt(ref)} (within {rtol:g} relative)",
        "zero the last singular value(s) and compute ||A - U S V^T||^2",
    )


def check_completion_band(ctx: Context, check: CheckSpec) -> CheckOutcome:
    """A reported completed matrix lies entry by entry in the reference distribution's band."""
    name, experiment = str(check.params["answer"]), str(check.params["experiment"])
    value, missing = _answer(ctx, name)
    if missing:
        return _out(check, False, missing, f'add `"{ctx.question.id}": {{{name}: [[...], [...], [...]]}}`')
    samples = ctx.expectations.samples(experiment, "completed")
    shape = tuple(samples.shape[1:])
    rows = value if isinstance(value, list) else None
    ok = (
        rows is not None
        and len(rows) == shape[0]
        and all(isinstance(r, list) and len(r) == shape[1] and all(_number(x) is not None for x in r) for r in rows)
    )
    if not ok:
        return _out(check, False, f"{ctx.question.id} {name}: expected a {shape[0]}x{shape[1]} list of numbers")
    assert rows is not None
    matrix = torch.tensor([[float(x) for x in r] for r in rows], dtype=torch.float64)
    band = _band(ctx, experiment, "completed", check.params["band"])
    inside = band.contains(matrix)
    plot = {
        "kind": "matrix",
        "title": "your entries (dots) against the reference band of each entry",
        "values": matrix.tolist(),
        "low": band.low.tolist(),
        "high": band.high.tolist(),
    }
    if bool(inside.all()):
        message = "every entry of the completed matrix is in the reference band"
        return _out(check, True, _read_from(ctx, name) + message, plot=plot)
    bad = [(int(i), int(j)) for i, j in (~inside).nonzero()]
    parts = [
        f"({i}, {j}) = {_fmt(float(matrix[i, j]))} "
        f"not in [{_fmt(float(band.low[i, j]))}, {_fmt(float(band.high[i, j]))}]"
        for i, j in bad[:3]
    ]
    hint = "report U @ V.T of your masked factorisation, all entries"
    return _out(check, False, _read_from(ctx, name) + "; ".join(parts), hint, plot=plot)
