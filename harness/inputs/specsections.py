"""Readers of the spec's sections other than its questions: inputs, experiments, flags, policies, limits."""

from __future__ import annotations

import ast
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from labgrade.harness.inputs.schema import (
    FLAG_POLICIES,
    FLAGS,
    LIMIT_DEFAULTS,
    PAPERS,
)
from labgrade.harness.inputs.specmodel import (
    _DATASETS,
    _IDENTIFIER,
    RENAME_COSTS,
    ExperimentSpec,
    InputSpec,
    Limits,
    RenamedSpec,
    ReportSpec,
    SimilaritySpec,
)
from labgrade.harness.inputs.specreader import MISSING, _is_number, _Reader, _show
from labgrade.harness.inputs.yamlsource import KeyPath
from labgrade.reference.catalogue import ALGORITHMS


def _read_matrix(r: _Reader, value: Any, path: KeyPath) -> tuple[tuple[float, ...], ...] | None:
    rows = r.sequence(value, path)
    if not rows:
        if isinstance(value, list):
            r.p.add(path, "expected a non-empty list of rows")
        return None
    width = len(rows[0]) if isinstance(rows[0], list) else -1
    out: list[tuple[float, ...]] = []
    for i, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != width or width == 0:
            r.p.add((*path, i), f"expected a row of {max(width, 1)} numbers, got {_show(row)}")
            return None
        for j, x in enumerate(row):
            if not _is_number(x):
                r.p.add((*path, i, j), f"expected a number, got {_show(x)}")
                return None
        out.append(tuple(float(x) for x in row))
    return tuple(out)


def _read_inputs(r: _Reader, raw: Any) -> dict[str, InputSpec]:
    path: KeyPath = ("inputs",)
    if raw is MISSING:
        return {}
    if not isinstance(raw, dict):
        r.p.add(path, f"expected a mapping of input names, got {_show(raw)}")
        return {}
    inputs: dict[str, InputSpec] = {}
    for name, body in raw.items():
        ipath = (*path, str(name))
        r.string(name, ipath, _IDENTIFIER)
        m = r.mapping(body, ipath, set(), {"matrix", "dataset"})
        if m is None:
            continue
        if ("matrix" in m) == ("dataset" in m):
            r.p.add(ipath, "expected exactly one of 'matrix' or 'dataset'")
            continue
        if "matrix" in m:
            inputs[str(name)] = InputSpec(str(name), matrix=_read_matrix(r, m["matrix"], (*ipath, "matrix")))
        else:
            ds = r.choice(m["dataset"], (*ipath, "dataset"), _DATASETS)
            inputs[str(name)] = InputSpec(str(name), dataset=ds)
    return inputs


def _check_arg(r: _Reader, kind: str, value: Any, path: KeyPath, inputs: Mapping[str, InputSpec]) -> None:
    if kind in ("matrix", "mask", "ratings", "titles"):
        target = inputs.get(value) if isinstance(value, str) else None
        if target is None:
            r.p.add(path, f"expected the name of an input ({', '.join(inputs)}), got {_show(value)}")
        elif kind in ("matrix", "mask") and target.matrix is None:
            r.p.add(path, f"input '{value}' is a dataset; expected a matrix input")
        elif kind in ("ratings", "titles") and target.dataset != kind:
            r.p.add(path, f"input '{value}' is not the {kind} dataset")
        elif (
            kind == "mask"
            and target.matrix is not None
            and any(x not in (0.0, 1.0) for row in target.matrix for x in row)
        ):
            r.p.add(path, f"input '{value}' must hold only 0 and 1 to be used as a mask")
    elif kind == "int":
        r.integer(value, path, 0)
    else:
        r.string(value, path)


def _read_experiments(r: _Reader, raw: Any, inputs: Mapping[str, InputSpec]) -> dict[str, ExperimentSpec]:
    path: KeyPath = ("experiments",)
    if raw is MISSING:
        return {}
    if not isinstance(raw, dict):
        r.p.add(path, f"expected a mapping of experiment names, got {_show(raw)}")
        return {}
    out: dict[str, ExperimentSpec] = {}
    for name, body in raw.items():
        epath = (*path, str(name))
        r.string(name, epath, _IDENTIFIER)
        m = r.mapping(body, epath, {"algorithm", "args"}, {"seeds"})
        if m is None:
            continue
        algorithm = r.choice(m.get("algorithm"), (*epath, "algorithm"), tuple(ALGORITHMS))
        args = m.get("args")
        seeds = 1
        if algorithm:
            info = ALGORITHMS[algorithm]
            am = r.mapping(args, (*epath, "args"), set(info.args), set())
            if am is not None:
                for arg, kind in info.args.items():
                    if arg in am:
                        _check_arg(r, kind, am[arg], (*epath, "args", arg), inputs)
                _check_rank(r, am, epath, inputs)
            if info.seeded:
                seeds = r.integer(m.get("seeds"), (*epath, "seeds"), 1)
            elif "seeds" in m:
                r.p.add((*epath, "seeds"), f"'{algorithm}' is deterministic; remove 'seeds'")
        out[str(name)] = ExperimentSpec(
            name=str(name),
            algorithm=algorithm,
            args=MappingProxyType(dict(args) if isinstance(args, dict) else {}),
            seeds=seeds,
        )
    return out


