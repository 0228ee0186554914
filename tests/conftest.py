"""Shared fixtures: paths to real spec files, small datasets, and the CLI as users run it."""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch

from harness.cli import main

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
    from reference.synthetic import synthetic_ratings

    names = [f"Movie {i}" for i in range(30)]
    names[7] = "A Beautiful Mind"
    names[12] = names[20] = "The Godfather"
    titles = write_titles(tmp_path / "titles.csv", names)
    ratings = tmp_path / "ratings.pt"
    torch.save(synthetic_ratings((30, 200), seed=5), ratings)
    return ratings, titles
