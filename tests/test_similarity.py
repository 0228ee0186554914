"""Does the similarity detector flag disguised copies, and only them, and report them readably?

The hard part is fairness: every correct solution of this lab is three nested
loops around ``A[r, c] - U[r] @ V[c]``, so independent students must not be
flagged for writing the lab the lab's way.  ``tests/files/similarity`` holds five
independently written solutions in ordinary student styles (alice is the lab's
natural way; bob reads ``A.shape[0]``, uses ``torch.dot`` and temporary copies;
carol uses ``len``/``enumerate``, a loss helper and prints; dave has one masked
core the unmasked version delegates to; erin a ``while`` loop and ``.dot``),
mallory's disguised copy of carol (every name renamed, reformatted, comments and
docstrings changed, functions reordered), a notebook export that does not parse,
and the lab's handed-out code, which every student pasted in.
"""

from __future__ import annotations

import csv
import io
import itertools
import random
import re
from pathlib import Path

import pytest

from labgrade.harness.judging import similarity
from labgrade.harness.judging.similarity import Pair, SimilarityReport, Source, find_similar
from labgrade.harness.outputs.similarity_report import similarity_csv, write_similarity
from tests.conftest import FILES

HERE = FILES / "similarity"
HANDED_OUT = (HERE / "handed_out.py").read_text()
INDEPENDENT = ("alice", "bob", "carol", "dave", "erin")


def source(name: str, known: bool = False) -> Source:
    return Source(name, (HERE / f"{name}.py").read_text(), known)


def the_class() -> list[Source]:
    return [source(n) for n in (*INDEPENDENT, "mallory", "broken")]


def pair(report: SimilarityReport, a: str, b: str) -> Pair | None:
    return next((p for p in report.pairs if {p.a, p.b} == {a, b}), None)


def line_of(name: str, needle: str, nth: int = 0) -> int:
    """The 1-based line of the ``nth`` line of a file that contains ``needle``."""
    found = [i for i, line in enumerate((HERE / f"{name}.py").read_text().splitlines(), 1) if needle in line]
    return found[nth]


@pytest.fixture(scope="module")
def report() -> SimilarityReport:
    return find_similar(the_class(), [HANDED_OUT])


# --- the class of hand-written files -----------------------------------------------------------------


def test_disguised_copy_is_flagged_with_its_original(report):
    found = pair(report, "carol", "mallory")
    assert found is not None and found.flagged
    assert found.score >= report.threshold and found.shared >= similarity.MIN_SHARED
    assert report.pairs[0] == found  # flagged pairs come first


def test_no_pair_of_independent_solutions_is_flagged(report):
    flagged = {frozenset((p.a, p.b)) for p in report.pairs if p.flagged}
    assert flagged == {frozenset(("carol", "mallory"))}
    assert all(p.score < 0.3 for p in report.pairs if {p.a, p.b} != {"carol", "mallory"})


@pytest.mark.parametrize(("a", "b"), list(itertools.combinations(INDEPENDENT, 2)))
def test_two_independent_students_alone_are_not_flagged(a, b):
    """A class of two has no notion of common: each pair's own styles must keep them apart."""
    assert not any(p.flagged for p in find_similar([source(a), source(b)], [HANDED_OUT]).pairs)


# (line in carol, line in mallory) that must face each other in one span.
LANDMARKS = (
    (("carol", "diff = A - U @ V.t()", 0), ("mallory", "residual = target - left @ right.t()", 0)),
    (("carol", "error = row[col_idx] - torch.sum", 0), ("mallory", "delta = a_row[j] - torch.sum", 0)),
    (("carol", "if M[row_idx][col_idx] == 1:", 0), ("mallory", "if M[i][j] == 1:", 0)),
    (("carol", "V[col_idx] += lr * error * U[row_idx]", 1), ("mallory", "Q[j] += lr * delta * P[i]", 0)),
)


