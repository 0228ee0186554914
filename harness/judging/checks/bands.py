"""The loss band: the student's loss against the reference's distribution over many seeds."""

from __future__ import annotations

from typing import Any

import torch

from labgrade.harness.inputs.spec import BandSpec, CheckSpec
from labgrade.harness.judging.checks.context import Context, _fmt, _out
from labgrade.harness.judging.checks.result import _default_calls
from labgrade.harness.outputs.results import CheckOutcome
from labgrade.reference.bands import Band


def factor_loss(A: torch.Tensor, U: torch.Tensor, V: torch.Tensor, M: torch.Tensor | None) -> float:
    """||A - U V^T||^2 in float64, over the entries where M is 1 when a mask is given."""
    err = A.double() - U.double() @ V.double().T
    if M is not None:
        err = err * M.double()
    return float((err * err).sum())


def student_losses(ctx: Context, quantity: str) -> list[tuple[int, float]]:
    """(seed, loss) of each default call that returned valid factors, recomputed here."""
    obs = ctx.observations
    if obs is None:
        return []
    A, M, _ = ctx.inputs()
    out = []
    for call in _default_calls(obs):
        factors = call.factors
        if factors is None:
            continue
        mask = M if quantity == "loss_observed" else None
        out.append((call.seed, factor_loss(A, factors[0], factors[1], mask)))
    return out


def _strip_plot(title: str, samples: torch.Tensor, band: Band, values: list[float]) -> dict[str, Any]:
    """Plot data for the report: reference samples, band, bound and the student's values."""
    return {
        "kind": "strip",
        "title": title,
        "samples": [float(x) for x in samples.reshape(-1)],
        "band": [float(band.low), float(band.high)],
        "bound": band.bound if band.spec.lower_bound == "eckart_young" else None,
        "values": values,
    }


def _band(ctx: Context, experiment: str, quantity: str, band: BandSpec) -> Band:
    return ctx.expectations.band(experiment, quantity, band)


def check_loss_band(ctx: Context, check: CheckSpec) -> CheckOutcome:
    """The median of the losses under the harness's seeds lies in the reference band."""
    quantity = str(check.params["quantity"])
    assert ctx.question.experiment is not None
    band = _band(ctx, ctx.question.experiment, quantity, check.params["band"])
    losses = student_losses(ctx, quantity)
    if not losses:
        return _out(check, False, "not run: no valid (U, V) to compute a loss from (see above)")
    values = sorted(v for _, v in losses)
    median = values[len(values) // 2]
    shown = ", ".join(f"{_fmt(v)} (seed {s})" for s, v in losses)
    samples = ctx.expectations.samples(ctx.question.experiment, quantity)
    ref = (
        f"the reference gives {_fmt(float(samples.min()))} to {_fmt(float(samples.max()))} over {samples.numel()} seeds"
    )
    details: dict[str, Any] = {
        "losses": [v for _, v in losses],
        "band": [float(band.low), float(band.high)],
        "plot": _strip_plot(f"your {quantity} (dots) against {samples.numel()} reference runs", samples, band, values),
    }
    if band.bound is not None and median < float(band.low) and band.spec.lower_bound == "eckart_young":
        return _out(
            check,
            False,
            f"loss {shown} is below the Eckart-Young bound {_fmt(band.bound)}: impossible for rank {ctx.inputs()[2]}",
            "check that U and V have `rank` columns and that the loss is ||A - U V^T||^2",
            **details,
        )
    if bool(band.contains(median)):
        return _out(check, True, f"{quantity} {shown}; {ref} (band {band.describe()})", **details)
    return _out(
        check,
        False,
        f"{quantity} {shown} is outside the band {band.describe()}; {ref}",
        "the factorisation does not converge like the lab's SGD: see the diagnoses below",
        **details,
    )
