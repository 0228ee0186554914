"""Does the labgrade command behave for users: help, version, exit codes, messages, config?"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from labgrade.harness import __version__
from tests.conftest import FILES, LAB_SPEC

SHORT = str(FILES / "specs" / "short-lab.yaml")
LABGRADE = Path(sys.executable).parent / "labgrade"


def test_console_script_version_and_help() -> None:
    """Do `labgrade --version` and `labgrade --help` work from the installed script?"""
    out = subprocess.run([LABGRADE, "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == f"labgrade, version {__version__}"
    out = subprocess.run([LABGRADE, "--help"], capture_output=True, text=True, check=True)
    assert "reference" in out.stdout and "spec" in out.stdout and "bench" in out.stdout


@pytest.mark.parametrize("command", [["reference"], ["reference", "build"], ["spec"], ["spec", "check"], ["bench"]])
def test_every_command_has_help(run_cli, command: list[str]) -> None:
    result = run_cli(*command, "--help")
    assert result.code == 0
    assert "Usage: labgrade" in result.out


def test_spec_check_valid_and_invalid(run_cli) -> None:
    ok = run_cli("spec", "check", str(LAB_SPEC))
    assert ok.code == 0 and "valid (lab1, 6 questions, 6 marks)" in ok.out
    assert "marked by hand" in ok.out
    bad = run_cli("spec", "check", str(FILES / "specs" / "bad" / "marks-not-a-number.yaml"))
    assert bad.code == 2
    assert 'questions[0].marks (line 10): expected a number > 0, got "one"' in bad.err
    assert "Traceback" not in bad.err


def test_reference_build_then_up_to_date(run_cli, tmp_path: Path) -> None:
    """Does `reference build` print the distributions and bands, then reuse its cache?"""
    first = run_cli("reference", "build", "--spec", SHORT, "--cache-dir", str(tmp_path))
    assert first.code == 0, first.err
    assert "reference cache written" in first.err
    assert "rank1      loss" in first.out and "eckart_young" in first.out
    assert "bands used for grading" in first.out
    second = run_cli("reference", "build", "--spec", SHORT, "--cache-dir", str(tmp_path))
    assert "reference cache is up to date" in second.err
    forced = run_cli("reference", "build", "--spec", SHORT, "--cache-dir", str(tmp_path), "--force")
    assert "reference cache written" in forced.err


def test_reference_build_with_ratings_and_titles(run_cli, tmp_path: Path, tiny_netflix) -> None:
    ratings, titles = tiny_netflix
    spec = str(FILES / "specs" / "tiny-netflix.yaml")
    args = ["reference", "build", "--spec", spec, "--cache-dir", str(tmp_path / "c")]
    result = run_cli(*args, "--ratings", str(ratings), "--titles", str(titles))
    assert result.code == 0, result.err
    assert f"ratings: {ratings}" in result.out
    assert "netflix    rating" in result.out


def test_user_errors_exit_2_with_one_clear_line(run_cli, tmp_path: Path, tiny_netflix) -> None:
    """Missing ratings, a bad ratings tensor, a missing title: exit 2, no traceback."""
    ratings, titles = tiny_netflix
    spec = str(FILES / "specs" / "tiny-netflix.yaml")
    base = ["reference", "build", "--spec", spec, "--cache-dir", str(tmp_path / "c"), "--titles", str(titles)]
    missing = run_cli(*base, "--ratings", str(tmp_path / "nope.pt"))
    assert missing.code == 2 and "nope.pt: ratings file not found" in missing.err
    torch.save(torch.full((30, 10), 7.0), tmp_path / "sevens.pt")
    sevens = run_cli(*base, "--ratings", str(tmp_path / "sevens.pt"))
    assert sevens.code == 2 and "entry (0, 0) is 7" in sevens.err
    notitle = tmp_path / "titles.csv"
    notitle.write_text("movie,name\n" + "".join(f"{i},M{i}\n" for i in range(30)))
    absent = run_cli(*base[:-1], str(notitle), "--ratings", str(ratings))
    assert absent.code == 2 and "no movie titled 'A Beautiful Mind'" in absent.err
    for r in (missing, sevens, absent):
        assert "Traceback" not in r.err
    nospec = run_cli("reference", "build", "--spec", str(tmp_path / "none.yaml"))
    assert nospec.code == 2 and "file not found" in nospec.err


def test_config_file_supplies_ratings_and_titles(run_cli, tmp_path: Path, tiny_netflix) -> None:
    """Is the `ratings` key of a config file used like --ratings, relative to the file?"""
    _ratings, _titles = tiny_netflix
    config = tmp_path / "labgrade.yaml"
    config.write_text(
        f"spec: {FILES / 'specs' / 'tiny-netflix.yaml'}\nratings: ratings.pt\ntitles: titles.csv\n"
        "cache_dir: cache\ndevice: cpu\n"
    )
    result = run_cli("reference", "build", "--config", str(config))
    assert result.code == 0, result.err
    assert (tmp_path / "cache" / "reference-tiny-netflix.json").is_file()
    config.write_text("ratngs: ratings.pt\n")
    bad = run_cli("reference", "build", "--config", str(config))
    assert bad.code == 2 and "labgrade.yaml: ratngs (line 1): unknown key" in bad.err


def test_cuda_request_without_cuda_is_a_user_error(run_cli, tmp_path: Path) -> None:
    if torch.cuda.is_available():
        pytest.skip("CUDA is present here")
    result = run_cli("reference", "build", "--spec", SHORT, "--cache-dir", str(tmp_path), "--device", "cuda")
    assert result.code == 2 and "torch sees no CUDA device" in result.err


def test_unknown_option_is_a_usage_error(run_cli) -> None:
    result = run_cli("reference", "build", "--no-such-option")
    assert result.code == 2 and "No such option" in result.err


@pytest.mark.parametrize("bad", sorted((FILES / "specs" / "bad").glob("*.yaml")), ids=lambda p: p.stem)
def test_every_bad_spec_stops_every_command_with_exit_2_and_no_traceback(run_cli, tmp_path: Path, bad: Path) -> None:
    """An instructor's broken spec: one message naming the file, exit 2, and an existing OUT left as it was."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "gradebook.csv").write_text("already graded\n")
    for command in (
        ["spec", "check", str(bad)],
        ["reference", "build", "--spec", str(bad), "--cache-dir", str(tmp_path / "c")],
        ["grade", str(FILES.parent.parent / "submissions" / "correct.py"), "--out", str(out), "--spec", str(bad)],
    ):
        result = run_cli(*command)
        assert result.code == 2, (command, result.err)
        assert str(bad) in result.err and "Traceback" not in result.err + result.out
    assert (out / "gradebook.csv").read_text() == "already graded\n"
    assert sorted(p.name for p in out.iterdir()) == ["gradebook.csv"]


