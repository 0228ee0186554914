"""Grade many submissions into an output folder: one results.json each, then the gradebook.

One bad submission never stops the batch: a failure to read it becomes a report
with status ``error``; an internal error while grading one is recorded for it and
the batch goes on, and the summary says so at the end.
"""

from __future__ import annotations

import re
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from harness.grading import GradingOptions, grade_submission
from harness.results import GradeReport, atomic_write, gradebook_csv, write_report
from harness.sandbox import Sandbox
from harness.spec import Spec
from harness.submission import discover, load_submission
from reference.expectations import Expectations

Log = Callable[[str], None]


@dataclass(frozen=True)
class BatchSummary:
    """What a batch did: reports written, entries skipped, internal errors, the gradebook."""

    reports: tuple[GradeReport, ...]
    ignored: tuple[str, ...]
    internal_errors: tuple[str, ...]
    gradebook: Path | None


def safe_name(raw: str) -> str:
    """A folder name for OUT/<name>: letters, digits, ``.``, ``_`` and ``-`` only, never starting with a dot.

    A file called ``...py`` would otherwise become ``OUT/../results.json``.
    """
    cleaned = re.sub(r"[^\w.-]+", "_", raw).strip("._-")
    return cleaned[:80] or "submission"


def _unique_names(paths: list[Path]) -> list[str]:
    """Submission names (file stem or folder name), made unique with a suffix where they clash."""
    names: list[str] = []
    seen: dict[str, int] = {}
    for p in paths:
        base = safe_name(p.stem if p.is_file() else p.name)
        count = seen.get(base, 0)
        seen[base] = count + 1
        names.append(base if count == 0 else f"{base}-{count + 1}")
    return names


def grade_paths(
    paths: list[Path],
    out: Path,
    spec: Spec,
    expectations: Expectations,
    sandbox: Sandbox,
    options: GradingOptions,
    log: Log,
) -> BatchSummary:
    """Grade every submission found under ``paths`` into ``out``."""
    found = discover(paths)
    for entry in found.ignored:
        log(f"skipped {entry}")
    reports: list[GradeReport] = []
    errors: list[str] = []
    names = _unique_names(list(found.submissions))
    for index, (path, name) in enumerate(zip(found.submissions, names, strict=True), start=1):
        log(f"[{index}/{len(found.submissions)}] {name}")
        try:
            submission = load_submission(path)
            submission = type(submission)(**{**vars(submission), "name": name})
            report = grade_submission(sandbox, spec, expectations, submission, options)
        except Exception:
            errors.append(f"{name}: internal error\n{traceback.format_exc()}")
            log(f"internal error while grading {name} (recorded; the batch goes on)")
            continue
        write_report(out, report)
        reports.append(report)
    gradebook = None
    if reports:
        gradebook = out / "gradebook.csv"
        atomic_write(gradebook, gradebook_csv(reports, [q.id for q in spec.questions]))
    return BatchSummary(tuple(reports), found.ignored, tuple(errors), gradebook)
