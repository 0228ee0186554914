"""Does labgrade work where its users are: installed with pip, from any folder, with what ships?"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.conftest import LAB_SPEC, ROOT


def test_every_package_of_the_tree_is_in_the_wheel() -> None:
    """Is each folder with an __init__.py listed in pyproject.toml (the list is explicit, see there)?"""
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {
        ".".join(p.parent.relative_to(ROOT).parts)
        for top in ("harness", "reference", "labgrade")
        for p in (ROOT / top).rglob("__init__.py")
    }
    assert found <= listed, f"add to [tool.setuptools] packages: {sorted(found - listed)}"
    assert {"harness.shipped.specs", "harness.shipped.templates"} <= listed


def test_the_shipped_expectations_are_fresh() -> None:
    """Were the expected outputs that ship built from this reference code, spec, data and torch?"""
    from harness.inputs.spec import load_spec
    from reference.cache import read_cache
    from reference.expectations import load_datasets, shipped_path, wanted_provenance

    spec = load_spec(LAB_SPEC)
    wanted = wanted_provenance(spec, load_datasets(spec, None, None), ("cpu",))
    found = read_cache(shipped_path(spec), wanted)
    assert found.distributions is not None, f"{found.reason}: run `make shipped-reference` and commit the file"


def test_the_default_spec_is_the_shipped_lab(tmp_path: Path) -> None:
    """Do `--spec lab1`, no --spec and a file path all name a spec, from a folder far from the checkout?"""
    from harness.errors import UserError
    from harness.inputs.assets import resolve_spec

    cwd = Path.cwd()
    os.chdir(tmp_path)
    try:
        assert resolve_spec(None) == resolve_spec("lab1")
        assert resolve_spec(None).read_text() == LAB_SPEC.read_text()
        (tmp_path / "mine.yaml").write_text("x: 1\n")
        assert resolve_spec("mine.yaml") == Path("mine.yaml")
        with pytest.raises(UserError, match="no shipped spec of that name \\(shipped: lab1\\)"):
            resolve_spec("lab7")
    finally:
        os.chdir(cwd)


def _tree_copy(target: Path) -> Path:
    """The checkout as a clean clone would hold it: tracked and unignored files, nothing built."""
    listed = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.split(b"\0")
    for name in filter(None, listed):
        source = ROOT / name.decode()
        if source.is_file():
            (target / name.decode()).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name.decode())
    return target


@pytest.mark.slow
def test_a_fresh_venv_with_a_students_torch_grades_from_any_folder(tmp_path: Path) -> None:
    """pip install . into a venv that has torch, then check and grade in an empty folder: no --spec, no build."""
    clone = _tree_copy(tmp_path / "clone")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, "torch==2.13.0"], check=True)  # a student's venv already holds torch
    subprocess.run([*pip, str(clone)], check=True)
    labgrade = str(venv / "bin" / "labgrade")
    home = tmp_path / "home"  # the user's cache folder goes here, never into the current folder
    env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8"}
    work = tmp_path / "elsewhere" / "student"
    (work / "subs" / "alice").mkdir(parents=True)
    shutil.copy2(ROOT / "submissions" / "correct.py", work / "lab1.py")
    for name in ("lab1.py", "answers.yaml"):
        shutil.copy2(ROOT / "submissions" / "correct-with-answers" / name, work / "subs" / "alice" / name)
    shutil.copy2(ROOT / "submissions" / "loops-over-rank" / "report.py", work / "subs" / "bob.py")

    check = subprocess.run([labgrade, "check", "lab1.py"], cwd=work, env=env, capture_output=True, text=True)
    assert check.returncode == 1, check.stderr  # 1.1 and 3.1 pass; the answer questions have no answers.yaml
    assert "ok   1.1  1.00/1" in check.stdout and "ok   3.1  1.00/1" in check.stdout, check.stdout

    grade = subprocess.run(
        [labgrade, "grade", "subs", "--out", "out", "--no-pdf"], cwd=work, env=env, capture_output=True, text=True
    )
    assert grade.returncode == 0, grade.stderr
    assert "expected outputs shipped with labgrade" in grade.stderr and "building" not in grade.stderr
    rows = (work / "out" / "gradebook.csv").read_text().splitlines()
    assert rows[1].startswith("alice,4.8,6,") and rows[2].startswith("bob,0.8,6,"), rows
    assert sorted(p.name for p in work.iterdir()) == ["lab1.py", "out", "subs"]  # no cache in the current folder
    assert "Code similarity" in (work / "out" / "similarity.html").read_text()  # its template ships too
    report = subprocess.run(
        [labgrade, "report", "out/alice/results.json"], cwd=work, env=env, capture_output=True, text=True
    )
    assert report.returncode == 0 and (work / "out" / "alice" / "feedback.pdf").is_file(), report.stderr
    assert len(list((home / ".cache" / "labgrade" / "fonts").glob("labgrade-sans-*.ttf"))) == 2  # made once, there
