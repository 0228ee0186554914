"""``make bench``'s last table: every figure against its floor and its goal, by class size, in one place.

Why a table of its own: the sections above it each explain one measurement; an
instructor deciding whether labgrade is fast enough for a tutorial group wants
the answer for their N in one row.
"""

from __future__ import annotations

from labgrade.harness.bench.pages import PageBench
from labgrade.harness.bench.runs import BatchBench, CheckBench, GradeBench

GRADE_GOAL, CHECK_GOAL, PAGE_GOAL = 1.3, 1.3, 1.5


def _mark(ratio: float, goal: float) -> str:
    return f"{ratio:5.2f}x {'ok' if ratio <= goal else 'over':<4}"


def format_goals(check: CheckBench, grades: list[GradeBench], pages: list[PageBench], batch: BatchBench | None) -> str:
    """One row per class size: grade's wall time and report's CPU per page, each as a ratio to its floor."""
    sizes = sorted({g.count for g in grades} | {p.reports for p in pages} | ({batch.submissions} if batch else set()))
    lines = [
        f"against the floors, by class size (goals: grade and check <= {GRADE_GOAL}x,"
        f" report <= {PAGE_GOAL}x a plain page of the same text, line by line)",
        f"  {'N':>4}  {'grade (wall)':<18} {'report (CPU per page)':<34}",
    ]
    for n in sizes:
        grade = next((g for g in grades if g.count == n), None)
        page = next((p for p in pages if p.reports == n), None)
        if grade is not None:
            grade_cell = f"{grade.grade_s:5.1f}s {_mark(grade.ratio, GRADE_GOAL)}"
        elif batch is not None and batch.submissions == n:
            grade_cell = f"{batch.wall_s:5.1f}s {batch.wall_s / max(batch.floor_s, 1e-9):5.2f}x of compute/cores"
        else:
            grade_cell = "-"
        page_cell = (
            f"{1000 * page.report_cpu_s:4.0f}ms {_mark(page.ratio, PAGE_GOAL)} ({page.paragraph_ratio:.2f}x paragraph)"
            if page
            else "-"
        )
        lines.append(f"  {n:>4}  {grade_cell:<18} {page_cell:<34}")
    lines.append(f"  check {check.check_s:5.1f}s {_mark(check.ratio, CHECK_GOAL)}")
    return "\n".join(lines)
