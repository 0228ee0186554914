"""Shared fixtures: paths to real spec files, small datasets, and the CLI as users run it."""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch

from labgrade.harness.cli import main

ROOT = Path(__file__).resolve().parent.parent
FILES = Path(__file__).resolve().parent / "files"
LAB_SPEC = ROOT / "specs" / "lab1.yaml"

torch.set_num_threads(1)


@dataclass(frozen=True)
class CliResult:
    code: int
    out: str
    err: str


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., CliResult]:
    """Run ``labgrade`` with arguments through the same entry point as the console script."""

    def run(*args: str) -> CliResult:
        code = main(list(args))
        captured = capsys.readouterr()
        return CliResult(int(code), captured.out, captured.err)

    return run


def cli(*args: str) -> CliResult:
    """Run ``labgrade`` in-process with its output captured (for module-scoped fixtures, where capsys is not)."""
    import contextlib
    import io

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return CliResult(int(code), out.getvalue(), err.getvalue())


def write_titles(path: Path, names: list[str]) -> Path:
    """Write a titles CSV in the lab's format (``movie,name``)."""
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["movie", "name"])
        for i, name in enumerate(names):
            w.writerow([i, name])
    return path


@pytest.fixture
def tiny_netflix(tmp_path: Path) -> tuple[Path, Path]:
    """A 30 x 200 ratings file and a titles file with "A Beautiful Mind" on row 7."""
    from labgrade.reference.synthetic import synthetic_ratings

    names = [f"Movie {i}" for i in range(30)]
    names[7] = "A Beautiful Mind"
    names[12] = names[20] = "The Godfather"
    titles = write_titles(tmp_path / "titles.csv", names)
    ratings = tmp_path / "ratings.pt"
    torch.save(synthetic_ratings((30, 200), seed=5), ratings)
    return ratings, titles


CACHE_DIR = ROOT / ".labgrade-cache"  # shared with `make demo`; rebuilt only when stale


@pytest.fixture(scope="session")
def lab():
    """The lab spec and its expectations (synthetic ratings), as `labgrade grade` loads them."""
    from labgrade.harness.inputs.spec import load_spec
    from labgrade.reference.expectations import load_datasets, load_expectations

    spec = load_spec(LAB_SPEC)
    data = load_datasets(spec, None, None)
    return spec, load_expectations(spec, data, ["cpu"], CACHE_DIR, lambda _m: None)


@pytest.fixture(scope="session")
def fast_limits_spec(lab):
    """The lab spec with short limits, so limit tests take seconds, not minutes."""
    from dataclasses import replace

    from labgrade.harness.inputs.spec import Limits

    spec, _ = lab
    limits = Limits(time_per_call_s=3, cpu_per_call_s=2, memory_mib=768, processes=16, output_bytes=4096)
    return replace(spec, limits=limits)


@pytest.fixture(scope="session")
def sandbox(fast_limits_spec):
    from labgrade.harness.untrusted.sandbox import Sandbox

    box = Sandbox(fast_limits_spec.limits)
    box.start()
    yield box
    box.close()


def grade_file(path: Path, spec, expectations, box, seed: int = 0):
    """Grade one submission file through the same functions `labgrade grade` uses."""
    from labgrade.harness.inputs.submission import load_submission
    from labgrade.harness.judging.grading import GradingOptions, grade_submission

    return grade_submission(box, spec, expectations, load_submission(path), GradingOptions(seed=seed))


# What legitimately differs between two runs of the same grade: when, and how long student code took.
VOLATILE = ("graded_at", "student_seconds", "call_seconds")


def comparable_results(out: Path, drop: tuple[str, ...] = ()) -> dict[str, dict]:
    """Every OUT/*/results.json without what legitimately differs between runs (times, date, ``drop``)."""
    import json

    found = {}
    for path in sorted(out.glob("*/results.json")):
        data = json.loads(path.read_text())
        data.pop("execution_time")
        meta = data["extra_data"]["labgrade"]
        for key in (*VOLATILE, *drop):
            meta.pop(key)
        found[path.parent.name] = data
    return found
