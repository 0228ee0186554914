"""Geometry for the report's small pictures, computed from result data (the SVG is drawn by templates).

A *strip* puts one quantity on a horizontal axis: the reference's samples as
ticks, the grading band as a shaded span, a mathematical bound as a line, and
the student's value(s) as markers (clamped to the edge, with an arrow, when far
outside).  A *matrix* draws one small strip per entry of a completed matrix.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

WIDTH = 300.0
HEIGHT = 38.0
PAD = 8.0
TICK = 0.6  # a tick's width (SVG user units): ticks closer than this overlap, and are drawn as one run


@dataclass(frozen=True)
class Marker:
    """A student's value on the axis; ``clipped`` when it lies beyond the drawn range."""

    x: float
    label: str
    inside: bool
    clipped: str  # "", "left" or "right"


@dataclass(frozen=True)
class Strip:
    """Everything a template needs to draw one strip."""

    width: float
    height: float
    ticks: tuple[tuple[float, float], ...]  # runs of overlapping ticks: (left, right) edges, one filled box each
    band: tuple[float, float]
    bound: float | None
    markers: tuple[Marker, ...]
    axis: tuple[tuple[float, str], ...]
    title: str


def _finite(values: Any) -> list[float]:
    out = []
    for v in values if isinstance(values, list) else []:
        if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v):
            out.append(float(v))
    return out


def _fmt(x: float) -> str:
    return f"{x:.4g}"


def strip(
    title: str,
    samples: list[float],
    band: tuple[float, float],
    values: list[float],
    bound: float | None = None,
    width: float = WIDTH,
    height: float = HEIGHT,
) -> Strip:
    """Lay out a strip: the range covers the band and the samples, with a margin."""
    lo, hi = band
    points = [*samples, lo, hi] + ([bound] if bound is not None else [])
    start, end = min(points), max(points)
    span = end - start or max(abs(end), 1.0) * 0.1
    start, end = start - 0.08 * span, end + 0.08 * span

    def x(v: float) -> float:
        return PAD + (v - start) / (end - start) * (width - 2 * PAD)

    markers = []
    for v in values:
        clipped = "left" if v < start else "right" if v > end else ""
        pos = x(min(max(v, start), end))
        markers.append(Marker(pos, _fmt(v), lo <= v <= hi, clipped))
    markers = _one_label_an_edge(markers)
    axis = tuple((x(t), _fmt(t)) for t in (start + 0.08 * span, end - 0.08 * span))
    return Strip(
        width=width,
        height=height,
        ticks=_tick_runs([x(s) for s in samples]),
        band=(x(lo), x(hi)),
        bound=x(bound) if bound is not None else None,
        markers=tuple(markers),
        axis=axis,
        title=title,
    )


def _tick_runs(xs: list[float]) -> tuple[tuple[float, float], ...]:
    """Ticks of :data:`TICK` width at ``xs``, as the boxes they cover: overlapping ticks merge into one run.

    Why: the reference's samples crowd around its mean, and each tick drawn on its
    own was a path command WeasyPrint parses and strokes; the union of overlapping
    ticks is one box, and looks the same.
    """
    runs: list[list[float]] = []
    for x in sorted(xs):
        if runs and x - TICK / 2 <= runs[-1][1]:
            runs[-1][1] = x + TICK / 2
        else:
            runs.append([x - TICK / 2, x + TICK / 2])
    return tuple((round(a, 2), round(b, 2)) for a, b in runs)


def _one_label_an_edge(markers: list[Marker]) -> list[Marker]:
    """Markers clipped to the same edge sit on one spot: the first carries every value's label, the rest none.

    (Each drawing its own label there printed them on top of one another.)
    """
    out = list(markers)
    for side in ("left", "right"):
        at = [i for i, m in enumerate(out) if m.clipped == side]
        if len(at) > 1:
            label = ", ".join(sorted({out[i].label for i in at}, key=float))
            out = [replace(m, label=label if i == at[0] else "") if i in at else m for i, m in enumerate(out)]
    return out


def plot_from_details(details: dict[str, Any]) -> dict[str, Any] | None:
    """Turn a check's ``plot`` details (from results.json) into drawable geometry, or ``None``."""
    plot = details.get("plot")
    if not isinstance(plot, dict):
        return None
    kind = plot.get("kind")
    band = _finite(plot.get("band"))
    if kind == "strip" and len(band) == 2:
        bound = plot.get("bound")
        bound_value = float(bound) if isinstance(bound, int | float) and math.isfinite(bound) else None
        values = _finite(plot.get("values"))
        samples = _finite(plot.get("samples"))[:200]
        title = str(plot.get("title", ""))[:80]
        return {"kind": "strip", "strip": strip(title, samples, (band[0], band[1]), values, bound_value)}
    if kind == "matrix":
        rows = plot.get("values")
        low, high = plot.get("low"), plot.get("high")
        if not (isinstance(rows, list) and isinstance(low, list) and isinstance(high, list)):
            return None
        cells = []
        for i, row in enumerate(rows[:6]):
            r_values, r_low, r_high = (
                _finite(row),
                _finite(low[i] if i < len(low) else []),
                _finite(high[i] if i < len(high) else []),
            )
            cells.append(
                [
                    strip("", [], (r_low[j], r_high[j]), [r_values[j]], width=96, height=26)
                    for j in range(min(len(r_values), len(r_low), len(r_high), 6))
                ]
            )
        return {"kind": "matrix", "rows": cells, "title": str(plot.get("title", ""))[:80]}
    return None
