"""Is student code contained: every limit, with a real offending submission?

Each test grades a hostile file through the grading functions `labgrade grade`
uses, with short limits, and checks that the verdict names what happened, that
the harness carries on, and that nothing leaked.
"""

from __future__ import annotations

import socket
import threading
import time
import uuid
from pathlib import Path

import pytest

from tests.conftest import CACHE_DIR, LAB_SPEC, ROOT, grade_file

HOSTILE = ROOT / "submissions" / "hostile"


def _feedback(report, question: str = "1.1") -> str:
    q = next(q for q in report.questions if q.id == question)
    return q.feedback()


def _observations(box, spec, path: Path, question: str = "1.1"):
    from labgrade.harness.inputs.submission import load_submission
    from labgrade.harness.judging.observe import observe_function

    q = spec.question(question)
    return observe_function(box, spec, q, load_submission(path), 0)


def test_confinement_is_complete_here(sandbox) -> None:
    """On the grading machine every layer must hold (grade refuses otherwise)."""
    assert sandbox.confinement.complete, sandbox.confinement.missing


def test_infinite_loop_is_stopped_by_the_wall_clock(sandbox, fast_limits_spec, lab) -> None:
    started = time.monotonic()
    report = grade_file(HOSTILE / "infinite-loop.py", fast_limits_spec, lab[1], sandbox)
    assert "stopped after 3 s: time limit" in _feedback(report) or "CPU limit" in _feedback(report)
    # One limit, not one per planned call: the remaining calls are skipped.
    assert time.monotonic() - started < 15


def test_a_process_ignoring_sigterm_and_sigxcpu_is_still_stopped(sandbox, fast_limits_spec, lab) -> None:
    report = grade_file(HOSTILE / "ignores-sigterm-and-sigxcpu.py", fast_limits_spec, lab[1], sandbox)
    text = _feedback(report)
    assert "CPU limit" in text or "time limit" in text


def test_memory_bombs_hit_the_memory_limit(sandbox, fast_limits_spec, lab) -> None:
    report = grade_file(HOSTILE / "memory-bomb.py", fast_limits_spec, lab[1], sandbox)
    for question in ("1.1", "3.1"):
        text = _feedback(report, question)
        assert "memory" in text.lower() or "killed" in text, text
    assert report.questions[0].score == 0  # no factors to grade: the essential caps it at 0, signature included
    assert report.questions[0].arithmetic.startswith("0 = capped: there are no factors to grade")


def test_no_process_can_be_created(sandbox, fast_limits_spec) -> None:
    obs = _observations(sandbox, fast_limits_spec, HOSTILE / "fork-flood.py")
    U, _ = obs.calls["default@0"].factors
    assert float(U[0, 0]) == 0.0  # neither fork nor subprocess succeeded once


def test_crashes_and_exits_are_verdicts_not_harness_failures(sandbox, fast_limits_spec, lab) -> None:
    segv = grade_file(HOSTILE / "segfault.py", fast_limits_spec, lab[1], sandbox)
    assert "crashed while running your function (SIGSEGV)" in _feedback(segv)
    exits = grade_file(HOSTILE / "exits-inside-call.py", fast_limits_spec, lab[1], sandbox)
    assert "do not call exit()" in _feedback(exits, "1.1")
    assert "raised SystemExit: bye" in _feedback(exits, "3.1")


def test_it_cannot_signal_the_grader_or_read_its_memory(sandbox, fast_limits_spec) -> None:
    obs = _observations(sandbox, fast_limits_spec, HOSTILE / "kills-the-grader.py")
    U, _ = obs.calls["default@0"].factors
    assert float(U[0, 0]) == 0.0
    # ...and the sandbox still answers.
    assert _observations(sandbox, fast_limits_spec, ROOT / "submissions" / "correct.py").calls["default@0"].factors


