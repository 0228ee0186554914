"""Does every example submission get its expected marks and feedback through `labgrade grade`?"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from tests.conftest import CACHE_DIR, ROOT, VOLATILE, cli

SUBMISSIONS = ROOT / "submissions"

# name -> {question: expected score}, and a phrase the feedback must contain.
EXPECTED: dict[str, tuple[dict[str, float], str]] = {
    "correct": ({"1.1": 1, "3.1": 1, "1.2": 0, "2.1": 0, "3.2": 0, "4.1": 0}, "no answer for 1.2"),
    "correct-with-answers": (
        {"1.1": 1, "1.2": 1, "2.1": 0.4, "3.1": 1, "3.2": 0.4, "4.1": 1},
        "0.6 by a grader: pending",
    ),
    "messy-notebook": ({"1.1": 1, "3.1": 1}, "Skipped top-level code"),
    "loops-over-rank": (
        {"1.1": 0.4, "1.2": 1, "2.1": 0.4, "3.1": 0.4, "3.2": 0.4, "4.1": 0},
        "row 2 of U never changes",
    ),
    # A slip in form keeps the work's credit: only the result share (0.2) is lost.
    # The student's report as handed in: its listings and numbers are read, not typed in by hand.
    "report-markdown": (
        {"1.1": 0.4, "1.2": 1, "2.1": 0.4, "3.1": 0.4, "3.2": 0.4, "4.1": 0},
        "read 0.1220 for 1.2 from line 35",
    ),
    "report-pdf": (
        {"1.1": 0.4, "1.2": 1, "2.1": 0.4, "3.1": 0.4, "3.2": 0.4, "4.1": 0},
        "read 0.1220 for 1.2 from page 1, line 38",
    ),
    "transposed-v": ({"1.1": 0.8, "3.1": 0.8}, "graded as if you returned V"),
    "returns-numpy": ({"1.1": 0.8, "3.1": 0.8}, "returned U and V as NumPy arrays"),
    "init-randn": ({"1.1": 0.7, "3.1": 0.7}, "expected U(0, 1)"),
    "ignores-lr": ({"1.1": 0.7, "3.1": 0.7}, "lr is ignored"),
    "ignores-epochs": ({"1.1": 0.7, "3.1": 0.7}, "num_epochs is ignored"),
    "reseeds-inside": ({"1.1": 0.7, "3.1": 0.7}, "identical under different seeds"),
    # Structure earns nothing: a closed form or a stub does not learn (essential, cap 0).
    "svd-not-sgd": ({"1.1": 0, "3.1": 0}, "Capped at 0: `sgd_factorise` does not learn"),
    "stub-random": ({"1.1": 0, "3.1": 0}, "0 = capped: `sgd_factorise_masked` does not learn"),
    "mask-ignored": ({"1.1": 1, "3.1": 0.2}, "Capped at 0.2: the mask is not honoured"),
    "modifies-input": ({"1.1": 1, "3.1": 0.7}, "modified its input tensors in place"),
    "changes-default-dtype": ({"1.1": 0.7, "3.1": 1}, "default dtype was changed"),
    "renamed-parameters": ({"1.1": 0.8, "3.1": 0}, "parameter 2 is called `k`; the lab calls it `rank`"),
    "syntax-error": ({"1.1": 0, "3.1": 0}, "syntax-error.py, line 5: syntax error"),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory, run_cli_module, lab) -> Path:
    out = tmp_path_factory.mktemp("out")
    examples = [str(p) for p in sorted(SUBMISSIONS.iterdir()) if p.name != "hostile"]  # as `make demo` does
    result = run_cli_module("grade", *examples, "--out", str(out), "--cache-dir", str(CACHE_DIR))
    assert result.code == 0, result.err
    return out


@pytest.fixture(scope="module")
def run_cli_module():
    return cli


def _results(out: Path, name: str) -> dict:
    return json.loads((out / name / "results.json").read_text())


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_example_gets_its_expected_marks(graded: Path, name: str) -> None:
    scores, phrase = EXPECTED[name]
    results = _results(graded, name)
    by_question = {t["number"]: t["score"] for t in results["tests"]}
    for question, expected in scores.items():
        assert by_question[question] == pytest.approx(expected), (question, results["tests"])
    text = results["output"] + "\n".join(t["output"] for t in results["tests"])
    assert phrase in text


def test_every_example_submission_is_covered(graded: Path) -> None:
    """Is each example in submissions/ graded and listed in EXPECTED (so none goes untested)?"""
    names = {p.stem if p.is_file() else p.name for p in SUBMISSIONS.iterdir() if not p.name.startswith(".")}
    names.discard("hostile")  # the red-team catalogue: tests/test_red_team.py
    assert names == set(EXPECTED)
    assert {p.name for p in graded.iterdir() if p.is_dir()} == names


def test_results_json_follows_gradescope_schema(graded: Path) -> None:
    results = _results(graded, "loops-over-rank")
    assert set(results) >= {"score", "execution_time", "output", "tests"}
    for test in results["tests"]:
        assert set(test) >= {"name", "number", "score", "max_score", "status", "output", "visibility"}
        assert test["status"] in ("passed", "failed")
        assert test["visibility"] in ("visible", "hidden", "after_published", "after_due_date")
    assert results["score"] == pytest.approx(sum(t["score"] for t in results["tests"]))
    assert [t["number"] for t in results["tests"]] == ["1.1", "1.2", "2.1", "3.1", "3.2", "4.1"]


def test_gradebook_has_a_row_per_submission(graded: Path) -> None:
    rows = list(csv.DictReader((graded / "gradebook.csv").open()))
    assert [r["name"] for r in rows] == sorted(EXPECTED)
    columns = ["name", "total", "max", "1.1", "1.2", "2.1", "3.1", "3.2", "4.1", "status", "flags", "review"]
    assert list(rows[0]) == columns
    status = {r["name"]: r["status"] for r in rows}
    assert status["syntax-error"] == "error" and status["correct"] == "graded"
    flags = {r["name"]: r["flags"] for r in rows}
    assert flags["loops-over-rank"] == "1.2: reported_not_from_code"
    assert flags["changes-default-dtype"] == "1.1: changes_default_dtype"
    assert flags["correct-with-answers"] == ""


def test_reported_answer_that_the_code_cannot_produce_is_flagged(graded: Path) -> None:
    """Is the report's 0.1220 flagged for review with its evidence, its mark kept (the lab's policy)?"""
    results = _results(graded, "loops-over-rank")
    test = next(t for t in results["tests"] if t["number"] == "1.2")
    assert "cannot come from it" in test["output"]
    assert test["score"] == 1
    (flag,) = test["extra_data"]["flags"]
    assert flag["kind"] == "reported_not_from_code" and flag["policy"] == "keep"
    assert "5.38713" in flag["evidence"] and "0.122" in flag["evidence"]


def test_every_question_shows_its_arithmetic(graded: Path) -> None:
    """Does each question's feedback carry the one line that makes its mark?"""
    for name in EXPECTED:
        for test in _results(graded, name)["tests"]:
            line = test["extra_data"]["arithmetic"]
            assert line.startswith(f"{round(test['score'], 4):g} = "), (name, line)
            assert f"mark: {line}" in test["output"]


