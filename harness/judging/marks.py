"""Mark arithmetic, in one place: shares of the checks, caps from essentials, flag policies.

A question's mark is ``marks x (1 - the shares of the checks that failed)``, each
share being a check's weight over the weights of the checks that applied.  A failed
essential caps the mark at ``cap x marks`` (the lowest cap wins); a flag whose spec
policy is ``zero`` sets it to 0.  Every mark comes with the one line that shows how
it was made, e.g. ``0.8 = 1 x (1 - 0.2 result form)`` or ``0 = capped: the
function does not learn ...``, so an instructor can defend it to the student.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from labgrade.harness.inputs.rubric import ReviewSpec
from labgrade.harness.outputs.results import CheckOutcome, EssentialOutcome, Flag

#: How each check's share is named in the arithmetic (answer checks use their answer's name).
SHARE_NAMES: dict[str, str] = {
    "signature": "signature",
    "result": "result",
    "loss_band": "loss",
    "step_for_step": "step-for-step",
    "diagnose": "diagnosis",
}


@dataclass(frozen=True)
class Mark:
    """A question's mark, the line of arithmetic behind it, and the sentence that explains a cap or policy."""

    score: float
    arithmetic: str
    headline: str = ""


def _num(x: float) -> str:
    return f"{round(x, 4):g}"


def share_name(kind: str, answer: str | None, outcome: CheckOutcome) -> str:
    """The name a check's share goes by in the arithmetic line."""
    if kind == "result" and outcome.details.get("recovered"):
        return "result form"
    if kind == "signature" and outcome.details.get("renamed"):
        return "signature (name)"
    return answer or SHARE_NAMES.get(kind, kind)


def mark_question(
    marks: float,
    shares: Sequence[tuple[str, CheckOutcome]],
    essentials: Sequence[EssentialOutcome] = (),
    flags: Sequence[Flag] = (),
) -> Mark:
    """The question's mark from its named check outcomes, essentials and flags.

    A check that did not apply (``passed is None``) counts neither way; one that
    could not run because an earlier layer failed counts as failed.  With no
    weighted check at all, full marks need every check passed.
    """
    counted = [(name, o) for name, o in shares if o.passed is not None]
    total = sum(o.weight for _, o in counted)
    if total > 0:
        lost = [(o.weight / total, name) for name, o in counted if not o.passed and o.weight > 0]
        raw = marks * (1 - sum(share for share, _ in lost))
        if lost:
            terms = " - ".join(f"{_num(share)} {name}" for share, name in lost)
            line = f"{_num(raw)} = {_num(marks)} x (1 - {terms})"
        else:
            line = f"{_num(raw)} = {_num(marks)} x 1 (every share earned)"
    else:
        passed = bool(counted) and all(o.passed for _, o in counted)
        raw = marks if passed else 0.0
        line = f"{_num(raw)} = {'all checks passed' if passed else 'a check failed or none ran'}"
    raw = max(raw, 0.0)
    zeroed = [f for f in flags if f.policy == "zero"]
    if zeroed:
        why = f"flagged {zeroed[0].kind}, which this lab's policy marks 0: {zeroed[0].evidence}"
        return Mark(0.0, f"0 = {why} (otherwise {line})", f"Marked 0 by policy: {why}.")
    failed = [e for e in essentials if e.passed is False]
    if not failed:
        return Mark(raw, line)
    binding = min(failed, key=lambda e: e.cap)
    cap = binding.cap * marks
    reason = f" ({binding.reason})" if binding.reason else ""
    headline = f"Capped at {_num(cap)}: {binding.message}{reason}."
    if cap == 0:
        return Mark(0.0, f"0 = capped: {binding.message}", headline)
    if raw <= cap:
        return Mark(raw, line, headline)
    capped = f"{_num(cap)} = capped at {_num(binding.cap)} x {_num(marks)}: {binding.message} (was {line})"
    return Mark(cap, capped, headline)


def rubric_score(review: ReviewSpec, applied: Sequence[str], adjustment: float = 0.0) -> tuple[float, str]:
    """The reviewed part's score from the items applied (at the spec's current points) and an adjustment.

    Clamped to ``[0, review.points]``; the line says each term: ``0.3 rubric (compares)``,
    ``0.6 rubric (compares 0.3 + explains 0.3 + adjustment 0.1, at most 0.6)``.
    """
    terms = [(item.id, item.points) for item in review.items if item.id in applied]
    if adjustment:
        terms.append(("adjustment", adjustment))
    raw = sum(points for _, points in terms)
    score = min(max(raw, 0.0), review.points)
    if not terms:
        return 0.0, "0 rubric (no item applied)"
    if len(terms) == 1 and terms[0][0] != "adjustment" and score == raw:
        return score, f"{_num(score)} rubric ({terms[0][0]})"
    said = " ".join(
        f"{'' if i == 0 and points >= 0 else '- ' if points < 0 else '+ '}{name} {_num(abs(points))}"
        for i, (name, points) in enumerate(terms)
    )
    bound = f", at most {_num(review.points)}" if raw > review.points else (", at least 0" if raw < 0 else "")
    return score, f"{_num(score)} rubric ({said}{bound})"


def with_review(automatic: float, rubric: float | None, rubric_line: str, pending_points: float) -> str:
    """The question's arithmetic with its reviewed part: ``0.7 = 0.4 automatic + 0.3 rubric (compares)``."""
    if rubric is None:
        return f"{_num(automatic)} = {_num(automatic)} automatic + pending {_num(pending_points)} rubric"
    return f"{_num(automatic + rubric)} = {_num(automatic)} automatic + {rubric_line}"