def test_a_ratings_tensor_of_the_wrong_shape_exits_2(run_cli, tmp_path: Path, tiny_netflix) -> None:
    _ratings, titles = tiny_netflix
    spec = str(FILES / "specs" / "tiny-netflix.yaml")
    torch.save(torch.ones(10, 30), tmp_path / "transposed.pt")
    result = run_cli(
        "reference", "build", "--spec", spec, "--cache-dir", str(tmp_path / "c"),
        "--titles", str(titles), "--ratings", str(tmp_path / "transposed.pt"),
    )  # fmt: skip
    assert result.code == 2 and "transposed.pt" in result.err and "shape" in result.err
    assert "Traceback" not in result.err


def test_a_path_that_does_not_exist_is_a_usage_error_and_nothing_is_written(run_cli, tmp_path: Path) -> None:
    """Does a typo in PATH exit 2, naming it, with OUT never created?"""
    out = tmp_path / "out"
    result = run_cli("grade", str(tmp_path / "no-such-folder"), "--out", str(out))
    assert result.code == 2
    assert f"{tmp_path / 'no-such-folder'}: no such file or folder" in result.err
    assert not out.exists()


def test_every_file_written_follows_the_umask(run_cli, tmp_path: Path) -> None:
    """Can a teaching assistant in the group read the gradebook (umask 002 gives 664, like any tool)?"""
    import os

    from tests.conftest import CACHE_DIR, ROOT

    old = os.umask(0o002)
    try:
        out = tmp_path / "out"
        result = run_cli(
            "grade", str(ROOT / "submissions" / "correct.py"), "--out", str(out), "--cache-dir", str(CACHE_DIR)
        )
        assert result.code == 0, result.err
    finally:
        os.umask(old)
    written = [p for p in out.rglob("*") if p.is_file() and p.name != ".labgrade.lock"]
    assert {p.name for p in written} >= {"gradebook.csv", "summary.pdf", "summary.csv", "results.json", "feedback.pdf"}
    for path in written:
        assert path.stat().st_mode & 0o777 == 0o664, (path, oct(path.stat().st_mode))


def test_spec_check_takes_a_shipped_labs_name(run_cli) -> None:
    result = run_cli("spec", "check", "lab1")
    assert result.code == 0 and "lab1: valid (lab1, 6 questions, 6 marks)" in result.out
