"""A question's part that a person marks: its points and rubric items, as the spec states them.

``review: {points: 0.6, items: [...]}`` under a question moves ``points`` of its marks
from the automatic checks to a grader (the checks keep ``marks - points``).  Each
item has an id, signed points, what the grader looks for (``description``), what the
student reads when it is applied (``explanation``), and ``suggest`` concepts: words
or phrases (any of them, case-insensitive, at word boundaries), or a regular
expression written ``/.../``, that make the review page suggest the item.  A
suggestion is never applied by itself.  The rubric's hash names the version of the
items a grader used, so that a change of points is seen and recomputed.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any, Protocol


class _Problems(Protocol):
    def add(self, key_path: tuple[str | int, ...], message: str) -> None: ...


class _Reader(Protocol):
    """What this reads a section with: the spec loader's typed accessors (``spec._Reader``)."""

    @property
    def p(self) -> _Problems: ...

    def mapping(
        self, value: Any, path: tuple[str | int, ...], required: set[str], optional: set[str]
    ) -> dict[str, Any] | None: ...

    def number(self, value: Any, path: tuple[str | int, ...], minimum: float, strict: bool) -> float: ...

    def string(self, value: Any, path: tuple[str | int, ...], pattern: re.Pattern[str] | None = None) -> str: ...

    def sequence(self, value: Any, path: tuple[str | int, ...]) -> list[Any]: ...


_ITEM_ID = re.compile(r"^[a-z][a-z0-9_-]*$")


@dataclass(frozen=True)
class RubricItem:
    """One thing a grader awards (or takes off), with its words for the grader and for the student."""

    id: str
    points: float
    description: str
    explanation: str
    suggest: tuple[str, ...] = ()

    def patterns(self) -> tuple[re.Pattern[str], ...]:
        """The ``suggest`` concepts as patterns: ``/regex/`` as written, a phrase at word boundaries."""
        out = []
        for concept in self.suggest:
            if len(concept) > 2 and concept.startswith("/") and concept.endswith("/"):
                out.append(re.compile(concept[1:-1], re.IGNORECASE))
            else:
                words = r"\s+".join(re.escape(w) for w in concept.split())
                out.append(re.compile(rf"(?<!\w){words}(?!\w)", re.IGNORECASE))
        return tuple(out)


@dataclass(frozen=True)
class ReviewSpec:
    """The part of a question a person marks: ``points`` of it, by these items."""

    points: float
    items: tuple[RubricItem, ...]

    @property
    def sha256(self) -> str:
        """The rubric's identity: its points and every item's id and points (words may change freely)."""
        data = {"points": self.points, "items": {i.id: i.points for i in self.items}}
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]

    def item(self, item_id: str) -> RubricItem | None:
        """The item called ``item_id``, if the rubric has one."""
        return next((i for i in self.items if i.id == item_id), None)


def read_review(r: _Reader, raw: Any, path: tuple[str | int, ...], marks: float) -> ReviewSpec | None:
    """Validate a question's ``review:`` section, reporting each problem with its key path and line."""
    m = r.mapping(raw, path, {"points", "items"}, set())
    if m is None:
        return None
    points = r.number(m["points"], (*path, "points"), 0, strict=True)
    if marks and points > marks:
        r.p.add((*path, "points"), f"expected at most the question's {marks:g} marks, got {points:g}")
    items: list[RubricItem] = []
    seen: set[str] = set()
    for i, entry in enumerate(r.sequence(m["items"], (*path, "items"))):
        where = (*path, "items", i)
        item = r.mapping(entry, where, {"id", "points", "description", "explanation"}, {"suggest"})
        if item is None:
            continue
        item_id = r.string(item["id"], (*where, "id"))
        if item_id and not _ITEM_ID.match(item_id):
            r.p.add((*where, "id"), f"expected a short lower-case id (letters, digits, - and _), got {item_id!r}")
        if item_id in seen:
            r.p.add((*where, "id"), f'duplicate rubric item "{item_id}"')
        seen.add(item_id)
        value = item["points"]
        if not isinstance(value, int | float) or isinstance(value, bool) or value == 0:
            r.p.add((*where, "points"), f"expected a number other than 0 (negative takes off), got {value!r}")
            value = 0.0
        suggest = []
        for k, concept in enumerate(r.sequence(item.get("suggest", []), (*where, "suggest"))):
            text = r.string(concept, (*where, "suggest", k))
            if len(text) > 2 and text.startswith("/") and text.endswith("/"):
                try:
                    re.compile(text[1:-1])
                except re.error as exc:
                    r.p.add((*where, "suggest", k), f"not a valid regular expression: {exc}")
                    continue
            suggest.append(text)
        items.append(
            RubricItem(
                item_id,
                float(value),
                r.string(item["description"], (*where, "description")),
                r.string(item["explanation"], (*where, "explanation")),
                tuple(suggest),
            )
        )
    if not items and "items" in raw:
        r.p.add((*path, "items"), "expected at least one rubric item")
    return ReviewSpec(points, tuple(items))
