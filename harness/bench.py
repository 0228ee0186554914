"""``make bench``: measured ratios against a baseline, side by side, from one run.

Timings on shared machines are noisy, so nothing here is a pass/fail test: the
benchmark prints the baseline and the candidate measured in the same process on
the same data, and the ratio between them.  Per-epoch times are reported because
both the lab's dense loop and the fast path cost the same for every epoch; a few
epochs measure them as well as a thousand would.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TypeVar

import torch

from reference.algorithms import gd_factorise_masked
from reference.fast_gd import FastResult, gd_factorise_masked_fast, to_csr
from reference.synthetic import synthetic_ratings

T = TypeVar("T")


@dataclass(frozen=True)
class BenchRow:
    """One comparison: what was timed, the baseline and candidate seconds, and agreement."""

    name: str
    baseline_s: float
    candidate_s: float
    max_rel_diff: float

    @property
    def speedup(self) -> float:
        """How many times faster the candidate is."""
        return self.baseline_s / self.candidate_s


def rel_diff(a: torch.Tensor, b: torch.Tensor) -> float:
    """Largest absolute difference relative to the largest magnitude of ``b``."""
    a64, b64 = a.double(), b.double()
    return float((a64 - b64).abs().max() / b64.abs().max().clamp_min(1e-30))


def _timed(fn: Callable[[], T]) -> tuple[float, T]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def bench_reference(epochs: int, seeds: int, log: Callable[[str], None]) -> list[BenchRow]:
    """Time the fast Netflix path against the lab's dense loop on the synthetic tensor.

    The dense baseline runs with one torch thread (as the lab's figure of 119-137 ms
    per epoch was measured); the fast path uses every core it is given.
    """
    A = synthetic_ratings()
    M = (A > 0).to(torch.float32)
    csr = to_csr(A, M)
    rank = 5
    log("bench: compiling the fast path (not timed)")
    gd_factorise_masked_fast(csr, rank, [0], num_epochs=1)

    def dense(count: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
        out = []
        for seed in range(count):
            torch.manual_seed(seed)
            out.append(gd_factorise_masked(A, M, rank, num_epochs=epochs))
        return out

    def fast(count: int) -> FastResult:
        return gd_factorise_masked_fast(csr, rank, range(count), num_epochs=epochs)

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    rows = []
    try:
        for count in (1, seeds):
            log(f"bench: dense loop, {count} seed(s) x {epochs} epochs")
            t_dense, dense_out = _timed(partial(dense, count))
            log(f"bench: fast path, {count} seed(s) x {epochs} epochs")
            t_fast, fast_out = _timed(partial(fast, count))
            worst = max(
                max(rel_diff(fast_out.U[seed], U), rel_diff(fast_out.V[seed], V))
                for seed, (U, V) in enumerate(dense_out)
            )
            rows.append(BenchRow(f"netflix gd, {count} seed(s)", t_dense, t_fast, worst))
    finally:
        torch.set_num_threads(previous)
    return rows


def bench_reports(results_path: Path, copies: int, log: Callable[[str], None]) -> list[BenchRow]:
    """Time feedback PDFs: one warm render, and a batch on all cores against one core.

    Rows are in seconds per report (``epochs`` = 1 when formatted).
    """
    import json
    import shutil
    import tempfile

    from harness.report import render_pdf, write_many

    results = json.loads(results_path.read_text())
    render_pdf(results)  # warm: fonts and templates loaded
    warm, _ = _timed(lambda: render_pdf(results))
    rows = [BenchRow("one report, warm", warm, warm, 0.0)]
    folder = Path(tempfile.mkdtemp(prefix="labgrade-bench-"))
    try:
        paths = []
        for i in range(copies):
            target = folder / f"s{i}" / "results.json"
            target.parent.mkdir()
            shutil.copy(results_path, target)
            paths.append(target)
        log(f"bench: {copies} reports on one core")
        serial, _ = _timed(lambda: write_many(paths, jobs=1))
        log(f"bench: {copies} reports on all cores")
        parallel, _ = _timed(lambda: write_many(paths))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    rows.append(BenchRow(f"{copies} reports: 1 core vs all", serial / copies, parallel / copies, 0.0))
    return rows


def format_rows(rows: list[BenchRow], epochs: int, unit: str = "ms/ep") -> str:
    """A side-by-side table of baseline and candidate with the ratio (times per ``unit``)."""
    lines = [
        f"{'benchmark':<32} {'baseline':>{9 + len(unit)}} {'candidate':>{9 + len(unit)}} {'speed-up':>9} "
        f"{'max rel diff':>13}",
    ]
    for r in rows:
        lines.append(
            f"{r.name:<32} {1000 * r.baseline_s / epochs:>8.1f} {unit} {1000 * r.candidate_s / epochs:>8.1f}"
            f" {unit} {r.speedup:>8.1f}x {r.max_rel_diff:>13.2e}"
        )
    return "\n".join(lines)
