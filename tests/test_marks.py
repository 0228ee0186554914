"""Do marks follow the work: nothing for a stub or a closed form, the work's credit behind a slip in form?"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from labgrade.harness.judging.marks import mark_question
from labgrade.harness.outputs.results import CheckOutcome, EssentialOutcome, Flag
from tests.conftest import CACHE_DIR, FILES, LAB_SPEC, cli

STUDENTS = FILES / "students"

# file -> ({question: expected mark}, phrases the feedback must hold, the arithmetic of 1.1)
EXPECTED: dict[str, tuple[dict[str, float], tuple[str, ...], str]] = {
    "returns-lists": (
        {"1.1": 0.8},
        ("returned U and V as Python lists; graded as if you returned (U, V)",),
        "0.8 = 1 x (1 - 0.2 result form)",
    ),
    "returns-losses-too": (
        {"1.1": 0.8},
        ("returned 3 values; graded the first two as (U, V)", "hint: return only U, V"),
        "0.8 = 1 x (1 - 0.2 result form)",
    ),
    "returns-float64": ({"1.1": 0.8}, ("returned U and V as torch.float64",), "0.8 = 1 x (1 - 0.2 result form)"),
    "returns-parameters": ({"1.1": 0.8}, ("returned U and V as nn.Parameters",), "0.8 = 1 x (1 - 0.2 result form)"),
    "renamed-positional": (
        {"1.1": 1},
        ("note: parameter 1 is called `A_` (the lab's `A`, passed by position)",),
        "1 = 1 x 1 (every share earned)",
    ),
    "wrong-order": (
        {"1.1": 0.8},
        ("`lr` is parameter 3; the lab has it as parameter 4 (wrong order)",),
        "0.8 = 1 x (1 - 0.2 signature)",
    ),
    "stub-ones": (
        {"1.1": 0, "3.1": 0},
        ("Capped at 0: `sgd_factorise` does not learn: its result is the same with num_epochs=0",),
        "0 = capped: `sgd_factorise` does not learn",
    ),
    "stub-shifted-by-lr": (
        {"1.1": 0},
        ("does not learn: training does not lower the loss",),
        "0 = capped: `sgd_factorise` does not learn",
    ),
    "never-returns": (
        {"1.1": 0, "3.1": 0},
        ("time limit", "raised IndexError"),
        "0 = capped: there are no factors to grade",
    ),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory, lab) -> Path:
    """The student files graded through `labgrade grade`, under the lab's spec with 5 s limits."""
    root = tmp_path_factory.mktemp("marks")
    spec = root / "lab1-short-limits.yaml"
    text = LAB_SPEC.read_text()
    for key in ("time_per_call_s", "cpu_per_call_s"):
        text = text.replace(f"{key}: 60", f"{key}: 5")
    spec.write_text(text)
    out = root / "out"
    files = [str(STUDENTS / f"{name}.py") for name in EXPECTED]
    result = cli("grade", *files, "--out", str(out), "--spec", str(spec), "--cache-dir", str(CACHE_DIR), "--no-pdf")
    assert result.code == 0, result.err
    return out


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_marks_follow_the_work(graded: Path, name: str) -> None:
    """Does each kind of answer get the mark a careful grader gives, with the arithmetic that shows why?"""
    marks, phrases, arithmetic = EXPECTED[name]
    results = json.loads((graded / name / "results.json").read_text())
    tests = {t["number"]: t for t in results["tests"]}
    for question, expected in marks.items():
        assert tests[question]["score"] == pytest.approx(expected), tests[question]["output"]
    text = "\n".join(t["output"] for t in results["tests"])
    for phrase in phrases:
        assert phrase in text, text
    assert tests["1.1"]["extra_data"]["arithmetic"].startswith(arithmetic)
    assert f"mark: {arithmetic}" in tests["1.1"]["output"]


def _outcome(passed: bool | None, weight: float) -> CheckOutcome:
    return CheckOutcome("x", passed, "", weight=weight)


def test_arithmetic_names_each_share_lost() -> None:
    """Does the line show marks x (1 - each lost share), with shares over the checks that applied?"""
    shares = [("signature", _outcome(True, 0.2)), ("result", _outcome(True, 0.2)), ("loss", _outcome(False, 0.3)),
              ("step-for-step", _outcome(None, 0)), ("diagnosis", _outcome(False, 0.3))]  # fmt: skip
    mark = mark_question(2, shares)
    assert mark.score == pytest.approx(0.8)
    assert mark.arithmetic == "0.8 = 2 x (1 - 0.3 loss - 0.3 diagnosis)"
    not_applied = mark_question(1, [("signature", _outcome(True, 0.2)), ("loss", _outcome(None, 0.3))])
    assert not_applied.arithmetic == "1 = 1 x 1 (every share earned)"  # a share that did not apply counts neither way


