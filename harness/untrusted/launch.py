"""Start a zygote process, importing nothing heavy: the first thing a self-check does.

The zygote is a fresh interpreter that imports torch (about a second).  Launching
it from a module that does not import torch lets ``labgrade check`` start it before
its own ``import torch``, so the two imports overlap on two cores instead of
following each other.  :class:`labgrade.harness.untrusted.sandbox.Sandbox` adopts the process.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass

from labgrade.harness import import_root


@dataclass(frozen=True)
class Launched:
    """A zygote process that is starting, and the private folder it works in."""

    process: subprocess.Popen[bytes]
    root: str


def launch_zygote() -> Launched:
    """Start ``python -m labgrade.harness.untrusted.zygote`` in an empty folder, clean environment; do not wait."""
    root = tempfile.mkdtemp(prefix="labgrade-zygote-")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": root,
        "TMPDIR": tempfile.gettempdir(),  # the zygote's working folders go where the caller's do
        "LANG": "C.UTF-8",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONPATH": import_root(),
        "LABGRADE_PARENT_PID": str(os.getpid()),  # to tell, once started, whether its parent is still there
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "labgrade.harness.untrusted.zygote", "--cleanup", root],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        cwd=root,
        env=env,
    )
    return Launched(process, root)
