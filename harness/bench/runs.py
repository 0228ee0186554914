"""``make bench``: measured ratios against a baseline, side by side, from one run.

Timings on shared machines are noisy, so nothing here is a pass/fail test: the
benchmark prints the baseline and the candidate measured in the same process on
the same data, and the ratio between them.  Per-epoch times are reported because
both the lab's dense loop and the fast path cost the same for every epoch; a few
epochs measure them as well as a thousand would.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TypeVar

import torch

from labgrade.harness.bench import LABGRADE
from labgrade.harness.errors import ExitCode
from labgrade.reference.algorithms import gd_factorise_masked
from labgrade.reference.fast_gd import FastResult, gd_factorise_masked_fast, to_csr
from labgrade.reference.synthetic import synthetic_ratings

T = TypeVar("T")


@dataclass(frozen=True)
class BenchRow:
    """One comparison: what was timed, the baseline and candidate seconds, and agreement."""

    name: str
    baseline_s: float
    candidate_s: float
    max_rel_diff: float

    @property
    def speedup(self) -> float:
        """How many times faster the candidate is."""
        return self.baseline_s / self.candidate_s


def rel_diff(a: torch.Tensor, b: torch.Tensor) -> float:
    """Largest absolute difference relative to the largest magnitude of ``b``."""
    a64, b64 = a.double(), b.double()
    return float((a64 - b64).abs().max() / b64.abs().max().clamp_min(1e-30))


def _timed(fn: Callable[[], T]) -> tuple[float, T]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def bench_reference(epochs: int, seeds: int, log: Callable[[str], None]) -> list[BenchRow]:
    """Time the fast Netflix path against the lab's dense loop on the synthetic tensor.

    The dense baseline runs with one torch thread (as the lab's figure of 119-137 ms
    per epoch was measured); the fast path uses every core it is given.
    """
    A = synthetic_ratings()
    M = (A > 0).to(torch.float32)
    csr = to_csr(A, M)
    rank = 5
    log("bench: compiling the fast path (not timed)")
    gd_factorise_masked_fast(csr, rank, [0], num_epochs=1)

    def dense(count: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
        out = []
        for seed in range(count):
            torch.manual_seed(seed)
            out.append(gd_factorise_masked(A, M, rank, num_epochs=epochs))
        return out

    def fast(count: int) -> FastResult:
        return gd_factorise_masked_fast(csr, rank, range(count), num_epochs=epochs)

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    rows = []
    try:
        for count in (1, seeds):
            log(f"bench: dense loop, {count} seed(s) x {epochs} epochs")
            t_dense, dense_out = _timed(partial(dense, count))
            log(f"bench: fast path, {count} seed(s) x {epochs} epochs")
            t_fast, fast_out = _timed(partial(fast, count))
            worst = max(
                max(rel_diff(fast_out.U[seed], U), rel_diff(fast_out.V[seed], V))
                for seed, (U, V) in enumerate(dense_out)
            )
            rows.append(BenchRow(f"netflix gd, {count} seed(s)", t_dense, t_fast, worst))
    finally:
        torch.set_num_threads(previous)
    return rows


_FLOOR = """
import sys, torch
namespace = {{}}
exec(compile(open(sys.argv[1]).read(), sys.argv[1], "exec"), namespace)
for name, args in {calls!r}:
    namespace[name](*[torch.tensor(a) if isinstance(a, list) else a for a in args])
