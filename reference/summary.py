"""A plain-text summary of expectations: provenance, distributions and the bands they give."""

from __future__ import annotations

import torch

from labgrade.harness.inputs.spec import BandSpec, Spec
from labgrade.reference.expectations import Expectations
from labgrade.reference.experiments import Datasets


def _fmt(t: torch.Tensor) -> str:
    return f"{float(t):.6g}"


def summarise(spec: Spec, exp: Expectations, data: Datasets) -> str:
    """Describe what the reference computed and which band each scalar check will use."""
    p = exp.provenance
    lines = [
        f"spec {spec.id} ({spec.path}), hash {spec.sha256[:12]}, experiments {p.spec_experiments_hash[:12]}",
        f"torch {p.torch_version}, numba {p.numba_version}, devices {', '.join(p.devices)}",
        f"cache {exp.path}",
    ]
    if data.ratings is not None:
        r = data.ratings
        lines.append(f"ratings: {r.source}, {tuple(r.tensor.shape)}, density {r.density:.3f}, sha256 {r.sha256[:12]}")
    lines.append("")
    lines.append(
        f"{'experiment':<10} {'quantity':<14} {'device':<6} {'min':>10} {'median':>10} {'p95':>10} {'max':>10}"
    )
    q = torch.tensor([0.0, 0.5, 0.95, 1.0], dtype=torch.float64)
    for device, dists in exp.distributions.items():
        for name, dist in dists.items():
            for quantity, samples in dist.samples.items():
                if samples[0].numel() != 1:
                    continue
                values = torch.quantile(samples.reshape(-1), q)
                lines.append(f"{name:<10} {quantity:<14} {device:<6} " + " ".join(f"{_fmt(v):>10}" for v in values))
            for bound, value in dist.bounds.items():
                lines.append(f"{name:<10} {bound:<14} {device:<6} {value:>10.6g}  (exact)")
    lines.append("")
    lines.append("bands used for grading (union over devices):")
    for question in spec.questions:
        for check in question.checks:
            band_spec = check.params.get("band")
            wanted = check.params.get("quantity")
            experiment = check.params.get("experiment", question.experiment)
            if not (isinstance(band_spec, BandSpec) and isinstance(wanted, str) and experiment):
                continue
            band = exp.band(experiment, wanted, band_spec)
            lines.append(f"  {question.id:>5} {check.kind:<12} {experiment}.{wanted}: {band.describe()}")
    return "\n".join(lines)
