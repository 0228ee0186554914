"""The ``labgrade`` command: thin click commands over the Python API.

Every command turns a :class:`~labgrade.harness.errors.UserError` into one line on stderr
and exit code 2; anything else is our bug: a traceback and exit code 3.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from labgrade.harness import __version__
from labgrade.harness.errors import ExitCode, UserError
from labgrade.harness.inputs.config import DEVICE_CHOICES, Config, load_config
from labgrade.harness.inputs.spec import load_spec

if TYPE_CHECKING:
    from labgrade.harness.bench.pages import PageBench
    from labgrade.harness.bench.runs import BatchBench

F = TypeVar("F", bound=Callable[..., Any])


def _log(message: str) -> None:
    click.echo(message, err=True)


def data_options(func: F) -> F:
    """Options shared by commands that need the spec, data and reference cache."""
    options = [
        click.option(
            "--config",
            "config_file",
            type=click.Path(path_type=Path),
            default=None,
            help="YAML file with any of: spec, ratings, titles, cache_dir, device.",
        ),
        click.option(
            "--spec",
            type=click.Path(path_type=Path),
            default=None,
            help=f"Lab spec: a shipped lab's name or a YAML file (default: {Config.spec}).",
        ),
        click.option(
            "--ratings",
            type=click.Path(path_type=Path),
            default=None,
            help="Real ratings.pt (movies x users); default: the synthetic tensor.",
        ),
        click.option(
            "--titles",
            type=click.Path(path_type=Path),
            default=None,
            help="titles.csv (default: the lab's file shipped with labgrade).",
        ),
        click.option(
            "--cache-dir",
            type=click.Path(path_type=Path),
            default=None,
            help="Reference cache folder for expectations that do not ship (default: the user's cache folder).",
        ),
        click.option(
            "--device",
            type=click.Choice(DEVICE_CHOICES),
            default=None,
            help="Devices for the reference: cpu, cuda or all present (default: all).",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _config(config_file: Path | None, **overrides: Any) -> Config:
    return load_config(config_file, **overrides)


def _review_spec(spec: Path | None) -> Any:
    return load_spec(_config(None, spec=spec).spec)


_spec_option = click.option("--spec", type=click.Path(path_type=Path), default=None,
                            help="Lab spec: a shipped lab's name or a YAML file (default: lab1).")  # fmt: skip


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="labgrade")
def cli() -> None:
    """Grade and verify the PyTorch matrix-factorisation lab."""


@cli.group()
def spec() -> None:
    """Validate lab specs."""


@spec.command("check")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path), required=True)
def spec_check(paths: tuple[Path, ...]) -> None:
    """Validate each SPEC (a file, or a shipped lab's name such as lab1) and list its questions; exit 2 if invalid."""
    from labgrade.harness.inputs.assets import resolve_spec

    failed = False
    for path in paths:
        try:
            s = load_spec(resolve_spec(path))
        except UserError as exc:
            click.echo(str(exc), err=True)
            failed = True
            continue
        click.echo(f"{path}: valid ({s.id}, {len(s.questions)} questions, {s.total_marks:g} marks)")
        for q in s.questions:
            human = f", {len(q.free_text)} part(s) marked by hand" if q.free_text else ""
            click.echo(f"  {q.id:>5}  {q.marks:g} mark(s)  {q.kind:<8} {q.title}{human}")
    if failed:
        raise SystemExit(ExitCode.USAGE_ERROR)


@cli.group()
def reference() -> None:
    """Build and inspect the reference's expected outputs."""


@reference.command("build")
@data_options
@click.option("--force", is_flag=True, help="Rebuild even when the cache is up to date.")
def reference_build(config_file: Path | None, force: bool, **options: Any) -> None:
    """Compute every experiment's distribution over seeds and cache it with provenance.

    The cache is reused only when its provenance (torch version, devices, spec
    hash, data hashes, seeds, reference code) equals the current one; otherwise it
    is rebuilt automatically.
    """
    from labgrade.reference.expectations import load_datasets, load_expectations, resolve_devices
    from labgrade.reference.summary import summarise

    config = _config(config_file, **options)
    lab = load_spec(config.spec)
    data = load_datasets(lab, config.ratings, config.titles)
    exp = load_expectations(lab, data, resolve_devices(config.device), config.cache_dir, _log, rebuild=force)
    click.echo(summarise(lab, exp, data))


@cli.command("bench")
@click.option(
    "--epochs",
    type=click.IntRange(1),
    default=10,
    show_default=True,
    help="Epochs per timed run (cost per epoch is constant).",
)
@click.option(
    "--seeds", type=click.IntRange(1), default=16, show_default=True, help="Seeds for the many-seed comparison."
)
@click.option(
    "--submissions", type=click.IntRange(0), default=200, show_default=True, help="Generated class size (0: skip)."
)
@click.option("--dask/--no-dask", default=True, show_default=True, help="Also time the Dask path on a LocalCluster.")
def bench(epochs: int, seeds: int, submissions: int, dask: bool) -> None:
    """Measure speed against baselines, side by side, and print the ratios."""
    from labgrade.harness.bench.goals import format_goals
    from labgrade.harness.bench.runs import (
        bench_check,
        bench_grade,
        bench_reference,
        format_check,
        format_grade,
        format_rows,
    )
    from labgrade.harness.bench.suggestions import bench_suggestions, format_suggestions

    root = Path(__file__).resolve().parent.parent
    click.echo(
        format_suggestions(
            bench_suggestions(root / "tests/files/explanations/labelled.yaml", load_spec(_config(None).spec))
        )
    )
    correct = root / "submissions" / "correct.py"
    check = bench_check(correct, 5, _log)
    click.echo(format_check(check))
    grades = bench_grade(correct, (1, 6), 5, _log) + bench_grade(correct, (16,), 3, _log)
    click.echo(format_grade(grades))
    click.echo(format_rows(bench_reference(epochs, seeds, _log), epochs))
    pages, batch = _bench_class(submissions, dask) if submissions else ([], None)
    click.echo(format_goals(check, grades, pages, batch))


def _bench_class(submissions: int, dask: bool) -> tuple[list[PageBench], BatchBench]:
    """A generated class (independent students, planted copies): grading, pages, similarity, each against a baseline.

    Returns the page rows (1, 6, 16 and the whole class) and the local batch row, for the goals table.
    """
    import tempfile

    import torch

    from labgrade.harness.bench.classgen import generate_class
    from labgrade.harness.bench.pages import bench_pages, format_pages
    from labgrade.harness.bench.runs import bench_batch, format_batch, fresh_interpreter_seconds
    from labgrade.harness.bench.similarity import bench_similarity, format_similarity

    torch.set_num_threads(1)  # workers are forked from this process
    baseline = fresh_interpreter_seconds()
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="labgrade-bench-class-") as tmp:
        folder = Path(tmp)
        (folder / "in").mkdir()
        generated = generate_class(folder / "in", submissions)
        rows = [bench_batch(folder / "in", folder / "out", cores, _log, label=f"local, --jobs {cores}")]
        if dask:
            try:
                from distributed import LocalCluster
            except ImportError:
                _log("bench: dask not installed; skipping the cluster path")
            else:
                with LocalCluster(
                    n_workers=cores, threads_per_worker=1, host="127.0.0.1", dashboard_address=None
                ) as cluster:  # type: ignore[no-untyped-call]
                    address = cluster.scheduler_address
                    dask_out = folder / "out-dask"
                    rows.append(bench_batch(folder / "in", dask_out, cores, _log, address, label="dask"))
        click.echo(format_batch(rows, baseline))
        pages = bench_pages(folder / "out", sorted({n for n in (1, 6, 16) if n < submissions} | {submissions}), _log)
        click.echo(format_pages(pages))
        click.echo(format_similarity(bench_similarity(folder / "in", generated, _log)))
    return pages, rows[0]


