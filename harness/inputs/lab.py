"""Load a lab for a run: its validated spec, the datasets it names, and its expected outputs.

One function for every command (grade, check, reference build, the notebook check,
the Gradescope bundle, the benchmark), so they cannot drift in where they look.
"""

from __future__ import annotations

from collections.abc import Callable

from labgrade.harness.inputs.config import Config
from labgrade.harness.inputs.spec import Spec, load_spec
from labgrade.reference.expectations import Expectations, load_datasets, load_expectations, resolve_devices


def load_lab(config: Config, log: Callable[[str], None], rebuild: bool = False) -> tuple[Spec, Expectations]:
    """The spec ``config`` names, and its expectations (shipped, cached, or built now and said so)."""
    spec = load_spec(config.spec)
    data = load_datasets(spec, config.ratings, config.titles)
    expectations = load_expectations(spec, data, resolve_devices(config.device), config.cache_dir, log, rebuild)
    return spec, expectations
