"""Check the system libraries WeasyPrint needs before anything imports it.

WeasyPrint loads Pango through ``cffi`` at import time, and with no font known to
fontconfig it has been seen to segfault while laying out text.  ``make install``
runs this module with the system Python (standard library only) and stops with
the exact command to run when something is missing.
"""

from __future__ import annotations

import ctypes.util
import platform
import shutil
import subprocess
import sys
from pathlib import Path

_FONT_DIRS = (
    "/usr/share/fonts",
    "/usr/local/share/fonts",
    "~/.fonts",
    "~/.local/share/fonts",
    "/Library/Fonts",
    "/System/Library/Fonts",
    "~/Library/Fonts",
)
_FONT_SUFFIXES = {".ttf", ".otf", ".ttc", ".pfb", ".woff", ".woff2"}


def missing_libraries() -> list[str]:
    """Names of the shared libraries WeasyPrint needs that the dynamic loader cannot find."""
    needed = {"pango-1.0": "Pango", "pangoft2-1.0": "Pango (FreeType backend)", "fontconfig": "fontconfig"}
    return [label for lib, label in needed.items() if ctypes.util.find_library(lib) is None]


def has_fonts() -> bool:
    """Whether at least one font is installed (via ``fc-list`` when present)."""
    if shutil.which("fc-list"):
        try:
            out = subprocess.run(["fc-list"], capture_output=True, text=True, timeout=30).stdout
        except (OSError, subprocess.SubprocessError):
            out = ""
        if out.strip():
            return True
    for folder in _FONT_DIRS:
        root = Path(folder).expanduser()
        if root.is_dir() and any(p.suffix.lower() in _FONT_SUFFIXES for p in root.rglob("*")):
            return True
    return False


def install_hint() -> str:
    """The command that installs what is missing on this kind of system."""
    if platform.system() == "Darwin":
        return "brew install pango"
    return (
        "sudo apt-get update && sudo apt-get install -y libpango-1.0-0 libpangoft2-1.0-0 "
        "libharfbuzz-subset0 fonts-dejavu-core"
    )


def main() -> int:
    """Print what is missing and how to install it; exit 1 if anything is."""
    problems = [f"missing library: {name}" for name in missing_libraries()]
    if not has_fonts():
        problems.append("no fonts installed (WeasyPrint crashes without one)")
    if not problems:
        return 0
    print("labgrade needs system libraries for its PDF reports (WeasyPrint):", file=sys.stderr)
    for p in problems:
        print(f"  - {p}", file=sys.stderr)
    print(f"Install them with:\n  {install_hint()}\nthen run make again.", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
