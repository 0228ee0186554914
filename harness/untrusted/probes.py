"""What runs inside the confined child: load the student's definitions, call one function, observe.

The child only observes; it never judges.  It reports what it saw as plain data
(:mod:`labgrade.harness.untrusted.wire`): whether the module loaded, the function's signature, and
for a call the returned objects (tensors as raw bytes, anything else as its type
name), the inputs after the call (to spot in-place changes), timings and any
exception with the student's own file and line.  It never sees expected values:
the parent sends only the lab's public inputs.
"""

from __future__ import annotations

import ast
import builtins
import functools
import inspect
import math
import os
import random
import sys
import threading
import time
import traceback
import types
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional

from labgrade.harness.untrusted.callplan import keywords_for
from labgrade.harness.untrusted.seeding import seed_everything
from labgrade.harness.untrusted.wire import MAX_TENSOR_ELEMENTS, encode

_MAX_TEXT = 2000


def _short(text: str, limit: int = _MAX_TEXT) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _student_frames(tb: types.TracebackType | None, units: dict[str, str]) -> list[dict[str, Any]]:
    frames = []
    for frame in traceback.extract_tb(tb):
        if frame.filename in units:
            lines = units[frame.filename].splitlines()
            line = lines[frame.lineno - 1].strip() if frame.lineno and frame.lineno <= len(lines) else ""
            frames.append({"file": frame.filename, "line": frame.lineno, "code": _short(line, 200)})
    return frames[-5:]


def _exception(exc: BaseException, units: dict[str, str]) -> dict[str, Any]:
    try:
        message = str(exc)
    except BaseException:  # a student's __str__ may itself raise
        message = "<unprintable>"
    return {
        "type": _short(type(exc).__name__, 100),
        "message": _short(message, 500),
        "frames": _student_frames(exc.__traceback__, units),
    }


def load_module(units: list[dict[str, str]]) -> tuple[types.ModuleType, dict[str, Any]]:
    """Run each top-level statement of the definitions on its own, so one failure does not hide the rest."""
    module = types.ModuleType("submission")
    module.__dict__["__builtins__"] = __builtins__
    sys.modules["submission"] = module
    sources = {u["filename"]: u["code"] for u in units}
    report: dict[str, Any] = {"errors": [], "failed_imports": []}
    for unit in units:
        try:
            tree = ast.parse(unit["code"], filename=unit["filename"])
        except SyntaxError as exc:  # already screened by the parent; kept for safety
            report["errors"].append(_exception(exc, sources))
            continue
        for node in tree.body:
            code = compile(ast.Module(body=[node], type_ignores=[]), unit["filename"], "exec")
            try:
                exec(code, module.__dict__)
            except ImportError as exc:
                report["failed_imports"].append(_short(f"{unit['filename']}, line {node.lineno}: {exc}", 200))
            except BaseException as exc:  # SystemExit and KeyboardInterrupt at load are the student's too
                report["errors"].append(_exception(exc, sources))
    return module, report


def _default_repr(value: Any) -> Any:
    if value is inspect.Parameter.empty:
        return None
    if isinstance(value, bool | int | float | str) or value is None:
        return {"value": value}
    try:
        shown = repr(value)
    except Exception:  # a student's __repr__ may raise
        shown = f"<{type(value).__name__} object>"
    return {"expr": _short(str(shown), 100)}


def describe_function(module: types.ModuleType, name: str) -> dict[str, Any]:
    """Whether ``name`` is defined and callable, and its parameters."""
    obj = module.__dict__.get(name)
    out: dict[str, Any] = {"defined": obj is not None, "callable": callable(obj)}
    if obj is None or not callable(obj):
        out["type"] = _short(type(obj).__name__, 100) if obj is not None else None
        return out
    try:
        sig = inspect.signature(obj)
    except Exception as exc:  # a callable object's own __signature__ or __call__ may raise anything
        out["signature_error"] = _short(f"{type(exc).__name__}: {exc}", 200)
        return out
    out["params"] = [
        {
            "name": p.name,
            "kind": p.kind.name,
            "default": _default_repr(p.default),
            "annotated": p.annotation is not inspect.Parameter.empty,
        }
        for p in sig.parameters.values()
    ]
    return out