def _prepare(config: Config, log: Any = _log) -> tuple[Any, Any]:
    """Load the spec, its datasets and the expectations (shipped, cached, or built now)."""
    from labgrade.harness.inputs.lab import load_lab

    return load_lab(config, log)


@cli.command("grade")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Output folder.")
@click.option("--jobs", type=click.IntRange(1), default=None, help="Parallel workers (default: the number of cores).")
@click.option("--force", is_flag=True, help="Regrade submissions whose results are up to date.")
@click.option("--seed", type=int, default=0, show_default=True, help="Harness seed (same seed, same grade).")
@click.option("--unconfined", is_flag=True, help="Grade even where the sandbox cannot confine (said in every result).")
@click.option("--no-pdf", is_flag=True, help="Skip the feedback PDFs and the class summary.")
@click.option(
    "--single", is_flag=True, help="Each PATH is one submission, even a folder of several files (Gradescope)."
)
@click.option("--dask-scheduler", default=None, metavar="tcp://HOST:PORT", help="Grade on a Dask distributed cluster.")
@click.option(
    "--compare-with",
    "compare_with",
    multiple=True,
    type=click.Path(path_type=Path),
    help="A folder of known sources (last year's class, solutions found online) to compare with; never graded.",
)
@data_options
def grade(
    paths: tuple[Path, ...],
    out: Path,
    jobs: int | None,
    force: bool,
    seed: int,
    unconfined: bool,
    no_pdf: bool,
    single: bool,
    dask_scheduler: str | None,
    compare_with: tuple[Path, ...],
    config_file: Path | None,
    **options: Any,
) -> None:
    """Grade submissions (.py, .ipynb, or folders of them) into OUT/<name>/results.json and OUT/gradebook.csv.

    Submissions whose results are already up to date (same content, spec, reference and
    harness) are skipped, so an interrupted batch resumes where it stopped.
    """
    from labgrade.harness.inputs.submission import discover
    from labgrade.harness.untrusted.launch import launch_zygote

    missing = [str(p) for p in paths if not p.exists() and not p.is_symlink()]
    if missing:  # a typo must not look like success in a script: nothing starts, nothing is written
        raise UserError(f"{', '.join(missing)}: no such file or folder")
    not_folders = [str(p) for p in compare_with if not p.is_dir()]
    if not_folders:
        raise UserError(f"--compare-with {', '.join(not_folders)}: expected a folder of known sources")
    config = _config(config_file, **options)
    workers = jobs or os.cpu_count() or 1
    # The zygotes start (fresh interpreters importing torch) before this process imports torch,
    # so the imports overlap, as in `labgrade check`; no more than there are submissions.
    count = 1 if single else max(1, min(workers, len(discover(list(paths), out).submissions)))
    launched = [] if dask_scheduler else [launch_zygote() for _ in range(count)]
    import torch

    from labgrade.harness.judging.grading import GradingOptions
    from labgrade.harness.running.batch import grade_paths
    from labgrade.harness.untrusted.confine import make_undumpable
    from labgrade.harness.untrusted.sandbox import Sandbox

    torch.set_num_threads(1)  # before any torch op: workers are forked from this process
    sandboxes = [Sandbox(None, required=not unconfined).adopt(z) for z in launched]
    try:
        lab, exp = _prepare(config)
        make_undumpable()
        if sandboxes:
            confinement = sandboxes[0].start()
            for sandbox in sandboxes[1:]:
                sandbox.start()
        else:
            probe = Sandbox(lab.limits, required=not unconfined)
            confinement = probe.start()
            probe.close()
    except BaseException:
        for sandbox in sandboxes:
            sandbox.abort()
        raise
    if unconfined and not confinement.complete:
        _log("WARNING: grading unconfined: " + "; ".join(f"{k}: {v}" for k, v in confinement.missing.items()))
    summary = grade_paths(
        list(paths),
        out,
        lab,
        exp,
        GradingOptions(seed=seed, unconfined=unconfined),
        _log,
        jobs=workers,
        force=force,
        single=single,
        dask_scheduler=dask_scheduler,
        sandboxes=sandboxes,
        compare_with=compare_with,
    )
    graded = [o for o in summary.outcomes if o.status in ("graded", "error")]
    if graded and not no_pdf:
        _render_reports([out / o.name / "results.json" for o in graded], out)
    for o in sorted(summary.outcomes, key=lambda o: o.name):
        click.echo(f"{o.name:<32} {o.score:>5.2f} / {o.max_score:g}  {o.status}")
    click.echo(
        f"graded {summary.count('graded')}, errors {summary.count('error')}, up to date "
        f"{summary.count('skipped')}, not submissions {len(summary.ignored)}, internal errors "
        f"{summary.count('internal_error')} in {summary.seconds:.1f} s; gradebook: {summary.gradebook or 'none'}"
    )
    for e in summary.internal_errors:
        _log(e)
    if summary.internal_errors:
        raise SystemExit(ExitCode.INTERNAL_ERROR)


