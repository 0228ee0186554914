"""Read a call's returned objects as the factors (U, V), recovering what a slip in form hides.

A student who returns ``V.t()``, NumPy arrays, lists, ``(U, V, losses)``, float64 or
tensors that require grad has done the question's work and slipped on its form.
The work is graded on the recovered (U, V); the form costs the result share
only, and the feedback says what was assumed ("graded as if you returned V; return
V, not V.t()").  Only what is unambiguous is recovered: a transpose is read from the
shapes only when ``m`` or ``n`` differs from ``rank``, a swapped pair only when
``m != n``.  Anything else (a single tensor, wrong shapes, integers, NaN) stays a
failure, with the message that says why.

Runs in the trusted parent, on tensors the wire already decoded; nothing here
trusts what the child claimed beyond the bytes, dtype and shape of each tensor.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

#: How a returned object reached the wire, as the child reported it (see ``labgrade.harness.untrusted.probes``).
FORMS = {"ndarray": "a NumPy array", "list": "a Python list", "parameter": "an nn.Parameter"}
_PLURAL = {"a NumPy array": "NumPy arrays", "a Python list": "Python lists", "an nn.Parameter": "nn.Parameters"}
_EXPECTED = "expected a tuple (U, V) of two tensors"


@dataclass(frozen=True)
class Returned:
    """One returned object: a plain tensor (with the form it came in) or the name of what it was."""

    tensor: torch.Tensor | None
    type_name: str | None = None
    requires_grad: bool = False
    form: str | None = None


@dataclass(frozen=True)
class FormFault:
    """A slip in form that was recovered: what was found, and how to return it instead."""

    message: str
    hint: str
    label: str = "(U, V)"  # what the grade assumes was returned instead


@dataclass(frozen=True)
class FactorReading:
    """The factors a call returned, read as (U, V): recovered with faults, or a failure and its hint."""

    factors: tuple[torch.Tensor, torch.Tensor] | None
    faults: tuple[FormFault, ...] = ()
    failure: tuple[str, str] | None = None


def _fail(message: str, hint: str) -> FactorReading:
    return FactorReading(None, (), (message, hint))


def _shape_failure(label: str, t: torch.Tensor, want: tuple[int, int]) -> FactorReading:
    hint = "check the shapes you create with torch.rand"
    if t.dim() == 0:
        return _fail(f"returned {label} as a single number (a 0-dimensional tensor); expected shape {want}", hint)
    if tuple(t.shape) == (want[1], want[0]):
        hint = f"did you return {label} transposed?"
    return _fail(f"returned {label} with shape {tuple(t.shape)}; expected {want}", hint)


def _orient(
    label: str, item: Returned, want: tuple[int, int], changed_dtype: str | None
) -> tuple[torch.Tensor, list[FormFault]] | FactorReading:
    """One factor as a plain float tensor of shape ``want``, or the failure that stops reading it."""
    assert item.tensor is not None
    t = item.tensor
    faults: list[FormFault] = []
    if item.form in FORMS:
        faults.append(FormFault(f"returned {label} as {FORMS[item.form]}", "return torch tensors", label))
    if tuple(t.shape) != want:
        if t.dim() == 2 and tuple(t.shape) == (want[1], want[0]) and want[0] != want[1]:
            t = t.t()
            shown = tuple(t.shape)[::-1]
            fault = FormFault(f"returned {label} transposed, shape {shown}", f"return {label}, not {label}.t()", label)
            faults.append(fault)
        else:
            return _shape_failure(label, t, want)
    if not t.is_floating_point():
        return _fail(f"returned {label} with dtype {t.dtype}; expected a float tensor", "use torch.rand (float32)")
    if item.form is None and t.dtype != torch.float32 and str(t.dtype) != changed_dtype:
        # One slip, one fault: a list or an array is not also a dtype slip, and a dtype that
        # follows from torch.set_default_dtype is counted once, by that diagnosis.
        faults.append(FormFault(f"returned {label} as {t.dtype}", "return float32 tensors, as torch.rand gives", label))
    if item.requires_grad and item.form is None:
        faults.append(FormFault(f"returned {label} with requires_grad=True", f"return {label}.detach()", label))
    if not bool(torch.isfinite(t).all()):
        return _fail(
            f"returned {label} with NaN or infinite values",
            "the updates diverge: check the sign of the update and the learning rate",
        )
    return t, faults


def _pair(
    items: Sequence[Returned], container: str | None, length: int | None, m: int, n: int, r: int
) -> tuple[Returned, Returned, list[FormFault]] | FactorReading:
    """The two returned objects to read as U and V, with a fault when more were returned or the pair is swapped."""
    faults: list[FormFault] = []
    count = length if length is not None else len(items)
    if container is None or count < 2 or len(items) < 2:
        first = items[0] if items else None
        what = container or (
            "single tensor" if first is not None and first.tensor is not None else (first.type_name if first else None)
        )
        of = f" of {count}" if container else ""
        return _fail(f"returned a {what or 'nothing'}{of}; {_EXPECTED}", "end with `return U, V`")
    u, v = items[0], items[1]
    if count > 2:
        if u.tensor is None or v.tensor is None or u.tensor.dim() != 2 or v.tensor.dim() != 2:
            return _fail(f"returned a {container} of {count}; {_EXPECTED}", "end with `return U, V`")
        faults.append(FormFault(f"returned {count} values; graded the first two as (U, V)", "return only U, V"))
    if (
        m != n
        and u.tensor is not None
        and v.tensor is not None
        and tuple(u.tensor.shape) == (n, r)
        and tuple(v.tensor.shape) == (m, r)
    ):
        u, v = v, u
        faults.append(FormFault("returned (V, U)", "return U, V in that order"))
    return u, v, faults


def read_factors(
    items: Sequence[Returned],
    container: str | None,
    length: int | None,
    shape: tuple[int, int, int],
    changed_dtype: str | None = None,
) -> FactorReading:
    """Read (U, V) of shapes (m, r) and (n, r) from what a call returned.

    Args:
        items: the returned objects (the first four of a tuple or list).
        container: ``"tuple"`` or ``"list"`` when one was returned, else ``None``.
        length: how many objects the container held.
        shape: ``(m, n, r)`` of the lab's call.
        changed_dtype: torch's default dtype after the call when the call changed it.
    """
    m, n, r = shape
    pair = _pair(items, container, length, m, n, r)
    if isinstance(pair, FactorReading):
        return pair
    u, v, faults = pair
    factors = []
    for label, item, want in (("U", u, (m, r)), ("V", v, (n, r))):
        if item.tensor is None:
            return _fail(
                f"returned {label} as a {item.type_name}; expected a torch.Tensor",
                "return plain torch tensors (not tensor subclasses or other objects)",
            )
        read = _orient(label, item, want, changed_dtype)
        if isinstance(read, FactorReading):
            return read
        factors.append(read[0])
        faults += read[1]
    return FactorReading((factors[0], factors[1]), tuple(faults))


def _both(messages: list[str]) -> list[str]:
    """Say a fault U and V share once: "returned U and V as NumPy arrays"."""
    out: list[str] = []
    for message in messages:
        twin = message.replace("returned V ", "returned U ", 1)
        if message.startswith("returned V ") and twin in out:
            rest = twin.removeprefix("returned U ")
            for one, many in _PLURAL.items():
                rest = rest.replace(one, many)
            out[out.index(twin)] = f"returned U and V {rest}"
        else:
            out.append(message)
    return out


def describe_recovery(faults: Sequence[FormFault]) -> tuple[str, str]:
    """One message and one hint for the faults of a recovered result."""
    found = "; ".join(_both(list(dict.fromkeys(f.message for f in faults))))
    hint = "; ".join(dict.fromkeys(f.hint for f in faults))
    labels = {f.label for f in faults}
    assumed = next(iter(labels)) if len(labels) == 1 else "(U, V)"
    return f"{found}; graded as if you returned {assumed}", hint
