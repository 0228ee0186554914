"""Are titles looked up by name only, and is every bad ratings file refused with a clear message?"""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
import torch

from labgrade.harness.errors import DataError
from labgrade.reference.ratings import load_ratings, validate_ratings
from labgrade.reference.synthetic import SHAPE, synthetic_ratings
from labgrade.reference.titles import default_titles_path, load_titles
from tests.conftest import write_titles


def test_shipped_titles_are_the_lab_file() -> None:
    titles = load_titles()
    assert len(titles.names) == 1000
    assert titles.lookup("A Beautiful Mind") == titles.names.index("A Beautiful Mind")
    assert default_titles_path().is_file()


def test_duplicate_title_lookup_lists_its_rows() -> None:
    """Is "The Godfather" (on two rows) refused with both rows named?"""
    titles = load_titles()
    rows = titles.duplicates()["The Godfather"]
    assert len(rows) == 2
    with pytest.raises(DataError, match=rf"appears on 2 rows \({rows[0]}, {rows[1]}\)"):
        titles.lookup("The Godfather")


def test_missing_title_suggests_close_names() -> None:
    with pytest.raises(DataError, match="no movie titled 'A Beautifull Mind'; did you mean 'A Beautiful Mind'"):
        load_titles().lookup("A Beautifull Mind")


def test_titles_file_errors_name_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "titles.csv"
    bad.write_text("id,title\n0,x\n")
    with pytest.raises(DataError, match="line 1: expected the header 'movie,name'"):
        load_titles(bad)
    bad.write_text("movie,name\n0,x\n2,y\n")
    with pytest.raises(DataError, match="line 3: expected '1,<title>'"):
        load_titles(bad)
    with pytest.raises(DataError, match="titles file not found"):
        load_titles(tmp_path / "missing.csv")


def test_titles_with_commas_survive_csv_quoting(tmp_path: Path) -> None:
    titles = load_titles(write_titles(tmp_path / "t.csv", ["Crouching Tiger, Hidden Dragon", "x"]))
    assert titles.lookup("Crouching Tiger, Hidden Dragon") == 0


def test_synthetic_ratings_are_deterministic_and_lab_shaped() -> None:
    """Same bytes every time; integer ratings 1..5 with 0 unobserved; density near 0.25."""
    a = synthetic_ratings()
    assert a.shape == SHAPE and a.dtype == torch.float32
    assert set(torch.unique(a).tolist()) == {0.0, 1.0, 2.0, 3.0, 4.0, 5.0}
    assert 0.24 < float((a > 0).float().mean()) < 0.26
    assert torch.equal(a, synthetic_ratings())
    per_movie = (a > 0).float().mean(dim=1)
    per_user = (a > 0).float().mean(dim=0)
    # Skewed like real rating data: the busiest movie and user see many times the median.
    assert float(per_movie.max()) > 4 * float(per_movie.median())
    assert float(per_user.max()) > 3 * float(per_user.median())


def _save(path: Path, obj: object) -> Path:
    torch.save(obj, path)
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: torch.ones(10, 5), r"expected 30 rows \(one per title\), got shape \(10, 5\)"),
        (lambda: torch.ones(40, 30), r"is the tensor transposed\?"),
        (lambda: torch.ones(30), r"got shape \(30,\)"),
        (lambda: torch.full((30, 8), 7.0), r"entry \(0, 0\) is 7; expected whole ratings 1..5"),
        (lambda: torch.full((30, 8), 2.5), r"entry \(0, 0\) is 2.5"),
        (lambda: torch.full((30, 8), -1.0), r"entry \(0, 0\) is -1"),
        (lambda: torch.zeros(30, 8), r"no ratings at all"),
        (lambda: torch.ones(30, 8, dtype=torch.bool), r"expected real numbers, got dtype torch.bool"),
        (lambda: torch.ones(30, 8, dtype=torch.complex64), r"expected real numbers"),
        (lambda: torch.full((30, 8), float("nan")), r"NaN or infinite"),
        (lambda: {"ratings": torch.ones(30, 8)}, r"got a dict"),
        (lambda: [1, 2, 3], r"got a list"),
    ],
)
def test_bad_ratings_file_is_refused_with_what_was_expected(tmp_path: Path, make, message: str) -> None:
    path = _save(tmp_path / "ratings.pt", make())
    with pytest.raises(DataError, match=message) as info:
        load_ratings(path, movies=30)
    assert str(info.value).startswith(str(path))


class Sneaky:
    """Unpickling this would run code; torch.load(weights_only=True) must refuse it."""

    def __reduce__(self):
        return (print, ("pwned",))


def test_a_pickle_that_is_not_a_tensor_is_never_unpickled(tmp_path: Path, capsys) -> None:
    path = tmp_path / "ratings.pt"
    path.write_bytes(pickle.dumps(Sneaky()))
    with pytest.raises(DataError, match="refused to unpickle"):
        load_ratings(path, movies=30)
    assert "pwned" not in capsys.readouterr().out


def test_missing_and_garbage_ratings_files(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"ratings file not found"):
        load_ratings(tmp_path / "nope.pt")
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"\x00\x01not a tensor at all")
    with pytest.raises(DataError, match=r"not a tensor saved with torch\.save"):
        load_ratings(garbage)
    with pytest.raises(DataError, match="is a folder"):
        load_ratings(tmp_path)


def test_valid_ratings_load_as_float32_with_provenance(tmp_path: Path) -> None:
    t = synthetic_ratings((30, 40), seed=2).to(torch.uint8)
    loaded = load_ratings(_save(tmp_path / "r.pt", t), movies=30)
    assert loaded.tensor.dtype == torch.float32 and not loaded.synthetic
    assert torch.equal(loaded.tensor, t.float())
    assert validate_ratings(t.double(), "x", 30).dtype == torch.float32
