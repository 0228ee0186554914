"""The red-team catalogue: every hostile or broken submission in ``submissions/hostile/`` is contained.

The whole catalogue is graded as one class, with ``--jobs 2`` and a bystander (the
correct submission) among it, through :func:`labgrade.harness.running.batch.grade_paths`, the
function ``labgrade grade`` runs.  Then, for every case: the batch finished, the
case got a verdict naming what happened (``CATALOGUE``), nothing escaped, the
bystander's result equals its result graded alone, no file outside the output
folder changed, no connection reached the port the test listens on, and no
process is left running.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT, comparable_results

HOSTILE = ROOT / "submissions" / "hostile"
LIMIT = r"time limit|CPU limit"

# Each case (a file or folder in submissions/hostile/, by output name) -> {question: what its feedback must say}.
CATALOGUE: dict[str, dict[str, str]] = {
    # resources
    "infinite-loop": {"1.1": LIMIT, "3.1": "`sgd_factorise_masked` is not defined"},
    "sleep-loop": {"1.1": "time limit", "3.1": "time limit"},
    "ignores-sigterm-and-sigxcpu": {"1.1": LIMIT},
    "memory-bomb": {"1.1": r"memory limit", "3.1": r"memory limit"},
    "fork-flood": {"1.1": "outside the band|never changes|differ"},
    "lingering-thread": {"1.1": r"\[PASS\] diagnose", "3.1": r"\[PASS\] diagnose"},
    "big-file": {"1.1": "File too large|file size limit|No space left", "3.1": "Permission denied|PermissionError"},
    "prints-a-flood": {"1.1": ".", "*": r"printed \d+ bytes while graded \(ignored\)"},
    # exits and crashes
    "exits-at-import": {"1.1": r"exited while loading your file: do not call exit\(\) or os._exit\(\) outside"},
    "sys-exit-at-import": {"1.1": "raised SystemExit: bye from the decorator"},
    "system-exit-at-import": {"1.1": "passed|result", "3.1": "passed|result"},
    "exits-inside-call": {"1.1": r"do not call exit\(\)", "3.1": "raised SystemExit: bye"},
    "interrupts-inside-call": {"1.1": "raised SystemExit", "3.1": "raised KeyboardInterrupt"},
    "segfault": {"1.1": r"crashed while running your function \(SIGSEGV\)"},
    "first-function-hangs": {"1.1": LIMIT},
    "second-function-crashes": {"3.1": r"\(SIGSEGV\)"},
    "kills-the-grader": {"1.1": "outside the band|never changes|differ"},
    # network and files
    "network": {"1.1": "raised PermissionError", "3.1": "raised (gaierror|PermissionError|OSError)"},
    "reads-secrets": {"1.1": "raised RuntimeError: contained", "3.1": "raised RuntimeError: contained"},
    "writes-everywhere": {"1.1": "raised RuntimeError: contained", "3.1": "raised RuntimeError: contained"},
    # forging
    "monkeypatches": {"1.1": "outside the band|never changes|differ"},
    "tensor-tricks": {"1.1": "tensor subclass Perfect", "3.1": "tensor subclass Perfect"},
    "forged-tensor": {"1.1": "tensor subclass Liar", "3.1": "NaN or infinite|shape"},
    "odd-tensors": {"1.1": "NaN or infinite|0-dim|shape", "3.1": r"tensor of shape \(1000000000,\) \(too large\)"},
    "forges-frames": {"1.1": "the result stream holds data the harness did not write"},
    "zero-dim-tensors": {"1.1": r"a single number \(a 0-dimensional tensor\); expected shape \(3, 2\)"},
    "lying-signature": {
        "1.1": r"`sgd_factorise` is set by top-level code that grading does not run \(.*line 19: sgd_factorise = Trap",
        "3.1": r"\[PASS\] result",
    },
    # broken inputs
    "tab-error": {"1.1": "TabError|indentation"},
    "non-utf8": {"1.1": r"non-utf8.py: not UTF-8 text \(byte \d+\)"},
    "empty": {"1.1": "empty.py is empty"},
    "not-json": {"1.1": "not-json.ipynb: not a readable notebook"},
    "no-code-cells": {"1.1": "no-code-cells.ipynb: the notebook has no code cells"},
    "two-candidates": {"1.1": "expected exactly one .py or .ipynb file in the folder, found lab1.py, lab1_old.py"},
    "symlink-to-passwd": {"1.1": "lab1.py: a symbolic link, not a file; it was not followed"},
    "name_with_spaces_quotes_and_umlauts": {"1.1": r"\[PASS\] diagnose"},
    "huge-source": {"1.1": "huge-source.py is larger than 2 MiB"},
    "deep-expression": {"1.1": r"deep-expression.py, line 4: an expression is nested too deeply"},
    "yaml-bomb": {
        "1.1": r"\[PASS\] diagnose",
        "1.2": r"no answer for 1.2: answers.yaml \(line 3\): not valid YAML: aliases \(\*a\) are not allowed",
    },
}
# Cases that are correct code in a hostile costume: they must get full marks for these questions.
FULL_MARKS = {
    "lingering-thread": ("1.1", "3.1"),
    "second-function-crashes": ("1.1",),
    "first-function-hangs": ("3.1",),
    "name_with_spaces_quotes_and_umlauts": ("1.1", "3.1"),
}
PORTS = range(47600, 47610)  # network.py connects to each; the test listens on one


@dataclass
class RedTeamRun:
    """What grading the catalogue produced, and what the test saw around it."""

    out: Path
    alone: Path
    seconds: float
    summary: object
    accepted: list[object]
    changed_outside: list[str]
    left_running: list[str]
    left_folders: list[str]


def _snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """Size and mtime of every file under ``root`` that grading must not touch."""
    skip = {".venv", ".git", ".mypy_cache", ".ruff_cache", ".pytest_cache", "__pycache__", "out"}
    found = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in skip]
        for name in filenames:
            path = Path(dirpath) / name
            try:
                st = path.lstat()
            except OSError:
                continue
            found[str(path)] = (st.st_size, st.st_mtime_ns)
    return found


def _outside_paths() -> list[Path]:
    """Where writes-everywhere.py and big-file.py try to leave files."""
    home = Path.home()
    return [
        *(Path(p) / n for p in (home, "/tmp", "/var/tmp", "/dev/shm") for n in ("results.json", "gradebook.csv")),
        *(Path(p) / "labgrade-pwned.txt" for p in (home, "/tmp", "/var/tmp", "/dev/shm")),
        Path("/tmp/labgrade-big.bin"),
    ]


def _sandbox_processes() -> list[str]:
    """This checkout's sandbox processes still alive: a zygote or a child of one (same command line),
    or anything working in a sandbox folder; another checkout's test run on the machine is not counted."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            cwd = os.readlink(proc / "cwd")
        except OSError:
            continue
        if sys.executable not in cmdline:
            continue
        if "labgrade.harness.untrusted.zygote" in cmdline or "labgrade-sandbox-" in cwd or "labgrade-zygote-" in cwd:
            found.append(f"{proc.name}: {cmdline[:80]} (in {cwd})")
    return found


