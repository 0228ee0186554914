"""Is a report graded as students hand it in: code from its listings, numbers from its text, said where?"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import CACHE_DIR, FILES, ROOT, cli

REPORTS = FILES / "reports"
USUAL = "read [0.3374 0.6005 0.1735; 1.9873 0.0492 1.8374; 2.9407 0.6213 2.262] for 3.2 from page 1, line "
SEED = {"1.1": 0.4, "1.2": 1, "2.1": 0.4, "3.1": 0.4, "3.2": 0.4, "4.1": 0}  # as submissions/loops-over-rank/ grades

# report -> (marks, phrases its feedback must hold)
EXPECTED: dict[Path, tuple[dict[str, float], tuple[str, ...]]] = {
    ROOT / "submissions" / "report-markdown.md": (
        SEED,
        ("row 2 of U never changes", "read 0.1220 for 1.2 from line 35", "cannot come from it",
         "read 0.1219 for 2.1 from line 51", "read [0.342 0.599 0.168; 2.308 0.049 1.836; 2.94 0.491 2.264] for 3.2",
         "Markdown has no pages, so the lab's page limit (1 side of A4) was not checked"),
    ),
    ROOT / "submissions" / "report-pdf.pdf": (
        SEED,
        ("row 2 of U never changes", "read 0.1220 for 1.2 from page 1, line 38", "cannot come from it",
         "read 0.1219 for 2.1 from page 1, line 63",
         "read [0.342 0.599 0.168; 2.308 0.049 1.836; 2.94 0.491 2.264] for 3.2 from page 2, line 36",
         "Flagged for review (over_page_limit): report-pdf.pdf: 2 pages of A4; the lab allows one side"),
    ),
    REPORTS / "wrapped-lines.pdf": ({"1.1": 1, "1.2": 1, "3.1": 0}, ("read 0.1221 for 1.2 from page 1, line 19",)),
    REPORTS / "answers-only.md": (
        {"1.1": 0, "1.2": 1, "2.1": 0.4, "3.2": 0.4, "4.1": 0.5},
        ("no code listing found", "rating for 4.1 is ambiguous, so neither was taken: 4.1 (line 24); 3.6 (line 24)",
         "read 1912345.0 for 4.1 from line 25"),
    ),
    REPORTS / "in-sentences.md": (  # answers in sentences ("for 3.2 the completed matrix is"), x 10^{-1}, a list
        {"1.1": 0, "1.2": 1, "2.1": 0.4, "3.2": 0.4, "4.1": 0},
        ("read 1.222 \\times 10^{-1} for 1.2 from line 8", "read 1.219 \\cdot 10^{-1} for 2.1 from line 9",
         "read [0.338 0.601 0.173; 2.315 0.049 1.837; 2.94 0.492 2.262] for 3.2 from line 13",
         "rating for 4.1 is ambiguous, so neither was taken: 3.37 (line 18); 3.9 (line 18)",
         "no sse found for 4.1 in its section or a sentence naming it"),
    ),
    REPORTS / "injects-code.md": ({"1.1": 1, "1.2": 1}, ("read 0.1221 for 1.2 from line 31",)),
    REPORTS / "lost-indentation.pdf": (
        {"1.1": 0, "1.2": 1},
        ("listing 1 (page 1, line 2): its indentation could not be recovered (every line starts at the left edge); "
         "it was not graded",),
    ),
    # Made by the students' own programs (build_real.py; FIXTURES.md says which made each):
    REPORTS / "lst-flexible.pdf": (  # pdflatex, lstlisting fullflexible + keepspaces, breaklines with an arrow
        {"1.1": 1, "1.2": 1, "2.1": 0.4, "3.1": 1, "3.2": 0.4},
        ("read 0.1221 for 1.2 from page 1, line 20", "read 0.1219 for 2.1 from page 1, line 23", f"{USUAL}43"),
    ),
    REPORTS / "minted.pdf": (  # pdflatex -shell-escape, minted with Pygments colours and line numbers
        {"1.1": 1, "1.2": 1, "2.1": 0.4, "3.1": 1, "3.2": 0.4},
        ("read 0.1221 for 1.2 from page 1, line 17", "read 0.1219 for 2.1 from page 1, line 21", f"{USUAL}43"),
    ),
    REPORTS / "verbatim.pdf": (  # pdflatex, verbatim code; 3.2 pasted as a printed tensor; the mask ignored
        {"1.1": 1, "1.2": 1, "2.1": 0.4, "3.1": 0.2, "3.2": 0.4},
        ("read 0.1221 for 1.2 from page 1, line 16", f"{USUAL}34", "the mask is not honoured"),
    ),
    REPORTS / "lstinput.pdf": (  # pdflatex, lstinputlisting (columns=fixed), answers in a booktabs table by question
        {"1.1": 1, "1.2": 1, "2.1": 0.4, "3.1": 1, "3.2": 0.4},
        ("read 0.1221 for 1.2 from page 1, line 40", "read 0.1219 for 2.1 from page 1, line 41"),
    ),
    REPORTS / "two-column-latex.pdf": (  # pdflatex twocolumn article, numbered listings
        {"1.1": 1, "1.2": 1, "2.1": 0.4, "3.1": 1, "3.2": 0.4, "4.1": 0.5},
        ("read 0.1221 for 1.2 from page 1, line 24", f"{USUAL}55", "read 3.37 for 4.1 from page 1, line 65"),
    ),
    REPORTS / "notebook.pdf": (  # jupyter nbconvert --to pdf of an executed notebook: code from input cells only
        {"1.1": 1, "1.2": 1, "2.1": 0.4, "3.1": 1, "3.2": 0.4},
        ("read 0.1220 for 1.2 from page 2, line 5", "read 0.1219 for 2.1 from page 2, line 13",
         "notebook.pdf: 3 pages of Letter; the lab allows one side", "its pages are Letter; the lab asks for A4"),
    ),
    REPORTS / "libreoffice-mono.pdf": (  # LibreOffice headless from .fodt, code pasted in Liberation Mono
        {"1.1": 1, "1.2": 1, "2.1": 0.4, "3.1": 1, "3.2": 0.4},  # 3.2 as a Python list in a sentence
        ("read 0.1221 for 1.2 from page 1, line 18", "read 0.1219 for 2.1 from page 1, line 20", f"{USUAL}39"),
    ),
    REPORTS / "libreoffice-proportional.pdf": (  # LibreOffice, code in a proportional font: its drawn spaces
        {"1.1": 1, "1.2": 1, "2.1": 0.4, "3.1": 1, "3.2": 0.4},
        ("read 0.1221 for 1.2 from page 1, line 18", f"{USUAL}39"),
    ),
    REPORTS / "pandoc.pdf": (  # pandoc -> pdflatex, highlighted code, answers in a table keyed by question
        {"1.1": 1, "1.2": 1, "2.1": 0.4, "3.1": 1, "3.2": 0.4},
        ("read 0.1221 for 1.2 from page 1, line 23", "read 0.1219 for 2.1 from page 1, line 24", f"{USUAL}42"),
    ),
    REPORTS / "xelatex-numbers.pdf": (  # xelatex + unicode-math: "Ex. 1.1" labels, 1.221 · 10^{-1}, "for 3.2 the ..."
        {"1.1": 1, "1.2": 1, "2.1": 0.4, "3.1": 1, "3.2": 0.4},
        ("read 1.221 ⋅ 10−1 for 1.2 from page 1, line 44", "read 1.219 ⋅ 10−1 for 2.1 from page 1, line 49",
         f"{USUAL}74"),
    ),
    REPORTS / "page-break.pdf": (  # pdflatex, fancyhdr heads; listing 1 over the page break; booktabs with headers
        {"1.1": 1, "1.2": 1, "2.1": 0.4, "3.1": 1, "3.2": 0.4},
        ("read 1.221 · 10−1 for 1.2 from page 2, line 8", "read 1.219 · 10−1 for 2.1 from page 2, line 9",
         "read [0.3374 0.6005 0.1735; 1.9873 0.0492 1.8374; 2.9407 0.6213 2.262] for 3.2 from page 2, line 28",
         "page-break.pdf: 2 pages of A4; the lab allows one side"),
    ),
    REPORTS / "scanned.pdf": ({"1.1": 0, "1.2": 0}, ("has no text layer (a scanned or image-only PDF?)",)),
    REPORTS / "malformed.pdf": ({"1.1": 0, "1.2": 0}, ("malformed.pdf: not a readable PDF",)),
}  # fmt: skip


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every report graded in one batch, as an instructor would, with a 500-page PDF among them."""
    from pypdf import PdfReader, PdfWriter

    root = tmp_path_factory.mktemp("reports")
    writer = PdfWriter()
    page = PdfReader(str(REPORTS / "wrapped-lines.pdf")).pages[0]
    for _ in range(500):
        writer.add_page(page)
    huge = root / "five-hundred-pages.pdf"
    with huge.open("wb") as f:
        writer.write(f)
    out = root / "out"
    paths = [str(p) for p in EXPECTED] + [str(huge)]
    result = cli("grade", *paths, "--out", str(out), "--cache-dir", str(CACHE_DIR), "--jobs", "2")
    assert result.code == 0, result.err
    return out


