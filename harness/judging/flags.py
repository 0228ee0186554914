"""Integrity flags: evidence for a human, raised in the trusted parent from observations.

What looks like misconduct is never a silent penalty: a reported number the code
cannot produce, a function that seeds torch's global generator itself, a module
that changes torch's default dtype.  Each detector returns the evidence an
instructor needs to decide; the spec's ``flags:`` policy says what the flag does to
the question's mark (``keep``, the default, or ``zero``; see ``labgrade.harness.judging.marks``).
"""

from __future__ import annotations

from collections.abc import Callable

from labgrade.harness.inputs.reports import ReportForm
from labgrade.harness.inputs.spec import Spec
from labgrade.harness.judging.checks import Context, code_cannot_give
from labgrade.harness.outputs.results import Flag

Detector = Callable[[Context], list[str]]


def reported_not_from_code(ctx: Context) -> list[str]:
    """A reported loss that none of the submitted code's runs comes near (5%)."""
    found = []
    for check in ctx.question.checks:
        answer, experiment, quantity = (check.params.get(k) for k in ("answer", "experiment", "quantity"))
        if not (isinstance(answer, str) and isinstance(experiment, str) and isinstance(quantity, str)):
            continue
        value = (ctx.answers or {}).get(answer)
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        evidence = code_cannot_give(ctx, experiment, quantity, float(value))
        if evidence:
            found.append(f"{answer}: {evidence}")
    return found


def seeds_global_generator(ctx: Context) -> list[str]:
    """A call that left torch's global generator seeded with something other than the harness's seed."""
    obs = ctx.observations
    if obs is None:
        return []
    reseeded = [c.label for c in obs.calls.values() if c.reseeded]
    if not reseeded:
        return []
    return [
        f"`{obs.name}` seeds torch's global generator itself (torch.manual_seed or similar) in "
        f"{len(reseeded)} of {len(obs.calls)} calls, so its result ignores the seed it is run under"
    ]


def changes_default_dtype(ctx: Context) -> list[str]:
    """Loading the file or calling the function leaves torch's default dtype other than float32."""
    obs = ctx.observations
    if obs is None:
        return []
    after = {c.default_dtype_after for c in obs.calls.values() if c.default_dtype_after}
    after.discard("torch.float32")
    at_load = obs.globals.get("default_dtype_after_load")
    if at_load not in (None, "torch.float32"):
        return [f"loading the file sets torch's default dtype to {at_load}"]
    if after:
        dtypes = ", ".join(sorted(after))
        return [f"`{obs.name}` sets torch's default dtype to {dtypes} for all code that runs after it"]
    return []


def over_page_limit(spec: Spec, form: ReportForm | None) -> list[str]:
    """A PDF report longer than the lab allows, or on other paper: the evidence, as the lab text states the rule."""
    rule = spec.report
    if form is None or form.pages is None or (rule.max_pages is None and rule.paper is None):
        return []
    found = []
    paper = f" of {form.paper}" if form.paper else ""
    allowed = "one side" if rule.max_pages == 1 else f"{rule.max_pages} pages"
    if rule.max_pages is not None and form.pages > rule.max_pages:
        found.append(f"{form.file}: {form.pages} pages{paper}; the lab allows {allowed}")
    if rule.paper and form.paper and form.paper != rule.paper:
        found.append(f"{form.file}: its pages are {form.paper}; the lab asks for {rule.paper}")
    return found


#: Flags of a report as a whole (raised once, with ``question`` "report"), by the name specs use.
REPORT_DETECTORS: dict[str, Callable[[Spec, ReportForm | None], list[str]]] = {"over_page_limit": over_page_limit}


def report_flags(spec: Spec, form: ReportForm | None) -> tuple[Flag, ...]:
    """The flags of the report as a whole (not of one question): its form against the spec's ``report:`` rule."""
    return tuple(
        Flag(kind, "report", evidence, spec.flags.get(kind, "keep"))
        for kind, detect in REPORT_DETECTORS.items()
        for evidence in detect(spec, form)
    )


def page_rule_note(spec: Spec, form: ReportForm | None) -> str | None:
    """Said for a Markdown report where the lab has a page rule: it has no pages, so the rule was not applied."""
    if form is None or form.pages is not None or spec.report.max_pages is None:
        return None
    unit = "side" if spec.report.max_pages == 1 else "pages"
    paper = f" of {spec.report.paper}" if spec.report.paper else ""
    return (
        f"{form.file}: Markdown has no pages, so the lab's page limit ({spec.report.max_pages} {unit}{paper}) "
        "was not checked; it applies to the PDF you hand in"
    )


FLAG_DETECTORS: dict[str, Detector] = {
    "reported_not_from_code": reported_not_from_code,
    "seeds_global_generator": seeds_global_generator,
    "changes_default_dtype": changes_default_dtype,
}


def raise_flags(ctx: Context) -> tuple[Flag, ...]:
    """Every flag's evidence for this question, each carrying the spec's policy for it."""
    return tuple(
        Flag(kind, ctx.question.id, evidence, ctx.spec.flags.get(kind, "keep"))
        for kind, detect in FLAG_DETECTORS.items()
        for evidence in detect(ctx)
    )
