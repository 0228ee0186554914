"""Is every feedback PDF exactly one readable A4 page, safe against what students write?"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest
from pypdf import PdfReader

from labgrade.harness.outputs.onepage import AssetFetcher
from labgrade.harness.outputs.report import render_html, render_pdf, write_feedback
from tests.conftest import CACHE_DIR, ROOT


def _pages(pdf: bytes | Path) -> int:
    import io

    data = pdf.read_bytes() if isinstance(pdf, Path) else pdf
    return len(PdfReader(io.BytesIO(data)).pages)


def _text(pdf: bytes) -> str:
    import io

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> Path:
    """The report's listing graded through the CLI, PDFs included."""
    import contextlib
    import io

    from labgrade.harness.cli import main

    out = tmp_path_factory.mktemp("out")
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        code = main(
            ["grade", str(ROOT / "submissions" / "loops-over-rank"), "--out", str(out), "--cache-dir", str(CACHE_DIR)]
        )
    assert code == 0
    return out


@pytest.fixture(scope="module")
def results(graded: Path) -> dict:
    return json.loads((graded / "loops-over-rank" / "results.json").read_text())


def test_grade_writes_a_one_page_a4_feedback_pdf(graded: Path) -> None:
    pdf = graded / "loops-over-rank" / "feedback.pdf"
    reader = PdfReader(str(pdf))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4 in points
    text = reader.pages[0].extract_text()
    phrases = ("loops-over-rank", "2.6", "row 2 of U never changes", "Hint", "by a grader: pending", "torch 2.13.0")
    phrases += ("Flagged for review (reported_not_from_code)", "mark: 0.4 = 1 x (1 - 0.3 loss - 0.3 diagnosis)")
    for phrase in phrases:
        assert phrase in text.replace("\n", " "), phrase


def _pictures(html: str) -> list[str]:
    """The SVG of each picture on a page (images with ``data:image/svg+xml`` URLs), decoded."""
    import base64

    return [
        base64.b64decode(uri).decode() for uri in re.findall(r'<img src="data:image/svg\+xml;base64,([^"]*)"', html)
    ]


def test_the_pdf_shows_pictures_from_the_data(results: dict) -> None:
    html = render_html(results)
    pictures = _pictures(html)
    assert len(pictures) >= 4  # 1.1 and 1.2 losses, 3.1, 3.2's matrix (and its cells)
    assert all(p.startswith("<svg") and p.endswith("</svg>") for p in pictures)
    assert "Eckart-Young optimum" in html


def test_values_beyond_a_strip_share_one_label_at_its_edge(results: dict) -> None:
    """loops-over-rank's losses (one per seed) lie far right of 1.1's and 3.1's bands: one label a strip
    names all three (each drawn on its own printed them on top of one another)."""
    labels = re.findall(r'<text[^>]*fill="#c0392b"[^>]*>([^<]*)</text>', "".join(_pictures(render_html(results))))
    assert len(labels) == 2, labels
    for label in labels:
        values = label.removesuffix(" ▶").split(", ")
        assert len(values) == 3 and [float(v) for v in values] == sorted(float(v) for v in values), label


def test_class_summary_pdf_and_csv(graded: Path) -> None:
    assert _pages(graded / "summary.pdf") == 1
    rows = (graded / "summary.csv").read_text().splitlines()
    assert rows[0] == "table,question,check,value,count"
    assert "failure,1.1,diagnose,row 2 of U never changes,1" in rows
    assert "marks,1.1,,0.4,1" in rows
    flag = next(row for row in rows if row.startswith("read_first,"))
    assert flag.startswith(
        'read_first,1.2,flag,"loops-over-rank: reported_not_from_code: loss: your submitted code gives'
    )
    assert "question,1.1,most common diagnosis,row # of U never changes,1" in rows or any(
        row.startswith("question,1.1,most common diagnosis,") for row in rows
    )
    summary_text = PdfReader(str(graded / "summary.pdf")).pages[0].extract_text()
    assert "Read first" in summary_text and "reported_not_from_code" in summary_text


