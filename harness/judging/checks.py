"""Checks: small pure functions that judge observations against expectations, in the trusted parent.

A check is ``(context, params) -> CheckOutcome`` registered under the name specs
use (``kind: loss_band``).  A new check is one function, one line in
:data:`CHECKS` and one test.  Checks recompute every quantity from the returned
tensors themselves (in float64); nothing the student's code printed or claimed
is believed.  Each message says what was found and what was expected, and a
failing check names its hint.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy
import torch

from harness.inputs.spec import BandSpec, CheckSpec, ParamSpec, QuestionSpec, Spec
from harness.judging.forms import describe_recovery
from harness.judging.observe import CallObservation, FunctionObservations
from harness.outputs.results import CheckOutcome
from harness.untrusted.verdicts import describe_stop
from reference.algorithms import sgd_factorise, sgd_factorise_masked
from reference.bands import Band
from reference.expectations import Expectations
from reference.experiments import matrix_input


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


# --- signature -------------------------------------------------------------------------------


def check_signature(ctx: Context, check: CheckSpec) -> CheckOutcome:
    """The function exists, is callable, and takes the lab's parameters (names, order, defaults)."""
    obs, fn = ctx.observations, ctx.question.function
    assert fn is not None
    if obs is None or obs.failure:
        why = "; ".join(ctx.problems) or (obs.failure if obs is not None else "no code found")
        return _out(check, False, f"your file could not be graded: {why}", "fix this error first", gate=True)
    renaming = obs.renaming
    if renaming is not None and renaming.moved:  # its function was graded as another question's
        said = (
            f"`{fn.name}` ({renaming.where}) takes `{renaming.moved}`'s parameters, so it was graded as "
            f"`{renaming.moved}`; {ctx.question.id} has no function of its own"
        )
        return _out(check, False, said, f"write `def {fn.name}(...)` with the lab's parameters", gate=True)
    if not obs.description.get("defined"):
        hint = f"define `def {fn.name}(...)` at the top level of your file, spelled exactly so"
        where = _skipped_assignment(fn.name, ctx.skipped)
        if where:  # `sgd_factorise = make_solver()`: an assignment grading does not run
            hint = f"`{fn.name}` is set by top-level code that grading does not run ({where}); define it with def"
        tie = ""
        if renaming is not None and renaming.tied:
            tie = f"; {len(renaming.tied)} functions could be it, so none was graded: {'; '.join(renaming.tied)}"
            hint = f"name the one you mean `{fn.name}`, as the lab does"
        return _out(check, False, f"`{fn.name}` is not defined{tie}{_load_problem(obs)}", hint, gate=True)
    if not obs.description.get("callable"):
        return _out(check, False, f"`{fn.name}` is a {obs.description.get('type')}, not a function", gate=True)
    params = obs.description.get("params") or []
    problems, notes = _signature_problems(fn.params, params)
    expected = ", ".join(p.name + (f"={p.default!r}" if p.has_default else "") for p in fn.params)
    names = [p.get("name") for p in params]
    graded_as = ""
    if renaming is not None and renaming.found:
        graded_as = (
            f"graded `{renaming.found}` ({renaming.where}) as `{fn.name}`, since {renaming.why}: "
            "name it as the lab does"
        )
    costs_name = bool(graded_as) and ctx.spec.renamed.cost == "signature"
    if problems or costs_name:
        parts = [graded_as] if graded_as else []
        if problems:
            parts.append("; ".join(problems) + " (graded by position from here on)")
        hint = f"use the lab's signature: def {fn.name}({expected})"
        return _out(check, False, "; ".join(parts), hint, found=names, renamed=costs_name and not problems)
    unannotated = [p.get("name") for p in params if not p.get("annotated")]
    note = f" (type annotations are recommended: {', '.join(map(str, unannotated))} have none)" if unannotated else ""
    renamed = f"; note: {'; '.join(notes)}" if notes else ""
    shown = f"{graded_as} (the name costs nothing in this lab); " if graded_as else ""
    return _out(check, True, f"{shown}`{fn.name}({expected})` as in the lab{renamed}{note}")


