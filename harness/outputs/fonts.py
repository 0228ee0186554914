"""Compact fonts for the one-page PDFs: made once per machine, embedded cheaply on every page.

Why: WeasyPrint embeds each face a page uses as a subset made while writing the
PDF.  Without HarfBuzz's subsetter (``libharfbuzz-subset``, absent from many
machines) it falls back to fontTools, which parses the whole font file each time:
for DejaVu Sans (6,000 glyphs, 750 KB) that is about 0.1 s a face, and a feedback
page used four faces (regular, bold, italic, mono), so the fonts cost more than
the layout.  Pages now use two (regular and bold): every face costs a subset.
A *compact* copy of each face, holding only the characters our pages
print (Latin, punctuation, arrows, mathematical signs, the check marks), is made
once from the installed font and kept in the user's cache folder; the templates
name it first in every ``font-family`` list, through ``@font-face`` rules served
by the report's asset fetcher.  Subsetting a 900-glyph font costs about a seventh
of the full one (9 ms against 66 ms here), and the pages look the same: same glyphs,
same metrics, same kerning.  A character outside the compact set (a name in another
script) falls back, character by character, to the installed family named after
it, exactly as before.

Nothing here can fail a render: if the installed font cannot be found or read
(another system, an unwritable cache), the rules are empty and WeasyPrint uses
the installed fonts as it always did, only slower.
"""

from __future__ import annotations

import hashlib
import io
import logging
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from labgrade.harness.atomic import atomic_write
from labgrade.harness.inputs.assets import user_cache_dir

LOG = logging.getLogger(__name__)

SANS = '"DejaVu Sans", "Liberation Sans", "Helvetica Neue", Arial, sans-serif'

# What our pages print: Basic Latin and Latin-1, Latin Extended-A (names), general
# punctuation (dashes, quotes, the ellipsis), super/subscripts, arrows, mathematical
# operators (≤ ≥ ≈ × −), box/geometric shapes used by plots, the check marks.
CHARACTERS: tuple[range, ...] = (
    range(0x20, 0x7F),
    range(0xA0, 0x180),
    range(0x2010, 0x2070),
    range(0x2070, 0x20A0),
    range(0x2190, 0x2200),
    range(0x2200, 0x2300),
    range(0x25A0, 0x2600),
    range(0x2713, 0x2719),
)
RECIPE = "2"  # bump when CHARACTERS or the subsetting options change: a new cache name


@dataclass(frozen=True)
class Face:
    """One face of a compact family: the CSS name and descriptors, and the installed families it copies."""

    family: str
    weight: int
    style: str
    source: str

    @property
    def file_name(self) -> str:
        """The cache file's name: the face and the recipe, so a changed recipe never reads an old file."""
        key = hashlib.sha256(f"{RECIPE}|{self.family}|{self.weight}|{self.style}|{self.source}".encode()).hexdigest()
        return f"{self.family}-{self.weight}-{self.style}-{key[:12]}.ttf"


FACES = (
    Face("labgrade-sans", 400, "normal", SANS),
    Face("labgrade-sans", 700, "normal", SANS),
)


def fonts_dir() -> Path:
    """Where compact faces are kept: in the user's cache folder (never the current folder)."""
    return user_cache_dir() / "fonts"


def _installed_font(face: Face) -> tuple[bytes, int] | None:
    """The bytes and collection index of the installed font Pango picks for ``face``'s family list.

    Found by rendering a two-letter specimen with the font embedded whole (no
    subsetting): the document's fonts are then exactly the installed files.
    """
    from weasyprint import HTML

    specimen = (
        f"<style>p {{ font-family: {face.source}; font-weight: {face.weight}; font-style: {face.style} }}</style>"
        "<p>Aa</p>"
    )
    document = HTML(string=specimen).render()
    document.write_pdf(full_fonts=True)
    fonts = list(document.fonts.values())
    if len(fonts) != 1:
        return None
    content, index = fonts[0].file_content, int(getattr(fonts[0], "index", 0) or 0)
    return (content, index) if isinstance(content, bytes) and content else None


def _compact(content: bytes, index: int) -> bytes:
    """A copy of the font holding only :data:`CHARACTERS`, kerning kept in the small legacy ``kern`` table.

    The OpenType layout tables (GSUB, GPOS, MATH) go: WeasyPrint drops them from
    the PDF anyway, and parsing them is most of what subsetting costs; HarfBuzz
    kerns from ``kern`` when a font has no GPOS, so spacing stays the same.
    """
    from fontTools import subset
    from fontTools.ttLib import TTFont

    options = subset.Options()
    options.name_IDs = ["*"]
    options.legacy_kern = True
    options.notdef_outline = True
    options.hinting = False
    options.drop_tables = [*options.drop_tables, "FFTM", "GSUB", "GPOS", "GDEF", "MATH"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=[c for block in CHARACTERS for c in block])
    font = TTFont(io.BytesIO(content), fontNumber=index)
    subsetter.subset(font)
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


def _ensure(face: Face, folder: Path) -> Path | None:
    """The compact file of ``face`` in ``folder``, made now if missing; ``None`` if it cannot be made."""
    path = folder / face.file_name
    if path.is_file():
        return path
    try:
        found = _installed_font(face)
        if found is None:
            return None
        atomic_write(path, _compact(*found))
    except Exception as exc:  # any failure means: render with the installed fonts
        LOG.debug("compact font %s not made: %s", face.file_name, exc)
        return None
    return path


def compact_files(folder: Path | None = None) -> list[Path | None]:
    """The compact file of each of :data:`FACES` (made now if missing), ``None`` where one cannot be made."""
    where = folder or fonts_dir()
    return [_ensure(face, where) for face in FACES]


@lru_cache(maxsize=4)
def font_face_css(folder: Path | None = None) -> tuple[str, Path | None]:
    """The ``@font-face`` rules for the compact faces, and the folder they are served from.

    Empty rules (and ``None``) when no face could be made: the templates' family
    lists then fall through to the installed fonts.
    """
    where = folder or fonts_dir()
    rules = []
    for face, path in zip(FACES, compact_files(where), strict=True):
        if path is not None:
            rules.append(
                f'@font-face {{ font-family: "{face.family}"; font-weight: {face.weight}; '
                f'font-style: {face.style}; src: url("{path.resolve().as_uri()}"); }}'
            )
    return "\n".join(rules), (where if rules else None)