def test_spans_put_matching_lines_side_by_side(report):
    found = pair(report, "carol", "mallory")
    assert found is not None and found.a == "carol"
    for (a_name, a_text, a_nth), (b_name, b_text, b_nth) in LANDMARKS:
        a_line, b_line = line_of(a_name, a_text, a_nth), line_of(b_name, b_text, b_nth)
        assert any(
            s.a_lines[0] <= a_line <= s.a_lines[1] and s.b_lines[0] <= b_line <= s.b_lines[1] for s in found.spans
        ), (a_text, b_text, found.spans)


def test_spans_never_cover_the_handed_out_code(report):
    found = pair(report, "carol", "mallory")
    assert found is not None
    handed = {
        "carol": range(line_of("carol", "def gd_factorise_masked"), line_of("carol", "return U, V") + 1),
        "mallory": range(line_of("mallory", "def gd_factorise_masked"), line_of("mallory", "return U, V") + 1),
    }
    for s in found.spans:
        assert not set(range(s.a_lines[0], s.a_lines[1] + 1)) & set(handed["carol"])
        assert not set(range(s.b_lines[0], s.b_lines[1] + 1)) & set(handed["mallory"])


def test_pasted_handed_out_code_makes_unrelated_files_match_only_without_the_handout():
    """Both files carry gd_factorise_masked: it is where they match, unless it is declared handed out."""
    class_ = [source("alice"), source("dave")]
    bare = pair(find_similar(class_, threshold=0.0), "alice", "dave")
    assert bare is not None
    gd = line_of("alice", "err = (A - U @ V.t()) * M"), line_of("dave", "err = (A - U @ V.t()) * M")
    assert any(s.a_lines[0] <= gd[0] <= s.a_lines[1] and s.b_lines[0] <= gd[1] <= s.b_lines[1] for s in bare.spans)
    assert not find_similar(class_, [HANDED_OUT], threshold=0.0, min_shared=0).pairs


def test_a_file_that_does_not_parse_is_skipped_with_the_line(report):
    assert report.skipped == {"broken": "does not parse: line 5: invalid syntax"}
    assert all("broken" not in (p.a, p.b) for p in report.pairs)


def test_known_sources_pair_with_the_class_and_never_with_each_other():
    bob = source("bob").text
    reflowed = "# found online\n" + bob.replace("    ", "  ").replace("err", "residual").replace("u_old", "u0")
    known = [Source("known:lastyear/bob.py", bob, known=True), Source("known:web/sgd.py", reflowed, known=True)]
    report = find_similar([source("alice"), source("bob"), source("carol"), *known], [HANDED_OUT])
    flagged = {frozenset((p.a, p.b)) for p in report.pairs if p.flagged}
    assert flagged == {frozenset(("bob", "known:lastyear/bob.py")), frozenset(("bob", "known:web/sgd.py"))}
    assert all(not (p.a.startswith("known:") and p.b.startswith("known:")) for p in report.pairs)


def test_known_sources_do_not_make_a_copy_common():
    """Many known copies of bob's code must not hide bob's copying as 'what the class writes'."""
    known = [Source(f"known:{i}", source("bob").text, known=True) for i in range(6)]
    report = find_similar([source("alice"), source("bob"), *known], [HANDED_OUT])
    assert sum(p.flagged for p in report.pairs) == 6


def test_common_code_across_a_class_is_not_evidence():
    """Twelve students who all wrote the lab's natural answer (alice's): in a class, that is not a copy."""
    twins = [Source(f"s{i}", source("alice").text) for i in range(12)]
    assert not find_similar([*twins, source("bob")], [HANDED_OUT]).pairs


def test_a_model_solution_as_handed_out_clears_a_small_class():
    """Two students who both wrote the lab's natural answer cannot be told from a copy, unless it is given."""
    alice = source("alice").text
    twin = re.sub(r"\b(r|c|e)\b", lambda m: {"r": "i", "c": "j", "e": "err"}[m[0]], alice.split("\n\nA = ")[0])
    class_ = [Source("alice", alice), Source("twin", twin)]
    assert pair(find_similar(class_, [HANDED_OUT]), "alice", "twin").flagged
    model = (HERE / "alice.py").read_text().split("\n\nA = ")[0]  # what the lab's model answer looks like
    assert not any(p.flagged for p in find_similar(class_, [HANDED_OUT, model]).pairs)


# --- what the normalisation ignores and keeps ----------------------------------------------------------

