"""How a stopped process is said to the student: one sentence per way a child can stop.

Shared by the checks (a call that did not return) and the observer (a file that
could not even be loaded), so the same event is always worded the same way.
"""

from __future__ import annotations

import signal


def signal_name(number: int | None) -> str:
    """``SIGSEGV`` for 11; ``signal N`` for a number Python does not name."""
    try:
        return signal.Signals(number or 0).name
    except ValueError:
        return f"signal {number}"


def describe_stop(
    status: str, signal_number: int | None, cpu_s: float | None, limit_s: float, during: str = "running your function"
) -> str | None:
    """A sentence for a process that stopped with ``status`` ``during`` something; None when it did not stop."""
    if status == "timeout":
        return f"stopped after {limit_s:g} s: time limit"
    if status == "cpu_limit":
        return f"stopped after {cpu_s or 0:.0f} s of CPU: CPU limit"
    if status == "result_too_large":
        return "returned more data than the harness accepts (result size limit)"
    if status == "killed":
        name = signal_name(signal_number)
        if name == "SIGKILL":
            return f"the process was killed while {during} (memory limit, or a crash)"
        if name == "SIGXFSZ":
            return f"the process wrote a file larger than the limit while {during} (file size limit)"
        return f"the process crashed while {during} ({name})"
    if status == "exited":
        where = "" if during == "running your function" else " outside a function"
        return f"the process exited while {during}: do not call exit() or os._exit(){where}"
    if status == "wire_error":
        return "the function's result could not be read back"
    return None
