"""The signature check: the lab's function is defined, callable, with the lab's parameters."""

from __future__ import annotations

from typing import Any

from labgrade.harness.inputs.spec import CheckSpec, ParamSpec
from labgrade.harness.judging.checks.context import Context, _load_problem, _out
from labgrade.harness.judging.checks.result import _skipped_assignment
from labgrade.harness.outputs.results import CheckOutcome


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
