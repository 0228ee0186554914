"""Does labgrade work where its users are: installed with pip, from any folder, with what ships?"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from functools import partial
from pathlib import Path

import pytest

from tests.conftest import LAB_SPEC, ROOT


def test_every_package_of_the_tree_is_in_the_wheel() -> None:
    """Is each folder with an __init__.py listed in pyproject.toml (the list is explicit, see there)?"""
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {"labgrade"} | {
        ".".join(("labgrade", *p.parent.relative_to(ROOT).parts))
        for top in ("harness", "reference")
        for p in (ROOT / top).rglob("__init__.py")
    }
    assert "labgrade.harness.judging.checks" in found
    assert found <= listed, f"add to [tool.setuptools] packages: {sorted(found - listed)}"
    assert all(name.split(".")[0] == "labgrade" for name in listed), "one import name: everything under labgrade"
    assert {"labgrade.harness.shipped.specs", "labgrade.harness.shipped.templates"} <= listed


def test_the_shipped_expectations_are_fresh() -> None:
    """Were the expected outputs that ship built from this reference code, spec, data and torch?"""
    from labgrade.harness.inputs.spec import load_spec
    from labgrade.reference.cache import read_cache
    from labgrade.reference.expectations import load_datasets, shipped_path, wanted_provenance

    spec = load_spec(LAB_SPEC)
    wanted = wanted_provenance(spec, load_datasets(spec, None, None), ("cpu",))
    found = read_cache(shipped_path(spec), wanted)
    assert found.distributions is not None, f"{found.reason}: run `make shipped-reference` and commit the file"


def test_the_default_spec_is_the_shipped_lab(tmp_path: Path) -> None:
    """Do `--spec lab1`, no --spec and a file path all name a spec, from a folder far from the checkout?"""
    from labgrade.harness.errors import UserError
    from labgrade.harness.inputs.assets import resolve_spec

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


@pytest.fixture(scope="module")
def fresh_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A student's venv: torch and Jupyter's kernel first, then ``pip install .`` of a clean copy (not editable)."""
    root = tmp_path_factory.mktemp("fresh")
    clone = _tree_copy(root / "clone")
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, "torch==2.13.0", "nbclient", "ipykernel"], check=True)  # what the student already has
    subprocess.run([*pip, str(clone)], check=True)
    return venv


@pytest.mark.slow
def test_a_fresh_venv_with_a_students_torch_grades_from_any_folder(fresh_venv: Path, tmp_path: Path) -> None:
    """pip install . into a venv that has torch, then check and grade in an empty folder: no --spec, no build."""
    venv = fresh_venv
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


#: A student's own files with labgrade's generic folder names; each one stops whoever imports it.
SHADOWS = {
    "reference.py": "# notes on the reference solution\nraise ImportError('the student reference.py was imported')\n",
    "harness.py": "# my own test harness\nraise ImportError('the student harness.py was imported')\n",
    "harness/runs.txt": "loss 0.12 at rank 2\n",  # a folder of results, not a package
}

_NOTEBOOK = """
import sys
import nbformat
from nbclient import NotebookClient

nb = nbformat.v4.new_notebook()
cells = [open("lab1.py").read(), "import labgrade\\nlabgrade.check()"]
nb.cells = [nbformat.v4.new_code_cell(source) for source in cells]
NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": "."}}).execute()
shown = "".join(o.get("data", {}).get("text/html", "") + o.get("text", "") for o in nb.cells[1].outputs)
print(shown)
"""


@pytest.mark.slow
def test_a_students_reference_and_harness_files_never_shadow_labgrade(fresh_venv: Path, tmp_path: Path) -> None:
    """From a folder holding reference.py, harness.py and harness/: `labgrade check`, a script, a notebook."""
    work = tmp_path / "student"
    for name, text in SHADOWS.items():
        (work / name).parent.mkdir(parents=True, exist_ok=True)
        (work / name).write_text(text)
    (work / "lab1.py").write_text((ROOT / "submissions" / "correct.py").read_text())
    env = {"PATH": f"{fresh_venv / 'bin'}:/usr/bin:/bin", "HOME": str(tmp_path / "home"), "LANG": "C.UTF-8"}
    python = str(fresh_venv / "bin" / "python")
    run = partial(subprocess.run, cwd=work, env=env, capture_output=True, text=True, timeout=300)

    check = run([str(fresh_venv / "bin" / "labgrade"), "check", "lab1.py"])
    assert "ok   1.1  1.00/1" in check.stdout and "ok   3.1  1.00/1" in check.stdout, check.stdout + check.stderr

    (work / "script.py").write_text((work / "lab1.py").read_text() + "\n\nimport labgrade\nlabgrade.check()\n")
    script = run([python, "script.py"])  # the script's folder is first on sys.path
    assert script.returncode == 0, script.stderr
    assert "ok   1.1  1.00/1" in script.stdout and "ok   3.1  1.00/1" in script.stdout, script.stdout

    notebook = run([python, "-c", _NOTEBOOK])  # the kernel starts in the folder: "" is first on its sys.path
    assert notebook.returncode == 0, notebook.stderr[-3000:]
    assert "sgd_factorise" in notebook.stdout and "was imported" not in notebook.stdout, notebook.stdout[-3000:]
    assert "Traceback" not in notebook.stdout and "1.00/1" in notebook.stdout, notebook.stdout[-3000:]
