"""Plan the calls that observe a student's function, run them in the sandbox, and collect observations.

Every call is seeded by the harness: the same submission always produces the
same observations.  One child observes all of a submission's functions: for each
it loads the definitions afresh and describes the function, then makes every
planned call in order, each with its own wall-clock limit.  The plan is the
minimum that answers each check's question, and each call is only as long as its
question needs:

* ``default@s0``: the lab's call (inputs, defaults, full length) under the first
  harness seed, for the result, the loss band and step-for-step;
* ``epochs0``: ``num_epochs=0`` must return the initial U(0,1) draws (0 epochs by
  definition);
* ``epochs10``: after 10 epochs the result must differ from the full run (10 is
  enough to leave the start and far from the lab's 1000);
* ``lr0``: with a learning rate of 0 nothing may change, however long it runs, so
  10 epochs show it as well as 1000;
* ``mask_changed`` (masked questions): changing A where M is 0 must change nothing.
  Compared with ``epochs10`` (same seed, same 10 epochs): an unobserved entry that
  leaks into the updates changes the factors in the first epoch that visits it;
* ``mask_as_data``, ``zero_row`` and ``zero_row_start`` (masked questions): a mask used
  as data (A x M, every entry fitted) and an observed 0 skipped as if missing (see
  :func:`_mask_probes`).

Then the other harness seeds, ``default@s1`` and ``default@s2``, at full length,
but only where they can change a verdict (a second phase, in a fresh child): a
function that matches the reference step for step under the first seed, to the end
and without reseeding, has exactly the reference's loss for that seed, so more
seeds add nothing.  Another draw order, vectorised updates or a bug get all three
(the loss band takes their median, so one unlucky seed never costs a mark).

Arguments go by position in the lab's order, so a wrongly named parameter still
gets graded; ``num_epochs`` and ``lr`` go by keyword when the student's names
match the lab's, otherwise by position.  Once a call hits a limit (time, CPU,
memory) the remaining calls of that function are not run: a hostile or endless
function costs one time limit, not seven.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import torch

from labgrade.harness.inputs.spec import ExperimentSpec, QuestionSpec, Spec
from labgrade.harness.inputs.submission import Submission
from labgrade.harness.judging.forms import FactorReading, Returned, read_factors
from labgrade.harness.judging.renames import Renaming
from labgrade.harness.untrusted.callplan import LabParam, keywords_for
from labgrade.harness.untrusted.sandbox import Job, RunResult, Sandbox
from labgrade.harness.untrusted.verdicts import describe_stop
from labgrade.harness.untrusted.wire import Decoded

UNOBSERVED_PROBE = 100.0


@dataclass(frozen=True)
class CallObservation:
    """What one call did, as observed from outside."""

    label: str
    seed: int
    status: str
    error: dict[str, Any] | None = None
    container: str | None = None
    length: int | None = None
    items: tuple[Returned, ...] = ()
    inputs_changed: tuple[bool, ...] = ()
    default_dtype_after: str | None = None
    reseeded: bool = False  # the call seeded torch's global generator itself
    reading: FactorReading | None = None  # the result read as (U, V), recovered or failed (None: no result)
    wall_s: float = 0.0
    cpu_s: float | None = None
    signal: int | None = None
    call_s: float = 0.0  # the function's own run time, as the child measured it (for benchmarks only)
    output: str = ""
    output_bytes: int = 0

    @property
    def factors(self) -> tuple[torch.Tensor, torch.Tensor] | None:
        """(U, V) as the lab asks for them, recovered from a slip in form where that is unambiguous."""
        return self.reading.factors if self.reading is not None else None


@dataclass(frozen=True)
class FunctionObservations:
    """Everything observed about one student function."""

    name: str
    load: dict[str, Any]
    description: dict[str, Any]
    globals: dict[str, Any]
    calls: dict[str, CallObservation]
    seeds: tuple[int, ...]
    not_run: tuple[str, ...] = field(default=())
    failure: str | None = None  # the child could not even report (crash at load, limit...)
    output_bytes: int = 0  # what the student's code printed while this function was observed (ignored)
    renaming: Renaming | None = None  # the lab's name is not defined: the function graded instead, or the tie


def harness_seeds(base: int, experiment: ExperimentSpec, count: int = 3) -> tuple[int, ...]:
    """Seeds for a submission: inside the reference's seeds, so step-for-step has a twin."""
    return tuple((base + k) % experiment.seeds for k in range(count))