ORIGINAL = """
def step(A, U, V, lr=0.01):
    m, n = A.shape
    for r in range(m):
        for c in range(n):
            e = A[r, c] - U[r] @ V[c]
            U[r] = U[r] + lr * e * V[c]
            V[c] = V[c] + lr * e * U[r]
    return U, V

def other(x):
    total = 0
    for item in x:
        total = total + item * item
    return total
"""

DISGUISED = '''
import torch as t


def other(values: list) -> float:
    """Sum of squares."""
    acc = 0
    for v in values:  # every value
        acc = acc + v * v
    return acc


def step(X: t.Tensor, P, Q, rate=1e-2):
    rows, cols = X.shape
    for i in range(rows):

        for j in range(cols):
            # error of this entry
            err = (X[i][j]
                   - P[i] @ Q[j])
            P[i] = P[i] + rate * err * Q[j]
            Q[j] = Q[j] + rate * err * P[i]
    return (P, Q)
'''


def hashes(text: str) -> set[int]:
    return set(similarity.fingerprints(similarity.units(text)))


def test_renaming_reformatting_comments_and_order_change_no_fingerprint():
    assert hashes(ORIGINAL) == hashes(DISGUISED)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("U[r] @ V[c]", "U[r] * V[c]"),  # an operator is meaning, not formatting
        ("A[r, c] - U[r]", "A[c, r] - U[r]"),  # so is which name goes where
        ("range(m)", "enumerate(m)"),  # and a library name
    ],
)
def test_what_the_code_does_changes_fingerprints(old, new):
    assert hashes(ORIGINAL) != hashes(ORIGINAL.replace(old, new))


def test_results_are_the_same_from_run_to_run(report):
    again = find_similar(the_class(), [HANDED_OUT])
    assert again.pairs == report.pairs and again.skipped == report.skipped


# --- hostile and trivial sources ---------------------------------------------------------------------

HOSTILE = {
    "deep": ("x = " + "+".join(["1"] * 50_000) + "\n", "does not parse"),
    "parens": ("x = " + "(" * 300 + "1" + ")" * 300 + "\n", "does not parse"),
    "large": ("x = 1\n" * 40_000, "too large"),
    "many-tokens": ("x = [" + ",".join(f"a{i}" for i in range(30_000)) + "]\n", "too much code"),
    "null-byte": ("x = 1\0\n", "does not parse"),
    "surrogate": ("x = '\udcff'\n", "does not parse"),
    "notebook": ("%matplotlib inline\nimport torch\n", "does not parse: line 1"),
    "empty": ("", "too little code"),
    "comments-only": ('"""Lab 1."""\n# nothing yet\nimport torch\n', "too little code"),
    "handout-only": (HANDED_OUT, "too little code"),
}


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_or_empty_sources_are_skipped_with_a_reason(name):
    text, why = HOSTILE[name]
    report = find_similar([Source(name, text), Source(f"{name}-again", text), source("bob")], [HANDED_OUT])
    assert report.skipped[name].startswith(why)
    assert not report.pairs


def test_a_deep_expression_that_parses_is_walked_without_recursion():
    text = (Path(__file__).parent.parent / "submissions" / "hostile" / "deep-expression.py").read_text()
    report = find_similar([Source("a", text), Source("b", text)])
    assert not report.skipped


def test_identical_stubs_are_too_little_to_flag():
    stub = (FILES / "students" / "stub-ones.py").read_text()
    report = find_similar([Source("a", stub), Source("b", stub.replace("A", "X"))], [HANDED_OUT])
    assert not any(p.flagged for p in report.pairs)


# --- the written report -----------------------------------------------------------------------------

HOSTILE_NAME = '=HYPERLINK("x")<b>'


