"""Step for step: does the run follow the reference's own run for the same seed, exactly?"""

from __future__ import annotations

import numpy
import torch

from labgrade.harness.inputs.spec import CheckSpec, QuestionSpec
from labgrade.harness.judging.checks.context import Context, _out
from labgrade.harness.judging.observe import FunctionObservations
from labgrade.harness.outputs.results import CheckOutcome
from labgrade.reference.algorithms import sgd_factorise, sgd_factorise_masked
from labgrade.reference.expectations import Expectations


def _reference_run(ctx: Context, seed: int, epochs: int) -> tuple[torch.Tensor, torch.Tensor]:
    A, M, r = ctx.inputs()
    with torch.random.fork_rng(devices=[]):  # the parent's own generator is left as it was
        torch.default_generator.manual_seed(seed)
        if M is None:
            return sgd_factorise(A, r, num_epochs=epochs)
        return sgd_factorise_masked(A, M, r, num_epochs=epochs)


_TWINS: dict[tuple[str, str, int], tuple[torch.Tensor, torch.Tensor]] = {}


def _twin(ctx: Context, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The reference's own (U, V) for ``seed`` at the lab's defaults: the step-for-step twin.

    The harness's seeds are among the reference's, so expectations built by this torch
    hold the twin already.  Expectations built elsewhere (the shipped ones, under
    another torch) carry the distribution, not these draws: the twin is computed
    here, once per experiment and seed.
    """
    experiment = ctx.question.experiment
    assert experiment is not None
    if ctx.expectations.exact:
        return ctx.expectations.samples(experiment, "U")[seed], ctx.expectations.samples(experiment, "V")[seed]
    key = (ctx.spec.experiments_sha256, experiment, seed)
    if key not in _TWINS:
        params = ctx.question.function.params if ctx.question.function else ()
        epochs = next((p.default for p in params if p.name == "num_epochs"), None)
        _TWINS[key] = _reference_run(ctx, seed, int(epochs) if isinstance(epochs, int) else 1000)
    return _TWINS[key]


def _initial_draws(seed: int, m: int, n: int, r: int) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """The initial U(0, 1) factors a lab-like implementation draws under ``seed``, by draw order.

    The harness seeds NumPy's global generator with the same seed, so an
    implementation written with ``np.random.rand`` has known initial draws too.
    """
    with torch.random.fork_rng(devices=[]):  # the parent's own generator is left as it was
        torch.default_generator.manual_seed(seed)
        U, V = torch.rand(m, r), torch.rand(n, r)
        torch.default_generator.manual_seed(seed)
        V2, U2 = torch.rand(n, r), torch.rand(m, r)
    state = numpy.random.RandomState(seed % (2**32))  # a private generator: the global one is left as it was
    U3, V3 = torch.from_numpy(state.rand(m, r)), torch.from_numpy(state.rand(n, r))
    return {"U then V": (U, V), "V then U": (U2, V2), "NumPy U then V": (U3, V3)}


def _close(a: torch.Tensor, b: torch.Tensor, atol: float) -> bool:
    return a.shape == b.shape and bool(((a.double() - b.double()).abs() <= atol).all())


def follows_reference(question: QuestionSpec, expectations: Expectations, observations: FunctionObservations) -> bool:
    """Whether the lab's call under the first seed is the reference's own run for that seed, to the end.

    Then its loss is a sample of the reference distribution, inside the band by
    construction, and more seeds can change no verdict.  Needs expectations built by
    this torch (their per-seed factors are the draws here) and a call that did not
    reseed (one that seeds with the harness's own seed would match by chance).
    """
    seed = observations.seeds[0]
    default = observations.calls.get(f"default@{seed}")
    if not expectations.exact or question.experiment is None or default is None or default.factors is None:
        return False
    if default.reseeded:
        return False
    atol = next((float(c.params.get("atol", 1e-5)) for c in question.checks if c.kind == "step_for_step"), 1e-5)
    U, V = default.factors
    Ur = expectations.samples(question.experiment, "U")[seed]
    Vr = expectations.samples(question.experiment, "V")[seed]
    return _close(U, Ur, atol) and _close(V, Vr, atol)


def check_step_for_step(ctx: Context, check: CheckSpec) -> CheckOutcome:
    """Under the same seed, a lab-order implementation matches the reference to about 1e-5."""
    atol = float(check.params.get("atol", 1e-5))
    obs = ctx.observations
    if obs is None or not obs.calls:
        return _out(check, None, "not run (see above)")
    A, _, r = ctx.inputs()
    m, n = A.shape
    seed = obs.seeds[0]
    default = obs.calls.get(f"default@{seed}")
    if default is None or default.factors is None:
        return _out(check, None, "not run: no valid result to compare (see above)")
    U, V = default.factors
    assert ctx.question.experiment is not None
    Ur, Vr = _twin(ctx, seed)
    if _close(U, Ur, atol) and _close(V, Vr, atol):
        return _out(check, True, f"matches the reference step for step under seed {seed} (to {atol:g})")
    diff = max(float((U.double() - Ur.double()).abs().max()), float((V.double() - Vr.double()).abs().max()))
    zero = obs.calls.get("epochs0")
    if zero is None or zero.factors is None:
        return _out(check, None, f"differs from the reference under seed {seed} (max difference {diff:.3g})")
    draws = _initial_draws(seed, m, n, r)
    order = next(
        (k for k, (u, v) in draws.items() if _close(zero.factors[0], u, 0) and _close(zero.factors[1], v, 0)),
        None,
    )
    if order is None:
        return _out(
            check,
            None,
            "does not start from torch.rand(m, r) then torch.rand(n, r): step-for-step does not apply "
            "(graded on the loss distribution instead)",
        )
    if order != "U then V":
        drew = {"V then U": "draws V before U", "NumPy U then V": "draws from NumPy's generator"}[order]
        return _out(check, None, f"{drew}: step-for-step does not apply (graded on the loss band instead)")
    ten = obs.calls.get("epochs10")
    stage = "within the first 10 epochs"
    if ten is not None and ten.factors is not None:
        U10, V10 = _reference_run(ctx, seed, 10)
        if _close(ten.factors[0], U10, atol) and _close(ten.factors[1], V10, atol):
            stage = "after the first 10 epochs (which match)"
    return _out(
        check,
        False,
        f"starts from the same draws as the reference under seed {seed} but diverges {stage} "
        f"(max difference {diff:.3g})",
        "follow the lab's order: for each element, update the U row, then the V row using the new U row",
    )