def test_report_command_rerenders_without_regrading(graded: Path, run_cli) -> None:
    pdf = graded / "loops-over-rank" / "feedback.pdf"
    pdf.unlink()
    result = run_cli("report", str(graded / "loops-over-rank" / "results.json"))
    assert result.code == 0 and _pages(pdf) == 1
    again = run_cli("report", str(graded))
    assert again.code == 0 and (graded / "summary.pdf").is_file()
    bad = run_cli("report", str(graded / "nope.json"))
    assert bad.code == 2 and "results file not found" in bad.err


def _stress(results: dict) -> dict:
    """Everything at once: a huge name, long messages and tracebacks, many checks and notes."""
    r = copy.deepcopy(results)
    r["extra_data"]["labgrade"]["name"] = "Ŝtüdent “quoted” name with spaces " * 12
    r["output"] = "\n".join(["header"] + [f"note {i}: " + "skipped code " * 40 for i in range(30)])
    base = r["tests"][0]
    r["tests"] = []
    for q in range(12):
        t = copy.deepcopy(base)
        t["number"] = f"{q}.1"
        t["extra_data"]["headline"] = "Capped at 0: a long reason " * 30
        t["extra_data"]["arithmetic"] = "0 = capped: " + "a long arithmetic " * 30
        t["extra_data"]["flags"] = [{"kind": "reported_not_from_code", "evidence": "e" * 700}] * 5
        t["extra_data"]["checks"] = [
            {
                "kind": f"check{i}",
                "passed": False,
                "message": "Traceback line\n" * 80,
                "hint": "h" * 900,
                "visible": True,
                "details": {},
            }
            for i in range(15)
        ]
        r["tests"].append(t)
    return r


def test_a_stress_case_still_fits_one_page(results: dict) -> None:
    rendered = render_pdf(_stress(results))
    assert _pages(rendered.pdf) == 1
    assert rendered.level > 0  # it had to shorten
    # its estimated length rules out the generous levels: they are never laid out (5 layouts before)
    assert rendered.layouts <= 2


def test_a_page_that_fits_is_laid_out_once(results: dict) -> None:
    short = copy.deepcopy(results)
    short["tests"] = short["tests"][:2]
    rendered = render_pdf(short)
    assert (rendered.level, rendered.layouts) == (0, 1)


def test_pages_embed_the_compact_faces_and_fall_back_for_other_scripts(results: dict, tmp_path: Path) -> None:
    """Two compact faces are embedded; a name in another script still prints, from the installed font."""
    import io

    from labgrade.harness.outputs.fonts import FACES, font_face_css

    rules, folder = font_face_css(tmp_path / "fonts")
    assert folder is not None and rules.count("@font-face") == len(FACES) == 2
    assert all((folder / face.file_name).stat().st_size < 150_000 for face in FACES)  # DejaVu Sans is 750 KB
    named = copy.deepcopy(results)
    named["extra_data"]["labgrade"]["name"] = "Ψυχή Καλή"
    pdf = render_pdf(named).pdf
    fonts = {str(f["/BaseFont"]) for page in PdfReader(io.BytesIO(pdf)).pages
             for f in page["/Resources"]["/Font"].values() if "/BaseFont" in f.get_object()}  # fmt: skip
    assert any("labgrade-sans" in f for f in fonts)
    assert "Ψυχή" in _text(pdf)


