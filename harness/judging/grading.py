"""Grade one submission: spec + observations + expectations -> a :class:`GradeReport`.

Checks, essentials and flags are judged here, in order; the one place where their
outcomes become a mark is :func:`labgrade.harness.judging.marks.mark_question`.  A student's
failure of any kind (syntax error, exception, time limit, crash) is data that
becomes a failed check with a message; only a bug of ours escapes as an
exception.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

from labgrade.harness import __version__
from labgrade.harness.inputs.answertext import MAX_TEXT, AnswerText
from labgrade.harness.inputs.spec import CheckSpec, QuestionSpec, Spec
from labgrade.harness.inputs.submission import Submission
from labgrade.harness.judging.checks import CHECKS, Context, follows_reference
from labgrade.harness.judging.essentials import judge_essentials
from labgrade.harness.judging.flags import page_rule_note, raise_flags, report_flags
from labgrade.harness.judging.marks import Mark, mark_question, share_name, with_review
from labgrade.harness.judging.observe import FunctionObservations, observe_functions
from labgrade.harness.judging.renames import find_renamed
from labgrade.harness.outputs.results import CheckOutcome, Flag, GradeReport, Provenance, QuestionResult, ReviewPart
from labgrade.harness.review.suggest import suggestions
from labgrade.harness.untrusted.sandbox import Sandbox
from labgrade.reference.expectations import Expectations


@dataclass(frozen=True)
class GradingOptions:
    """How to grade: the harness seed, whether to show only visible checks, confinement state."""

    seed: int = 0
    visible_only: bool = False
    unconfined: bool = False


def _observe_all(
    sandbox: Sandbox, spec: Spec, expectations: Expectations, submission: Submission, seed: int
) -> dict[str, FunctionObservations]:
    """Observations of each function question's function, keyed by the question's experiment.

    More seeds are observed only for a function that does not follow the reference
    step for step under the first one (see ``observe``).
    """
    questions = [q for q in spec.questions if q.kind == "function" and q.function is not None and q.experiment]
    observed = observe_functions(
        sandbox,
        spec,
        questions,
        submission,
        seed,
        lambda q, obs: follows_reference(q, expectations, obs),
        find_renamed(spec, submission),
    )
    return {q.experiment: obs for q, obs in zip(questions, observed, strict=True) if q.experiment}


def _answers_for(submission: Submission, question: QuestionSpec) -> dict[str, object] | None:
    if submission.answers is None:
        return None
    raw = submission.answers.get(question.id)
    if isinstance(raw, dict):
        return {str(k): v for k, v in raw.items()}
    if raw is not None and len(question.answers) == 1:
        return {question.answers[0].name: raw}  # "1.2: 0.122" is accepted as the only answer
    return {} if raw is None else {"__malformed__": raw}


def _run_check(ctx: Context, check: CheckSpec, blocked: bool, answers: dict[str, object] | None) -> CheckOutcome:
    """One check's outcome; after a gate failed (not defined, no valid result) it cannot run."""
    if blocked:
        return CheckOutcome(
            check.kind,
            None if check.weight == 0 else False,
            "not run: fix the failure above first",
            "",
            check.weight,
            check.visible,
        )
    if ctx.question.kind == "answer" and answers is not None and "__malformed__" in answers:
        shown = str(answers["__malformed__"])[:60]
        names = ", ".join(a.name for a in ctx.question.answers)
        return CheckOutcome(
            check.kind,
            False,
            f'answers.yaml "{ctx.question.id}": expected a mapping with {names}, got {shown!r}',
            weight=check.weight,
            visible=check.visible,
        )
    return CHECKS[check.kind](ctx, check)


def grade_question(
    spec: Spec,
    question: QuestionSpec,
    expectations: Expectations,
    observations: dict[str, FunctionObservations],
    submission: Submission,
    options: GradingOptions,
    whole: tuple[Flag, ...] = (),
) -> QuestionResult:
    """Run the question's checks in order, judge its essentials and flags, and mark it.

    ``whole`` are the flags of the submission as a whole (its report's form): under a
    ``zero`` policy they mark every question 0; they are listed once, on the report.
    """
    obs = observations.get(question.experiment or "") if question.kind == "function" else None
    answers = _answers_for(submission, question)
    notes = submission.answer_notes.get(question.id, {})
    ctx = Context(
        spec, question, expectations, obs, answers, observations, submission.problems, submission.skipped, notes
    )
    shares: list[tuple[str, CheckOutcome]] = []  # each outcome with the name of its share in the arithmetic
    blocked = False
    for check in question.checks:
        if options.visible_only and not check.visible:
            continue
        outcome = _run_check(ctx, check, blocked, answers)
        answer = check.params.get("answer")
        shares.append((share_name(check.kind, answer if isinstance(answer, str) else None, outcome), outcome))
        blocked = blocked or (outcome.passed is False and bool(outcome.details.get("gate")))
    essentials = judge_essentials(ctx, question.essentials)
    flags = raise_flags(ctx)
    mark = mark_question(question.automatic_marks, shares, essentials, flags + whole)
    part = _review_part(question, answers, submission, mark)
    arithmetic = mark.arithmetic
    if part is not None:
        arithmetic = f"{with_review(mark.score, None, '', part.points)} (automatic: {mark.arithmetic})"
    return QuestionResult(
        question.id,
        question.title,
        mark.score,
        question.marks,
        tuple(o for _, o in shares),
        question.free_text,
        arithmetic=arithmetic,
        headline=mark.headline,
        essentials=essentials,
        flags=flags,
        review=part,
    )