def _signature_problems(lab: tuple[ParamSpec, ...], params: list[dict[str, Any]]) -> tuple[list[str], list[str]]:
    """What costs the signature share (order, names callers pass by keyword, defaults) and what is only noted.

    Callers pass a ``position`` parameter (the lab's ``A``, ``M``) by position, so
    renaming it (``A_``) breaks nobody: a note.  Renaming a ``keyword`` parameter
    (``rank``, ``num_epochs``, ``lr``), a wrong order, a missing or different
    default, or an extra required parameter breaks the lab's calls: a problem.
    """
    problems: list[str] = []
    notes: list[str] = []
    lab_names = [p.name for p in lab]
    for index, spec in enumerate(lab):
        if index >= len(params):
            problems.append(f"parameter {index + 1} `{spec.name}` is missing")
            continue
        p = params[index]
        name = p.get("name")
        if name != spec.name:
            if name in lab_names:
                place = lab_names.index(str(name)) + 1
                problems.append(f"`{name}` is parameter {index + 1}; the lab has it as parameter {place} (wrong order)")
            elif spec.keyword:
                problems.append(
                    f"parameter {index + 1} is called `{name}`; the lab calls it `{spec.name}` "
                    "(callers pass it by keyword)"
                )
            else:
                notes.append(f"parameter {index + 1} is called `{name}` (the lab's `{spec.name}`, passed by position)")
        default = p.get("default")
        if spec.has_default:
            if default is None:
                problems.append(f"`{spec.name}` has no default; the lab's default is {spec.default!r}")
            elif default.get("value") != spec.default:
                shown = default.get("value", default.get("expr"))
                problems.append(f"`{spec.name}` defaults to {shown!r}; the lab's default is {spec.default!r}")
    for p in params[len(lab) :]:
        if p.get("default") is None and p.get("kind") in ("POSITIONAL_ONLY", "POSITIONAL_OR_KEYWORD"):
            problems.append(f"extra required parameter `{p.get('name')}` (the lab's call cannot fill it)")
    return problems, notes


# --- result ----------------------------------------------------------------------------------


def _skipped_assignment(name: str, skipped: tuple[str, ...]) -> str | None:
    """The skipped top-level statement that assigns ``name`` ("lab.py line 12: name = make()"), if any."""
    return next((s for s in skipped if re.search(rf"\b{re.escape(name)}\b\s*=", s)), None)


def _error_hint(call: CallObservation, skipped: tuple[str, ...]) -> str:
    """A hint for an exception; for a NameError, where the name was set in code grading skips."""
    error = call.error or {}
    if error.get("type") == "NameError":
        match = re.search(r"name '(\w+)' is not defined", str(error.get("message", "")))
        if match:
            name = match.group(1)
            where = _skipped_assignment(name, skipped)
            if where:
                return (
                    f"`{name}` is set by top-level code that grading does not run ({where.split(':')[0]}); "
                    "define it inside the function or as a plain constant"
                )
            return f"`{name}` is not defined when your function runs: import or define it at the top of your file"
    return "run your function on the lab's matrix and read the error"


def _result_problem(call: CallObservation, limit_s: float, skipped: tuple[str, ...] = ()) -> tuple[str, str] | None:
    """Why a call gave no (U, V) to grade, even after recovering its form (``forms``), with a hint."""
    if call.status != "ok" or call.error is not None:
        return describe_failure(call, limit_s), _error_hint(call, skipped)
    if call.reading is None:
        return "returned nothing that could be read", "end with `return U, V`"
    return call.reading.failure


def _default_calls(obs: FunctionObservations) -> list[CallObservation]:
    return [c for label, c in obs.calls.items() if label.startswith("default@")]


