"""Where labgrade's own files are: the shipped specs and the report templates, and the user's cache folder.

In a checkout (and an editable install) they are the top-level ``specs/`` and
``templates/`` folders beside ``harness/``; an installed wheel carries the same
folders inside the package as ``harness/shipped/`` (see ``pyproject.toml``).  One
lookup serves both, so ``labgrade`` runs from any folder either way.
"""

from __future__ import annotations

from pathlib import Path

from labgrade.harness.errors import UserError

PACKAGE = Path(__file__).resolve().parents[1]

#: The lab a command grades when no ``--spec`` is given.
DEFAULT_SPEC = "lab1"


def shipped_dir(name: str) -> Path:
    """``specs`` or ``templates``: inside the installed package, else beside it in the checkout."""
    installed = PACKAGE / "shipped" / name
    return installed if installed.is_dir() else PACKAGE.parent / name


def user_cache_dir() -> Path:
    """The user's cache folder for labgrade (``~/.cache/labgrade`` on Linux), never the current folder.

    Expected outputs built locally and the PDFs' compact fonts live below it.
    """
    import platformdirs

    return platformdirs.user_cache_path("labgrade")


def shipped_specs() -> list[str]:
    """Names of the specs that ship with labgrade (``lab1``)."""
    return sorted(p.stem for p in shipped_dir("specs").glob("*.yaml"))


def resolve_spec(value: str | Path | None) -> Path:
    """The spec file a ``--spec`` value names: a shipped spec by name (``lab1``), else a path.

    ``None`` is the shipped lab.  A bare name that is neither a file nor a shipped
    spec is a user error that lists what ships.
    """
    name = str(value) if value is not None else DEFAULT_SPEC
    path = Path(name)
    if path.suffix in (".yaml", ".yml") or path.exists() or len(path.parts) > 1:
        return path
    shipped = shipped_dir("specs") / f"{name}.yaml"
    if shipped.is_file():
        return shipped
    shipped_names = ", ".join(shipped_specs())
    raise UserError(f"--spec {name}: no such file, and no shipped spec of that name (shipped: {shipped_names})")


def is_shipped(spec_path: Path) -> bool:
    """Whether ``spec_path`` is one of the specs that ship with labgrade (its expectations ship too)."""
    try:
        return spec_path.resolve().parent == shipped_dir("specs").resolve()
    except OSError:
        return False