def _review_part(
    question: QuestionSpec, answers: dict[str, object] | None, submission: Submission, automatic: Mark
) -> ReviewPart | None:
    """The question's reviewed part as grading leaves it: pending, with the student's words and suggestions."""
    if question.review is None:
        return None
    given = (answers or {}).get("text")
    if isinstance(given, str) and given.strip():
        found: AnswerText | None = AnswerText(given[:MAX_TEXT], "answers.yaml")
    else:
        found = submission.texts.get(question.id)
    if found is None:
        return ReviewPart(question.review.points, automatic.score, automatic.arithmetic)
    hints = tuple((s.item, s.words) for s in suggestions(question.review, found.text))
    return ReviewPart(
        question.review.points,
        automatic.score,
        automatic.arithmetic,
        text=found.text,
        where=found.where,
        text_hash=found.sha256,
        suggested=hints,
    )


def grade_submission(
    sandbox: Sandbox,
    spec: Spec,
    expectations: Expectations,
    submission: Submission,
    options: GradingOptions,
) -> GradeReport:
    """Observe the submission's functions in the sandbox, then judge every question here."""
    started = time.perf_counter()
    notes: list[str] = list(submission.problems)
    if submission.skipped:
        shown = "; ".join(submission.skipped[:6])
        more = f" and {len(submission.skipped) - 6} more" if len(submission.skipped) > 6 else ""
        notes.append(f"Skipped top-level code that is not a definition (not run): {shown}{more}.")
    unreadable = any(p.startswith("answers.yaml") for p in submission.problems)
    if submission.answers is None and not unreadable and any(q.kind == "answer" for q in spec.questions):
        notes.append("No answers.yaml: answer questions score 0.")
    observations = _observe_all(sandbox, spec, expectations, submission, options.seed) if submission.has_code else {}
    failed_imports: dict[str, None] = {}
    for obs in observations.values():
        for item in (obs.load.get("failed_imports") or [])[:3]:
            failed_imports[f"An import failed and was skipped ({item})."] = None
    notes += failed_imports
    for obs in observations.values():
        if obs.output_bytes:
            notes.append(f"`{obs.name}` printed {obs.output_bytes} bytes while graded (ignored).")
    whole = report_flags(spec, submission.report)
    notes += [f"Flagged for review ({f.kind}): {f.evidence}." for f in whole]
    rule = page_rule_note(spec, submission.report)
    if rule:
        notes.append(rule + ".")
    questions = tuple(
        grade_question(spec, q, expectations, observations, submission, options, whole) for q in spec.questions
    )
    confinement = sandbox.confinement.layers if sandbox.confinement else {}
    data = expectations.provenance.data.get("ratings_source", "none")
    seeds = next(iter(observations.values())).seeds if observations else ()
    provenance = Provenance(
        harness_version=__version__,
        spec_id=spec.id,
        spec_hash=spec.sha256,
        expectations_hash=expectations.sha256,
        torch_version=expectations.provenance.torch_version,
        devices=expectations.devices,
        seeds=seeds,
        data_source=data,
        confinement=dict(confinement),
        unconfined=options.unconfined,
    )
    status = "graded" if submission.has_code or submission.answers is not None else "error"
    return GradeReport(
        name=submission.name,
        lab_title=spec.title,
        graded_at=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        source=str(submission.path),
        submission_hash=submission.sha256,
        status=status,
        score=sum(q.score for q in questions),
        max_score=sum(q.max_score for q in questions),
        questions=questions,
        notes=tuple(notes),
        execution_time=time.perf_counter() - started,
        provenance=provenance,
        student_seconds=sum(c.call_s for obs in observations.values() for c in obs.calls.values()),
        call_seconds={obs.name: {label: c.call_s for label, c in obs.calls.items()} for obs in observations.values()},
        report_flags=whole,
    )
