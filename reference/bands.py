"""Grading bands derived from the reference's distribution over seeds.

A band is never a guessed epsilon.  For a quantity sampled over seeds (on every
device present), with the spec's ``quantiles: [a, b]``, ``slack`` and ``rtol``::

    lo, hi  = quantile(samples, a), quantile(samples, b)
    spread  = hi - lo
    low     = lo - slack * spread - rtol * |lo|
    high    = hi + slack * spread + rtol * |hi|
    low     = max(low, bound * (1 - rtol))      # when a mathematical bound applies

``slack`` widens the band in proportion to how much the reference itself varies,
so an unlucky seed of a correct implementation (the lab's SGD ends anywhere from
0.1219 to 0.398) still passes; ``rtol`` covers float rounding and answers quoted
to four digits; the Eckart-Young bound is exact mathematics and float32 rounding
is all that may cross it.  The band for grading is the union of the per-device
bands, so a result that is correct on one device is correct everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import torch

from labgrade.harness.inputs.spec import BandSpec


@dataclass(frozen=True)
class Band:
    """Element-wise bounds for a quantity (a 0-d tensor for a scalar), with how they came."""

    low: torch.Tensor
    high: torch.Tensor
    spec: BandSpec
    bound: float | None
    samples: int
    devices: tuple[str, ...]

    def contains(self, value: torch.Tensor | float) -> torch.Tensor:
        """Element-wise: is ``value`` inside the band?"""
        v = torch.as_tensor(value, dtype=torch.float64)
        return (v >= self.low) & (v <= self.high)

    def describe(self) -> str:
        """A short human text of the band, for feedback."""
        if self.low.dim() == 0:
            return f"[{float(self.low):.6g}, {float(self.high):.6g}]"
        return f"element-wise bands of shape {tuple(self.low.shape)}"


def derive_band(
    samples: torch.Tensor,
    spec: BandSpec,
    bound: float | None = None,
    device: str = "cpu",
) -> Band:
    """Derive a band from ``samples`` (seeds first) following :mod:`this module's <labgrade.reference.bands>` rule.

    Args:
        samples: shape (seeds, *quantity_shape), float.
        spec: quantiles, slack, rtol and lower bound from the spec.
        bound: the value of ``spec.lower_bound`` when it is not ``none``.
        device: the device the samples came from (provenance only).
    """
    s = samples.to(torch.float64).cpu()
    q = torch.tensor(spec.quantiles, dtype=torch.float64)
    lo, hi = torch.quantile(s, q, dim=0)
    spread = hi - lo
    low = lo - spec.slack * spread - spec.rtol * lo.abs()
    high = hi + spec.slack * spread + spec.rtol * hi.abs()
    if bound is not None:
        low = torch.clamp(low, min=bound * (1 - spec.rtol))
    return Band(low, high, spec, bound, int(s.shape[0]), (device,))


def union(bands: Iterable[Band]) -> Band:
    """The smallest band covering all given bands (one per device)."""
    items = list(bands)
    if not items:
        raise ValueError("union of no bands")
    low = torch.stack([b.low for b in items]).amin(dim=0)
    high = torch.stack([b.high for b in items]).amax(dim=0)
    devices = tuple(d for b in items for d in b.devices)
    return Band(low, high, items[0].spec, items[0].bound, sum(b.samples for b in items), devices)
