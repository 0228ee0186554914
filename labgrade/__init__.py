"""labgrade in a notebook or script: ``import labgrade; labgrade.check()``.

The command line is ``labgrade`` (``labgrade.harness.cli``); this module is the two lines a
student pastes into a notebook.  It imports nothing heavy until ``check`` runs.
"""

from __future__ import annotations

from typing import Any

from labgrade.harness import __version__

__all__ = ["__version__", "check"]


def check(*args: Any, **kwargs: Any) -> Any:
    """Check the functions this notebook defines against the lab (see :func:`labgrade.harness.notebook.check`)."""
    from labgrade.harness.notebook import check as run

    return run(*args, **kwargs)
