"""The Netflix movie titles: load ``titles.csv`` and look a title up by name.

A title is never found by a hard-coded row index.  The file has duplicate names
(two rows are called "The Godfather"): asking for one of those is an error that
lists the rows, because silently taking the first would grade against the wrong
movie.
"""

from __future__ import annotations

import csv
import difflib
import hashlib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from labgrade.harness.errors import DataError
from labgrade.harness.inputs.textfile import read_user_text


@dataclass(frozen=True)
class Titles:
    """Movie titles by row of the ratings tensor, and where they came from."""

    source: str
    names: tuple[str, ...]
    sha256: str

    def lookup(self, title: str) -> int:
        """Return the row of the ratings tensor for ``title`` (exact match).

        Raises:
            DataError: the title is absent (with close matches) or appears on several rows.
        """
        rows = [i for i, name in enumerate(self.names) if name == title]
        if len(rows) == 1:
            return rows[0]
        if rows:
            listed = ", ".join(str(r) for r in rows)
            raise DataError(
                f"{self.source}: title {title!r} appears on {len(rows)} rows ({listed}); it cannot be looked up by name"
            )
        close = difflib.get_close_matches(title, self.names, n=3)
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise DataError(f"{self.source}: no movie titled {title!r}{hint}")

    def duplicates(self) -> dict[str, list[int]]:
        """Names that appear on more than one row, with their rows."""
        rows: dict[str, list[int]] = {}
        for i, name in enumerate(self.names):
            rows.setdefault(name, []).append(i)
        return {name: r for name, r in rows.items() if len(r) > 1}


def default_titles_path() -> Path:
    """The ``titles.csv`` shipped with labgrade (the lab's real file)."""
    return Path(str(resources.files("labgrade.reference") / "data" / "titles.csv"))


def load_titles(path: Path | None = None) -> Titles:
    """Read a titles CSV with header ``movie,name``, rows numbered 0, 1, 2, ... in order.

    Raises:
        DataError: the file is missing, not UTF-8, lacks the header, or its row
            numbers are not consecutive from 0 (naming the line).
    """
    p = path or default_titles_path()
    raw, text = read_user_text(p, "titles file", DataError)
    reader = csv.reader(text.splitlines())
    header = next(reader, None)
    if header is None or [h.strip() for h in header[:2]] != ["movie", "name"]:
        raise DataError(f"{p}: line 1: expected the header 'movie,name', got {header!r}")
    names: list[str] = []
    for line, row in enumerate(reader, start=2):
        if not row:
            continue
        if len(row) < 2 or row[0].strip() != str(len(names)):
            raise DataError(f"{p}: line {line}: expected '{len(names)},<title>', got {','.join(row)!r}")
        names.append(",".join(row[1:]))
    if not names:
        raise DataError(f"{p}: no titles after the header")
    return Titles(source=str(p), names=tuple(names), sha256=hashlib.sha256(raw).hexdigest())
