"""Grade many submissions into an output folder: in parallel, resumable, observable.

* Each submission is graded by a worker process with its own sandbox (one warm
  zygote per worker); its ``results.json`` is written atomically as soon as it is
  graded, and the gradebook is rebuilt from the per-submission results at the end.
* Resume: a submission whose content hash, spec hash, expectations hash and
  harness version all match an existing result is skipped (``force`` regrades).
* One bad submission never stops the batch: a failure to read it becomes a
  report with status ``error``; an internal error while grading one is recorded
  and the batch goes on; the summary says so at the end.
* Two batches on the same output folder at once: the second stops with a clear
  message (a lock file held with ``flock``, released even if the holder is killed).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import multiprocessing.util
import os
import re
import sys
import time
import traceback
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, replace
from multiprocessing import get_context
from pathlib import Path
from typing import Any, TextIO

from labgrade.harness import __version__
from labgrade.harness.atomic import atomic_write
from labgrade.harness.errors import UserError
from labgrade.harness.inputs.spec import Limits, Spec
from labgrade.harness.inputs.submission import Discovery, Submission, discover, load_submission
from labgrade.harness.judging.grading import GradingOptions, grade_submission
from labgrade.harness.outputs.results import gradebook_rows, write_report
from labgrade.harness.review.apply import apply_reviews
from labgrade.harness.running.outcome import Outcome
from labgrade.harness.running.similar import known_sources, similarity_pass
from labgrade.harness.untrusted.confine import die_with_parent
from labgrade.harness.untrusted.sandbox import Sandbox
from labgrade.reference.expectations import Expectations

Log = Callable[[str], None]


@dataclass(frozen=True)
class BatchSummary:
    """What a batch did: outcomes, entries that were not submissions, the gradebook."""

    outcomes: tuple[Outcome, ...]
    ignored: tuple[str, ...]
    gradebook: Path | None
    seconds: float

    def count(self, status: str) -> int:
        """How many outcomes have ``status``."""
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def internal_errors(self) -> tuple[str, ...]:
        """The internal errors, with their traceback."""
        return tuple(f"{o.name}: {o.detail}" for o in self.outcomes if o.status == "internal_error")


def safe_name(raw: str) -> str:
    """A folder name for OUT/<name>: letters, digits, ``.``, ``_`` and ``-`` only, never starting with a dot.

    A file called ``...py`` would otherwise become ``OUT/../results.json``.  Accents are
    dropped (``ü`` -> ``u``) so the name is the same on every file system (macOS stores
    ``ü`` decomposed) and in every zip and spreadsheet.
    """
    ascii_text = unicodedata.normalize("NFKD", raw).encode("ascii", "ignore").decode()
    cleaned = re.sub(r"[^A-Za-z0-9_.-]+", "_", ascii_text).strip("._-")
    return cleaned[:80] or "submission"


def unique_names(paths: list[Path]) -> list[str]:
    """Submission names (file stem or folder name), made safe and unique with a suffix where they clash."""
    names: list[str] = []
    seen: dict[str, int] = {}
    for p in paths:
        base = safe_name(p.stem if p.is_file() else p.name)
        key = base.lower()  # Alice.py and alice.py would share a folder on macOS and Windows
        count = seen.get(key, 0)
        seen[key] = count + 1
        names.append(base if count == 0 else f"{base}-{count + 1}")
    return names


@contextlib.contextmanager
def output_lock(out: Path) -> Iterator[None]:
    """Hold ``OUT/.labgrade.lock`` for the batch; refuse if another batch holds it."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / ".labgrade.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "another process"
            raise UserError(
                f"{out}: another `labgrade grade` (pid {holder}) is writing here; wait for it or use another --out"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)


def clean_partial_files(out: Path) -> int:
    """Remove temporary files a killed batch left behind (results are only ever renamed into place)."""
    removed = 0
    for tmp in list(out.glob(".*.tmp")) + list(out.glob("*/.*.tmp")):
        tmp.unlink(missing_ok=True)
        removed += 1
    return removed


def up_to_date(out: Path, name: str, submission_hash: str, spec: Spec, expectations: Expectations) -> bool:
    """Whether ``OUT/<name>/results.json`` was made from this very content, spec, expectations and harness."""
    try:
        meta = json.loads((out / name / "results.json").read_text())["extra_data"]["labgrade"]
        prov = meta["provenance"]
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return bool(
        meta.get("submission_hash") == submission_hash
        and prov.get("spec_hash") == spec.sha256
        and prov.get("expectations_hash") == expectations.sha256
        and prov.get("harness_version") == __version__
    )


