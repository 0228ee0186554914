"""The review page in a real browser (Playwright driving Debian's Chromium): keys, clicks, groups, stale saves.

Chromium comes from the system (``apt-get install chromium``; ``.ci/run`` installs it as
root); ``playwright install`` cannot download here.  Without it these tests skip, saying so.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from labgrade.harness.inputs.spec import load_spec
from labgrade.harness.review.serve import free_port
from labgrade.harness.review.server import make_app
from tests.conftest import CACHE_DIR, FILES, LAB_SPEC, ROOT, cli

CHROMIUM = os.environ.get("LABGRADE_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
playwright = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        CHROMIUM is None, reason="no Chromium here (apt-get install chromium, or set LABGRADE_CHROMIUM)"
    ),
]

REVIEW = FILES / "review"
CLASS = [ROOT / "submissions" / "report-markdown.md", REVIEW / "hostile-text", REVIEW / "same-as-hostile",
         REVIEW / "study-partner", REVIEW / "notebook-answers.ipynb"]  # fmt: skip


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A graded class, and its review page served on 127.0.0.1 (the URL with its token)."""
    import uvicorn

    out = tmp_path / "out"
    result = cli("grade", *map(str, CLASS), "--out", str(out), "--cache-dir", str(CACHE_DIR), "--no-pdf")
    assert result.code == 0, result.err
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(make_app(out, load_spec(LAB_SPEC), "tok", "ana"), port=port,
                                           host="127.0.0.1", log_level="warning"))  # fmt: skip
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(100):
        if server.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", out
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def browser() -> Iterator[object]:
    with playwright.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


def _open(browser: object, url: str) -> object:
    page = browser.new_context().new_page()  # type: ignore[attr-defined]
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.dialogs = dialogs
    page.goto(f"{url}/?token=tok")
    return page


def _who(page: object) -> str:
    """The submission behind the (blind) answer on the page."""
    url = page.url  # type: ignore[attr-defined]
    named = page.context.new_page()  # type: ignore[attr-defined]
    named.goto(f"{url}?names=1")
    name = named.inner_text("#who")
    named.close()
    return name


def test_three_students_graded_with_keys_and_a_group_decision_then_found_everywhere(served, browser) -> None:
    url, out = served
    page = _open(browser, url)
    with page.expect_navigation():
        page.click("text=grade 2.1")
    decided: dict[str, list[str]] = {}
    grouped = None
    while "every answer is marked" not in page.content():
        name = _who(page)
        state = page.inner_text("#state")
        if grouped is None and page.query_selector("#group") is not None and "proposed" not in state:
            page.keyboard.press("1")  # compares
            page.keyboard.press("2")  # explains
            with page.expect_navigation():
                page.keyboard.press("g")  # save, and propose it for the similar answers
            grouped = name
            decided[name] = ["compares", "explains"]
            continue
        if "proposed" in state:  # a group decision, confirmed one by one
            assert page.is_checked('input[value="compares"]') and page.is_checked('input[value="explains"]')
            decided[name] = ["compares", "explains"]
        else:
            page.click('input[value="compares"]')
            decided[name] = ["compares"]
        with page.expect_navigation():
            page.keyboard.press("Enter")
    assert grouped in ("same-as-hostile", "study-partner") and len(decided) == 5
    assert page.dialogs == []
    assert cli("report", str(out)).code == 0
    rows = {r["name"]: r for r in csv.DictReader((out / "gradebook.csv").open())}
    for name, items in decided.items():
        results = json.loads((out / name / "results.json").read_text())
        test = next(t for t in results["tests"] if t["number"] == "2.1")
        expected = test["extra_data"]["review"]["automatic"] + 0.3 * len(items)
        assert float(rows[name]["2.1"]) == pytest.approx(expected) == test["score"], name
        assert test["extra_data"]["review"]["applied"] == items and test["extra_data"]["review"]["grader"] == "ana"
    from pypdf import PdfReader

    text = " ".join(PdfReader(str(out / grouped / "feedback.pdf")).pages[0].extract_text().split())
    assert "By a grader: 0.6/0.6" in text and "Eckart-Young theorem the truncated SVD is the best" in text


def test_a_stale_save_from_a_second_page_is_refused(served, browser) -> None:
    url, _ = served
    first, second = _open(browser, url), _open(browser, url)
    for page in (first, second):
        page.goto(f"{url}/q/3.2/1")
    first.click('input[value="tells"]')
    with first.expect_navigation():
        first.click("#save")
    second.click('input[value="compares"]')
    with second.expect_navigation():
        second.click("#save")
    assert "Not saved: ana saved a mark for 3.2" in second.inner_text("#message")


def test_a_students_markup_is_shown_as_text(served, browser) -> None:
    url, _ = served
    page = _open(browser, url)
    for n in range(1, 6):
        page.goto(f"{url}/q/2.1/{n}")
        if "onerror" in page.inner_text("#answer"):
            break
    answer = page.inner_text("#answer")
    assert '<script>alert("review")</script>' in answer and '<img src=x onerror="alert(1)">' in answer
    assert page.query_selector("#answer img") is None and page.query_selector("#answer script") is None
    assert page.dialogs == []
