"""Does the similarity pass find copies in a class, through the code `labgrade grade` runs, and accuse no one else?"""

from __future__ import annotations

import contextlib
import csv
import io
import shutil
from pathlib import Path

import pytest

from labgrade.harness.bench.classgen import generate_class
from labgrade.harness.inputs.spec import load_spec
from labgrade.harness.inputs.submission import load_submission
from labgrade.harness.running.similar import class_sources, compare
from tests.conftest import CACHE_DIR, FILES, LAB_SPEC

SIMILAR = FILES / "similarity"


def test_the_bench_class_copies_are_found_and_no_independent_pair_is_flagged(tmp_path: Path) -> None:
    """The bench's 200 generated students (seed 0): every disguised copy flagged, no independent pair flagged."""
    spec = load_spec(LAB_SPEC)
    generated = generate_class(tmp_path, 200)
    loaded = {path.stem: load_submission(path, spec) for path in generated.paths}
    report = compare(class_sources(loaded), spec)
    flagged = {frozenset((p.a, p.b)) for p in report.pairs if p.flagged}
    copies = {frozenset(pair) for pair in generated.copies}
    disguised = {frozenset(pair) for pair in generated.copies if pair[0] not in generated.edited}
    assert len(disguised) >= 4
    assert disguised <= flagged  # renamed, reformatted, re-commented, reordered: all found
    assert flagged <= copies  # no pair of independent students
    assert report.seconds < 5


def _grade(args: list[str]) -> str:
    from labgrade.harness.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["grade", *args, "--no-pdf", "--cache-dir", str(CACHE_DIR)])
    assert code == 0, err.getvalue()
    return err.getvalue()


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three independent students and a disguised copy of one, graded through the CLI with a known source."""
    root = tmp_path_factory.mktemp("similar")
    (root / "class").mkdir()
    for name in ("alice", "bob", "carol", "mallory"):  # mallory: carol renamed, reformatted, reordered
        shutil.copy(SIMILAR / f"{name}.py", root / "class" / f"{name}.py")
    (root / "last-year").mkdir()
    shutil.copy(SIMILAR / "erin.py", root / "last-year" / "erin.py")
    shutil.copy(SIMILAR / "erin.py", root / "class" / "frank.py")  # frank hands in last year's erin
    log = _grade([str(root / "class"), "--out", str(root / "out"), "--compare-with", str(root / "last-year")])
    assert "similarity: " in log
    return root / "out"


def _rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(path.open(encoding="utf-8")))


def test_grade_writes_the_pairs_with_their_lines(graded: Path) -> None:
    flagged = {frozenset((r["a"], r["b"])) for r in _rows(graded / "similarity.csv") if r["flagged"] == "yes"}
    assert flagged == {frozenset({"carol", "mallory"}), frozenset({"frank", "known:last-year/erin.py"})}
    row = next(r for r in _rows(graded / "similarity.csv") if {r["a"], r["b"]} == {"carol", "mallory"})
    assert float(row["score"]) >= 0.9 and row["a_lines"] and row["b_lines"]
    html = (graded / "similarity.html").read_text(encoding="utf-8")
    assert "mallory" in html and "http" not in html.replace("http-equiv", "")


def test_similar_pairs_lead_the_class_summary(graded: Path) -> None:
    from labgrade.harness.outputs.summary import write_summary

    written = write_summary(graded)
    assert written is not None
    rows = [r for r in csv.reader(written[0].open(encoding="utf-8")) if r[0] == "read_first" and r[2] == "similar"]
    assert any(r[3].startswith("carol ~ mallory:") for r in rows)
    assert all("known:" not in r[3] or "frank" in r[3] for r in rows)  # known sources only pair with the class


def test_compare_with_must_name_a_folder(tmp_path: Path) -> None:
    from labgrade.harness.cli import main

    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(["grade", str(SIMILAR / "alice.py"), "--out", str(tmp_path / "o"), "--compare-with", "/no/such"])
    assert code == 2
    assert "--compare-with /no/such: expected a folder of known sources" in err.getvalue()
    assert not (tmp_path / "o").exists()