def _listen() -> tuple[socket.socket, list[object], threading.Event]:
    server = socket.socket()
    for port in PORTS:
        try:
            server.bind(("127.0.0.1", port))
            break
        except OSError:
            continue
    else:
        pytest.skip("no free port in 47600-47609 to listen on")
    server.listen(16)
    server.settimeout(0.2)
    accepted: list[object] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                accepted.append(server.accept())
            except OSError:
                continue

    threading.Thread(target=accept, daemon=True).start()
    return server, accepted, stop


@pytest.fixture(scope="module")
def red_team(tmp_path_factory, fast_limits_spec, lab) -> RedTeamRun:
    """Grade the catalogue (plus a 50 MB source and a bystander) as one class with two workers."""
    from labgrade.harness.judging.grading import GradingOptions
    from labgrade.harness.running.batch import grade_paths

    already = set(_sandbox_processes())  # the test session's own sandbox, if one is running
    base = tmp_path_factory.mktemp("red-team")
    klass = base / "class"
    shutil.copytree(HOSTILE, klass, symlinks=True)
    with (klass / "huge-source.py").open("w") as f:  # 50 MB: too big to keep in the repository
        line = "# " + "x" * 98 + "\n"
        f.write(line * (50 * 10_000))
    shutil.copy(ROOT / "submissions" / "correct.py", klass / "bystander.py")
    (base / "alone").mkdir()
    shutil.copy(ROOT / "submissions" / "correct.py", base / "alone" / "bystander.py")

    def quiet(_message: str) -> None:
        pass

    before = _snapshot(ROOT)
    server, accepted, stop = _listen()
    scratch = base / "tmp"  # the batch's temporary folders, apart from other runs on the machine
    scratch.mkdir()
    saved, tempfile.tempdir = tempfile.tempdir, str(scratch)
    started = time.monotonic()
    try:
        summary = grade_paths([klass], base / "out", fast_limits_spec, lab[1], GradingOptions(), quiet, jobs=2)
        seconds = time.monotonic() - started
        time.sleep(0.5)  # a connection attempt still in flight would arrive now
    finally:
        stop.set()
        server.close()
    alone = base / "alone" / "bystander.py"
    try:
        grade_paths([alone], base / "alone-out", fast_limits_spec, lab[1], GradingOptions(), quiet)
    finally:
        tempfile.tempdir = saved
    folders = sorted(p.name for p in scratch.iterdir())
    after = _snapshot(ROOT)
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    changed += [str(p) for p in _outside_paths() if p.exists()]
    left = sorted(set(_sandbox_processes()) - already)
    return RedTeamRun(base / "out", base / "alone-out", seconds, summary, accepted, changed, left, folders)


