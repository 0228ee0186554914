"""The human's part of a grade: pending until marked, then in every output; never lost, never overwritten."""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from labgrade.harness.inputs.spec import load_spec
from labgrade.harness.review.server import make_app
from tests.conftest import CACHE_DIR, FILES, LAB_SPEC, ROOT, cli

REVIEW = FILES / "review"
CLASS = {
    "report-markdown": ROOT / "submissions" / "report-markdown.md",
    "hostile-text": REVIEW / "hostile-text",
    "same-as-hostile": REVIEW / "same-as-hostile",
    "notebook-answers": REVIEW / "notebook-answers.ipynb",
    "correct": ROOT / "submissions" / "correct.py",
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("review") / "out"
    result = cli("grade", *map(str, CLASS.values()), "--out", str(out), "--cache-dir", str(CACHE_DIR), "--no-pdf")
    assert result.code == 0, result.err
    return out


@pytest.fixture
def out(graded: Path, tmp_path: Path) -> Path:
    """A fresh copy of the graded class for each test (a review changes it)."""
    copy = tmp_path / "out"
    shutil.copytree(graded, copy)
    return copy


def _test(out: Path, name: str, qid: str) -> dict:
    results = json.loads((out / name / "results.json").read_text())
    return next(t for t in results["tests"] if t["number"] == qid)


def _client(out: Path, grader: str = "ana") -> TestClient:
    client = TestClient(make_app(out, load_spec(LAB_SPEC), "tok", grader))
    client.get("/?token=tok")
    return client


def _part_of(client: TestClient, qid: str, name: str) -> int:
    """The blind page number of a submission's answer (the page shows names with ?names=1)."""
    for n in range(1, len(CLASS) + 1):
        if f'id="who">{name}<' in client.get(f"/q/{qid}/{n}?names=1").text:
            return n
    raise AssertionError(name)


def test_grading_leaves_the_reviewed_parts_pending_with_the_students_words(graded: Path) -> None:
    test = _test(graded, "report-markdown", "2.1")
    review = test["extra_data"]["review"]
    assert review["status"] == "pending" and review["pending_points"] == 0.6 and test["score"] == pytest.approx(0.4)
    assert review["where"] == "report-markdown.md, lines 39-55" and "Eckart-Young theorem" in review["text"]
    assert {s["item"] for s in review["suggested"]} == {"compares", "explains"}
    assert "0.4 = 0.4 automatic + pending 0.6 rubric" in test["extra_data"]["arithmetic"]
    notebook = _test(graded, "notebook-answers", "2.1")["extra_data"]["review"]
    assert notebook["where"] == "notebook-answers.ipynb, cells 4, 6"
    assert _test(graded, "hostile-text", "2.1")["extra_data"]["review"]["where"] == "answers.yaml"
    assert "no answer text was found" in _test(graded, "correct", "2.1")["output"]
    rows = {r["name"]: r for r in csv.DictReader((graded / "gradebook.csv").open())}
    assert rows["correct"]["review"] == "pending: 2.1, 3.2" and rows["correct"]["2.1"] == "0"


def test_a_mark_saved_on_the_page_reaches_results_gradebook_and_pdf(out: Path) -> None:
    client = _client(out)
    n = _part_of(client, "2.1", "hostile-text")
    page = client.get(f"/q/2.1/{n}").text
    assert "&lt;script&gt;" in page and "<script>alert" not in page and "&lt;img src=x" in page
    form = {"item": ["compares", "explains"], "adjustment": "-0.1", "comment": "Say <b>which</b> norm.", "base": "0"}
    saved = client.post(f"/q/2.1/{n}/save", data=form, follow_redirects=False)
    assert saved.status_code == 303
    assert cli("report", str(out)).code == 0
    test = _test(out, "hostile-text", "2.1")
    assert test["score"] == pytest.approx(0.9)
    line = "0.9 = 0.4 automatic + 0.5 rubric (compares 0.3 + explains 0.3 - adjustment 0.1)"
    assert test["extra_data"]["arithmetic"].startswith(line)
    assert test["extra_data"]["review"]["comment"] == "Say <b>which</b> norm."
    rows = {r["name"]: r for r in csv.DictReader((out / "gradebook.csv").open())}
    assert rows["hostile-text"]["2.1"] == "0.9" and rows["hostile-text"]["review"] == "pending: 3.2"
    from pypdf import PdfReader

    pdf = PdfReader(str(out / "hostile-text" / "feedback.pdf"))
    text = " ".join(" ".join(p.extract_text().split()) for p in pdf.pages)
    assert len(pdf.pages) == 1 and "Say <b>which</b> norm." in text and "Eckart-Young theorem" in text


def test_a_stale_save_is_refused_and_the_first_mark_kept(out: Path) -> None:
    first, second = _client(out, "ana"), _client(out, "ben")
    n = _part_of(first, "3.2", "notebook-answers")
    for client in (first, second):
        assert 'name="base" value="0"' in client.get(f"/q/3.2/{n}").text  # both open the part
    saved = first.post(f"/q/3.2/{n}/save", data={"item": ["tells"], "base": "0"}, follow_redirects=False)
    assert saved.status_code == 303
    refused = second.post(f"/q/3.2/{n}/save", data={"item": ["compares", "tells"], "base": "0"})
    assert refused.status_code == 409 and "ana saved a mark for 3.2" in refused.text
    assert "nothing was saved" in refused.text
    assert cli("report", str(out)).code == 0
    assert _test(out, "notebook-answers", "3.2")["extra_data"]["review"]["applied"] == ["tells"]


def test_the_page_needs_its_token(out: Path) -> None:
    client = TestClient(make_app(out, load_spec(LAB_SPEC), "tok"))
    assert client.get("/").status_code == 403 and client.get("/?token=wrong").status_code == 403
    assert client.get("/?token=tok").status_code == 200


def test_a_regrade_keeps_the_mark_and_a_changed_answer_asks_for_review(out: Path, tmp_path: Path) -> None:
    client = _client(out)
    n = _part_of(client, "2.1", "same-as-hostile")
    client.post(f"/q/2.1/{n}/save", data={"item": ["compares"], "base": "0"})
    student = tmp_path / "same-as-hostile"
    shutil.copytree(REVIEW / "same-as-hostile", student)
    args = ("grade", str(student), "--out", str(out), "--cache-dir", str(CACHE_DIR), "--no-pdf", "--force")
    assert cli(*args).code == 0
    assert _test(out, "same-as-hostile", "2.1")["score"] == pytest.approx(0.7)  # kept through a forced regrade
    answers = student / "answers.yaml"
    answers.write_text(answers.read_text().replace("lower than mine", "much lower than mine"))
    assert cli(*args).code == 0
    review = _test(out, "same-as-hostile", "2.1")["extra_data"]["review"]
    assert review["status"] == "re-review" and review["score"] == pytest.approx(0.3)
    rows = {r["name"]: r for r in csv.DictReader((out / "gradebook.csv").open())}
    assert "re-review: 2.1" in rows["same-as-hostile"]["review"]


def test_a_rubric_change_recomputes_every_mark_after_showing_the_diff(out: Path, tmp_path: Path) -> None:
    client = _client(out)
    n = _part_of(client, "2.1", "report-markdown")
    client.post(f"/q/2.1/{n}/save", data={"item": ["compares", "explains"], "base": "0"})
    spec = tmp_path / "lab1.yaml"
    text = LAB_SPEC.read_text()
    old, new = "        - id: explains\n          points: 0.3", "        - id: explains\n          points: 0.2"
    spec.write_text(text.replace(old, new, 1))
    diff = cli("review", str(out), "--rubric-diff", "--spec", str(spec))
    assert diff.code == 0 and "report-markdown 2.1: 0.6 -> 0.5 (compares explains)" in diff.out
    page = TestClient(make_app(out, load_spec(spec), "tok")).get("/?token=tok").text
    assert "report-markdown 2.1: 0.6 -&gt; 0.5 (compares explains)" in page  # the page shows it too
    assert cli("report", str(out), "--spec", str(spec)).code == 0
    assert _test(out, "report-markdown", "2.1")["score"] == pytest.approx(0.9)


def test_marks_go_out_and_in_as_csv_and_a_bad_row_changes_nothing(out: Path, tmp_path: Path) -> None:
    client = _client(out)
    client.post(f"/q/2.1/{_part_of(client, '2.1', 'correct')}/save", data={"item": ["compares"], "base": "0"})
    exported = tmp_path / "marks.csv"
    assert cli("review", "export", str(out), str(exported)).code == 0
    assert "2.1,correct,compares,0,,ana" in exported.read_text()
    offline = tmp_path / "offline.csv"
    offline.write_text(
        "question,submission,items,adjustment,comment,grader\n"
        "3.2,correct,tells,0,,cy\n"
        "3.2,report-markdown,compares tells,0.1,,cy\n"  # an adjustment without its comment
    )
    before = sqlite3.connect(out / "reviews.sqlite").execute("SELECT COUNT(*) FROM events").fetchone()
    bad = cli("review", "import", str(out), str(offline))
    assert bad.code == 2 and "offline.csv, line 3: an adjustment needs a comment" in bad.err
    assert sqlite3.connect(out / "reviews.sqlite").execute("SELECT COUNT(*) FROM events").fetchone() == before
    offline.write_text(offline.read_text().replace("0.1,,cy", "0.1,clear and careful,cy"))
    good = cli("review", "import", str(out), str(offline))
    assert good.code == 0 and "2 mark(s) saved" in good.out
    assert cli("review", "import", str(out), str(exported)).out.startswith("0 mark(s) saved")  # nothing new


def test_a_review_survives_kill_9_of_the_server_mid_save(out: Path) -> None:
    """Saves go on while the server is killed: every save it acknowledged is there, and the log is whole."""
    port = _free_port()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    server = subprocess.Popen(
        [sys.executable, "-c", _SERVE, str(out), str(LAB_SPEC), str(port)], env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    acknowledged: list[int] = []
    base = f"http://127.0.0.1:{port}"
    try:
        _wait(f"{base}/?token=tok")
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
        opener.open(f"{base}/?token=tok").read()

        def hammer() -> None:
            for i in range(1, 400):
                body = urllib.parse.urlencode({"item": "compares" if i % 2 else "explains", "base": str(i - 1)})
                try:
                    opener.open(urllib.request.Request(f"{base}/q/2.1/1/save", body.encode()), timeout=5).read()
                except OSError:
                    return
                acknowledged.append(i)

        thread = threading.Thread(target=hammer)
        thread.start()
        time.sleep(1.0)
        server.send_signal(signal.SIGKILL)
        thread.join(timeout=30)
    finally:
        server.kill()
        server.wait()
    assert acknowledged, "no save was acknowledged before the kill"
    db = sqlite3.connect(out / "reviews.sqlite")
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    count = db.execute("SELECT COUNT(*) FROM events").fetchone()[0]
    assert count >= len(acknowledged) and count <= len(acknowledged) + 1


_SERVE = """
import sys, uvicorn
from pathlib import Path
from labgrade.harness.inputs.spec import load_spec
from labgrade.harness.review.server import make_app
out, spec, port = Path(sys.argv[1]), load_spec(sys.argv[2]), int(sys.argv[3])
uvicorn.run(make_app(out, spec, "tok"), host="127.0.0.1", port=port, log_level="warning")
"""


def _free_port() -> int:
    from labgrade.harness.review.serve import free_port

    return free_port()


def _wait(url: str) -> None:
    for _ in range(100):
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"{url} did not come up")


def test_the_suggestions_are_measured_against_a_careful_graders_marks() -> None:
    """The labelled explanations (right, wrong, half-right, empty, hostile) give each item's agreement."""
    from labgrade.harness.bench.suggestions import bench_suggestions, format_suggestions

    rows = bench_suggestions(FILES / "explanations" / "labelled.yaml", load_spec(LAB_SPEC))
    assert [(r.question, r.item) for r in rows] == [("2.1", "compares"), ("2.1", "explains"),
                                                     ("3.2", "compares"), ("3.2", "tells")]  # fmt: skip
    assert all(r.both + r.missed + r.wrong + r.neither >= 20 for r in rows)
    assert all(0.5 <= r.agreement < 1 for r in rows)  # useful, and plainly not a grader
    assert "missed" in format_suggestions(rows)
