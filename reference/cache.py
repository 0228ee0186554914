"""The reference cache: expected distributions on disk, with the provenance that made them.

The cache is JSON (plain numbers, never pickle) and is written atomically.  It
is valid only for the exact provenance it records: harness version, a hash of
the reference code, torch and numba versions, the devices, the content hash of
the spec's inputs and experiments (the part that determines expected values, so
retuning a band or a weight does not cost a rebuild), the data hashes and the
seeds.  Any difference makes it stale, and the caller rebuilds it; a stale or
damaged cache is never used.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from labgrade.harness.atomic import atomic_write
from labgrade.reference.experiments import Distribution

CACHE_FORMAT = 1


@dataclass(frozen=True)
class Provenance:
    """Everything that determines the expected values; ``created`` is informative only."""

    harness_version: str
    reference_code: str
    torch_version: str
    numba_version: str
    devices: tuple[str, ...]
    spec_id: str
    spec_experiments_hash: str
    data: dict[str, str]
    seeds: dict[str, int]
    created: str = field(default="", compare=False)

    def differences(self, other: Provenance) -> list[str]:
        """Fields that differ from ``other`` (``created`` excluded), as ``name: old -> new``."""
        mine, theirs = asdict(self), asdict(other)
        return [
            f"{key}: {_short(theirs[key])} -> {_short(mine[key])}"
            for key in mine
            if key != "created" and mine[key] != theirs[key]
        ]


def _short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=list)
    return text if len(text) <= 40 else text[:37] + "..."


def reference_code_hash() -> str:
    """Hash of the reference package's source: changing an algorithm invalidates caches."""
    h = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def _encode(dist: Distribution) -> dict[str, Any]:
    return {
        "seeds": list(dist.seeds),
        "bounds": dict(dist.bounds),
        "samples": {
            name: {"shape": list(t.shape), "data": t.to(torch.float64).flatten().tolist()}
            for name, t in dist.samples.items()
        },
    }


def _decode(experiment: str, device: str, raw: dict[str, Any]) -> Distribution:
    samples = {
        name: torch.tensor(body["data"], dtype=torch.float64).reshape(body["shape"])
        for name, body in raw["samples"].items()
    }
    return Distribution(
        experiment=experiment,
        device=device,
        seeds=tuple(int(s) for s in raw["seeds"]),
        samples=samples,
        bounds={k: float(v) for k, v in raw["bounds"].items()},
    )


def save_cache(path: Path, provenance: Provenance, distributions: dict[str, dict[str, Distribution]]) -> None:
    """Write the cache atomically (temporary file in the same folder, then rename)."""
    body = {
        "format": CACHE_FORMAT,
        "provenance": asdict(provenance),
        "distributions": {
            device: {name: _encode(d) for name, d in exps.items()} for device, exps in distributions.items()
        },
    }
    atomic_write(path, json.dumps(body))


@dataclass(frozen=True)
class CacheRead:
    """What was found at a cache path: its distributions when valid, else why not.

    ``tolerated`` lists the provenance differences that were accepted (see :func:`read_cache`).
    """

    distributions: dict[str, dict[str, Distribution]] | None
    reason: str
    provenance: Provenance | None = None
    tolerated: tuple[str, ...] = ()


def read_cache(path: Path, wanted: Provenance, tolerate: frozenset[str] = frozenset()) -> CacheRead:
    """Read the cache at ``path`` if, and only if, its provenance equals ``wanted``.

    Fields named in ``tolerate`` may differ (the shipped expectations accept another
    torch or numba version: they are distributions over seeds, not bit patterns);
    the differences accepted are returned in ``tolerated``.
    """
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return CacheRead(None, "no reference cache yet")
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return CacheRead(None, f"reference cache {path} is unreadable ({exc.__class__.__name__})")
    try:
        if body.get("format") != CACHE_FORMAT:
            return CacheRead(None, f"reference cache format {body.get('format')} is not {CACHE_FORMAT}")
        raw = dict(body["provenance"])
        raw["devices"] = tuple(raw["devices"])
        found = Provenance(**raw)
        diffs = [d for d in wanted.differences(found) if d.split(":", 1)[0] not in tolerate]
        if diffs:
            return CacheRead(None, "reference cache is stale (" + "; ".join(diffs) + ")")
        accepted = tuple(d for d in wanted.differences(found) if d.split(":", 1)[0] in tolerate)
        dists = {
            device: {name: _decode(name, device, d) for name, d in exps.items()}
            for device, exps in body["distributions"].items()
        }
    except (KeyError, TypeError, ValueError, RuntimeError, AttributeError) as exc:
        return CacheRead(None, f"reference cache {path} is damaged ({exc.__class__.__name__})")
    return CacheRead(dists, "reference cache is up to date", found, accepted)