"""


@dataclass(frozen=True)
class CheckBench:
    """``labgrade check`` on one file against its floor: an interpreter that imports torch and calls each function."""

    floor_s: float
    check_s: float
    output: str
    paired: float  # the median of each round's check / floor

    @property
    def ratio(self) -> float:
        """How many floors the check costs, round by round (the goal is at most 1.3)."""
        return self.paired


def _in_turn(
    commands: dict[str, list[str]], cwd: Path, repeats: int, ok: tuple[int, ...] = (0,)
) -> tuple[dict[str, float], str, float]:
    """Each command's median wall time over ``repeats`` runs, A B A B, after one run of each not counted.

    Returns the medians, the last command's output, and the median over the rounds
    of the last command's time to the first's: pairing keeps the ratio meaningful
    when the machine's speed drifts between rounds (a shared machine's does, by
    tens of per cent), which a ratio of medians does not.  A run that exits with a
    code not in ``ok`` raises (a time that failed measures nothing).
    """
    import statistics
    import subprocess

    times: dict[str, list[float]] = {name: [] for name in commands}
    output = ""
    for round_ in range(repeats + 1):
        for name, command in commands.items():
            started = time.perf_counter()
            done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
            if round_:  # the first round warms the folder and the page cache
                times[name].append(time.perf_counter() - started)
            if done.returncode not in ok:
                raise RuntimeError(f"bench: {name} failed ({done.returncode}): {done.stderr[-500:]}")
            output = done.stdout + done.stderr
    first, last = times[next(iter(times))], times[list(times)[-1]]
    paired = statistics.median(b / a for a, b in zip(first, last, strict=True))
    return {name: statistics.median(t) for name, t in times.items()}, output, paired


def bench_check(source: Path, repeats: int, log: Callable[[str], None]) -> CheckBench:
    """Time ``labgrade check`` on ``source`` (the shipped lab) and its floor, in turn, each the median of ``repeats``.

    Both run as a student runs them, in a fresh folder: the floor is ``python``
    importing torch and calling each of the lab's functions once with the lab's
    arguments; the check is the ``labgrade check`` command with every layer.
    """
    import shutil
    import sys
    import tempfile

    with tempfile.TemporaryDirectory(prefix="labgrade-bench-check-") as tmp:
        folder = Path(tmp)
        shutil.copy(source, folder / "lab1.py")
        (folder / "floor.py").write_text(_FLOOR.format(calls=_lab_calls()))
        log(f"bench: labgrade check lab1.py and its floor (python, import torch, each function once), {repeats} runs")
        commands = {"floor": [sys.executable, "floor.py", "lab1.py"], "check": [*LABGRADE, "check", "lab1.py"]}
        # `check` exits 1 when a check fails: the lab file has no answers.yaml, so 1.2-4.1 do
        medians, output, paired = _in_turn(commands, folder, repeats, ok=(ExitCode.OK, ExitCode.CHECKS_FAILED))
    return CheckBench(medians["floor"], medians["check"], output, paired)


@dataclass(frozen=True)
class GradeBench:
    """``labgrade grade`` of ``count`` correct submissions against its floor, each a median of paired runs."""

    count: int
    floor_s: float
    grade_s: float
    paired: float  # the median of each round's grade / floor

    @property
    def ratio(self) -> float:
        """How many floors grading costs, round by round (the goal is at most 1.3)."""
        return self.paired


def bench_grade(source: Path, counts: tuple[int, ...], repeats: int, log: Callable[[str], None]) -> list[GradeBench]:
    """Time ``labgrade grade --no-pdf --jobs 1 --force`` of N copies of ``source`` against its floor, run in turn.

    The floor is one ``python`` that imports torch and calls each of the lab's functions
    once per submission (what grading must at least do).
    """
    import shutil
    import sys
    import tempfile

    calls = _lab_calls()
    rows = []
    for count in counts:
        with tempfile.TemporaryDirectory(prefix="labgrade-bench-grade-") as tmp:
            folder = Path(tmp)
            (folder / "subs").mkdir()
            for i in range(count):
                shutil.copy(source, folder / "subs" / f"s{i:03d}.py")
            (folder / "floor.py").write_text(_FLOOR.format(calls=calls * count))
            commands = {
                "floor": [sys.executable, "floor.py", str(source)],
                "grade": [*LABGRADE, "grade", "subs", "--out", "out", "--no-pdf", "--jobs", "1", "--force"],
            }
            log(f"bench: labgrade grade of {count} submission(s) and its floor, {repeats} runs each, in turn")
            medians, _, paired = _in_turn(commands, folder, repeats)
            rows.append(GradeBench(count, medians["floor"], medians["grade"], paired))
    return rows


def format_grade(rows: list[GradeBench]) -> str:
    """Grading a small class against its floor, one row per class size."""
    lines = ["labgrade grade of N correct submissions, --no-pdf --jobs 1 (medians, in turn with the floor;"
             " ratio: the median of each round's)",
             f"  {'N':>4} {'floor':>8} {'grade':>8} {'ratio':>7}"]  # fmt: skip
    lines += [f"  {r.count:>4} {r.floor_s:>7.2f}s {r.grade_s:>7.2f}s {r.ratio:>6.2f}x" for r in rows]
    lines.append("  floor: one python that imports torch and calls each function once per submission (goal <= 1.3x)")
    return "\n".join(lines)


def _lab_calls() -> list[tuple[str, list[object]]]:
    """The lab's function calls with its arguments, as plain data (for a floor script)."""
    from labgrade.harness.inputs.config import load_config
    from labgrade.harness.inputs.spec import load_spec

    spec = load_spec(load_config(None).spec)
    calls: list[tuple[str, list[object]]] = []
    for q in spec.questions:
        if q.function is None or q.experiment is None:
            continue
        exp = spec.experiments[q.experiment]
        args: list[object] = [
            [list(row) for row in spec.inputs[v].matrix or ()] if isinstance(v, str) and v in spec.inputs else v
            for v in exp.args.values()
        ]
        calls.append((q.function.name, args))
    return calls