def test_the_lowest_cap_of_the_failed_essentials_binds() -> None:
    shares = [("signature", _outcome(True, 0.5)), ("loss", _outcome(True, 0.5))]
    essentials = [
        EssentialOutcome("learns", True, "learns"),
        EssentialOutcome("honours_mask", False, "the mask is not honoured", 0.25, "completion is the point"),
    ]
    mark = mark_question(2, shares, essentials)
    assert mark.score == pytest.approx(0.5)
    assert mark.arithmetic == "0.5 = capped at 0.25 x 2: the mask is not honoured (was 2 = 2 x 1 (every share earned))"
    assert mark.headline == "Capped at 0.5: the mask is not honoured (completion is the point)."
    unknown = [EssentialOutcome("honours_mask", None, "not judged", 0.25)]
    assert mark_question(2, shares, unknown).score == 2  # what cannot be judged caps nothing


def test_a_flag_keeps_the_mark_unless_the_policy_says_zero() -> None:
    shares = [("loss", _outcome(True, 1))]
    keep = Flag("reported_not_from_code", "1.2", "the code gives 5.4", "keep")
    assert mark_question(1, shares, flags=[keep]).score == 1
    zero = Flag("reported_not_from_code", "1.2", "the code gives 5.4", "zero")
    mark = mark_question(1, shares, flags=[zero])
    assert mark.score == 0
    assert mark.arithmetic.startswith("0 = flagged reported_not_from_code, which this lab's policy marks 0")


@pytest.mark.slow
def test_flags_reach_the_gradebook_and_results(tmp_path: Path) -> None:
    """Is a reseeding function flagged for review in results.json and the gradebook, its mark kept?"""
    out = tmp_path / "out"
    target = LAB_SPEC.parent.parent / "submissions" / "reseeds-inside.py"
    result = cli("grade", str(target), "--out", str(out), "--cache-dir", str(CACHE_DIR), "--no-pdf")
    assert result.code == 0, result.err
    results = json.loads((out / "reseeds-inside" / "results.json").read_text())
    flags = results["extra_data"]["labgrade"]["flags"]
    assert [(f["question"], f["kind"], f["policy"]) for f in flags] == [
        ("1.1", "seeds_global_generator", "keep"),
        ("3.1", "seeds_global_generator", "keep"),
    ]
    assert "seeds torch's global generator itself" in flags[0]["evidence"]
    row = next(csv.DictReader((out / "gradebook.csv").open()))
    assert row["flags"] == "1.1: seeds_global_generator; 3.1: seeds_global_generator"
    assert row["1.1"] == "0.7"  # the diagnosis share is lost; the flag itself costs nothing


@pytest.mark.slow
def test_another_spec_sets_another_policy(tmp_path: Path) -> None:
    """With short-lab.yaml's policy (cap 0.25, reported numbers not from the code marked 0), does grading follow?"""
    spec = FILES / "specs" / "short-lab.yaml"
    folder = tmp_path / "stub"
    folder.mkdir()
    (folder / "lab.py").write_text(
        "import torch\n\ndef sgd_factorise(A, rank, num_epochs=1000, lr=0.01):\n"
        "    return torch.rand(A.shape[0], rank), torch.rand(A.shape[1], rank)\n"
    )
    (folder / "answers.yaml").write_text('"C": 0.6\n')
    out = tmp_path / "out"
    result = cli("grade", str(folder), "--out", str(out), "--spec", str(spec), "--cache-dir", str(tmp_path / "cache"))
    assert result.code == 0, result.err
    tests = {t["number"]: t for t in json.loads((out / "stub" / "results.json").read_text())["tests"]}
    assert tests["A"]["score"] == pytest.approx(0.5)  # capped at 0.25 x 2 marks
    assert tests["A"]["extra_data"]["arithmetic"].startswith("0.5 = capped at 0.25 x 2: `sgd_factorise` does not learn")
    assert tests["C"]["score"] == 0
    assert "which this lab's policy marks 0" in tests["C"]["extra_data"]["arithmetic"]