def _arguments(spec: Spec, experiment: ExperimentSpec) -> list[Any]:
    """The lab's positional arguments for the question's function: A, [M], rank."""
    args: list[Any] = []
    for name, value in experiment.args.items():
        if isinstance(value, str) and value in spec.inputs and spec.inputs[value].matrix is not None:
            args.append({"tensor": [list(row) for row in spec.inputs[value].matrix or ()]})
        elif name == "rank":
            args.append(int(value))
    return args


def _clean_error(raw: Any) -> dict[str, Any] | None:
    """Keep only the expected fields of a child's exception report, as short strings."""
    if not isinstance(raw, dict):
        return None
    frames = []
    for f in raw.get("frames", [])[:5] if isinstance(raw.get("frames"), list) else []:
        if isinstance(f, dict):
            line = f.get("line")
            frames.append(
                {
                    "file": str(f.get("file", ""))[:200],
                    "line": line if isinstance(line, int) else None,
                    "code": str(f.get("code", ""))[:200],
                }
            )
    return {
        "type": str(raw.get("type", "Exception"))[:100],
        "message": str(raw.get("message", ""))[:500],
        "frames": frames,
    }


def _clean_load(raw: dict[str, Any]) -> dict[str, Any]:
    errors = raw.get("errors") if isinstance(raw.get("errors"), list) else []
    imports = raw.get("failed_imports") if isinstance(raw.get("failed_imports"), list) else []
    assert isinstance(errors, list) and isinstance(imports, list)
    return {
        "errors": [e for e in (_clean_error(x) for x in errors[:5]) if e is not None],
        "failed_imports": [str(x)[:200] for x in imports[:5]],
    }


def _clean_description(raw: dict[str, Any]) -> dict[str, Any]:
    params = raw.get("params") if isinstance(raw.get("params"), list) else None
    out: dict[str, Any] = {
        "defined": raw.get("defined") is True,
        "callable": raw.get("callable") is True,
        "type": str(raw.get("type"))[:100] if raw.get("type") is not None else None,
    }
    if params is not None:
        cleaned = []
        for p in params[:32]:
            if not isinstance(p, dict):
                continue
            default = p.get("default")
            if isinstance(default, dict):
                default = {k: (v if isinstance(v, bool | int | float | str) or v is None else str(v))
                           for k, v in default.items() if k in ("value", "expr")}  # fmt: skip
                if isinstance(default.get("value"), str):
                    default["value"] = default["value"][:100]
                if isinstance(default.get("expr"), str):
                    default["expr"] = default["expr"][:100]
            else:
                default = None
            cleaned.append(
                {
                    "name": str(p.get("name", ""))[:100],
                    "kind": str(p.get("kind", ""))[:40],
                    "default": default,
                    "annotated": p.get("annotated") is True,
                }
            )
        out["params"] = cleaned
    if "signature_error" in raw:
        out["signature_error"] = str(raw["signature_error"])[:200]
    return out


def _failed_call(label: str, seed: int, run: RunResult) -> CallObservation:
    """The call during which the child stopped: its status is the child's (timeout, killed...)."""
    status = run.status if run.status != "ok" else ("wire_error" if run.wire_error else "exited")
    return CallObservation(
        label=label, seed=seed, status=status, wall_s=run.wall_s, cpu_s=run.cpu_s,
        signal=run.signal, output=run.output, output_bytes=run.output_bytes,
        error={"type": "harness", "message": run.wire_error} if run.wire_error else None,
    )  # fmt: skip