def test_write_similarity_writes_a_csv_and_an_offline_html(tmp_path):
    hostile = Source(HOSTILE_NAME, source("bob").text + "\n# </td><script>alert(1)</script>\n")
    class_ = [*the_class(), hostile, Source("known:web/bob.py", source("bob").text, known=True)]
    report = find_similar(class_, [HANDED_OUT])
    csv_path, html_path = write_similarity(tmp_path, report, class_)
    assert (csv_path, html_path) == (tmp_path / "similarity.csv", tmp_path / "similarity.html")

    rows = list(csv.DictReader(io.StringIO(csv_path.read_text())))
    assert list(rows[0]) == ["a", "b", "score", "shared", "flagged", "a_lines", "b_lines"]
    assert len(rows) == len(report.pairs)
    assert [float(r["score"]) for r in rows] == sorted((float(r["score"]) for r in rows), reverse=True)
    assert {(r["a"], r["b"], r["flagged"]) for r in rows} >= {
        ("carol", "mallory", "yes"),
        ("bob", "'" + HOSTILE_NAME, "yes"),
    }
    assert all(re.fullmatch(r"\d+(-\d+)?(;\d+(-\d+)?)*", r["a_lines"]) for r in rows)

    html = html_path.read_text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script" not in html
    assert "&lt;b&gt;" in html and HOSTILE_NAME not in html
    assert "http" not in html and "src=" not in html and "@import" not in html and "url(" not in html
    assert "60%" in html and "def frobenius_loss" in html and "squared_error" in html
    assert 'class="src m0"' in html and "broken" in html  # a highlighted line; the skipped file named
    assert "(known code)" in html


def test_side_by_side_views_are_capped(tmp_path, monkeypatch):
    from labgrade.harness.outputs import similarity_report

    monkeypatch.setattr(similarity_report, "SIDE_BY_SIDE", 1)
    class_ = [*the_class(), Source("bob-copy", source("bob").text)]
    report = find_similar(class_, [HANDED_OUT])
    html = write_similarity(tmp_path, report, class_)[1].read_text()
    assert html.count('<table class="sides">') == 1 and "the other 1 are in similarity.csv" in html


def test_a_report_with_no_pairs_still_renders(tmp_path):
    report = find_similar([source("alice"), source("broken")], [HANDED_OUT])
    assert similarity_csv(report).splitlines() == ["a,b,score,shared,flagged,a_lines,b_lines"]
    html = write_similarity(tmp_path, report, [source("alice"), source("broken")])[1].read_text()
    assert "No pair shares enough" in html and "does not parse" in html


# --- a larger synthetic class ---------------------------------------------------------------------------
#
# Each student is drawn from independent choices of how to write the same algorithm; two students
# differ in at least half of the ten choices (sharing more would make them one style, not two
# independent ones).  Names are drawn per student, and files put their functions in any order.