def _render_reports(results: list[Path], out: Path | None) -> None:
    from labgrade.harness.outputs.report import write_many
    from labgrade.harness.outputs.summary import write_summary

    _log(f"rendering {len(results)} feedback PDF(s)")
    write_many(results)
    if out is not None:
        written = write_summary(out)
        if written:
            _log(f"class summary: {written[1]} and {written[0]}")


@cli.command("report")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@_spec_option
def report(paths: tuple[Path, ...], spec: Path | None) -> None:
    """Re-render feedback.pdf from saved results (OUT/<name>/results.json), without regrading.

    Given an output folder, first lays the graders' marks (OUT/reviews.sqlite) over its
    results and rewrites the gradebook, then renders every results.json and the class summary.
    """
    for path in paths:
        if path.is_dir():
            found = sorted(path.glob("*/results.json"))
            if not found:
                raise UserError(f"{path}: no */results.json in this folder")
            from labgrade.harness.review.apply import write_reviewed

            applied = write_reviewed(path, _review_spec(spec))
            _log(f"review: {applied.reviewed} part(s) marked, {applied.pending} pending, {applied.again} to re-review")
            _render_reports(found, path)
        else:
            from labgrade.harness.outputs.report import write_feedback

            click.echo(str(write_feedback(path)))


class _ReviewGroup(click.Group):
    """``labgrade review OUT`` serves the page; ``labgrade review export|import ...`` are its other commands."""

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["serve", *args]
        return super().resolve_command(ctx, args)


