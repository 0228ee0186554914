"""Integrity flags: evidence for a human, raised in the trusted parent from observations.

What looks like misconduct is never a silent penalty: a reported number the code
cannot produce, a function that seeds torch's global generator itself, a module
that changes torch's default dtype.  Each detector returns the evidence an
instructor needs to decide; the spec's ``flags:`` policy says what the flag does to
the question's mark (``keep``, the default, or ``zero``; see ``harness.judging.marks``).
"""

from __future__ import annotations

from collections.abc import Callable

from harness.judging.checks import Context, code_cannot_give
from harness.outputs.results import Flag

Detector = Callable[[Context], list[str]]


def reported_not_from_code(ctx: Context) -> list[str]:
    """A reported loss that none of the submitted code's runs comes near (5%)."""
    found = []
    for check in ctx.question.checks:
        answer, experiment, quantity = (check.params.get(k) for k in ("answer", "experiment", "quantity"))
        if not (isinstance(answer, str) and isinstance(experiment, str) and isinstance(quantity, str)):
            continue
        value = (ctx.answers or {}).get(answer)
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        evidence = code_cannot_give(ctx, experiment, quantity, float(value))
        if evidence:
            found.append(f"{answer}: {evidence}")
    return found


def seeds_global_generator(ctx: Context) -> list[str]:
    """A call that left torch's global generator seeded with something other than the harness's seed."""
    obs = ctx.observations
    if obs is None:
        return []
    reseeded = [c.label for c in obs.calls.values() if c.reseeded]
    if not reseeded:
        return []
    return [
        f"`{obs.name}` seeds torch's global generator itself (torch.manual_seed or similar) in "
        f"{len(reseeded)} of {len(obs.calls)} calls, so its result ignores the seed it is run under"
    ]


def changes_default_dtype(ctx: Context) -> list[str]:
    """Loading the file or calling the function leaves torch's default dtype other than float32."""
    obs = ctx.observations
    if obs is None:
        return []
    after = {c.default_dtype_after for c in obs.calls.values() if c.default_dtype_after}
    after.discard("torch.float32")
    at_load = obs.globals.get("default_dtype_after_load")
    if at_load not in (None, "torch.float32"):
        return [f"loading the file sets torch's default dtype to {at_load}"]
    if after:
        dtypes = ", ".join(sorted(after))
        return [f"`{obs.name}` sets torch's default dtype to {dtypes} for all code that runs after it"]
    return []


FLAG_DETECTORS: dict[str, Detector] = {
    "reported_not_from_code": reported_not_from_code,
    "seeds_global_generator": seeds_global_generator,
    "changes_default_dtype": changes_default_dtype,
}


def raise_flags(ctx: Context) -> tuple[Flag, ...]:
    """Every flag's evidence for this question, each carrying the spec's policy for it."""
    return tuple(
        Flag(kind, ctx.question.id, evidence, ctx.spec.flags.get(kind, "keep"))
        for kind, detect in FLAG_DETECTORS.items()
        for evidence in detect(ctx)
    )
