"""Expected outputs for a spec: build them, cache them, and derive grading bands.

``load_expectations`` is the one entry point: it computes the provenance the
expectations *should* have, and uses, in order: the expectations that ship with
labgrade (``reference/data/expected-<spec>.json``: the shipped lab, on the CPU,
with the synthetic ratings), then the cache folder (the user's cache folder
unless one is given), and otherwise builds them there (saying why).  Devices: the
CPU always, CUDA when torch sees one; a band used for grading covers the spread
across all of them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.metadata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from labgrade.harness import __version__
from labgrade.harness.errors import UserError
from labgrade.harness.inputs.assets import user_cache_dir
from labgrade.harness.inputs.spec import BandSpec, Spec
from labgrade.reference.bands import Band, derive_band, union
from labgrade.reference.cache import Provenance, read_cache, reference_code_hash, save_cache
from labgrade.reference.catalogue import ALGORITHMS
from labgrade.reference.experiments import Datasets, Distribution, run_experiment
from labgrade.reference.ratings import load_ratings
from labgrade.reference.titles import load_titles

Log = Callable[[str], None]

#: Where the shipped expected outputs live (package data, refreshed by ``make shipped-reference``).
SHIPPED_DIR = Path(__file__).parent / "data"

#: What the shipped expectations may differ in: their bands are distributions over many
#: seeds, which another torch or numba build reproduces up to float noise, not bit for bit.
TOLERATED = frozenset({"torch_version", "numba_version"})


def available_devices() -> tuple[str, ...]:
    """The devices the reference runs on here: ``cpu``, plus ``cuda`` when available."""
    return ("cpu", "cuda") if torch.cuda.is_available() else ("cpu",)


def resolve_devices(choice: str) -> tuple[str, ...]:
    """Turn ``cpu``, ``cuda`` or ``all`` into the devices to use, or raise a user error."""
    if choice == "all":
        return available_devices()
    if choice == "cuda" and not torch.cuda.is_available():
        raise UserError("--device cuda: torch sees no CUDA device here (use --device cpu or all)")
    if choice not in ("cpu", "cuda"):
        raise UserError(f"--device: expected cpu, cuda or all, got {choice!r}")
    return (choice,)


def load_datasets(spec: Spec, ratings: Path | None, titles: Path | None) -> Datasets:
    """Load only the datasets the spec's inputs name (validated)."""
    needed = spec.datasets()
    loaded_titles = load_titles(titles) if "titles" in needed else None
    loaded_ratings = None
    if "ratings" in needed:
        movies = len(loaded_titles.names) if loaded_titles is not None else None
        loaded_ratings = load_ratings(ratings, movies)
    return Datasets(ratings=loaded_ratings, titles=loaded_titles)


def data_provenance(data: Datasets) -> dict[str, str]:
    """Hashes (and sources) of the datasets, for the cache's provenance."""
    out: dict[str, str] = {}
    if data.ratings is not None:
        out["ratings"] = data.ratings.sha256
        out["ratings_source"] = "synthetic" if data.ratings.synthetic else "file"
    if data.titles is not None:
        out["titles"] = data.titles.sha256
    return out


@dataclass(frozen=True)
class Expectations:
    """Per-device distributions of every experiment, with their provenance."""

    provenance: Provenance
    distributions: dict[str, dict[str, Distribution]]
    path: Path
    exact: bool = True  # built by this very torch: its per-seed factors are the reference's draws here

    @property
    def devices(self) -> tuple[str, ...]:
        """Devices the distributions were computed on."""
        return tuple(self.distributions)

    def samples(self, experiment: str, quantity: str, device: str = "cpu") -> torch.Tensor:
        """Samples of ``quantity`` (seeds first) on ``device``."""
        return self.distributions[device][experiment].samples[quantity]

    def bound(self, experiment: str, name: str) -> float | None:
        """A mathematical bound of an experiment (``None`` for ``none``)."""
        if name == "none":
            return None
        if name == "zero":
            return 0.0
        return self.distributions[self.devices[0]][experiment].bounds[name]

    def band(self, experiment: str, quantity: str, spec: BandSpec) -> Band:
        """The grading band for ``quantity``: the union of the per-device bands."""
        bound = self.bound(experiment, spec.lower_bound)
        return union(
            derive_band(self.samples(experiment, quantity, device), spec, bound, device) for device in self.devices
        )

    @property
    def sha256(self) -> str:
        """Identity of these expectations (for results' provenance and resume rules).

        The build date is part of it: a rebuilt cache is a new identity even when
        its numbers happen to be equal.
        """
        return hashlib.sha256(repr(sorted(vars(self.provenance).items())).encode()).hexdigest()


