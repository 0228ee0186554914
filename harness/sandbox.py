"""The parent's side of the sandbox: start the warm zygote, send calls, get observations back.

See :mod:`harness.zygote` for what happens on the other side.  Observations come
back as :class:`RunResult`: what the zygote measured (trusted: status, exit code,
wall and CPU time from the kernel) and what the child reported (untrusted,
decoded strictly by :mod:`harness.wire`).
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import UserError
from harness.spec import Limits
from harness.wire import Decoded, WireError, decode

STRICT_LAYERS = ("namespaces", "capabilities", "landlock", "seccomp")
TMPFS_MIB = 64


@dataclass(frozen=True)
class RunResult:
    """One call's observation: the zygote's measurements and the child's decoded report."""

    status: str
    wall_s: float
    cpu_s: float | None
    exit_code: int | None
    signal: int | None
    output: str
    output_bytes: int
    frames: tuple[Decoded, ...]
    wire_error: str | None = None

    @property
    def decoded(self) -> Decoded | None:
        """The first frame: the load report and the function's description."""
        return self.frames[0] if self.frames else None


@dataclass(frozen=True)
class Confinement:
    """Which confinement layers hold on this machine, and whether grading insists on them."""

    layers: dict[str, str]
    required: bool

    @property
    def missing(self) -> dict[str, str]:
        """Layers that could not be applied, with the reason."""
        return {k: v for k, v in self.layers.items() if v != "ok"}

    @property
    def complete(self) -> bool:
        """Whether every layer holds."""
        return not self.missing


def split_frames(raw: bytes) -> tuple[tuple[Decoded, ...], str | None]:
    """Decode the child's length-prefixed frames, stopping at the first malformed one."""
    frames: list[Decoded] = []
    offset = 0
    while offset + 8 <= len(raw):
        (length,) = struct.unpack(">Q", raw[offset : offset + 8])
        if offset + 8 + length > len(raw):
            return tuple(frames), "a result was cut off"
        try:
            frames.append(decode(raw[offset + 8 : offset + 8 + length]))
        except WireError as exc:
            return tuple(frames), str(exc)
        offset += 8 + length
    return tuple(frames), None


def require_confinement(layers: dict[str, str], required: bool) -> Confinement:
    """Turn the zygote's layer report into a :class:`Confinement`; refuse if one is required and missing.

    Raises:
        UserError: ``required`` and a layer does not hold (names each, and the way out).
    """
    confinement = Confinement(layers=layers, required=required)
    if required and not confinement.complete:
        missing = "; ".join(f"{k}: {v}" for k, v in confinement.missing.items())
        raise UserError(
            f"cannot confine student code on this machine ({missing}). Grading needs every "
            "layer; run with --unconfined to grade anyway (each result will say so)."
        )
    return confinement


@dataclass
class Sandbox:
    """A running zygote plus a memo of observations (same code + same call = same observation)."""

    limits: Limits
    required: bool = True
    _proc: subprocess.Popen[bytes] | None = field(default=None, init=False)
    _root: str | None = field(default=None, init=False)
    _memo: dict[str, RunResult] = field(default_factory=dict, init=False)
    confinement: Confinement | None = field(default=None, init=False)

    def start(self) -> Confinement:
        """Start the zygote and learn which confinement layers hold here.

        Raises:
            UserError: grading requires full confinement and a layer is missing.
        """
        self._root = tempfile.mkdtemp(prefix="labgrade-zygote-")
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": self._root,
            "LANG": "C.UTF-8",
            "OMP_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
            "PYTHONHASHSEED": "0",
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONPATH": str(Path(__file__).resolve().parent.parent),
        }
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "harness.zygote", "--cleanup", self._root],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=self._root,
            env=env,
        )
        hello = self._receive()
        if hello is None:
            raise RuntimeError("the sandbox process did not start")
        try:
            self.confinement = require_confinement(json.loads(hello)["layers"], self.required)
        except UserError:
            self.close()
            raise
        return self.confinement

    def _receive(self) -> bytes | None:
        assert self._proc is not None and self._proc.stdout is not None
        head = self._proc.stdout.read(8)
        if len(head) < 8:
            return None
        (length,) = struct.unpack(">Q", head)
        return self._proc.stdout.read(length)

    def run(
        self,
        units: list[dict[str, str]],
        function: str,
        calls: list[dict[str, Any]] | None = None,
        lab_params: list[Any] | None = None,
    ) -> RunResult:
        """Describe ``function`` and make ``calls`` (each seeded, in order) in one fresh child.

        Each call has its own wall-clock limit; when one hits a limit the calls after
        it are not run, and the frames before it are kept.
        """
        if self._proc is None or self.confinement is None:
            self.start()
        assert self.confinement is not None
        request = {
            "units": units,
            "function": function,
            "calls": calls or [],
            "lab_params": lab_params or [],
            "limits": {
                "time_s": self.limits.time_per_call_s,
                "cpu_s": self.limits.cpu_per_call_s,
                "memory_mib": self.limits.memory_mib,
                "output_bytes": self.limits.output_bytes,
                "processes": self.limits.processes,
                "tmpfs_mib": TMPFS_MIB,
            },
            "layers": [k for k, v in self.confinement.layers.items() if v == "ok"],
            # Grading refuses to run a child whose confinement failed; a self-check goes on.
            "strict": self.required,
        }
        body = json.dumps(request, sort_keys=True).encode()
        key = hashlib.sha256(body).hexdigest()
        if key in self._memo:
            return self._memo[key]
        assert self._proc is not None and self._proc.stdin is not None
        try:
            self._proc.stdin.write(struct.pack(">Q", len(body)) + body)
            self._proc.stdin.flush()
        except BrokenPipeError:
            raise RuntimeError("the sandbox process died") from None
        reply = self._receive()
        if reply is None:
            raise RuntimeError("the sandbox process died")
        (hlen,) = struct.unpack(">Q", reply[:8])
        header = json.loads(reply[8 : 8 + hlen])
        raw = reply[8 + hlen :]
        frames, wire_error = split_frames(raw)
        if frames and "confinement_failed" in frames[0].header:
            raise RuntimeError(f"confinement failed in a child: {frames[0].header['confinement_failed']}")
        result = RunResult(
            status=header["status"],
            wall_s=float(header["wall_s"]),
            cpu_s=header.get("cpu_s"),
            exit_code=header.get("exit_code"),
            signal=header.get("signal"),
            output=header.get("output", ""),
            output_bytes=int(header.get("output_bytes", 0)),
            frames=frames,
            wire_error=wire_error,
        )
        self._memo[key] = result
        return result

    def close(self) -> None:
        """Stop the zygote (closing its stdin ends it) and remove its folder."""
        if self._proc is not None:
            if self._proc.stdin is not None:
                self._proc.stdin.close()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            if self._proc.stdout is not None:
                self._proc.stdout.close()
            self._proc = None
        if self._root is not None:
            import shutil

            shutil.rmtree(self._root, ignore_errors=True)
            self._root = None

    def __enter__(self) -> Sandbox:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
