"""The parent's side of the sandbox: start the warm zygote, send calls, get observations back.

See :mod:`labgrade.harness.untrusted.zygote` for what happens on the other side.  Observations come
back as :class:`RunResult`: what the zygote measured (trusted: status, exit code,
wall and CPU time from the kernel) and what the child reported (untrusted,
decoded strictly by :mod:`labgrade.harness.untrusted.wire`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import struct
import subprocess
from dataclasses import dataclass, field, replace
from typing import Any

from labgrade.harness.errors import UserError
from labgrade.harness.inputs.spec import Limits
from labgrade.harness.untrusted.launch import Launched, launch_zygote
from labgrade.harness.untrusted.wire import Decoded, WireError, decode

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


@dataclass(frozen=True)
class Job:
    """One function to load, describe and call in a child: its name, planned calls and the lab's parameters."""

    function: str
    calls: list[dict[str, Any]]
    lab_params: list[Any]


def _job_of(frame: Decoded) -> int | None:
    job = frame.header.get("job")
    return job if isinstance(job, int) and not isinstance(job, bool) else None


def _split_jobs(header: dict[str, Any], raw: bytes, count: int, strict: bool = True) -> list[RunResult]:
    """Cut one child's reply into per-job results, up to and including the first job that did not finish.

    A job is finished when the child sent its ``done`` frame.  The zygote notes,
    for each complete frame, when it arrived and how much output the child had
    printed by then, so each job gets its own wall time and output.  Results stop
    at the first unfinished job: it gets the child's verdict when it was the
    child's first job, and is left out (to be run again alone) otherwise.
    """
    frames, wire_error = split_frames(raw)
    times = [float(t) for t in header.get("frame_times", [])][: len(frames)]
    marks = [int(m) for m in header.get("frame_output", [])][: len(frames)]
    if frames:  # the confinement report, written before any student code ran (see labgrade.harness.untrusted.zygote)
        failed = frames[0].header.get("confinement_failed")
        if failed and strict:
            raise RuntimeError(f"confinement failed in a child: {failed}")
        frames, times, marks = frames[1:], times[1:], marks[1:]
    output = str(header.get("output", ""))
    total_output = int(header.get("output_bytes", 0))
    results: list[RunResult] = []
    start_index, start_time, start_mark = 0, 0.0, 0
    for position in range(count):
        own: list[Decoded] = []
        finished = False
        index = start_index
        while index < len(frames) and _job_of(frames[index]) == position:
            if frames[index].header.get("done") is True:
                finished = True
                index += 1
                break
            own.append(frames[index])
            index += 1
        if finished:
            end_time = times[index - 1] if index - 1 < len(times) else float(header["wall_s"])
            end_mark = marks[index - 1] if index - 1 < len(marks) else total_output
            verdict = RunResult("ok", 0.0, header.get("cpu_s"), 0, None, "", 0, ())
        elif position == 0:
            end_time, end_mark = float(header["wall_s"]), total_output
            error = wire_error
            if index < len(frames):  # a frame the harness did not write: the student's code wrote to the pipe
                error = "the result stream holds data the harness did not write"
            status = "wire_error" if error and header["status"] == "ok" else header["status"]
            verdict = RunResult(
                status, 0.0, header.get("cpu_s"), header.get("exit_code"), header.get("signal"), "", 0, (), error
            )
        else:
            break
        results.append(
            replace(
                verdict,
                wall_s=max(end_time - start_time, 0.0),
                output=output[start_mark:end_mark],
                output_bytes=max(end_mark - start_mark, 0),
                frames=tuple(own),
            )
        )
        if not finished:
            break
        start_index, start_time, start_mark = index, end_time, end_mark
    return results


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

    limits: Limits | None
    required: bool = True
    _proc: subprocess.Popen[bytes] | None = field(default=None, init=False)
    _root: str | None = field(default=None, init=False)
    _memo: dict[str, RunResult] = field(default_factory=dict, init=False)
    confinement: Confinement | None = field(default=None, init=False)

    def launch(self) -> Sandbox:
        """Start the zygote without waiting for it (it imports torch, about 1 s): see :meth:`start`.

        A batch launches its sandboxes first and loads the spec and the reference while
        they start; the limits can be set once the spec is known.
        """
        return self.adopt(launch_zygote()) if self._proc is None else self

    def adopt(self, launched: Launched) -> Sandbox:
        """Use a zygote that was launched earlier (see ``labgrade.harness.untrusted.launch``)."""
        self._proc, self._root = launched.process, launched.root
        return self

    def start(self) -> Confinement:
        """Start the zygote (if not launched yet), wait until it is ready, learn which layers hold here.

        Raises:
            UserError: grading requires full confinement and a layer is missing.
        """
        if self.confinement is not None:
            return self.confinement
        self.launch()
        hello = self._receive()
        if hello is None:
            raise RuntimeError("the sandbox process did not start")
        try:
            self.confinement = require_confinement(json.loads(hello)["layers"], self.required)
        except UserError:
            self.close()
            raise
        return self.confinement

    def release_pipes(self) -> None:
        """Close this process's copies of the zygote's pipes, keeping the handle to reap it later.

        After a fork the zygote's pipes exist in every process; a zygote only sees the
        end of its input when the one process that uses it closes it, so every other
        process releases its copies (the batch parent keeps the handle to reap it).
        """
        if self._proc is not None:
            for stream in (self._proc.stdin, self._proc.stdout):
                if stream is not None:
                    with contextlib.suppress(OSError):
                        stream.close()

    def forget(self) -> None:
        """Release the pipes and drop the handle: for a sandbox another process uses and reaps."""
        self.release_pipes()
        self._proc = None
        self._root = None

    def _receive(self) -> bytes | None:
        assert self._proc is not None and self._proc.stdout is not None
        head = self._proc.stdout.read(8)
        if len(head) < 8:
            return None
        (length,) = struct.unpack(">Q", head)
        return self._proc.stdout.read(length)

    def _request(self, units: list[dict[str, str]], jobs: list[Job]) -> dict[str, Any]:
        assert self.confinement is not None and self.limits is not None
        return {
            "units": units,
            "jobs": [{"function": j.function, "calls": j.calls, "lab_params": j.lab_params} for j in jobs],
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

    def run_jobs(self, units: list[dict[str, str]], jobs: list[Job]) -> list[RunResult]:
        """Run each job (load, describe, calls) in turn in one fresh child; one result per job.

        Each call has its own wall-clock limit; when one hits a limit the calls after
        it are not run, and the frames before it are kept.  A verdict (time limit,
        crash...) is only ever given to the first job of a child: when a child stops
        during a later job, that job and the ones after it run again in a fresh child,
        so every job's observations are those a child of its own would give.
        """
        if self.confinement is None:
            self.start()
        keys = [self._memo_key(units, job) for job in jobs]
        pending = [i for i, key in enumerate(keys) if key not in self._memo]
        while pending:
            header, raw = self._exchange(self._request(units, [jobs[i] for i in pending]))
            done = _split_jobs(header, raw, len(pending), self.required)
            for position, result in enumerate(done):
                self._memo[keys[pending[position]]] = result
            pending = pending[len(done) :]
        return [self._memo[key] for key in keys]

    def _memo_key(self, units: list[dict[str, str]], job: Job) -> str:
        body = json.dumps(self._request(units, [job]), sort_keys=True).encode()
        return hashlib.sha256(body).hexdigest()

    def _exchange(self, request: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
        """Send one request to the zygote; return its measured header and the child's raw frames."""
        body = json.dumps(request, sort_keys=True).encode()
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
        header: dict[str, Any] = json.loads(reply[8 : 8 + hlen])
        return header, reply[8 + hlen :]

    def close(self) -> None:
        """Stop the zygote and remove its folder.

        The zygote holds nothing once its last answer is read (each job ran in a child
        it has reaped; its folder is removed here), so it is killed rather than asked
        to exit: an interpreter with torch loaded takes about 0.3 s to shut down, and
        ``labgrade grade`` of one submission would wait for it.
        """
        if self._proc is not None:
            if self._proc.stdin is not None:
                with contextlib.suppress(OSError):
                    self._proc.stdin.close()
            with contextlib.suppress(OSError):
                self._proc.kill()
            self._proc.wait()
            if self._proc.stdout is not None:
                self._proc.stdout.close()
            self._proc = None
        if self._root is not None:
            import shutil

            shutil.rmtree(self._root, ignore_errors=True)
            self._root = None

    def abort(self) -> None:
        """Stop the zygote at once (grading was abandoned before it was used): :meth:`close` already kills it."""
        self.close()

    def __enter__(self) -> Sandbox:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