def test_student_text_cannot_change_the_layout_or_load_anything(results: dict, tmp_path: Path) -> None:
    """HTML and CSS in a message are shown as text; no URL outside the templates is fetched."""
    evil = copy.deepcopy(results)
    payload = (
        '<h1>HACKED</h1><img src="file:///etc/passwd"><img src="http://example.com/x.png">'
        "<style>body { display: none }</style>"
    )
    evil["extra_data"]["labgrade"]["name"] = payload
    evil["tests"][0]["extra_data"]["checks"][0]["message"] = payload
    html = render_html(evil)
    assert "<h1>HACKED" not in html and "<style>body" not in html
    sources = re.findall(r"<img\b[^>]*>", html)
    assert all(re.fullmatch(r'<img src="data:image/svg\+xml;base64,[A-Za-z0-9+/=]*" [^<>]*>', s) for s in sources)
    assert "&lt;h1&gt;HACKED" in html
    rendered = render_pdf(evil)
    assert _pages(rendered.pdf) == 1 and rendered.refused == ()
    text = _text(rendered.pdf)
    assert "<h1>HACKED</h1>" in text.replace("\n", "")
    assert "root:x:0:0" not in text


def test_the_fetcher_refuses_everything_but_template_assets() -> None:
    from weasyprint import HTML

    fetcher = AssetFetcher()
    html = (
        '<link rel="stylesheet" href="report.css"><img src="file:///etc/passwd">'
        '<img src="http://127.0.0.1:9/x.png"><link rel="stylesheet" href="file:///etc/hostname">'
        '<img src="../pyproject.toml"><p>ok</p>'
    )
    from labgrade.harness.outputs.onepage import TEMPLATES

    HTML(string=html, base_url=str(TEMPLATES) + "/", url_fetcher=fetcher).write_pdf()
    refused = " ".join(fetcher.refused)
    assert "file:///etc/passwd" in refused and "127.0.0.1" in refused and "/etc/hostname" in refused
    assert "pyproject.toml" in refused
    assert "report.css" not in refused


def test_a_picture_is_decoded_but_reaches_nothing() -> None:
    """The pages' own SVG pictures come as data URLs: decoded, yet a link inside one is refused, and so is
    any other kind of data URL."""
    import base64

    from weasyprint import HTML

    from labgrade.harness.outputs.onepage import TEMPLATES

    inside = '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><image href="file:///etc/passwd"/></svg>'
    picture = "data:image/svg+xml;base64," + base64.b64encode(inside.encode()).decode()
    fetcher = AssetFetcher()
    html = f'<img src="{picture}"><img src="data:text/html;base64,PGgxPng8L2gxPg=="><p>ok</p>'
    HTML(string=html, base_url=str(TEMPLATES) + "/", url_fetcher=fetcher).write_pdf()
    refused = " ".join(fetcher.refused)
    assert "file:///etc/passwd" in refused and "data:text/html" in refused
    assert "svg+xml" not in refused


def test_write_feedback_rejects_what_is_not_results(tmp_path: Path) -> None:
    from labgrade.harness.errors import UserError

    bad = tmp_path / "results.json"
    bad.write_text("{not json")
    with pytest.raises(UserError, match=r"not a results\.json"):
        write_feedback(bad)
    bad.write_text("[]")
    with pytest.raises(UserError, match="no 'tests'"):
        write_feedback(bad)