SHAPE = (
    "{m}, {n} = A.shape",
    "{m} = A.shape[0]\n{n} = A.shape[1]",
    "{m}, {n} = A.size()",
    "{m} = len(A)\n{n} = len(A[0])",
    "{m}, {n} = A.size(0), A.size(1)",
)
INIT = (
    "{U} = torch.rand({m}, rank)\n{V} = torch.rand({n}, rank)",
    "{U} = torch.rand(({m}, rank))\n{V} = torch.rand(({n}, rank))",
    "{U} = torch.rand({m}, rank, dtype=A.dtype)\n{V} = torch.rand({n}, rank, dtype=A.dtype)",
    "{U} = torch.rand(size=({m}, rank))\n{V} = torch.rand(size=({n}, rank))",
)
EPOCHS = (
    ("for {ep} in range(num_epochs):", ""),
    ("for _ in range(num_epochs):", ""),
    ("{ep} = 0\nwhile {ep} < num_epochs:", "{ep} += 1"),
    ("for {ep} in range(1, num_epochs + 1):", ""),
)
CELLS = (  # the loops over the entries, and the indentation of their body
    ("for {r} in range({m}):\n    for {c} in range({n}):", 8),
    ("for {r}, {row} in enumerate(A):\n    for {c} in range({n}):", 8),
    ("for {r} in range({m}):\n    for {c} in range(len(A[{r}])):", 8),
    ("for {r}, {c} in itertools.product(range({m}), range({n})):", 4),
    ("for {idx} in range({m} * {n}):\n    {r}, {c} = divmod({idx}, {n})", 4),
)
ERRORS = (
    "{e} = {a} - {U}[{r}] @ {V}[{c}]",
    "{e} = {a} - torch.dot({U}[{r}], {V}[{c}])",
    "{e} = {a} - ({U}[{r}] * {V}[{c}]).sum()",
    "{pred} = {U}[{r}] @ {V}[{c}]\n{e} = {a} - {pred}",
    "{e} = {a} - torch.matmul({U}[{r}], {V}[{c}].T)",
    "{e} = {a} - {U}[{r}].dot({V}[{c}])",
)
UPDATES = (
    "{U}[{r}] = {U}[{r}] + {tu}\n{V}[{c}] = {V}[{c}] + {tv}",
    "{U}[{r}] += {tu}\n{V}[{c}] += {tv}",
    "{tmp} = {U}[{r}].clone()\n{U}[{r}] += {tu}\n{V}[{c}] += {tt}",
    "{U}[{r}, :] = {U}[{r}, :] + {tu}\n{V}[{c}, :] = {V}[{c}, :] + {tv}",
    "{gu} = -{e} * {V}[{c}]\n{gv} = -{e} * {U}[{r}]\n{U}[{r}] -= lr * {gu}\n{V}[{c}] -= lr * {gv}",
)
MASKS = (  # the test, and whether the update is inside it (else the test skips with continue)
    ("if M[{r}, {c}]:", True),
    ("if M[{r}, {c}] == 1:", True),
    ("if M[{r}, {c}] == 0:\n    continue", False),
    ("if not M[{r}, {c}]:\n    continue", False),
    ("if M[{r}, {c}] > 0:", True),
)
EXTRAS = ("", "print", "helper", "no_grad")
ENTRY = ("A[{r}, {c}]", "A[{r}, {c}].item()", "float(A[{r}, {c}])")
TERMS = ("lr * {e} * {x}", "{e} * lr * {x}", "lr * ({e} * {x})", "2 * lr * {e} * {x}")
CHOICES = (SHAPE, INIT, EPOCHS, CELLS, ERRORS, UPDATES, MASKS, EXTRAS, ENTRY, TERMS)
NAMES = {
    "m": ("m", "rows", "n_rows", "h"), "n": ("n", "cols", "n_cols", "w"), "U": ("U", "P", "W", "left"),
    "V": ("V", "Q", "H", "right"), "ep": ("epoch", "it", "ep", "t"), "r": ("r", "i", "row_i", "x"),
    "c": ("c", "j", "col_j", "y"), "e": ("e", "err", "error", "diff"), "row": ("row", "a_row"),
    "idx": ("idx", "k", "pos"), "pred": ("pred", "guess"), "tmp": ("tmp", "old_u"), "gu": ("grad_u", "du"),
    "gv": ("grad_v", "dv"), "loss": ("loss_fn", "compute_loss", "frob"),
}  # fmt: skip
GD = HANDED_OUT[HANDED_OUT.index("def gd_factorise_masked") : HANDED_OUT.index("def sgd_factorise(")].strip()


def indent(text: str, by: int) -> str:
    return "\n".join(" " * by + line if line else line for line in text.splitlines())


def training(choice: tuple[int, ...], names: dict[str, str], masked: bool, chained: bool) -> str:
    shape, init, epochs, cells, error, update, mask, extra, entry, term = choice
    nm = dict(names)
    nm["a"] = ENTRY[entry].format(**nm)
    if chained:  # a cosmetic change a copier makes: A[r][c] for A[r, c]
        nm["a"] = nm["a"].replace(f"[{nm['r']}, {nm['c']}]", f"[{nm['r']}][{nm['c']}]")
    nm["tu"] = TERMS[term].format(e=nm["e"], x=f"{nm['V']}[{nm['c']}]")
    nm["tv"] = TERMS[term].format(e=nm["e"], x=f"{nm['U']}[{nm['r']}]")
    nm["tt"] = TERMS[term].format(e=nm["e"], x=nm["tmp"])
    inner = ERRORS[error].format(**nm) + "\n" + UPDATES[update].format(**nm)
    if masked:
        test, wraps = MASKS[mask]
        inner = test.format(**nm) + "\n" + (indent(inner, 4) if wraps else inner)
    loops, depth = CELLS[cells]
    head, tail = EPOCHS[epochs]
    body = head.format(**nm) + "\n" + indent(loops.format(**nm) + "\n" + indent(inner, depth), 4)
    if tail:
        body += "\n" + indent(tail.format(**nm), 4)
    if EXTRAS[extra] == "print" and "{ep}" in head:
        report = 'if {ep} % 100 == 0:\n    print("loss", torch.sum((A - {U} @ {V}.t()) ** 2).item())'
        body += "\n" + indent(report.format(**nm), 4)
    if EXTRAS[extra] == "helper":
        body += "\nprint({loss}(A, {U}, {V}{mask}))".format(**nm, mask=", M" if masked else "")
    if EXTRAS[extra] == "no_grad":
        body = "with torch.no_grad():\n" + indent(body, 4)
    return "\n".join([SHAPE[shape].format(**nm), INIT[init].format(**nm), body, "return {U}, {V}".format(**nm)])


