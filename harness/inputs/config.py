"""One validated configuration object for a run, from a config file and command-line options.

Nothing else reads configuration: no module looks at environment variables on
its own.  A config file is YAML with the keys of :class:`Config`; relative paths
in it are relative to the file.  Command-line options override the file.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from labgrade.harness.errors import UserError
from labgrade.harness.inputs.assets import DEFAULT_SPEC, resolve_spec
from labgrade.harness.inputs.yamlsource import read_yaml

DEVICE_CHOICES = ("cpu", "cuda", "all")


@dataclass(frozen=True)
class Config:
    """Where the spec, data and cache are, and which devices the reference uses."""

    spec: Path = Path(DEFAULT_SPEC)  # a shipped spec's name or a file; load_config resolves it to a file
    ratings: Path | None = None
    titles: Path | None = None
    cache_dir: Path | None = None  # None: the shipped expected outputs, else the user's cache folder
    device: str = "all"


_PATH_KEYS = {"spec", "ratings", "titles", "cache_dir"}


def load_config(path: Path | None, **overrides: Any) -> Config:
    """Build the run's :class:`Config` from an optional YAML file and option overrides.

    Args:
        path: a config file, or ``None`` for defaults only.
        overrides: values given on the command line; ``None`` means "not given".

    Raises:
        UserError: unreadable file, unknown key or a value of the wrong type.
    """
    config = Config()
    if path is not None:
        doc = read_yaml(path)
        if doc.data is None:
            doc_data: dict[str, Any] = {}
        elif isinstance(doc.data, dict):
            doc_data = doc.data
        else:
            raise UserError(f"{path}: expected a mapping of settings, got {type(doc.data).__name__}")
        known = {f.name for f in fields(Config)}
        values: dict[str, Any] = {}
        for key, value in doc_data.items():
            line = doc.line_of((str(key),))
            where = f"{path}: {key} (line {line})"
            if key not in known:
                raise UserError(f"{where}: unknown key (allowed: {', '.join(sorted(known))})")
            if key in _PATH_KEYS:
                if not isinstance(value, str) or not value:
                    raise UserError(f"{where}: expected a path, got {value!r}")
                bare = key == "spec" and len(Path(value).parts) == 1 and not Path(value).suffix  # a shipped spec's name
                values[key] = (path.parent / value) if not (bare or Path(value).is_absolute()) else Path(value)
            elif key == "device":
                if value not in DEVICE_CHOICES:
                    raise UserError(f"{where}: expected one of {', '.join(DEVICE_CHOICES)}, got {value!r}")
                values[key] = value
        config = replace(config, **values)
    given = {k: v for k, v in overrides.items() if v is not None}
    config = replace(config, **given)
    return replace(config, spec=resolve_spec(config.spec))
