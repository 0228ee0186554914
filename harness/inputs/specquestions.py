"""Readers of a question: its function, answers, checks, bands, essentials, and how they fit together."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from labgrade.harness.inputs.rubric import read_review
from labgrade.harness.inputs.schema import (
    ANSWER_TYPES,
    BAND_KEYS,
    CHECK_PARAMS,
    DIAGNOSES,
    ESSENTIALS,
    MASKED_ESSENTIALS,
    OPTIONAL_CHECK_PARAMS,
    PARAM_PASSING,
    QUESTION_KINDS,
)
from labgrade.harness.inputs.specmodel import (
    _IDENTIFIER,
    AnswerSpec,
    BandSpec,
    CheckSpec,
    EssentialSpec,
    ExperimentSpec,
    FunctionSpec,
    ParamSpec,
    QuestionSpec,
)
from labgrade.harness.inputs.specreader import MISSING, _is_number, _Reader, _show
from labgrade.harness.inputs.yamlsource import KeyPath
from labgrade.reference.catalogue import ALGORITHMS, LOWER_BOUNDS


def _read_band(r: _Reader, value: Any, path: KeyPath) -> BandSpec:
    m = r.mapping(value, path, set(), set(BAND_KEYS))
    if m is None:
        return BandSpec()
    quantiles = (0.0, 1.0)
    if "quantiles" in m:
        q = m["quantiles"]
        if isinstance(q, list) and len(q) == 2 and all(_is_number(x) for x in q) and 0 <= q[0] <= q[1] <= 1:
            quantiles = (float(q[0]), float(q[1]))
        else:
            r.p.add((*path, "quantiles"), f"expected [low, high] with 0 <= low <= high <= 1, got {_show(q)}")
    slack = r.number(m["slack"], (*path, "slack"), 0, strict=False) if "slack" in m else 0.0
    rtol = r.number(m["rtol"], (*path, "rtol"), 0, strict=False) if "rtol" in m else 1e-4
    bound = "none"
    if "lower_bound" in m:
        bound = r.choice(m["lower_bound"], (*path, "lower_bound"), LOWER_BOUNDS)
    return BandSpec(quantiles=quantiles, slack=slack, rtol=rtol, lower_bound=bound or "none")


def _read_check(r: _Reader, raw: Any, path: KeyPath) -> CheckSpec | None:
    if not isinstance(raw, dict):
        r.p.add(path, f"expected a mapping with 'kind', got {_show(raw)}")
        return None
    kind = r.choice(raw.get("kind"), (*path, "kind"), tuple(CHECK_PARAMS))
    if not kind:
        return None
    schema = CHECK_PARAMS[kind]
    optional = OPTIONAL_CHECK_PARAMS.get(kind, set())
    m = r.mapping(raw, path, {"kind"} | (set(schema) - optional), {"visible", "weight"} | optional)
    if m is None:
        return None
    params: dict[str, Any] = {}
    for key, typ in schema.items():
        if key not in m:
            continue
        kpath = (*path, key)
        value = m[key]
        if typ == "str":
            params[key] = r.string(value, kpath)
        elif typ == "number":
            params[key] = r.number(value, kpath, 0, strict=True)
        elif typ == "band":
            params[key] = _read_band(r, value, kpath)
        elif typ == "list[str]":
            items = r.sequence(value, kpath)
            for i, item in enumerate(items):
                r.choice(item, (*kpath, i), DIAGNOSES)
            params[key] = tuple(str(x) for x in items)
    visible = r.boolean(m["visible"], (*path, "visible")) if "visible" in m else True
    weight = r.number(m["weight"], (*path, "weight"), 0, strict=False) if "weight" in m else 1.0
    return CheckSpec(kind=kind, params=MappingProxyType(params), visible=visible, weight=weight)


def _read_function(r: _Reader, raw: Any, path: KeyPath) -> FunctionSpec | None:
    m = r.mapping(raw, path, {"name", "params"}, {"returns"})
    if m is None:
        return None
    name = r.string(m.get("name"), (*path, "name"), _IDENTIFIER)
    params: list[ParamSpec] = []
    seen: set[str] = set()
    for i, p in enumerate(r.sequence(m.get("params"), (*path, "params"))):
        ppath = (*path, "params", i)
        pm = r.mapping(p, ppath, {"name"}, {"annotation", "default", "passed"})
        if pm is None:
            continue
        passed = r.choice(pm["passed"], (*ppath, "passed"), PARAM_PASSING) if "passed" in pm else "keyword"
        pname = r.string(pm.get("name"), (*ppath, "name"), _IDENTIFIER)
        if pname in seen:
            r.p.add((*ppath, "name"), f"parameter '{pname}' appears twice")
        seen.add(pname)
        annotation = r.string(pm["annotation"], (*ppath, "annotation")) if "annotation" in pm else None
        if params and params[-1].has_default and "default" not in pm:
            r.p.add(ppath, "a parameter without a default cannot follow one with a default")
        params.append(ParamSpec(pname, annotation, "default" in pm, pm.get("default"), passed != "position"))
    returns = r.string(m["returns"], (*path, "returns")) if "returns" in m else None
    return FunctionSpec(name=name, params=tuple(params), returns=returns)


def _read_answers(r: _Reader, raw: Any, path: KeyPath) -> tuple[AnswerSpec, ...]:
    if not isinstance(raw, dict):
        r.p.add(path, f"expected a mapping of answer names, got {_show(raw)}")
        return ()
    out: list[AnswerSpec] = []
    for name, body in raw.items():
        apath = (*path, str(name))
        r.string(name, apath, _IDENTIFIER)
        m = r.mapping(body, apath, {"type"}, {"shape"})
        if m is None:
            continue
        typ = r.choice(m.get("type"), (*apath, "type"), ANSWER_TYPES)
        shape = None
        if typ == "matrix":
            s = m.get("shape")
            if isinstance(s, list) and len(s) == 2 and all(isinstance(x, int) and x > 0 for x in s):
                shape = (int(s[0]), int(s[1]))
            else:
                r.p.add((*apath, "shape"), f"expected [rows, columns] for a matrix answer, got {_show(s)}")
        elif "shape" in m:
            r.p.add((*apath, "shape"), "only a matrix answer has a shape")
        out.append(AnswerSpec(name=str(name), type=typ, shape=shape))
    return tuple(out)


def _read_essentials(r: _Reader, raw: Any, path: KeyPath, masked: bool) -> tuple[EssentialSpec, ...]:
    """Essentials with their caps; a cap above 0 must say why (the reason is shown to students)."""
    out: list[EssentialSpec] = []
    seen: set[str] = set()
    for i, item in enumerate(r.sequence(raw, path)):
        epath = (*path, i)
        m = r.mapping(item, epath, {"kind"}, {"cap", "reason"})
        if m is None:
            continue
        kind = r.choice(m["kind"], (*epath, "kind"), ESSENTIALS)
        if kind in seen:
            r.p.add((*epath, "kind"), f"essential '{kind}' appears twice")
        seen.add(kind)
        if kind in MASKED_ESSENTIALS and not masked:
            r.p.add((*epath, "kind"), f"'{kind}' needs a question whose experiment has a mask M")
        cap = r.number(m["cap"], (*epath, "cap"), 0, strict=False) if "cap" in m else 0.0
        if cap > 1:
            r.p.add((*epath, "cap"), f"expected a share of the question's marks between 0 and 1, got {_show(m['cap'])}")
        reason = r.string(m["reason"], (*epath, "reason")) if "reason" in m else ""
        if cap > 0 and not reason:
            r.p.add(epath, "a cap above 0 needs a 'reason' (it is what the student reads)")
        out.append(EssentialSpec(kind, min(cap, 1.0), reason))
    return tuple(out)


def _read_question(r: _Reader, raw: Any, index: int, experiments: Mapping[str, ExperimentSpec]) -> QuestionSpec | None:
    path: KeyPath = ("questions", index)
    m = r.mapping(
        raw,
        path,
        {"id", "title", "kind", "marks", "checks"},
        {"function", "experiment", "answers", "free_text", "essentials", "review"},
    )
    if m is None:
        return None
    qid = m.get("id")
    if qid is MISSING:
        qid = ""
    elif not isinstance(qid, str) or not qid.strip():
        r.p.add((*path, "id"), f'expected a question id as a quoted string such as "1.1", got {_show(qid)}')
        qid = ""
    kind = r.choice(m.get("kind"), (*path, "kind"), QUESTION_KINDS)
    function = None
    if kind == "function":
        if "function" not in m:
            r.p.add(path, "a question of kind 'function' needs a 'function' signature")
        else:
            function = _read_function(r, m["function"], (*path, "function"))
    elif "function" in m:
        r.p.add((*path, "function"), "only a question of kind 'function' has a signature")
    answers: tuple[AnswerSpec, ...] = ()
    if "answers" in m:
        answers = _read_answers(r, m["answers"], (*path, "answers"))
    elif kind == "answer":
        r.p.add(path, "a question of kind 'answer' needs 'answers'")
    experiment = None
    if "experiment" in m:
        experiment = r.choice(m["experiment"], (*path, "experiment"), tuple(experiments))
    checks = []
    for i, c in enumerate(r.sequence(m.get("checks"), (*path, "checks"))):
        check = _read_check(r, c, (*path, "checks", i))
        if check is not None:
            checks.append(check)
    _cross_check(r, path, checks, answers, experiment, experiments)
    essentials: tuple[EssentialSpec, ...] = ()
    if "essentials" in m:
        if kind != "function" or experiment is None:
            r.p.add((*path, "essentials"), "only a question of kind 'function' with an 'experiment' has essentials")
        else:
            masked = "M" in experiments[experiment].args if experiment in experiments else False
            essentials = _read_essentials(r, m["essentials"], (*path, "essentials"), masked)
    free = r.sequence(m.get("free_text", []), (*path, "free_text"))
    for i, text in enumerate(free):
        r.string(text, (*path, "free_text", i))
    marks = r.number(m.get("marks"), (*path, "marks"), 0, strict=True)
    review = read_review(r, m["review"], (*path, "review"), marks) if "review" in m else None
    return QuestionSpec(
        id=qid,
        title=r.string(m.get("title"), (*path, "title")),
        kind=kind,
        marks=marks,
        function=function,
        experiment=experiment,
        answers=answers,
        checks=tuple(checks),
        free_text=tuple(str(t) for t in free),
        essentials=essentials,
        review=review,
    )


def _cross_check(
    r: _Reader,
    path: KeyPath,
    checks: list[CheckSpec],
    answers: tuple[AnswerSpec, ...],
    experiment: str | None,
    experiments: Mapping[str, ExperimentSpec],
) -> None:
    """Names a check uses (answer, experiment, quantity) must exist in the spec."""
    answer_names = {a.name for a in answers}
    for i, check in enumerate(checks):
        cpath = (*path, "checks", i)
        exp_name = check.params.get("experiment", experiment)
        if "answer" in check.params and check.params["answer"] not in answer_names:
            r.p.add((*cpath, "answer"), f"no answer named {_show(check.params['answer'])} in this question")
        if "experiment" in check.params and exp_name not in experiments:
            r.p.add((*cpath, "experiment"), f"no experiment named {_show(exp_name)}")
            continue
        if check.kind in ("loss_band", "step_for_step", "diagnose") and experiment is None:
            r.p.add(cpath, f"check '{check.kind}' needs the question's 'experiment'")
            continue
        algorithm = experiments[exp_name].algorithm if exp_name in experiments else ""
        if not algorithm:
            continue
        info = ALGORITHMS[algorithm]
        quantity = check.params.get("quantity")
        if quantity is not None and quantity not in info.quantities:
            r.p.add(
                (*cpath, "quantity"),
                f"'{algorithm}' yields {', '.join(info.quantities)}; got {_show(quantity)}",
            )
        band = check.params.get("band")
        if (
            isinstance(band, BandSpec)
            and band.lower_bound not in ("none", "zero")
            and (band.lower_bound not in info.bounds or quantity != "loss")
        ):
            r.p.add(
                (*cpath, "band", "lower_bound"),
                f"'{band.lower_bound}' bounds the 'loss' of "
                f"{', '.join(a for a, i in ALGORITHMS.items() if band.lower_bound in i.bounds)}; "
                f"not the {quantity or 'answer'} of '{algorithm}'",
            )
