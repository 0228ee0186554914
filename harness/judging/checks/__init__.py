"""Checks: small pure functions that judge observations against expectations, in the trusted parent.

A check is ``(context, params) -> CheckOutcome`` registered under the name specs
use (``kind: loss_band``).  A new check is one function, one line in
:data:`CHECKS` and one test.  Checks recompute every quantity from the returned
tensors themselves (in float64); nothing the student's code printed or claimed
is believed.  Each message says what was found and what was expected, and a
failing check names its hint.
"""

from __future__ import annotations

from labgrade.harness.judging.checks.answers import (
    check_answer_band,
    check_answer_close,
    check_completion_band,
    code_cannot_give,
)
from labgrade.harness.judging.checks.bands import check_loss_band, factor_loss, student_losses
from labgrade.harness.judging.checks.context import Check, Context, describe_failure
from labgrade.harness.judging.checks.diagnoses import MASK_MISUSES, check_diagnose, mask_misuse, same_result
from labgrade.harness.judging.checks.result import check_result, result_failure
from labgrade.harness.judging.checks.signature import check_signature
from labgrade.harness.judging.checks.stepwise import check_step_for_step, follows_reference

__all__ = [
    "CHECKS",
    "MASK_MISUSES",
    "Check",
    "Context",
    "code_cannot_give",
    "describe_failure",
    "factor_loss",
    "follows_reference",
    "mask_misuse",
    "result_failure",
    "same_result",
    "student_losses",
]

CHECKS: dict[str, Check] = {
    "signature": check_signature,
    "result": check_result,
    "loss_band": check_loss_band,
    "step_for_step": check_step_for_step,
    "diagnose": check_diagnose,
    "answer_band": check_answer_band,
    "answer_close": check_answer_close,
    "completion_band": check_completion_band,
}
