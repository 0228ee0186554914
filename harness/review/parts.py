"""The parts a person marks, read from an output folder: one per (question, submission), in a blind order.

A part carries the student's words (untrusted), where they were read, the rubric
suggestions grading found, and what the engine measured for that student (their
code's SGD loss, the losses they reported), so a grader can see at once whether
"the SVD error is lower" matches the student's own numbers.  The order is a stable
shuffle of the submissions (a hash of spec, question and name): the same for every
grader and every session, and not alphabetical, so names give nothing away.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from labgrade.harness.inputs.spec import Spec
from labgrade.harness.review.apply import result_files
from labgrade.harness.review.store import Event

#: Checks whose messages are the engine's own figures for a student (shown beside their words).
MEASURED = ("loss_band", "answer_band", "answer_close", "completion_band")
#: Two answers whose word sets overlap at least this much are one group.
GROUP_OVERLAP = 0.8


@dataclass(frozen=True)
class Part:
    """One student's answer to one reviewed question, and what the engine measured for them."""

    question: str
    submission: str
    text: str
    where: str
    text_hash: str
    suggested: tuple[tuple[str, tuple[str, ...]], ...]
    automatic: float
    measured: tuple[tuple[str, str], ...]  # (question id, check message)


def read_parts(out: Path, spec: Spec) -> dict[str, list[Part]]:
    """Every reviewed question's parts, each list in the question's blind order."""
    reviewed = {q.id for q in spec.questions if q.review}
    parts: dict[str, list[Part]] = {qid: [] for qid in reviewed}
    for path in result_files(out):
        results = json.loads(path.read_text())
        name = str(results.get("extra_data", {}).get("labgrade", {}).get("name", path.parent.name))
        tests = [t for t in results.get("tests", []) if isinstance(t, dict)]
        measured = tuple(
            (str(t.get("number")), str(c.get("message", "")))
            for t in tests
            for c in (t.get("extra_data") or {}).get("checks", [])
            if c.get("kind") in MEASURED
        )
        for test in tests:
            review = (test.get("extra_data") or {}).get("review")
            qid = str(test.get("number"))
            if qid not in reviewed or not isinstance(review, dict):
                continue
            suggested = tuple((str(s["item"]), tuple(map(str, s["words"]))) for s in review.get("suggested", []))
            parts[qid].append(
                Part(qid, name, str(review.get("text", "")), str(review.get("where", "")),
                     str(review.get("text_hash", "")), suggested, float(review.get("automatic", 0)), measured)
            )  # fmt: skip
    for qid, found in parts.items():
        found.sort(key=lambda p: hashlib.sha256(f"{spec.id}/{qid}/{p.submission}".encode()).hexdigest())
    return parts


def state(part: Part, event: Event | None) -> str:
    """``pending``, ``proposed`` (a group decision not yet confirmed), ``reviewed`` or ``re-review``."""
    if event is None:
        return "pending"
    if not event.confirmed:
        return "proposed"
    return "re-review" if part.text_hash and event.text_hash != part.text_hash else "reviewed"


def _words(text: str) -> frozenset[str]:
    return frozenset(re.findall(r"[a-z0-9]+", text.lower()))


def groups(parts: list[Part]) -> list[list[int]]:
    """Indices of answers that say nearly the same (word sets overlapping by ``GROUP_OVERLAP``); singletons left out."""
    words = [_words(p.text) for p in parts]
    parent = list(range(len(parts)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(len(parts)):
        for j in range(i + 1, len(parts)):
            a, b = words[i], words[j]
            if a and b and len(a & b) / len(a | b) >= GROUP_OVERLAP:
                parent[root(j)] = root(i)
    found: dict[int, list[int]] = {}
    for i in range(len(parts)):
        found.setdefault(root(i), []).append(i)
    return [g for g in found.values() if len(g) > 1]