def _check_rank(r: _Reader, args: Mapping[str, Any], epath: KeyPath, inputs: Mapping[str, InputSpec]) -> None:
    """A rank must be below min(m, n) (the lab's r < min(m, n)), and a mask fit its matrix."""
    a_name, m_name = args.get("A"), args.get("M")
    matrix = inputs.get(a_name) if isinstance(a_name, str) else None
    if matrix is None or matrix.shape is None:
        return
    rank = args.get("rank")
    if isinstance(rank, int) and not isinstance(rank, bool) and not 0 < rank < min(matrix.shape):
        r.p.add((*epath, "args", "rank"), f"expected 0 < rank < {min(matrix.shape)}, got {rank}")
    mask = inputs.get(m_name) if isinstance(m_name, str) else None
    if mask is not None and mask.shape is not None and mask.shape != matrix.shape:
        r.p.add((*epath, "args", "M"), f"mask shape {mask.shape} differs from A's {matrix.shape}")


def _read_flags(r: _Reader, raw: Any) -> dict[str, str]:
    """The mark policy of each integrity flag: ``keep`` (flag for review, the default) or ``zero``."""
    policies = dict.fromkeys(FLAGS, "keep")
    m = r.mapping(raw, ("flags",), set(), set(FLAGS)) if raw is not None else None
    for key, value in (m or {}).items():
        if key in policies:
            policies[key] = r.choice(value, ("flags", key), FLAG_POLICIES) or "keep"
    return policies


def _read_similarity(r: _Reader, raw: Any) -> SimilaritySpec:
    """``similarity: {threshold: 0..1, handed_out: <Python source>}``; both optional."""
    if raw is None:
        return SimilaritySpec()
    m = r.mapping(raw, ("similarity",), set(), {"threshold", "handed_out"})
    if m is None:
        return SimilaritySpec()
    threshold = SimilaritySpec.threshold
    if "threshold" in m:
        threshold = r.number(m["threshold"], ("similarity", "threshold"), 0, strict=True)
        if threshold > 1:
            r.p.add(("similarity", "threshold"), f"expected a share between 0 and 1, got {_show(threshold)}")
    handed_out = r.string(m["handed_out"], ("similarity", "handed_out")) if "handed_out" in m else ""
    try:
        ast.parse(handed_out)
    except SyntaxError as exc:
        r.p.add(("similarity", "handed_out"), f"expected Python source; line {exc.lineno}: {exc.msg}")
    return SimilaritySpec(threshold=threshold, handed_out=handed_out)


def _read_report(r: _Reader, raw: Any) -> ReportSpec:
    """``report: {max_pages: N, paper: A4}``: the form the lab text asks of a report; both optional."""
    if raw is None:
        return ReportSpec()
    m = r.mapping(raw, ("report",), set(), {"max_pages", "paper"})
    if m is None:
        return ReportSpec()
    pages = None
    if "max_pages" in m:
        pages = r.number(m["max_pages"], ("report", "max_pages"), 1, strict=False)
        if pages is not None and pages != int(pages):
            r.p.add(("report", "max_pages"), f"expected a whole number of pages, got {_show(pages)}")
    paper = r.choice(m["paper"], ("report", "paper"), tuple(PAPERS)) or None if "paper" in m else None
    return ReportSpec(int(pages) if pages is not None else None, paper)


def _read_renamed(r: _Reader, raw: Any) -> RenamedSpec:
    """``renamed: {recover: true, cost: signature, never: [gd_factorise_masked]}``; every key optional."""
    if raw is None:
        return RenamedSpec()
    m = r.mapping(raw, ("renamed",), set(), {"recover", "cost", "never"})
    if m is None:
        return RenamedSpec()
    recover = r.boolean(m["recover"], ("renamed", "recover")) if "recover" in m else True
    cost = (r.choice(m["cost"], ("renamed", "cost"), RENAME_COSTS) or "signature") if "cost" in m else "signature"
    never: list[str] = []
    for i, name in enumerate(r.sequence(m.get("never", []), ("renamed", "never"))):
        never.append(r.string(name, ("renamed", "never", i), _IDENTIFIER))
    return RenamedSpec(recover, cost, tuple(never))


def _read_limits(r: _Reader, raw: Any) -> Limits:
    values = dict(LIMIT_DEFAULTS)
    if raw is not None:
        m = r.mapping(raw, ("limits",), set(), set(LIMIT_DEFAULTS))
        for key in LIMIT_DEFAULTS:
            if m is not None and key in m:
                values[key] = r.number(m[key], ("limits", key), 0, strict=True)
    return Limits(
        time_per_call_s=values["time_per_call_s"],
        cpu_per_call_s=values["cpu_per_call_s"],
        memory_mib=values["memory_mib"],
        processes=int(values["processes"]),
        output_bytes=int(values["output_bytes"]),
    )