def _observe(label: str, seed: int, run: RunResult, frame: Decoded, shape: tuple[int, int, int]) -> CallObservation:
    call = frame.header.get("call") or {}
    items = []
    for item in call.get("items", []) if isinstance(call.get("items"), list) else []:
        if isinstance(item, dict) and isinstance(item.get("tensor"), int) and 0 <= item["tensor"] < len(frame.tensors):
            form = item.get("form") if isinstance(item.get("form"), str) else None
            items.append(Returned(frame.tensors[item["tensor"]], None, bool(item.get("requires_grad")), form))
        else:
            name = str(item.get("type", "unknown")) if isinstance(item, dict) else "unknown"
            if isinstance(item, dict) and item.get("too_large"):
                name = f"tensor of shape {tuple(item.get('shape', ()))} (too large)"
            items.append(Returned(None, name[:100]))
    error = _clean_error(call.get("error"))
    container = str(call["container"])[:40] if call.get("container") else None
    length = int(call["length"]) if isinstance(call.get("length"), int) else (1 if items else None)
    dtype_after = str(call.get("default_dtype_after", ""))[:40] or None
    changed = dtype_after if dtype_after not in (None, "torch.float32") else None
    reading = None if error is not None else read_factors(items, container, length, shape, changed)
    return CallObservation(
        label=label,
        seed=seed,
        status="ok",
        error=error,
        container=container,
        length=length,
        items=tuple(items),
        inputs_changed=tuple(bool(x) for x in call.get("inputs_changed", []) if isinstance(x, bool)),
        default_dtype_after=dtype_after,
        reseeded=call.get("reseeded") is True,
        reading=reading,
        wall_s=run.wall_s,
        call_s=float(call["seconds"]) if isinstance(call.get("seconds"), int | float) else 0.0,
        cpu_s=run.cpu_s,
        output=run.output,
        output_bytes=run.output_bytes,
    )


#: Epochs of a behaviour probe: enough to leave the start, far from the lab's 1000 (see the module docstring).
PROBE_EPOCHS = 10

Plan = list[tuple[str, int, list[Any], dict[str, Any]]]


def _plan(spec: Spec, experiment: ExperimentSpec, seeds: tuple[int, ...]) -> Plan:
    """The first phase's calls, in order: (label, seed, positional arguments, num_epochs/lr overrides)."""
    base_args = _arguments(spec, experiment)
    s0 = seeds[0]
    plan: Plan = [(f"default@{s0}", s0, base_args, {})]
    plan.append(("epochs0", s0, base_args, {"num_epochs": 0}))
    plan.append(("epochs10", s0, base_args, {"num_epochs": PROBE_EPOCHS}))
    plan.append(("lr0", s0, base_args, {"num_epochs": PROBE_EPOCHS, "lr": 0.0}))
    if "M" in experiment.args:
        changed = [list(map(float, row)) for row in base_args[0]["tensor"]]
        for i, row in enumerate(base_args[1]["tensor"]):
            for j, observed in enumerate(row):
                if not observed:
                    changed[i][j] = UNOBSERVED_PROBE
        plan.append(("mask_changed", s0, [{"tensor": changed}, *base_args[1:]], {"num_epochs": PROBE_EPOCHS}))
        plan += _mask_probes(base_args, s0)
    return plan


def _mask_probes(base_args: list[Any], seed: int) -> Plan:
    """Calls that tell a mask used as data from a mask honoured (10 epochs, as ``epochs10``, unless said).

    * ``mask_as_data``: A x M with every entry observed.  A function that fits the
      unobserved entries as zeros (``A = A * M``, then every entry fitted) returns
      exactly what it returns for (A, M); one that honours M does not, since here
      the zeros are observed.  ``mask_changed`` cannot see this: after A x M,
      changing A where M is 0 changes nothing.
    * ``zero_row`` / ``zero_row_start`` (0 epochs): A with its first row set to 0 and
      that row observed.  A function that skips an observed 0 as if it were missing
      (``if A[r, c] != 0``) never updates that row of U; so does nothing else.  It
      also depends on A x M alone, as a zero fill does: this is what tells them apart.
    """
    A = [list(map(float, row)) for row in base_args[0]["tensor"]]
    M = [list(map(float, row)) for row in base_args[1]["tensor"]]
    rest = base_args[2:]
    masked = [[a * w for a, w in zip(ra, rm, strict=True)] for ra, rm in zip(A, M, strict=True)]
    ones = [[1.0] * len(row) for row in M]
    zeroed = [[0.0] * len(A[0]), *A[1:]]
    seen = [[1.0] * len(M[0]), *M[1:]]
    return [
        ("mask_as_data", seed, [{"tensor": masked}, {"tensor": ones}, *rest], {"num_epochs": PROBE_EPOCHS}),
        ("zero_row", seed, [{"tensor": zeroed}, {"tensor": seen}, *rest], {"num_epochs": PROBE_EPOCHS}),
        ("zero_row_start", seed, [{"tensor": zeroed}, {"tensor": seen}, *rest], {"num_epochs": 0}),
    ]


