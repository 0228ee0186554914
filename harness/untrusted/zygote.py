"""The warm process that forks one confined child per request (a submission's functions and calls).

Started by :mod:`labgrade.harness.untrusted.sandbox` as ``python -m labgrade.harness.untrusted.zygote`` in an empty
folder with a clean environment, it imports torch once (about 1 s) and then
forks a child per request (fork, confinement and exit cost about 10 ms).  It
never holds expected values, specs or other students' work: it only receives a
request (the student's definitions, the public inputs of the planned calls and
the limits), so a child forked from it cannot find any of those in its memory.

The child's first frame is its confinement report, written before any student
code runs; every later frame is an observation of the student's code (which
can write to the pipe too, so the parent trusts none of them).

Protocol on stdin/stdout: each message is an 8-byte big-endian length and a
body.  Request bodies are JSON.  A reply is a JSON header measured by the zygote
(status, exit code or signal, wall and CPU time from ``wait4``, the start of the
child's output) followed by the child's raw result bytes, which the parent
decodes strictly (:mod:`labgrade.harness.untrusted.wire`).
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import gc
import json
import os
import resource
import select
import shutil
import signal
import struct
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

from labgrade.harness.untrusted import confine

LAYERS = ("namespaces", "capabilities", "landlock", "seccomp")
MAX_RESULT_BYTES = 64 << 20
_PR_SET_CHILD_SUBREAPER = 36


def _preload() -> None:
    """Import what student code and the probes use, before any fork (and before any torch op)."""
    import collections  # noqa: F401
    import copy  # noqa: F401
    import fractions  # noqa: F401
    import functools  # noqa: F401
    import itertools  # noqa: F401
    import math  # noqa: F401
    import statistics  # noqa: F401
    import typing  # noqa: F401

    import numpy
    import numpy.random  # numpy 2 imports it lazily: 7 ms in every child that seeds it
    import torch

    # A child forked after a multi-threaded torch op deadlocks in its first matmul.
    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    import torch.nn.functional

    import labgrade.harness.untrusted.confine
    import labgrade.harness.untrusted.probes
    import labgrade.harness.untrusted.wire  # noqa: F401

    numpy.random.seed(0)


def _read_message(stream: BinaryIO) -> bytes | None:
    head = stream.read(8)
    if len(head) < 8:
        return None
    (length,) = struct.unpack(">Q", head)
    return stream.read(length)


def _write_message(stream: BinaryIO, *parts: bytes) -> None:
    body = b"".join(parts)
    stream.write(struct.pack(">Q", len(body)) + body)
    stream.flush()


@functools.cache
def _read_only_paths() -> tuple[Path, ...]:
    """What a child may read: the interpreter, installed packages and system libraries.

    Computed once in the zygote (0.5 ms of ``stat`` calls that every child would repeat).
    """
    paths = {Path(sys.prefix), Path(sys.base_prefix), Path(sys.exec_prefix)}
    paths |= {Path(p) for p in sys.path if p and Path(p).is_dir() and "site-packages" in p}
    for extra in (
        "/usr/lib", "/usr/lib64", "/usr/local/lib", "/lib", "/lib64", "/usr/share/zoneinfo",
        "/etc/ld.so.cache", "/etc/localtime", "/dev/null", "/dev/zero", "/dev/urandom",
        "/dev/random", "/proc/cpuinfo", "/proc/meminfo", "/proc/stat", "/sys/devices/system/cpu",
        "/sys/fs/cgroup",
    ):  # fmt: skip
        paths.add(Path(extra))
    # The project itself (specs, caches, submissions, outputs) is never readable: drop any
    # entry on sys.path that is not an installed-packages folder.
    return tuple(sorted(paths))


def _confine(layers: list[str] | tuple[str, ...], workdir: Path, limits: dict[str, Any], calls: int = 1) -> list[str]:
    """Apply the requested layers in the only order that works; return those that failed.

    ``calls`` counts the loads and calls the child will make: each gets the CPU limit.
    """
    from labgrade.harness.untrusted import confine as c

    failed: list[str] = []
    data = int(limits["memory_mib"]) << 20
    with contextlib.suppress(OSError, ValueError):
        status = Path("/proc/self/status").read_text()
        for line in status.splitlines():
            if line.startswith("VmData:"):
                data += int(line.split()[1]) * 1024  # the warm torch already mapped
    try:
        c.apply_rlimits(
            c.RLimits(
                cpu_s=max(1, int(limits["cpu_s"]) * max(calls, 1)),
                data_bytes=data,
                file_bytes=int(limits["tmpfs_mib"]) << 20,
                processes=int(limits["processes"]) if os.getuid() != 0 else None,
            )
        )
    except (OSError, ValueError) as exc:  # some systems refuse some limits (macOS: RLIMIT_DATA)
        failed.append(f"rlimits: {exc}")
    steps: list[tuple[str, Callable[[], object]]] = [
        ("namespaces", lambda: c.isolate_namespaces(workdir, int(limits["tmpfs_mib"]))),
        ("capabilities", c.drop_capabilities),
        (
            "landlock",
            lambda: c.apply_landlock([*_read_only_paths(), Path(f"/proc/{os.getpid()}")], [workdir]),
        ),
        ("seccomp", c.apply_seccomp),
    ]
    for name, step in steps:
        if name not in layers:
            continue
        try:
            step()
        except (c.ConfinementUnavailable, OSError) as exc:
            failed.append(f"{name}: {exc}")
    return failed


def _child(request: dict[str, Any], workdir: Path, result_w: int, output_w: int) -> None:
    """In the forked child: isolate, confine, run the probe, write the result, exit."""
    code = 0
    try:
        confine.die_with_parent()  # a killed zygote takes its child along
        os.setsid()
        os.dup2(output_w, 1)
        os.dup2(output_w, 2)
        os.close(output_w)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)  # input() gets EOF at once
        os.close(devnull)
        calls = sum(1 + len(job.get("calls") or []) for job in request.get("jobs") or [])
        failed = _confine(request["layers"], workdir, request["limits"], calls)
        os.chdir(workdir)
        os.environ.clear()
        os.environ.update({"HOME": str(workdir), "TMPDIR": str(workdir), "PATH": "/usr/bin:/bin"})

        def emit(frame: bytes) -> None:
            view = memoryview(struct.pack(">Q", len(frame)) + frame)
            while view:
                written = os.write(result_w, view[: 1 << 20])
                view = view[written:]

        # The first frame is always the confinement report, written before any student code
        # runs: it is the only frame the parent may trust, and the only one it trusts for this.
        payload = json.dumps({"confinement_failed": failed, "tensors": []}).encode()
        emit(struct.pack(">Q", len(payload)) + payload)
        if not (failed and request.get("strict", True)):
            from labgrade.harness.untrusted import probes

            probes.run(request, emit)
    except BaseException:  # the student's code cannot make us skip _exit
        code = 70
    finally:
        os._exit(code)


def _kill_descendants() -> None:
    """Kill every process left below the zygote (it is their subreaper) and reap them."""
    me = os.getpid()
    proc = Path("/proc")
    entries = list(proc.iterdir()) if proc.is_dir() else []  # no /proc (macOS): reaping below still runs
    for entry in entries:
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == me:
            with contextlib.suppress(OSError):
                os.kill(int(entry.name), signal.SIGKILL)
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            time.sleep(0.005)


def _complete_frames(buffer: bytearray) -> int:
    """How many length-prefixed frames are complete in ``buffer`` (the child's stream so far)."""
    count = offset = 0
    while offset + 8 <= len(buffer):
        (length,) = struct.unpack(">Q", bytes(buffer[offset : offset + 8]))
        if offset + 8 + length > len(buffer):
            break
        offset += 8 + length
        count += 1
    return count


def run_request(request: dict[str, Any], root: Path) -> tuple[dict[str, Any], bytes]:
    """Fork one child for ``request``, enforce the wall-clock limit, and collect what it produced."""
    limits = request["limits"]
    workdir = Path(tempfile.mkdtemp(dir=root))
    result_r, result_w = os.pipe()
    output_r, output_w = os.pipe()
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:
        os.close(result_r)
        os.close(output_r)
        _child(request, workdir, result_w, output_w)
    os.close(result_w)
    os.close(output_w)
    per_call = float(limits["time_s"])
    deadline = started + per_call  # loading and describing; then each call gets its own time_s
    frame_times: list[float] = []  # when each complete frame arrived, for per-job wall times
    frame_output: list[int] = []  # how much the child had printed by then, for per-job output
    result = bytearray()
    output = bytearray()
    output_total = 0
    cap = int(limits["output_bytes"])
    open_fds = {result_r, output_r}
    timed_out = too_large = False
    while open_fds:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            timed_out = True
            break
        ready, _, _ = select.select(list(open_fds), [], [], min(remaining, 0.5))
        for fd in ready:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                open_fds.discard(fd)
            elif fd == result_r:
                result += chunk
                if len(result) > MAX_RESULT_BYTES:
                    too_large = True
                    open_fds.clear()
                complete = _complete_frames(result)
                if complete > len(frame_times):
                    now = time.monotonic()
                    frame_times += [now - started] * (complete - len(frame_times))
                    frame_output += [output_total] * (complete - len(frame_output))
                    deadline = now + per_call
            else:
                output_total += len(chunk)
                if len(output) < cap:
                    output += chunk[: cap - len(output)]
    status = "ok"
    exit_code: int | None = None
    term_signal: int | None = None
    if timed_out or too_large:
        with contextlib.suppress(OSError):
            os.killpg(pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    wait_deadline = time.monotonic() + 5
    rusage = None
    while True:
        wpid, wstatus, rusage = os.wait4(pid, os.WNOHANG)
        if wpid:
            break
        if time.monotonic() > wait_deadline:  # stuck in the kernel: kill harder
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
            wait_deadline += 5
        time.sleep(0.0005)
    wall = time.monotonic() - started
    if os.WIFSIGNALED(wstatus):
        term_signal = os.WTERMSIG(wstatus)
    elif os.WIFEXITED(wstatus):
        exit_code = os.WEXITSTATUS(wstatus)
    if timed_out:
        status = "timeout"
    elif too_large:
        status = "result_too_large"
    elif term_signal is not None:
        cpu = (rusage.ru_utime + rusage.ru_stime) if rusage else 0.0
        hit_cpu = term_signal == signal.SIGXCPU or cpu >= float(limits["cpu_s"])
        status = "cpu_limit" if hit_cpu else "killed"
    elif exit_code != 0:
        status = "exited"
    for fd in open_fds | {result_r, output_r}:
        with contextlib.suppress(OSError):
            os.close(fd)
    if "seccomp" not in request["layers"]:
        _kill_descendants()  # without seccomp the child could have forked; with it, it could not
    shutil.rmtree(workdir, ignore_errors=True)
    header = {
        "status": status,
        "exit_code": exit_code,
        "signal": term_signal,
        "wall_s": wall,
        "cpu_s": (rusage.ru_utime + rusage.ru_stime) if rusage else None,
        "max_rss_kib": rusage.ru_maxrss if rusage else None,
        "output": output.decode("utf-8", errors="replace"),
        "output_bytes": output_total,
        "frame_times": frame_times,
        "frame_output": frame_output,
    }
    return header, bytes(result)


def probe_layers(root: Path) -> dict[str, str]:
    """Try every confinement layer in a throwaway child; map each to "ok" or why it failed."""
    from labgrade.harness.untrusted import confine as c

    if not sys.platform.startswith("linux"):
        return {name: f"not available on {sys.platform}" for name in LAYERS}
    report: dict[str, str] = {}
    for name in LAYERS:
        workdir = Path(tempfile.mkdtemp(dir=root))
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:  # the probe child: whatever happens, it ends here, never in the zygote's own exit path
            try:
                os.close(r)
                message = b"ok"
                try:
                    failed = _confine(LAYERS[: LAYERS.index(name) + 1], workdir, _PROBE_LIMITS)
                    if failed:
                        message = failed[-1].encode()
                    elif name == "landlock" and c.landlock_abi() < 1:
                        message = b"Landlock: not supported by this kernel"
                except BaseException as exc:
                    message = f"{type(exc).__name__}: {exc}".encode()
                os.write(w, message[:500])
            finally:
                os._exit(0)
        os.close(w)
        with os.fdopen(r, "rb") as f:
            report[name] = f.read().decode(errors="replace") or "probe child died"
        os.waitpid(pid, 0)
        shutil.rmtree(workdir, ignore_errors=True)
    return report


_PROBE_LIMITS = {"memory_mib": 512, "cpu_s": 10, "tmpfs_mib": 8, "processes": 64}


def _exit_on_signal(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds through main's finally: the folders are removed


def main() -> int:
    """Serve requests on stdin/stdout until stdin closes; remove the folder named by ``--cleanup``."""
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing but protocol messages may reach the parent's pipe
    cleanup = sys.argv[2] if len(sys.argv) == 3 and sys.argv[1] == "--cleanup" else None
    # Nothing outlives a killed batch: SIGTERM when the parent dies, so the folders below are
    # removed on the way out (the child, killed with its zygote, needs no such care).
    # While starting (importing torch, probing), SIGTERM is only noted: an exception raised
    # inside torch's C++ import aborts the process, and the finally below would never run.
    noted: list[int] = []
    signal.signal(signal.SIGTERM, lambda signum, _frame: noted.append(signum))
    root: Path | None = None
    try:
        confine.die_with_parent(signal.SIGTERM)
        # A parent that died before the line above sent no signal: we were adopted. Leave now
        # (through the finally below, which removes the folders) rather than start for no one.
        parent = os.environ.get("LABGRADE_PARENT_PID")
        if parent and parent.isdigit() and os.getppid() != int(parent):
            return 0
        _preload()
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None).prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        # Inside the folder the parent removes: the parent kills this process rather than wait for
        # its finally below, and a folder of its own in /tmp would be left behind.
        ours = cleanup if cleanup and Path(cleanup).name.startswith("labgrade-zygote-") else None
        root = Path(tempfile.mkdtemp(prefix="labgrade-sandbox-", dir=ours))
        layers = probe_layers(root)
        _read_only_paths()
        # Move everything imported so far out of the collector's reach: a full collection in a
        # child would otherwise touch every object's header and copy most of the heap (copy-on-write).
        gc.collect()
        gc.freeze()
        signal.signal(signal.SIGTERM, _exit_on_signal)  # from here on, Python code: leave at once
        if noted:
            return 0
        _write_message(stdout, json.dumps({"ready": True, "layers": layers}).encode())
        while True:
            message = _read_message(stdin)
            if message is None:
                return 0
            request = json.loads(message)
            header, result = run_request(request, root)
            head = json.dumps(header).encode()
            _write_message(stdout, struct.pack(">Q", len(head)), head, result)
    finally:
        # Stdin's end and the parent-death SIGTERM come together: whichever comes first, the
        # other must not interrupt the removal below.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if root is not None:
            shutil.rmtree(root, ignore_errors=True)
        if cleanup and Path(cleanup).name.startswith("labgrade-zygote-"):
            shutil.rmtree(cleanup, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
