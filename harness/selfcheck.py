"""A student's self-check, shared by ``labgrade check`` and ``labgrade.check()``: one submission, visible checks.

The sandbox's interpreter starts first and imports torch while this process loads
the spec and the expected outputs, so the two start-ups overlap.  A self-check
degrades where a confinement layer is missing (a laptop, Colab): the limits on
time and memory still hold and the marks are the same, and it says so once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from labgrade.harness.inputs.config import Config
from labgrade.harness.inputs.lab import load_lab
from labgrade.harness.inputs.spec import Spec
from labgrade.harness.inputs.submission import Submission
from labgrade.harness.judging.grading import GradingOptions, grade_submission
from labgrade.harness.outputs.results import GradeReport
from labgrade.harness.untrusted.launch import Launched
from labgrade.harness.untrusted.sandbox import Sandbox


def self_check(
    load: Callable[[Spec], Submission],
    config: Config,
    seed: int = 0,
    time_limit_s: float | None = None,
    log: Callable[[str], None] = lambda _m: None,
    launched: Launched | None = None,
) -> GradeReport:
    """Grade one submission with the visible checks only.

    Args:
        load: reads the submission for the lab (a report's numbers depend on its questions).
        config: where the spec and data are.
        seed: the harness seed.
        time_limit_s: a shorter time limit per call than the spec's (never a longer one).
        log: receives the one note about confinement, if any.
        launched: a zygote the caller launched before its own imports (else one starts now).
    """
    sandbox = Sandbox(None, required=False)
    if launched is not None:
        sandbox.adopt(launched)
    else:
        sandbox.launch()
    try:
        lab, expectations = load_lab(config, lambda _m: None)
        submission = load(lab)
        if time_limit_s is not None:
            limit = min(float(time_limit_s), lab.limits.time_per_call_s)
            lab = replace(lab, limits=replace(lab.limits, time_per_call_s=limit, cpu_per_call_s=limit))
        sandbox.limits = lab.limits
        confinement = sandbox.start()
        if not confinement.complete:
            missing = ", ".join(confinement.missing)
            log(f"note: this machine cannot apply {missing}; limits on time and memory still hold, marks are the same")
        return grade_submission(sandbox, lab, expectations, submission, GradingOptions(seed=seed, visible_only=True))
    finally:
        sandbox.close()
