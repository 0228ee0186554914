"""Grading on a Dask distributed cluster, for classes that outgrow one machine.

A university starts the cluster on its own nodes (``dask-jobqueue`` on Slurm,
``dask-kubernetes``, or ``dask scheduler`` / ``dask worker`` by hand) and runs
``labgrade grade ... --dask-scheduler tcp://HOST:PORT``.  Each submission is one
task: the parent sends the parsed submission, the spec's text and (once, by
broadcast) the expectations; the worker grades it in its own sandbox, under the
same confinement rules as a local run (a worker that cannot confine refuses,
unless ``--unconfined``), and returns the results dictionary.  The parent writes
every result into OUT atomically, so resume and the gradebook work as locally.
Workers need labgrade installed and must not share the parent's OUT folder.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from labgrade.harness.errors import UserError
from labgrade.harness.inputs.spec import Spec, content_hash, validate_spec
from labgrade.harness.inputs.submission import Submission, load_submission
from labgrade.harness.inputs.yamlsource import parse_yaml
from labgrade.harness.judging.grading import GradingOptions, grade_submission
from labgrade.harness.outputs.results import write_results
from labgrade.harness.running.outcome import Outcome
from labgrade.harness.untrusted.sandbox import Sandbox
from labgrade.reference.expectations import Expectations

_LOCAL = threading.local()  # one sandbox per worker thread: a zygote serves one call at a time


def grade_remote(
    spec_text: str, spec_path: str, expectations: Expectations, submission: Submission, options: GradingOptions
) -> tuple[Outcome, dict[str, Any] | None]:
    """Runs on a Dask worker: grade one submission and return its outcome and results dictionary."""
    try:
        doc = parse_yaml(spec_text, spec_path)
        spec = validate_spec(doc, content_hash(doc.data))
        sandbox = getattr(_LOCAL, "sandbox", None)
        if sandbox is None:
            sandbox = Sandbox(spec.limits, required=not options.unconfined)
            sandbox.start()
            _LOCAL.sandbox = sandbox
        report = grade_submission(sandbox, spec, expectations, submission, options)
        return Outcome(report.name, report.status, report.score, report.max_score), report.to_gradescope()
    except UserError as exc:
        return Outcome(submission.name, "internal_error", detail=f"on a Dask worker: {exc}"), None
    except Exception:
        return Outcome(submission.name, "internal_error", detail=traceback.format_exc()), None


def run_on_dask(
    address: str,
    todo: list[tuple[str, str]],
    spec: Spec,
    expectations: Expectations,
    out: Path,
    options: GradingOptions,
    on_done: Callable[[Outcome], None],
) -> list[Outcome]:
    """Grade ``todo`` (path, name) on the cluster at ``address``; write each result as it arrives."""
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise UserError("--dask-scheduler needs Dask: pip install 'dask[distributed]'") from None
    spec_text = Path(spec.path).read_text(encoding="utf-8")
    outcomes: list[Outcome] = []
    try:
        client = Client(address, timeout="20s")  # type: ignore[no-untyped-call]
    except OSError as exc:
        raise UserError(f"--dask-scheduler {address}: cannot connect ({exc})") from None
    with client:
        shared = client.scatter(expectations, broadcast=True)  # type: ignore[no-untyped-call]
        futures = [
            client.submit(
                grade_remote,
                spec_text,
                spec.path,
                shared,
                replace(load_submission(Path(path), spec), name=name),
                options,
                pure=False,
            )
            for path, name in todo
        ]
        for future in as_completed(futures):  # type: ignore[no-untyped-call]
            outcome, results = future.result()
            if results is not None:
                write_results(out, outcome.name, results)
            outcomes.append(outcome)
            on_done(outcome)
    return outcomes
