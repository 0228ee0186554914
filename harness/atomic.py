"""Write a file all at once, with the permissions any tool would give it.

A temporary file in the same folder, then a rename: an interrupted run never leaves
half a file.  ``tempfile.mkstemp`` creates its file with mode 0600 whatever the
umask, so a gradebook written that way could not be read by a teaching assistant
in the same group; the file gets ``0666 & ~umask`` before the rename, as ``open``
would have given it.
"""

from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path

_lock = threading.Lock()


def file_mode() -> int:
    """The mode a new file gets under the current umask (``0666 & ~umask``)."""
    with _lock:  # the umask can only be read by setting it: keep the moment short and single
        mask = os.umask(0o022)
        os.umask(mask)
    return 0o666 & ~mask


def atomic_write(path: Path, content: str | bytes) -> None:
    """Write ``content`` (text as UTF-8) to ``path`` via a temporary file and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), file_mode())
            f.write(content.encode("utf-8") if isinstance(content, str) else content)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