# Bound before any student code runs: a submission that rebinds torch.nn.Parameter cannot widen what counts as one.
_PARAMETER = torch.nn.Parameter
_MAX_LIST_ITEMS = 10_000
_ENCODABLE = (
    torch.float16, torch.bfloat16, torch.float32, torch.float64, torch.int8, torch.int16,
    torch.int32, torch.int64, torch.uint8, torch.bool,
)  # fmt: skip


# Seeding torch's global generator inside a call is observed two ways: the public seeding
# functions are wrapped here, before any student code loads (calls through them are
# recorded), and torch.initial_seed() is compared with the harness's seed after the call
# (which also catches torch.default_generator.manual_seed with another value).
_RESEEDED = [False]


def _recording(seed_function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(seed_function)
    def seed(*args: Any, **kwargs: Any) -> Any:
        _RESEEDED[0] = True
        return seed_function(*args, **kwargs)

    return seed


torch.manual_seed = torch.random.manual_seed = _recording(torch.random.manual_seed)
torch.seed = torch.random.seed = _recording(torch.random.seed)


def _as_tensor(value: Any) -> tuple[torch.Tensor, str | None] | None:
    """A returned object as a plain tensor and the form it came in (``None`` for a plain tensor).

    The parent decides what a form is worth; the child only converts what can be
    read back unambiguously: a NumPy array, a (nested) list of numbers, an
    ``nn.Parameter``.  Anything else stays a type name.
    """
    if type(value) is torch.Tensor:
        return value, None
    if type(value) is _PARAMETER:
        return value.data, "parameter"
    numpy = sys.modules.get("numpy")
    if numpy is not None and type(value) is numpy.ndarray and value.dtype.kind in "biuf":
        return torch.from_numpy(numpy.ascontiguousarray(value)), "ndarray"
    if type(value) is list and 0 < len(value) <= _MAX_LIST_ITEMS:
        rows = value if all(type(x) is list for x in value) else None
        size = sum(len(row) for row in rows) if rows is not None else len(value)  # counted before anything is copied
        flat = (x for row in rows for x in row) if rows is not None else iter(value)
        if size <= _MAX_LIST_ITEMS and all(type(x) in (int, float) for x in flat):
            try:
                return torch.tensor(value, dtype=torch.float64), "list"
            except (TypeError, ValueError):  # ragged rows
                return None
    return None


def _encode_value(value: Any, tensors: list[torch.Tensor]) -> dict[str, Any]:
    converted = _as_tensor(value)
    if converted is None:
        if isinstance(value, torch.Tensor):
            return {"type": f"tensor subclass {_short(type(value).__name__, 80)}"}
        return {"type": _short(type(value).__name__, 80)}
    tensor, form = converted
    if tensor.numel() > MAX_TENSOR_ELEMENTS:
        return {"type": "tensor", "too_large": True, "shape": list(tensor.shape)}
    if tensor.is_complex() or tensor.dtype not in _ENCODABLE:
        return {"type": "tensor", "dtype": str(tensor.dtype), "shape": list(tensor.shape)}
    tensors.append(tensor.detach().to("cpu"))
    requires_grad = bool(value.requires_grad) if isinstance(value, torch.Tensor) else False
    return {"tensor": len(tensors) - 1, "requires_grad": requires_grad, "form": form}


def _argument(spec: Any) -> Any:
    if isinstance(spec, dict) and "tensor" in spec:
        return torch.tensor(spec["tensor"], dtype=torch.float32)
    return spec


def _call_once(
    fn: Any, call: dict[str, Any], keywords: dict[str, Any], sources: dict[str, str]
) -> tuple[dict[str, Any], list[torch.Tensor]]:
    """Call the student's function once under the harness's seed; observe the result and the inputs."""
    tensors: list[torch.Tensor] = []
    args = [_argument(a) for a in call.get("args", [])]
    kwargs = {k: _argument(v) for k, v in keywords.items()}
    originals = [a.clone() for a in args if isinstance(a, torch.Tensor)]
    torch.set_default_dtype(torch.float32)  # every call starts from the same global state
    seed_everything(int(call["seed"]))
    _RESEEDED[0] = False
    started = time.perf_counter()
    result: dict[str, Any] = {}
    try:
        value = fn(*args, **kwargs)
        result["seconds"] = time.perf_counter() - started
        if isinstance(value, tuple | list):
            result["container"] = type(value).__name__
            result["items"] = [_encode_value(v, tensors) for v in list(value)[:4]]
            result["length"] = len(value)
        else:
            result["container"] = None
            result["items"] = [_encode_value(value, tensors)]
    except BaseException as exc:  # SystemExit and KeyboardInterrupt are the student's too
        result["seconds"] = time.perf_counter() - started
        result["error"] = _exception(exc, sources)
    after = [a for a in args if isinstance(a, torch.Tensor)]
    result["inputs_changed"] = [
        not (type(a) is torch.Tensor and a.shape == o.shape and torch.equal(a, o))
        for a, o in zip(after, originals, strict=True)
    ]
    result["default_dtype_after"] = str(torch.get_default_dtype())
    # manual_seed (torch's or the generator's) sets initial_seed: another value means the call reseeded.
    result["reseeded"] = _RESEEDED[0] or torch.initial_seed() != int(call["seed"])
    return result, tensors


def _global_state() -> tuple[int, int]:
    """A fingerprint of what a function could change for the next one: threads, and what torch and builtins hold.

    Objects in the namespaces student code reaches for (``torch.norm``,
    ``Tensor.__sub__``, ``builtins.print``...) are compared by identity, so a
    replaced function changes the fingerprint; the thread count catches a thread
    left running after a call.
    """
    spaces = (builtins, torch, torch.nn.functional, torch.linalg, torch.random, random, math, sys.modules.get("numpy"))
    ids = [id(v) for space in spaces if space is not None for v in vars(space).values()]
    ids += [id(v) for v in vars(torch.Tensor).values()] + [id(v) for v in vars(torch._C.TensorBase).values()]
    try:
        threads = len(os.listdir(f"/proc/{os.getpid()}/task"))
    except OSError:
        threads = threading.active_count()
    return threads, hash(tuple(ids))


def run(request: dict[str, Any], emit: Callable[[bytes], None]) -> None:
    """Run each job of the request in turn (see :func:`run_job`), saying when each is done.

    A job that left a thread running or replaced something in torch or builtins
    ends the child after it: the next function then gets a fresh child (the parent
    runs the remaining jobs again), exactly as if each function had its own.
    """
    before = _global_state()
    for position, job in enumerate(request.get("jobs") or []):
        run_job(request["units"], job, position, emit)
        emit(encode({"job": position, "done": True}, []))
        if _global_state() != before:
            return


def run_job(units: list[dict[str, str]], job: dict[str, Any], position: int, emit: Callable[[bytes], None]) -> None:
    """Load the definitions afresh and describe the function (one frame), then make each call (one frame each).

    Frames are emitted as soon as they exist, so when a call hits a limit the
    observations of the calls before it are already with the zygote.  Every frame
    names its job (``position``), so one child can observe several functions.
    """
    sources = {u["filename"]: u["code"] for u in units}
    header: dict[str, Any] = {"job": position}
    torch.set_default_dtype(torch.float32)  # each job starts from the global state of a fresh process
    torch.set_grad_enabled(True)
    dtype_before = torch.get_default_dtype()
    seed_everything(0)
    probe = torch.rand(1)
    seed_everything(0)
    module, header["load"] = load_module(units)
    header["globals"] = {
        "default_dtype_after_load": str(torch.get_default_dtype()),
        "default_dtype_before": str(dtype_before),
        "rng_changed_by_load": not torch.equal(torch.rand(1), probe),
    }
    name = job["function"]
    header["function"] = describe_function(module, name)
    emit(encode(header, []))
    if not header["function"]["callable"]:
        return
    fn = module.__dict__[name]
    lab = [tuple(p) for p in job.get("lab_params") or []]
    params = header["function"].get("params") or []
    for call in job.get("calls") or []:
        keywords = keywords_for(lab, params, call.get("overrides") or {})
        if keywords is None:
            continue  # the parent knows this call cannot be made: no parameter takes it
        result, tensors = _call_once(fn, call, keywords, sources)
        try:
            frame = encode({"job": position, "call": result, "label": call["label"]}, tensors)
        except Exception as exc:  # a result our encoder cannot write is the call's failure, said as such
            unreadable = {"type": "UnreadableResult", "message": _short(f"{type(exc).__name__}: {exc}", 300)}
            call_result = {"seconds": result.get("seconds", 0.0), "error": {**unreadable, "frames": []}}
            frame = encode({"job": position, "call": call_result, "label": call["label"]}, [])
        emit(frame)
