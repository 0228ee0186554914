"""labgrade: a grading and verification harness for the PyTorch matrix-factorisation lab.

Installed, this folder is ``labgrade.harness`` (see ``pyproject.toml``): one import name
that is ours, so a student's ``harness.py`` or ``reference.py`` never shadows it.
"""

from pathlib import Path

__version__ = "0.1.0"


def import_root() -> str:
    """The folder that holds the ``labgrade`` package, for a child interpreter's ``PYTHONPATH``.

    A child (a zygote, the PDF reader) gets a clean environment; this keeps a ``pip
    install --user`` labgrade importable there.  Site-packages, and an editable
    install's finder, come from the interpreter itself.
    """
    import labgrade

    return str(Path(labgrade.__file__).resolve().parents[1])