def _more_seeds(spec: Spec, experiment: ExperimentSpec, seeds: tuple[int, ...]) -> Plan:
    """The second phase: the lab's call under the other harness seeds."""
    base_args = _arguments(spec, experiment)
    return [(f"default@{s}", s, base_args, {}) for s in seeds[1:]]


@dataclass(frozen=True)
class _Planned:
    """One question's function: the job sent to the sandbox and what is needed to read its result."""

    name: str
    seeds: tuple[int, ...]
    lab: list[LabParam]
    plan: Plan
    job: Job
    limit_s: float
    shape: tuple[int, int, int]  # (m, n, rank) of the lab's call: what (U, V) must look like


def _planned(spec: Spec, question: QuestionSpec, base_seed: int, phase: int = 1, name: str | None = None) -> _Planned:
    """The calls for one question's function, made on ``name`` (the student's, when it was recovered)."""
    assert question.function is not None and question.experiment is not None
    name = name or question.function.name
    experiment = spec.experiments[question.experiment]
    seeds = harness_seeds(base_seed, experiment)
    lab: list[LabParam] = [(p.name, p.has_default, p.default) for p in question.function.params]
    plan = _plan(spec, experiment, seeds) if phase == 1 else _more_seeds(spec, experiment, seeds)
    requests = [{"label": label, "seed": seed, "args": args, "overrides": o} for label, seed, args, o in plan]
    job = Job(name, requests, list(lab))
    matrix = spec.inputs[str(experiment.args["A"])].shape
    assert matrix is not None
    shape = (matrix[0], matrix[1], int(experiment.args["rank"]))
    return _Planned(name, seeds, lab, plan, job, spec.limits.time_per_call_s, shape)


#: Whether a question's first-phase observations already settle every verdict (no more seeds needed).
Settled = Callable[[QuestionSpec, FunctionObservations], bool]


def observe_functions(
    sandbox: Sandbox,
    spec: Spec,
    questions: list[QuestionSpec],
    submission: Submission,
    base_seed: int,
    settled: Settled | None = None,
    renamed: Mapping[str, Renaming] | None = None,
) -> list[FunctionObservations]:
    """Load, describe and call each question's function, in plan order, in as few children as possible.

    One child observes every function in turn (each loaded afresh); the sandbox
    gives a function a child of its own again when an earlier one stopped the
    child.  The lab's call comes first, so a function that hits a limit costs one
    limit; the call in progress gets the limit's verdict and the calls after it are
    not run.  Then, for each function that ``settled`` does not accept (all of them
    without it), one more child makes the lab's call under the other seeds.
    """
    units = [{"filename": u.filename, "code": u.code} for u in submission.units]
    renamings = [(renamed or {}).get(q.function.name) if q.function else None for q in questions]
    names = [r.found if r is not None else None for r in renamings]
    planned = [_planned(spec, q, base_seed, name=name) for q, name in zip(questions, names, strict=True)]
    # A function graded as another question's (it has that one's parameters) is not called for its own.
    moved = [r is not None and bool(r.moved) for r in renamings]
    runs = iter(sandbox.run_jobs(units, [p.job for p, m in zip(planned, moved, strict=True) if not m]))
    observed = [
        FunctionObservations(p.name, {}, {"defined": False}, {}, {}, p.seeds, renaming=renaming)
        if m
        else replace(_read(p, next(runs)), renaming=renaming)
        for p, m, renaming in zip(planned, moved, renamings, strict=True)
    ]
    more = [
        i
        for i, (q, obs) in enumerate(zip(questions, observed, strict=True))
        if _may_need_seeds(obs) and (settled is None or not settled(q, obs))
    ]
    if more:
        second = [_planned(spec, questions[i], base_seed, phase=2, name=names[i]) for i in more]
        for i, p, run in zip(more, second, sandbox.run_jobs(units, [p.job for p in second]), strict=True):
            observed[i] = _merge(observed[i], _read(p, run))
    return observed