@pytest.mark.slow
@pytest.mark.parametrize("report", sorted(EXPECTED), ids=lambda p: p.name)
def test_each_report_gets_its_marks_and_says_where_it_read(graded: Path, report: Path) -> None:
    marks, phrases = EXPECTED[report]
    results = json.loads((graded / report.stem / "results.json").read_text())
    tests = {t["number"]: t for t in results["tests"]}
    for question, expected in marks.items():
        assert tests[question]["score"] == pytest.approx(expected), (question, tests[question]["output"])
    text = results["output"] + "\n".join(t["output"] for t in results["tests"])
    for phrase in phrases:
        assert phrase in text, (phrase, text)


@pytest.mark.slow
def test_code_outside_a_listing_is_never_run(graded: Path) -> None:
    """Does prose that looks like code (and a listing hidden in an HTML comment... outside a fence) stay unrun?"""
    assert not Path("/tmp/labgrade-report-injection").exists()
    results = json.loads((graded / "injects-code" / "results.json").read_text())
    assert "listing 1" in json.dumps(results) or results["tests"][0]["score"] == 1


@pytest.mark.slow
def test_a_500_page_pdf_is_read_up_to_its_limit_and_graded(graded: Path) -> None:
    results = json.loads((graded / "five-hundred-pages" / "results.json").read_text())
    assert "has 500 pages; only the first 40 were read" in results["output"]
    assert {t["number"]: t["score"] for t in results["tests"]}["1.1"] == 1