def launch_sandboxes(count: int, required: bool, limits: Limits | None = None) -> list[Sandbox]:
    """Launch ``count`` zygotes now; they import torch while the caller loads the spec and reference.

    Each is a fresh interpreter with a clean environment, started before anything of
    the lab is in memory.  Call :meth:`Sandbox.start` on each to wait until it is
    ready, then pass them to :func:`grade_paths`.
    """
    return [Sandbox(limits, required=required).launch() for _ in range(max(count, 1))]


# --- the worker side: state set before the pool forks ------------------------------------------

_STATE: dict[str, Any] = {}


def _grade_one(path: str, name: str) -> Outcome:
    """Grade one submission in a worker (or in the parent for one job) and write its results."""
    spec: Spec = _STATE["spec"]
    expectations: Expectations = _STATE["expectations"]
    out: Path = _STATE["out"]
    options: GradingOptions = _STATE["options"]
    try:
        sandbox = _STATE.get("sandbox")
        if sandbox is None:
            sandbox = Sandbox(spec.limits, required=not options.unconfined)
            sandbox.start()
            _STATE["sandbox"] = sandbox
            # Close it when this worker exits normally (multiprocessing runs its finalizers).
            multiprocessing.util.Finalize(sandbox, sandbox.close, exitpriority=10)
        # Read once: the parent's reading (made for the resume check) travels into the fork.
        loaded = _STATE.get("loaded", {}).get(path) or load_submission(Path(path), spec)
        submission = replace(loaded, name=name)
        report = grade_submission(sandbox, spec, expectations, submission, options)
        write_report(out, report)
        return Outcome(name, report.status, report.score, report.max_score)
    except UserError as exc:
        return Outcome(name, "internal_error", detail=str(exc))
    except Exception:
        return Outcome(name, "internal_error", detail=traceback.format_exc())


def _worker_init() -> None:
    """In each worker: die with the batch, and take one of the sandboxes started before the fork.

    Every worker inherited every prestarted sandbox's pipes; it keeps its own and
    releases the others, so each zygote ends when the one worker using it does.
    """
    die_with_parent()  # a killed batch leaves no worker, zygote or child behind
    slots = _STATE.pop("slots", None)
    prestarted: list[Sandbox] = _STATE.pop("prestarted", [])
    if slots is None:
        return
    mine = slots.get()
    for index, sandbox in enumerate(prestarted):
        if index != mine:
            sandbox.forget()
    _STATE["sandbox"] = prestarted[mine]
    multiprocessing.util.Finalize(prestarted[mine], prestarted[mine].close, exitpriority=10)


def _close_worker_sandbox() -> None:
    sandbox = _STATE.pop("sandbox", None)
    if sandbox is not None:
        sandbox.close()


# --- progress -------------------------------------------------------------------------------------


@dataclass
class Progress:
    """A progress bar on a terminal; plain lines every few seconds otherwise (CI, logs)."""

    total: int
    stream: TextIO
    interval_s: float = 5.0
    done: int = 0
    failed: int = 0
    started: float = 0.0
    _last: float = 0.0

    def __post_init__(self) -> None:
        self.started = self._last = time.monotonic()
        self.tty = self.stream.isatty()

    def update(self, outcome: Outcome) -> None:
        """Count one finished submission and show progress."""
        self.done += 1
        self.failed += outcome.status in ("error", "internal_error")
        now = time.monotonic()
        elapsed = now - self.started
        eta = elapsed / self.done * (self.total - self.done) if self.done else 0.0
        text = f"graded {self.done}/{self.total}, {self.failed} failed, ETA {eta:.0f} s"
        if self.tty:
            width = 24
            filled = int(width * self.done / max(self.total, 1))
            self.stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {text}   ")
            if self.done == self.total:
                self.stream.write("\n")
            self.stream.flush()
        elif now - self._last >= self.interval_s or self.done == self.total:
            self._last = now
            self.stream.write(f"progress: {text}\n")
            self.stream.flush()


# --- the batch ---------------------------------------------------------------------------------------


