"""A Gradescope autograder bundle: a zip a course uploads unchanged.

Gradescope unzips the bundle into ``/autograder/source``, runs ``setup.sh`` once
when it builds the image, and ``run_autograder`` for every submission (the
student's files are in ``/autograder/submission``; the result must be written to
``/autograder/results/results.json``).  The bundle carries labgrade's own source,
the spec, and the reference cache built here; ``setup.sh`` installs labgrade with
its pinned torch and rebuilds the cache only if its provenance differs there.

The scripts are files in ``templates/gradescope/`` (rendered with Jinja2, never
assembled from strings here); ``AUTOGRADER_ROOT`` and ``LABGRADE`` let tests run
``run_autograder`` against a fake ``/autograder`` tree.
"""

from __future__ import annotations

import shutil
import stat
import tempfile
import zipfile
from dataclasses import replace
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from labgrade.harness.errors import UserError
from labgrade.harness.inputs.config import Config

PROJECT = Path(__file__).resolve().parents[2]
SOURCE_PARTS = ("harness", "reference", "labgrade", "templates", "specs", "pyproject.toml", "README.md")


def _copy_source(target: Path) -> None:
    for part in SOURCE_PARTS:
        src = PROJECT / part
        if src.is_dir():
            shutil.copytree(src, target / part, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        elif src.is_file():
            shutil.copy2(src, target / part)


def build_bundle(zip_path: Path, config: Config) -> Path:
    """Write the autograder zip: scripts, labgrade's source, the spec and the reference cache.

    Raises:
        UserError: the target folder does not exist, or the spec or data are invalid.
    """
    from labgrade.harness.inputs.lab import load_lab

    if not zip_path.parent.is_dir():
        raise UserError(f"{zip_path.parent}: no such folder for the bundle")
    _, expectations = load_lab(replace(config, device="cpu"), lambda _m: None)
    env = Environment(
        loader=FileSystemLoader(str(PROJECT / "templates" / "gradescope")),
        undefined=StrictUndefined,
        autoescape=False,  # shell scripts, not HTML; every value below is ours, quoted in the templates
        keep_trailing_newline=True,
    )
    values = {
        "spec": f"labgrade/specs/{Path(config.spec).name}",
        "ratings": "ratings.pt" if config.ratings else "",
        "titles": "titles.csv" if config.titles else "",
    }
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        _copy_source(root / "labgrade")
        if Path(config.spec).resolve().parent != (PROJECT / "specs").resolve():
            shutil.copy2(config.spec, root / values["spec"])
        if config.ratings:
            shutil.copy2(config.ratings, root / "ratings.pt")
        if config.titles:
            shutil.copy2(config.titles, root / "titles.csv")
        (root / "cache").mkdir()
        shutil.copy2(expectations.path, root / "cache" / f"reference-{expectations.provenance.spec_id}.json")
        for script in ("setup.sh", "run_autograder"):
            target = root / script
            target.write_text(env.get_template(f"{script}.j2").render(**values))
            target.chmod(target.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(root.rglob("*")):
                if path.is_file():
                    info = zipfile.ZipInfo.from_file(path, path.relative_to(root).as_posix())
                    info.compress_type = zipfile.ZIP_DEFLATED
                    archive.writestr(info, path.read_bytes())
    return zip_path