def result_failure(ctx: Context) -> str | None:
    """Why the lab's calls gave no (U, V) to grade, or ``None`` when every one did (perhaps recovered)."""
    obs = ctx.observations
    name = ctx.question.function.name if ctx.question.function else "the function"
    if obs is not None and obs.renaming is not None and obs.renaming.moved:
        return f"`{name}` was graded as `{obs.renaming.moved}`, whose parameters it takes"
    if obs is not None and obs.failure is None and not obs.description.get("defined"):
        return f"`{name}` is not defined"
    if obs is not None and obs.failure is None and not obs.description.get("callable"):
        return f"`{name}` is not a function"
    if obs is None or obs.failure or not obs.calls:
        why = "; ".join(ctx.problems) or (obs.failure if obs is not None and obs.failure else "")
        return f"`{name}` could not be called{': ' + why if why else ''}"
    for call in _default_calls(obs):
        problem = _result_problem(call, ctx.spec.limits.time_per_call_s, ctx.skipped)
        if problem is not None:
            return f"under seed {call.seed} it {problem[0]}"
    return None


def check_result(ctx: Context, check: CheckSpec) -> CheckOutcome:
    """Every default call returned (U, V): two finite float tensors of shapes (m, r) and (n, r).

    A slip in form that ``harness.judging.forms`` recovered (V transposed, NumPy arrays,
    three values...) fails this check only: later checks grade the recovered factors.
    """
    obs = ctx.observations
    if obs is None or not obs.calls:
        return _out(check, False, "not run: the function could not be called (see above)")
    A, _, r = ctx.inputs()
    m, n = A.shape
    defaults = _default_calls(obs)
    for call in defaults:
        problem = _result_problem(call, ctx.spec.limits.time_per_call_s, ctx.skipped)
        if problem is not None:
            return _out(check, False, f"under seed {call.seed}: {problem[0]}", problem[1], gate=True)
    faults = [f for call in defaults if call.reading is not None for f in call.reading.faults]
    if faults:
        message, hint = describe_recovery(faults)
        return _out(check, False, message, hint, recovered=True)
    # No timings in feedback: a regrade must give identical text.
    return _out(check, True, f"returns U {(m, r)} and V {(n, r)}, finite")


# --- loss band ----------------------------------------------------------------------------------


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


# --- step for step --------------------------------------------------------------------------------


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


# --- diagnoses ------------------------------------------------------------------------------------


def same_result(a: CallObservation | None, b: CallObservation | None) -> bool | None:
    """Whether two calls returned identical factors (``None`` when either has none)."""
    if a is None or b is None or a.factors is None or b.factors is None:
        return None
    return all(x.shape == y.shape and torch.equal(x, y) for x, y in zip(a.factors, b.factors, strict=True))


#: How a masked function uses its mask, as its probe calls show it: what is wrong, and the hint.
MASK_MISUSES: dict[str, tuple[str, str]] = {
    "leaks": (
        "the mask is not honoured: changing A where M is 0 changed the result",
        "update only where M[r, c] is 1 (skip unobserved entries)",
    ),
    "zero_fill": (
        "the unobserved entries are learned as zeros: the result is exactly that of fitting every entry of A x M "
        "(A multiplied by M, then every entry fitted)",
        "update only where M is 1; do not multiply A by M and fit every entry",
    ),
    "skips_zeros": (
        "an observed entry whose value is 0 is skipped as if it were missing",
        "M says which entries are observed: update wherever M[r, c] is 1, whatever A[r, c] is",
    ),
}


def mask_misuse(obs: FunctionObservations) -> str | None:
    """``leaks``, ``zero_fill``, ``skips_zeros`` (keys of :data:`MASK_MISUSES`), or ``None`` for a mask honoured.

    A zero fill and a skip of observed zeros both depend on A x M alone (``mask_as_data``
    gives the lab call's result); only the skip leaves an observed row of zeros untouched.
    """
    calls = obs.calls
    ten, changed = calls.get("epochs10"), calls.get("mask_changed")
    # A result that no longer reads as factors (100 where M is 0 made it overflow) changed too.
    if ten is not None and ten.factors is not None and changed is not None and not same_result(ten, changed):
        return "leaks"
    row, start = calls.get("zero_row"), calls.get("zero_row_start")
    skips = (
        row is not None
        and start is not None
        and row.factors is not None
        and start.factors is not None
        and row.factors[0].shape == start.factors[0].shape
        and torch.equal(row.factors[0][0], start.factors[0][0])
    )
    if skips:
        return "skips_zeros"
    if same_result(calls.get("epochs10"), calls.get("mask_as_data")):
        return "zero_fill"
    return None


