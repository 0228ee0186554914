"""The diagnoses: short probe calls that say *what* is wrong, and how the mask is used."""

from __future__ import annotations

import torch

from labgrade.harness.inputs.spec import CheckSpec
from labgrade.harness.judging.checks.context import Context, _fmt, _out
from labgrade.harness.judging.checks.stepwise import _close, _initial_draws
from labgrade.harness.judging.observe import CallObservation, FunctionObservations
from labgrade.harness.outputs.results import CheckOutcome


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