def test_answers_yaml_beside_a_report_overrides_what_it_names(tmp_path: Path) -> None:
    from labgrade.harness.inputs.config import load_config
    from labgrade.harness.inputs.spec import load_spec
    from labgrade.harness.inputs.submission import load_submission

    folder = tmp_path / "alice"
    folder.mkdir()
    (folder / "report.md").write_text((ROOT / "submissions" / "report-markdown.md").read_text())
    (folder / "answers.yaml").write_text('"1.2": {loss: 0.1219}\n')
    sub = load_submission(folder, load_spec(load_config(None).spec))
    assert sub.answers is not None and sub.answers["1.2"] == {"loss": 0.1219}
    assert sub.answers["2.1"] == {"loss": 0.1219}  # still read from the report
    assert sub.answer_notes["1.2"]["loss"].startswith("from answers.yaml")
    assert [u.filename for u in sub.units][:2] == [
        "report.md (imports the listings leave out)",
        "report.md, listing 1 (line 14)",
    ]


@pytest.mark.slow
def test_a_report_over_the_page_rule_is_flagged_in_the_gradebook_and_results(graded: Path) -> None:
    """Does the pdflatex seed report (two pages of A4; the lab allows one side) carry its flag everywhere?"""
    results = json.loads((graded / "report-pdf" / "results.json").read_text())
    flags = results["extra_data"]["labgrade"]["flags"]
    assert {"kind": "over_page_limit", "question": "report", "policy": "keep",
            "evidence": "report-pdf.pdf: 2 pages of A4; the lab allows one side"} in flags  # fmt: skip
    assert results["score"] == pytest.approx(2.6)  # keep: the mark stands (2.1 and 3.2 wait for a grader's 0.6)
    rows = {line.split(",")[0]: line for line in (graded / "gradebook.csv").read_text().splitlines()}
    assert "report: over_page_limit" in rows["report-pdf"]
    assert "over_page_limit" not in rows["report-markdown"]
