"""The class's similarity pass: the code each submission was graded on, compared, into OUT/similarity.*.

Runs in the trusted parent after a batch, over what grading itself read (the
definitions taken from each file, notebook or report listing, so a copy hidden
in a notebook or a PDF report is compared like any file), plus known sources
given with ``--compare-with`` (last year's class, solutions found online),
which are compared with the class but never graded.  The code the lab hands
out (the spec's ``similarity.handed_out``) is excluded, so every student does
not match every other.  A pair is for a human to read: it never changes a mark.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from labgrade.harness.inputs.spec import Spec
from labgrade.harness.inputs.submission import Submission, discover, load_submission
from labgrade.harness.judging.similarity import SimilarityReport, Source, find_similar
from labgrade.harness.outputs.similarity_report import write_similarity

MAX_RAW = 1 << 20  # the most of an ungradable file read to say why it was not compared


def graded_code(submission: Submission) -> str:
    """The definitions grading ran, as one source (each unit parsed when it was extracted).

    A ``.py`` file with no definitions to grade (a syntax error) is given as it is,
    so the similarity report says why it was not compared ("does not parse: line 7").
    """
    parts = [unit.code.rstrip() + "\n" for unit in submission.units]
    if not parts and submission.path.suffix == ".py" and submission.path.is_file():
        try:
            return submission.path.read_text(encoding="utf-8", errors="replace")[:MAX_RAW]
        except OSError:
            return ""
    return "\n".join(parts)


def class_sources(loaded: Mapping[str, Submission]) -> list[Source]:
    """One :class:`Source` per graded submission, named as in the gradebook."""
    return [Source(name, graded_code(sub)) for name, sub in sorted(loaded.items())]


def known_sources(folders: Sequence[Path], spec: Spec) -> list[Source]:
    """Sources from ``--compare-with`` folders, named ``known:<folder>/<entry>``.

    Each entry of a folder is one source, read the way a submission is (a file, a
    notebook, a report, or a folder holding one): a folder of solutions found
    online is many sources, not one submission.
    """
    sources = []
    for folder in folders:
        for path in discover(sorted(folder.iterdir())).submissions:
            label = path.relative_to(folder) if path.is_relative_to(folder) else path.name
            sources.append(Source(f"known:{folder.name}/{label}", graded_code(load_submission(path, spec)), known=True))
    return sources


def compare(sources: Sequence[Source], spec: Spec) -> SimilarityReport:
    """Compare ``sources`` under the spec's policy: its handed-out code excluded, its threshold."""
    return find_similar(sources, [spec.similarity.handed_out], spec.similarity.threshold)


def similarity_pass(
    out: Path, loaded: Mapping[str, Submission], known: Sequence[Source], spec: Spec, log: Callable[[str], None]
) -> SimilarityReport:
    """Compare the class (and the known sources); write ``OUT/similarity.csv`` and ``OUT/similarity.html``."""
    sources = [*class_sources(loaded), *known]
    report = compare(sources, spec)
    _, html_path = write_similarity(out, report, sources)
    flagged = sum(1 for p in report.pairs if p.flagged)
    log(
        f"similarity: {flagged} pair(s) at or above {spec.similarity.threshold:g} among {len(sources)} source(s)"
        f" in {report.seconds:.1f} s: {html_path}"
    )
    return report