def _results(run: RedTeamRun, name: str) -> dict:
    return json.loads((run.out / name / "results.json").read_text())


def _feedback(results: dict, question: str) -> str:
    if question == "*":
        return str(results.get("output", ""))
    test = next(t for t in results["tests"] if t["name"].startswith(f"{question} "))
    return str(test.get("output", ""))


def test_every_case_in_the_folder_has_an_expected_verdict() -> None:
    """Adding a case means saying what the grader must answer to it."""
    from labgrade.harness.running.batch import safe_name

    names = {safe_name(p.stem if p.is_file() else p.name) for p in HOSTILE.iterdir()} | {"huge-source"}
    assert names == set(CATALOGUE)


def test_the_batch_finishes_and_grades_every_case(red_team: RedTeamRun) -> None:
    summary = red_team.summary
    assert summary.internal_errors == ()
    graded = {o.name for o in summary.outcomes if o.status in ("graded", "error")}
    assert graded == set(CATALOGUE) | {"bystander"}
    assert (red_team.out / "gradebook.csv").is_file()


@pytest.mark.parametrize("case", sorted(CATALOGUE))
def test_each_case_gets_a_verdict_naming_what_happened(red_team: RedTeamRun, case: str) -> None:
    results = _results(red_team, case)
    for question, pattern in CATALOGUE[case].items():
        text = _feedback(results, question)
        assert re.search(pattern, text, re.MULTILINE), f"{case} {question}: {text[:600]}"
    for question in FULL_MARKS.get(case, ()):
        test = next(t for t in results["tests"] if t["name"].startswith(f"{question} "))
        assert test["score"] == test["max_score"], f"{case} {question}: {test.get('output', '')[:400]}"


def test_nothing_escapes_and_nothing_is_forged(red_team: RedTeamRun) -> None:
    """No case read a secret or wrote outside its folder; forged scores changed nothing."""
    for case in CATALOGUE:
        text = (red_team.out / case / "results.json").read_text()
        assert "ESCAPED" not in text, case
    forged = [c for c in ("prints-a-flood", "writes-everywhere", "monkeypatches", "tensor-tricks", "forged-tensor")]
    for case in forged:
        results = _results(red_team, case)
        assert results["score"] < 2, (case, results["score"])  # no more than the signatures


def test_a_bystander_gets_exactly_its_result_alone(red_team: RedTeamRun) -> None:
    beside = comparable_results(red_team.out, drop=("source",))["bystander"]
    alone = comparable_results(red_team.alone, drop=("source",))["bystander"]
    assert beside == alone
    assert beside["score"] == pytest.approx(2.0)  # 1.1 and 3.1; the answer questions need an answers.yaml


def test_no_file_outside_the_output_folder_changed(red_team: RedTeamRun) -> None:
    assert red_team.changed_outside == []


def test_no_connection_is_made_and_no_process_is_left(red_team: RedTeamRun) -> None:
    assert red_team.accepted == []
    assert red_team.left_running == []


def test_no_temporary_folder_outlives_the_batch(red_team: RedTeamRun) -> None:
    """The sandboxes' folders (the zygote's home, its children's work folders) go with the batch,
    though each zygote is killed rather than left to clean up after itself."""
    assert red_team.left_folders == []


def test_the_hostile_set_is_graded_in_bounded_time(red_team: RedTeamRun) -> None:
    """About one time limit per limited function, spread over two workers; printed for the closing note."""
    print(f"red team: {len(CATALOGUE)} cases + bystander graded in {red_team.seconds:.1f} s")
    assert red_team.seconds < 240


def test_every_case_gets_a_one_page_feedback_pdf(red_team: RedTeamRun) -> None:
    """Whatever a case printed, raised or was named, its feedback renders on one A4 page."""
    from pypdf import PdfReader

    from labgrade.harness.outputs.report import write_many

    written = write_many(sorted(red_team.out.glob("*/results.json")))
    assert len(written) == len(CATALOGUE) + 1
    for pdf in written:
        pages = PdfReader(str(pdf)).pages
        assert len(pages) == 1, pdf
        assert round(float(pages[0].mediabox.width)) == 595 and round(float(pages[0].mediabox.height)) == 842
