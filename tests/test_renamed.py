"""A function under another name is found and graded, and a mask used as data is caught (real files, the CLI)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import CACHE_DIR, FILES, LAB_SPEC, cli

RENAMED = FILES / "renamed"

# fixture -> ({question: mark}, phrases its feedback must hold)
EXPECTED: dict[str, tuple[dict[str, float], tuple[str, ...]]] = {
    "misspelt": (
        {"1.1": 0.8, "3.1": 1},
        ("graded `sgd_factorize` (misspelt.py, line 7) as `sgd_factorise`, since its name is the lab's but for "
         "its spelling: name it as the lab does", "0.8 = 1 x (1 - 0.2 signature (name))",
         "matches the reference step for step"),
    ),
    "renamed-masked": (
        {"1.1": 1, "3.1": 0.8},
        ("graded `sgd_partial_factorise` (renamed-masked.py, line 20) as `sgd_factorise_masked`, since its "
         "parameters are the lab's, in order",),
    ),
    "both-renamed": (
        {"1.1": 0.8, "3.1": 0.8},
        ("graded `sgd_factorise_v2` (both-renamed.py, line 7) as `sgd_factorise`",
         "graded `SGD_Factorize_Masked` (both-renamed.py, line 20) as `sgd_factorise_masked`"),
    ),
    "two-candidates": (
        {"1.1": 0, "3.1": 1},
        ("`sgd_factorise` is not defined; 2 functions could be it, so none was graded: `sgd_factorize` "
         "(two-candidates.py, line 7); `sgd_factorise2` (two-candidates.py, line 20)",
         "name the one you mean `sgd_factorise`"),
    ),
    "exact-and-near": ({"1.1": 1, "3.1": 1}, ("`sgd_factorise(A, rank, num_epochs=1000, lr=0.01)` as in the lab",)),
    "handed-out": ({"1.1": 1, "3.1": 0}, ("`sgd_factorise_masked` is not defined\n",)),
    "zero-filled": (
        {"1.1": 1, "3.1": 0.2},
        ("Capped at 0.2: the unobserved entries are learned as zeros: the result is exactly that of fitting every "
         "entry of A x M (A multiplied by M, then every entry fitted)",
         "update only where M is 1; do not multiply A by M and fit every entry"),
    ),
    "skips-observed-zero": (
        {"1.1": 1, "3.1": 0.7},
        ("an observed entry whose value is 0 is skipped as if it were missing", "0.7 = 1 x (1 - 0.3 diagnosis)"),
    ),
    # Classes found in real students' code (public repositories, read, never copied):
    "masked-under-unmasked-name": (
        {"1.1": 0, "3.1": 0.8},
        ("graded `sgd_factorise` (masked-under-unmasked-name.py, line 8) as `sgd_factorise_masked`, since it takes "
         "`sgd_factorise_masked`'s parameters, in order, not those of `sgd_factorise`",
         "1.1 has no function of its own"),
    ),
    "zero-filled-in-place": (
        {"1.1": 1, "3.1": 0.2},
        ("Capped at 0.2: the unobserved entries are learned as zeros", "modified its input tensors in place"),
    ),
    "skips-zero-values-not-mask": (
        {"1.1": 1, "3.1": 0.2},
        ("Capped at 0.2: the mask is not honoured: changing A where M is 0 changed the result",),
    ),
}  # fmt: skip


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("renamed")
    paths = [str(RENAMED / f"{name}.py") for name in EXPECTED]
    result = cli("grade", *paths, "--out", str(out), "--cache-dir", str(CACHE_DIR), "--jobs", "2")
    assert result.code == 0, result.err
    return out


def _feedback(results: dict) -> str:
    return results["output"] + "\n".join(t["output"] + "\n" for t in results["tests"])


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_fixture_gets_its_mark_and_says_why(graded: Path, name: str) -> None:
    marks, phrases = EXPECTED[name]
    results = json.loads((graded / name / "results.json").read_text())
    scores = {t["number"]: t["score"] for t in results["tests"]}
    for question, mark in marks.items():
        assert scores[question] == pytest.approx(mark), (question, _feedback(results))
    for phrase in phrases:
        assert phrase in _feedback(results), (phrase, _feedback(results))


def test_the_handed_out_function_and_a_helper_are_never_taken(graded: Path) -> None:
    """gd_factorise_masked has 3.1's parameters, and so has the helper masked_steps: neither is graded as it."""
    text = _feedback(json.loads((graded / "handed-out" / "results.json").read_text()))
    assert "gd_factorise_masked` (" not in text and "masked_steps" not in text


@pytest.mark.parametrize(
    ("policy", "mark", "phrase"),
    [
        ("recover: false", 0, "`sgd_factorise` is not defined"),
        ("cost: none", 1, "(the name costs nothing in this lab)"),
    ],
)
def test_the_spec_says_whether_a_wrong_name_is_recovered_and_what_it_costs(
    tmp_path: Path, policy: str, mark: float, phrase: str
) -> None:
    text = LAB_SPEC.read_text()
    key = policy.split(":")[0]
    spec = tmp_path / "lab1.yaml"
    spec.write_text(text.replace(f"  {key}: {'true' if key == 'recover' else 'signature'}\n", f"  {policy}\n", 1))
    assert spec.read_text() != text
    out = tmp_path / "out"
    result = cli("grade", str(RENAMED / "misspelt.py"), "--spec", str(spec), "--out", str(out),
                 "--cache-dir", str(CACHE_DIR))  # fmt: skip
    assert result.code == 0, result.err
    results = json.loads((out / "misspelt" / "results.json").read_text())
    test = next(t for t in results["tests"] if t["number"] == "1.1")
    assert test["score"] == pytest.approx(mark) and phrase in test["output"], test["output"]
