"""Is the documentation whole: a short README whose links resolve, and a spec reference that cannot drift?"""

from __future__ import annotations

import re
import runpy

from tests.conftest import ROOT

GEN = runpy.run_path(str(ROOT / "docs" / "gen_reference.py"))


def test_every_key_the_loader_accepts_is_in_the_reference() -> None:
    assert GEN["missing"]() == []
    committed = (ROOT / "docs" / "spec-reference.md").read_text(encoding="utf-8")
    assert committed == GEN["reference"]() + "\n", "docs/spec-reference.md is stale: run `make docs`"


def test_the_reference_names_a_key_added_to_the_loader(monkeypatch) -> None:
    """A new key in the loader with no line in spec-keys.yaml is reported, not silently left out."""
    accepted = GEN["accepted_keys"]

    def more(*paths):
        found = accepted(*paths)
        found["report"] = found["report"] | {"margins"}
        return found

    monkeypatch.setitem(GEN["missing"].__globals__, "accepted_keys", more)
    assert GEN["missing"]() == ["report: margins"]


def test_the_readme_is_a_short_front_door_whose_links_resolve() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) < 200
    targets = re.findall(r"\]\(([^)#]+)[^)]*\)", text) + re.findall(r'<img src="([^"]+)"', text)
    assert {"docs/images/feedback.png", "docs/images/summary.png"} <= set(targets)
    for target in targets:
        assert (ROOT / target).exists(), target
    pages = [p for p in (ROOT / "docs").rglob("*.md")]
    for page in pages:
        for target in re.findall(r"\]\(([^)#:]+)[^)]*\)", page.read_text(encoding="utf-8")):
            assert (page.parent / target).exists(), (page, target)


def test_no_module_imports_one_that_imports_it_back() -> None:
    """The layout's arrows follow the data: the import graph of harness/ and reference/ has no circle."""
    import ast

    modules = {}
    for path in [*(ROOT / "harness").rglob("*.py"), *(ROOT / "reference").rglob("*.py")]:
        name = ".".join(("labgrade", *path.relative_to(ROOT).with_suffix("").parts)).removesuffix(".__init__")
        modules[name] = path
    graph = {
        name: {n.module for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.ImportFrom)
               and n.module in modules and n.module != name}
        for name, path in modules.items()
    }  # fmt: skip
    seen: dict[str, int] = {}  # 1: on the path, 2: done

    def visit(name: str, path: list[str]) -> None:
        seen[name] = 1
        for other in sorted(graph[name]):
            assert seen.get(other) != 1, " -> ".join([*path, name, other])
            if other not in seen:
                visit(other, [*path, name])
        seen[name] = 2

    for name in sorted(modules):
        if name not in seen:
            visit(name, [])
