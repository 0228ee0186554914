"""The only format in which data leaves a sandboxed child: JSON plus raw tensor bytes.

Layout: 8-byte big-endian length of a UTF-8 JSON header, the header, then the
tensors' raw bytes.  The header's ``tensors`` list gives each tensor's dtype,
shape, offset and byte count.  The parent decodes it strictly: sizes are
capped, dtypes come from a fixed allow-list, every offset and length is checked,
and tensors are rebuilt with ``torch.frombuffer`` into plain ``torch.Tensor``
objects.  Nothing is ever unpickled, so nothing the child sends can run code in
the parent.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from typing import Any

import torch

DTYPES: dict[str, torch.dtype] = {
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
    "float32": torch.float32,
    "float64": torch.float64,
    "int8": torch.int8,
    "int16": torch.int16,
    "int32": torch.int32,
    "int64": torch.int64,
    "uint8": torch.uint8,
    "bool": torch.bool,
}
_NAMES = {v: k for k, v in DTYPES.items()}
MAX_HEADER_BYTES = 4 << 20
MAX_TENSOR_ELEMENTS = 4_000_000


class WireError(Exception):
    """The child's output is malformed; it is treated as the student's failure."""


def encode(header: dict[str, Any], tensors: list[torch.Tensor]) -> bytes:
    """Encode ``header`` and ``tensors`` (plain, CPU, contiguous) for the parent.

    ``header["tensors"]`` is filled in here; the caller refers to tensors by index.
    """
    blobs: list[bytes] = []
    meta = []
    offset = 0
    for t in tensors:
        c = t.detach().cpu().contiguous()
        raw = c.reshape(-1).view(torch.uint8).numpy().tobytes() if c.numel() else b""  # 0-dim: reshape first
        meta.append({"dtype": _NAMES[c.dtype], "shape": list(c.shape), "offset": offset, "nbytes": len(raw)})
        blobs.append(raw)
        offset += len(raw)
    head = json.dumps({**header, "tensors": meta}, default=str).encode()
    return struct.pack(">Q", len(head)) + head + b"".join(blobs)


@dataclass(frozen=True)
class Decoded:
    """A decoded child result: the JSON header and the tensors it refers to by index."""

    header: dict[str, Any]
    tensors: tuple[torch.Tensor, ...]


def decode(data: bytes) -> Decoded:
    """Decode a child's bytes, checking every size; raise :class:`WireError` if anything is off."""
    if len(data) < 8:
        raise WireError("no result from the child")
    (length,) = struct.unpack(">Q", data[:8])
    if length > MAX_HEADER_BYTES or 8 + length > len(data):
        raise WireError("result header too large or truncated")
    try:
        header = json.loads(data[8 : 8 + length].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise WireError(f"result header is not JSON ({type(exc).__name__})") from None
    if not isinstance(header, dict) or not isinstance(header.get("tensors"), list):
        raise WireError("result header has no tensor table")
    body = memoryview(data)[8 + length :]
    tensors = []
    for item in header["tensors"]:
        tensors.append(_tensor(item, body))
    return Decoded(header, tuple(tensors))


def _tensor(item: Any, body: memoryview) -> torch.Tensor:
    if not isinstance(item, dict):
        raise WireError("tensor entry is not a mapping")
    dtype = DTYPES.get(item.get("dtype"))  # type: ignore[arg-type]
    shape = item.get("shape")
    offset, nbytes = item.get("offset"), item.get("nbytes")
    if dtype is None:
        raise WireError(f"tensor dtype {str(item.get('dtype'))[:20]!r} not allowed")
    if not (isinstance(shape, list) and len(shape) <= 8 and all(type(d) is int and d >= 0 for d in shape)):
        raise WireError("tensor shape is malformed")
    if not (type(offset) is int and type(nbytes) is int and offset >= 0 and nbytes >= 0):
        raise WireError("tensor offset is malformed")
    numel = 1
    for d in shape:
        numel *= d
    if numel > MAX_TENSOR_ELEMENTS:
        raise WireError(f"tensor of {numel} elements is larger than the harness accepts")
    itemsize = torch.empty((), dtype=dtype).element_size()
    if numel * itemsize != nbytes or offset + nbytes > len(body):
        raise WireError("tensor bytes do not match its shape")
    if numel == 0:
        return torch.empty(shape, dtype=dtype)
    raw = bytearray(body[offset : offset + nbytes])
    return torch.frombuffer(raw, dtype=dtype).reshape(shape).clone()
