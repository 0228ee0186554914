"""Essentials: what an answer must do before any share of its mark counts.

Structure earns nothing on its own.  A stub that returns random factors has the
lab's signature and a result of the right shape; a closed-form SVD even reaches the
optimal loss; neither does the question's work, which is to *learn by gradient
steps*.  Each essential is a small pure judgement ``(context) -> EssentialOutcome``
over observations the harness already makes (the same calls the diagnoses use), in
the trusted parent.  A failed essential caps the question at the spec's ``cap``
(see ``labgrade.harness.judging.marks``); ``passed is None`` means the observations cannot tell,
and then nothing is capped.
"""

from __future__ import annotations

from collections.abc import Callable

from labgrade.harness.inputs.spec import EssentialSpec
from labgrade.harness.judging.checks import MASK_MISUSES, Context, factor_loss, mask_misuse, result_failure, same_result
from labgrade.harness.judging.observe import CallObservation
from labgrade.harness.outputs.results import EssentialOutcome

#: Training must take at least this share off the loss it started from: a result that
#: merely shifts with ``lr`` (``torch.rand(m, r) + lr``) responds, but does not learn.
MIN_DECREASE = 0.1

#: The calls that show learning, in the order they are trusted as a starting point:
#: ``num_epochs=0`` and ``lr=0`` are untrained; 10 epochs is less trained than 1000.
_PROBES = (("epochs0", "num_epochs=0"), ("lr0", "lr=0"), ("epochs10", "num_epochs=10"))

Judgement = Callable[[Context], tuple[bool | None, str]]


def returns_factors(ctx: Context) -> tuple[bool | None, str]:
    """Every lab call returns (U, V), in the lab's form or one recovered from a slip."""
    failure = result_failure(ctx)
    if failure is None:
        return True, "returns (U, V) for the lab's call"
    return False, f"there are no factors to grade: {failure}"


def _loss(ctx: Context, call: CallObservation) -> float:
    A, M, _ = ctx.inputs()
    assert call.factors is not None
    return factor_loss(A, call.factors[0], call.factors[1], M)


def learns(ctx: Context) -> tuple[bool | None, str]:
    """The result responds to ``lr`` or ``num_epochs``, and training lowers the loss from where it started.

    A closed form or a stub responds to neither (every call is seeded alike, so a
    stub's random factors repeat exactly).  A real SGD that hard-codes one of the two,
    or reseeds inside, still responds to the other: it loses a diagnosis, not the question.
    """
    obs = ctx.observations
    name = f"`{ctx.question.function.name}`" if ctx.question.function else "the function"
    if obs is None or not obs.seeds:
        return False, f"{name} does not learn: it could not be called"
    default = obs.calls.get(f"default@{obs.seeds[0]}")
    if default is None or default.factors is None:
        return False, f"{name} does not learn: the lab's call returned no factors"
    probes = [(label, shown, obs.calls.get(label)) for label, shown in _PROBES]
    valid = [(label, shown, c) for label, shown, c in probes if c is not None and c.factors is not None]
    if not valid:
        return False, (
            f"{name} cannot be shown to learn: no call with num_epochs=0, num_epochs=10 or lr=0 returned factors "
            "(the function needs the lab's num_epochs and lr parameters)"
        )
    responds = [(label, shown, c) for label, shown, c in valid if same_result(c, default) is False]
    if not responds:
        tried = ", ".join(shown for _, shown, _ in valid)
        return False, f"{name} does not learn: its result is the same with {tried} as with the lab's defaults"
    trained = _loss(ctx, default)
    for _, shown, start in responds:
        before = _loss(ctx, start)
        if trained <= (1 - MIN_DECREASE) * before:
            return True, f"{name} learns: training lowers the loss from {before:.4g} ({shown}) to {trained:.4g}"
    _, shown, start = responds[0]
    return False, (
        f"{name} does not learn: training does not lower the loss (it is {trained:.4g} after the lab's call "
        f"and {_loss(ctx, start):.4g} with {shown})"
    )


def honours_mask(ctx: Context) -> tuple[bool | None, str]:
    """The unobserved entries never reach the updates, neither as their values nor as zeros.

    Changing A where M is 0 must change nothing (``mask_changed``), and the result must
    not be that of fitting every entry of A x M (``mask_as_data``): both are 1.1's SGD
    on another matrix, not matrix completion.
    """
    obs = ctx.observations
    if obs is None or not obs.seeds:
        return None, "not judged: the function could not be called"
    same_epochs = obs.calls.get("epochs10")  # the mask probes run the same 10 epochs under the same seed
    if same_epochs is None or same_epochs.factors is None or obs.calls.get("mask_changed") is None:
        return None, "not judged: the changed-mask call was not made"
    misuse = mask_misuse(obs)
    if misuse in ("leaks", "zero_fill"):
        return False, MASK_MISUSES[misuse][0]
    return True, "honours the mask: entries where M is 0 reach the updates neither as values nor as zeros"


ESSENTIALS: dict[str, Judgement] = {
    "returns_factors": returns_factors,
    "learns": learns,
    "honours_mask": honours_mask,
}


def judge_essentials(ctx: Context, essentials: tuple[EssentialSpec, ...]) -> tuple[EssentialOutcome, ...]:
    """Judge each of the question's essentials; a later one is not judged once an earlier one failed.

    ``returns_factors`` failing makes ``learns`` meaningless, so the first failure
    is the one the student reads.
    """
    outcomes: list[EssentialOutcome] = []
    for spec in essentials:
        if any(o.passed is False for o in outcomes):
            outcomes.append(EssentialOutcome(spec.kind, None, "not judged: an earlier essential failed", spec.cap))
            continue
        passed, message = ESSENTIALS[spec.kind](ctx)
        outcomes.append(EssentialOutcome(spec.kind, passed, message, spec.cap, spec.reason))
    return tuple(outcomes)