def format_check(row: CheckBench) -> str:
    """The check against its floor, in one table."""
    return "\n".join(
        [
            "labgrade check on a correct lab file (medians, in turn with the floor, from a fresh folder;"
            " ratio: the median of each round's)",
            f"  floor: python + import torch + each function once   {row.floor_s:6.2f} s",
            f"  labgrade check (every layer, same marks as grade)   {row.check_s:6.2f} s",
            f"  ratio                                               {row.ratio:6.2f}x   (goal <= 1.3x)",
        ]
    )


def format_rows(rows: list[BenchRow], epochs: int, unit: str = "ms/ep") -> str:
    """A side-by-side table of baseline and candidate with the ratio (times per ``unit``)."""
    lines = [
        f"{'benchmark':<32} {'baseline':>{9 + len(unit)}} {'candidate':>{9 + len(unit)}} {'speed-up':>9} "
        f"{'max rel diff':>13}",
    ]
    for r in rows:
        lines.append(
            f"{r.name:<32} {1000 * r.baseline_s / epochs:>8.1f} {unit} {1000 * r.candidate_s / epochs:>8.1f}"
            f" {unit} {r.speedup:>8.1f}x {r.max_rel_diff:>13.2e}"
        )
    return "\n".join(lines)


# --- batch grading -------------------------------------------------------------------------------


def fresh_interpreter_seconds(repeats: int = 5) -> float:
    """The baseline's cost per submission: a new Python that imports torch (as a new kernel does)."""
    import subprocess
    import sys

    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import torch; torch.zeros(1)"], check=True)
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


# The call plan before issue 13: every function ran its three seeds, ``lr=0`` and (masked) the
# changed-mask probe at full length, plus ``num_epochs=0``.
OLD_PLAN_FULL_CALLS = 4


def old_plan_seconds(call_seconds: dict[str, dict[str, float]]) -> float:
    """What the old call plan would have spent on one submission, from this run's own full-length calls."""
    total = 0.0
    for calls in call_seconds.values():
        full = [s for label, s in calls.items() if label.startswith("default@")]  # one per seed run
        if full:
            mean = sum(full) / len(full)
            total += mean * (OLD_PLAN_FULL_CALLS + ("mask_changed" in calls)) + calls.get("epochs0", 0.0)
    return total