def test_the_class_overview_leads_with_what_to_read_first_at_15_and_200(results: dict, tmp_path: Path) -> None:
    """Is summary.pdf one page for 15 and for 200 submissions, with repeated reasons grouped, not repeated?

    The same syntax error on different lines is one reason; similar pairs (from
    ``similarity.csv``) are listed first after flags, each on its own row.
    """
    from labgrade.harness.outputs.summary import load_results, similar_pairs, summarise, summary_context, write_summary

    for count in (15, 200):
        out = tmp_path / str(count)
        for i in range(count):
            r = copy.deepcopy(results)
            r["extra_data"]["labgrade"]["name"] = f"student{i:03d}"
            if i % 3:  # most of the class: no flag
                r["extra_data"]["labgrade"]["flags"] = []
            if i % 10 == 0:  # a tenth could not be graded, all for the same reason
                r["extra_data"]["labgrade"]["status"] = "error"
                line = 5 + i % 7
                r["output"] = f"student{i:03d}: 0 / 6\nstudent{i:03d}.py, line {line}: syntax error: expected ':'"
            target = out / f"student{i:03d}" / "results.json"
            target.parent.mkdir(parents=True)
            target.write_text(json.dumps(r))
        flagged = 1 + count // 50  # and one pair below the threshold, not listed
        pairs = ["a,b,score,shared,flagged,a_lines,b_lines"] + [
            f"student{2 * k:03d},student{2 * k + 1:03d},{0.99 - k / 100:.2f},40,{'yes' if k < flagged else 'no'},"
            "7-32;35-57,45-66;24-42"
            for k in range(flagged + 1)
        ]
        (out / "similarity.csv").write_text("\n".join(pairs) + "\n")
        write_summary(out)
        assert _pages(out / "summary.pdf") == 1, count
        context = summary_context(summarise(load_results(out), similar_pairs(out)), "Lab")
        errors = [row for row in context["read_first"] if row["why"] == "not graded"]
        assert len(errors) == 1 and errors[0]["count"] == len(range(0, count, 10)), errors
        similar = [row for row in context["read_first"] if row["why"] == "similar"]
        assert len(similar) == len([p for p in pairs if ",yes," in p]) >= 1
        assert similar[0]["names"] == "student000 ~ student001" and "0.99" not in similar[0]["where"]
        assert "99% alike: lines 7-32, 35-57 ~ lines 45-66, 24-42" in similar[0]["where"]
        text = PdfReader(str(out / "summary.pdf")).pages[0].extract_text()
        assert text.index("Read first") < text.index("Totals") < text.index("Most common failure reasons")


def test_the_pages_hold_only_elements_their_user_agent_sheet_keeps(results: dict, graded: Path) -> None:
    """Pages are laid out against WeasyPrint's user-agent sheet less the rules for elements they never hold:
    a template that writes another element must name it in PAGE_TAGS, or its UA rules would be lost."""
    from html.parser import HTMLParser

    from labgrade.harness.outputs.summary import summary_html
    from labgrade.harness.outputs.uasheet import PAGE_TAGS

    class Tags(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.seen: set[str] = set()

        def handle_starttag(self, tag: str, attrs: list) -> None:
            self.seen.add(tag)

    parser = Tags()
    for page in (render_html(results), render_html(results, level=4), summary_html(graded) or ""):
        parser.feed(page)
    for picture in _pictures(render_html(results)):
        parser.feed(picture)
    assert {"div", "img", "table", "svg", "text"} <= parser.seen
    assert parser.seen <= PAGE_TAGS, parser.seen - PAGE_TAGS


def test_the_user_agent_sheet_drops_only_what_cannot_match() -> None:
    from weasyprint.html import UA

    from labgrade.harness.outputs.uasheet import page_ua_css

    kept = page_ua_css(UA)
    rules = {line.split(" {")[0] for line in kept.splitlines()}
    assert "li { display: list-item }" in kept and "body { margin: 8px }" in kept
    assert "[hidden], head, link, meta, style, title" in rules  # area, base, script ... dropped, [hidden] kept
    assert "::footnote-call" not in kept and "::marker" not in kept and "textarea" not in kept.split("@page")[0]
    assert "@page" in kept and "@counter-style" not in kept  # WeasyPrint keeps its counter styles apart
    assert page_ua_css("q::before { content: open-quote } p, q { color: red } .x > em, * { margin: 0 }") == (
        "p { color: red }\n* { margin: 0 }"
    )


def test_templates_compile_without_a_writable_cache_folder(tmp_path: Path, monkeypatch) -> None:
    """Compiled templates are kept in the user's cache folder; where it cannot be made, they compile each run."""
    from jinja2 import FileSystemBytecodeCache

    from labgrade.harness.outputs.templating import _compiled_templates

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert isinstance(_compiled_templates(), FileSystemBytecodeCache)
    assert (tmp_path / "cache" / "labgrade" / "templates").is_dir()
    (tmp_path / "file").write_text("not a folder")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "file"))
    assert _compiled_templates() is None