@cli.group("review", cls=_ReviewGroup)
def review() -> None:
    """Mark the parts a person marks: `labgrade review OUT` serves a local page; export and import CSV."""


@review.command("serve")
@click.argument("out", type=click.Path(path_type=Path, file_okay=False))
@click.option("--port", type=int, default=0, help="Port on 127.0.0.1 (default: a free one).")
@click.option("--grader", default=None, help="Your name on the marks you save (default: $USER).")
@click.option("--rubric-diff", is_flag=True, help="Print each mark a rubric change moves, then stop.")
@_spec_option
def review_serve(out: Path, port: int, grader: str | None, rubric_diff: bool, spec: Path | None) -> None:
    """Serve the review page for OUT on 127.0.0.1, with a token in its URL."""
    lab = _review_spec(spec)
    if not any(out.glob("*/results.json")):
        raise UserError(f"{out}: no */results.json here (grade the class into it first)")
    if rubric_diff:
        from labgrade.harness.review.exchange import rubric_diff as diff

        lines = diff(out, lab)
        click.echo("\n".join(lines) if lines else "no mark changes under the current rubric")
        return
    from labgrade.harness.review.serve import serve

    serve(out, lab, port, grader or os.environ.get("USER") or "grader", _log)


@review.command("export")
@click.argument("out", type=click.Path(path_type=Path, file_okay=False))
@click.argument("csv_path", type=click.Path(path_type=Path, dir_okay=False))
def review_export(out: Path, csv_path: Path) -> None:
    """Write every current mark of OUT to a CSV (question, submission, items, adjustment, comment, grader)."""
    from labgrade.harness.review.exchange import export_csv

    click.echo(f"{export_csv(out, csv_path)} mark(s) written to {csv_path}")