def test_regrading_gives_identical_scores_and_feedback(graded: Path, run_cli_module, tmp_path: Path) -> None:
    """Is a grade reproducible: same submission, same seed, same results?"""
    target = SUBMISSIONS / "loops-over-rank"
    result = run_cli_module("grade", str(target), "--out", str(tmp_path), "--cache-dir", str(CACHE_DIR))
    assert result.code == 0
    again, first = _results(tmp_path, "loops-over-rank"), _results(graded, "loops-over-rank")
    for results in (again, first):
        results.pop("execution_time")
        for key in VOLATILE:
            results["extra_data"]["labgrade"].pop(key)
    assert again == first


def test_student_self_check(run_cli_module) -> None:
    """Does `labgrade check` show visible checks with hints and exit 0 only when all pass?"""
    good = run_cli_module("check", str(SUBMISSIONS / "correct-with-answers"), "--cache-dir", str(CACHE_DIR))
    assert good.code == 0, good.out + good.err
    assert "total 4.80 / 6" in good.out and "0.6 by a grader: pending" in good.out  # 2.1, 3.2 wait for a person
    bad = run_cli_module("check", str(SUBMISSIONS / "loops-over-rank"), "--cache-dir", str(CACHE_DIR))
    assert bad.code == 1
    assert "row 2 of U never changes" in bad.out and "hint: check the loop over rows" in bad.out
    missing = run_cli_module("check", str(ROOT / "pyproject.toml"))
    assert missing.code == 2 and "not a submission" in missing.err