def _may_need_seeds(obs: FunctionObservations) -> bool:
    """Whether more seeds can tell anything: the lab's call returned and no call hit a limit."""
    default = obs.calls.get(f"default@{obs.seeds[0]}")
    stopped = any(c.status != "ok" for c in obs.calls.values())
    return default is not None and default.factors is not None and not stopped and obs.failure is None


def _merge(first: FunctionObservations, second: FunctionObservations) -> FunctionObservations:
    """The first phase's observations with the second phase's calls after them."""
    if second.failure is not None or not second.description.get("callable"):
        return first  # the same code described and loaded once already; a child that failed now adds nothing
    return replace(
        first,
        calls={**first.calls, **second.calls},
        not_run=first.not_run + second.not_run,
        output_bytes=first.output_bytes + second.output_bytes,
    )


def observe_function(
    sandbox: Sandbox, spec: Spec, question: QuestionSpec, submission: Submission, base_seed: int
) -> FunctionObservations:
    """Observe one question's function (see :func:`observe_functions`)."""
    return observe_functions(sandbox, spec, [question], submission, base_seed)[0]


def _load_failure(run: RunResult, limit_s: float) -> str:
    """Why the child stopped before it could even describe the function (it was loading the file)."""
    if run.wire_error:
        return f"what your code produced while loading could not be read back: {run.wire_error}"
    status = "exited" if run.status == "ok" else run.status  # os._exit(0) while loading
    said = describe_stop(status, run.signal, run.cpu_s, limit_s, during="loading your file") or status
    printed = run.output.strip()[-200:]
    return f"{said}; it printed: {printed}" if printed else said


def _read(planned: _Planned, run: RunResult) -> FunctionObservations:
    """Turn one function's run into observations: load report, description, and each planned call's outcome."""
    name, seeds, lab, plan = planned.name, planned.seeds, planned.lab, planned.plan
    first = run.decoded
    if first is None:
        return FunctionObservations(
            name, {}, {}, {}, {}, seeds, failure=_load_failure(run, planned.limit_s), output_bytes=run.output_bytes
        )
    header = first.header
    description = header.get("function") if isinstance(header.get("function"), dict) else {}
    load = header.get("load") if isinstance(header.get("load"), dict) else {}
    glob = header.get("globals") if isinstance(header.get("globals"), dict) else {}
    assert isinstance(description, dict) and isinstance(load, dict) and isinstance(glob, dict)
    load, description = _clean_load(load), _clean_description(description)
    if not description.get("callable"):
        return FunctionObservations(name, load, description, glob, {}, seeds, output_bytes=run.output_bytes)
    frames = {f.header.get("label"): f for f in run.frames[1:]}
    calls: dict[str, CallObservation] = {}
    not_run: list[str] = []
    stopped = False
    for label, seed, _args, overrides in plan:
        if stopped or keywords_for(lab, description.get("params", []), overrides) is None:
            not_run.append(label)
        elif label in frames:
            calls[label] = _observe(label, seed, run, frames[label], planned.shape)
        else:
            calls[label] = _failed_call(label, seed, run)  # in progress when the child stopped
            stopped = True
    return FunctionObservations(
        name, load, description, glob, calls, seeds, tuple(not_run), output_bytes=run.output_bytes
    )
