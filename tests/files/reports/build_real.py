"""Rebuild the report fixtures made by real tools: ``python tests/files/reports/build_real.py [STEM ...]``.

Each fixture is a source file committed beside its PDF (same stem); see FIXTURES.md.
Every PDF is rebuilt with the tool a student would have used (pdflatex, pdflatex
-shell-escape + minted, xelatex, pandoc, LibreOffice headless, jupyter nbconvert).
A fixture whose tool is missing is skipped with a message; nothing needs network.

Builds run in a scratch directory so no aux files are left here.  SOURCE_DATE_EPOCH=0
and FORCE_SOURCE_DATE=1 (plus ``\\pdftrailerid{}`` in the pdfTeX sources) make the
TeX-based PDFs byte-for-byte reproducible; LibreOffice stamps its own creation date
and document id, so those two PDFs differ between builds in metadata only.

After each build the PDF is checked with ``pdftotext -layout``: the question ids,
the def lines and the answers must be in its text.

The notebook needs a Jupyter with torch: set LABGRADE_JUPYTER to its ``jupyter``
(default: ``jupyter`` on PATH, else /tmp/nbvenv/bin/jupyter, made by
``python3 -m venv /tmp/nbvenv && /tmp/nbvenv/bin/pip install nbconvert nbclient ipykernel torch==2.13.0``).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ENV = dict(os.environ, SOURCE_DATE_EPOCH="0", FORCE_SOURCE_DATE="1", TZ="UTC", LC_ALL="C.UTF-8")

DEFS = ["def sgd_factorise(", "def sgd_factorise_masked("]
COMPLETED = ["0.3374", "1.9873", "0.6213", "2.2620"]


def _tex(engine: str, *flags: str, runs: int = 2):
    def build(src: Path, work: Path) -> None:
        for _ in range(runs):
            run([engine, *flags, "-interaction=nonstopmode", "-halt-on-error", src.name], work)

    return build


def _scanned(src: Path, work: Path) -> None:
    """Print a page and scan it: pdflatex, then pdftoppm to a grey 60 dpi PNG, placed as the only content."""
    run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "scanned-page.tex"], work)
    run(["pdftoppm", "-gray", "-r", "60", "-png", "-singlefile", "scanned-page.pdf", "scanned-page"], work)
    shutil.copy(work / "scanned-page.png", HERE / "scanned-page.png")
    _tex("pdflatex", runs=1)(src, work)


def _cut_off(src: Path, work: Path) -> None:
    """A download cut off mid-way: the first third of the pdflatex report lst-flexible.pdf (its source is that .tex)."""
    data = (HERE / "lst-flexible.pdf").read_bytes()
    (work / "malformed.pdf").write_bytes(data[: len(data) // 3])


def _pandoc(src: Path, work: Path) -> None:
    run(["pandoc", src.name, "-o", src.with_suffix(".pdf").name, "--pdf-engine=pdflatex", "--highlight-style=tango"], work)


def _soffice(src: Path, work: Path) -> None:
    profile = (work / "lo-profile").as_uri()
    run([_which("soffice"), "--headless", f"-env:UserInstallation={profile}", "--convert-to", "pdf", "--outdir", ".", src.name], work)


def _jupyter() -> str | None:
    for candidate in (os.environ.get("LABGRADE_JUPYTER"), shutil.which("jupyter"), "/tmp/nbvenv/bin/jupyter"):
        if candidate and Path(candidate).exists():
            probe = subprocess.run([str(Path(candidate).with_name("python")), "-c", "import torch, nbconvert"], capture_output=True)
            if probe.returncode == 0:
                return candidate
    return None


def _notebook(src: Path, work: Path) -> None:
    jupyter = _jupyter()
    # the cells come from make_notebook.py; write them fresh, then run them for real
    run([sys.executable, str(HERE / "make_notebook.py")], HERE)
    shutil.copy(src, work / src.name)
    timing = "--ExecutePreprocessor.record_timing=False"
    run([jupyter, "nbconvert", "--to", "pdf", "--execute", timing, src.name], work)
    # keep the committed .ipynb with the outputs of a real run, as a student hands it in
    run([jupyter, "nbconvert", "--to", "notebook", "--execute", timing, "--output", "executed.ipynb", src.name], work)
    shutil.copy(work / "executed.ipynb", src)


# stem: (source suffix, tool needed, builder, extra files to copy, strings pdftotext must show;
# a needle starting with "!" means: this report's 3.2 matrix is its own (a real run), not COMPLETED)
FIXTURES = {
    "lst-flexible": (".tex", "pdflatex", _tex("pdflatex"), [], ["Exercise 1.1", "Exercise 3.2", "loss =", "0.1221", "0.1219"]),
    "minted": (".tex", "pygmentize", _tex("pdflatex", "-shell-escape"), [], ["Question 1.1", "Question 3.2", "= 0.1221", "0.1219"]),
    "verbatim": (".tex", "pdflatex", _tex("pdflatex"), [], ["1.1", "3.2", "0.1221", "0.1219", "tensor([[0.3374, 0.6005, 0.1735],"]),
    "lstinput": (".tex", "pdflatex", _tex("pdflatex"), ["lstinput-code.py"], ["Task 1.1", "Question", "Quantity", "Value", "0.1221", "0.1219"]),
    "two-column-latex": (".tex", "pdflatex", _tex("pdflatex"), [], ["Part 1.1", "Part 3.2", "0.1221", "0.1219"]),
    "notebook": (".ipynb", "jupyter+torch", _notebook, [], ["!1.1", "3.2", "loss = tensor(0.1220)", "SVD loss = tensor(0.1219)",
                                                                 "tensor([[0.3561, 0.5951, 0.1518],", "def sgd_factorise(A): return None"]),
    "libreoffice-mono": (".fodt", "soffice", _soffice, [], ["Question 1.1", "Question 3.2", "0.1221", "0.1219"]),
    "libreoffice-proportional": (".fodt", "soffice", _soffice, [], ["Exercise 1.1", "Exercise 3.2", "0.1221", "0.1219"]),
    "pandoc": (".md", "pandoc", _pandoc, [], ["1.1 SGD", "3.2 Completed", "0.1221", "0.1219"]),
    "page-break": (".tex", "pdflatex", _tex("pdflatex"), [], ["1.1 Stochastic", "Exercise 3", "1.221", "for 3.2 the completed matrix is"]),
    # "=": only these needles (no sgd_factorise_masked, no 3.2 in these reports); "=" alone: no text at all.
    "wrapped-lines": (".tex", "pdflatex", _tex("pdflatex"), [], ["=def sgd_factorise(", "Exercise 1.2", "loss = 0.1221"]),
    "lost-indentation": (".tex", "pdflatex", _tex("pdflatex"), [], ["=Exercise 1.1", "return U, V", "0.1221"]),
    "scanned": (".tex", "pdflatex", _scanned, ["scanned-page.tex"], ["="]),
    "malformed": (".tex", "pdflatex", _cut_off, [], ["?"]),  # "?": pdftotext is expected to fail on it
    # The seed report (../shared/lab/student-report.md) as its author typeset it; it sits with the examples.
    "report-pdf": (".tex", "pdflatex", _tex("pdflatex"), [], ["!Exercise 1.1", "Exercise 3.2", "0.1220", "0.1219", "2.308"]),
    "xelatex-numbers": (".tex", "xelatex", _tex("xelatex"), [], ["Ex. 1.1", "Ex. 3.2", "1.221", "0.1221", "\u2212", "for 3.2 the completion is"]),
}


def _which(tool: str) -> str | None:
    if tool == "soffice":
        return shutil.which("soffice") or shutil.which("libreoffice")
    return shutil.which(tool)


def available(tool: str) -> bool:
    if tool == "jupyter+torch":
        return _jupyter() is not None and shutil.which("xelatex") is not None and shutil.which("pandoc") is not None
    if tool == "pygmentize":
        return bool(shutil.which("pdflatex") and shutil.which("pygmentize"))
    return _which(tool) is not None


def run(cmd: list[str], cwd: Path) -> None:
    proc = subprocess.run(cmd, cwd=cwd, env=ENV, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        tail = (proc.stdout + proc.stderr)[-3000:]
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{tail}")


def check(pdf: Path, needles: list[str]) -> list[str]:
    done = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=False)
    if needles == ["?"]:
        return [] if done.returncode != 0 or not done.stdout.strip() else ["(expected an unreadable PDF)"]
    done.check_returncode()
    text = done.stdout
    flat = re.sub(r"\s+", " ", text)
    squashed = re.sub(r"\s+", "", text)  # columns=fixed spaces tokens out: "def s g d _ f a c t o r i s e"
    if any(n.startswith("=") for n in needles):
        wanted = [n.lstrip("=") for n in needles if n.lstrip("=")]
        if not wanted and text.strip():
            return ["(no text layer expected, but pdftotext found text)"]
    else:
        wanted = DEFS + needles if any(n.startswith("!") for n in needles) else DEFS + COMPLETED + needles
    wanted = [n.lstrip("!") for n in wanted]
    return [n for n in wanted if n not in text and n not in flat and re.sub(r"\s+", "", n) not in squashed]


#: Fixtures whose source and PDF sit elsewhere than this folder.
FOLDERS = {"report-pdf": HERE.parents[2] / "submissions"}


def build(stem: str) -> bool:
    suffix, tool, builder, extras, needles = FIXTURES[stem]
    where = FOLDERS.get(stem, HERE)
    src = where / f"{stem}{suffix}"
    if not available(tool):
        print(f"skip  {stem}: {tool} is not installed")
        return True
    with tempfile.TemporaryDirectory(prefix=f"fixture-{stem}-") as tmp:
        work = Path(tmp)
        for name in [src.name, *extras]:
            if (where / name).exists():  # malformed.pdf has no source of its own: it is cut from another
                shutil.copy(where / name, work / name)
        builder(src, work)
        shutil.copy(work / f"{stem}.pdf", where / f"{stem}.pdf")
    pdf = where / f"{stem}.pdf"
    missing = check(pdf, needles)
    size = pdf.stat().st_size
    pages = re.search(r"Pages:\s+(\d+)", subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout)
    status = "ok   " if not missing and size <= 150_000 else "FAIL "
    print(f"{status} {stem}.pdf  {size // 1024} KiB, {pages.group(1) if pages else '?'} page(s)"
          + (f"; pdftotext lacks {missing}" if missing else "") + ("; over 150 KB" if size > 150_000 else ""))
    return status == "ok   "


def main(argv: list[str]) -> int:
    if not shutil.which("pdftotext"):
        print("pdftotext (poppler-utils) is needed to check the PDFs")
        return 1
    stems = argv or list(FIXTURES)
    unknown = [s for s in stems if s not in FIXTURES]
    if unknown:
        print(f"unknown fixture(s) {unknown}; known: {', '.join(FIXTURES)}")
        return 2
    ok = True
    for stem in stems:
        try:
            ok &= build(stem)
        except (RuntimeError, subprocess.TimeoutExpired) as err:
            print(f"FAIL  {stem}: {err}")
            ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