@dataclass(frozen=True)
class BatchBench:
    """One batch run: wall time, the students' own compute, and the derived figures."""

    label: str
    submissions: int
    wall_s: float
    student_s: float
    cores: int
    setup_s: float = 0.0  # spec, reference and sandboxes (these start while the reference loads), not in wall
    old_plan_s: float = 0.0  # the students' compute under the old call plan (from this run's full calls)

    @property
    def floor_s(self) -> float:
        """The compute floor: the student functions' own time divided by the cores."""
        return self.student_s / self.cores

    @property
    def old_floor_s(self) -> float:
        """The old call plan's compute floor: what grading could at best take before issue 13."""
        return self.old_plan_s / self.cores

    @property
    def overhead_per_submission_s(self) -> float:
        """Engine time per submission beyond the students' own compute (all cores counted)."""
        return max(self.wall_s * self.cores - self.student_s, 0.0) / self.submissions


def bench_batch(
    inputs: Path,
    out: Path,
    jobs: int,
    log: Callable[[str], None],
    dask_scheduler: str | None = None,
    label: str = "local",
) -> BatchBench:
    """Grade the submissions in ``inputs`` into ``out`` with ``jobs`` workers (or on a Dask cluster); time it.

    As in ``labgrade grade``, the sandboxes are launched first and start while the
    spec and reference load; that set-up is timed and reported on its own, the batch
    (``grade_paths``: workers, sandboxes in use, grading, results, gradebook) is ``wall``.
    """
    import json

    from labgrade.harness.inputs.config import load_config
    from labgrade.harness.inputs.lab import load_lab
    from labgrade.harness.judging.grading import GradingOptions
    from labgrade.harness.running.batch import grade_paths, launch_sandboxes

    setup_started = time.perf_counter()
    sandboxes = [] if dask_scheduler else launch_sandboxes(jobs, required=True)  # as `labgrade grade` does
    spec, expectations = load_lab(load_config(None, device="cpu"), log)
    for sandbox in sandboxes:
        sandbox.start()
    setup = time.perf_counter() - setup_started
    count = sum(1 for _ in inputs.iterdir())
    log(f"bench: grading {count} generated submissions ({label}, {jobs} worker(s))")
    start = time.perf_counter()
    grade_paths(
        [inputs], out, spec, expectations, GradingOptions(), lambda _m: None,
        jobs=jobs, dask_scheduler=dask_scheduler, sandboxes=sandboxes,
    )  # fmt: skip
    wall = time.perf_counter() - start
    student = old = 0.0
    for path in out.glob("*/results.json"):
        meta = json.loads(path.read_text())["extra_data"]["labgrade"]
        student += float(meta.get("student_seconds", 0))
        old += old_plan_seconds(meta.get("call_seconds", {}))
    return BatchBench(label, count, wall, student, jobs, setup, old)


def format_batch(rows: list[BatchBench], baseline_s: float) -> str:
    """The batch figures side by side with their baselines: the old plan's floor, and a fresh interpreter."""
    lines = [
        f"{'batch':<28} {'set-up':>7} {'wall':>8} {'floor':>8} {'old floor':>10} {'wall/old':>9} "
        f"{'wall/floor':>11} {'overhead/sub':>13} {'fresh python/sub':>17} {'ratio':>7}"
    ]
    for r in rows:
        ratio = baseline_s / r.overhead_per_submission_s if r.overhead_per_submission_s else float("inf")
        lines.append(
            f"{r.label + f' ({r.submissions} subs)':<28} {r.setup_s:>6.1f}s {r.wall_s:>7.1f}s {r.floor_s:>7.1f}s "
            f"{r.old_floor_s:>9.1f}s {r.wall_s / max(r.old_floor_s, 1e-9):>8.2f}x "
            f"{r.wall_s / max(r.floor_s, 1e-9):>10.2f}x {1000 * r.overhead_per_submission_s:>10.0f} ms "
            f"{1000 * baseline_s:>14.0f} ms {ratio:>6.1f}x"
        )
    lines.append(
        "  old floor: the students' compute under the call plan before issue 13 (3 seeds, lr=0 and the mask"
        " probe at full length), from this run's own full-length calls, divided by the cores"
    )
    return "\n".join(lines)
