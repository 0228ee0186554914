"""Does the Gradescope bundle's run_autograder grade /autograder/submission into results.json?"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import CACHE_DIR, ROOT

LABGRADE = Path(sys.executable).parent / "labgrade"


def _bundle(run_cli, tmp_path: Path) -> Path:
    target = tmp_path / "autograder.zip"
    result = run_cli("gradescope-bundle", str(target), "--cache-dir", str(CACHE_DIR))
    assert result.code == 0, result.err
    return target


def _fake_autograder(bundle: Path, tmp_path: Path, files: dict[str, Path]) -> Path:
    root = tmp_path / "autograder"
    (root / "submission").mkdir(parents=True)
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(root / "source")
    for script in ("setup.sh", "run_autograder"):
        path = root / "source" / script
        path.chmod(0o755)
    for name, source in files.items():
        shutil.copy(source, root / "submission" / name)
    return root


def _run(root: Path) -> dict:
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "LABGRADE": str(LABGRADE)}
    subprocess.run(["bash", str(root / "source" / "run_autograder")], env=env, check=True, timeout=600,
                   capture_output=True)  # fmt: skip
    return json.loads((root / "results" / "results.json").read_text())


def test_bundle_holds_scripts_source_spec_and_cache(run_cli, tmp_path: Path) -> None:
    names = set(zipfile.ZipFile(_bundle(run_cli, tmp_path)).namelist())
    assert {"setup.sh", "run_autograder", "labgrade/pyproject.toml", "labgrade/specs/lab1.yaml"} <= names
    assert "cache/reference-lab1.json" in names and "labgrade/harness/untrusted/zygote.py" in names
    setup = zipfile.ZipFile(tmp_path / "autograder.zip").read("setup.sh").decode()
    assert "torch==2.13.0" in setup and "pip install ./labgrade" in setup


def test_run_autograder_grades_a_submission(run_cli, tmp_path: Path) -> None:
    bundle = _bundle(run_cli, tmp_path)
    root = _fake_autograder(
        bundle,
        tmp_path,
        {
            "lab1.py": ROOT / "submissions" / "correct.py",
            "answers.yaml": ROOT / "submissions" / "correct-with-answers" / "answers.yaml",
        },
    )
    results = _run(root)
    assert results["score"] == pytest.approx(4.8)  # 2.1 and 3.2: 0.6 each waits for a grader
    assert [t["number"] for t in results["tests"]] == ["1.1", "1.2", "2.1", "3.1", "3.2", "4.1"]


def test_run_autograder_reports_a_broken_submission_as_a_score(run_cli, tmp_path: Path) -> None:
    bundle = _bundle(run_cli, tmp_path)
    root = _fake_autograder(
        bundle, tmp_path, {"a.py": ROOT / "submissions" / "correct.py", "b.py": ROOT / "submissions" / "init-randn.py"}
    )
    results = _run(root)
    assert results["score"] == 0
    assert "expected exactly one .py or .ipynb file in the folder, found a.py, b.py" in results["output"]