def _diagnose_rows(ctx: Context, obs: FunctionObservations) -> list[tuple[str, str]]:
    seed = obs.seeds[0]
    trained, start = obs.calls.get(f"default@{seed}"), obs.calls.get("epochs0")
    if trained is None or start is None or trained.factors is None or start.factors is None:
        return []
    if same_result(trained, start):
        return []  # nothing changes at all: the epochs diagnosis says why
    _, M, _ = ctx.inputs()
    found = []
    for label, a, b, axis in (
        ("U", trained.factors[0], start.factors[0], 1),
        ("V", trained.factors[1], start.factors[1], 0),
    ):
        if a.shape != b.shape:
            continue
        for i in range(a.shape[0]):
            if M is not None and i < M.shape[1 - axis] and float(M.sum(dim=axis)[i]) == 0:
                continue  # nothing observed in this row or column: it may legitimately stay
            if torch.equal(a[i], b[i]):
                loop = (
                    "rows (for r in range(m), with m = A.shape[0])"
                    if label == "U"
                    else "columns (for c in range(n), with n = A.shape[1])"
                )
                found.append((f"row {i} of {label} never changes", f"check the loop over {loop}"))
    return found


def _epochs_ignored(obs: FunctionObservations) -> bool:
    """Whether 10 epochs give exactly the result of the default: then ``epochs0`` is no initial state."""
    return bool(same_result(obs.calls.get(f"default@{obs.seeds[0]}"), obs.calls.get("epochs10")))


