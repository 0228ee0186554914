"""``make bench``, similarity: the pass's time on the generated class, and whether it finds what was planted.

The generated class (:mod:`labgrade.harness.bench.classgen`) knows who copied whom, so
the pass is scored as well as timed: planted copies found (recall) and pairs
flagged among independent students (false pairs, which should be none).  The
sources are read through :func:`labgrade.harness.running.similar.class_sources`, the
same code ``labgrade grade`` uses.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from labgrade.harness.bench.classgen import GeneratedClass


@dataclass(frozen=True)
class SimilarityBench:
    """One similarity pass over a generated class, scored against its planted copies."""

    submissions: int
    seconds: float
    planted: int  # disguised copies: renamed, reformatted, comments, order, extra functions
    found: int
    edited: int  # copies whose algorithm was also edited in one detail
    edited_found: int
    false_pairs: tuple[tuple[str, str, float], ...]


def bench_similarity(inputs: Path, generated: GeneratedClass, log: Callable[[str], None]) -> SimilarityBench:
    """Run the similarity pass on the files in ``inputs`` (as ``labgrade grade`` reads them) and score it."""
    from labgrade.harness.inputs.assets import resolve_spec
    from labgrade.harness.inputs.spec import load_spec
    from labgrade.harness.inputs.submission import load_submission
    from labgrade.harness.running.similar import class_sources, compare

    spec = load_spec(resolve_spec("lab1"))
    log(f"bench: similarity pass over {len(generated.paths)} submissions")
    started = time.perf_counter()
    loaded = {path.stem: load_submission(path, spec) for path in sorted(inputs.iterdir())}
    report = compare(class_sources(loaded), spec)
    seconds = time.perf_counter() - started
    copies = {frozenset(pair) for pair in generated.copies}
    edited = {frozenset(pair) for pair in generated.copies if pair[0] in generated.edited}
    flagged = {frozenset((p.a, p.b)): p.score for p in report.pairs if p.flagged}
    false = tuple(sorted((*sorted(pair), score) for pair, score in flagged.items() if pair not in copies))
    return SimilarityBench(
        len(loaded), seconds, len(copies - edited), len((copies - edited) & flagged.keys()),
        len(edited), len(edited & flagged.keys()), false,  # type: ignore[arg-type]
    )  # fmt: skip


def format_similarity(row: SimilarityBench) -> str:
    """The similarity pass's figures, in one table."""
    lines = [
        f"similarity pass on the generated class ({row.submissions} submissions, copies planted by the generator)",
        f"  time (read, normalise, fingerprint, compare)       {row.seconds:6.2f} s",
        f"  disguised copies flagged                            {row.found:3d} / {row.planted}",
        f"  copies also edited in one detail, flagged           {row.edited_found:3d} / {row.edited}",
        f"  pairs flagged among independent students            {len(row.false_pairs):3d}",
    ]
    lines += [f"    {a} ~ {b}: {score:.2f}" for a, b, score in row.false_pairs[:5]]
    return "\n".join(lines)
