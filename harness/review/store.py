"""Graders' marks as an append-only log in ``OUT/reviews.sqlite``: nothing is ever overwritten.

Every save is an event: the question, the submission, the rubric items applied, a
signed adjustment, the comment, the grader, the time, the rubric's hash (its points
then, kept once in ``rubrics``) and the hash of the answer text that was marked.  The
current mark of a part is its last event.  A save names the event its grader saw
(``base``); if another was saved since, the save is refused (:class:`StaleSave`), so
two graders on one server never overwrite each other in silence.

SQLite in WAL mode with ``synchronous=FULL``: a save that returned is on disk, and a
``kill -9`` mid-save leaves the log as it was before that save or after it, never
between.  A group decision is saved as *proposed* events, which count as pending
until a grader confirms each one.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from labgrade.harness.inputs.rubric import ReviewSpec

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    question TEXT NOT NULL,
    submission TEXT NOT NULL,
    items TEXT NOT NULL,
    adjustment REAL NOT NULL DEFAULT 0,
    comment TEXT NOT NULL DEFAULT '',
    grader TEXT NOT NULL,
    at REAL NOT NULL,
    rubric_hash TEXT NOT NULL,
    text_hash TEXT NOT NULL DEFAULT '',
    base INTEGER NOT NULL DEFAULT 0,
    confirmed INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX IF NOT EXISTS events_part ON events (question, submission, id);
CREATE TABLE IF NOT EXISTS rubrics (hash TEXT PRIMARY KEY, points TEXT NOT NULL);
"""

STORE_NAME = "reviews.sqlite"


class StaleSave(Exception):
    """Another grader saved this part after the page was opened: the save was refused."""


@dataclass(frozen=True)
class Event:
    """One grader's decision on one part (the last one is the part's mark)."""

    id: int
    question: str
    submission: str
    items: tuple[str, ...]
    adjustment: float
    comment: str
    grader: str
    at: float
    rubric_hash: str
    text_hash: str
    base: int
    confirmed: bool

    @property
    def when(self) -> str:
        """Its time, as people read it (UTC)."""
        return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(self.at))


class ReviewStore:
    """The review log of one output folder."""

    def __init__(self, out: Path) -> None:
        self.path = out / STORE_NAME
        self._db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        """Close the database (everything saved is already on disk)."""
        self._db.close()

    @contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")  # one writer at a time: the stale check and the insert are one step
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def save(
        self,
        question: str,
        submission: str,
        review: ReviewSpec,
        items: Sequence[str],
        adjustment: float,
        comment: str,
        grader: str,
        *,
        base: int,
        text_hash: str = "",
        confirmed: bool = True,
    ) -> Event:
        """Append a grader's decision; refuse it (:class:`StaleSave`) if the part's last event is not ``base``."""
        with self._writing() as db:
            row = db.execute(
                "SELECT id, grader, at FROM events WHERE question = ? AND submission = ? ORDER BY id DESC LIMIT 1",
                (question, submission),
            ).fetchone()
            if (row[0] if row else 0) != base:
                when = time.strftime("%H:%M:%S UTC", time.gmtime(row[2]))
                raise StaleSave(
                    f"{row[1]} saved a mark for {question} of this submission at {when}, after this page was opened; "
                    "nothing was saved: reload to see it, then decide again"
                )
            db.execute(
                "INSERT OR IGNORE INTO rubrics (hash, points) VALUES (?, ?)",
                (review.sha256, json.dumps({"points": review.points, "items": {i.id: i.points for i in review.items}})),
            )
            cursor = db.execute(
                "INSERT INTO events (question, submission, items, adjustment, comment, grader, at, rubric_hash,"
                " text_hash, base, confirmed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (question, submission, json.dumps(list(items)), float(adjustment), comment, grader, time.time(),
                 review.sha256, text_hash, base, int(confirmed)),
            )  # fmt: skip
            event_id = cursor.lastrowid
        found = self.event(int(event_id or 0))
        assert found is not None
        return found

    def event(self, event_id: int) -> Event | None:
        """One event by its id."""
        row = self._db.execute(f"SELECT {_COLUMNS} FROM events WHERE id = ?", (event_id,)).fetchone()
        return _event(row) if row else None

    def current(self) -> dict[tuple[str, str], Event]:
        """Each part's last event, keyed by (question, submission)."""
        rows = self._db.execute(
            f"SELECT {_COLUMNS} FROM events WHERE id IN (SELECT MAX(id) FROM events GROUP BY question, submission)"
        ).fetchall()
        return {(e.question, e.submission): e for e in map(_event, rows)}

    def history(self, question: str, submission: str) -> list[Event]:
        """Every event of one part, oldest first."""
        rows = self._db.execute(
            f"SELECT {_COLUMNS} FROM events WHERE question = ? AND submission = ? ORDER BY id", (question, submission)
        ).fetchall()
        return [_event(r) for r in rows]

    def rubric_points(self, rubric_hash: str) -> dict[str, float] | None:
        """The item points a rubric version had (for the diff after a spec change)."""
        row = self._db.execute("SELECT points FROM rubrics WHERE hash = ?", (rubric_hash,)).fetchone()
        if row is None:
            return None
        data = json.loads(row[0])
        return {str(k): float(v) for k, v in data["items"].items()}


_COLUMNS = "id, question, submission, items, adjustment, comment, grader, at, rubric_hash, text_hash, base, confirmed"


def _event(row: tuple[object, ...]) -> Event:
    items = json.loads(str(row[3]))
    return Event(
        int(str(row[0])), str(row[1]), str(row[2]), tuple(str(i) for i in items), float(str(row[4])),
        str(row[5]), str(row[6]), float(str(row[7])), str(row[8]), str(row[9]), int(str(row[10])), bool(row[11]),
    )  # fmt: skip