def default_cache_dir() -> Path:
    """The user's cache folder for labgrade (``~/.cache/labgrade`` on Linux), never the current folder."""
    return user_cache_dir()


def cache_path(cache_dir: Path | None, spec: Spec) -> Path:
    """Where the cache of ``spec`` lives (``None``: the user's cache folder)."""
    return (cache_dir or default_cache_dir()) / f"reference-{spec.id}.json"


def shipped_path(spec: Spec) -> Path:
    """Where the expectations of a spec that ships with labgrade are (they may not exist).

    The same file a cache folder holds: ``make shipped-reference`` builds it with
    ``--cache-dir reference/data``.
    """
    return cache_path(SHIPPED_DIR, spec)


def wanted_provenance(spec: Spec, data: Datasets, devices: Sequence[str]) -> Provenance:
    """The provenance expectations for ``spec`` on ``devices`` must have, as of now."""
    return Provenance(
        harness_version=__version__,
        reference_code=reference_code_hash(),
        torch_version=torch.__version__,
        numba_version=importlib.metadata.version("numba"),  # read, not imported: grading never runs numba
        devices=tuple(devices),
        spec_id=spec.id,
        spec_experiments_hash=spec.experiments_sha256,
        data=data_provenance(data),
        seeds={name: exp.seeds for name, exp in spec.experiments.items()},
        created=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    )


def build_expectations(
    spec: Spec, data: Datasets, devices: Sequence[str], log: Log
) -> dict[str, dict[str, Distribution]]:
    """Run every experiment of ``spec`` on every device in ``devices``."""
    out: dict[str, dict[str, Distribution]] = {}
    for device in devices:
        out[device] = {}
        for name, exp in spec.experiments.items():
            runs = f"{exp.seeds} seeds" if ALGORITHMS[exp.algorithm].seeded else "exact"
            log(f"reference: {name} ({exp.algorithm}, {runs}) on {device}")
            out[device][name] = run_experiment(spec, name, data, device)
    return out


def load_expectations(
    spec: Spec,
    data: Datasets,
    devices: Sequence[str],
    cache_dir: Path | None,
    log: Log,
    rebuild: bool = False,
) -> Expectations:
    """Return expectations for ``spec``: the shipped ones, else the cache when its provenance matches exactly.

    Args:
        spec: the validated spec.
        data: the datasets its experiments need.
        devices: devices to compute on (see :func:`resolve_devices`).
        cache_dir: folder of the cache file (``None``: the user's cache folder).
        log: receives one line per decision (shipped used, cache used, stale and why, building...).
        rebuild: ignore the shipped expectations and any cache, and build anew.
    """
    wanted = wanted_provenance(spec, data, devices)
    if not rebuild:
        shipped = read_cache(shipped_path(spec), wanted, TOLERATED)
        if shipped.distributions is not None and shipped.provenance is not None:
            if shipped.tolerated:
                log(
                    "the shipped expected outputs were built with another version ("
                    + "; ".join(shipped.tolerated)
                    + "): their bands are used as they are; step-for-step twins are computed here"
                )
            log(f"expected outputs shipped with labgrade: {shipped_path(spec)}")
            return Expectations(shipped.provenance, shipped.distributions, shipped_path(spec), not shipped.tolerated)
    path = cache_path(cache_dir, spec)
    if not rebuild:
        found = read_cache(path, wanted)
        if found.distributions is not None and found.provenance is not None:
            log(f"{found.reason}: {path}")
            return Expectations(found.provenance, found.distributions, path)
        log(f"{found.reason}; building")
    distributions = build_expectations(spec, data, devices, log)
    save_cache(path, wanted, distributions)
    log(f"reference cache written: {path}")
    return Expectations(wanted, distributions, path)
