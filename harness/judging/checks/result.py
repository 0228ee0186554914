"""The result check: the lab's call returns (U, V) of the right shapes, finite (or why not)."""

from __future__ import annotations

import re

from labgrade.harness.inputs.spec import CheckSpec
from labgrade.harness.judging.checks.context import Context, _out, describe_failure
from labgrade.harness.judging.forms import describe_recovery
from labgrade.harness.judging.observe import CallObservation, FunctionObservations
from labgrade.harness.outputs.results import CheckOutcome


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

    A slip in form that ``labgrade.harness.judging.forms`` recovered (V transposed, NumPy arrays,
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
