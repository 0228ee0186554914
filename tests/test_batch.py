"""Does batch grading stay correct in parallel, resume after a kill, and refuse a second writer?"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from labgrade.harness.running.batch import output_lock
from tests.conftest import CACHE_DIR, ROOT, comparable_results

SUBMISSIONS = ROOT / "submissions"
LABGRADE = Path(sys.executable).parent / "labgrade"
PICK = ["correct.py", "transposed-v.py", "ignores-lr.py", "svd-not-sgd.py", "syntax-error.py", "init-randn.py"]


@pytest.fixture
def klass(tmp_path: Path) -> Path:
    folder = tmp_path / "class"
    folder.mkdir()
    for name in PICK:
        shutil.copy(SUBMISSIONS / name, folder / name)
    return folder


def test_parallel_results_equal_sequential_ones(run_cli, klass: Path, tmp_path: Path) -> None:
    args = ["--cache-dir", str(CACHE_DIR), "--no-pdf"]
    one = run_cli("grade", str(klass), "--out", str(tmp_path / "one"), "--jobs", "1", *args)
    two = run_cli("grade", str(klass), "--out", str(tmp_path / "two"), "--jobs", "2", *args)
    assert one.code == two.code == 0, one.err + two.err
    assert comparable_results(tmp_path / "one", ("source",)) == comparable_results(tmp_path / "two", ("source",))
    assert (tmp_path / "one" / "gradebook.csv").read_text() == (tmp_path / "two" / "gradebook.csv").read_text()
    assert "progress: graded 6/6" in two.err  # plain progress lines when not on a terminal


def test_resume_skips_up_to_date_results_and_force_regrades(run_cli, klass: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = ["grade", str(klass), "--out", str(out), "--cache-dir", str(CACHE_DIR), "--no-pdf"]
    assert run_cli(*args).code == 0
    stamps = {p: p.stat().st_mtime_ns for p in out.glob("*/results.json")}
    again = run_cli(*args)
    assert "up to date 6" in again.out
    assert stamps == {p: p.stat().st_mtime_ns for p in out.glob("*/results.json")}
    (klass / "correct.py").write_text((SUBMISSIONS / "transposed-v.py").read_text())  # a resubmission
    changed = run_cli(*args)
    assert "graded 1" in changed.out and "up to date 5" in changed.out
    forced = run_cli(*args, "--force")
    assert "graded 5, errors 1, up to date 0" in forced.out


def test_a_second_batch_on_the_same_output_is_refused(run_cli, klass: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    with output_lock(out):
        result = run_cli("grade", str(klass), "--out", str(out), "--cache-dir", str(CACHE_DIR), "--no-pdf")
    assert result.code == 2
    assert f"another `labgrade grade` (pid {os.getpid()}) is writing here" in result.err


def _zygotes() -> set[int]:
    """This checkout's zygotes (another checkout's test run on the machine is not counted)."""
    pids = set()
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmdline = (proc / "cmdline").read_bytes()
                if b"labgrade.harness.untrusted.zygote" in cmdline and sys.executable.encode() in cmdline:
                    pids.add(int(proc.name))
            except OSError:
                continue
    return pids


@pytest.mark.slow
def test_killed_batch_resumes_with_every_submission_graded_once(klass: Path, tmp_path: Path) -> None:
    """SIGKILL halfway, rerun: all graded exactly once, gradebook complete, nothing half-written or left running."""
    out = tmp_path / "out"
    before = _zygotes()
    private_tmp = tmp_path / "tmp"  # the batch's and its sandboxes' temporary folders go here
    private_tmp.mkdir()
    env = {**os.environ, "TMPDIR": str(private_tmp)}
    command = [str(LABGRADE), "grade", str(klass), "--out", str(out), "--cache-dir", str(CACHE_DIR)]
    command += ["--jobs", "2", "--no-pdf"]
    batch = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    deadline = time.monotonic() + 120
    while len(list(out.glob("*/results.json"))) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    batch.send_signal(signal.SIGKILL)
    batch.wait()
    first = {p.parent.name: p.stat().st_mtime_ns for p in out.glob("*/results.json")}
    assert 2 <= len(first) < len(PICK), "the kill should land halfway"
    settled = time.monotonic() + 10  # the orphans die on their parent's death and clean up: give a loaded machine time
    while (not _zygotes() <= before or list(private_tmp.iterdir())) and time.monotonic() < settled:
        time.sleep(0.1)
    assert _zygotes() <= before, "a worker's sandbox outlived the killed batch"
    assert list(private_tmp.iterdir()) == [], "a killed sandbox left its folder"
    rerun = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert f"up to date {len(first)}" in rerun.stdout
    pending = {Path(name).stem for name in PICK} - set(first)
    errors = 1 if "syntax-error" in pending else 0  # the one that cannot load is an error, graded or not
    assert f"graded {len(pending) - errors}, errors {errors}" in rerun.stdout
    after = {p.parent.name: p.stat().st_mtime_ns for p in out.glob("*/results.json")}
    assert len(after) == len(PICK)
    assert all(after[name] == stamp for name, stamp in first.items())  # not graded twice
    rows = (out / "gradebook.csv").read_text().splitlines()
    assert len(rows) == 1 + len(PICK)
    assert not list(out.rglob("*.tmp"))


def test_prestarted_sandboxes_are_adopted_topped_up_and_all_reaped(klass: Path, tmp_path: Path, lab) -> None:
    """Workers take the sandboxes launched while the reference loaded; fewer than workers are topped up."""
    from labgrade.harness.judging.grading import GradingOptions
    from labgrade.harness.running.batch import grade_paths, launch_sandboxes

    spec, expectations = lab
    before = _zygotes()
    sandboxes = launch_sandboxes(1, required=True)
    summary = grade_paths(
        [klass], tmp_path / "pre", spec, expectations, GradingOptions(), lambda _m: None, jobs=2, sandboxes=sandboxes
    )
    assert summary.internal_errors == () and len(summary.outcomes) == len(PICK)
    plain = grade_paths([klass], tmp_path / "plain", spec, expectations, GradingOptions(), lambda _m: None, jobs=2)
    assert plain.internal_errors == ()
    assert comparable_results(tmp_path / "pre") == comparable_results(tmp_path / "plain")
    assert _zygotes() <= before


@pytest.mark.slow
def test_the_bench_times_grading_a_small_class_against_its_floor() -> None:
    """`make bench` grades N correct submissions and its floor in turn, and a failed run is an error, not a time."""
    from labgrade.harness.bench.runs import bench_grade, format_grade

    rows = bench_grade(ROOT / "submissions" / "correct.py", (1, 2), 1, lambda _: None)
    assert [r.count for r in rows] == [1, 2] and all(r.floor_s > 0 and r.grade_s > 0 for r in rows)
    assert "goal <= 1.3x" in format_grade(rows)


@pytest.mark.slow
def test_the_bench_times_report_pages_against_plain_pages_of_the_same_text(tmp_path: Path) -> None:
    """`make bench` runs `labgrade report` of the first N results and its floor; the goals table shows each N."""
    from labgrade.harness.bench.goals import format_goals
    from labgrade.harness.bench.pages import bench_pages, format_pages
    from labgrade.harness.bench.runs import CheckBench, GradeBench
    from tests.conftest import cli

    (tmp_path / "in").mkdir()
    for name in ("correct.py", "loops-over-rank"):
        source = ROOT / "submissions" / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, tmp_path / "in" / name)
    assert cli("grade", str(tmp_path / "in"), "--out", str(tmp_path / "out"), "--no-pdf", "--cache-dir",
               str(CACHE_DIR)).code == 0  # fmt: skip
    rows = bench_pages(tmp_path / "out", [1, 2], lambda _: None)
    assert [r.reports for r in rows] == [1, 2]
    assert all(r.report_cpu_s > 0 and r.paragraph_cpu_s > 0 and r.lines_cpu_s > 0 for r in rows)
    assert all(r.layouts == 1 for r in rows)
    assert "goal <= 1.5x" in format_pages(rows)
    goals = format_goals(CheckBench(1.0, 1.2, "", 1.2), [GradeBench(1, 1.0, 1.5, 1.5)], rows, None)
    assert "1.20x ok" in goals and "1.50x over" in goals and "x paragraph)" in goals and len(goals.splitlines()) == 5


def test_the_output_folder_inside_the_class_folder_is_never_graded(tmp_path: Path) -> None:
    """`labgrade grade . --out out`, run twice: the second run must not grade out/ (its PDFs) as a report."""
    from tests.conftest import cli

    shutil.copy(ROOT / "submissions" / "correct.py", tmp_path / "alice.py")
    args = ("grade", str(tmp_path), "--out", str(tmp_path / "out"), "--cache-dir", str(CACHE_DIR))
    assert cli(*args).code == 0
    again = cli(*args, "--force")
    assert again.code == 0 and "graded 1," in again.out and "not submissions 1" in again.out
    names = [line.split(",")[0] for line in (tmp_path / "out" / "gradebook.csv").read_text().splitlines()[1:]]
    assert names == ["alice"]