@review.command("import")
@click.argument("out", type=click.Path(path_type=Path, file_okay=False))
@click.argument("csv_path", type=click.Path(path_type=Path, dir_okay=False))
@_spec_option
def review_import(out: Path, csv_path: Path, spec: Path | None) -> None:
    """Save the marks of a CSV into OUT's review log: every row checked first, all or nothing."""
    from labgrade.harness.review.exchange import import_csv

    changed = import_csv(out, csv_path, _review_spec(spec))
    click.echo(f"{changed} mark(s) saved from {csv_path}; run `labgrade report {out}` to write them out")


@cli.command("gradescope-bundle")
@click.argument("zip_path", type=click.Path(path_type=Path))
@data_options
def gradescope_bundle(zip_path: Path, config_file: Path | None, **options: Any) -> None:
    """Write a Gradescope autograder zip (setup.sh, run_autograder, labgrade, spec, reference cache)."""
    from labgrade.harness.outputs.gradescope import build_bundle

    click.echo(str(build_bundle(zip_path, _config(config_file, **options))))


@cli.command("check")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--seed", type=int, default=0, show_default=True, help="Harness seed.")
@data_options
def check(path: Path, seed: int, config_file: Path | None, **options: Any) -> None:
    """Self-check one submission before handing it in: visible checks, with hints. Exit 0 when all pass."""
    from labgrade.harness.inputs.submission import is_submission, load_submission

    if not is_submission(path):
        raise UserError(f"{path}: not a submission (.py, .ipynb, or a folder holding one)")
    config = _config(config_file, **options)
    from labgrade.harness.untrusted.launch import launch_zygote

    launched = launch_zygote()  # before this process imports torch: the two start-ups overlap
    from labgrade.harness.selfcheck import self_check

    report = self_check(lambda spec: load_submission(path, spec), config, seed, log=_log, launched=launched)
    click.echo(report.check_text())
    if not all(q.passed for q in report.questions):
        raise SystemExit(ExitCode.CHECKS_FAILED)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; map user errors to exit 2 and internal errors to exit 3."""
    try:
        cli.main(args=argv, prog_name="labgrade", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return ExitCode.USAGE_ERROR
    except click.ClickException as exc:
        exc.show()
        return ExitCode.USAGE_ERROR
    except UserError as exc:
        click.echo(f"labgrade: error: {exc}", err=True)
        return ExitCode.USAGE_ERROR
    except SystemExit as exc:
        return int(exc.code or 0) if not isinstance(exc.code, str) else ExitCode.USAGE_ERROR
    except Exception:
        click.echo("labgrade: internal error (a bug in labgrade; please report it):", err=True)
        traceback.print_exc(file=sys.stderr)
        return ExitCode.INTERNAL_ERROR
    return ExitCode.OK


def entry_point() -> None:
    """Console-script entry: exit with :func:`main`'s code, without tearing torch or WeasyPrint down."""
    code = main()
    if "torch" in sys.modules or "weasyprint" in sys.modules:
        _exit_now(code)
    sys.exit(code)


def _exit_now(code: int) -> NoReturn:
    """End the process once its work is done, skipping the interpreter's teardown.

    Why: after the last result is written, tearing down an interpreter that
    imported torch takes about 0.35 s (``python -c "import torch"`` takes 1.35 s,
    1.0 s with ``os._exit``): a third of what labgrade adds to grading one
    submission.  Nothing is lost by skipping it: every output is written
    atomically and closed before the command returns, the exit handlers
    (multiprocessing's, temporary folders') still run here, and the streams are
    flushed.  The zygote and its children die with this process, as always.
    """
    import atexit
    import contextlib

    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe (`labgrade ... | head`): nothing to say
            stream.flush()
    os._exit(code)
