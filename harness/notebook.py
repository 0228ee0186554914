"""``labgrade.check()`` inside a student's notebook or script: the self-check without a terminal.

The code to check is what the student has run: in Jupyter or Colab every cell
executed so far (IPython's ``In`` history, later definitions replacing earlier
ones, exactly as in the kernel), in a plain script the script's own file.  It goes
through the same definitions-only loading and the same sandbox as ``labgrade
check``: each call runs in a child process under the time limit, so an endless
loop in the student's code stops at the limit and the kernel stays alive.  The
result is shown as HTML in Jupyter and as text elsewhere.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from labgrade.harness.errors import UserError
from labgrade.harness.inputs.spec import Spec
from labgrade.harness.inputs.submission import Submission
from labgrade.harness.outputs.results import GradeReport


def _ipython() -> Any | None:
    """The running IPython shell, or ``None`` outside IPython (never imports IPython itself)."""
    module = sys.modules.get("IPython")
    get = getattr(module, "get_ipython", None) if module is not None else None
    return get() if callable(get) else None


def kernel_cells(shell: Any) -> list[tuple[str, str]]:
    """The cells a kernel has run, in order, as ``(label, code)``; the cell running the check is left out."""
    history = list(shell.user_ns.get("In") or [])
    cells = [(f"cell {n}", str(code)) for n, code in enumerate(history) if n and str(code).strip()]
    return cells[:-1] if cells else cells


def script_cells() -> list[tuple[str, str]]:
    """A plain script's own source, as one unit named after the file."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if not path:
        raise UserError("labgrade.check(): run it in a notebook or a script file; this interpreter has no source")
    source = Path(path)
    return [(source.name, source.read_text(encoding="utf-8"))]


def _render_html(report: GradeReport) -> str:
    from labgrade.harness.outputs.templating import environment

    return environment().get_template("check.html.j2").render(report=report)


def check(
    spec: str | Path | None = None,
    *,
    time_limit_s: float | None = None,
    seed: int = 0,
    show: bool = True,
) -> GradeReport:
    """Check the functions defined in this notebook (or script) against the lab, as ``labgrade check`` does.

    Args:
        spec: a shipped spec's name (default ``lab1``) or a spec file.
        time_limit_s: a shorter time limit per call than the spec's (never a longer one).
        seed: the harness seed (the same seed gives the same marks).
        show: display the result (HTML in Jupyter, text elsewhere).

    Returns:
        The graded report: ``.score``, ``.questions`` with their feedback.
    """
    from labgrade.harness.inputs.config import load_config
    from labgrade.harness.inputs.submission import submission_from_cells
    from labgrade.harness.selfcheck import self_check

    shell = _ipython()
    config = load_config(None, spec=Path(spec) if spec is not None else None)

    def load(_spec: Spec) -> Submission:
        cells = kernel_cells(shell) if shell is not None else script_cells()
        return submission_from_cells("notebook" if shell is not None else cells[0][0], cells)

    report = self_check(load, config, seed, time_limit_s, log=lambda m: print(m, file=sys.stderr))
    if show:
        if shell is not None and type(shell).__name__ != "TerminalInteractiveShell":
            from IPython.display import HTML, display

            display(HTML(_render_html(report)))  # type: ignore[no-untyped-call]
        else:
            print(report.check_text())
    return report