def student(choice: tuple[int, ...], names: dict[str, str], order: int, disguised: bool = False) -> str:
    """A submission: the two functions, the pasted handout, perhaps a helper, in an order of its own."""
    sig = (
        "def sgd_factorise(A: torch.Tensor, rank: int, num_epochs=1000,\n"
        "                   lr=0.01) -> Tuple[torch.Tensor, torch.Tensor]:\n"
    )
    sig_m = "def sgd_factorise_masked(A, M, rank, num_epochs=1000, lr=0.01):\n"
    if disguised:
        sig = sig.replace("lr=0.01", "lr=1e-2") + '    """Factorise A by SGD."""\n'
        sig_m = sig_m.replace("A, M, rank", "A: torch.Tensor, M: torch.Tensor, rank: int") + "    # only observed\n"
    parts = [
        sig + indent(training(choice, names, False, disguised), 4),
        sig_m + indent(training(choice, names, True, disguised), 4),
        GD,
    ]
    if EXTRAS[choice[7]] == "helper":
        helper = (
            "def {loss}(A, {U}, {V}, M=None):\n    d = A - {U} @ {V}.t()\n"
            "    if M is not None:\n        d = d * M\n    return (d ** 2).sum().item()"
        )
        parts.append(helper.format(**names))
    parts = parts[order:] + parts[:order]
    head = "import itertools\n" if choice[3] == 3 else ""
    head = ("# my submission\n" if disguised else "") + head + "from typing import Tuple\nimport torch\n"
    return head + "\n\n" + "\n\n\n".join(parts) + "\n"


def synthetic_class(size: int, seed: int) -> tuple[list[Source], str, str]:
    """``size`` independent students and a disguised copy of one; returns (sources, original, copy)."""
    rng = random.Random(seed)
    chosen: list[tuple[int, ...]] = []
    while len(chosen) < size:
        choice = tuple(rng.randrange(len(options)) for options in CHOICES)
        if all(sum(x != y for x, y in zip(choice, other, strict=True)) >= 5 for other in chosen):
            chosen.append(choice)
    names = [{k: rng.choice(v) for k, v in NAMES.items()} for _ in range(size + 1)]
    sources = [Source(f"s{i:03d}", student(c, names[i], rng.randrange(3))) for i, c in enumerate(chosen)]
    original = rng.randrange(size)
    copy = student(chosen[original], names[size], (rng.randrange(3) + 1) % 3, disguised=True)
    return [*sources, Source("copy", copy)], f"s{original:03d}", "copy"


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_synthetic_class_of_40_flags_the_planted_copy_and_nothing_else(seed):
    sources, original, copy = synthetic_class(40, seed)
    report = find_similar(sources, [HANDED_OUT])
    assert not report.skipped
    assert [(p.a, p.b) for p in report.pairs if p.flagged] == [(original, copy)]
    assert pair(report, original, copy).score == 1.0


def test_200_submissions_take_well_under_5_seconds():
    sources, original, copy = synthetic_class(200, 3)
    assert 45 <= sum(len(s.text.splitlines()) for s in sources) / len(sources) <= 70
    report = find_similar(sources, [HANDED_OUT])
    assert report.seconds < 3.0  # measured ~0.5 s on 2 cores
    assert pair(report, original, copy).flagged