def _diagnose(ctx: Context, obs: FunctionObservations, probe: str) -> list[tuple[str, str]]:
    seed = obs.seeds[0]
    calls = obs.calls
    default = calls.get(f"default@{seed}")
    A, M, r = ctx.inputs()
    m, n = A.shape
    if probe in ("rows_updated", "init_uniform", "zero_epochs_returns_init") and _epochs_ignored(obs):
        return []  # the num_epochs=0 call did training too: "num_epochs is ignored" says it all
    if probe == "rows_updated":
        return _diagnose_rows(ctx, obs)
    if probe == "init_uniform":
        zero = calls.get("epochs0")
        if zero is None or zero.factors is None:
            return []
        lo = min(float(t.min()) for t in zero.factors)
        hi = max(float(t.max()) for t in zero.factors)
        if lo < 0 or hi >= 1:
            return [(
                f"the initial factors (num_epochs=0) range from {_fmt(lo)} to {_fmt(hi)}; expected U(0, 1)",
                "initialise with torch.rand(m, rank) and torch.rand(n, rank)",
            )]  # fmt: skip
        return []
    if probe == "zero_epochs_returns_init":
        zero = calls.get("epochs0")
        if zero is None or zero.factors is None:
            return []
        draws = _initial_draws(seed, m, n, r)
        if any(_close(zero.factors[0], u, 0) and _close(zero.factors[1], v, 0) for u, v in draws.values()):
            return []
        return [(
            "with num_epochs=0 the result is not the initial torch.rand draws",
            "do all the work inside `for epoch in range(num_epochs)`, and initialise with torch.rand",
        )]  # fmt: skip
    if probe == "epochs_used":
        if same_result(default, calls.get("epochs10")):
            return [
                (
                    "10 epochs give exactly the result of 1000: num_epochs is ignored",
                    "loop `for epoch in range(num_epochs)`",
                )
            ]
        return []
    if probe == "lr_used":
        lr0, zero = calls.get("lr0"), calls.get("epochs0")
        if lr0 is None or lr0.factors is None or zero is None:
            return []
        untrained = default if _epochs_ignored(obs) else zero
        ignored = same_result(lr0, default) if _epochs_ignored(obs) else same_result(lr0, zero) is False
        if untrained is not None and ignored:
            return [
                (
                    "with lr=0 U and V still change: lr is ignored or hard-coded",
                    "use the `lr` parameter in both updates",
                )
            ]
        return []
    if probe == "seed_dependent":
        others = [c for label, c in calls.items() if label.startswith("default@") and c is not default]
        if others and all(same_result(default, o) for o in others):
            return [(
                "the result is identical under different seeds",
                "do not call torch.manual_seed inside the function, and start from random factors (SGD, not an SVD)",
            )]  # fmt: skip
        return []
    if probe == "mask_honoured":  # the mask probes run the epochs10 call's 10 epochs
        misuse = mask_misuse(obs)
        return [MASK_MISUSES[misuse]] if misuse in ("leaks", "zero_fill") else []
    if probe == "observed_zeros_fitted":
        return [MASK_MISUSES["skips_zeros"]] if mask_misuse(obs) == "skips_zeros" else []
    if probe == "observed_fitted":
        if default is None or default.factors is None or M is None or default.factors[0].shape != (m, r):
            return []
        U, V = default.factors
        if V.shape != (n, r):
            return []
        worst = float(((A.double() - U.double() @ V.double().T).abs() * M.double()).max())
        samples = ctx.expectations.samples(ctx.question.experiment or "", "completed")
        ref = float(((samples - A.double()).abs() * M.double()).amax(dim=(1, 2)).max())
        if worst > 2 * ref + 1e-3:
            return [(
                f"an observed entry is off by {_fmt(worst)} (the reference stays within {_fmt(ref)})",
                "the observed entries should be fitted: check the error term e = A[r, c] - U[r] @ V[c]",
            )]  # fmt: skip
        return []
    if probe == "inputs_unmodified":
        if any(any(c.inputs_changed) for c in calls.values()):
            return [
                (
                    "your function modified its input tensors in place",
                    "work on copies; never write into A or M",
                )
            ]
        return []
    if probe == "no_global_side_effects":
        found = []
        dtypes = {c.default_dtype_after for c in calls.values() if c.default_dtype_after}
        if dtypes - {"torch.float32"} or obs.globals.get("default_dtype_after_load") not in (
            None,
            "torch.float32",
        ):
            found.append(
                (
                    "torch's default dtype was changed",
                    "do not call torch.set_default_dtype in your submission",
                )
            )
        if obs.globals.get("rng_changed_by_load"):
            found.append(("loading your file reseeds or draws from torch's random generator", "do not seed at import"))
        return found
    return []


def check_diagnose(ctx: Context, check: CheckSpec) -> CheckOutcome:
    """Run the spec's diagnoses; each finding says what is wrong and where to look."""
    obs = ctx.observations
    if obs is None or not obs.calls:
        return _out(check, False, "not run: the function could not be called (see above)")
    probes = check.params.get("probes") or ()
    findings: list[tuple[str, str]] = []
    for probe in probes:
        findings += _diagnose(ctx, obs, probe)
    skipped = f" ({', '.join(obs.not_run)} not run)" if obs.not_run else ""
    if not findings:
        return _out(check, True, f"no problem found by {len(probes)} diagnoses{skipped}")
    return _out(
        check,
        False,
        "; ".join(f for f, _ in findings) + skipped,
        "; ".join(dict.fromkeys(h for _, h in findings)),
        findings=[f for f, _ in findings],
    )


# --- answers ----------------------------------------------------------------------------------------


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


CHECKS: dict[str, Check] = {
    "signature": check_signature,
    "result": check_result,
    "loss_band": check_loss_band,
    "step_for_step": check_step_for_step,
    "diagnose": check_diagnose,
    "answer_band": check_answer_band,
    "answer_close": check_answer_close,
    "completion_band": check_completion_band,
}