def test_folder_entries_that_are_not_submissions_are_skipped(run_cli_module, tmp_path: Path) -> None:
    folder = tmp_path / "class"
    folder.mkdir()
    (folder / "notes.txt").write_text("not a submission")
    (folder / "a.py").write_text((SUBMISSIONS / "correct.py").read_text())
    (folder / "b.py").write_text("def sgd_factorise(:\n")
    broken = folder / "c.ipynb"
    broken.write_text("{not json")
    out = tmp_path / "out"
    result = run_cli_module("grade", str(folder), "--out", str(out), "--cache-dir", str(CACHE_DIR))
    assert result.code == 0, result.err
    assert "notes.txt: not a submission" in result.err
    assert "graded 1, errors 2, up to date 0, not submissions 1" in result.out
    notebook = _results(out, "c")
    assert "not a readable notebook" in notebook["output"]


def test_spec_error_is_exit_2_and_nothing_graded(run_cli_module, tmp_path: Path) -> None:
    bad = ROOT / "tests" / "files" / "specs" / "bad" / "unknown-key.yaml"
    result = run_cli_module("grade", str(SUBMISSIONS / "correct.py"), "--out", str(tmp_path), "--spec", str(bad))
    assert result.code == 2 and "unknown key" in result.err
    assert not any(tmp_path.iterdir())


def test_every_example_has_a_one_page_feedback_pdf(graded: Path) -> None:
    from pypdf import PdfReader

    for name in EXPECTED:
        assert len(PdfReader(str(graded / name / "feedback.pdf")).pages) == 1, name
    assert len(PdfReader(str(graded / "summary.pdf")).pages) == 1


def test_every_example_page_is_predicted_within_3_percent_and_laid_out_once(graded: Path) -> None:
    """The fit comes from the predicted height, so a page costs one layout; the prediction is WeasyPrint's."""
    from labgrade.harness.outputs import onepage
    from labgrade.harness.outputs.context import FITS, report_context
    from labgrade.harness.outputs.pageheight import estimated_height
    from labgrade.harness.outputs.report import render_html, render_pdf

    for name in EXPECTED:
        results = json.loads((graded / name / "results.json").read_text())
        rendered = render_pdf(results)
        assert (rendered.layouts, rendered.pages_before_cut) == (1, 1), name
        document = onepage.lay_out(render_html(results, rendered.level, for_pdf=True))
        page = document.pages[0]
        laid_out = (page.anchors[onepage.END][1] - page.anchors[onepage.START][1]) * 25.4 / 96  # CSS px -> mm
        predicted = estimated_height(report_context(results, FITS[rendered.level]))
        assert abs(predicted / laid_out - 1) < 0.03, (name, predicted, laid_out)


def test_no_pdf_skips_the_pdfs(run_cli_module, tmp_path: Path) -> None:
    target = SUBMISSIONS / "correct.py"
    result = run_cli_module("grade", str(target), "--out", str(tmp_path), "--cache-dir", str(CACHE_DIR), "--no-pdf")
    assert result.code == 0
    assert (tmp_path / "correct" / "results.json").is_file()
    assert not (tmp_path / "correct" / "feedback.pdf").exists() and not (tmp_path / "summary.pdf").exists()