def test_output_is_capped_and_never_believed(sandbox, fast_limits_spec, lab) -> None:
    report = grade_file(HOSTILE / "prints-a-flood.py", fast_limits_spec, lab[1], sandbox)
    obs = _observations(sandbox, fast_limits_spec, HOSTILE / "prints-a-flood.py")
    call = obs.calls["default@0"]
    assert call.output_bytes > 20_000_000 and len(call.output.encode()) <= 4096
    assert report.score < 1  # the forged "score: 100" printed to stdout changed nothing
    assert any("printed" in n for n in report.notes)


def test_objects_pretending_to_be_tensors_are_refused(sandbox, fast_limits_spec, lab) -> None:
    report = grade_file(HOSTILE / "forged-tensor.py", fast_limits_spec, lab[1], sandbox)
    assert "returned U as a tensor subclass Liar; expected a torch.Tensor" in _feedback(report, "1.1")
    assert "NaN or infinite" in _feedback(report, "3.1") or "shape (0, 2)" in _feedback(report, "3.1")
    assert report.score == 0  # a forged tensor is no factors: structure alone earns nothing


def _write(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / name
    path.write_text(body)
    return path


def test_no_network_connection_reaches_a_local_listener(sandbox, fast_limits_spec, tmp_path: Path) -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    server.settimeout(0.2)
    port = server.getsockname()[1]
    accepted: list[object] = []

    def accept() -> None:
        end = time.monotonic() + 8
        while time.monotonic() < end:
            try:
                accepted.append(server.accept())
            except OSError:
                continue

    thread = threading.Thread(target=accept)
    thread.start()
    path = _write(
        tmp_path,
        "network.py",
        f"""
import socket, torch
def sgd_factorise(A, rank, num_epochs=1000, lr=0.01):
    reached = 0.0
    try:
        socket.create_connection(("127.0.0.1", {port}), timeout=2).sendall(b"secret")
        reached += 1
    except OSError:
        pass
    try:
        socket.getaddrinfo("pypi.org", 443)
        reached += 10
    except OSError:
        pass
    return torch.full((3, rank), reached), torch.zeros(3, rank)
""",
    )
    obs = _observations(sandbox, fast_limits_spec, path)
    thread.join()
    server.close()
    U, _ = obs.calls["default@0"].factors
    assert float(U[0, 0]) == 0.0
    assert accepted == []


def test_files_outside_its_tmpfs_can_be_neither_read_nor_written(sandbox, fast_limits_spec, tmp_path: Path) -> None:
    """Spec, reference cache, other submissions, outputs, home and /tmp are all out of reach."""
    secrets = [
        LAB_SPEC,
        ROOT / "reference" / "data" / "reference-lab1.json",
        ROOT / "submissions" / "correct.py",
        Path.home() / ".bashrc",
    ]
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    outside = Path("/tmp") / f"labgrade-escape-{uuid.uuid4().hex}"
    path = _write(
        tmp_path,
        "files.py",
        f"""
import os, torch
def sgd_factorise(A, rank, num_epochs=1000, lr=0.01):
    hits = 0.0
    for secret in {[str(s) for s in secrets]!r}:
        try:
            open(secret).read(10)
            hits += 1
        except OSError:
            pass
    for target in ({str(outside)!r}, {str(Path.home() / "labgrade-escape")!r}):
        try:
            open(target, "w").write("x")
            hits += 100
        except OSError:
            pass
    try:
        os.remove({str(victim)!r})
        hits += 1000
    except OSError:
        pass
    # Walking up from the working folder finds nothing of ours either.
    here = os.getcwd()
    for _ in range(6):
        try:
            if "specs" in os.listdir(here) or "submissions" in os.listdir(here):
                hits += 10000
        except OSError:
            pass
        here = os.path.dirname(here)
    open("scratch.txt", "w").write("its own tmpfs is writable")
    return torch.full((3, rank), hits), torch.zeros(3, rank)
""",
    )
    obs = _observations(sandbox, fast_limits_spec, path)
    U, _ = obs.calls["default@0"].factors
    assert float(U[0, 0]) == 0.0
    assert victim.read_text() == "keep me"
    assert not outside.exists() and not (Path.home() / "labgrade-escape").exists()


def test_nothing_is_left_running(sandbox, fast_limits_spec, lab) -> None:
    """After hostile calls, the zygote has no child left."""
    grade_file(HOSTILE / "infinite-loop.py", fast_limits_spec, lab[1], sandbox)
    zygote = sandbox._proc.pid
    children = [
        p.name for p in Path("/proc").iterdir() if p.name.isdigit() and (p / "stat").exists() and _ppid(p) == zygote
    ]
    assert children == []


def _ppid(proc: Path) -> int:
    try:
        return int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return -1


def test_a_normal_submission_gets_the_same_result_beside_hostile_ones(sandbox, fast_limits_spec, lab) -> None:
    alone = grade_file(ROOT / "submissions" / "correct.py", fast_limits_spec, lab[1], sandbox, seed=5)
    for name in ("memory-bomb.py", "segfault.py", "kills-the-grader.py"):
        grade_file(HOSTILE / name, fast_limits_spec, lab[1], sandbox)
    again = grade_file(ROOT / "submissions" / "correct.py", fast_limits_spec, lab[1], sandbox, seed=5)
    assert [q.score for q in again.questions] == [q.score for q in alone.questions]
    assert [q.feedback() for q in again.questions] == [q.feedback() for q in alone.questions]


def test_grading_refuses_a_machine_that_cannot_confine() -> None:
    """A missing layer stops `grade` with its name and the way out; `check` goes on."""
    from labgrade.harness.errors import UserError
    from labgrade.harness.untrusted.sandbox import require_confinement

    layers = {"namespaces": "ok", "capabilities": "ok", "landlock": "Landlock: not supported by this kernel"}
    with pytest.raises(UserError, match=r"landlock: Landlock: not supported by this kernel.*--unconfined"):
        require_confinement(layers, required=True)
    relaxed = require_confinement(layers, required=False)
    assert relaxed.missing == {"landlock": "Landlock: not supported by this kernel"}


def test_unconfined_grading_says_so_in_every_result(run_cli, tmp_path: Path) -> None:
    import json

    target = ROOT / "submissions" / "correct.py"
    result = run_cli("grade", str(target), "--out", str(tmp_path), "--cache-dir", str(CACHE_DIR), "--unconfined")
    assert result.code == 0, result.err
    results = json.loads((tmp_path / "correct" / "results.json").read_text())
    assert "graded unconfined" in results["output"]
    assert results["extra_data"]["labgrade"]["provenance"]["unconfined"] is True


def _question(report, question: str) -> tuple:
    """A question's mark and each check's verdict and message (the signature's wording aside)."""
    q = next(q for q in report.questions if q.id == question)
    return q.score, [(c.kind, c.passed, c.message if c.kind != "signature" else "") for c in q.checks]


def test_one_function_stopping_the_child_never_costs_the_other_function(sandbox, fast_limits_spec, lab) -> None:
    """Both functions share a child; whichever stops it, the other is graded exactly as it is alone."""
    correct = grade_file(ROOT / "submissions" / "correct.py", fast_limits_spec, lab[1], sandbox)
    hangs = grade_file(HOSTILE / "first-function-hangs.py", fast_limits_spec, lab[1], sandbox)
    assert "time limit" in _feedback(hangs, "1.1") or "CPU limit" in _feedback(hangs, "1.1")
    assert _question(hangs, "3.1") == _question(correct, "3.1")
    crashes = grade_file(HOSTILE / "second-function-crashes.py", fast_limits_spec, lab[1], sandbox)
    assert _question(crashes, "1.1") == _question(correct, "1.1")
    assert "crashed while running your function (SIGSEGV)" in _feedback(crashes, "3.1")