def grade_paths(
    paths: list[Path],
    out: Path,
    spec: Spec,
    expectations: Expectations,
    options: GradingOptions,
    log: Log,
    jobs: int = 1,
    force: bool = False,
    progress_stream: TextIO | None = None,
    single: bool = False,
    dask_scheduler: str | None = None,
    sandboxes: list[Sandbox] | None = None,
    compare_with: Sequence[Path] = (),
) -> BatchSummary:
    """Grade every submission found under ``paths`` into ``out`` (see the module docstring).

    With ``single``, each path is one submission (a Gradescope submission folder). With
    ``dask_scheduler`` (``tcp://host:port``), each submission is graded on a Dask cluster
    (:mod:`labgrade.harness.running.cluster`); results come back here and follow the same rules.
    ``sandboxes`` are zygotes launched before the spec and reference were loaded (see
    :func:`launch_sandboxes`): each worker takes one instead of starting its own.
    Afterwards the class's code is compared (:mod:`labgrade.harness.running.similar`), with the
    known sources in ``compare_with``, into ``OUT/similarity.csv`` and ``similarity.html``.
    """
    sandboxes = list(sandboxes or [])
    started = time.monotonic()
    found = Discovery(tuple(p for p in paths if p.exists())) if single else discover(paths, out)
    for entry in found.ignored:
        log(f"skipped {entry}")
    with output_lock(out):
        removed = clean_partial_files(out)
        if removed:
            log(f"removed {removed} partial file(s) left by an interrupted batch")
        names = unique_names(list(found.submissions))
        todo: list[tuple[str, str]] = []
        outcomes: list[Outcome] = []
        loaded: dict[str, Submission] = {}  # a PDF report's text is extracted in a child: once per batch
        for path, name in zip(found.submissions, names, strict=True):
            loaded[str(path)] = load_submission(path, spec)
            if not force and up_to_date(out, name, loaded[str(path)].sha256, spec, expectations):
                previous = json.loads((out / name / "results.json").read_text())
                max_score = float(previous["extra_data"]["labgrade"].get("max_score", 0))
                outcomes.append(Outcome(name, "skipped", float(previous.get("score", 0)), max_score))
            else:
                todo.append((str(path), name))
        if outcomes:
            log(f"{len(outcomes)} submission(s) already graded with this spec, reference and harness: skipped")
        _STATE.update(spec=spec, expectations=expectations, out=out, options=options, loaded=loaded)
        progress = Progress(len(todo), progress_stream or sys.stderr)
        if dask_scheduler:
            from labgrade.harness.running.cluster import run_on_dask

            for sandbox in sandboxes:
                sandbox.close()
            outcomes += run_on_dask(dask_scheduler, todo, spec, expectations, out, options, progress.update)
        else:
            for sandbox in sandboxes:
                sandbox.limits = spec.limits
            outcomes += _run(todo, jobs, progress, sandboxes)
        _STATE.pop("loaded", None)  # this batch's readings: never a later batch's
        apply_reviews(out, spec)  # a regrade rewrote the results from the code: the graders' marks go back on
        gradebook = None
        current = [out / name / "results.json" for name in names]
        rows = [json.loads(p.read_text()) for p in current if p.is_file()]
        if rows:
            gradebook = out / "gradebook.csv"
            atomic_write(gradebook, gradebook_rows(rows, [q.id for q in spec.questions]))
        known = known_sources(compare_with, spec)
        if len(names) + len(known) >= 2:
            by_name = {name: loaded[str(path)] for path, name in zip(found.submissions, names, strict=True)}
            similarity_pass(out, by_name, known, spec, log)
    return BatchSummary(tuple(outcomes), found.ignored, gradebook, time.monotonic() - started)


def _run(todo: list[tuple[str, str]], jobs: int, progress: Progress, sandboxes: list[Sandbox]) -> list[Outcome]:
    outcomes: list[Outcome] = []
    workers = min(jobs, len(todo))
    for extra in sandboxes[max(workers, 1) :]:
        extra.close()
    sandboxes = sandboxes[: max(workers, 1)]
    if workers <= 1:
        if sandboxes:
            _STATE["sandbox"] = sandboxes[0]
        try:
            for path, name in todo:
                outcome = _grade_one(path, name)
                outcomes.append(outcome)
                progress.update(outcome)
        finally:
            _close_worker_sandbox()
        return outcomes
    # fork: workers inherit the spec and expectations (trusted data) without pickling; torch
    # already runs single-threaded in the parent (see labgrade.harness.cli), so forking it is safe.
    context = get_context("fork")
    if sandboxes and len(sandboxes) < workers:  # one each: every worker takes a slot
        sandboxes += launch_sandboxes(workers - len(sandboxes), sandboxes[0].required, sandboxes[0].limits)
    if sandboxes:
        slots = context.SimpleQueue()
        for index in range(len(sandboxes)):
            slots.put(index)
        _STATE.update(slots=slots, prestarted=sandboxes)
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_worker_init) as pool:
            pending: set[Future[Outcome]] = {pool.submit(_grade_one, path, name) for path, name in todo}
            for sandbox in sandboxes:  # every worker exists now and holds its own copy
                sandbox.release_pipes()
            while pending:
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    outcome = future.result()
                    outcomes.append(outcome)
                    progress.update(outcome)
    finally:
        _STATE.pop("slots", None)
        _STATE.pop("prestarted", None)
        for sandbox in sandboxes:  # reap the zygotes (they ended with their workers)
            sandbox.close()
    return outcomes
